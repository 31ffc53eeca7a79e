"""Exercise checks: run a learner's function against the reference, explain mistakes.

Every `nst.check_<name>(fn)` of the notebooks lives here; nst_helpers, the notebooks' one
module, imports them by name. No notebook teaches this machinery; what it does for a learner
is described in STYLE.md's "Exercises and checks": compare with the reference on hand-made
and random inputs, eagerly and inside tf.function, print one stable line on success, and on
failure name the likely mistake from the catalogue of wrong answers in nst_mistakes.py (run
through the same harness as the learner's function; tests/test_checks.py proves that each
check rejects each of them). A guard fails a check whose function calls the reference it
should write, or changes the course's modules while it runs.
"""

import contextlib
import functools
import inspect
import json
import os
import sys
from pathlib import Path

import numpy as np

import nst_course as nst
from nst_course import (
    VGG19_CONV_LAYERS,
    compute_content_cost,
    compute_layer_style_cost,
    compute_style_cost,
    gram_matrix,
    tf,
    total_cost,
    total_variation,
    train_step,
)
from nst_mistakes import Mistake, mistakes

CHECK_RTOL = 1e-4  # float32 sums over thousands of terms differ from the reference by ~1e-6


def _activation_cases():
    """Pairs of activations (1, n_H, n_W, n_C): non-square, n_C unlike the other sides, so
    a mixed-up reshape or transpose shows; plus hand-made ones."""
    rng = np.random.default_rng(0)
    shapes = [(3, 5, 7), (6, 2, 5), (2, 3, 6)]
    cases = []
    for n_H, n_W, n_C in shapes:
        first = rng.normal(size=(1, n_H, n_W, n_C)).astype(np.float32)
        second = rng.normal(size=(1, n_H, n_W, n_C)).astype(np.float32)
        cases.append((f"random activations of shape {(1, n_H, n_W, n_C)}", (first, second)))
    ones = np.ones((1, 2, 3, 2), np.float32)
    cases.append(("all ones against all zeros, shape (1, 2, 3, 2)", (ones, 0 * ones)))
    cases.append(("an activation against itself (cost 0)", (cases[0][1][0], cases[0][1][0])))
    # As large as a real layer: (n_H n_W)^2 n_C^2 passes 2^31, so int32 sizes overflow.
    real_size = (1, 30, 45, 64)
    cases.append((f"realistic-size activations {real_size}",
                  tuple(np.abs(rng.normal(size=real_size)).astype(np.float32) for _ in "SG")))
    return cases


def _run_check(name, learner, reference, cases, mistakes, rtol=CHECK_RTOL, atol=1e-6,
               graph=True, error_hint=None, output=None, describe=None):
    """Compare learner and reference on every case, eagerly and (graph=True) inside
    tf.function; graph=False is for exercises where NumPy is allowed.

    mistakes: the exercise's Mistakes (nst_mistakes), run on the same arguments and tried in
    order when a value is wrong, so the message names the likely error. error_hint(error):
    a hint for an exception the learner's code raises, or None. output(value, description):
    for a function that returns several values, checks their structure (raising
    AssertionError with a hint) and joins them into one tensor, for the learner's, the
    reference's and the mistakes' results alike. describe(value): the reference's first
    value as printed on success.
    Raises AssertionError (NotImplementedError for a stub not yet written); prints one
    stable line on success, with the reference's value on the first case, so that a change
    of the reference shows in the notebook's stored output.
    """
    modes = [("", learner)]
    if graph:
        modes.append((" inside tf.function", tf.function(learner)))
    first_value = None
    with _tensorflow_warnings_off():  # every case retraces, and TensorFlow warns about it
        for description, args in cases:
            args = tf.nest.map_structure(  # learners receive tensors, as in the notebooks
                lambda x: tf.constant(x) if isinstance(x, np.ndarray) else x, args)
            expected = reference(*args)
            expected = np.asarray(output(expected, description) if output else expected)
            first_value = expected if first_value is None else first_value
            for mode, function in modes:
                got = _call_learner(name, function, args, description + mode, learner,
                                    error_hint)
                got = output(got, description + mode) if output else got
                _compare(name, got, expected, args, description + mode, mistakes, rtol, atol,
                         numpy_allowed=not graph, output=output)
    where = "eager and tf.function" if graph else "eager"
    _print_ok(name, f"{len(cases)} cases, {where}, rtol={rtol:g}",
              f"{cases[0][0]}: {(describe or _rounded)(first_value)}")


@contextlib.contextmanager
def _tensorflow_warnings_off():
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def _print_ok(name, what, example):
    print(f"{name}: OK ({what}); {example}")


def _rounded(value):
    """A value rounded for a stored notebook output: 5 significant digits, sum if an array."""
    value = np.asarray(value, np.float64)
    text = f"{float(value.sum()):.5g}"
    return text if value.ndim == 0 else f"{value.shape} array summing to {text}"


# What each exercise must not call besides the reference it re-implements: the helpers that
# do the same work wholesale (nst_course's by name, Keras layers by their dotted path). The
# grader (instructor/grade.py) refuses them too. match_color is built from the learner's own
# two pieces: their references together do most of its work.
REFERENCE_SHORTCUTS = {
    "gram_matrix": ["style_target"],
    # Unrolling one channel per row is part of the exercise (notebook 03's prompt says so).
    "compute_layer_style_cost": ["layer_style_cost_from_target", "style_target", "unroll"],
    "rgb_to_yiq": ["luminance_image", "with_luminance", "chroma_distance"],
    "yiq_to_rgb": ["with_luminance"],
    "masked_style_target": ["style_target", "masked_layer_style_cost"],
    "match_color": ["colour_mean_and_covariance", "symmetric_matrix_power"],
    "make_cost_and_gradient": ["stylize", "optimize_image"],
    "lbfgs": ["stylize", "optimize_image", "_run_lbfgs"],
    # With axis=[1, 2], LayerNormalization computes instance normalisation too.
    "instance_norm": ["keras.layers.GroupNormalization", "keras.layers.LayerNormalization"],
}
_MISSING = object()


class _ReferenceUsed(AssertionError):
    """A learner's function used the reference or changed this module."""


def _modules_state():
    """What a learner's function must leave alone: the names of nst_helpers (the notebooks'
    `nst`), of nst_course, where they are defined, and of this module."""
    modules = {"nst": sys.modules.get("nst_helpers"), "nst_course": nst,
               "nst_checks": sys.modules[__name__]}
    return {f"{label}.{key}": value for label, module in modules.items() if module
            for key, value in vars(module).items()}


class _ReferenceGuard:
    """While a learner's function runs, notice a call of the reference it is meant to
    write (by name, alias, getattr, a copy of its code: the code object gives it away)
    and any change to this module (say, a check replaced), and fail the check."""

    def __init__(self, name, learner):
        names = [name, *REFERENCE_SHORTCUTS.get(name, [])]
        self.name = name
        self.codes = {code: shown for code, shown in map(_shortcut_code, names) if code}
        if learner is getattr(nst, name, None):  # the course's own tests check the reference
            self.codes = {}

    def __enter__(self):
        self.called, self.module_before = None, _modules_state()
        self.previous_profiler = sys.getprofile()
        sys.setprofile(self._watch)
        return self

    def _watch(self, frame, event, arg):
        if event == "call" and self.called is None and frame.f_code in self.codes:
            self.called = self.codes[frame.f_code]

    def __exit__(self, *exception):
        sys.setprofile(self.previous_profiler)
        now = _modules_state()
        changed = sorted(set(now) ^ set(self.module_before) | {
            key for key, value in now.items()
            if self.module_before.get(key, _MISSING) is not value})
        if changed:
            raise _ReferenceUsed(
                f"{self.name} changed {', '.join(changed)} while it was checked; a solution "
                "computes its result and changes nothing else.")
        if self.called:
            what = ("the reference of what you are writing" if self.called == f"nst.{self.name}"
                    else "which does the work you are to write")
            raise _ReferenceUsed(f"{self.name} calls {self.called}, {what}: write it with "
                                 "TensorFlow operations instead.")
        return False


def _shortcut_code(name):
    """(the code object a call of `name` runs, the name as a learner writes it): a
    course function's, or a Keras layer's call method ("keras.layers.X"); (None, ...)
    for a constant."""
    if name.startswith("keras."):
        import keras

        target = getattr(functools.reduce(getattr, name.split(".")[1:], keras), "call", None)
        return getattr(target, "__code__", None), name
    # unwrap: the code a decorated reference runs is its own, not its wrapper's.
    function = getattr(nst, name, None)
    return getattr(inspect.unwrap(function) if callable(function) else function, "__code__",
                   None), f"nst.{name}"


def _call_learner(name, function, args, description, learner=None, error_hint=None):
    try:
        with _ReferenceGuard(name, learner or function):
            return function(*args)
    except _ReferenceUsed:
        raise  # the guard's verdict, already worded for the learner
    except NotImplementedError as error:
        if str(error):  # TensorFlow's own, e.g. a NumPy call on a symbolic tensor
            raise AssertionError(_error_message(name, error, description)) from None
        raise NotImplementedError(
            f"{name}, or a function of yours that it calls, is not written yet: replace "
            "`raise NotImplementedError()` with your code."
        ) from None
    except Exception as error:
        hint = error_hint(error) if error_hint else None
        raise AssertionError(_error_message(name, error, description, hint)) from None


def _error_message(name, error, description, hint=None):
    if hint:
        return f"{name} raised {type(error).__name__} on {description}: {error}. Hint: {hint}"
    hint = ""
    if "tf.function" in description:
        hint = (" Hint: use TensorFlow operations only (tf.reduce_sum, tf.matmul, "
                "tf.reshape, ...); NumPy calls and .numpy() do not work inside tf.function.")
    return f"{name} raised {type(error).__name__} on {description}: {error}.{hint}"


def _compare(name, got, expected, args, description, mistakes, rtol, atol=1e-6,
             numpy_allowed=False, output=None):
    if not isinstance(got, tf.Tensor):
        hint = ("return a tf.Tensor: wrap a NumPy result in tf.constant(..., tf.float32)."
                if numpy_allowed else
                "compute with TensorFlow operations (tf.reduce_sum, not np.sum or sum).")
        raise AssertionError(
            f"{name} returned a {type(got).__name__}, not a tf.Tensor, on {description}. "
            f"Hint: {hint}")
    got = got.numpy()
    if got.shape == expected.shape and np.allclose(got, expected, rtol=rtol, atol=atol):
        return
    for mistake in mistakes:
        wrong = _value_of(mistake.function, args, output, description)
        if wrong is not None and wrong.shape == got.shape and np.allclose(
                got, wrong, rtol=rtol, atol=atol):
            raise AssertionError(f"{name} is wrong on {description}. Hint: {mistake.hint}")
    if got.shape != expected.shape:
        raise AssertionError(
            f"{name} returned shape {got.shape}, expected {expected.shape}, on {description}."
        )
    message = f"{name} is wrong on {description}: expected {expected}, got {got}."
    ratio = got / np.where(expected == 0, np.nan, expected)
    if expected.size and np.all(np.isfinite(ratio)) and np.allclose(ratio, ratio.flat[0]):
        message += (f" Hint: yours is {ratio.flat[0]:.4g} times the reference: "
                    "check the normalisation constant.")
    raise AssertionError(message)


def _value_of(mistake, args, output=None, description=""):
    """What a catalogue mistake computes on args, as an array (through output, as the
    learner's result is), or None where it fails."""
    try:
        value = mistake(*args)
        return np.asarray(output(value, description) if output else value)
    except Exception:  # a mistake that cannot run on this case does not explain it
        return None


def check_compute_content_cost(fn):
    """Check a learner's compute_content_cost(a_C, a_G). Notebook 02."""
    def int32_hint(error):
        if "int32" in str(error):
            return ("tf.shape gives int32 sizes, and TensorFlow does not divide a float32 "
                    "tensor by an int32 one: cast the sizes with tf.cast(..., tf.float32), or "
                    "take them from the .shape attribute (Python integers).")
        return None

    _run_check("compute_content_cost", fn, compute_content_cost, _activation_cases(),
               mistakes("compute_content_cost"), error_hint=int32_hint)


def _unrolled_cases():
    rng = np.random.default_rng(1)
    cases = [(f"a random A of shape {shape}", (rng.normal(size=shape).astype(np.float32),))
             for shape in [(3, 7), (5, 2), (1, 4)]]
    cases.append(("A = [[1, 2, 3], [0, 1, -1]]", (np.array([[1, 2, 3], [0, 1, -1]], np.float32),)))
    return cases


def check_gram_matrix(fn):
    """Check a learner's gram_matrix(A), A of shape (n_C, n_H * n_W). Notebook 03."""
    _run_check("gram_matrix", fn, gram_matrix, _unrolled_cases(), mistakes("gram_matrix"))


def check_compute_layer_style_cost(fn):
    """Check a learner's compute_layer_style_cost(a_S, a_G). Notebook 03."""
    _run_check("compute_layer_style_cost", fn, compute_layer_style_cost, _activation_cases(),
               mistakes("compute_layer_style_cost"))


def check_compute_style_cost(fn):
    """Check a learner's compute_style_cost(style_activations, generated_activations,
    style_layers). Notebook 03."""
    rng = np.random.default_rng(2)
    layers = [("shallow", 0.5), ("middle", 0.3), ("deep", 0.2)]
    shapes = {"shallow": (1, 6, 5, 3), "middle": (1, 3, 4, 5), "deep": (1, 2, 2, 6)}

    def activations():
        return {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}

    cases = [("three layers weighted 0.5, 0.3, 0.2", (activations(), activations(), layers)),
             ("two layers weighted 1.0, 0.0", (activations(), activations(),
                                                [("deep", 1.0), ("shallow", 0.0)]))]

    def key_hint(error):
        if not isinstance(error, KeyError):
            return None
        if error.args and error.args[0] in dict(nst.STYLE_LAYERS):
            return ("take the layers from the style_layers argument, not nst.STYLE_LAYERS: "
                    "these activations have other layer names.")
        return ("take the layers from style_layers: the dictionaries may hold layers that "
                "style_layers does not list.")

    _run_check("compute_style_cost", fn, compute_style_cost, cases,
               mistakes("compute_style_cost"), error_hint=key_hint)


def check_total_cost(fn):
    """Check a learner's total_cost(J_content, J_style, alpha, beta), whose defaults are
    nst.DEFAULT_ALPHA and nst.DEFAULT_BETA. Notebook 04."""
    def reference(J_content, J_style, alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_BETA):
        return total_cost(tf.constant(J_content), tf.constant(J_style), alpha, beta)

    cases = [("J_content=2, J_style=3 with the defaults", (2.0, 3.0)),
             ("J_content=0.5, J_style=7, alpha=1, beta=100", (0.5, 7.0, 1.0, 100.0)),
             ("J_content=4, J_style=0, alpha=3, beta=2", (4.0, 0.0, 3.0, 2.0))]
    cases = [(text, tuple(tf.constant(v) for v in args)) for text, args in cases]

    _run_check("total_cost", fn, reference, cases, mistakes("total_cost"))


def check_total_variation(fn):
    """Check a learner's total_variation(image): the mean absolute difference between
    vertical neighbours plus the mean between horizontal ones. Notebook 05."""
    rng = np.random.default_rng(3)
    cases = [(f"a random image of shape {shape}", (rng.random(shape).astype(np.float32),))
             for shape in [(1, 5, 7, 3), (1, 9, 4, 3)]]
    cases.append(("a flat grey image (0)", (np.full((1, 4, 4, 3), 0.5, np.float32),)))

    _run_check("total_variation", fn, total_variation, cases, mistakes("total_variation"))


def check_count_conv_params(fn):
    """Check a learner's count_conv_params against Keras's own count. Notebook 01."""
    import keras

    vgg = keras.applications.VGG19(include_top=False, weights=None)
    layers = [(name, vgg.get_layer(name)) for name in VGG19_CONV_LAYERS]
    sizes = {name: (layer.kernel_size[0], layer.input.shape[-1], layer.filters)
             for name, layer in layers}
    counts = {name: _call_learner("count_conv_params", fn, sizes[name], f"layer {name}")
              for name, _ in layers}
    for name, layer in layers:
        if counts[name] != layer.count_params():
            # The mistake that gives every layer's wrong count (block1_conv1 alone, with
            # k = c_in = 3, cannot tell some apart).
            hint = next((mistake.hint for mistake in mistakes("count_conv_params")
                         if all(counts[n] == mistake.function(*sizes[n]) for n, _ in layers)),
                        "each of the c_out filters has weights and a bias: how many weights "
                        "does one filter need to cover a k x k window of its input?")
            raise AssertionError(f"count_conv_params is wrong for {name}: expected "
                                 f"{layer.count_params()}, got {counts[name]}. Hint: {hint}")
    _print_ok("count_conv_params", f"{len(VGG19_CONV_LAYERS)} layers of VGG19",
              f"block1_conv1: {vgg.get_layer('block1_conv1').count_params()}")


def check_train_step(fn):
    """Check a learner's train_step(generated, compute_costs, optimizer, alpha, beta): two
    steps from the same start must return the same costs and leave the same pixels as the
    reference, eagerly and inside tf.function. Notebook 05."""
    import keras

    start = np.random.default_rng(4).random((1, 4, 5, 3)).astype(np.float32)
    target = np.random.default_rng(5).random((1, 4, 5, 3)).astype(np.float32)

    def compute_costs(image):  # two stand-in costs that pull pixels out of [0, 1]
        return (tf.reduce_sum(tf.square(image - target)),
                tf.reduce_sum(tf.square(image - 1.5 * target + 0.4)))

    def two_steps(step, compiled):
        generated = tf.Variable(start)
        optimizer = keras.optimizers.Adam(learning_rate=0.3)
        step = tf.function(step) if compiled else step
        costs = [float(step(generated, compute_costs, optimizer, 2.0, 0.5)) for _ in range(2)]
        return np.array(costs), generated.numpy()

    for mode, compiled in (("", False), (" inside tf.function", True)):
        costs, pixels = _call_learner("train_step", two_steps, (fn, compiled),
                                      f"two steps{mode}", fn)
        expected_costs, expected_pixels = two_steps(train_step, compiled)
        if np.allclose(costs, expected_costs, rtol=1e-5) and np.allclose(
                pixels, expected_pixels, atol=1e-5):
            continue
        if np.allclose(pixels, start):
            raise AssertionError("train_step left the pixels unchanged. Hint: hand the "
                                 "gradient to the optimiser, which updates the variable (its "
                                 "apply_gradients method).")
        for mistake in mistakes("train_step"):
            wrong_costs, wrong_pixels = two_steps(mistake.function, compiled)
            if np.allclose(costs, wrong_costs, rtol=1e-5) and np.allclose(
                    pixels, wrong_pixels, atol=1e-5):
                raise AssertionError(f"train_step is wrong on two steps{mode}. Hint: "
                                     f"{mistake.hint}")
        raise AssertionError(
            f"train_step is wrong on two steps{mode}: expected costs {expected_costs} and "
            f"pixels summing to {expected_pixels.sum():.5g}, got {costs} and "
            f"{pixels.sum():.5g}. Hint: take the gradient of the total cost with respect to "
            "generated, under the tape.")
    _print_ok("train_step", "two Adam steps, eager and tf.function",
              f"costs {_rounded(expected_costs[0])} then {_rounded(expected_costs[1])}")


# Notebook 04, the capstone: your loop, your picture. Both checks run the learner's code on
# a tiny real problem (VGG19 features of 32 x 48 px images) from fixed images, and compare
# its costs with the reference's.

CAPSTONE_ALPHA, CAPSTONE_BETA = 10.0, 4e-5  # the two terms of about the same size here
CAPSTONE_STEPS = 8  # the cost evaluations check_lbfgs compares
_CAPSTONE_CACHE = {}  # per weights source: the problem, and what the reference makes of it


class _CapstoneProblem:
    """Content, style (cropped and resized to the content's size), an extractor of the
    course's layers, and two fixed images to evaluate: a noisy copy of the content image
    (also lbfgs's start) and uniform noise."""

    def __init__(self):
        self.content = nst.load_image(nst.IMAGES_DIR / "content/chelsea_cat.jpg", max_dim=48)
        self.style = nst.crop_and_resize(
            nst.load_image(nst.IMAGES_DIR / "style/hokusai_great_wave.jpg", max_dim=96),
            self.content)
        self.extractor = nst.make_feature_extractor(
            [nst.CONTENT_LAYER] + [name for name, _ in nst.STYLE_LAYERS])
        self.images = {"a noisy copy of the content image":
                       nst.initial_image(self.content, "noisy-content", seed=4),
                       "uniform noise": nst.initial_image(self.content, "noise", seed=5)}
        self.size = "x".join(str(side) for side in self.content.shape[1:3])


def _capstone(what):
    """The cached problem ("problem"), or the reference's compiled cost_and_gradient for it
    ("reference")."""
    key = (what, os.environ.get(nst.WEIGHTS_VARIABLE))
    if key not in _CAPSTONE_CACHE:
        with _output_captured():  # load_vgg19's line, the first time
            _CAPSTONE_CACHE[key] = _capstone_new(what)
    return _CAPSTONE_CACHE[key]


def _capstone_new(what):
    if what == "problem":
        return _CapstoneProblem()
    problem = _capstone("problem")
    return nst.make_cost_and_gradient(problem.content, problem.style, problem.extractor,
                                      CAPSTONE_ALPHA, CAPSTONE_BETA)


def _capstone_made(maker):
    """The cost_and_gradient that `maker` (a catalogue mistake) makes for the problem."""
    problem = _capstone("problem")
    return maker(problem.content, problem.style, problem.extractor, CAPSTONE_ALPHA,
                 CAPSTONE_BETA)


def _values(cost_and_gradient, image):
    J, gradient = cost_and_gradient(tf.convert_to_tensor(image))
    return float(J), np.asarray(gradient, np.float64)


class _WatchedExtractor:
    """The extractor, recording each call: the phase ("build" or "evaluate"), whether it ran
    inside a graph being traced (tf.inside_function()) and which graph, and which image it
    was given ("content", "style", or "the image" for any other, such as G's placeholder)."""

    def __init__(self, extractor, known):
        self.extractor, self.known, self.calls, self.phase = extractor, known, [], "build"

    def __getattr__(self, name):  # layer_names, weights_source: as the extractor's
        return getattr(self.extractor, name)

    def __call__(self, image):
        given = "the image"
        if not tf.is_symbolic_tensor(image):  # a value, even inside a graph being traced
            value = np.asarray(image)
            given = next((name for name, known in self.known.items()
                          if known.shape == value.shape and np.array_equal(known, value)),
                         given)
        graph = id(tf.compat.v1.get_default_graph()) if tf.inside_function() else None
        self.calls.append((self.phase, graph, given))
        return self.extractor(image)


def check_make_cost_and_gradient(fn):
    """Check a learner's make_cost_and_gradient(content, style, extractor, alpha, beta):
    on a tiny real problem, its cost_and_gradient(image) must return the reference's J and
    gradient at two fixed images, compute the targets once (an instrumented extractor sees
    every call) and run compiled. Notebook 04."""
    name = "make_cost_and_gradient"
    problem, reference = _capstone("problem"), _capstone("reference")
    alpha, beta = CAPSTONE_ALPHA, CAPSTONE_BETA
    extractor = _WatchedExtractor(problem.extractor, {"content": problem.content.numpy(),
                                                      "style": problem.style.numpy()})
    with _tensorflow_warnings_off():
        cost_and_gradient = _call_learner(
            name, fn, (problem.content, problem.style, extractor, alpha, beta),
            f"a {problem.size} px problem, alpha={alpha:g}, beta={beta:g}")
        if not callable(cost_and_gradient):
            raise AssertionError(f"{name} returned a {type(cost_and_gradient).__name__}: "
                                 "return the function cost_and_gradient itself.")
        extractor.phase = "evaluate"
        for description, image in problem.images.items():
            result = _call_learner(name, cost_and_gradient, (image,),
                                   f"cost_and_gradient of {description}", fn)
            _compare_cost_and_gradient(result, image, description)
    _check_extractor_calls(extractor.calls)
    J = float(reference(next(iter(problem.images.values())))[0])
    _print_ok(name, f"{len(problem.images)} images of a {problem.size} px problem, targets "
              "once, compiled", f"J at the noisy start: {J:.4g}")


def _compare_cost_and_gradient(result, image, description):
    name = "make_cost_and_gradient"
    where = f"on cost_and_gradient of {description}"
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise AssertionError(f"{name}: cost_and_gradient returned {type(result).__name__}, "
                             f"not a pair, {where}. Hint: return (J, gradient).")
    J, gradient = result
    if gradient is None:
        raise AssertionError(
            f"{name}: the gradient is None {where}. Hint: the tape did not see J depend on "
            "the image. Watch the image (tape.watch(image): it is a tensor, not a Variable), "
            "compute every cost inside the `with tf.GradientTape() as tape:` block, and take "
            "tape.gradient(J, image), with respect to the image cost_and_gradient was given.")
    if np.shape(J) != () or np.shape(gradient) != tuple(image.shape):
        raise AssertionError(
            f"{name}: cost_and_gradient returned shapes {np.shape(J)} and "
            f"{np.shape(gradient)} {where}; expected () and {tuple(image.shape)}. Hint: "
            "return (J, gradient), in that order: the cost, a scalar, and its gradient with "
            "respect to the image, which has the image's shape.")
    J, gradient = float(J), np.asarray(gradient, np.float64)

    def matches(values):
        J_model, gradient_model = values
        return (np.isclose(J, J_model, rtol=CHECK_RTOL) and np.linalg.norm(
            gradient - gradient_model) <= 1e-3 * np.linalg.norm(gradient_model))

    expected = _values(_capstone("reference"), image)
    if matches(expected):
        return
    for mistake in mistakes(name):
        if matches(_values(_capstone_made(mistake.function), image)):
            raise AssertionError(f"{name} is wrong {where}. Hint: {mistake.hint}")
    raise AssertionError(
        f"{name} is wrong {where}: expected J = {expected[0]:.6g} and a gradient of norm "
        f"{np.linalg.norm(expected[1]):.6g}, got {J:.6g} and {np.linalg.norm(gradient):.6g}."
        " Hint: J = total_cost(J_content, J_style, alpha, beta) with your "
        "compute_content_cost and compute_style_cost, on the targets of content and style.")


def _check_extractor_calls(calls):
    name = "make_cost_and_gradient"
    during = [(graph, given) for phase, graph, given in calls if phase == "evaluate"]
    if any(given in ("content", "style") for _, given in during):
        raise AssertionError(
            f"{name} recomputes the targets at every evaluation: cost_and_gradient runs "
            "VGG19 on the content or style image. Hint: compute the targets once, in "
            "make_cost_and_gradient before defining cost_and_gradient; inside it, run the "
            "extractor on the image only.")
    if any(graph is None for graph, _ in during):
        raise AssertionError(
            f"{name}: cost_and_gradient runs eagerly, line by line in Python, at every "
            "evaluation. Hint: compile it: return tf.function(cost_and_gradient), or put "
            "@tf.function on the line above its def.")
    per_graph = {}
    for _, graph, given in calls:
        if graph is not None and given == "the image":
            per_graph[graph] = per_graph.get(graph, 0) + 1
    if per_graph and max(per_graph.values()) > 1:
        raise AssertionError(
            f"{name}: cost_and_gradient runs VGG19 on the image {max(per_graph.values())} "
            "times per evaluation. Hint: once is enough: the extractor returns every layer's "
            "activation in one dict; keep it and read both costs' layers from it.")


class _ScipyMisused(Exception):
    """Raised inside a learner's lbfgs to end a run that cannot go on; the check words it."""


def _watched_cost(reference, start, limit, seen, worse_from=None):
    """The reference cost_and_gradient, recording each image (the tensor itself) and cost.
    worse_from=n: from evaluation n on the cost doubles (the gradient stays true), so the
    last evaluations are worse than the best, and returning the last image shows. It stops
    a run at `limit` evaluations (a run without a budget) and refuses what is not a float32
    image of the start's shape."""
    def cost_and_gradient(image):
        if seen["watching"] and seen["scipy"] == 0:
            seen["problem"] = "no L-BFGS-B"
            raise _ScipyMisused(seen["problem"])
        if not (tf.is_tensor(image) and image.dtype == tf.float32
                and tuple(image.shape) == tuple(start.shape)):
            seen["problem"] = (f"a {type(image).__name__} of dtype "
                               f"{getattr(image, 'dtype', '?')} and shape {np.shape(image)}")
            raise _ScipyMisused(seen["problem"])
        if len(seen["costs"]) >= limit:
            seen["problem"] = "over the limit"
            raise _ScipyMisused(seen["problem"])
        J, gradient = reference(image)
        if worse_from is not None and len(seen["costs"]) + 1 >= worse_from:
            J = 2.0 * J
        seen["costs"].append(float(J))
        seen["images"].append(image)
        return J, gradient

    return cost_and_gradient


@contextlib.contextmanager
def _watching_lbfgsb(seen):
    """While a learner's lbfgs runs, see what it hands scipy's L-BFGS-B: scipy.optimize
    .minimize calls the private _minimize_lbfgsb, wrapped here, with x0, the bounds (a
    list of (low, high) pairs by then), and, after jac=True, the learner's function split
    into a value and a gradient. Restored afterwards."""
    try:
        from scipy.optimize import _minimize as driver
        original = driver._minimize_lbfgsb
    except (ImportError, AttributeError):  # another scipy: the behaviour checks remain
        yield
        return
    seen["watching"] = True

    def watched(fun, x0, args=(), jac=None, bounds=None, **options):
        seen["scipy"] += 1
        seen["x0"], seen["bounds"] = np.asarray(x0).dtype, bounds
        if not callable(jac):
            seen["problem"] = "no jac"
            raise _ScipyMisused(seen["problem"])

        def value(x, *rest):
            result = fun(x, *rest)
            seen["value types"].add(np.asarray(result).dtype)
            return result

        def gradient(x, *rest):
            result = jac(x, *rest)
            seen["gradient types"].add(np.asarray(result).dtype)
            return result

        return original(value, x0, args, gradient, bounds, **options)

    driver._minimize_lbfgsb = watched
    try:
        yield
    finally:
        driver._minimize_lbfgsb = original


@contextlib.contextmanager
def _output_captured():
    """Keep a run's progress bar (a widget in Jupyter, text elsewhere) and prints out of the
    check's one line."""
    try:
        from IPython.utils.capture import capture_output
    except ImportError:
        capture_output = None
    if capture_output is not None:
        with capture_output():
            yield
        return
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _lbfgs_run(fn, steps, limit, worse_from=None):
    """Run an lbfgs from the problem's fixed start; (what it returned, what it did)."""
    problem = _capstone("problem")
    start = next(iter(problem.images.values()))
    seen = {"watching": False, "scipy": 0, "costs": [], "images": [], "value types": set(),
            "gradient types": set(), "problem": None, "worse_from": worse_from}
    cost_and_gradient = _watched_cost(_capstone("reference"), start, limit, seen, worse_from)
    result = None
    with _tensorflow_warnings_off(), _watching_lbfgsb(seen), _output_captured():
        try:
            result = _call_learner("lbfgs", fn, (cost_and_gradient, start, steps),
                                   f"{steps} evaluations on a {problem.size} px problem")
        except _ReferenceUsed:
            raise
        except AssertionError:
            if seen["problem"] is None:  # the learner's own error, already worded
                raise
    return result, seen


def _reference_lbfgs_run(steps, worse_from):
    key = ("lbfgs", steps, worse_from, os.environ.get(nst.WEIGHTS_VARIABLE))
    if key not in _CAPSTONE_CACHE:
        _CAPSTONE_CACHE[key] = _lbfgs_run(nst.lbfgs, steps, 10 * steps, worse_from)[1]
    return _CAPSTONE_CACHE[key]


def check_lbfgs(fn):
    """Check a learner's lbfgs(cost_and_gradient, start, steps) on a tiny real problem:
    scipy's L-BFGS-B, float64 at its interface, every pixel bounded to [0, 1], a budget of
    `steps` evaluations, every cost recorded, its first `steps` costs the reference's, and
    the best image returned. Twice: as it is, then with the evaluations from the
    `steps`-th on made worse, so that the last image is not the best. Notebook 04."""
    steps = CAPSTONE_STEPS
    for worse_from in (None, steps):
        expected = _reference_lbfgs_run(steps, worse_from)
        result, seen = _lbfgs_run(fn, steps, len(expected["costs"]) + 30, worse_from)
        _check_lbfgs_run(result, seen, expected, steps)
    plain = _reference_lbfgs_run(steps, None)
    _print_ok("lbfgs", f"{steps} evaluations on a {_capstone('problem').size} px problem: "
              "L-BFGS-B, float64, bounds [0, 1], the best image kept",
              f"J at the start: {plain['costs'][0]:.4g}")


def _check_lbfgs_run(result, seen, expected, steps):
    name = "lbfgs"
    _check_lbfgs_interface(seen, steps)
    evaluated = len(seen["costs"])
    if evaluated < steps:
        raise AssertionError(
            f"{name} stopped after {evaluated} cost evaluations, before its budget of {steps}."
            " Hint: options={\"maxfun\": steps}; leave the other options at scipy's defaults.")
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise AssertionError(f"{name} returned {type(result).__name__}, not a pair. Hint: "
                             "return (best_image, costs).")
    image, costs = result
    shape = tuple(seen["images"][0].shape)
    if not (isinstance(image, tf.Tensor) and image.dtype == tf.float32
            and tuple(image.shape) == shape):
        raise AssertionError(
            f"{name} returned an image that is a {type(image).__name__} of dtype "
            f"{getattr(image, 'dtype', '?')} and shape {np.shape(image)}. Hint: return the "
            f"best image as it was evaluated: a float32 tf.Tensor of shape {shape}.")
    costs = [float(cost) for cost in np.asarray(costs, np.float64).ravel()]
    if len(costs) != evaluated or not np.allclose(costs, seen["costs"], rtol=1e-6):
        raise AssertionError(
            f"{name} returned {len(costs)} costs for {evaluated} evaluations. Hint: record "
            "the cost of every evaluation, in the function you hand scipy (a callback sees "
            "only the points the line search accepts).")
    wanted = expected["costs"][:steps]
    if not np.allclose(costs[:steps], wanted, rtol=1e-5):
        first = next(i for i, (got, want) in enumerate(zip(costs, wanted, strict=False))
                     if not np.isclose(got, want, rtol=1e-5))
        raise AssertionError(
            f"{name} is wrong: its evaluation {first + 1} costs {costs[first]:.6g}, the "
            f"reference's {wanted[first]:.6g}. Hint: start from `start` and give scipy "
            "jac=True, method=\"L-BFGS-B\", the bounds and options={\"maxfun\": steps}, "
            "nothing else.")
    _check_best_kept(image, seen)


def _check_lbfgs_interface(seen, steps):
    name, problem_found = "lbfgs", seen["problem"]
    if problem_found == "no L-BFGS-B":
        raise AssertionError(f"{name} did not run scipy's L-BFGS-B. Hint: call "
                             "scipy.optimize.minimize(..., method=\"L-BFGS-B\").")
    if problem_found == "no jac":
        raise AssertionError(
            f"{name} did not give scipy the gradient, so scipy would estimate it by finite "
            "differences, one evaluation per pixel. Hint: pass jac=True, and have the "
            "function you hand scipy return (cost, gradient).")
    if problem_found == "over the limit":
        raise AssertionError(
            f"{name} went on evaluating past its budget of {steps} (stopped after "
            f"{len(seen['costs'])}). Hint: the budget counts cost evaluations: "
            "options={\"maxfun\": steps}.")
    if problem_found is not None:
        raise AssertionError(
            f"{name} handed cost_and_gradient {problem_found}. Hint: turn scipy's flat "
            "float64 x back into an image of the start's shape, as a float32 tensor "
            "(tf.constant(..., tf.float32)).")
    float32 = [what for what, dtypes in [("x0", {seen.get("x0")}),
                                        ("the cost", seen["value types"]),
                                        ("the gradient", seen["gradient types"])]
               if any(dtype is not None and dtype != np.float64 for dtype in dtypes)]
    if float32:
        listed = ", ".join(float32[:-1]) + " and " * (len(float32) > 1) + float32[-1]
        raise AssertionError(
            f"{name} handed scipy {listed} in float32. Hint: L-BFGS-B computes in float64: "
            "give it x0 and the gradient as float64 arrays (.astype(np.float64)) and the "
            "cost as a Python float (float(J)).")
    bounds = seen.get("bounds")
    if seen["watching"] and (bounds is None or not np.array_equal(
            np.array([[np.nan if b is None else b for b in pair] for pair in bounds], float),
            np.tile([0.0, 1.0], (len(bounds), 1)))):
        raise AssertionError(
            f"{name} did not bound every pixel to [0, 1]. Hint: pass scipy bounds, one "
            "(0, 1) pair per pixel value (or scipy.optimize.Bounds(0, 1)): L-BFGS-B then "
            "never steps outside, and every image it evaluates is a valid picture.")
    outside = [i for i, image in enumerate(seen["images"])
               if not 0.0 <= float(tf.reduce_min(image)) <= float(tf.reduce_max(image)) <= 1.0]
    if outside:
        raise AssertionError(
            f"{name} evaluated images outside [0, 1] (evaluation {outside[0] + 1} first). "
            "Hint: bound every pixel to [0, 1] with scipy's bounds.")


def _check_best_kept(image, seen):
    """The image returned must be an evaluated one of the lowest cost: found by identity
    (the tensor handed to cost_and_gradient), else by value."""
    costs, images = seen["costs"], seen["images"]
    lowest = min(costs)
    index = next((i for i, evaluated in enumerate(images) if evaluated is image), None)
    if index is None:
        value = image.numpy()
        matching = [i for i, evaluated in enumerate(images)
                    if np.allclose(value, evaluated.numpy(), atol=1e-6)]
        index = min(matching, key=lambda i: costs[i]) if matching else None
    if index is not None and costs[index] == lowest:
        return
    best = costs.index(lowest)
    what = ("the last image it evaluated" if index == len(costs) - 1 else
            f"the image of evaluation {index + 1}" if index is not None else
            "an image it did not evaluate")
    worse = (f" (here the check doubled the costs from evaluation {seen['worse_from']} on)"
             if seen["worse_from"] else "")
    raise AssertionError(
        f"lbfgs returned {what}; evaluation {best + 1} of {len(costs)} cost the least"
        f"{worse}. Hint: keep the best image, the one of the lowest cost evaluated: the last "
        "evaluation can be a trial that went uphill.")


# Notebook 06: colour (YIQ, colour matching) and place (masked Gram matrices).

def _colour_cases(seed):
    """Images (..., 3) in [0, 1]: random ones (a batch of two among them), and hand-made
    pure colours and greys, whose channels a mix-up would move."""
    rng = np.random.default_rng(seed)
    cases = [(f"a random image of shape {shape}", rng.random(shape).astype(np.float32))
             for shape in [(1, 5, 7, 3), (2, 3, 4, 3)]]
    pure = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]
    cases.append(("black, white, red, green, blue and yellow pixels",
                  np.array([[pure]], np.float32)))
    cases.append(("greys from 0 to 1", np.repeat(np.linspace(0, 1, 5, dtype=np.float32)
                                                    .reshape(1, 1, 5, 1), 3, axis=-1)))
    return cases


def check_rgb_to_yiq(fn):
    """Check a learner's rgb_to_yiq(image), image (..., 3). Notebook 06."""
    cases = [(text, (image,)) for text, image in _colour_cases(6)]
    _run_check("rgb_to_yiq", fn, nst.rgb_to_yiq, cases, mistakes("rgb_to_yiq"))


def check_yiq_to_rgb(fn):
    """Check a learner's yiq_to_rgb(image), the inverse of rgb_to_yiq. Notebook 06."""
    cases = [(f"the YIQ of {text[0].lower() + text[1:]}", (nst.rgb_to_yiq(image).numpy(),))
             for text, image in _colour_cases(8)]
    rng = np.random.default_rng(9)
    cases.append(("Y, I and Q alone (out of the RGB range)", (np.eye(3, dtype=np.float32)
                                                                .reshape(1, 1, 3, 3),)))
    cases.append(("random YIQ values of shape (1, 4, 4, 3), out of the RGB range",
                  (rng.normal(size=(1, 4, 4, 3)).astype(np.float32),)))
    _run_check("yiq_to_rgb", fn, nst.yiq_to_rgb, cases, mistakes("yiq_to_rgb"))


def _statistics_cases():
    """Images (1, H, W, 3): random and correlated colours (N large enough that 1 / N and
    1 / (N - 1) differ beyond the tolerance), a uniform grey (covariance 1e-5 I: only the
    1e-5 I is left) and hand-made pure colours."""
    rng = np.random.default_rng(11)
    grey = rng.random((1, 30, 40, 1))
    correlated = np.clip(grey * [0.9, 0.6, 0.3] + [0.1, 0.2, 0.3]
                         + 0.08 * rng.normal(size=(1, 30, 40, 3)), 0, 1)
    pure = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]
    cases = [("a random image of shape (1, 5, 7, 3)", rng.random((1, 5, 7, 3))),
             ("a (1, 30, 40, 3) image with correlated colours", correlated),
             ("a uniform grey (1, 4, 6, 3) image", np.full((1, 4, 6, 3), 0.5)),
             ("black, white, red, green, blue and yellow pixels", np.array([[pure]]))]
    return [(text, (image.astype(np.float32),)) for text, image in cases]


def _joined_statistics(name):
    """The output= of _run_check for (mean, covariance): their structure checked, with a
    hint for each likely mix-up, then joined into one (4, 3) tensor."""
    def joined(result, description):
        where = f"on {description}"
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise AssertionError(f"{name} returned {type(result).__name__} {where}. Hint: "
                                 "return two values, (mean, covariance).")
        mean, covariance = result
        shapes = (tuple(np.shape(mean)), tuple(np.shape(covariance)))
        hints = {(3, 3): "return (mean, covariance), in that order.",
                 (1, 3): "the mean has shape (3,): one value per channel.",
                 (): "the mean is one value per channel, shape (3,), not one for the image.",
                 }
        if shapes[0] != (3,):
            hint = hints.get(shapes[0], "the mean is one value per channel: average the "
                             "(N, 3) pixels over axis 0, the pixels.")
            raise AssertionError(f"{name}'s mean has shape {shapes[0]}, expected (3,), "
                                 f"{where}. Hint: {hint}")
        if shapes[1] != (3, 3):
            hint = ("the covariance is channels by channels, (3, 3): transpose the first "
                    "factor of the product, not the second (yours is pixels by pixels)."
                    if len(shapes[1]) == 2 and shapes[1][0] == shapes[1][1] else
                    "the covariance is a (3, 3) matrix, channels by channels.")
            raise AssertionError(f"{name}'s covariance has shape {shapes[1]}, expected "
                                 f"(3, 3), {where}. Hint: {hint}")
        for what, value in [("mean", mean), ("covariance", covariance)]:
            if not isinstance(value, tf.Tensor):
                raise AssertionError(
                    f"{name}'s {what} is a {type(value).__name__}, not a tf.Tensor, {where}. "
                    "Hint: compute with TensorFlow operations (tf.reduce_mean, tf.matmul).")
        return tf.concat([tf.reshape(tf.cast(mean, tf.float32), [1, 3]),
                          tf.cast(covariance, tf.float32)], axis=0)
    return joined


def check_colour_mean_and_covariance(fn):
    """Check a learner's colour_mean_and_covariance(image) -> (mean (3,), covariance (3, 3)),
    the covariance over the N pixels divided by N - 1, plus 1e-5 I. Notebook 06."""
    def describe(value):
        return f"mean {_rounded(value[0])}, covariance {_rounded(value[1:])}"

    def shape_hint(error):  # 1e-5 I added to an (N, N) product
        if "Incompatible shapes" in str(error) or "Dimensions must be equal" in str(error):
            return ("the covariance is channels by channels, (3, 3): transpose the first "
                    "factor of the product, not the second (yours is pixels by pixels).")
        return None

    _run_check("colour_mean_and_covariance", fn, nst.colour_mean_and_covariance,
               _statistics_cases(), mistakes("colour_mean_and_covariance"),
               error_hint=shape_hint, output=_joined_statistics(
                   "colour_mean_and_covariance"), describe=describe)


def _symmetric_cases():
    """(matrix, power): symmetric positive-definite matrices, well conditioned enough that
    float32 eigenvectors agree to the tolerance; a diagonal one whose answer is by hand."""
    rng = np.random.default_rng(12)

    def positive_definite(n, scale=1.0):
        B = rng.random((n, n))
        return scale * (B @ B.T + 0.1 * np.eye(n))

    pixels = np.clip(rng.random((200, 1)) * [0.5, 0.4, 0.2] + 0.05 * rng.normal(
        size=(200, 3)), 0, 1)
    colours = np.cov(pixels, rowvar=False) + 1e-5 * np.eye(3)
    first = positive_definite(3)
    cases = [("a random symmetric positive-definite (3, 3) matrix, power 0.5", (first, 0.5)),
             ("the same matrix, power -0.5", (first, -0.5)),
             ("diag(4, 9, 0.01), power 0.5: diag(2, 3, 0.1)", (np.diag([4, 9, 0.01]), 0.5)),
             ("a random (4, 4) matrix, power 2: the matrix times itself",
              (positive_definite(4), 2.0)),
             ("the colour covariance of an image, power -0.5", (colours, -0.5))]
    return [(text, (matrix.astype(np.float32), power)) for text, (matrix, power) in cases]


def check_symmetric_matrix_power(fn):
    """Check a learner's symmetric_matrix_power(matrix, power): V diag(lambda^power) V^T
    from tf.linalg.eigh. Notebook 06."""
    _run_check("symmetric_matrix_power", fn, nst.symmetric_matrix_power, _symmetric_cases(),
               mistakes("symmetric_matrix_power"))


def _match_color_cases():
    rng = np.random.default_rng(7)

    def correlated(shape, weights, offset, noise=0.08):
        grey = rng.random((*shape[:3], 1))
        return np.clip(grey * weights + offset + noise * rng.normal(size=shape), 0, 1)

    shape, small = (1, 30, 40, 3), (1, 20, 25, 3)
    cases = [
        (f"style and content of shape {shape}, correlated style colours",
         (correlated(shape, [0.9, 0.6, 0.3], [0.1, 0.2, 0.3]), rng.random(shape))),
        (f"a {small} style and a {shape} content, both with correlated colours",
         (correlated(small, [0.3, 0.8, 0.5], [0.2, 0.1, 0.3]),
          correlated(shape, [0.7, 0.5, 0.8], [0.1, 0.2, 0.0], noise=0.15))),
        ("a reddish (1, 16, 12, 3) style and a bluish (1, 12, 16, 3) content",
         (correlated((1, 16, 12, 3), [0.5, 0.3, 0.2], [0.4, 0.1, 0.1]),
          correlated((1, 12, 16, 3), [0.2, 0.3, 0.5], [0.1, 0.2, 0.4]))),
    ]
    return [(text, tuple(x.astype(np.float32) for x in images)) for text, images in cases]


def check_match_color(fn):
    """Check a learner's match_color(style, content): style's pixels moved to content's
    colour mean and covariance, built from colour_mean_and_covariance and
    symmetric_matrix_power. Notebook 06."""
    _run_check("match_color", fn, nst.match_color, _match_color_cases(), mistakes("match_color"),
               rtol=1e-4, atol=1e-4)


def _masked_cases():
    rng = np.random.default_rng(10)

    def activation(shape):
        return rng.normal(size=shape).astype(np.float32)

    left = np.zeros((12, 20, 1), np.float32)
    left[:, :7] = 1
    first = activation((1, 3, 5, 4))
    soft = (activation((1, 4, 4, 3)), rng.random((8, 8, 1)).astype(np.float32))
    white = (activation((1, 3, 5, 2)), np.ones((6, 10, 1), np.float32))
    on_grid = (activation((1, 4, 6, 5)), rng.random((4, 6, 1)).astype(np.float32))
    return [("a (1, 3, 5, 4), white on the left 7 of 20 columns of a (12, 20, 1) mask",
             (first, left)),
            ("a (1, 4, 4, 3), a soft random (8, 8, 1) mask", soft),
            ("a (1, 3, 5, 2), an all-white (6, 10, 1) mask: style_target(a)", white),
            ("a (1, 4, 6, 5), a soft mask already on its (4, 6) grid", on_grid)]


def check_masked_style_target(fn):
    """Check a learner's masked_style_target(a, mask): (m F)^T F / sum(m), m the mask
    resized to the layer's grid with method="area". Notebook 06."""
    def shape_hint(error):
        text = str(error)
        if isinstance(error, (ValueError, tf.errors.InvalidArgumentError)) and any(
                word in text for word in ("shape", "Shape", "Dimensions", "dimension")):
            return ("resize the mask first, to the layer's grid (n_H, n_W), with "
                    'tf.image.resize and its "area" method: the mask has the image\'s size, '
                    "the activation a smaller one.")
        return None

    _run_check("masked_style_target", fn, nst.masked_style_target, _masked_cases(),
               mistakes("masked_style_target"), error_hint=shape_hint)


# Notebook 07: fast style transfer (Johnson et al. 2016). The checks run the learner's code on
# tiny problems (a stand-in for VGG19, networks of a few hundred weights), in seconds.

def _instance_norm_cases():
    """Batches whose images and channels each have their own mean and spread, so that
    statistics over the wrong axes show; a nearly flat channel (variance about 1e-4), where
    epsilon's size and place show; an epsilon passed in; an exactly flat channel."""
    rng = np.random.default_rng(20)

    def spread_out(shape):
        scale = rng.uniform(0.3, 3.0, (shape[0], 1, 1, shape[3]))
        return rng.normal(size=shape) * scale + rng.normal(0.0, 2.0, scale.shape)

    nearly_flat, flat = spread_out((2, 6, 5, 3)), spread_out((2, 4, 5, 2))
    # Near 0, so that a variance taken as E[x^2] - E[x]^2 keeps its precision.
    nearly_flat[0, :, :, 1] = 0.02 + 0.01 * rng.normal(size=(6, 5))
    flat[1, :, :, 0] = 0.5
    cases = [("a batch of 2 images of shape (5, 7, 3)", (spread_out((2, 5, 7, 3)),)),
             ("a batch of 3 images of shape (4, 6, 5)", (spread_out((3, 4, 6, 5)),)),
             ("a nearly flat channel (variance about 1e-4)", (nearly_flat,)),
             ("epsilon=0.1 passed in", (0.2 * spread_out((1, 4, 4, 2)), 0.1)),
             ("an exactly flat channel (0 there, not NaN)", (flat,))]
    return [(text, (x.astype(np.float32), *rest)) for text, (x, *rest) in cases]


def check_instance_norm(fn):
    """Check a learner's instance_norm(x, epsilon=1e-5): (x - mean) / sqrt(variance +
    epsilon), per image and per channel, over the positions. Notebook 07."""
    def shape_hint(error):
        if "Incompatible shapes" in str(error) or "Dimensions must be equal" in str(error):
            return ("keep the reduced axes (keepdims=True): a mean of shape (batch, 1, 1, n_C) "
                    "lines up with x, one of shape (batch, n_C) does not.")
        return None

    _run_check("instance_norm", fn, nst.instance_norm, _instance_norm_cases(),
               mistakes("instance_norm"), atol=1e-5, error_hint=shape_hint,
               describe=lambda value: f"values from {value.min():.4g} to {value.max():.4g}")


def _two_blocks(block, channels):
    """Two blocks in a row, named "first" and "second": a block that ignores its name
    repeats layer names, which Keras refuses (the network has five blocks)."""
    import keras

    x = keras.Input((None, None, channels))
    return keras.Model(x, block(block(x, channels, name="first"), channels, name="second"))


def _set_random_weights(model, seed):
    """Weights of a trained network's sizes: kernels of spread 1 / sqrt(fan-in), the norms'
    scales near 1 and their offsets near 0, so that a ReLU in the wrong place cuts."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        shape = tuple(weight.shape)
        value = (rng.normal(size=shape) / np.sqrt(np.prod(shape[:-1])) if len(shape) > 1
                 else ("gamma" in weight.path) + 0.3 * rng.normal(size=shape))
        weight.assign(value.astype(np.float32))


def _copy_weights(source, target):
    """target's weights from source's, matched by shape, in order within each shape: a block
    of raw Keras layers in the reference's order gets the reference's weights."""
    by_shape = {}
    for weight in source.weights:
        by_shape.setdefault(tuple(weight.shape), []).append(weight)
    for weight in target.weights:
        weight.assign(by_shape[tuple(weight.shape)].pop(0))


def _check_block_weights(model, reference, channels):
    """The learner's two blocks have the reference's weights (by shape), or a hint."""
    import keras

    name = "residual_block"
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers):
        raise AssertionError(
            f"{name} uses batch normalisation. Hint: normalise each image on its own, with "
            "instance normalisation (nst.conv_layer does it): batch statistics mix the "
            "photos of a batch, and a single photo has none to speak of.")
    shapes = sorted(tuple(weight.shape) for weight in model.weights)
    if shapes == sorted(tuple(weight.shape) for weight in reference.weights):
        return
    count, expected = model.count_params(), reference.count_params()
    convolutions = 4 * (9 * channels**2 + channels)  # two blocks of two 3x3 convolutions
    hint = {expected // 2: "a block has two conv_layer, 3x3, both of `channels` filters; "
                           "yours has one.",
            convolutions: "follow each convolution with instance normalisation, as "
                          "nst.conv_layer does."}.get(
        count, "two conv_layer, 3x3, of `channels` filters each, and no other layer with "
               "weights.")
    raise AssertionError(f"{name}: two blocks of {channels} channels have {count} weights, "
                         f"expected {expected}. Hint: {hint}")


def _block_cases(channels):
    """Images small enough that their borders are most of them, where reflection and zeros
    differ: random, and a ramp bright at the bottom right."""
    rng = np.random.default_rng(21)
    ramp = np.add.outer(np.linspace(0, 2, 5), np.linspace(0, 3, 6))[None, :, :, None]
    cases = [(f"a batch of 2 random inputs of shape (5, 6, {channels})",
              1.0 + rng.normal(size=(2, 5, 6, channels))),
             ("a ramp, bright at the bottom right, shape (1, 5, 6, "
              f"{channels})", ramp * rng.uniform(0.5, 2.0, channels)),
             (f"one random input of shape (3, 9, {channels})",
              rng.normal(size=(1, 3, 9, channels)))]
    return [(text, (x.astype(np.float32),)) for text, x in cases]


def check_residual_block(fn):
    """Check a learner's residual_block(x, channels, name): two of its blocks in a row, under
    the reference's weights, must give the reference's output on small inputs. Notebook 07."""
    name, channels = "residual_block", 4

    def build_hint(error):
        if "should be unique" in str(error):
            return ("name every layer after the block's `name` (conv_layer's name argument): "
                    "the network has several blocks, and Keras wants every name unique.")
        if "Incompatible shapes" in str(error) or "Dimensions must be equal" in str(error):
            return ("F(x) must keep x's size to be added to it: pad before each 3x3 "
                    "convolution (nst.conv_layer does).")
        return None

    model = _call_learner(name, _two_blocks, (fn, channels), f"two blocks of {channels} "
                          "channels", fn, error_hint=build_hint)
    reference = _two_blocks(nst.residual_block, channels)
    _check_block_weights(model, reference, channels)
    _set_random_weights(reference, seed=22)
    _copy_weights(reference, model)

    def under_the_references_weights(block):
        """A catalogue block as the learner's is checked: two in a row, the reference's
        weights (built at the first call)."""
        built = []

        def output(x):
            if not built:
                built.append(_two_blocks(block, channels))
                _copy_weights(reference, built[0])
            return built[0](x)
        return output

    block_mistakes = [Mistake(under_the_references_weights(mistake.function), mistake.hint)
                      for mistake in mistakes(name)]
    _run_check(name, model, reference, _block_cases(channels), block_mistakes, atol=1e-5,
               error_hint=build_hint, describe=lambda value: f"{reference.count_params()} "
               "weights, output of the input's shape")


class _StandInExtractor:
    """A stand-in for make_feature_extractor, for notebook 07's checks, that runs in
    milliseconds: the course's layers, named as in VGG19, each a ReLU of a fixed random 3x3
    convolution of the one before with a few channels (more the deeper), average-pooled to
    half size at each new block as VGG19 is. Each image of a batch is mapped on its own."""

    def __init__(self):
        wanted = {nst.CONTENT_LAYER, *(name for name, _ in nst.STYLE_LAYERS)}
        self.layer_names = [name for name in VGG19_CONV_LAYERS if name in wanted]
        rng, channels, self.kernels = np.random.default_rng(23), 3, []
        for width, _ in enumerate(self.layer_names, start=4):
            kernel = rng.normal(size=(3, 3, channels, width)) * 2.0 / np.sqrt(9 * channels)
            self.kernels.append(tf.constant(kernel, tf.float32))
            channels = width

    def __call__(self, images):
        # Scaled up, as VGG19's input is to 0-255, so that the costs are of order 1.
        x, block, features = 10.0 * tf.convert_to_tensor(images, tf.float32), 1, {}
        for name, kernel in zip(self.layer_names, self.kernels, strict=True):
            for _ in range(_block_number(name) - block):
                x = tf.nn.avg_pool2d(x, 2, 2, "VALID")
            block = _block_number(name)
            x = features[name] = tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME"))
        return features


def _block_number(layer):  # "block4_conv2" -> 4
    return int(layer.split("_")[0].removeprefix("block"))


def _photo_batch(rng, count, height, width):
    """Images unlike each other (each channel of each its own gamma curve), so that a cost
    that mixes the images of a batch shows."""
    gamma = rng.uniform(0.3, 3.0, (count, 1, 1, 3))
    return (rng.random((count, height, width, 3)) ** gamma).astype(np.float32)


def _perceptual_cases(extractor):
    rng = np.random.default_rng(24)
    painting = _photo_batch(rng, 1, 20, 28)
    targets = {name: value.numpy()
               for name, value in nst.batch_style_targets(painting, extractor).items()}
    layers = [("block1_conv1", 0.5), ("block3_conv1", 0.3), ("block5_conv1", 0.2)]
    same = _photo_batch(rng, 2, 16, 16)
    return [
        ("3 photos of 16 x 24 px and their pictures, the course's layers",
         (_photo_batch(rng, 3, 16, 24), _photo_batch(rng, 3, 16, 24), targets, extractor)),
        ("2 photos of 24 x 16 px, style layers block1_conv1, block3_conv1, block5_conv1 "
         "weighted 0.5, 0.3, 0.2, content at block3_conv1",
         (_photo_batch(rng, 2, 24, 16), _photo_batch(rng, 2, 24, 16), targets, extractor,
          layers, "block3_conv1")),
        ("2 pictures equal to their photos (J_content = 0)", (same, same, targets, extractor)),
        ("one photo of 32 x 32 px",
         (_photo_batch(rng, 1, 32, 32), _photo_batch(rng, 1, 32, 32), targets, extractor)),
    ]


def _joined_costs(name, names):
    """The output= of _run_check for a tuple of scalar costs named `names`: its structure
    checked, with a hint, then joined into one tensor."""
    listed = f"({', '.join(names)})"

    def joined(result, description):
        where = f"on {description}"
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            raise AssertionError(f"{name} returned {type(result).__name__} {where}. Hint: "
                                 f"return {listed}.")
        for what, value in zip(names, result, strict=True):
            if not isinstance(value, tf.Tensor):
                raise AssertionError(
                    f"{name}'s {what} is a {type(value).__name__}, not a tf.Tensor, {where}. "
                    "Hint: compute with TensorFlow operations (tf.reduce_sum, tf.matmul).")
            if value.shape.rank != 0:
                raise AssertionError(
                    f"{name}'s {what} has shape {tuple(value.shape)} {where}. Hint: one "
                    "number for the batch: the mean of its images' costs.")
        return tf.stack([tf.cast(value, tf.float32) for value in result])
    return joined


def check_batch_perceptual_costs(fn):
    """Check a learner's batch_perceptual_costs(photos, pictures, style_targets, extractor,
    style_layers, content_layer) -> (J_content, J_style), each the mean over the batch of
    notebooks 02's and 03's costs, on a stand-in for VGG19. Notebook 07."""
    def batch_hint(error):
        if "expected one image" in str(error):
            return ("the costs of notebooks 02 and 03 and style_target take one image, "
                    "(1, n_H, n_W, n_C); a batch holds several: compute every image's costs "
                    "at once (tf.matmul multiplies batches of matrices), or hand them one "
                    "image at a time.")
        if isinstance(error, KeyError):
            return ("look the layers up by the names in style_layers and content_layer, the "
                    "arguments.")
        return None

    _run_check("batch_perceptual_costs", fn, nst.batch_perceptual_costs,
               _perceptual_cases(_StandInExtractor()), mistakes("batch_perceptual_costs"),
               error_hint=batch_hint,
               output=_joined_costs("batch_perceptual_costs", ("J_content", "J_style")),
               describe=lambda value: f"J_content {value[0]:.5g}, J_style {value[1]:.5g}")


class _FastTrainingProblem:
    """A tiny training problem for check_fast_train_step: a network of two convolutions with
    fixed weights (a step does not depend on the architecture, and tracing a small one is
    quick), a batch of two photos, a painting's style targets, all on the stand-in
    extractor; SGD, whose step is the gradient times the learning rate (Adam's would turn the
    rounding noise of near-zero gradients into full steps)."""

    # The three terms of J of about the same size, and J 15% lower after a step.
    RATE, ALPHA, BETA, TV_WEIGHT = 0.001, 10.0, 0.1, 20.0

    def __init__(self):
        import keras

        rng = np.random.default_rng(25)
        self.extractor = _StandInExtractor()
        self.photos = tf.constant(_photo_batch(rng, 2, 16, 20))
        self.targets = nst.batch_style_targets(_photo_batch(rng, 1, 24, 24), self.extractor)
        photo = keras.Input((None, None, 3))
        hidden = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(photo)
        self.network = keras.Model(
            photo, keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(hidden))
        _set_random_weights(self.network, seed=26)
        self.start = [weight.numpy() for weight in self.network.weights]

    def two_steps(self, step, compiled):
        """What two steps of `step` return, and the trainable weights after them."""
        import keras

        for weight, value in zip(self.network.weights, self.start, strict=True):
            weight.assign(value)
        optimizer = keras.optimizers.SGD(learning_rate=self.RATE)
        step = tf.function(step) if compiled else step
        results = [step(self.network, self.photos, self.targets, self.extractor, optimizer,
                        self.ALPHA, self.BETA, self.TV_WEIGHT) for _ in range(2)]
        return results, self.weights()

    def weights(self):
        return np.concatenate([np.ravel(weight) for weight in
                               self.network.trainable_variables]).astype(np.float64)

    def costs(self, step, compiled):  # of a step known to return three scalars
        results, weights = self.two_steps(step, compiled)
        return np.array([[float(cost) for cost in result] for result in results]), weights


def _fast_step_costs(results, description):
    """Two steps' (J, J_content, J_style) as a (2, 3) array, or a hint on their form."""
    joined = _joined_costs("fast_train_step", ("J", "J_content", "J_style"))
    return np.array([joined(result, description).numpy() for result in results], np.float64)


def check_fast_train_step(fn):
    """Check a learner's fast_train_step(network, photos, style_targets, extractor,
    optimizer, alpha, beta, tv_weight): two steps from the same weights must return the
    reference's costs and leave the reference's weights, eagerly and inside tf.function.
    On a network of two convolutions and a stand-in for VGG19. Notebook 07."""
    name, problem = "fast_train_step", _FastTrainingProblem()

    def gradient_hint(error):
        text = str(error)
        if "NoneType" in text:
            return ("tape.gradient gave None: take the gradient of J with respect to "
                    "network.trainable_variables, not the photos (the tape follows only "
                    "what is computed under it from variables).")
        if "No gradients provided" in text:
            return ("no weight of the network got a gradient: call the network on the "
                    "photos inside the `with tf.GradientTape()` block, so that the tape "
                    "sees the pictures come from its weights.")
        if "shape" in text:
            return ("the gradients must have the weights' shapes: take them with respect to "
                    "network.trainable_variables, not the pictures or the photos.")
        return None

    start = problem.weights()
    expected, expected_weights = problem.costs(nst.fast_train_step, compiled=False)
    step_size = np.linalg.norm(expected_weights - start)
    for mode, compiled in (("", False), (" inside tf.function", True)):
        description = f"two steps{mode}"
        results, weights = _call_learner(name, problem.two_steps, (fn, compiled), description,
                                         fn, error_hint=gradient_hint)
        costs = _fast_step_costs(results, description)

        def matches(model_costs, model_weights, costs=costs, weights=weights):
            return (np.allclose(costs, model_costs, rtol=1e-4)
                    and np.linalg.norm(weights - model_weights) <= 1e-3 * step_size)

        if matches(expected, expected_weights):
            continue
        if np.allclose(weights, start):
            raise AssertionError(f"{name} left the network's weights unchanged on "
                                 f"{description}. Hint: hand the gradients to the "
                                 "optimiser (its apply_gradients method).")
        for mistake in mistakes(name):
            if matches(*problem.costs(mistake.function, compiled)):
                raise AssertionError(f"{name} is wrong on {description}. Hint: "
                                     f"{mistake.hint}")
        raise AssertionError(
            f"{name} is wrong on {description}: expected costs {expected.tolist()}, got "
            f"{costs.tolist()}. Hint: J = total_cost(J_content, J_style, alpha, beta) + "
            "tv_weight * total_variation(pictures), its gradient with respect to "
            "network.trainable_variables applied by the optimiser.")
    _print_ok(name, "two SGD steps of a tiny network, eager and tf.function",
              f"J {expected[0, 0]:.5g} then {expected[1, 0]:.5g}")


# Notebook 08: a stopping rule for a run (on_evaluation collects the costs, should_stop asks).

def _plateau_cases():
    """(description, costs, patience, tolerance): hand-made runs of costs, chosen so that
    every plateau_reached Mistake of nst_mistakes answers some of them wrongly, and no two
    answer all of them alike."""
    def lbfgs_like(count):  # costs that fall ever more slowly, as an L-BFGS run's do
        return [1e7 * (1 + 30 / (k + 1)) for k in range(count)]

    return [
        ("2 costs, patience 3", [10.0, 9.0], 3, 0.01),
        ("exactly patience costs", [10.0, 9.0, 8.0], 3, 0.01),
        ("a steady fall of 10% a step", [100.0, 90.0, 81.0, 72.9, 65.61], 2, 0.01),
        ("an exact plateau", [100.0, 60.0, 50.0, 50.0, 50.0], 2, 0.01),
        ("a slow fall, just under the tolerance", [100.0, 80.0, 64.0, 63.5, 63.2], 2, 0.02),
        ("a slow fall, just over the tolerance", [100.0, 80.0, 64.0, 62.0, 61.5], 2, 0.02),
        ("a drop of exactly the tolerance", [128.0, 64.0, 56.0, 48.0], 2, 0.25),
        ("a rise", [50.0, 40.0, 30.0, 35.0, 36.0], 2, 0.01),
        ("a new best, then a little up", [100.0, 50.0, 40.0, 30.0, 39.8], 2, 0.1),
        ("ups and downs, the best well before the window", [100.0, 40.0, 60.0, 45.0, 44.0],
         2, 0.05),
        ("small costs falling fast", [0.01, 0.005, 0.0025, 0.00125], 2, 0.1),
        ("large costs falling slowly", [1e6, 9e5, 8.99e5, 8.98e5], 2, 0.01),
        ("a fall of 9% against a tolerance of 9.5%", [120.0, 100.0, 95.0, 91.0], 2, 0.095),
        ("patience 3, a slow fall", [100.0, 90.0, 89.5, 89.2, 89.0], 3, 0.02),
        ("patience 3, a faster fall", [100.0, 90.0, 89.5, 89.2, 89.0], 3, 0.01),
        ("60 costs of an L-BFGS-like run", lbfgs_like(60), 10, 0.05),
        ("120 costs of an L-BFGS-like run", lbfgs_like(120), 10, 0.05),
    ]


def check_plateau_reached(fn):
    """Check a learner's plateau_reached(costs, patience, tolerance) on hand-made runs of
    costs: the same answer as the reference on each, a bool, costs left as they were. A
    wrong version's answers, taken together, name its mistake. Notebook 08."""
    def empty_hint(error):
        if isinstance(error, (ValueError, IndexError)):
            return ("with patience costs or fewer, nothing comes before the window (min of "
                    "an empty list): return False first.")
        return None

    def answers(rule):
        found = []
        for _, costs, patience, tolerance in cases:
            try:
                found.append(bool(rule(list(costs), patience, tolerance)))
            except Exception:
                found.append(None)
        return found

    cases = _plateau_cases()
    expected = [nst.plateau_reached(list(costs), patience, tolerance)
                for _, costs, patience, tolerance in cases]
    got = []
    for case in cases:
        _, costs, patience, tolerance = case
        description = _plateau_case_text(case)
        given = list(costs)
        answer = _call_learner("plateau_reached", fn, (given, patience, tolerance),
                               description, error_hint=empty_hint)
        if given != costs:
            raise AssertionError(
                f"plateau_reached changed costs on {description}. Hint: only read costs: the "
                "run's on_evaluation keeps adding to that list while it goes on (slices and "
                "min() leave it as it is; pop, sort and del change it).")
        if not isinstance(answer, (bool, np.bool_)):
            raise AssertionError(
                f"plateau_reached returned {answer!r} (a {type(answer).__name__}) on "
                f"{description}. Hint: return True or False.")
        got.append(bool(answer))
    if got != expected:
        wrong = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
        where = (f"{_plateau_case_text(cases[wrong])}: expected {expected[wrong]}, got "
                 f"{got[wrong]}")
        for mistake in mistakes("plateau_reached"):
            if answers(mistake.function) == got:
                raise AssertionError(f"plateau_reached is wrong on {where}. Hint: "
                                     f"{mistake.hint}")
        raise AssertionError(f"plateau_reached is wrong on {where}.")
    _print_ok("plateau_reached", f"{len(cases)} hand-made runs of costs",
              f"{sum(expected)} of them at a plateau")


def _plateau_case_text(case):
    """A case of check_plateau_reached for a message: its costs in full when there are few,
    else the first two and the last two."""
    description, costs, patience, tolerance = case
    shown = [f"{cost:.6g}" for cost in costs]
    if len(shown) > 5:
        shown = [*shown[:2], f"... {len(shown) - 4} more ...", *shown[-2:]]
    return (f"{description} (costs [{', '.join(shown)}], patience {patience}, "
            f"tolerance {tolerance:g})")


def your_function(name, notebook):
    """The function `name` you wrote in `notebook`, read from its saved file, if it passes
    its check; otherwise the reference nst.<name>, with a line saying why. Notebook 04 runs
    your own costs with it.

    The notebook is looked for in the current folder, where Jupyter runs the notebook that
    asks (save the other one first: the file on disk is read). Its cells that only define
    functions run in order in a fresh namespace, so that, say, your
    compute_layer_style_cost finds your gram_matrix.
    """
    import ast
    import linecache

    path = Path.cwd() / notebook  # Jupyter runs a notebook in its own folder
    namespace = {"tf": tf, "np": np, "nst": nst}
    try:
        if not path.is_file():
            raise FileNotFoundError(f"{notebook} not found in {path.parent}")
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            if source and all(isinstance(node, ast.FunctionDef)
                              for node in ast.parse(source).body):
                filename = f"<{path.name}, cell {index}>"
                # AutoGraph reads a function's source to compile it: let it find this one.
                linecache.cache[filename] = (len(source), None, source.splitlines(True),
                                             filename)
                exec(compile(source, filename, "exec"), namespace)
        globals()[f"check_{name}"](namespace[name])
    except Exception as error:  # a stub, a wrong answer, an unsaved or missing notebook
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"{name}: using the reference nst.{name}; yours is not ready ({reason})")
        return getattr(nst, name)
    print(f"{name}: using yours, from {path.name}")
    return namespace[name]
