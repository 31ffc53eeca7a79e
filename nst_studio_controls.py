"""The studio's controls (nst_studio.Studio puts them in its panel): the sliders that shape a
picture, the guided explorations' presets, the photo and painting pickers, and the small
drawings (thumbnails, the cost curve) the panel shows. Widgets only: the runs are
nst_studio's.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from PIL import Image

import nst_course as nst

THUMBNAIL_SIDE = 72  # px, in the pickers and the strip of runs
TV_WEIGHTS = [0.0, 1e6, 3e6, 1e7, 3e7, 1e8]  # notebook 05 compares 3e6 and 3e7
WIDE = {"description_width": "110px"}

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


class Controls:
    """The sliders that shape the picture, and the Render size and steps.

    values() gives them as a dict (the keys of DEFAULTS, "size" and "steps"); set(values)
    puts such a dict back; options(values, ...) turns one into the StylizeOptions of a run.
    """

    def __init__(self):
        self.ratio = widgets.FloatLogSlider(
            value=DEFAULTS["ratio"], base=10, min=1, max=6, step=0.1, readout_format=",.0f",
            description="alpha/beta", style=WIDE, continuous_update=False)
        self.beta_label = widgets.Label()
        self.ratio.observe(lambda _: self._show_beta(), "value")
        self.layer_sliders = {
            name: widgets.FloatSlider(value=weight, min=0.0, max=1.0, step=0.05,
                                      description=name, style=WIDE, continuous_update=False)
            for name, weight in nst.STYLE_LAYERS}
        self.balance = widgets.Checkbox(
            value=DEFAULTS["balance"], indent=False, layout=widgets.Layout(width="auto"),
            description="balanced shares: each weight is its layer's share of the style cost")
        self.content_layer = widgets.Dropdown(options=nst.VGG19_CONV_LAYERS,
                                              value=DEFAULTS["content_layer"],
                                              description="content layer", style=WIDE)
        self.tv_weight = widgets.SelectionSlider(
            options=[(f"{w:.0e}".replace("e+0", "e") if w else "0", w) for w in TV_WEIGHTS],
            value=DEFAULTS["tv_weight"], description="TV weight", style=WIDE)
        self.preserve_color = widgets.ToggleButtons(
            options=list(nst.PRESERVE_COLOR_CHOICES), value=DEFAULTS["preserve_color"],
            description="colours", style={**WIDE, "button_width": "90px"})
        self.style_scale = _slider(widgets.FloatSlider, "style scale", DEFAULTS["style_scale"],
                                   0.5, 2.0, 0.25)
        self.size = _slider(widgets.IntSlider, "Render size (px)", nst.DEFAULT_SIZE,
                            2 * nst.MIN_IMAGE_SIDE, 768, 32)
        self.steps = _slider(widgets.IntSlider, "Render steps", nst.DEFAULT_STEPS, 10, 1000, 10)
        self._show_beta()
        self.box = widgets.VBox([
            widgets.HBox([self.ratio, self.beta_label]), *self.layer_sliders.values(),
            self.balance, self.content_layer, self.tv_weight, self.preserve_color,
            self.style_scale, self.size, self.steps])

    def _show_beta(self):
        beta = nst.DEFAULT_ALPHA / self.ratio.value
        self.beta_label.value = f"beta = {beta:.3g} (alpha = {nst.DEFAULT_ALPHA:g})"

    def values(self):
        return {
            "ratio": float(self.ratio.value),
            "layer_weights": [float(s.value) for s in self.layer_sliders.values()],
            "balance": bool(self.balance.value), "content_layer": self.content_layer.value,
            "tv_weight": float(self.tv_weight.value),
            "preserve_color": self.preserve_color.value,
            "style_scale": float(self.style_scale.value), "size": int(self.size.value),
            "steps": int(self.steps.value),
        }

    def set(self, values):
        for key, value in values.items():
            if key == "layer_weights":
                for slider, weight in zip(self.layer_sliders.values(), value, strict=True):
                    slider.value = weight
            else:
                getattr(self, key).value = value

    def options(self, values, style_layers, **run):
        """The StylizeOptions of a run with these values: alpha the course's, beta from the
        ratio; style_layers as the studio weighs them; `run`: init, steps, schedule."""
        return nst.StylizeOptions(
            alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_ALPHA / values["ratio"],
            tv_weight=values["tv_weight"], content_layer=values["content_layer"],
            style_layers=style_layers, preserve_color=values["preserve_color"],
            style_scale=values["style_scale"], seed=1, **run)


def describe(values):
    """One line naming the settings that shape the picture."""
    weights = " ".join(f"{w:g}" for w in values["layer_weights"])
    return (f"alpha/beta {ratio_text(values['ratio'])} · style layers {weights}"
            f"{' (balanced shares)' if values['balance'] else ''} · content "
            f"{values['content_layer']} · TV {values['tv_weight']:g} · colours "
            f"{values['preserve_color']} · style scale {values['style_scale']:g}")


def _slider(kind, description, value, low, high, step):
    return kind(value=value, min=low, max=high, step=step, description=description,
                style=WIDE, continuous_update=False)


def preset_rows(on_preset, on_defaults):
    """The guided explorations: a row of preset buttons per exploration, under a title
    with the course's defaults button. Returns (rows, {name: button}, defaults button)."""
    defaults = widgets.Button(description="course's defaults",
                              tooltip="every control back to the defaults",
                              layout=widgets.Layout(width="150px"))
    defaults.on_click(lambda _: on_defaults())
    buttons, rows = {}, [widgets.HBox([
        widgets.HTML("<b>Guided explorations</b> (each button sets the controls; then "
                     "Preview)"), defaults])]
    for exploration in dict.fromkeys(p["exploration"] for p in PRESETS.values()):
        row = [widgets.Label(exploration, layout=widgets.Layout(width="170px"))]
        for name, preset in PRESETS.items():
            if preset["exploration"] == exploration:
                button = widgets.Button(description=name, tooltip=preset["about"],
                                        layout=widgets.Layout(width="150px"))
                button.on_click(lambda _, name=name: on_preset(name))
                button.add_class("nst-studio-preset")  # for the browser test
                buttons[name] = button
                row.append(button)
        rows.append(widgets.HBox(row))
    return rows, buttons, defaults


class Picker:
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
            self.add(path, path.stem, thumbnail_array(path, THUMBNAIL_SIDE))
        self.choose(folder / default)
        self.box = widgets.VBox([widgets.HBox([widgets.HTML(f"<b>{title}</b>"), self.upload]),
                                 self.row])

    def add(self, path, label, pixels):
        """Add a thumbnail; label names its button (the file's name without .jpg)."""
        path = Path(path)
        base, number = label, 2
        while label in self.buttons:
            label, number = f"{base} ({number})", number + 1
        image = widgets.Image(value=png(thumbnail_array(pixels, THUMBNAIL_SIDE)),
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


def _short(label):
    """A picture's name short enough for its button: colosseum, cafe terrace at..."""
    words = label.removeprefix("van_gogh_").replace("_", " ")
    return words if len(words) <= 15 else words[:14] + "..."


def ratio_text(ratio):
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"


def html_line(text):
    """text for an HTML widget: escaped, `code` in a monospace font."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", nst._html_text(text))


def thumbnail_array(source, side):
    """A path (read as nst.load_image reads it: upright by its EXIF orientation) or an
    (H, W, 3) array in [0, 1], as a float array whose longest side is at most `side` px."""
    if isinstance(source, (str, Path)):
        return np.asarray(nst.load_image(source, side)[0])
    image = Image.fromarray(nst._uint8_pixels(source))
    image.thumbnail((side, side))
    return np.asarray(image, np.float32) / 255.0


def png(array):
    """An (H, W, 3) array in [0, 1] as PNG bytes, for an ipywidgets Image."""
    buffer = io.BytesIO()
    Image.fromarray(nst._uint8_pixels(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def cost_plot(curve):
    """The weighted costs of a run against its evaluations, on a log scale, as PNG bytes.
    curve: the run's Evaluations (a grey line where a coarse-to-fine stage begins). A
    matplotlib Figure of its own (no pyplot), so that the worker thread can draw it."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(4.8, 2.6), dpi=80)
    axis = figure.add_subplot()
    steps = [e.step for e in curve]
    for term, label, look in [("content", "alpha * J_content", "-"),
                              ("style", "beta * J_style", "-"), ("total", "total", "k:")]:
        values = np.maximum([e.weighted[term] for e in curve], 1e-12)
        axis.plot(steps, values, look, label=label)
    for before, after in zip(curve, curve[1:], strict=False):
        if after.stage != before.stage:  # a coarse-to-fine stage begins: other costs
            axis.axvline(after.step, color="grey", linestyle=":", linewidth=1)
    axis.set_yscale("log")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("cost evaluations")
    axis.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
