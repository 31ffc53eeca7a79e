"""The interactive studio of notebook 08: style transfer with buttons and sliders.

    import nst_helpers as nst
    studio = nst.Studio()   # nst.Studio is this module's Studio
    studio                  # in JupyterLab: the panel

Choose a photo and a painting (or upload your own), set alpha/beta, the style layers'
weights, the content layer, total variation, colour and style scale, then Preview (a small,
fast run) or Render (the chosen size, coarse to fine). The optimisation runs in a background
thread, one run at a time, so the kernel stays free; Stop ends it between two cost
evaluations and keeps the best picture so far. Every finished run joins a strip of
thumbnails; clicking one brings its settings (and picture) back. Save writes the picture and
its JSON (nst.save_artwork) and never overwrites a file without an explicit Overwrite.

A painting with a trained network in models/ (nst.shipped_models(), Johnson et al. 2016,
notebook 07) also offers Instant: the picture at the Render size in one forward pass of the
network (nst.fast_stylize), in a fraction of a second. The network was trained with fixed
settings, so the sliders do not apply to it. "Render starts from the network's picture"
makes Render refine that picture instead of the noisy photo.

Everything the buttons do is also a method, so tests and notebooks drive the same code:
preview(), render(), instant(), stop(), wait(), apply_preset(name),
load_upload(name, data, role), restore(number), save(overwrite=False); studio.image,
studio.history, studio.message, studio.network (the chosen painting's network, or None).

This module holds the runs: each is nst.stylize with the StylizeOptions the controls give
(nst_studio_controls.Controls), its progress, live picture and cost curve driven by
stylize's one event, on_evaluation. The sliders, presets, pickers and drawings are in
nst_studio_controls.py. Both need ipywidgets (and matplotlib for the cost curves);
nst_course does not import them, so the course's code stays usable without them.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import ipywidgets as widgets
import numpy as np

import nst_course as nst
from nst_studio_controls import (
    DEFAULTS,
    PRESETS,
    THUMBNAIL_SIDE,
    Controls,
    Picker,
    cost_plot,
    describe,
    html_line,
    png,
    preset_rows,
    ratio_text,
    thumbnail_array,
)

# A Preview is small and short so that a picture comes back within seconds on a laptop CPU.
PREVIEW_SIZE = 128
PREVIEW_STEPS = 30
UPDATE_EVERY = 5  # evaluations between two updates of the picture and the curves
PICTURE_WIDTH = "384px"
# A network's training settings (from its JSON) that the studio shows and saves with its
# pictures: they replace the sliders, which an instant picture ignores.
TRAINED_SETTINGS = ("alpha", "beta", "tv_weight", "style_size", "size", "steps")

# What a page with no kernel shows instead of the studio (the course's website, a viewer).
WITHOUT_A_KERNEL = ("<p><em>The studio is drawn here when the notebook runs in Jupyter "
                    "(<code>make lab</code>), or on its own with <code>make studio</code>."
                    "</em></p>")
READY = "Ready: choose a photo and a painting, then Preview (seconds) or Render (a minute or so)."


@dataclass
class Run:
    """One finished run of the studio: what it was asked for and what it gave.

    An optimisation ("preview", "render") has its OptimizationResult and its curve (every
    Evaluation, without its image); an "instant" picture has neither, only the network's
    picture and the seconds it took. network: the network that painted an instant
    picture, or whose picture a render started from (else None).
    """

    number: int
    kind: str  # "preview", "render" or "instant"
    settings: dict  # the controls' values, as Studio.settings gives them
    result: nst.OptimizationResult | None = None
    curve: list = field(default_factory=list)
    network: str | None = None
    picture: np.ndarray | None = None  # instant: the network's (H, W, 3) picture
    instant_seconds: float = 0.0
    trained_with: dict | None = None  # instant: the network's training settings (its JSON)

    @property
    def image(self):
        """The picture as a float32 (H, W, 3) array in [0, 1]."""
        if self.result is None:
            return np.asarray(self.picture, np.float32)
        return np.asarray(self.result.image, np.float32)[0]

    @property
    def stop_reason(self):
        return nst.StopReason.FINISHED if self.result is None else self.result.stop_reason

    @property
    def seconds(self):
        return self.instant_seconds if self.result is None else self.result.seconds

    @property
    def label(self):
        size = max(self.image.shape[:2])
        return f"{self.number} · {self.kind} {size} px"


class Studio:
    """The interactive studio of notebook 08 (ipywidgets): see this module's docstring.

    output_dir: where Save writes (default generated_images/); preview_size and
    preview_steps: the Preview run (tests make them tiny); content and style: the file
    names first chosen from images/content and images/style.
    """

    def __init__(self, output_dir=None, preview_size=PREVIEW_SIZE, preview_steps=PREVIEW_STEPS,
                 content="mont_saint_michel.jpg", style="van_gogh_cafe_terrace_at_night.jpg"):
        self.preview_size, self.preview_steps = int(preview_size), int(preview_steps)
        self.history = []  # Run, in the order they finished
        self.message = READY
        self.error = None  # the last exception a run or an upload raised, for tests
        self.image = None  # the picture shown, as a float32 (H, W, 3) array
        self.current = None  # the Run whose picture is shown: what Save writes
        self.network = None  # the name of the chosen painting's trained network, if any
        self.trained_with = None  # its training settings (alpha, beta, ...), from its JSON
        self.network_note = ""  # what Instant would do for it, or why it cannot
        self._worker = None
        self._stop = threading.Event()
        self._curve = []  # the Evaluations of the run under way, without their images
        self._uploads = tempfile.TemporaryDirectory(prefix="nst-studio-uploads-")
        self._upload_names = {}  # temporary path -> the name it was uploaded under
        self.controls = Controls()
        self._build_pickers(content, style)
        self._build_buttons()
        self._build_save_row(Path(output_dir) if output_dir else nst.GENERATED_DIR)
        self._build_panel()
        self._pictures_changed()

    # -- the panel -----------------------------------------------------------------------

    def _build_pickers(self, content, style):
        self.content_picker = Picker("Photo (content)", nst.IMAGES_DIR / "content", content,
                                     lambda name, data: self.load_upload(name, data, "content"))
        self.style_picker = Picker("Painting (style)", nst.IMAGES_DIR / "style", style,
                                   lambda name, data: self.load_upload(name, data, "style"))
        self.content_picker.on_change(self._pictures_changed)
        self.style_picker.on_change(self._pictures_changed)

    def _build_buttons(self):
        self.preset_rows, self.preset_buttons, self.defaults_button = preset_rows(
            self.apply_preset, self.reset)
        button = widgets.Button
        self.preview_button = button(description="Preview", icon="eye", button_style="info",
                                     tooltip=f"{self.preview_size} px, "
                                             f"{self.preview_steps} evaluations")
        self.render_button = button(description="Render", icon="paint-brush",
                                    button_style="primary",
                                    tooltip="the chosen size and steps, coarse to fine")
        self.stop_button = button(description="Stop", icon="stop", button_style="danger",
                                  disabled=True, tooltip="keep the best picture so far")
        self.instant_button = button(description="Instant", icon="bolt", disabled=True)
        self.from_network = widgets.Checkbox(
            value=False, indent=False, disabled=True, layout=widgets.Layout(width="auto"),
            description="Render starts from the network's picture (not the noisy photo)")
        self.network_label = widgets.HTML()  # HTML, not Label: a long note wraps
        self.preview_button.on_click(lambda _: self.preview())
        self.render_button.on_click(lambda _: self.render())
        self.instant_button.on_click(lambda _: self.instant())
        self.stop_button.on_click(lambda _: self.stop())
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="0 / 0",
                                            layout=widgets.Layout(width="300px"))
        self.status = widgets.HTML(value=html_line(self.message))

    def _build_save_row(self, output_dir):
        self.folder = widgets.Text(value=_shown_path(output_dir), description="folder")
        self.save_name = widgets.Text(description="file name",
                                      layout=widgets.Layout(width="420px"))
        self.save_button = widgets.Button(description="Save", icon="save", disabled=True,
                                          tooltip="the picture shown and its JSON")
        self.overwrite_button = widgets.Button(description="Overwrite", button_style="warning",
                                               layout=widgets.Layout(display="none"))
        self.save_button.on_click(lambda _: self.save())
        self.overwrite_button.on_click(lambda _: self.save(overwrite=True))
        for field_ in (self.folder, self.save_name):
            field_.observe(lambda _: self._hide_overwrite(), "value")

    def _build_panel(self):
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width=PICTURE_WIDTH))
        self.costs = widgets.Image(format="png", layout=widgets.Layout(width=PICTURE_WIDTH))
        self.strip = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        for widget, name in [(self.preview_button, "preview"), (self.render_button, "render"),
                             (self.instant_button, "instant"), (self.stop_button, "stop"),
                             (self.save_button, "save"), (self.picture, "image"),
                             (self.status, "status"), (self.folder, "folder"),
                             (self.from_network, "from-network"),
                             (self.network_label, "network")]:
            widget.add_class(f"nst-studio-{name}")  # stable names for the browser test
        self.panel = widgets.VBox([
            self.content_picker.box, self.style_picker.box, *self.preset_rows,
            widgets.HBox([self.preview_button, self.render_button, self.instant_button,
                          self.stop_button, self.progress]),
            widgets.HBox([self.from_network, self.network_label]),
            self.status,
            widgets.HBox([self.controls.box, widgets.VBox([self.picture, self.costs])]),
            widgets.HTML("<b>Runs</b> (click one to bring back its settings and picture)"),
            self.strip,
            widgets.HBox([self.folder, self.save_name, self.save_button,
                          self.overwrite_button]),
        ])
        self.panel.add_class("nst-studio")

    def _repr_mimebundle_(self, **kwargs):
        return {**self.panel._repr_mimebundle_(**kwargs), "text/html": WITHOUT_A_KERNEL}

    def _say(self, message):
        self.message = message
        self.status.value = html_line(message)

    def _pictures_changed(self):
        self._find_network()
        if self.history and not self.running:  # the last run's line would describe the old pair
            self._say(self.network_note)
        if self.current is None:  # nothing made yet: show the photo
            self._suggest_name()
            self._show_picture(thumbnail_array(self.content_picker.value, 384))

    def _find_network(self):
        """Look in models/ (read afresh: networks may arrive while the studio is open) for a
        network trained on the chosen painting; enable Instant and the start from its
        picture when there is one, and say why not when there is none."""
        self.network, self.trained_with, note = None, None, ""
        try:
            self.network, self.trained_with, note = _network_and_note(
                self.style_picker.value, self._upload_names)
        except Exception as error:  # a damaged models/ folder must not break the studio
            note = (f"Instant is not available: the networks in {nst.MODELS_DIR} could not "
                    f"be read ({type(error).__name__}: {_first_line(error)}).")
        self.network_note = note
        self.network_label.value = html_line(note)
        self.instant_button.tooltip = note.replace("`", "")
        self._enable_instant(not self.running and self.network is not None)
        self.from_network.disabled = not self.network
        if not self.network:
            self.from_network.value = False  # a ticked box that does nothing would mislead

    def _enable_instant(self, enabled):
        # A disabled green button still looks pressable: grey it out.
        self.instant_button.disabled = not enabled
        self.instant_button.button_style = "success" if enabled else ""

    def _suggest_name(self):
        """A file name for Save, after the photo and painting of the picture shown."""
        chosen = self.current.settings if self.current else self.settings
        content, style = Path(chosen["content"]).stem, Path(chosen["style"]).stem
        kind = "_instant" if self.current and self.current.kind == "instant" else ""
        self.save_name.value = f"studio_{content}__{style}{kind}.jpg"

    def _hide_overwrite(self):
        self.overwrite_button.layout.display = "none"

    def _show_picture(self, array):
        self.image = np.asarray(array, np.float32)
        self.picture.value = png(self.image)

    # -- settings and presets ------------------------------------------------------------

    @property
    def settings(self):
        """The controls' values: what a run uses and what restore puts back."""
        return {"content": str(self.content_picker.value),
                "style": str(self.style_picker.value), **self.controls.values(),
                "from_network": bool(self.from_network.value)}

    def set_settings(self, settings):
        """Put `settings` (all or some of the keys of .settings) into the controls."""
        unknown = set(settings) - set(self.settings)
        if unknown:
            raise ValueError(f"not a setting of the studio: {', '.join(sorted(unknown))}")
        settings = dict(settings)
        if "content" in settings:
            self.content_picker.choose(Path(settings.pop("content")))
        if "style" in settings:
            self.style_picker.choose(Path(settings.pop("style")))
        if "from_network" in settings:  # only where the painting has a network
            self.from_network.value = bool(settings.pop("from_network")) and bool(self.network)
        self.controls.set(settings)

    def apply_preset(self, name):
        """Set the controls to a preset of PRESETS: the course's DEFAULTS, then the preset's
        own values. The photo, the painting, the render size and steps stay as they are."""
        if name not in PRESETS:
            raise ValueError(f"no preset {name!r}: choose one of {', '.join(PRESETS)}")
        self.set_settings({**DEFAULTS, **PRESETS[name]["values"]})
        self._say(f"Preset '{name}': {PRESETS[name]['about']}; everything else at the "
                  "course's defaults. Now press Preview.")

    def reset(self):
        """Every control that shapes the picture back to the course's DEFAULTS."""
        self.set_settings(DEFAULTS)
        self._say("Controls back to the course's defaults.")

    def describe_run(self, run):
        """One line saying what made a run's picture: the network, or the settings."""
        if run.kind == "instant":
            return (f"the network {run.network}, one forward pass (trained with "
                    f"{_trained_text(run.trained_with)}; the sliders did not apply)")
        started = f" · started from the network {run.network}'s picture" if run.network else ""
        return describe(run.settings) + started

    def describe(self, settings=None):
        """One line naming the settings that shape the picture."""
        return describe(self.settings if settings is None else settings)

    # -- runs ----------------------------------------------------------------------------

    @property
    def running(self):
        return self._worker is not None and self._worker.is_alive()

    def preview(self):
        """Start a small, fast run (preview_size px, preview_steps evaluations, one pass)."""
        return self._start("preview")

    def render(self):
        """Start the full run: the Render size and steps, coarse to fine (schedule="auto"),
        from the noisy photo, or from the network's picture when from_network is ticked."""
        return self._start("render")

    def instant(self):
        """The picture of the photo at the Render size by the painting's trained network, in
        one forward pass (nst.fast_stylize), made now rather than in the background: it
        takes a fraction of a second (a little more the first time, which loads the
        network). It joins the runs like any run. Returns the Run, or None (the message
        says why: no network for this painting, a damaged file, a run under way)."""
        if self.running:
            self._say("A run is under way: wait for it to finish, or press Stop.")
            return None
        self._find_network()  # models/ may have changed since the painting was chosen
        if self.network is None:
            self._say(self.network_note)
            return None
        settings, network = self.settings, self.network
        self.error = None
        try:
            photo = nst.load_image(settings["content"], max_dim=settings["size"])
            started = time.perf_counter()
            picture = np.asarray(nst.fast_stylize(photo, network), np.float32)[0]
            seconds = time.perf_counter() - started
        except Exception as error:  # a message in the panel, never a traceback
            self.error = error
            self._say(self._readable(error))
            return None
        run = Run(len(self.history) + 1, "instant", settings, network=network,
                  picture=picture, instant_seconds=seconds, trained_with=self.trained_with)
        self._finish(run)
        self.save_button.disabled = False
        return run

    def stop(self):
        """Ask the run to stop before its next cost evaluation; it keeps the best picture."""
        if not self.running:
            self._say("Nothing to stop: no run is under way.")
            return
        self._stop.set()
        self._say("Stopping after this evaluation; the best picture so far is kept...")

    def wait(self, timeout=None):
        """Wait for the run under way (if any) to end; True when none is left running."""
        if self._worker is not None:
            self._worker.join(timeout)
        return not self.running

    def _start(self, kind):
        if self.running:
            self._say("A run is under way: wait for it to finish, or press Stop.")
            return False
        settings = self.settings
        self._stop.clear()
        self._curve = []
        self.error = None
        # Render may start from the picture of the painting's network: the one chosen now.
        network = self.network if kind == "render" and settings["from_network"] else None
        self._set_running(kind)
        self._worker = threading.Thread(target=self._work, args=(kind, settings, network),
                                        daemon=True, name=f"nst-studio-{kind}")
        self._worker.start()
        return True

    def _set_running(self, kind):
        busy = kind is not None
        self.preview_button.disabled = self.render_button.disabled = busy
        self._enable_instant(not busy and self.network is not None)
        self.save_button.disabled = busy or self.current is None
        self.stop_button.disabled = not busy
        self.preview_button.description = "Previewing..." if kind == "preview" else "Preview"
        self.render_button.description = "Rendering..." if kind == "render" else "Render"

    def _work(self, kind, settings, network):
        try:
            run = self._make(kind, settings, network)
            self._finish(run)
        except Exception as error:  # a message in the panel, never a traceback
            self.error = error
            self._say(self._readable(error))
        finally:
            self._set_running(None)

    def _make(self, kind, settings, network=None):
        size, run = ((self.preview_size, {"steps": self.preview_steps, "schedule": None})
                     if kind == "preview" else (settings["size"], {"steps": settings["steps"]}))
        content = nst.load_image(settings["content"], max_dim=size)
        style = nst.load_image(settings["style"], max_dim=size)
        if network is not None:  # nst.stylize resizes it to each stage's size
            run["init"] = nst.fast_stylize(content, network)
        origin = f", from the picture of the network {network}" if network else ""
        self.progress.value, self.progress.description = 0, "0"
        self._say(f"{kind.capitalize()}: starting{origin}...")
        style_layers = list(zip(self.controls.layer_sliders, settings["layer_weights"],
                                strict=True))
        options = self.controls.options(settings, style_layers, **run)
        if settings["balance"] and options.beta:
            start = nst.initial_image(content, options.init, seed=options.seed)
            options = options.replace(style_layers=nst.balanced_style_layers(
                style, start, settings["layer_weights"]))
        result = nst.stylize(content, style, options, progress=False,
                             on_evaluation=lambda e: self._on_evaluation(kind, e),
                             should_stop=self._stop.is_set)
        return Run(len(self.history) + 1, kind, settings, result, list(self._curve),
                   network=network)

    def _on_evaluation(self, kind, evaluation):
        """The progress bar after every evaluation; the picture and the curves now and
        then (drawing them takes longer than a small evaluation)."""
        self._curve.append(dataclasses.replace(evaluation, image=None))
        self.progress.max = evaluation.evaluations
        self.progress.value = evaluation.step
        self.progress.description = f"{evaluation.step} / {evaluation.evaluations}"
        if evaluation.step % UPDATE_EVERY == 0:
            self._show_picture(np.asarray(evaluation.image, np.float32)[0])
            self._show_costs(cost_plot(self._curve))
            stage = (f", stage {evaluation.stage} of {evaluation.stages}"
                     if evaluation.stages > 1 else "")
            self._say(f"{kind.capitalize()}: {evaluation.step} of {evaluation.evaluations} "
                      f"evaluations at {evaluation.size} px{stage}, cost "
                      f"{evaluation.weighted['total']:.3g}...")

    def _finish(self, run):
        self.history.append(run)
        self.current = run
        self._show_run(run)
        self._add_to_strip(run)
        self._say(self._finished_text(run))

    def _add_to_strip(self, run):
        thumbnail = widgets.Image(value=png(thumbnail_array(run.image, THUMBNAIL_SIDE)),
                                  format="png", layout=widgets.Layout(width=f"{THUMBNAIL_SIDE}px"))
        button = widgets.Button(description=run.label, layout=widgets.Layout(width="140px"),
                                tooltip=f"{Path(run.settings['content']).name} + "
                                        f"{Path(run.settings['style']).name}: "
                                        f"{self.describe_run(run)}")
        button.on_click(lambda _, number=run.number: self.restore(number))
        self.strip.children = (*self.strip.children, widgets.VBox([thumbnail, button]))

    def _finished_text(self, run):
        if run.kind == "instant":
            height, width = run.image.shape[:2]
            return (f"Run {run.number} (instant): painted by the network {run.network} in "
                    f"{run.seconds:.2f} s, one forward pass at {width}x{height} px. "
                    f"{_fixed_settings_text(run.trained_with)}")
        evaluations = len(run.result.history["step"])
        planned = run.curve[-1].evaluations if run.curve else evaluations
        if run.stop_reason is nst.StopReason.STOPPED:
            return (f"Run {run.number} ({run.kind}) stopped after {evaluations} of "
                    f"{planned} evaluations; its best picture is kept.")
        if run.stop_reason is not nst.StopReason.FINISHED:
            return f"Run {run.number} ({run.kind}) ended early: {run.result.note}"
        return (f"Run {run.number} ({run.kind}) done: {evaluations} evaluations in "
                f"{run.result.seconds:.0f} s, cost {run.result.best_loss:.3g}.")

    def _show_run(self, run):
        self._show_picture(run.image)
        # A network's picture has no curve: no costs were minimised for it.
        self._show_costs(cost_plot(run.curve) if run.curve else None)
        self._suggest_name()
        self._hide_overwrite()

    def _show_costs(self, plot):
        """The cost plot (PNG bytes), or none: an empty image would show as a broken one."""
        self.costs.value = plot or b""
        self.costs.layout.display = None if plot else "none"

    def restore(self, number):
        """Bring back run `number` (1 for the first): its settings and its picture."""
        if self.running:
            self._say("A run is under way: wait for it to finish, or press Stop.")
            return
        run = self.history[number - 1]
        self.current = run  # first: choosing its photo then leaves the picture alone
        self.set_settings(run.settings)
        self._show_run(run)
        self.save_button.disabled = False
        if run.kind == "instant":
            self._say(f"Run {run.number} (instant) is back: painted by the network "
                      f"{run.network}; its photo, painting and size are in the controls. "
                      f"{_fixed_settings_text(run.trained_with)}")
        else:
            self._say(f"Run {run.number} ({run.kind}) is back: its settings are in the "
                      "controls.")

    def _readable(self, error):
        """An exception as one line, with uploads named as they were uploaded."""
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        for path, name in self._upload_names.items():
            text = text.replace(path, name)
        if isinstance(error, (nst.ImageError, ValueError, OSError)):
            return text
        return f"The run failed: {type(error).__name__}: {text}"

    # -- uploads and saving --------------------------------------------------------------

    def load_upload(self, name, data, role="content"):
        """Use the bytes of an uploaded file as the content or style image. A file that
        nst.load_image refuses leaves the choice as it was and shows load_image's message,
        with the file's own name. Returns True when the upload was taken."""
        if role not in ("content", "style"):
            raise ValueError(f"role must be 'content' or 'style', not {role!r}")
        safe_name = Path(str(name)).name
        if safe_name in ("", ".", ".."):
            safe_name = "upload"
        folder = Path(tempfile.mkdtemp(dir=self._uploads.name))
        path = folder / safe_name
        path.write_bytes(bytes(data))
        self._upload_names[str(path)] = safe_name
        try:
            image = nst.load_image(path, max_dim=THUMBNAIL_SIDE * 4)
        except (nst.ImageError, ValueError, OSError) as error:
            self.error = error
            self._say(self._readable(error))
            return False
        picker = self.content_picker if role == "content" else self.style_picker
        picker.add(path, safe_name, np.asarray(image)[0])
        picker.choose(path)
        self._say(f"{safe_name} is now the {role} image.")
        return True

    def save(self, overwrite=False):
        """Write the picture shown and its JSON into the folder under the file name. An
        existing file is kept: the message says so and offers Overwrite. Returns the
        picture's path, or None when nothing was written."""
        run = self.current
        if run is None:
            self._say("Nothing to save yet: make a Preview or a Render first.")
            return None
        name = Path(self.save_name.value.strip()).name
        path = Path(self.folder.value).expanduser() / name
        if path.suffix.lower() not in nst.IMAGE_SUFFIXES:
            self._say(f"{name or 'the file name'}: use a name ending in .jpg or .png.")
            return None
        existing = [p for p in (path, path.with_suffix(".json")) if p.exists()]
        if existing and not overwrite:
            self.overwrite_button.layout.display = None
            self._say(f"{existing[0]} exists already and was kept: press Overwrite to "
                      "replace it, or change the file name.")
            return None
        try:
            image_path, json_path = _save_run(run, path, overwrite)
        except (OSError, ValueError) as error:
            self._say(self._readable(error))
            return None
        self._hide_overwrite()
        self._say(f"Saved {image_path} and {json_path.name}.")
        return image_path


def _save_run(run, path, overwrite):
    """A run's picture and its JSON: the settings of an optimisation, or the network's."""
    facts = {"content": Path(run.settings["content"]).name,
             "style": Path(run.settings["style"]).name, "made_with": f"nst_studio {run.kind}"}
    if run.kind == "instant":
        height, width = run.image.shape[:2]
        return nst.save_picture(
            run.image, path, overwrite=overwrite, **facts, model=run.network,
            model_file=f"{run.network}{nst.MODEL_SUFFIX}", model_trained_with=run.trained_with,
            size=[height, width], wall_seconds=round(run.seconds, 2))
    if run.network:
        facts["started_from"] = f"the picture of the network {run.network}"
    return nst.save_artwork(run.result, path, overwrite=overwrite, **facts)


def _network_and_note(painting, upload_names):
    """(network name, its training settings, the note for the panel) for a painting, with
    None for both when models/ has no network trained on it."""
    name = _network_for(painting)
    if not name:
        return None, None, (f"No trained network for this painting: `make train STYLE="
                            f"{_train_path(painting, upload_names)}` trains one. Preview "
                            "and Render work for every painting.")
    trained = nst.model_metadata(name)
    trained_with = {key: trained[key] for key in TRAINED_SETTINGS if key in trained}
    return name, trained_with, (
        f"Instant: the network {name}, trained on this painting with fixed settings "
        f"({_trained_text(trained_with)}); the sliders do not apply to it.")


def _network_for(painting):
    """The name of a network in models/ trained on `painting` (a path), or None. When
    several are, the one named after the painting, else the first by name."""
    wanted = Path(painting).resolve()
    names = [name for name, style in nst.shipped_models().items()
             if Path(style).resolve() == wanted]
    return wanted.stem if wanted.stem in names else (names[0] if names else None)


def _trained_text(trained):
    """A network's training settings, short: alpha 10, beta 0.04 (alpha/beta 250), TV 0."""
    trained = trained or {}
    if "alpha" not in trained or "beta" not in trained:
        return "the settings in its JSON"
    alpha, beta = float(trained["alpha"]), float(trained["beta"])
    ratio = f" (alpha/beta {ratio_text(alpha / beta)})" if beta else ""
    tv = f", TV {float(trained['tv_weight']):g}" if "tv_weight" in trained else ""
    return f"alpha {alpha:g}, beta {beta:g}{ratio}{tv}"


def _fixed_settings_text(trained):
    return (f"The network was trained with fixed settings ({_trained_text(trained)}): "
            "alpha/beta, the layers, TV, colours and style scale do not apply to it.")


def _train_path(painting, upload_names):
    """The painting as `make train STYLE=...` would take it: relative to the repository
    when it lies inside it; an upload by the name it was uploaded under."""
    painting = Path(painting)
    if str(painting) in upload_names:
        return f"path/to/{upload_names[str(painting)]}"
    try:
        return str(painting.resolve().relative_to(nst.REPO_ROOT))
    except ValueError:
        return str(painting)


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _shown_path(folder):
    """The folder as the notebook's kernel sees it: ../generated_images from notebooks/, an
    absolute path when it lies elsewhere (Save resolves it from the kernel's folder too)."""
    relative = os.path.relpath(folder)
    return str(folder) if relative.startswith(os.path.join("..", "..")) else relative
