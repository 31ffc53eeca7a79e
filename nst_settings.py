"""The course's settings: the defaults that stylize, the command line, the studio and the
training script share, in one place that imports nothing heavy, so that `--help` and
argument errors answer before TensorFlow loads.

nst_helpers re-exports every name (notebooks read nst.DEFAULT_BETA); each is explained
where the notebooks teach it.
"""

from pathlib import Path

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
