"""Exercise checks: run a learner's function against the reference, explain mistakes.

Every `nst.check_<name>(fn)` of the notebooks lives here and is re-exported by nst_helpers
(notebooks import one name). No notebook teaches this machinery; what it does for a learner
is described in STYLE.md's "Exercises and checks": compare with the reference on hand-made
and random inputs, eagerly and inside tf.function, print one stable line on success, and on
failure name the likely mistake from a catalogue of wrong answers (tests/test_checks.py
proves that each check rejects each of them). A guard fails a check whose function calls the
reference it should write, or changes nst_helpers while it runs.
"""

import contextlib
import json
import sys
from pathlib import Path

import numpy as np

import nst_helpers as nst
from nst_helpers import (
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
               graph=True, error_hint=None):
    """Compare learner and reference on every case, eagerly and (graph=True) inside
    tf.function; graph=False is for exercises where NumPy is allowed.

    mistakes: [(wrong implementation, hint)], tried in order when a value is wrong, so the
    message names the likely error. error_hint(error): a hint for an exception the learner's
    code raises, or None. Raises AssertionError (NotImplementedError for a stub not yet
    written); prints one stable line on success, with the reference's value on the first
    case, so that a change of the reference shows in the notebook's stored output.
    """
    modes = [("", learner)]
    if graph:
        modes.append((" inside tf.function", tf.function(learner)))
    first_value = None
    with _tensorflow_warnings_off():  # every case retraces, and TensorFlow warns about it
        for description, args in cases:
            args = tf.nest.map_structure(  # learners receive tensors, as in the notebooks
                lambda x: tf.constant(x) if isinstance(x, np.ndarray) else x, args)
            expected = np.asarray(reference(*args))
            first_value = expected if first_value is None else first_value
            for mode, function in modes:
                got = _call_learner(name, function, args, description + mode, learner,
                                    error_hint)
                _compare(name, got, expected, args, description + mode, mistakes, rtol, atol,
                         numpy_allowed=not graph)
    where = "eager and tf.function" if graph else "eager"
    _print_ok(name, f"{len(cases)} cases, {where}, rtol={rtol:g}",
              f"{cases[0][0]}: {_rounded(first_value)}")


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
# do the same work wholesale. The grader (instructor/grade.py) refuses them too.
REFERENCE_SHORTCUTS = {
    "gram_matrix": ["style_target"],
    "compute_layer_style_cost": ["layer_style_cost_from_target", "style_target"],
    "rgb_to_yiq": ["luminance_image", "with_luminance", "chroma_distance"],
    "yiq_to_rgb": ["YIQ_TO_RGB", "with_luminance"],
    "masked_style_target": ["style_target", "masked_layer_style_cost"],
}
_MISSING = object()


class _ReferenceUsed(AssertionError):
    """A learner's function used the reference or changed this module."""


def _modules_state():
    """What a learner's function must leave alone: the names in nst_helpers and in here."""
    return {**{f"nst_helpers.{k}": v for k, v in vars(nst).items()},
            **{f"nst_checks.{k}": v for k, v in globals().items()}}


class _ReferenceGuard:
    """While a learner's function runs, notice a call of the reference it is meant to
    write (by name, alias, getattr, a copy of its code: the code object gives it away)
    and any change to this module (say, a check replaced), and fail the check."""

    def __init__(self, name, learner):
        names = [name, *REFERENCE_SHORTCUTS.get(name, [])]
        self.name = name
        # Names of constants (YIQ_TO_RGB) are for the grader's static look only.
        self.codes = {getattr(nst, n).__code__: n for n in names
                      if hasattr(getattr(nst, n, None), "__code__")}
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
            shown = [key.removeprefix("nst_helpers.") for key in changed]
            raise _ReferenceUsed(
                f"{self.name} changed nst_helpers ({', '.join(shown)}) while it was checked; "
                "a solution computes its result and changes nothing else.")
        if self.called:
            raise _ReferenceUsed(
                f"{self.name} calls nst.{self.called}, the reference of what you are writing: "
                "write it with TensorFlow operations instead.")
        return False


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
    ]
    _run_check("compute_content_cost", fn, compute_content_cost, _activation_cases(), mistakes)


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
         "channels got mixed: reshape to (n_H * n_W, n_C) first, then transpose to "
         "(n_C, n_H * n_W); reshaping straight to (n_C, n_H * n_W) cuts the data wrongly."),
        (variant(gram_fn=lambda A: A.T.astype(np.float64) @ A),
         "the Gram matrix is A A^T (n_C x n_C), not A^T A."),
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
    ]
    _run_check("compute_style_cost", fn, compute_style_cost, cases, mistakes)


def check_total_cost(fn):
    """Check a learner's total_cost(J_content, J_style, alpha=10, beta=40). Notebook 04."""
    def reference(J_content, J_style, alpha=10, beta=40):
        return total_cost(tf.constant(J_content), tf.constant(J_style), alpha, beta)

    cases = [("J_content=2, J_style=3 with the defaults", (2.0, 3.0)),
             ("J_content=0.5, J_style=7, alpha=1, beta=100", (0.5, 7.0, 1.0, 100.0)),
             ("J_content=4, J_style=0, alpha=3, beta=2", (4.0, 0.0, 3.0, 2.0))]
    cases = [(text, tuple(tf.constant(v) for v in args)) for text, args in cases]

    def call_with_defaults(f):
        return lambda J_content, J_style, alpha=10.0, beta=40.0: f(
            float(J_content), float(J_style), float(alpha), float(beta))

    mistakes = [
        (call_with_defaults(lambda c, s, a, b: b * c + a * s),
         "alpha and beta are swapped: alpha weighs J_content, beta weighs J_style."),
        (call_with_defaults(lambda c, s, a, b: 10 * c + 40 * s),
         "use the alpha and beta passed in, not the numbers 10 and 40."),
        (call_with_defaults(lambda c, s, a, b: (a * c + b * s) / (a + b)),
         "J = alpha J_content + beta J_style, without dividing by alpha + beta."),
        (call_with_defaults(lambda c, s, a, b: c + s),
         "weigh the costs: J = alpha J_content + beta J_style."),
    ]
    _run_check("total_cost", fn, reference, cases, mistakes)


def check_total_variation(fn):
    """Check a learner's total_variation(image). Notebook 04."""
    rng = np.random.default_rng(3)
    cases = [(f"a random image of shape {shape}", (rng.random(shape).astype(np.float32),))
             for shape in [(1, 5, 7, 3), (1, 9, 4, 3)]]
    cases.append(("a flat grey image (0)", (np.full((1, 4, 4, 3), 0.5, np.float32),)))

    def parts(image):
        image = np.asarray(image, np.float64)
        return np.diff(image, axis=1), np.diff(image, axis=2)

    mistakes = [
        (lambda image: sum(np.mean(np.square(d)) for d in parts(image)),
         "use absolute differences, not squared ones."),
        (lambda image: sum(np.sum(np.abs(d)) for d in parts(image)),
         "take the mean of each direction's absolute differences, not the sum."),
        (lambda image: np.mean(np.abs(parts(image)[0])),
         "add both directions: down (axis 1) and across (axis 2)."),
        (lambda image: np.mean(np.abs(parts(image)[1])),
         "add both directions: down (axis 1) and across (axis 2)."),
    ]
    _run_check("total_variation", fn, total_variation, cases, mistakes)


def check_count_conv_params(fn):
    """Check a learner's count_conv_params against Keras's own count. Notebook 01."""
    import keras

    vgg = keras.applications.VGG19(include_top=False, weights=None)
    for name in VGG19_CONV_LAYERS:
        layer = vgg.get_layer(name)
        kernel_size, channels_in = layer.kernel_size[0], layer.input.shape[-1]
        got = _call_learner("count_conv_params", fn, (kernel_size, channels_in, layer.filters),
                            f"layer {name}")
        if got != layer.count_params():
            hint = ("count the biases too: one per output channel."
                    if got == layer.count_params() - layer.filters else
                    "each of the c_out filters has k x k x c_in weights, plus one bias.")
            raise AssertionError(f"count_conv_params is wrong for {name}: expected "
                                 f"{layer.count_params()}, got {got}. Hint: {hint}")
    _print_ok("count_conv_params", f"{len(VGG19_CONV_LAYERS)} layers of VGG19",
              f"block1_conv1: {vgg.get_layer('block1_conv1').count_params()}")


def check_train_step(fn):
    """Check a learner's train_step(generated, compute_costs, optimizer, alpha, beta): two
    steps from the same start must return the same costs and leave the same pixels as the
    reference, eagerly and inside tf.function. Notebook 04."""
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

    def variant(J=None, clip=True, sign=1.0, returns_after=False):
        """The reference with one thing changed, to name the mistake of a wrong answer."""
        def step(generated, compute_costs, optimizer, alpha, beta):
            with tf.GradientTape() as tape:
                J_content, J_style = compute_costs(generated)
                total = (J or total_cost)(J_content, J_style, alpha, beta)
            optimizer.apply_gradients([(sign * tape.gradient(total, generated), generated)])
            if clip:
                generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
            return total_cost(*compute_costs(generated), alpha, beta) if returns_after else total
        return step

    mistakes = [
        (variant(clip=False), "clip the pixels to [0, 1] after the update: "
         "generated.assign(tf.clip_by_value(generated, 0.0, 1.0))."),
        (variant(sign=-1.0), "the pixels moved uphill: apply the gradient itself "
         "(the optimiser subtracts it), not its negative."),
        (variant(J=lambda c, s, a, b: b * c + a * s), "alpha and beta are swapped: "
         "total_cost(J_content, J_style, alpha, beta)."),
        (variant(J=lambda c, s, a, b: c + s), "weigh the costs with alpha and beta: "
         "total_cost(J_content, J_style, alpha, beta)."),
        (variant(returns_after=True), "return the total cost computed under the tape, before "
         "the update."),
    ]
    for mode, compiled in (("", False), (" inside tf.function", True)):
        costs, pixels = _call_learner("train_step", two_steps, (fn, compiled),
                                      f"two steps{mode}", fn)
        expected_costs, expected_pixels = two_steps(train_step, compiled)
        if np.allclose(costs, expected_costs, rtol=1e-5) and np.allclose(
                pixels, expected_pixels, atol=1e-5):
            continue
        if np.allclose(pixels, start):
            raise AssertionError("train_step left the pixels unchanged. Hint: apply the "
                                 "gradient with optimizer.apply_gradients([(gradient, "
                                 "generated)]).")
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


# Notebook 05: colour (YIQ, colour matching) and place (masked Gram matrices).

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
    """Check a learner's rgb_to_yiq(image), image (..., 3). Notebook 05."""
    M = nst.RGB_TO_YIQ
    cases = [(text, (image,)) for text, image in _colour_cases(6)]
    mistakes = [
        (_times_matrix(M), "the matrix is not transposed: a pixel is a row vector, so "
         "multiply by RGB_TO_YIQ.T (tf.tensordot(image, RGB_TO_YIQ.T, axes=1))."),
        (lambda image: _times_matrix(M.T)(np.asarray(image)[..., ::-1]),
         "the channels are reversed (BGR): the last axis is R, G, B in that order."),
        (_times_matrix(np.linalg.inv(M).T),
         "you applied the inverse matrix (YIQ to RGB): use RGB_TO_YIQ itself."),
        (_times_matrix(np.linalg.inv(M)),
         "you applied the inverse matrix (YIQ to RGB), untransposed: use RGB_TO_YIQ.T."),
    ]
    _run_check("rgb_to_yiq", fn, nst.rgb_to_yiq, cases, mistakes)


def check_yiq_to_rgb(fn):
    """Check a learner's yiq_to_rgb(image), the inverse of rgb_to_yiq. Notebook 05."""
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
         "Use np.linalg.inv(RGB_TO_YIQ), transposed: tf.tensordot(image, YIQ_TO_RGB.T, "
         "axes=1)."),
        (_times_matrix(M_inverse), "the inverse matrix is not transposed: a pixel is a row "
         "vector, so multiply by np.linalg.inv(RGB_TO_YIQ).T."),
        (_times_matrix(M.T), "that is rgb_to_yiq again: use the inverse matrix, "
         "np.linalg.inv(RGB_TO_YIQ)."),
        (lambda image: np.clip(_times_matrix(M_inverse.T)(image), 0, 1),
         "do not clip: yiq_to_rgb is the exact inverse of rgb_to_yiq, for every YIQ value; "
         "clip later, where an image is shown or saved."),
        (lambda image: _times_matrix(M_inverse.T)(np.asarray(image)[..., ::-1]),
         "the channels are reversed: the last axis is Y, I, Q in that order."),
    ]
    _run_check("yiq_to_rgb", fn, nst.yiq_to_rgb, cases, mistakes)


def _numpy_colour_transfer(style, content, transform, centre=True, clip=True):
    """match_color in NumPy, with A = transform(Sigma_S, Sigma_C): the mistakes' model."""
    def mean_and_covariance(image):
        pixels = np.asarray(image, np.float64).reshape(-1, 3)
        return pixels, pixels.mean(0), np.cov(pixels, rowvar=False) + 1e-5 * np.eye(3)

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
    colour mean and covariance. Eager only, as NumPy is allowed here. Notebook 05."""
    def variant(transform, centre=True, clip=True):
        return lambda style, content: _numpy_colour_transfer(style, content, transform,
                                                             centre, clip)

    def right(S, C):
        return _symmetric_power(C, 0.5) @ _symmetric_power(S, -0.5)

    mistakes = [
        (lambda style, content: variant(right)(content, style),
         "style and content are swapped: move the style's pixels to the content's colours "
         "(the result has the style's shape)."),
        (variant(lambda S, C: C @ np.linalg.inv(S)),
         "take the square roots of the covariances: A = Sigma_C^(1/2) Sigma_S^(-1/2)."),
        (variant(lambda S, C: _symmetric_power(S, -0.5) @ _symmetric_power(C, 0.5)),
         "the factors are in the wrong order: A = Sigma_C^(1/2) Sigma_S^(-1/2) (first whiten "
         "the style's colours, then give them the content's covariance)."),
        (variant(lambda S, C: np.eye(3)),
         "that matches the mean only: also move the covariance, x' = A (x - mu_S) + mu_C."),
        (variant(lambda S, C: np.diag(np.sqrt(np.diag(C) / np.diag(S)))),
         "that matches each channel's spread alone: the colours are correlated, so use the "
         "full 3 x 3 covariance matrices."),
        (variant(lambda S, C: np.linalg.cholesky(C) @ np.linalg.inv(np.linalg.cholesky(S))),
         "A uses the symmetric square roots (from tf.linalg.eigh: V diag(lambda^(1/2)) V^T), "
         "not a Cholesky factor."),
        (variant(right, centre=False),
         "subtract the style's mean colour before applying A, and add the content's after: "
         "x' = A (x - mu_S) + mu_C."),
        (variant(right, clip=False), "clip the result to [0, 1]: it is an image."),
    ]
    _run_check("match_color", fn, nst.match_color, _match_color_cases(), mistakes,
               rtol=1e-3, atol=1e-3, graph=False)


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
    resized to the layer's grid with method="area". Notebook 05."""
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
            return ("resize the mask first, to the layer's grid (n_H, n_W): "
                    'tf.image.resize(mask[tf.newaxis], a.shape[1:3], "area"); the mask '
                    "has the image's size, the activation a smaller one.")
        return None

    _run_check("masked_style_target", fn, nst.masked_style_target, _masked_cases(), mistakes,
               error_hint=shape_hint)



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
