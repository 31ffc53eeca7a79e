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

This module needs ipywidgets (and matplotlib for the cost curves); nst_course does not
import it, so the course's code stays usable without them.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from PIL import Image

import nst_course as nst

# A Preview is small and short so that a picture comes back within seconds on a laptop CPU.
PREVIEW_SIZE = 128
PREVIEW_STEPS = 30
UPDATE_EVERY = 5  # accepted iterations between two updates of the picture and the curves
THUMBNAIL_SIDE = 72  # px, in the pickers and the strip of runs
PICTURE_WIDTH = "384px"

# The course's defaults; every preset starts from them and changes only what it studies.
DEFAULTS = {
    "ratio": nst.DEFAULT_ALPHA / nst.DEFAULT_BETA,
    "layer_weights": [weight for _, weight in nst.STYLE_LAYERS],
    "balance": False,
    "content_layer": nst.CONTENT_LAYER,
    "tv_weight": nst.DEFAULT_TV_WEIGHT,
    "preserve_color": "none",
    "style_scale": 1.0,
}
TV_WEIGHTS = [0.0, 1e6, 3e6, 1e7, 3e7, 1e8]  # notebook 05 compares 3e6 and 3e7
# A network's training settings (from its JSON) that the studio shows and saves with its
# pictures: they replace the sliders, which an instant picture ignores.
TRAINED_SETTINGS = ("alpha", "beta", "tv_weight", "style_size", "size", "steps")

# Three guided explorations of notebook 08, two presets each: the two differ only in what
# the exploration is about, everything else at DEFAULTS. The values are chosen to show in a
# Preview: in 30 evaluations from the noisy photo, alpha/beta = 25,000 still looks like the
# default 250 (the style moves first), 100,000 keeps the photo.
PRESETS = {
    "shallow layers": {
        "exploration": "Which layers?",
        "values": {"layer_weights": [0.4, 0.3, 0.2, 0.05, 0.05], "balance": True},
        "about": "most of the style cost from block1 and block2 (balanced shares)",
    },
    "deep layers": {
        "exploration": "Which layers?",
        "values": {"layer_weights": [0.05, 0.05, 0.2, 0.3, 0.4], "balance": True},
        "about": "most of the style cost from block4 and block5 (balanced shares)",
    },
    "more style": {
        "exploration": "Which alpha/beta?",
        "values": {"ratio": 25.0},
        "about": "alpha/beta = 25: ten times more style than the course's 250",
    },
    "more content": {
        "exploration": "Which alpha/beta?",
        "values": {"ratio": 100_000.0},
        "about": "alpha/beta = 100,000: 400 times less style than the course's 250",
    },
    "painting's colours": {
        "exploration": "Keep the colours or not?",
        "values": {"preserve_color": "none"},
        "about": "colour preservation none: the painting's colours",
    },
    "photo's colours": {
        "exploration": "Keep the colours or not?",
        "values": {"preserve_color": "luminance"},
        "about": "colour preservation luminance: the style on the brightness only",
    },
}

READY = "Ready: choose a photo and a painting, then Preview (seconds) or Render (a minute or so)."


@dataclass
class Run:
    """One finished run of the studio: what it was asked for and what it gave.

    An optimisation ("preview", "render") has its OptimizationResult; an "instant" picture
    has none, only the network's picture and the seconds it took. network: the network
    that painted an instant picture, or whose picture a render started from (else None).
    """

    number: int
    kind: str  # "preview", "render" or "instant"
    settings: dict  # the controls' values, as Studio.settings gives them
    result: nst.OptimizationResult | None = None
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
        return "finished" if self.result is None else self.result.stop_reason

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
        self._evaluations = 0
        self._accepted = 0
        self._live = []  # (evaluation, total, alpha * content, beta * style) of this run
        self._uploads = tempfile.TemporaryDirectory(prefix="nst-studio-uploads-")
        self._upload_names = {}  # temporary path -> the name it was uploaded under
        self._build(Path(output_dir) if output_dir else nst.GENERATED_DIR, content, style)

    # -- the panel -----------------------------------------------------------------------

    def _build(self, output_dir, content, style):
        self.content_picker = _Picker("Photo (content)", nst.IMAGES_DIR / "content", content,
                                      lambda name, data: self.load_upload(name, data, "content"))
        self.style_picker = _Picker("Painting (style)", nst.IMAGES_DIR / "style", style,
                                    lambda name, data: self.load_upload(name, data, "style"))
        self.content_picker.on_change(self._pictures_changed)
        self.style_picker.on_change(self._pictures_changed)

        wide = {"description_width": "110px"}
        self.ratio = widgets.FloatLogSlider(
            value=DEFAULTS["ratio"], base=10, min=1, max=6, step=0.1, readout_format=",.0f",
            description="alpha/beta", style=wide, continuous_update=False)
        self.beta_label = widgets.Label()
        self.ratio.observe(lambda _: self._show_beta(), "value")
        self.layer_sliders = {
            name: widgets.FloatSlider(value=weight, min=0.0, max=1.0, step=0.05,
                                      description=name, style=wide, continuous_update=False)
            for name, weight in nst.STYLE_LAYERS}
        self.balance = widgets.Checkbox(
            value=DEFAULTS["balance"], indent=False, layout=widgets.Layout(width="auto"),
            description="balanced shares: each weight is its layer's share of the style cost")
        self.content_layer = widgets.Dropdown(options=nst.VGG19_CONV_LAYERS,
                                              value=DEFAULTS["content_layer"],
                                              description="content layer", style=wide)
        self.tv_weight = widgets.SelectionSlider(
            options=[(f"{w:.0e}".replace("e+0", "e") if w else "0", w) for w in TV_WEIGHTS],
            value=DEFAULTS["tv_weight"], description="TV weight", style=wide)
        self.preserve_color = widgets.ToggleButtons(
            options=list(nst.PRESERVE_COLOR_CHOICES), value=DEFAULTS["preserve_color"],
            description="colours", style={**wide, "button_width": "90px"})
        self.style_scale = widgets.FloatSlider(value=DEFAULTS["style_scale"], min=0.5, max=2.0,
                                               step=0.25, description="style scale",
                                               style=wide, continuous_update=False)
        self.size = widgets.IntSlider(value=nst.DEFAULT_SIZE, min=2 * nst.MIN_IMAGE_SIDE,
                                      max=768, step=32, description="Render size (px)",
                                      style=wide, continuous_update=False)
        self.steps = widgets.IntSlider(value=nst.DEFAULT_STEPS, min=10, max=1000, step=10,
                                       description="Render steps", style=wide,
                                       continuous_update=False)
        self._show_beta()

        self.defaults_button = widgets.Button(description="course's defaults",
                                              tooltip="every control back to the defaults",
                                              layout=widgets.Layout(width="150px"))
        self.defaults_button.on_click(lambda _: self.reset())
        self.preset_buttons = {}
        preset_rows = []
        for exploration in dict.fromkeys(p["exploration"] for p in PRESETS.values()):
            buttons = []
            for name, preset in PRESETS.items():
                if preset["exploration"] == exploration:
                    button = widgets.Button(description=name, tooltip=preset["about"],
                                            layout=widgets.Layout(width="150px"))
                    button.on_click(lambda _, name=name: self.apply_preset(name))
                    button.add_class("nst-studio-preset")  # for the browser test
                    self.preset_buttons[name] = button
                    buttons.append(button)
            preset_rows.append(widgets.HBox([widgets.Label(exploration,
                                                           layout=widgets.Layout(width="170px"))]
                                            + buttons))

        self.preview_button = widgets.Button(description="Preview", icon="eye",
                                             button_style="info",
                                             tooltip=f"{self.preview_size} px, "
                                                     f"{self.preview_steps} evaluations")
        self.render_button = widgets.Button(description="Render", icon="paint-brush",
                                            button_style="primary",
                                            tooltip="the chosen size and steps, coarse to fine")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          disabled=True, tooltip="keep the best picture so far")
        self.instant_button = widgets.Button(description="Instant", icon="bolt",
                                             disabled=True)
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
        self.status = widgets.HTML(value=_html_line(self.message))

        self.picture = widgets.Image(format="png", layout=widgets.Layout(width=PICTURE_WIDTH))
        self.costs = widgets.Image(format="png", layout=widgets.Layout(width=PICTURE_WIDTH))
        self.strip = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))

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

        for widget, name in [(self.preview_button, "preview"), (self.render_button, "render"),
                             (self.instant_button, "instant"), (self.stop_button, "stop"),
                             (self.save_button, "save"), (self.picture, "image"),
                             (self.status, "status"), (self.folder, "folder"),
                             (self.from_network, "from-network"),
                             (self.network_label, "network")]:
            widget.add_class(f"nst-studio-{name}")  # stable names for the browser test

        controls = widgets.VBox([
            widgets.HBox([self.ratio, self.beta_label]), *self.layer_sliders.values(),
            self.balance, self.content_layer, self.tv_weight, self.preserve_color,
            self.style_scale, self.size, self.steps])
        self.panel = widgets.VBox([
            self.content_picker.box, self.style_picker.box,
            widgets.HBox([widgets.HTML("<b>Guided explorations</b> (each button sets the "
                                       "controls; then Preview)"), self.defaults_button]),
            *preset_rows,
            widgets.HBox([self.preview_button, self.render_button, self.instant_button,
                          self.stop_button, self.progress]),
            widgets.HBox([self.from_network, self.network_label]),
            self.status,
            widgets.HBox([controls, widgets.VBox([self.picture, self.costs])]),
            widgets.HTML("<b>Runs</b> (click one to bring back its settings and picture)"),
            self.strip,
            widgets.HBox([self.folder, self.save_name, self.save_button,
                          self.overwrite_button]),
        ])
        self.panel.add_class("nst-studio")
        self._pictures_changed()

    def _repr_mimebundle_(self, **kwargs):
        return self.panel._repr_mimebundle_(**kwargs)

    def _say(self, message):
        self.message = message
        self.status.value = _html_line(message)

    def _show_beta(self):
        beta = nst.DEFAULT_ALPHA / self.ratio.value
        self.beta_label.value = f"beta = {beta:.3g} (alpha = {nst.DEFAULT_ALPHA:g})"

    def _pictures_changed(self):
        self._find_network()
        if self.history and not self.running:  # the last run's line would describe the old pair
            self._say(self.network_note)
        if self.current is None:  # nothing made yet: show the photo
            self._suggest_name()
            self._show_picture(_thumbnail_array(self.content_picker.value, 384))

    def _find_network(self):
        """Look in models/ (read afresh: networks may arrive while the studio is open) for a
        network trained on the chosen painting; enable Instant and the start from its
        picture when there is one, and say why not when there is none."""
        painting = self.style_picker.value
        self.network, self.trained_with = None, None
        try:
            name = _network_for(painting)
            if name:
                trained = nst.model_metadata(name)
                trained_with = {key: trained[key] for key in TRAINED_SETTINGS if key in trained}
                note = (f"Instant: the network {name}, trained on this painting with fixed "
                        f"settings ({_trained_text(trained_with)}); the sliders do not apply "
                        "to it.")
                self.network, self.trained_with = name, trained_with
            else:
                note = (f"No trained network for this painting: `make train STYLE="
                        f"{_train_path(painting, self._upload_names)}` trains one. Preview "
                        "and Render work for every painting.")
        except Exception as error:  # a damaged models/ folder must not break the studio
            note = (f"Instant is not available: the networks in {nst.MODELS_DIR} could not "
                    f"be read ({type(error).__name__}: {_first_line(error)}).")
        self.network_note = note
        self.network_label.value = _html_line(note)
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
        self.picture.value = _png(self.image)

    # -- settings and presets ------------------------------------------------------------

    @property
    def settings(self):
        """The controls' values: what a run uses and what restore puts back."""
        return {
            "content": str(self.content_picker.value), "style": str(self.style_picker.value),
            "ratio": float(self.ratio.value),
            "layer_weights": [float(s.value) for s in self.layer_sliders.values()],
            "balance": bool(self.balance.value), "content_layer": self.content_layer.value,
            "tv_weight": float(self.tv_weight.value),
            "preserve_color": self.preserve_color.value,
            "style_scale": float(self.style_scale.value), "size": int(self.size.value),
            "steps": int(self.steps.value), "from_network": bool(self.from_network.value),
        }

    def set_settings(self, settings):
        """Put `settings` (all or some of the keys of .settings) into the controls."""
        unknown = set(settings) - set(self.settings)
        if unknown:
            raise ValueError(f"not a setting of the studio: {', '.join(sorted(unknown))}")
        for key, value in settings.items():
            if key == "content":
                self.content_picker.choose(Path(value))
            elif key == "style":
                self.style_picker.choose(Path(value))
            elif key == "layer_weights":
                for slider, weight in zip(self.layer_sliders.values(), value, strict=True):
                    slider.value = weight
            elif key == "from_network":  # only where the painting has a network
                self.from_network.value = bool(value) and self.network is not None
            else:
                getattr(self, key).value = value

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
        return self.describe(run.settings) + started

    def describe(self, settings=None):
        """One line naming the settings that shape the picture."""
        s = self.settings if settings is None else settings
        weights = " ".join(f"{w:g}" for w in s["layer_weights"])
        return (f"alpha/beta {_ratio_text(s['ratio'])} · style layers {weights}"
                f"{' (balanced shares)' if s['balance'] else ''} · content "
                f"{s['content_layer']} · TV {s['tv_weight']:g} · colours "
                f"{s['preserve_color']} · style scale {s['style_scale']:g}")

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
        self._evaluations, self._accepted, self._live = 0, 0, []
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
        size, steps = ((self.preview_size, self.preview_steps) if kind == "preview"
                       else (settings["size"], settings["steps"]))
        schedule = None if kind == "preview" else "auto"
        content = nst.load_image(settings["content"], max_dim=size)
        style = nst.load_image(settings["style"], max_dim=size)
        longest = max(content.shape[1:3])
        stages = nst.coarse_to_fine_schedule(longest, steps) if schedule else [(longest, steps)]
        self.progress.value = 0
        self.progress.max = max(1, sum(count for _, count in stages))
        self.progress.description = f"0 / {self.progress.max}"
        sizes = " -> ".join(f"{side}" for side, _ in stages)
        init = "noisy-content"
        if network is not None:  # nst.stylize resizes it to each stage's size
            init = nst.fast_stylize(content, network)
        origin = f", from the picture of the network {network}" if network else ""
        self._say(f"{kind.capitalize()}: {self.progress.max} evaluations at {sizes} px"
                  f"{origin}...")
        alpha = nst.DEFAULT_ALPHA
        beta = alpha / settings["ratio"]
        style_layers = list(zip(self.layer_sliders, settings["layer_weights"], strict=True))
        if settings["balance"] and beta:
            start = nst.initial_image(content, init, seed=1)
            style_layers = nst.balanced_style_layers(style, start, settings["layer_weights"])

        def on_step(iteration, image, costs):
            self._on_step(kind, image, costs, alpha, beta)

        result = nst.stylize(
            content, style, alpha=alpha, beta=beta, tv_weight=settings["tv_weight"],
            content_layer=settings["content_layer"], style_layers=style_layers,
            preserve_color=settings["preserve_color"], style_scale=settings["style_scale"],
            init=init, steps=steps, schedule=schedule, seed=1, progress=False,
            callback=on_step, callback_every=1, should_stop=self._should_stop)
        return Run(len(self.history) + 1, kind, settings, result, network=network)

    def _should_stop(self):
        # Asked before every cost evaluation, so it also counts them for the progress bar.
        self._evaluations += 1
        self.progress.value = min(self._evaluations, self.progress.max)
        self.progress.description = f"{self.progress.value} / {self.progress.max}"
        return self._stop.is_set()

    def _on_step(self, kind, image, costs, alpha, beta):
        self._accepted += 1
        self._live.append((self._evaluations, costs["total"], alpha * costs["content"],
                           beta * costs["style"]))
        if self._accepted % UPDATE_EVERY == 0:
            self._show_picture(np.asarray(image, np.float32)[0])
            self._show_costs(_cost_plot(*zip(*self._live, strict=True)))
            self._say(f"{kind.capitalize()}: {self._evaluations} of {self.progress.max} "
                      f"evaluations, cost {costs['total']:.3g}...")

    def _finish(self, run):
        self.history.append(run)
        self.current = run
        self._show_run(run)
        thumbnail = widgets.Image(value=_png(_thumbnail_array(run.image, THUMBNAIL_SIDE)),
                                  format="png", layout=widgets.Layout(width=f"{THUMBNAIL_SIDE}px"))
        button = widgets.Button(description=run.label, layout=widgets.Layout(width="140px"),
                                tooltip=f"{Path(run.settings['content']).name} + "
                                        f"{Path(run.settings['style']).name}: "
                                        f"{self.describe_run(run)}")
        button.on_click(lambda _, number=run.number: self.restore(number))
        self.strip.children = (*self.strip.children, widgets.VBox([thumbnail, button]))
        if run.kind == "instant":
            height, width = run.image.shape[:2]
            self._say(f"Run {run.number} (instant): painted by the network {run.network} in "
                      f"{run.seconds:.2f} s, one forward pass at {width}x{height} px. "
                      f"{_fixed_settings_text(run.trained_with)}")
            return
        seconds = run.result.seconds
        evaluations = len(run.result.history["step"])
        if run.stop_reason == nst.STOPPED:
            self._say(f"Run {run.number} ({run.kind}) stopped after {evaluations} of "
                      f"{self.progress.max} evaluations; its best picture is kept.")
        elif run.stop_reason != "finished":
            self._say(f"Run {run.number} ({run.kind}) ended early: {run.stop_reason}")
        else:
            self._say(f"Run {run.number} ({run.kind}) done: {evaluations} evaluations in "
                      f"{seconds:.0f} s, cost {run.result.best_loss:.3g}.")

    def _show_run(self, run):
        self._show_picture(run.image)
        if run.result is None:  # a network's picture: no costs were minimised for it
            self._show_costs(None)
            self._suggest_name()
            self._hide_overwrite()
            return
        history = run.result.history
        alpha = nst.DEFAULT_ALPHA
        beta = alpha / run.settings["ratio"]
        self._show_costs(_cost_plot(
            history["step"], history["total"], [alpha * c for c in history["content"]],
            [beta * s for s in history["style"]], history.get("size")))
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

    # -- uploads -------------------------------------------------------------------------

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

    # -- saving --------------------------------------------------------------------------

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
        facts = {"content": Path(run.settings["content"]).name,
                 "style": Path(run.settings["style"]).name,
                 "made_with": f"nst_studio {run.kind}"}
        try:
            if run.kind == "instant":
                height, width = run.image.shape[:2]
                image_path, json_path = nst.save_picture(
                    run.image, path, overwrite=overwrite, **facts, model=run.network,
                    model_file=f"{run.network}{nst.MODEL_SUFFIX}",
                    model_trained_with=run.trained_with, size=[height, width],
                    wall_seconds=round(run.seconds, 2))
            else:
                if run.network:
                    facts["started_from"] = f"the picture of the network {run.network}"
                image_path, json_path = nst.save_artwork(run.result, path, overwrite=overwrite,
                                                         **facts)
        except (OSError, ValueError) as error:
            self._say(self._readable(error))
            return None
        self._hide_overwrite()
        self._say(f"Saved {image_path} and {json_path.name}.")
        return image_path


class _Picker:
    """A row of thumbnails, one of them chosen (highlighted), and an upload button."""

    def __init__(self, title, folder, default, upload):
        self.paths, self.buttons, self._callbacks = {}, {}, []
        self.value = None
        self.row = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.upload = widgets.FileUpload(accept="image/*", multiple=False,
                                         description="Upload")
        self._upload = upload
        self.upload.observe(self._uploaded, "value")
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in nst.IMAGE_SUFFIXES):
            self.add(path, path.stem, _thumbnail_array(path, THUMBNAIL_SIDE))
        self.choose(folder / default)
        self.box = widgets.VBox([widgets.HBox([widgets.HTML(f"<b>{title}</b>"), self.upload]),
                                 self.row])

    def add(self, path, label, pixels):
        """Add a thumbnail; label names its button (the file's name without .jpg)."""
        path = Path(path)
        base, number = label, 2
        while label in self.buttons:
            label, number = f"{base} ({number})", number + 1
        image = widgets.Image(value=_png(_thumbnail_array(pixels, THUMBNAIL_SIDE)),
                              format="png", layout=widgets.Layout(width=f"{THUMBNAIL_SIDE}px"))
        button = widgets.Button(description=_short(label), tooltip=label,
                                layout=widgets.Layout(width="112px"))
        button.on_click(lambda _: self.choose(path))
        self.paths[label], self.buttons[label] = path, button
        self.row.children = (*self.row.children, widgets.VBox([image, button]))

    def choose(self, path):
        path = Path(path)
        if path not in self.paths.values():
            raise ValueError(f"{path}: not one of this picker's images")
        changed = path != self.value
        self.value = path
        for label, button in self.buttons.items():
            button.button_style = "success" if self.paths[label] == path else ""
        if changed:
            for callback in self._callbacks:
                callback()

    def on_change(self, callback):
        self._callbacks.append(callback)

    def _uploaded(self, change):
        files = change["new"]
        if not files:
            return
        for file in files:
            self._upload(file["name"], file["content"])
        self.upload.value = ()  # ready for the next file, even the same one again


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
    ratio = f" (alpha/beta {_ratio_text(alpha / beta)})" if beta else ""
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


def _html_line(text):
    """text for an HTML widget: escaped, `code` in a monospace font."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", nst._html_text(text))


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _shown_path(folder):
    """The folder as the notebook's kernel sees it: ../generated_images from notebooks/, an
    absolute path when it lies elsewhere (Save resolves it from the kernel's folder too)."""
    relative = os.path.relpath(folder)
    return str(folder) if relative.startswith(os.path.join("..", "..")) else relative


def _short(label):
    """A picture's name short enough for its button: colosseum, cafe terrace at..."""
    words = label.removeprefix("van_gogh_").replace("_", " ")
    return words if len(words) <= 15 else words[:14] + "..."


def _ratio_text(ratio):
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"


def _thumbnail_array(source, side):
    """A path (read as nst.load_image reads it: upright by its EXIF orientation) or an
    (H, W, 3) array in [0, 1], as a float array whose longest side is at most `side` px."""
    if isinstance(source, (str, Path)):
        return np.asarray(nst.load_image(source, side)[0])
    image = Image.fromarray(nst._uint8_pixels(source))
    image.thumbnail((side, side))
    return np.asarray(image, np.float32) / 255.0


def _png(array):
    """An (H, W, 3) array in [0, 1] as PNG bytes, for an ipywidgets Image."""
    buffer = io.BytesIO()
    Image.fromarray(nst._uint8_pixels(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def _cost_plot(evaluations, total, content, style, sizes=None):
    """The costs against the evaluations, on a log scale, as PNG bytes. A matplotlib Figure
    of its own (no pyplot), so that the worker thread can draw it."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(4.8, 2.6), dpi=80)
    axis = figure.add_subplot()
    for values, label, look in [(content, "alpha * J_content", "-"),
                                (style, "beta * J_style", "-"), (total, "total", "k:")]:
        axis.plot(evaluations, np.maximum(np.asarray(values, float), 1e-12), look, label=label)
    if sizes:
        for step, before, after in zip(evaluations[1:], sizes, sizes[1:], strict=False):
            if after != before:  # a coarse-to-fine stage begins: other sizes, other costs
                axis.axvline(step, color="grey", linestyle=":", linewidth=1)
    axis.set_yscale("log")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("cost evaluations")
    axis.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
