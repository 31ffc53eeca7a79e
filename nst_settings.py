"""The course's settings: the defaults that stylize, the command line, the studio and the
training script share, in one place that imports nothing heavy, so that `--help` and
argument errors answer before TensorFlow loads.

nst_helpers re-exports every name (notebooks read nst.DEFAULT_BETA); each is explained
where the notebooks teach it.
"""

import dataclasses
import math
from pathlib import Path

from nst_weights import VGG19_CONV_LAYERS

REPO_ROOT = Path(__file__).resolve().parent
IMAGES_DIR = REPO_ROOT / "images"
GENERATED_DIR = REPO_ROOT / "generated_images"
MODELS_DIR = REPO_ROOT / "models"
MODEL_SUFFIX = ".weights.npz"
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def network_files(folder=MODELS_DIR):
    """{name: weights file} of the style networks in `folder`: a network's name is its
    file's name without MODEL_SUFFIX."""
    return {path.name[: -len(MODEL_SUFFIX)]: path
            for path in sorted(folder.glob(f"*{MODEL_SUFFIX}"))}


# Defaults of stylize and the command line: a good picture on a laptop CPU in a minute or
# two (`make benchmark` times them). alpha and beta are discussed in notebook 04: the
# Coursera assignment's 10 and 40 are for VGG19 fed pixels in [0, 1]; we feed the 0-255,
# mean-subtracted input it was trained on, which raises the style cost thousands of times
# more than the content cost (notebook 04 measures the factor), so beta must be far smaller
# to keep the assignment's balance; 0.04, a little more style than that, is a choice of
# taste, made by eye on the gallery's pictures.
DEFAULT_SIZE = 512  # the command line's; notebooks set their own
DEFAULT_STEPS = 90  # in all, every stage of coarse_to_fine_schedule included
DEFAULT_ALPHA = 10.0
DEFAULT_BETA = 0.04
DEFAULT_TV_WEIGHT = 0.0

# VGG19 halves the resolution four times before block5; 32 px leaves block5 a 2x2 grid,
# the least on which its features (and a Gram matrix over positions) still mean anything.
MIN_IMAGE_SIDE = 32

# Gatys et al. take content from conv4_2: deep enough to ignore exact pixels, shallow
# enough to keep the layout. Notebook 05 compares it with the Coursera assignment's
# block5_conv4.
CONTENT_LAYER = "block4_conv2"

# Gatys et al.'s choice (and the Coursera assignment's): the first convolution of every
# block, equal weights. Equal weights are not equal in effect: notebook 03 measures each
# layer's share, and balanced_style_layers evens them out. A tuple: it is the default of
# several functions, and a default must not be changeable in place.
STYLE_LAYERS = (
    ("block1_conv1", 0.2),
    ("block2_conv1", 0.2),
    ("block3_conv1", 0.2),
    ("block4_conv1", 0.2),
    ("block5_conv1", 0.2),
)

# Pictures larger than COARSE_TO_FINE_ABOVE px are made coarse to fine by default
# (Gatys et al. 2017, sec. 6): at half size first, where an evaluation costs a quarter as
# much and the large structures settle, then enlarged and finished at full size, where the
# last evaluations add the fine detail. Notebooks 02-04 optimise at 320 px or less: one pass.
COARSE_TO_FINE_ABOVE = 320
COARSE_TO_FINE_START = 128  # px: no stage smaller than this
COARSE_TO_FINE_FACTOR = 2  # each stage's longest side over the previous one's
COARSE_TO_FINE_LAST_SHARE = 0.4  # of the evaluations, for the full-size stage

# The colour options of stylize (notebook 06).
PRESERVE_COLOR_CHOICES = ("none", "luminance", "histogram")
INIT_CHOICES = ("noisy-content", "content", "noise")
OPTIMIZER_CHOICES = ("lbfgs", "adam")

# Johnson et al.'s transformation network at half width (their 32-64-128 channels halved:
# their code's README reports little loss of quality, and it runs four times faster).
FAST_WIDTHS = (16, 32, 64)
FAST_RESIDUAL_BLOCKS = 5

# The style weight the networks train with. The command line's beta (0.04) with alpha = 10
# wipes out the photo's layout: optimisation starts from the photo, so its layout is there
# from the first step, but a network starts from random weights and keeps only what the
# content cost asks for (as notebook 05 saw from white noise). In trial runs the command
# line's beta lost a test photo's layout, a sixteenth of it kept it (models/README.md).
FAST_BETA = DEFAULT_BETA / 16


@dataclasses.dataclass(frozen=True)
class StylizeOptions:
    """Every setting of stylize, checked once, when the options are made: a wrong value is
    a ValueError naming it, before any image is read. The command line and the studio make
    one from their controls; stylize writes it into the picture's JSON (as_json).

    The fields are stylize's keyword arguments (its docstring says what each does). init is
    one of INIT_CHOICES or an image (1, H, W, 3) in [0, 1]; style_layers pairs of (VGG19
    layer, weight); schedule "auto", None (one pass) or (longest side, evaluations) pairs.
    Sequences are stored as tuples, so options are never changed in place.
    """

    alpha: float = DEFAULT_ALPHA
    beta: float = DEFAULT_BETA
    tv_weight: float = DEFAULT_TV_WEIGHT
    content_layer: str = CONTENT_LAYER
    style_layers: tuple = STYLE_LAYERS
    style_blend: tuple | None = None
    init: object = "noisy-content"
    noise: float = 0.25
    optimizer: str = "lbfgs"
    steps: int = DEFAULT_STEPS
    schedule: object = "auto"
    preserve_color: str = "none"
    style_scale: float = 1.0
    learning_rate: float = 0.02
    seed: int = 1
    weights: str = "auto"

    def __post_init__(self):
        for name in ("alpha", "beta", "tv_weight", "noise"):
            _set(self, name, _number(name, getattr(self, name), low=0.0))
        for name in ("style_scale", "learning_rate"):
            _set(self, name, _number(name, getattr(self, name), low=0.0, positive=True))
        if not self.alpha and not self.beta:
            raise ValueError("alpha and beta are both 0: there is nothing to optimise")
        _check_choice("content_layer", self.content_layer, VGG19_CONV_LAYERS)
        _set(self, "style_layers", _style_layers(self.style_layers))
        if self.style_blend is not None:
            _set(self, "style_blend", tuple(_number("a style_blend weight", weight, low=0.0)
                                            for weight in self.style_blend))
        if isinstance(self.init, str):
            _check_choice("init", self.init, INIT_CHOICES)
        _check_choice("optimizer", self.optimizer, OPTIMIZER_CHOICES)
        _check_choice("preserve_color", self.preserve_color, PRESERVE_COLOR_CHOICES)
        _set(self, "steps", _whole("steps", self.steps, low=1))
        _set(self, "seed", _whole("seed", self.seed, low=0))
        if self.schedule not in ("auto", None):
            _set(self, "schedule", _schedule(self.schedule))

    def replace(self, **changes):
        """These options with some changed (and checked again)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"not an option of stylize: {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    def as_json(self):
        """The options as JSON values; an init image as the words "an image"."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["init"] = self.init if isinstance(self.init, str) else "an image"
        values["style_layers"] = [list(pair) for pair in self.style_layers]
        if self.style_blend is not None:
            values["style_blend"] = list(self.style_blend)
        if self.schedule not in ("auto", None):
            values["schedule"] = [list(stage) for stage in self.schedule]
        values["weights"] = str(self.weights)
        return values


def _set(options, name, value):
    object.__setattr__(options, name, value)  # a frozen dataclass, normalised once


def _number(name, value, low, positive=False):
    """value as a float at least `low` (above it when positive), or a ValueError."""
    try:
        number = float(value) if not isinstance(value, (str, bool)) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < low or (positive and number == low):
        bound = f"above {low:g}" if positive else f"at least {low:g}"
        raise ValueError(f"{name} must be a finite number {bound}, not {value!r}")
    return number


def _whole(name, value, low):
    try:
        whole = not isinstance(value, (str, bool)) and int(value) == value and value >= low
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise ValueError(f"{name} must be a whole number of at least {low}, not {value!r}")
    return int(value)


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}, not "
                         f"{value!r}")


def _style_layers(pairs):
    try:
        pairs = [(name, weight) for name, weight in pairs]
    except (TypeError, ValueError):
        raise ValueError("style_layers must be (VGG19 layer, weight) pairs, such as "
                         "STYLE_LAYERS") from None
    if not pairs:
        raise ValueError("style_layers is empty: give at least one (layer, weight) pair")
    for name, _ in pairs:
        _check_choice("a style layer", name, VGG19_CONV_LAYERS)
    return tuple((name, _number(f"the weight of {name}", weight, low=0.0))
                 for name, weight in pairs)


def _schedule(stages):
    try:
        stages = tuple((_whole("a stage's size", side, MIN_IMAGE_SIDE),
                        _whole("a stage's evaluations", count, 1)) for side, count in stages)
    except (TypeError, ValueError) as error:
        raise ValueError(f"schedule must be \"auto\", None or (longest side, evaluations) "
                         f"pairs, sizes of at least {MIN_IMAGE_SIDE} px and evaluations "
                         f"of at least 1 ({error})") from None
    if not stages:
        raise ValueError("schedule is empty: give at least one (longest side, evaluations) pair")
    return stages
