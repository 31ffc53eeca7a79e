"""Exercise checks: run a learner's function against the reference, explain mistakes.

Every `nst.check_<name>(fn)` of the notebooks lives here; nst_helpers, the notebooks' one
module, imports them by name. No notebook teaches this machinery; what it does for a learner
is described in STYLE.md's "Exercises and checks": compare with the reference on hand-made
and random inputs, eagerly and inside tf.function, print one stable line on success, and on
failure name the likely mistake from a catalogue of wrong answers (tests/test_checks.py
proves that each check rejects each of them). A guard fails a check whose function calls the
reference it should write, or changes the course's modules while it runs.
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

    mistakes: [(wrong implementation, hint)], tried in order when a value is wrong, so the
    message names the likely error. error_hint(error): a hint for an exception the learner's
    code raises, or None. output(value, description): for a function that returns several
    values, checks their structure (raising AssertionError with a hint) and joins them into
    one tensor, for the learner's and the reference's results alike; the mistakes then model
    the joined value. describe(value): the reference's first value as printed on success.
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
                         numpy_allowed=not graph)
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
             numpy_allowed=False):
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
    numpy_args = tf.nest.map_structure(
        lambda x: x.numpy() if isinstance(x, tf.Tensor) else x, args)
    for mistake, hint in mistakes:
        wrong = np.asarray(mistake(*numpy_args))
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=rtol, atol=atol):
            raise AssertionError(f"{name} is wrong on {description}. Hint: {hint}")
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


def _dims(a):
    return tuple(float(d) for d in np.shape(a)[1:])


def _wrong_unroll(a):  # reshape straight to (n_C, n_H * n_W): channels get mixed
    return np.reshape(np.asarray(a), (np.shape(a)[-1], -1))


def _sum_squares(x):
    return np.sum(np.square(np.asarray(x, np.float64)))


def check_compute_content_cost(fn):
    """Check a learner's compute_content_cost(a_C, a_G). Notebook 02."""
    def four_n(a):
        n_H, n_W, n_C = _dims(a)
        return 4 * n_H * n_W * n_C

    mistakes = [
        (lambda a_C, a_G: _sum_squares(a_C - a_G) / (four_n(a_G) / 4),
         "you divided by n_H n_W n_C (or took a mean): divide by 4 n_H n_W n_C."),
        (lambda a_C, a_G: _sum_squares(a_C - a_G),
         "divide the sum of squares by 4 n_H n_W n_C."),
        (lambda a_C, a_G: np.sum(np.abs(np.asarray(a_C) - a_G)) / four_n(a_G),
         "square the differences (you summed their absolute values)."),
        (lambda a_C, a_G: np.sum(np.asarray(a_C) - a_G) / four_n(a_G),
         "square the differences before summing them."),
        (lambda a_C, a_G: np.sqrt(_sum_squares(a_C - a_G)) / four_n(a_G),
         "the cost uses the squared norm: no square root."),
        (lambda a_C, a_G: _sum_squares(a_C - a_G) / (2 * four_n(a_G) / 4),
         "the constant is 1 / (4 n_H n_W n_C), not 1 / (2 ...)."),
        (lambda a_C, a_G: _sum_squares(a_C - a_G) / 4 * (four_n(a_G) / 4),
         "you multiplied by n_H n_W n_C: x / 4 * n means (x / 4) * n, so put the whole "
         "denominator in brackets."),
        (lambda a_C, a_G: _sum_squares(a_C - a_G) / (4 * np.prod(np.shape(a_G)[:3])),
         "the shape is (1, n_H, n_W, n_C): the first size is the batch (one image), so "
         "n_H, n_W, n_C are the last three."),
        (lambda a_C, a_G: np.sum(np.square(np.asarray(a_C) - a_G), axis=0) / four_n(a_G),
         "sum over every entry, to one number: Python's sum() (like an axis argument) adds "
         "along one axis only."),
    ]

    def int32_hint(error):
        if "int32" in str(error):
            return ("tf.shape gives int32 sizes, and TensorFlow does not divide a float32 "
                    "tensor by an int32 one: cast the sizes with tf.cast(..., tf.float32), or "
                    "take them from the .shape attribute (Python integers).")
        return None

    _run_check("compute_content_cost", fn, compute_content_cost, _activation_cases(), mistakes,
               error_hint=int32_hint)


def _unrolled_cases():
    rng = np.random.default_rng(1)
    cases = [(f"a random A of shape {shape}", (rng.normal(size=shape).astype(np.float32),))
             for shape in [(3, 7), (5, 2), (1, 4)]]
    cases.append(("A = [[1, 2, 3], [0, 1, -1]]", (np.array([[1, 2, 3], [0, 1, -1]], np.float32),)))
    return cases


def check_gram_matrix(fn):
    """Check a learner's gram_matrix(A), A of shape (n_C, n_H * n_W). Notebook 03."""
    mistakes = [
        (lambda A: np.asarray(A).T @ A,
         "G = A A^T has shape (n_C, n_C): you computed A^T A (positions x positions)."),
        (lambda A: np.asarray(A) * A,
         "use a matrix product (tf.matmul), not an element-wise product (*)."),
        (lambda A: np.asarray(A) @ A.T / np.shape(A)[1],
         "the Gram matrix is unnormalised: do not divide by the number of positions."),
    ]
    _run_check("gram_matrix", fn, gram_matrix, _unrolled_cases(), mistakes)


def _numpy_layer_style_cost(a_S, a_G, unroll_fn, gram_fn, denominator):
    G_S, G_G = gram_fn(unroll_fn(a_S)), gram_fn(unroll_fn(a_G))
    return _sum_squares(G_S - G_G) / denominator(*_dims(a_G))


def check_compute_layer_style_cost(fn):
    """Check a learner's compute_layer_style_cost(a_S, a_G). Notebook 03."""
    def right_unroll(a):
        return np.asarray(a).reshape(-1, np.shape(a)[-1]).T

    def gram(A):
        return A.astype(np.float64) @ A.T

    def formula(n_H, n_W, n_C):
        return 4 * n_C**2 * (n_H * n_W) ** 2

    def int32_formula(n_H, n_W, n_C):  # tf.shape's sizes multiplied before a cast
        n_H, n_W, n_C = (np.int32(n) for n in (n_H, n_W, n_C))
        with np.errstate(over="ignore"):
            return float(np.int32(4) * n_C * n_C * (n_H * n_W) * (n_H * n_W))

    def variant(unroll_fn=right_unroll, gram_fn=gram, denominator=formula):
        return lambda a_S, a_G: _numpy_layer_style_cost(a_S, a_G, unroll_fn, gram_fn, denominator)

    mistakes = [
        (variant(unroll_fn=_wrong_unroll),
         "channels got mixed: in memory the channel index runs fastest, so a reshape "
         "straight to (n_C, n_H * n_W) puts several channels in each row (see the "
         "(1, 2, 2, 3) example). Make one row per position first, then turn rows into "
         "columns."),
        (variant(gram_fn=lambda A: A.T.astype(np.float64) @ A),
         "your Gram matrices are positions x positions: unroll to one row per channel, "
         "(n_C, n_H * n_W), and take A A^T (n_C x n_C), not A^T A. A reshape to "
         "(n_H * n_W, n_C) alone gives one row per position."),
        (variant(denominator=int32_formula),
         "the denominator overflowed: sizes from tf.shape are int32, and 4 n_C^2 (n_H n_W)^2 "
         "passes 2^31 at real sizes. Use a_G.shape (Python ints) or cast the sizes to "
         "float32 before multiplying."),
        (variant(denominator=lambda n_H, n_W, n_C: 4 * n_C * n_H * n_W),
         "the constant is 1 / (4 n_C^2 (n_H n_W)^2): both factors are squared."),
        (variant(denominator=lambda n_H, n_W, n_C: 4 * n_C**2 * n_H * n_W),
         "the constant is 1 / (4 n_C^2 (n_H n_W)^2): square (n_H n_W) too."),
        (variant(denominator=lambda n_H, n_W, n_C: 4 * n_C * (n_H * n_W) ** 2),
         "the constant is 1 / (4 n_C^2 (n_H n_W)^2): square n_C too."),
        (variant(denominator=lambda n_H, n_W, n_C: n_C**2 * (n_H * n_W) ** 2),
         "you forgot the 4 (or took a mean over the Gram matrix): divide by "
         "4 n_C^2 (n_H n_W)^2."),
        (variant(denominator=lambda n_H, n_W, n_C: 1.0),
         "divide the sum of squares by 4 n_C^2 (n_H n_W)^2."),
        (lambda a_S, a_G: np.sum(np.abs(gram(right_unroll(a_S)) - gram(right_unroll(a_G))))
         / formula(*_dims(a_G)),
         "square the differences of the Gram matrices (you summed absolute values)."),
        (lambda a_S, a_G: _sum_squares(np.asarray(a_S) - a_G) / formula(*_dims(a_G)),
         "compare the Gram matrices of a_S and a_G, not the activations themselves."),
    ]
    _run_check("compute_layer_style_cost", fn, compute_layer_style_cost, _activation_cases(),
               mistakes)


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

    def per_layer(a_S, a_G, style_layers):
        return [(float(compute_layer_style_cost(a_S[n], a_G[n])), w) for n, w in style_layers]

    mistakes = [
        (lambda *args: sum(cost for cost, _ in per_layer(*args)),
         "multiply each layer's cost by its weight from style_layers."),
        (lambda *args: np.mean([w * cost for cost, w in per_layer(*args)]),
         "add the weighted layer costs up; do not average them."),
        (lambda *args: np.prod(per_layer(*args)[-1]),
         "sum over every layer in style_layers, not only the last one."),
        (lambda *args: np.prod(per_layer(*args)[0]),
         "sum over every layer in style_layers, not only the first one."),
        (lambda a_S, a_G, style_layers: sum(
            weight * float(compute_layer_style_cost(a_S[name], a_G[name]))
            for (_, weight), name in zip(style_layers, a_S, strict=False)),
         "look each layer's activations up by its name (style_activations[name]): the "
         "dictionaries may hold other layers, in another order than style_layers."),
    ]

    def key_hint(error):
        if not isinstance(error, KeyError):
            return None
        if error.args and error.args[0] in dict(nst.STYLE_LAYERS):
            return ("take the layers from the style_layers argument, not nst.STYLE_LAYERS: "
                    "these activations have other layer names.")
        return ("take the layers from style_layers: the dictionaries may hold layers that "
                "style_layers does not list.")

    _run_check("compute_style_cost", fn, compute_style_cost, cases, mistakes,
               error_hint=key_hint)


def check_total_cost(fn):
    """Check a learner's total_cost(J_content, J_style, alpha, beta), whose defaults are
    nst.DEFAULT_ALPHA and nst.DEFAULT_BETA. Notebook 04."""
    def reference(J_content, J_style, alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_BETA):
        return total_cost(tf.constant(J_content), tf.constant(J_style), alpha, beta)

    cases = [("J_content=2, J_style=3 with the defaults", (2.0, 3.0)),
             ("J_content=0.5, J_style=7, alpha=1, beta=100", (0.5, 7.0, 1.0, 100.0)),
             ("J_content=4, J_style=0, alpha=3, beta=2", (4.0, 0.0, 3.0, 2.0))]
    cases = [(text, tuple(tf.constant(v) for v in args)) for text, args in cases]

    def call_with_defaults(f):
        return lambda J_content, J_style, alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_BETA: f(
            float(J_content), float(J_style), float(alpha), float(beta))

    mistakes = [
        (call_with_defaults(lambda c, s, a, b: b * c + a * s),
         "alpha and beta are swapped: alpha weighs J_content, beta weighs J_style."),
        (call_with_defaults(lambda c, s, a, b: 10 * c + 0.04 * s),
         "use the alpha and beta passed in, not the numbers 10 and 0.04."),
        (call_with_defaults(lambda c, s, a, b: (a * c + b * s) / (a + b)),
         "J = alpha J_content + beta J_style, without dividing by alpha + beta."),
        (call_with_defaults(lambda c, s, a, b: c + s),
         "weigh the costs: J = alpha J_content + beta J_style."),
    ]
    _run_check("total_cost", fn, reference, cases, mistakes)


def check_total_variation(fn):
    """Check a learner's total_variation(image): the mean absolute difference between
    vertical neighbours plus the mean between horizontal ones. Notebook 05."""
    rng = np.random.default_rng(3)
    cases = [(f"a random image of shape {shape}", (rng.random(shape).astype(np.float32),))
             for shape in [(1, 5, 7, 3), (1, 9, 4, 3)]]
    cases.append(("a flat grey image (0)", (np.full((1, 4, 4, 3), 0.5, np.float32),)))

    def parts(image):
        image = np.asarray(image, np.float64)
        return np.diff(image, axis=1), np.diff(image, axis=2)

    def wrapped(image):  # differences with np.roll / tf.roll: the last row meets the first
        image = np.asarray(image, np.float64)
        return sum(np.mean(np.abs(image - np.roll(image, 1, axis=axis))) for axis in (1, 2))

    def isotropic(image):  # the length of the local gradient, sqrt(dx^2 + dy^2)
        down, across = parts(image)
        return np.mean(np.sqrt(np.square(down[:, :, :-1]) + np.square(across[:, :-1])))

    mistakes = [
        (lambda image: sum(np.mean(np.square(d)) for d in parts(image)),
         "use absolute differences, not squared ones."),
        (lambda image: sum(np.sum(np.abs(d)) for d in parts(image)),
         "take the mean of each direction's absolute differences, not the sum."),
        (lambda image: np.reshape(sum(np.sum(np.abs(d)) for d in parts(image)), (1,)),
         "that is tf.image.total_variation: a sum per image, shape (1,). Take the mean of "
         "each direction's absolute differences and return one number."),
        (lambda image: np.mean(np.abs(parts(image)[0])),
         "add both directions: down (axis 1) and across (axis 2)."),
        (lambda image: np.mean(np.abs(parts(image)[1])),
         "add both directions: down (axis 1) and across (axis 2)."),
        (lambda image: sum(np.mean(np.abs(d)) for d in parts(image)) / 2,
         "add the two directions' means; do not average them."),
        (lambda image: sum(np.sum(np.abs(d)) for d in parts(image)) / np.size(image),
         "divide each direction's sum by its own number of pairs ((n_H - 1) n_W n_C down, "
         "n_H (n_W - 1) n_C across), not by the number of pixel values."),
        (lambda image: np.mean(np.concatenate([np.abs(d).ravel() for d in parts(image)])),
         "take each direction's mean on its own, then add the two: one mean over the pairs "
         "of both directions is a different number."),
        (wrapped, "compare neighbours inside the image only: a roll wraps the last row (or "
         "column) around to meet the first."),
        (isotropic, "the course's total variation is anisotropic: the absolute differences "
         "of each direction on their own, not the length sqrt(dx^2 + dy^2)."),
    ]
    _run_check("total_variation", fn, total_variation, cases, mistakes)


def check_count_conv_params(fn):
    """Check a learner's count_conv_params against Keras's own count. Notebook 01."""
    import keras

    vgg = keras.applications.VGG19(include_top=False, weights=None)
    mistakes = [  # (wrong count of (k, c_in, c_out), hint)
        (lambda k, c_in, c_out: k * k * c_in * c_out,
         "count the biases too: one per output channel."),
        (lambda k, c_in, c_out: k * k * c_out + c_out,
         "a filter reaches through every input channel: k x k weights for each of the c_in."),
        (lambda k, c_in, c_out: k * c_in * c_out + c_out,
         "a k x k window holds k * k weights per input channel, not k."),
        (lambda k, c_in, c_out: k * k * c_in * c_out + c_in,
         "one bias per filter, that is per output channel, not per input channel."),
        (lambda k, c_in, c_out: k * k * c_in * c_out + 1,
         "one bias per filter, not one for the whole layer."),
    ]
    layers = [(name, vgg.get_layer(name)) for name in VGG19_CONV_LAYERS]
    sizes = {name: (layer.kernel_size[0], layer.input.shape[-1], layer.filters)
             for name, layer in layers}
    counts = {name: _call_learner("count_conv_params", fn, sizes[name], f"layer {name}")
              for name, _ in layers}
    for name, layer in layers:
        if counts[name] != layer.count_params():
            # The mistake that gives every layer's wrong count (block1_conv1 alone, with
            # k = c_in = 3, cannot tell some apart).
            hint = next((hint for wrong, hint in mistakes
                         if all(counts[n] == wrong(*sizes[n]) for n, _ in layers)),
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

    def variant(J=None, clip="after", sign=1.0, returns_after=False, by_hand=False):
        """The reference with one thing changed, to name the mistake of a wrong answer.
        clip: "after" the update (right), None, "start" of the step, or "before" the
        update (after the gradient)."""
        def clipped(generated):
            generated.assign(tf.clip_by_value(generated, 0.0, 1.0))

        def step(generated, compute_costs, optimizer, alpha, beta):
            if clip == "start":
                clipped(generated)
            with tf.GradientTape() as tape:
                J_content, J_style = compute_costs(generated)
                total = (J or total_cost)(J_content, J_style, alpha, beta)
            gradient = sign * tape.gradient(total, generated)
            if clip == "before":
                clipped(generated)
            if by_hand:
                generated.assign_sub(optimizer.learning_rate * gradient)
            else:
                optimizer.apply_gradients([(gradient, generated)])
            if clip == "after":
                clipped(generated)
            return total_cost(*compute_costs(generated), alpha, beta) if returns_after else total
        return step

    late = ("clip the pixels to [0, 1] after the optimiser's update, not before it: the "
            "update is what pushes them out.")
    mistakes = [
        (variant(clip=None), "clip the pixels to [0, 1] after the update, into the variable "
         "itself (its assign method): a clipped tensor bound to the name `generated` leaves "
         "the variable as it was."),
        (variant(clip="start"), late),
        (variant(clip="before"), late),
        (variant(sign=-1.0), "the pixels moved uphill: hand the optimiser the gradient "
         "itself (it subtracts it), not its negative."),
        (variant(J=lambda c, s, a, b: b * c + a * s), "alpha and beta are swapped: alpha "
         "weighs J_content and beta J_style."),
        (variant(J=lambda c, s, a, b: c + s), "weigh the costs: J = alpha J_content + beta "
         "J_style, by total_cost."),
        (variant(returns_after=True), "return the total cost computed under the tape, before "
         "the update."),
        (variant(by_hand=True), "let the optimiser apply the gradient (its apply_gradients "
         "method): Adam's step is not the learning rate times the gradient."),
    ]
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
        for mistake, hint in mistakes:
            wrong_costs, wrong_pixels = two_steps(mistake, compiled)
            if np.allclose(costs, wrong_costs, rtol=1e-5) and np.allclose(
                    pixels, wrong_pixels, atol=1e-5):
                raise AssertionError(f"train_step is wrong on two steps{mode}. Hint: {hint}")
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
    """The cached problem ("problem"), the reference's compiled cost_and_gradient
    ("reference"), or the terms its mistakes are made of ("terms")."""
    key = (what, os.environ.get(nst.WEIGHTS_VARIABLE))
    if key not in _CAPSTONE_CACHE:
        with _output_captured():  # load_vgg19's line, the first time
            _CAPSTONE_CACHE[key] = _capstone_new(what)
    return _CAPSTONE_CACHE[key]


def _capstone_new(what):
    if what == "problem":
        return _CapstoneProblem()
    problem = _capstone("problem")
    if what == "reference":
        return nst.make_cost_and_gradient(problem.content, problem.style, problem.extractor,
                                          CAPSTONE_ALPHA, CAPSTONE_BETA)
    return {name: _capstone_terms(problem, image) for name, image in problem.images.items()}


def _capstone_terms(problem, image):
    """{term: (value, gradient)} at `image`, in float64: J_content and J_style against the
    right targets, and against the swapped ones (the style image's content, the content
    image's style)."""
    features = {"C": problem.extractor(problem.content), "S": problem.extractor(problem.style)}
    image = tf.convert_to_tensor(image)
    terms = {}
    for name, content, style in [("", "C", "S"), ("swapped ", "S", "C")]:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(image)
            a_G = problem.extractor(image)
            J_content = compute_content_cost(features[content][nst.CONTENT_LAYER],
                                             a_G[nst.CONTENT_LAYER])
            J_style = compute_style_cost(features[style], a_G)
        for term, J in [("content", J_content), ("style", J_style)]:
            terms[name + term] = (float(J), tape.gradient(J, image).numpy().astype(np.float64))
    return terms


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
    problem, terms = _capstone("problem"), _capstone("terms")
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
            _compare_cost_and_gradient(result, terms[description], image, description,
                                       alpha, beta)
    _check_extractor_calls(extractor.calls)
    first = next(iter(terms.values()))
    J = alpha * first["content"][0] + beta * first["style"][0]
    _print_ok(name, f"{len(terms)} images of a {problem.size} px problem, targets once, "
              "compiled", f"J at the noisy start: {J:.4g}")


def _compare_cost_and_gradient(result, terms, image, description, alpha, beta):
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

    def combined(kind, a, b, prefix=""):
        content, style = terms[prefix + "content"], terms[prefix + "style"]
        return (a * content[0] + b * style[0]) if kind == 0 else a * content[1] + b * style[1]

    def model(J_weights, gradient_weights, prefix=""):
        return (combined(0, *J_weights, prefix), combined(1, *gradient_weights, prefix))

    right, default = (alpha, beta), (nst.DEFAULT_ALPHA, nst.DEFAULT_BETA)
    expected = model(right, right)
    gradient_of = "your J is right, but the gradient is not J's: take tape.gradient(J, image)"
    mistakes = [
        (model(right, right, "swapped "), "the content and style images are swapped: the "
         "content target comes from content at nst.CONTENT_LAYER, the style targets from "
         "style."),
        (model((beta, alpha), (beta, alpha)), "alpha and beta are swapped: alpha weighs "
         "J_content, beta weighs J_style."),
        (model(default, default), "pass alpha and beta to total_cost: its defaults are "
         "stylize's, nst.DEFAULT_ALPHA and nst.DEFAULT_BETA."),
        (model(right, (1, 0)), f"{gradient_of}, not the gradient of J_content alone."),
        (model(right, (alpha, 0)), f"{gradient_of}, not of alpha * J_content alone."),
        (model(right, (0, 1)), f"{gradient_of}, not the gradient of J_style alone."),
        (model(right, (0, beta)), f"{gradient_of}, not of beta * J_style alone."),
    ]

    def matches(values):
        J_model, gradient_model = values
        return (np.isclose(J, J_model, rtol=CHECK_RTOL) and np.linalg.norm(
            gradient - gradient_model) <= 1e-3 * np.linalg.norm(gradient_model))

    if matches(expected):
        return
    for values, hint in mistakes:
        if matches(values):
            raise AssertionError(f"{name} is wrong {where}. Hint: {hint}")
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


def _times_matrix(matrix):  # NumPy: each pixel, a row vector, times matrix
    return lambda image: np.asarray(image, np.float64) @ np.asarray(matrix, np.float64)


def check_rgb_to_yiq(fn):
    """Check a learner's rgb_to_yiq(image), image (..., 3). Notebook 06."""
    M = nst.RGB_TO_YIQ
    cases = [(text, (image,)) for text, image in _colour_cases(6)]
    mistakes = [
        (_times_matrix(M), "the matrix is not transposed: a pixel is a row of the last "
         "axis, so its YIQ row is x^T M^T, the pixel times the transpose of RGB_TO_YIQ."),
        (lambda image: _times_matrix(M.T)(np.asarray(image)[..., ::-1]),
         "the channels are reversed (BGR): the last axis is R, G, B in that order."),
        (_times_matrix(np.linalg.inv(M).T),
         "you applied the inverse matrix (YIQ to RGB): use RGB_TO_YIQ itself."),
        (_times_matrix(np.linalg.inv(M)),
         "you applied the inverse matrix (YIQ to RGB), untransposed: use RGB_TO_YIQ, "
         "transposed."),
    ]
    _run_check("rgb_to_yiq", fn, nst.rgb_to_yiq, cases, mistakes)


def check_yiq_to_rgb(fn):
    """Check a learner's yiq_to_rgb(image), the inverse of rgb_to_yiq. Notebook 06."""
    M = nst.RGB_TO_YIQ
    M_inverse = np.linalg.inv(np.asarray(M, np.float64))
    cases = [(f"the YIQ of {text[0].lower() + text[1:]}", (nst.rgb_to_yiq(image).numpy(),))
             for text, image in _colour_cases(8)]
    rng = np.random.default_rng(9)
    cases.append(("Y, I and Q alone (out of the RGB range)", (np.eye(3, dtype=np.float32)
                                                                .reshape(1, 1, 3, 3),)))
    cases.append(("random YIQ values of shape (1, 4, 4, 3), out of the RGB range",
                  (rng.normal(size=(1, 4, 4, 3)).astype(np.float32),)))
    mistakes = [
        (_times_matrix(M), "the inverse is not the transpose: RGB_TO_YIQ is not orthogonal. "
         "Compute its inverse matrix and apply that to each pixel, as in rgb_to_yiq."),
        (_times_matrix(M_inverse), "the inverse matrix is not transposed: a pixel is a row "
         "of the last axis, so multiply it by the transpose of the inverse."),
        (_times_matrix(M.T), "that is rgb_to_yiq again: use the inverse of RGB_TO_YIQ."),
        (lambda image: np.clip(_times_matrix(M_inverse.T)(image), 0, 1),
         "do not clip: yiq_to_rgb is the exact inverse of rgb_to_yiq, for every YIQ value; "
         "clip later, where an image is shown or saved."),
        (lambda image: _times_matrix(M_inverse.T)(np.asarray(image)[..., ::-1]),
         "the channels are reversed: the last axis is Y, I, Q in that order."),
    ]
    _run_check("yiq_to_rgb", fn, nst.yiq_to_rgb, cases, mistakes)


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


def _mean_over_covariance(mean, covariance):
    """(mean, covariance) as one (4, 3) array: the mean's row above the covariance."""
    return np.concatenate([np.reshape(mean, (1, 3)), covariance])


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
    def statistics(centre=True, offset=1, epsilon="identity", unroll="pixels", full=True,
                   centre_by=None):
        def model(image):
            image = np.asarray(image, np.float64)
            pixels = image.reshape(-1, 3) if unroll == "pixels" else image.reshape(3, -1).T
            mean = pixels.mean(axis=0)
            centred = pixels - (centre_by(pixels) if centre_by else mean) if centre else pixels
            covariance = centred.T @ centred / (len(pixels) - offset)
            covariance = covariance if full else np.diag(np.diag(covariance))
            added = {"identity": np.eye(3), "none": 0.0, "every entry": np.ones((3, 3))}
            return _mean_over_covariance(mean, covariance + 1e-5 * added[epsilon])
        return model

    mistakes = [
        (statistics(offset=0), "divide by N - 1, as np.cov does, not by N."),
        (statistics(centre=False), "subtract the mean colour from every pixel before the "
         "product: the covariance is of the centred pixels."),
        (statistics(epsilon="none"), "add 1e-5 times the 3 x 3 identity to the "
         "covariance, so that a grey image's has an inverse."),
        (statistics(epsilon="every entry"), "add 1e-5 on the diagonal only (1e-5 I), not "
         "to every entry."),
        (statistics(unroll="channels"), "reshape the image to (N, 3), one row per pixel: a "
         "reshape to (3, N) mixes the channels (the last axis is the colour)."),
        (statistics(full=False), "the covariance is the full 3 x 3 matrix: its off-diagonal "
         "entries say how the channels vary together."),
        (statistics(centre_by=lambda pixels: pixels.mean()), "subtract each channel's own "
         "mean (a (3,) vector), not one mean over all the values."),
    ]

    def describe(value):
        return f"mean {_rounded(value[0])}, covariance {_rounded(value[1:])}"

    def shape_hint(error):  # 1e-5 I added to an (N, N) product
        if "Incompatible shapes" in str(error) or "Dimensions must be equal" in str(error):
            return ("the covariance is channels by channels, (3, 3): transpose the first "
                    "factor of the product, not the second (yours is pixels by pixels).")
        return None

    _run_check("colour_mean_and_covariance", fn, nst.colour_mean_and_covariance,
               _statistics_cases(), mistakes, error_hint=shape_hint, output=_joined_statistics(
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
    def rebuilt(combine):
        def model(matrix, power):  # float32 eigh, as the learner's: the same eigenvectors
            values, vectors = (t.numpy().astype(np.float64) for t in
                               tf.linalg.eigh(tf.constant(matrix, tf.float32)))
            return combine(values, vectors, power)
        return model

    mistakes = [
        (rebuilt(lambda values, V, p: np.diag(values**p)), "put the eigenvectors back: "
         "V diag(lambda^power) V^T; diag(lambda^power) alone is the power in V's basis."),
        (rebuilt(lambda values, V, p: V.T @ np.diag(values**p) @ V), "the eigenvectors are "
         "the columns of V: the order is V diag(lambda^power) V^T, not V^T diag(...) V."),
        (rebuilt(lambda values, V, p: V @ np.diag(values**p) @ V), "transpose the last "
         "factor: V diag(lambda^power) V^T."),
        (rebuilt(lambda values, V, p: V @ np.diag(values * p) @ V.T), "raise the "
         "eigenvalues to the power (lambda^power), do not multiply them by it."),
        (rebuilt(lambda values, V, p: V @ np.diag(values) @ V.T), "raise the eigenvalues to "
         "`power`: V diag(lambda) V^T is the matrix itself."),
        (lambda matrix, power: np.asarray(matrix, np.float64) ** power, "raise the "
         "eigenvalues to the power, not each entry of the matrix."),
    ]
    _run_check("symmetric_matrix_power", fn, nst.symmetric_matrix_power, _symmetric_cases(),
               mistakes)


def _numpy_colour_transfer(style, content, transform, centre=True, clip=True, ddof=1):
    """match_color in NumPy, with A = transform(Sigma_S, Sigma_C): the mistakes' model."""
    def mean_and_covariance(image):
        pixels = np.asarray(image, np.float64).reshape(-1, 3)
        covariance = np.cov(pixels, rowvar=False, ddof=ddof)
        return pixels, pixels.mean(0), covariance + 1e-5 * np.eye(3)

    pixels, mu_S, sigma_S = mean_and_covariance(style)
    _, mu_C, sigma_C = mean_and_covariance(content)
    A = transform(sigma_S, sigma_C)
    moved = (pixels - mu_S) @ A.T + mu_C if centre else pixels @ A.T
    return (np.clip(moved, 0, 1) if clip else moved).reshape(np.shape(style))


def _symmetric_power(matrix, power):
    values, vectors = np.linalg.eigh(matrix)
    return vectors @ np.diag(values**power) @ vectors.T


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
    def variant(transform, **options):
        return lambda style, content: _numpy_colour_transfer(style, content, transform,
                                                             **options)

    def right(S, C):
        return _symmetric_power(C, 0.5) @ _symmetric_power(S, -0.5)

    mistakes = [
        (lambda style, content: variant(right)(content, style),
         "style and content are swapped: move the style's pixels to the content's colours "
         "(the result has the style's shape)."),
        (variant(lambda S, C: C @ np.linalg.inv(S)),
         "take the square roots of the covariances: A = Sigma_C^(1/2) Sigma_S^(-1/2)."),
        (variant(lambda S, C: _symmetric_power(S, -0.5) @ _symmetric_power(C, 0.5)),
         "A is the wrong way round: A = Sigma_C^(1/2) Sigma_S^(-1/2) (first whiten the "
         "style's colours, then give them the content's covariance), and a pixel, a row of "
         "the (N, 3) pixels, is multiplied by A^T (the same factors in the other order)."),
        (variant(lambda S, C: np.eye(3)),
         "that matches the mean only: also move the covariance, x' = A (x - mu_S) + mu_C."),
        (variant(lambda S, C: np.diag(np.sqrt(np.diag(C) / np.diag(S)))),
         "that matches each channel's spread alone: the colours are correlated, so use the "
         "full 3 x 3 covariance matrices."),
        (variant(lambda S, C: np.linalg.cholesky(C) @ np.linalg.inv(np.linalg.cholesky(S))),
         "A uses the symmetric square roots (your symmetric_matrix_power), not a Cholesky "
         "factor."),
        (variant(right, ddof=0),
         "the covariances are divided by N, not N - 1: compute them with your "
         "colour_mean_and_covariance."),
        (variant(right, centre=False),
         "subtract the style's mean colour before applying A, and add the content's after: "
         "x' = A (x - mu_S) + mu_C."),
        (variant(right, clip=False), "clip the result to [0, 1]: it is an image."),
    ]
    _run_check("match_color", fn, nst.match_color, _match_color_cases(), mistakes,
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
    def variant(method="area", weights=(1, 0), divisor="sum"):
        def target(a, mask):
            a, mask = np.asarray(a, np.float64), np.asarray(mask, np.float32)
            grid = tf.image.resize(mask[np.newaxis], a.shape[1:3], method).numpy()
            m = grid.reshape(-1, 1).astype(np.float64)
            F = a.reshape(-1, a.shape[-1])
            scale = {"sum": m.sum(), "positions": F.shape[0], "image sum": mask.sum(),
                     "none": 1.0}[divisor]
            return (F * m ** weights[0]).T @ (F * m ** weights[1]) / scale
        return target

    twice = ("your formula counts m twice (m^2) or more: weight one factor only, "
             "(m F)^T F / sum(m).")
    area = ('resize the mask with method="area": each cell of the grid gets the mean of '
            "the pixels it covers, which other methods only sample.")
    mistakes = [
        (variant(divisor="positions"), "divide by sum(m), the area the mask covers on the "
         "layer's grid, not by n_H n_W (all the positions)."),
        (variant(weights=(1, 1)), twice),
        (variant(weights=(2, 1)), twice),
        (variant(divisor="image sum"), "divide by the sum of m, the mask resized to the "
         "layer's grid, not by the sum of the full-size mask."),
        (variant(divisor="none"), "divide by sum(m): the result is a mean over the "
         "region, like style_target's over all positions."),
        (variant(method="bilinear"), area),
        (variant(method="nearest"), area),
        (lambda a, mask: variant()(a, np.ones_like(mask)),
         "the mask is ignored: weight each position's F F^T by m."),
    ]

    def shape_hint(error):
        text = str(error)
        if isinstance(error, (ValueError, tf.errors.InvalidArgumentError)) and any(
                word in text for word in ("shape", "Shape", "Dimensions", "dimension")):
            return ("resize the mask first, to the layer's grid (n_H, n_W), with "
                    'tf.image.resize and its "area" method: the mask has the image\'s size, '
                    "the activation a smaller one.")
        return None

    _run_check("masked_style_target", fn, nst.masked_style_target, _masked_cases(), mistakes,
               error_hint=shape_hint)


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
    def variant(axes=(1, 2), epsilon=None, ddof=0, centre=True, divisor="sqrt"):
        """The formula in NumPy with one thing changed, to name the mistake."""
        def norm(x, given=nst.INSTANCE_NORM_EPSILON):
            x, eps = np.asarray(x, np.float64), given if epsilon is None else epsilon
            variance = x.var(axis=axes, keepdims=True, ddof=ddof)
            with np.errstate(divide="ignore", invalid="ignore"):
                return (x - x.mean(axis=axes, keepdims=True) if centre else x) / {
                    "sqrt": np.sqrt(variance + eps), "outside": np.sqrt(variance) + eps,
                    "none": np.sqrt(variance), "variance": variance + eps}[divisor]
        return norm

    whole = ("normalise each channel of each image on its own: the mean and variance are "
             "over the positions, axes 1 and 2")
    mistakes = [
        (variant(axes=(1, 2, 3)), f"{whole}; over axes 1, 2, 3 the channels are mixed "
         "(that is layer normalisation)."),
        (variant(axes=(0, 1, 2)), f"{whole}; over axes 0, 1, 2 the images of the batch are "
         "mixed (that is batch normalisation), so a picture would depend on its batch."),
        (variant(axes=(0, 1, 2, 3)), f"{whole}, not over the whole batch."),
        (variant(divisor="none"), "add epsilon to the variance, under the square root: "
         "without it a flat channel (a clear sky) is divided by about 0."),
        (variant(divisor="outside"), "epsilon goes under the square root: sqrt(variance + "
         "epsilon), not sqrt(variance) + epsilon."),
        (variant(divisor="variance"), "divide by the standard deviation, sqrt(variance + "
         "epsilon), not by the variance."),
        (variant(centre=False), "subtract the mean before dividing: the result has mean 0."),
        (variant(epsilon=1e-3), "epsilon is Keras's default 1e-3: use the epsilon argument "
         "(1e-5 by default), which normalises a flat patch as much as a busy one."),
        (variant(epsilon=nst.INSTANCE_NORM_EPSILON), "use the epsilon argument, not a number "
         "of your own."),
        (variant(ddof=1), "the variance divides by the number of positions, n_H n_W, not "
         "n_H n_W - 1 (tf.nn.moments and tf.math.reduce_variance do)."),
    ]

    def shape_hint(error):
        if "Incompatible shapes" in str(error) or "Dimensions must be equal" in str(error):
            return ("keep the reduced axes (keepdims=True): a mean of shape (batch, 1, 1, n_C) "
                    "lines up with x, one of shape (batch, n_C) does not.")
        return None

    _run_check("instance_norm", fn, nst.instance_norm, _instance_norm_cases(), mistakes,
               atol=1e-5, error_hint=shape_hint,
               describe=lambda value: f"values from {value.min():.4g} to {value.max():.4g}")


def _two_blocks(block, channels):
    """Two blocks in a row, named "first" and "second": a block that ignores its name
    repeats layer names, which Keras refuses (the network has five blocks)."""
    import keras

    x = keras.Input((None, None, channels))
    return keras.Model(x, block(block(x, channels, name="first"), channels, name="second"))


def _block_variant(padding="reflect", second_relu=False, skip=True, relu_after=False,
                   epsilon=nst.INSTANCE_NORM_EPSILON):
    """residual_block from raw Keras layers in the reference's order, one thing changed."""
    import keras

    def block(x, channels, name):
        def conv(y, relu):
            if padding == "reflect":
                y = keras.layers.Lambda(nst.reflection_pad, arguments={"pad": 1})(y)
            y = keras.layers.Conv2D(channels, 3, padding="valid" if padding == "reflect"
                                    else "same")(y)
            y = keras.layers.GroupNormalization(groups=-1, epsilon=epsilon)(y)
            return keras.layers.ReLU()(y) if relu else y

        y = conv(conv(x, True), second_relu)
        y = keras.layers.Add()([x, y]) if skip else y
        return keras.layers.ReLU()(y) if relu_after else y
    return block


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

    def variant(**change):
        built = []

        def output(x):
            if not built:
                built.append(_two_blocks(_block_variant(**change), channels))
                _copy_weights(reference, built[0])
            return built[0](x).numpy()
        return output

    mistakes = [
        (variant(skip=False), "add the block's input to F(x): without it the block is two "
         "plain layers, and the network has to learn to copy the photo."),
        (variant(relu_after=True), "no ReLU after the addition: the block returns x + F(x) "
         "as it is."),
        (variant(second_relu=True), "the second conv_layer has no ReLU (relu=False): F(x) "
         "must be able to take something away from x."),
        (variant(padding="zeros"), "pad by reflection, as nst.conv_layer does, not with zeros "
         "(padding=\"same\"): zeros frame every picture with a dark border."),
        (variant(epsilon=1e-3), "instance normalisation's epsilon is 1e-5 "
         "(nst.INSTANCE_NORM_EPSILON), not GroupNormalization's default 1e-3."),
    ]
    _run_check(name, model, reference, _block_cases(channels), mistakes, atol=1e-5,
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


def _numpy_grams(a, pooled=None, per_position=True):
    """Gram matrices per image (batch, n_C, n_C), divided by n_H n_W; pooled="sum" or
    "mean": one of the whole batch, its positions pooled by a reshape to (-1, n_C)."""
    batch, n_H, n_W, n_C = a.shape
    scale = n_H * n_W if per_position else 1
    if pooled:
        F = a.reshape(-1, n_C)
        return F.T @ F / (scale * (batch if pooled == "mean" else 1))
    F = a.reshape(batch, -1, n_C)
    return np.einsum("bpi,bpj->bij", F, F) / scale


def _numpy_perceptual_costs(content_of="features", style_of="pictures", targets="given",
                            pooled=None, per_position=True, four_n_C2=True, weighted=True,
                            reductions=("mean", "mean"), layers="given", swapped=False):
    """batch_perceptual_costs in NumPy with one thing changed, as [J_content, J_style]."""
    def costs(photos, pictures, style_targets, extractor, style_layers=nst.STYLE_LAYERS,
              content_layer=nst.CONTENT_LAYER):
        style_layers = nst.STYLE_LAYERS if layers == "course style" else style_layers
        content_layer = nst.CONTENT_LAYER if layers == "course content" else content_layer
        f_P, f_G = ({name: value.numpy().astype(np.float64)
                     for name, value in extractor(images).items()}
                    for images in (photos, pictures))
        a_P, a_G = ((np.asarray(photos, np.float64), np.asarray(pictures, np.float64))
                    if content_of == "pixels" else (f_P[content_layer], f_G[content_layer]))
        reduce = [{"mean": np.mean, "sum": np.sum}[how] for how in reductions]
        J_content = reduce[0](np.sum((a_P - a_G) ** 2, axis=(1, 2, 3))
                              / (4 * np.prod(a_G.shape[1:])))
        J_style = 0.0
        for name, weight in style_layers:
            G = _numpy_grams((f_P if style_of == "photos" else f_G)[name], pooled,
                             per_position)
            target = _numpy_grams(f_P[name]) if targets == "photos" else style_targets[name]
            n_C = G.shape[-1]
            per_image = np.sum((G - target) ** 2, axis=(-2, -1)) / (4 * n_C**2 if four_n_C2
                                                                     else 1)
            J_style += (weight if weighted else 1.0) * reduce[1](per_image)
        return np.array([J_style, J_content] if swapped else [J_content, J_style])
    return costs


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
    model = _numpy_perceptual_costs
    mean = ("take the mean of the images' costs over the batch, not their sum: the costs "
            "then do not grow with the batch size.")
    pooled = ("one Gram matrix per image: a reshape to (-1, n_C) pools the positions of every "
              "image of the batch into one Gram matrix, which mixes their styles. Keep the "
              "batch axis: (batch, n_H n_W, n_C).")
    mistakes = [
        (model(reductions=("sum", "sum")), mean),
        (model(reductions=("sum", "mean")), mean),
        (model(reductions=("mean", "sum")), mean),
        (model(pooled="sum"), pooled),
        (model(pooled="mean"), pooled),
        (model(swapped=True), "return (J_content, J_style), in that order."),
        (model(style_of="photos"), "measure the style of the pictures (the network's "
         "output), not of the photos."),
        (model(targets="photos"), "compare the pictures' Gram matrices with style_targets, "
         "the painting's, not with the photos' Gram matrices."),
        (model(per_position=False), "style_targets are per position (style_target divides "
         "the Gram matrix by n_H n_W): divide each picture's Gram matrix by its n_H n_W too."),
        (model(four_n_C2=False), "divide each layer's sum of squares by 4 n_C^2, as "
         "layer_style_cost_from_target does."),
        (model(weighted=False), "multiply each layer's cost by its weight from style_layers."),
        (model(layers="course content"), "take the content layer from the content_layer "
         "argument, not nst.CONTENT_LAYER."),
        (model(layers="course style"), "take the layers and their weights from the "
         "style_layers argument, not nst.STYLE_LAYERS."),
        (model(content_of="pixels"), "compare photos and pictures by their activations at "
         "content_layer, not by their pixels."),
    ]

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
               _perceptual_cases(_StandInExtractor()), mistakes, error_hint=batch_hint,
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


def _fast_step_variant(weights=lambda alpha, beta, tv: (alpha, beta, tv), after=False,
                       sign=1.0, order=(0, 1, 2)):
    """fast_train_step with one thing changed, to name the mistake of a wrong answer."""
    def step(network, photos, style_targets, extractor, optimizer, alpha, beta, tv_weight=0.0):
        alpha, beta, tv_weight = weights(alpha, beta, tv_weight)

        def costs():
            pictures = network(photos, training=True)
            J_content, J_style = nst.batch_perceptual_costs(photos, pictures, style_targets,
                                                            extractor)
            J = total_cost(J_content, J_style, alpha, beta)
            return J + tv_weight * total_variation(pictures), J_content, J_style

        with tf.GradientTape() as tape:
            result = costs()
        gradients = tape.gradient(result[0], network.trainable_variables)
        optimizer.apply_gradients([(sign * gradient, variable) for gradient, variable
                                   in zip(gradients, network.trainable_variables, strict=True)])
        result = costs() if after else result
        return tuple(result[i] for i in order)
    return step


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

    mistakes = [
        (_fast_step_variant(weights=lambda a, b, tv: (b, a, tv)), "alpha and beta are "
         "swapped: alpha weighs J_content, beta J_style."),
        (_fast_step_variant(weights=lambda a, b, tv: (a, b, 0.0)), "add tv_weight times the "
         "total variation of the pictures to J."),
        (_fast_step_variant(after=True), "return the costs computed under the tape, before "
         "the update."),
        (_fast_step_variant(sign=-1.0), "the weights moved uphill: hand the optimiser the "
         "gradients themselves (it subtracts them), not their negatives."),
        (_fast_step_variant(order=(0, 2, 1)), "return (J, J_content, J_style), in that "
         "order."),
    ]
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
        for mistake, hint in mistakes:
            if matches(*problem.costs(mistake, compiled)):
                raise AssertionError(f"{name} is wrong on {description}. Hint: {hint}")
        raise AssertionError(
            f"{name} is wrong on {description}: expected costs {expected.tolist()}, got "
            f"{costs.tolist()}. Hint: J = total_cost(J_content, J_style, alpha, beta) + "
            "tv_weight * total_variation(pictures), its gradient with respect to "
            "network.trainable_variables applied by the optimiser.")
    _print_ok(name, "two SGD steps of a tiny network, eager and tf.function",
              f"J {expected[0, 0]:.5g} then {expected[1, 0]:.5g}")


# Notebook 08: a stopping rule for a run (on_evaluation collects the costs, should_stop asks).

def _plateau_cases():
    """(description, costs, patience, tolerance): hand-made runs of accepted costs, chosen
    so that every mistake of check_plateau_reached's list answers some of them wrongly, and
    no two mistakes answer all of them alike."""
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
    def variant(window=0, too_few=False, before="best", recent="best", scale="before",
                strict=True, inverted=False):
        """The reference with one thing changed, to name the mistake of a wrong answer."""
        def rule(costs, patience, tolerance):
            size = patience + window
            if len(costs) <= patience:
                return too_few
            earlier = costs[:-size]
            best_before = {"best": min(earlier), "first": costs[0], "last": earlier[-1]}[before]
            best_recent = min(costs[-size:]) if recent == "best" else costs[-1]
            scale_by = {"before": best_before, "recent": best_recent, "absolute": 1.0}[scale]
            drop, allowed = best_before - best_recent, tolerance * scale_by
            answer = drop < allowed if strict else drop <= allowed
            return not answer if inverted else answer
        return rule

    mistakes = [
        (variant(inverted=True), "True means a plateau: the costs have stopped improving. "
         "Yours says True while they still improve."),
        (variant(too_few=True), "with patience costs or fewer the run has just begun: "
         "return False (nothing comes before the window to compare with)."),
        (variant(window=1), "the window is the last patience costs; yours holds one more."),
        (variant(window=-1), "the window is the last patience costs; yours holds one fewer."),
        (variant(before="first"), "compare with the best of all the costs before the window, "
         "not with the first cost: the first is the highest, so the run never seems to stop "
         "improving."),
        (variant(before="last"), "compare with the best (lowest) of all the costs before the "
         "window, not with the one just before it: costs can go up and down (Adam's do)."),
        (variant(recent="last"), "take the best (lowest) of the last patience costs, not the "
         "last one: a cost a little up at the end does not undo the window's best."),
        (variant(scale="absolute"), "tolerance is a fraction: compare the drop with tolerance "
         "times the best before the window, not with tolerance itself (costs can be in the "
         "millions, or tiny)."),
        (variant(scale="recent"), "the drop is a fraction of the best before the window, not "
         "of the best in the window."),
        (variant(strict=False), "a drop of exactly tolerance times the earlier best is still "
         "an improvement: a plateau is a drop of less than that, not of at most that."),
    ]

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
        for mistake, hint in mistakes:
            if answers(mistake) == got:
                raise AssertionError(f"plateau_reached is wrong on {where}. Hint: {hint}")
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
