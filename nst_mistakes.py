"""The catalogue of mistakes: for every exercise, wrong answers written as a learner writes
them (TensorFlow, the exercise's signature), each with what its check says.

Two kinds:
- Mistake(function, hint): the check recognises it by what it computes. When a learner's
  answer is wrong, the check runs each Mistake of its exercise through the same harness as
  the learner's function, in this order, and gives the hint of the first one whose results
  match. These are the checks' only models of mistakes.
- Caught(function, words): the check rejects it another way, with a message holding
  `words`: an error it raises (the check's hint for that error), the guard against calling
  the reference, or a look at the form of its result.

tests/test_checks.py hands every entry to its check and expects that hint or those words, so
each hint is reachable and no mistake hides another. The factories (statistics,
colour_transfer, masked_gram, norm_with, block_with, raw_block, perceptual, fast_step,
cost_and_gradient_maker, lbfgs_maker, plateau_rule) build a right answer with no argument,
one mistake with one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import nst_course as nst
from nst_course import tf


@dataclass(frozen=True)
class Mistake:
    """A wrong answer the check recognises by its results, and the hint it then gives."""

    function: Callable
    hint: str


@dataclass(frozen=True)
class Caught:
    """A wrong answer the check rejects otherwise, with a message that holds `words`."""

    function: Callable
    words: str


def mistakes(exercise):
    """The Mistakes of an exercise, in the order its check tries them."""
    return [entry for entry in CATALOGUE[exercise] if isinstance(entry, Mistake)]


def named(name, function):
    function.__name__ = name  # a test's id, and a learner-like name
    return function


def _dims(a):
    _, n_H, n_W, n_C = a.shape
    return n_H, n_W, n_C


# -- Notebook 01: count_conv_params -----------------------------------------------------

def params_without_bias(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_in * channels_out


def params_one_channel_per_filter(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_out + channels_out


def params_kernel_not_squared(kernel_size, channels_in, channels_out):
    return kernel_size * channels_in * channels_out + channels_out


def params_bias_per_input_channel(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_in * channels_out + channels_in


def params_one_bias(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_in * channels_out + 1


COUNT_CONV_PARAMS = [
    Mistake(params_without_bias, "count the biases too: one per output channel."),
    Mistake(params_one_channel_per_filter, "a filter reaches through every input channel: "
            "k x k weights for each of the c_in."),
    Mistake(params_kernel_not_squared, "a k x k window holds k * k weights per input "
            "channel, not k."),
    Mistake(params_bias_per_input_channel, "one bias per filter, that is per output channel, "
            "not per input channel."),
    Mistake(params_one_bias, "one bias per filter, not one for the whole layer."),
]


# -- Notebook 02: compute_content_cost --------------------------------------------------

def content_mean(a_C, a_G):
    return tf.reduce_mean(tf.square(a_C - a_G))


def content_no_normalisation(a_C, a_G):
    return tf.reduce_sum(tf.square(a_C - a_G))


def content_absolute(a_C, a_G):
    n_H, n_W, n_C = _dims(a_G)
    return tf.reduce_sum(tf.abs(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_not_squared(a_C, a_G):
    n_H, n_W, n_C = _dims(a_G)
    return tf.reduce_sum(a_C - a_G) / (4 * n_H * n_W * n_C)


def content_norm_not_squared(a_C, a_G):
    n_H, n_W, n_C = _dims(a_G)
    return tf.norm(a_C - a_G) / (4 * n_H * n_W * n_C)


def content_by_2(a_C, a_G):
    n_H, n_W, n_C = _dims(a_G)
    return tf.reduce_sum(tf.square(a_C - a_G)) / (2 * n_H * n_W * n_C)


def content_denominator_unbracketed(a_C, a_G):  # / 4 * n_H ... multiplies by the sizes
    n_H, n_W, n_C = _dims(a_G)
    return tf.reduce_sum(tf.square(a_C - a_G)) / 4 * n_H * n_W * n_C


def content_batch_taken_as_height(a_C, a_G):
    n_H, n_W, n_C = a_G.shape[:3]
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_python_sum(a_C, a_G):  # sums along the first (batch) axis only
    n_H, n_W, n_C = _dims(a_G)
    return sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_with_numpy(a_C, a_G):
    n_H, n_W, n_C = _dims(a_G)
    return tf.constant(np.sum((a_C.numpy() - a_G.numpy()) ** 2) / (4 * n_H * n_W * n_C))


def content_numpy_square(a_C, a_G):  # works eagerly, fails on symbolic tensors
    n_H, n_W, n_C = _dims(a_G)
    return tf.reduce_sum(np.square(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_returns_numpy(a_C, a_G):
    n_H, n_W, n_C = _dims(a_G)
    return np.sum(np.square(np.asarray(a_C) - np.asarray(a_G))) / (4 * n_H * n_W * n_C)


def content_int32_sizes(a_C, a_G):  # tf.shape's sizes, not cast
    shape = tf.shape(a_G)
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * shape[1] * shape[2] * shape[3])


COMPUTE_CONTENT_COST = [
    Mistake(content_mean, "you divided by n_H n_W n_C (or took a mean): divide by "
            "4 n_H n_W n_C."),
    Mistake(content_no_normalisation, "divide the sum of squares by 4 n_H n_W n_C."),
    Mistake(content_absolute, "square the differences (you summed their absolute values)."),
    Mistake(content_not_squared, "square the differences before summing them."),
    Mistake(content_norm_not_squared, "the cost uses the squared norm: no square root."),
    Mistake(content_by_2, "the constant is 1 / (4 n_H n_W n_C), not 1 / (2 ...)."),
    Mistake(content_denominator_unbracketed, "you multiplied by n_H n_W n_C: x / 4 * n means "
            "(x / 4) * n, so put the whole denominator in brackets."),
    Mistake(content_batch_taken_as_height, "the shape is (1, n_H, n_W, n_C): the first size "
            "is the batch (one image), so n_H, n_W, n_C are the last three."),
    Mistake(content_python_sum, "sum over every entry, to one number: Python's sum() (like an "
            "axis argument) adds along one axis only."),
    Caught(content_with_numpy, "inside tf.function"),
    Caught(content_numpy_square, "inside tf.function"),
    Caught(content_returns_numpy, "not a tf.Tensor"),
    Caught(content_int32_sizes, "cast the sizes"),
]


# -- Notebook 03: gram_matrix, compute_layer_style_cost, compute_style_cost --------------

def gram(A):
    return tf.matmul(A, A, transpose_b=True)


def gram_transposed(A):
    return tf.matmul(tf.transpose(A), A)


def gram_elementwise(A):
    return A * A


def gram_normalised(A):
    return tf.matmul(A, A, transpose_b=True) / tf.cast(tf.shape(A)[1], tf.float32)


GRAM_MATRIX = [
    Mistake(gram_transposed, "G = A A^T has shape (n_C, n_C): you computed A^T A (positions "
            "x positions)."),
    Mistake(gram_elementwise, "use a matrix product (tf.matmul), not an element-wise product "
            "(*)."),
    Mistake(gram_normalised, "the Gram matrix is unnormalised: do not divide by the number "
            "of positions."),
]


def right_unroll(a):
    return tf.transpose(tf.reshape(a, [-1, a.shape[-1]]))


def reshape_without_transpose(a):  # straight to (n_C, n_H n_W): channels get mixed
    return tf.reshape(a, [a.shape[-1], -1])


def positions_by_channels(a):  # reshaped to (n_H n_W, n_C), the transpose forgotten
    return tf.reshape(a, [-1, a.shape[-1]])


def seeds_denominator(n_H, n_W, n_C):
    return 4.0 * n_C**2 * (n_H * n_W) ** 2


def layer_style(name, unroll=right_unroll, gram_of=gram, denominator=seeds_denominator,
                difference=tf.square, of="grams"):
    """A learner's compute_layer_style_cost with one mistake (the defaults: none)."""
    def compute_layer_style_cost(a_S, a_G):
        n_H, n_W, n_C = _dims(a_G)
        S, G = (gram_of(unroll(a_S)), gram_of(unroll(a_G))) if of == "grams" else (a_S, a_G)
        return tf.reduce_sum(difference(S - G)) / denominator(n_H, n_W, n_C)
    return named(name, compute_layer_style_cost)


def layer_style_int32_sizes(a_S, a_G):  # tf.shape's int32 sizes multiplied, then cast
    _, n_H, n_W, n_C = tf.unstack(tf.shape(a_G))
    G_S, G_G = gram(right_unroll(a_S)), gram(right_unroll(a_G))
    denominator = tf.cast(4 * n_C**2 * (n_H * n_W) ** 2, tf.float32)
    return tf.reduce_sum(tf.square(G_S - G_G)) / denominator


def layer_style_with_nst_unroll(a_S, a_G):  # the unrolling is part of the exercise
    return layer_style("with_nst_unroll", unroll=nst.unroll)(a_S, a_G)


POSITIONS_GRAM = ("your Gram matrices are positions x positions: unroll to one row per "
                  "channel, (n_C, n_H * n_W), and take A A^T (n_C x n_C), not A^T A. A "
                  "reshape to (n_H * n_W, n_C) alone gives one row per position.")
SQUARED_CONSTANT = "the constant is 1 / (4 n_C^2 (n_H n_W)^2): "
COMPUTE_LAYER_STYLE_COST = [
    Mistake(layer_style("channels_mixed", unroll=reshape_without_transpose),
            "channels got mixed: in memory the channel index runs fastest, so a reshape "
            "straight to (n_C, n_H * n_W) puts several channels in each row (see the "
            "(1, 2, 2, 3) example). Make one row per position first, then turn rows into "
            "columns."),
    Mistake(layer_style("gram_transposed", gram_of=gram_transposed), POSITIONS_GRAM),
    Mistake(layer_style("positions_by_channels", unroll=positions_by_channels),
            POSITIONS_GRAM),
    Mistake(layer_style_int32_sizes, "the denominator overflowed: sizes from tf.shape are "
            "int32, and 4 n_C^2 (n_H n_W)^2 passes 2^31 at real sizes. Use a_G.shape (Python "
            "ints) or cast the sizes to float32 before multiplying."),
    Mistake(layer_style("nothing_squared",
                        denominator=lambda n_H, n_W, n_C: 4.0 * n_C * n_H * n_W),
            SQUARED_CONSTANT + "both factors are squared."),
    Mistake(layer_style("positions_not_squared",
                        denominator=lambda n_H, n_W, n_C: 4.0 * n_C**2 * n_H * n_W),
            SQUARED_CONSTANT + "square (n_H n_W) too."),
    Mistake(layer_style("channels_not_squared",
                        denominator=lambda n_H, n_W, n_C: 4.0 * n_C * (n_H * n_W) ** 2),
            SQUARED_CONSTANT + "square n_C too."),
    Mistake(layer_style("without_the_4",
                        denominator=lambda n_H, n_W, n_C: float(n_C**2 * (n_H * n_W) ** 2)),
            "you forgot the 4 (or took a mean over the Gram matrix): divide by "
            "4 n_C^2 (n_H n_W)^2."),
    Mistake(layer_style("not_normalised", denominator=lambda n_H, n_W, n_C: 1.0),
            "divide the sum of squares by 4 n_C^2 (n_H n_W)^2."),
    Mistake(layer_style("absolute", difference=tf.abs), "square the differences of the Gram "
            "matrices (you summed absolute values)."),
    Mistake(layer_style("activations", of="activations"), "compare the Gram matrices of a_S "
            "and a_G, not the activations themselves."),
    Caught(layer_style("twice_the_constant",
                       denominator=lambda n_H, n_W, n_C: 2.0 * n_C**2 * (n_H * n_W) ** 2),
           "times the reference"),
    Caught(layer_style_with_nst_unroll, "calls nst.unroll"),
]


def style_cost(name, weighted=True, layers="all", reduce=tf.add_n, pairing="by name"):
    """A learner's compute_style_cost with one mistake (the defaults: none)."""
    def compute_style_cost(style_activations, generated_activations, style_layers):
        chosen = {"all": style_layers, "last": style_layers[-1:], "first": style_layers[:1],
                  "course": nst.STYLE_LAYERS}[layers]
        names = ([name for name, _ in chosen] if pairing == "by name"
                 else list(style_activations)[:len(chosen)])
        return reduce([(weight if weighted else 1.0) * nst.compute_layer_style_cost(
            style_activations[layer], generated_activations[layer])
            for layer, (_, weight) in zip(names, chosen, strict=True)])
    return named(name, compute_style_cost)


def style_over_the_dictionaries(style_activations, generated_activations, style_layers):
    weights = dict(style_layers)
    return tf.add_n([weights[n] * nst.compute_layer_style_cost(a, generated_activations[n])
                     for n, a in style_activations.items()])


def _mean(costs):
    return tf.add_n(costs) / len(costs)


EVERY_LAYER = "sum over every layer in style_layers, not only the "
COMPUTE_STYLE_COST = [
    Mistake(style_cost("ignores_weights", weighted=False), "multiply each layer's cost by its "
            "weight from style_layers."),
    Mistake(style_cost("averaged", reduce=_mean), "add the weighted layer costs up; do not "
            "average them."),
    Mistake(style_cost("last_layer_only", layers="last"), EVERY_LAYER + "last one."),
    Mistake(style_cost("first_layer_only", layers="first"), EVERY_LAYER + "first one."),
    Mistake(style_cost("paired_by_position", pairing="by position"), "look each layer's "
            "activations up by its name (style_activations[name]): the dictionaries may hold "
            "other layers, in another order than style_layers."),
    Caught(style_cost("course_layers", layers="course"), "not nst.STYLE_LAYERS"),
    Caught(style_over_the_dictionaries, "does not list"),
]


# -- Notebook 04: total_cost, and the capstone's make_cost_and_gradient and lbfgs --------

def total_swapped(J_content, J_style, alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_BETA):
    return beta * J_content + alpha * J_style


def total_hard_coded(J_content, J_style, alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_BETA):
    return 10 * J_content + 0.04 * J_style


def total_normalised(J_content, J_style, alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_BETA):
    return (alpha * J_content + beta * J_style) / (alpha + beta)


def total_unweighted(J_content, J_style, alpha=nst.DEFAULT_ALPHA, beta=nst.DEFAULT_BETA):
    return J_content + J_style


TOTAL_COST = [
    Mistake(total_swapped, "alpha and beta are swapped: alpha weighs J_content, beta weighs "
            "J_style."),
    Mistake(total_hard_coded, "use the alpha and beta passed in, not the numbers 10 and "
            "0.04."),
    Mistake(total_normalised, "J = alpha J_content + beta J_style, without dividing by alpha "
            "+ beta."),
    Mistake(total_unweighted, "weigh the costs: J = alpha J_content + beta J_style."),
]


def cost_and_gradient_maker(name="right", compiled=True, targets_once=True,
                            swap_images=False, weights=lambda alpha, beta: (alpha, beta),
                            gradient_of="J", watch=True, passes=1):
    """A learner's make_cost_and_gradient with one mistake (the defaults: none)."""
    def make_cost_and_gradient(content, style, extractor, alpha, beta):
        if swap_images:
            content, style = style, content
        a_C = extractor(content)[nst.CONTENT_LAYER] if targets_once else None
        a_S = extractor(style) if targets_once else None

        def cost_and_gradient(image):
            with tf.GradientTape() as tape:
                if watch:
                    tape.watch(image)
                a_G = extractor(image)
                for _ in range(passes - 1):
                    a_G = extractor(image)
                J_content = nst.compute_content_cost(
                    a_C if targets_once else extractor(content)[nst.CONTENT_LAYER],
                    a_G[nst.CONTENT_LAYER])
                J_style = nst.compute_style_cost(a_S if targets_once else extractor(style), a_G)
                J = nst.total_cost(J_content, J_style, *weights(alpha, beta))
                target = {"J": J, "J_content": J_content, "J_style": J_style,
                          "alpha * J_content": alpha * J_content,
                          "beta * J_style": beta * J_style}[gradient_of]
            return J, tape.gradient(target, image)

        return tf.function(cost_and_gradient) if compiled else cost_and_gradient
    return named(name, make_cost_and_gradient)


def cost_and_gradient_with_respect_to_content(content, style, extractor, alpha, beta):
    a_C, a_S = extractor(content)[nst.CONTENT_LAYER], extractor(style)

    @tf.function
    def cost_and_gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            a_G = extractor(image)
            J = nst.total_cost(nst.compute_content_cost(a_C, a_G[nst.CONTENT_LAYER]),
                               nst.compute_style_cost(a_S, a_G), alpha, beta)
        return J, tape.gradient(J, content)
    return cost_and_gradient


def cost_and_gradient_by_the_reference(content, style, extractor, alpha, beta):
    return nst.make_cost_and_gradient(content, style, extractor, alpha, beta)


# The Mistakes run eagerly: the check runs each of them on a wrong answer, and a trace of
# VGG19 per mistake would keep the learner waiting (compiled or not, their values are alike).
GRADIENT_OF = "your J is right, but the gradient is not J's: take tape.gradient(J, image), "
MAKE_COST_AND_GRADIENT = [
    Mistake(cost_and_gradient_maker("images_swapped", swap_images=True, compiled=False),
            "the content and "
            "style images are swapped: the content target comes from content at "
            "nst.CONTENT_LAYER, the style targets from style."),
    Mistake(cost_and_gradient_maker("weights_swapped", weights=lambda a, b: (b, a),
                                    compiled=False),
            "alpha and beta are swapped: alpha weighs J_content, beta weighs J_style."),
    Mistake(cost_and_gradient_maker(
        "default_weights", weights=lambda a, b: (nst.DEFAULT_ALPHA, nst.DEFAULT_BETA),
        compiled=False),
        "pass alpha and beta to total_cost: its defaults are stylize's, nst.DEFAULT_ALPHA and "
        "nst.DEFAULT_BETA."),
    Mistake(cost_and_gradient_maker("gradient_of_J_content", gradient_of="J_content",
                                    compiled=False),
            GRADIENT_OF + "not the gradient of J_content alone."),
    Mistake(cost_and_gradient_maker("gradient_of_alpha_J_content",
                                    gradient_of="alpha * J_content", compiled=False),
            GRADIENT_OF + "not of alpha * J_content alone."),
    Mistake(cost_and_gradient_maker("gradient_of_J_style", gradient_of="J_style",
                                    compiled=False),
            GRADIENT_OF + "not the gradient of J_style alone."),
    Mistake(cost_and_gradient_maker("gradient_of_beta_J_style", gradient_of="beta * J_style",
                                    compiled=False),
            GRADIENT_OF + "not of beta * J_style alone."),
    Caught(cost_and_gradient_maker("targets_every_evaluation", targets_once=False),
           "recomputes the targets at every evaluation"),
    Caught(cost_and_gradient_maker("targets_every_evaluation_eagerly", targets_once=False,
                                   compiled=False), "recomputes the targets at every evaluation"),
    Caught(cost_and_gradient_maker("not_compiled", compiled=False), "compile it"),
    Caught(cost_and_gradient_maker("vgg19_twice", passes=2), "once is enough"),
    Caught(cost_and_gradient_with_respect_to_content, "the gradient is None"),
    Caught(cost_and_gradient_maker("tape_not_watching", watch=False), "tape.watch(image)"),
    Caught(cost_and_gradient_by_the_reference, "calls nst.make_cost_and_gradient"),
]


def lbfgs_maker(name="right", x_dtype=np.float64, cost=float, gradient_dtype=np.float64,
                bounds=True, keep="best", record="every", options="maxfun", jac=True,
                method="L-BFGS-B", image_dtype=tf.float32, returns_tensor=True):
    """A learner's lbfgs with one mistake (the defaults: none)."""
    from scipy.optimize import minimize

    def lbfgs(cost_and_gradient, start, steps):
        shape = start.shape
        costs, kept = [], {"best": np.inf, "image": start}

        def scipy_cost_and_gradient(x):
            image = tf.constant(x.reshape(shape), image_dtype)
            J, gradient = cost_and_gradient(image)
            if record == "every":
                costs.append(float(J))
            if keep == "last" or float(J) < kept["best"]:
                kept["best"], kept["image"] = float(J), image
            return cost(J), gradient.numpy().ravel().astype(gradient_dtype)

        def accepted(intermediate_result):  # a callback: sees accepted iterates only
            if record == "accepted":
                costs.append(float(intermediate_result.fun))

        x0 = start.numpy().ravel().astype(x_dtype)
        settings = {"options": {"maxfun": steps}} if options == "maxfun" else {}
        result = minimize(scipy_cost_and_gradient, x0, jac=jac, method=method,
                          bounds=[(0.0, 1.0)] * x0.size if bounds else None,
                          callback=accepted, **settings)
        if not returns_tensor:
            return result.x.reshape(shape), costs
        return kept["image"], costs
    return named(name, lbfgs)


def lbfgs_by_the_reference(cost_and_gradient, start, steps):
    return nst.lbfgs(cost_and_gradient, start, steps)


# check_lbfgs watches how scipy is called: every lbfgs mistake is caught on the way.
LBFGS = [
    Caught(lbfgs_maker("float32_everywhere", x_dtype=np.float32, cost=lambda J: J.numpy(),
                       gradient_dtype=np.float32),
           "handed scipy x0, the cost and the gradient in float32"),
    Caught(lbfgs_maker("float32_gradient", gradient_dtype=np.float32),
           "handed scipy the gradient in float32"),
    Caught(lbfgs_maker("no_bounds", bounds=False), "did not bound every pixel to [0, 1]"),
    Caught(lbfgs_maker("last_image", keep="last"), "returned the last image it evaluated"),
    Caught(lbfgs_maker("costs_of_accepted_points", record="accepted"),
           "record the cost of every evaluation"),
    Caught(lbfgs_maker("no_budget", options="none"), "past its budget"),
    Caught(lbfgs_maker("finite_differences", jac=None), "pass jac=True"),
    Caught(lbfgs_maker("default_method", method=None, bounds=False, options="none"),
           "did not run scipy's L-BFGS-B"),
    Caught(lbfgs_maker("float64_image", image_dtype=tf.float64), "as a float32 tensor"),
    Caught(lbfgs_maker("numpy_image", returns_tensor=False), "a float32 tf.Tensor"),
    Caught(lbfgs_by_the_reference, "calls nst.lbfgs"),
]


# -- Notebook 05: total_variation, train_step -------------------------------------------

def _down(image):
    return image[:, 1:] - image[:, :-1]


def _across(image):
    return image[:, :, 1:] - image[:, :, :-1]


def tv_squared(image):
    return tf.reduce_mean(tf.square(_down(image))) + tf.reduce_mean(tf.square(_across(image)))


def tv_summed(image):
    return tf.reduce_sum(tf.abs(_down(image))) + tf.reduce_sum(tf.abs(_across(image)))


def tv_tensorflow_sum(image):
    return tf.image.total_variation(image)


def tv_down_only(image):
    return tf.reduce_mean(tf.abs(_down(image)))


def tv_across_only(image):
    return tf.reduce_mean(tf.abs(_across(image)))


def tv_averaged(image):
    return (tf.reduce_mean(tf.abs(_down(image))) + tf.reduce_mean(tf.abs(_across(image)))) / 2


def tv_over_the_pixels(image):
    return ((tf.reduce_sum(tf.abs(_down(image))) + tf.reduce_sum(tf.abs(_across(image))))
            / tf.cast(tf.size(image), tf.float32))


def tv_one_mean_for_both(image):
    down = tf.reshape(tf.abs(_down(image)), [-1])
    across = tf.reshape(tf.abs(_across(image)), [-1])
    return tf.reduce_mean(tf.concat([down, across], axis=0))


def tv_rolled(image):
    return (tf.reduce_mean(tf.abs(image - tf.roll(image, 1, axis=1)))
            + tf.reduce_mean(tf.abs(image - tf.roll(image, 1, axis=2))))


def tv_isotropic(image):
    down = image[:, 1:, :-1] - image[:, :-1, :-1]
    across = image[:, :-1, 1:] - image[:, :-1, :-1]
    return tf.reduce_mean(tf.sqrt(tf.square(down) + tf.square(across)))


BOTH_DIRECTIONS = "add both directions: down (axis 1) and across (axis 2)."
TOTAL_VARIATION = [
    Mistake(tv_squared, "use absolute differences, not squared ones."),
    Mistake(tv_summed, "take the mean of each direction's absolute differences, not the "
            "sum."),
    Mistake(tv_tensorflow_sum, "that is tf.image.total_variation: a sum per image, shape "
            "(1,). Take the mean of each direction's absolute differences and return one "
            "number."),
    Mistake(tv_down_only, BOTH_DIRECTIONS),
    Mistake(tv_across_only, BOTH_DIRECTIONS),
    Mistake(tv_averaged, "add the two directions' means; do not average them."),
    Mistake(tv_over_the_pixels, "divide each direction's sum by its own number of pairs "
            "((n_H - 1) n_W n_C down, n_H (n_W - 1) n_C across), not by the number of pixel "
            "values."),
    Mistake(tv_one_mean_for_both, "take each direction's mean on its own, then add the two: "
            "one mean over the pairs of both directions is a different number."),
    Mistake(tv_rolled, "compare neighbours inside the image only: a roll wraps the last row "
            "(or column) around to meet the first."),
    Mistake(tv_isotropic, "the course's total variation is anisotropic: the absolute "
            "differences of each direction on their own, not the length sqrt(dx^2 + dy^2)."),
]


def step_without_clip(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(tape.gradient(J, generated), generated)])
    return J


def step_clip_rebinds_the_name(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(tape.gradient(J, generated), generated)])
    generated = tf.clip_by_value(generated, 0.0, 1.0)  # a new tensor; the variable unclipped
    return J


def step_clip_first(generated, compute_costs, optimizer, alpha, beta):
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(tape.gradient(J, generated), generated)])
    return J


def step_clip_before_the_update(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    gradient = tape.gradient(J, generated)
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    optimizer.apply_gradients([(gradient, generated)])
    return J


def step_uphill(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(-tape.gradient(J, generated), generated)])
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return J


def step_with(name, weights):
    """A right train_step whose total cost is total_cost(J_content, J_style, *weights)."""
    def train_step(generated, compute_costs, optimizer, alpha, beta):
        with tf.GradientTape() as tape:
            J = nst.total_cost(*compute_costs(generated), *weights(alpha, beta))
        optimizer.apply_gradients([(tape.gradient(J, generated), generated)])
        generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
        return J
    return named(name, train_step)


def step_returns_the_cost_after(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(tape.gradient(J, generated), generated)])
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return nst.total_cost(*compute_costs(generated), alpha, beta)


def step_by_hand(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    generated.assign_sub(optimizer.learning_rate * tape.gradient(J, generated))
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return J


def step_never_applied(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    tape.gradient(J, generated)
    return J


def step_swapped_by_the_reference(generated, compute_costs, optimizer, alpha, beta):
    return nst.train_step(generated, compute_costs, optimizer, beta, alpha)


UNCLIPPED = ("clip the pixels to [0, 1] after the update, into the variable itself (its "
             "assign method): a clipped tensor bound to the name `generated` leaves the "
             "variable as it was.")
CLIPPED_EARLY = ("clip the pixels to [0, 1] after the optimiser's update, not before it: the "
                 "update is what pushes them out.")
TRAIN_STEP = [
    Mistake(step_without_clip, UNCLIPPED),
    Mistake(step_clip_rebinds_the_name, UNCLIPPED),
    Mistake(step_clip_first, CLIPPED_EARLY),
    Mistake(step_clip_before_the_update, CLIPPED_EARLY),
    Mistake(step_uphill, "the pixels moved uphill: hand the optimiser the gradient itself "
            "(it subtracts it), not its negative."),
    Mistake(step_with("weights_swapped", lambda alpha, beta: (beta, alpha)), "alpha and beta "
            "are swapped: alpha weighs J_content and beta J_style."),
    Mistake(step_with("unweighted", lambda alpha, beta: (1.0, 1.0)), "weigh the costs: "
            "J = alpha J_content + beta J_style, by total_cost."),
    Mistake(step_returns_the_cost_after, "return the total cost computed under the tape, "
            "before the update."),
    Mistake(step_by_hand, "let the optimiser apply the gradient (its apply_gradients "
            "method): Adam's step is not the learning rate times the gradient."),
    Caught(step_never_applied, "left the pixels unchanged"),
    Caught(step_swapped_by_the_reference, "calls nst.train_step"),
]


# -- Notebook 06: colour (YIQ, colour matching) and place (masked Gram matrices) ---------

M = nst.RGB_TO_YIQ
M_INVERSE = np.linalg.inv(M)


def times(matrix, name, reversed_channels=False):
    """A learner's colour conversion: each pixel, a row of the last axis, times matrix."""
    def convert(image):
        return tf.tensordot(image[..., ::-1] if reversed_channels else image,
                            tf.constant(matrix, tf.float32), axes=1)
    return named(name, convert)


def yiq_with_numpy(image):  # works eagerly, fails on symbolic tensors
    return tf.constant(np.asarray(image) @ M.T)


def rgb_clipped(yiq):
    return tf.clip_by_value(times(M_INVERSE.T, "rgb")(yiq), 0.0, 1.0)


INVERSE = "you applied the inverse matrix (YIQ to RGB)"
RGB_TO_YIQ = [
    Mistake(times(M, "not_transposed"), "the matrix is not transposed: a pixel is a row of "
            "the last axis, so its YIQ row is x^T M^T, the pixel times the transpose of "
            "RGB_TO_YIQ."),
    Mistake(times(M.T, "channels_reversed", reversed_channels=True), "the channels are "
            "reversed (BGR): the last axis is R, G, B in that order."),
    Mistake(times(M_INVERSE.T, "with_the_inverse"), INVERSE + ": use RGB_TO_YIQ itself."),
    Mistake(times(M_INVERSE, "with_the_inverse_untransposed"), INVERSE + ", untransposed: use "
            "RGB_TO_YIQ, transposed."),
    Caught(yiq_with_numpy, "inside tf.function"),
]
YIQ_TO_RGB = [
    Mistake(times(M, "inverse_as_transpose"), "the inverse is not the transpose: RGB_TO_YIQ "
            "is not orthogonal. Compute its inverse matrix and apply that to each pixel, as "
            "in rgb_to_yiq."),
    Mistake(times(M_INVERSE, "inverse_not_transposed"), "the inverse matrix is not "
            "transposed: a pixel is a row of the last axis, so multiply it by the transpose of "
            "the inverse."),
    Mistake(times(M.T, "forward_again"), "that is rgb_to_yiq again: use the inverse of "
            "RGB_TO_YIQ."),
    Mistake(rgb_clipped, "do not clip: yiq_to_rgb is the exact inverse of rgb_to_yiq, for "
            "every YIQ value; clip later, where an image is shown or saved."),
    Mistake(times(M_INVERSE.T, "channels_reversed", reversed_channels=True), "the channels "
            "are reversed: the last axis is Y, I, Q in that order."),
]


def statistics(name="right", centre=True, divide_by_n=False, epsilon="identity",
               unroll="pixels", swapped=False, gram_of="channels", keepdims=False,
               full=True, centre_by="channel"):
    """A learner's colour_mean_and_covariance with one mistake (the defaults: none)."""
    def colour_mean_and_covariance(image):
        if unroll == "pixels":
            pixels = tf.reshape(image, [-1, 3])
        else:
            pixels = tf.transpose(tf.reshape(image, [3, -1]))
        mean = tf.reduce_mean(pixels, axis=0, keepdims=keepdims)
        subtracted = mean if centre_by == "channel" else tf.reduce_mean(pixels)
        centred = pixels - subtracted if centre else pixels
        count = tf.cast(tf.shape(pixels)[0], tf.float32) - (0.0 if divide_by_n else 1.0)
        if gram_of == "channels":
            covariance = tf.matmul(centred, centred, transpose_a=True) / count
        else:  # (N, N): the transpose on the wrong factor
            covariance = tf.matmul(centred, centred, transpose_b=True) / count
        covariance = covariance if full else tf.linalg.diag(tf.linalg.diag_part(covariance))
        covariance += {"identity": 1e-5 * tf.eye(3), "none": 0.0, "all": 1e-5}[epsilon]
        return (covariance, mean) if swapped else (mean, covariance)
    return named(name, colour_mean_and_covariance)


def statistics_with_numpy(image):  # np.cov works eagerly, fails on symbolic tensors
    pixels = np.reshape(image, (-1, 3))
    return (tf.reduce_mean(tf.reshape(image, [-1, 3]), axis=0),
            tf.constant(np.cov(pixels, rowvar=False) + 1e-5 * np.eye(3), tf.float32))


COLOUR_MEAN_AND_COVARIANCE = [
    Mistake(statistics("divided_by_n", divide_by_n=True), "divide by N - 1, as np.cov does, "
            "not by N."),
    Mistake(statistics("not_centred", centre=False), "subtract the mean colour from every "
            "pixel before the product: the covariance is of the centred pixels."),
    Mistake(statistics("no_epsilon", epsilon="none"), "add 1e-5 times the 3 x 3 identity to "
            "the covariance, so that a grey image's has an inverse."),
    Mistake(statistics("epsilon_everywhere", epsilon="all"), "add 1e-5 on the diagonal only "
            "(1e-5 I), not to every entry."),
    Mistake(statistics("channels_mixed", unroll="channels"), "reshape the image to (N, 3), "
            "one row per pixel: a reshape to (3, N) mixes the channels (the last axis is the "
            "colour)."),
    Mistake(statistics("diagonal_only", full=False), "the covariance is the full 3 x 3 "
            "matrix: its off-diagonal entries say how the channels vary together."),
    Mistake(statistics("one_mean_for_all", centre_by="all"), "subtract each channel's own "
            "mean (a (3,) vector), not one mean over all the values."),
    Caught(statistics("pixels_by_pixels", gram_of="pixels"), "yours is pixels by pixels"),
    Caught(statistics("swapped", swapped=True), "in that order"),
    Caught(statistics("mean_kept_2d", keepdims=True), "one value per channel"),
    Caught(statistics_with_numpy, "inside tf.function"),
]


def eigen(name, combine):
    """A learner's symmetric_matrix_power that combines eigh's values and vectors so."""
    def symmetric_matrix_power(matrix, power):
        values, vectors = tf.linalg.eigh(matrix)
        return combine(values, vectors, power)
    return named(name, symmetric_matrix_power)


def power_entrywise(matrix, power):
    return matrix**power


SYMMETRIC_MATRIX_POWER = [
    Mistake(eigen("values_only", lambda values, V, p: tf.linalg.diag(values**p)),
            "put the eigenvectors back: V diag(lambda^power) V^T; diag(lambda^power) alone "
            "is the power in V's basis."),
    Mistake(eigen("order_swapped",
                  lambda values, V, p: tf.transpose(V) @ tf.linalg.diag(values**p) @ V),
            "the eigenvectors are the columns of V: the order is V diag(lambda^power) V^T, "
            "not V^T diag(...) V."),
    Mistake(eigen("no_transpose", lambda values, V, p: V @ tf.linalg.diag(values**p) @ V),
            "transpose the last factor: V diag(lambda^power) V^T."),
    Mistake(eigen("times",
                  lambda values, V, p: V @ tf.linalg.diag(values * p) @ tf.transpose(V)),
            "raise the eigenvalues to the power (lambda^power), do not multiply them by it."),
    Mistake(eigen("forgotten", lambda values, V, p: V @ tf.linalg.diag(values) @ tf.transpose(V)),
            "raise the eigenvalues to `power`: V diag(lambda) V^T is the matrix itself."),
    Mistake(power_entrywise, "raise the eigenvalues to the power, not each entry of the "
            "matrix."),
]


def _colour_statistics(image, denominator_offset=1):
    pixels = tf.reshape(tf.cast(image, tf.float64), [-1, 3])
    mean = tf.reduce_mean(pixels, axis=0)
    centred = pixels - mean
    count = tf.cast(tf.shape(pixels)[0] - denominator_offset, tf.float64)
    covariance = tf.matmul(centred, centred, transpose_a=True) / count
    return pixels, mean, covariance + 1e-5 * tf.eye(3, dtype=tf.float64)


def symmetric_power(matrix, power):
    values, vectors = tf.linalg.eigh(matrix)
    return vectors @ tf.linalg.diag(values**power) @ tf.transpose(vectors)


def right_transform(sigma_S, sigma_C):
    return symmetric_power(sigma_C, 0.5) @ symmetric_power(sigma_S, -0.5)


def colour_transfer(name="right", transform=right_transform, centre=True, clip=True,
                    denominator_offset=1, swapped=False):
    """A learner's match_color (in float64) whose matrix A is transform(Sigma_S, Sigma_C),
    with one mistake (the defaults: none)."""
    def match_color(style, content):
        if swapped:
            style, content = content, style
        pixels, mu_S, sigma_S = _colour_statistics(style, denominator_offset)
        _, mu_C, sigma_C = _colour_statistics(content, denominator_offset)
        A = transform(sigma_S, sigma_C)
        moved = tf.matmul(pixels - mu_S if centre else pixels, A, transpose_b=True)
        moved = moved + mu_C if centre else moved
        moved = tf.clip_by_value(moved, 0.0, 1.0) if clip else moved
        return tf.cast(tf.reshape(moved, tf.shape(style)), tf.float32)
    return named(name, match_color)


def match_returns_numpy(style, content):
    return colour_transfer()(style, content).numpy()


def match_by_the_pieces_references(style, content):  # the references do the work
    mu_S, sigma_S = nst.colour_mean_and_covariance(style)
    mu_C, sigma_C = nst.colour_mean_and_covariance(content)
    A = nst.symmetric_matrix_power(sigma_C, 0.5) @ nst.symmetric_matrix_power(sigma_S, -0.5)
    moved = tf.matmul(tf.reshape(style, [-1, 3]) - mu_S, A, transpose_b=True) + mu_C
    return tf.clip_by_value(tf.reshape(moved, tf.shape(style)), 0.0, 1.0)


WRONG_WAY_ROUND = ("A is the wrong way round: A = Sigma_C^(1/2) Sigma_S^(-1/2) (first whiten "
                   "the style's colours, then give them the content's covariance), and a "
                   "pixel, a row of the (N, 3) pixels, is multiplied by A^T (the same factors "
                   "in the other order).")
MATCH_COLOR = [
    Mistake(colour_transfer("swapped", swapped=True), "style and content are swapped: move "
            "the style's pixels to the content's colours (the result has the style's "
            "shape)."),
    Mistake(colour_transfer("covariance_not_root", lambda S, C: C @ tf.linalg.inv(S)),
            "take the square roots of the covariances: A = Sigma_C^(1/2) Sigma_S^(-1/2)."),
    Mistake(colour_transfer("factors_swapped", lambda S, C: symmetric_power(S, -0.5)
                            @ symmetric_power(C, 0.5)), WRONG_WAY_ROUND),
    Mistake(colour_transfer("a_not_transposed",
                            lambda S, C: tf.transpose(right_transform(S, C))), WRONG_WAY_ROUND),
    Mistake(colour_transfer("mean_only", lambda S, C: tf.eye(3, dtype=tf.float64)),
            "that matches the mean only: also move the covariance, x' = A (x - mu_S) + mu_C."),
    Mistake(colour_transfer("per_channel", lambda S, C: tf.linalg.diag(
        tf.sqrt(tf.linalg.diag_part(C) / tf.linalg.diag_part(S)))),
        "that matches each channel's spread alone: the colours are correlated, so use the "
        "full 3 x 3 covariance matrices."),
    Mistake(colour_transfer("cholesky", lambda S, C: tf.linalg.cholesky(C)
                            @ tf.linalg.inv(tf.linalg.cholesky(S))),
            "A uses the symmetric square roots (your symmetric_matrix_power), not a Cholesky "
            "factor."),
    Mistake(colour_transfer("over_n", denominator_offset=0), "the covariances are divided by "
            "N, not N - 1: compute them with your colour_mean_and_covariance."),
    Mistake(colour_transfer("no_mean_shift", centre=False), "subtract the style's mean colour "
            "before applying A, and add the content's after: x' = A (x - mu_S) + mu_C."),
    Mistake(colour_transfer("unclipped", clip=False), "clip the result to [0, 1]: it is an "
            "image."),
    Caught(match_returns_numpy, "not a tf.Tensor"),
    Caught(match_by_the_pieces_references, "calls nst.colour_mean_and_covariance"),
]


def masked_gram(name="right", resize=True, method="area", powers=(1, 0), divisor="sum",
                ignore_mask=False):
    """A learner's masked_style_target, (m^p F)^T (m^q F) / sum(m) with (p, q) = powers,
    with one mistake (the defaults: none)."""
    def masked_style_target(a, mask):
        n_C = a.shape[-1]
        mask = tf.ones_like(mask) if ignore_mask else mask
        grid = tf.image.resize(mask[tf.newaxis], a.shape[1:3], method) if resize else mask
        m = tf.reshape(grid, [-1, 1])
        F = tf.reshape(a, [-1, n_C])
        scale = {"sum": tf.reduce_sum(m), "positions": float(F.shape[0]),
                 "image sum": tf.reduce_sum(mask), "none": 1.0}[divisor]
        return tf.matmul(F * m ** powers[0], F * m ** powers[1], transpose_a=True) / scale
    return named(name, masked_style_target)


def masked_by_style_target(a, mask):  # the reference helper on sqrt(m) F, rescaled
    m = tf.image.resize(mask[tf.newaxis], a.shape[1:3], "area")
    n = float(a.shape[1] * a.shape[2])
    return nst.style_target(a * tf.sqrt(m)) * n / tf.reduce_sum(m)


TWICE = "your formula counts m twice (m^2) or more: weight one factor only, (m F)^T F / sum(m)."
AREA = ('resize the mask with method="area": each cell of the grid gets the mean of the '
        "pixels it covers, which other methods only sample.")
MASKED_STYLE_TARGET = [
    Mistake(masked_gram("by_the_positions", divisor="positions"), "divide by sum(m), the area "
            "the mask covers on the layer's grid, not by n_H n_W (all the positions)."),
    Mistake(masked_gram("on_both_factors", powers=(1, 1)), TWICE),
    Mistake(masked_gram("squared", powers=(2, 1)), TWICE),
    Mistake(masked_gram("by_the_image_sum", divisor="image sum"), "divide by the sum of m, the "
            "mask resized to the layer's grid, not by the sum of the full-size mask."),
    Mistake(masked_gram("not_divided", divisor="none"), "divide by sum(m): the result is a "
            "mean over the region, like style_target's over all positions."),
    Mistake(masked_gram("bilinear", method="bilinear"), AREA),
    Mistake(masked_gram("nearest", method="nearest"), AREA),
    Mistake(masked_gram("mask_ignored", ignore_mask=True), "the mask is ignored: weight each "
            "position's F F^T by m."),
    Caught(masked_gram("not_resized", resize=False), "resize the mask first"),
    Caught(masked_by_style_target, "calls nst.style_target"),
]


# -- Notebook 07: fast style transfer ---------------------------------------------------

def norm_with(name="right", axes=(1, 2), fixed_epsilon=None, divisor="sqrt", centre=True,
              unbiased=False, keepdims=True):
    """A learner's instance_norm with one mistake (the defaults: none)."""
    def instance_norm(x, epsilon=nst.INSTANCE_NORM_EPSILON):
        epsilon = epsilon if fixed_epsilon is None else fixed_epsilon
        mean, variance = tf.nn.moments(x, axes=list(axes), keepdims=keepdims)
        if unbiased:
            count = float(np.prod([x.shape[axis] for axis in axes]))
            variance = variance * count / (count - 1)
        return (x - mean if centre else x) / {
            "sqrt": tf.sqrt(variance + epsilon), "outside": tf.sqrt(variance) + epsilon,
            "none": tf.sqrt(variance), "variance": variance + epsilon}[divisor]
    return named(name, instance_norm)


def norm_by_group_normalization(x, epsilon=nst.INSTANCE_NORM_EPSILON):
    import keras

    return keras.layers.GroupNormalization(groups=-1, epsilon=epsilon, center=False,
                                           scale=False)(x)


def norm_by_the_reference(x, epsilon=nst.INSTANCE_NORM_EPSILON):
    return nst.instance_norm(x, epsilon)


PER_CHANNEL = ("normalise each channel of each image on its own: the mean and variance are "
               "over the positions, axes 1 and 2")
INSTANCE_NORM = [
    Mistake(norm_with("layer_norm", axes=(1, 2, 3)), f"{PER_CHANNEL}; over axes 1, 2, 3 the "
            "channels are mixed (that is layer normalisation)."),
    Mistake(norm_with("batch_norm", axes=(0, 1, 2)), f"{PER_CHANNEL}; over axes 0, 1, 2 the "
            "images of the batch are mixed (that is batch normalisation), so a picture would "
            "depend on its batch."),
    Mistake(norm_with("whole_batch", axes=(0, 1, 2, 3)), f"{PER_CHANNEL}, not over the "
            "whole batch."),
    Mistake(norm_with("no_epsilon", divisor="none"), "add epsilon to the variance, under the "
            "square root: without it a flat channel (a clear sky) is divided by about 0."),
    Mistake(norm_with("epsilon_outside", divisor="outside"), "epsilon goes under the square "
            "root: sqrt(variance + epsilon), not sqrt(variance) + epsilon."),
    Mistake(norm_with("by_the_variance", divisor="variance"), "divide by the standard "
            "deviation, sqrt(variance + epsilon), not by the variance."),
    Mistake(norm_with("not_centred", centre=False), "subtract the mean before dividing: the "
            "result has mean 0."),
    Mistake(norm_with("keras_epsilon", fixed_epsilon=1e-3), "epsilon is Keras's default 1e-3: "
            "use the epsilon argument (1e-5 by default), which normalises a flat patch as "
            "much as a busy one."),
    Mistake(norm_with("fixed_epsilon", fixed_epsilon=nst.INSTANCE_NORM_EPSILON), "use the "
            "epsilon argument, not a number of your own."),
    Mistake(norm_with("unbiased", unbiased=True), "the variance divides by the number of "
            "positions, n_H n_W, not n_H n_W - 1 (tf.nn.moments and tf.math.reduce_variance "
            "do)."),
    Caught(norm_with("reduced_axes_dropped", keepdims=False), "keepdims=True"),
    Caught(norm_by_group_normalization, "calls keras.layers.GroupNormalization"),
    Caught(norm_by_the_reference, "calls nst.instance_norm"),
]


def block_with(name="right", skip=True, relu_after=False, second_relu=False, convolutions=2):
    """A learner's residual_block from nst.conv_layer, with one mistake (the defaults:
    none)."""
    import keras

    def residual_block(x, channels, name="residual"):
        y = nst.conv_layer(x, channels, 3, f"{name}_a", relu=convolutions == 2)
        if convolutions == 2:
            y = nst.conv_layer(y, channels, 3, f"{name}_b", relu=second_relu)
        y = keras.layers.Add(name=f"{name}_add")([x, y]) if skip else y
        return keras.layers.ReLU(name=f"{name}_out")(y) if relu_after else y
    return named(name, residual_block)


def raw_block(name="raw_keras", padding="reflect", norm="instance",
              epsilon=nst.INSTANCE_NORM_EPSILON):
    """A learner's residual_block from raw Keras layers: reflection, zero or no padding,
    instance or batch normalisation (the defaults: right)."""
    import keras

    def residual_block(x, channels, name="residual"):
        y = x
        for part, relu in (("a", True), ("b", False)):
            if padding == "reflect":
                y = keras.layers.Lambda(nst.reflection_pad, arguments={"pad": 1},
                                        name=f"{name}_{part}_pad")(y)
            y = keras.layers.Conv2D(channels, 3, name=f"{name}_{part}_conv",
                                    padding="same" if padding == "zeros" else "valid")(y)
            y = (keras.layers.GroupNormalization(groups=-1, epsilon=epsilon) if norm == "instance"
                 else keras.layers.BatchNormalization())(y)
            y = keras.layers.ReLU()(y) if relu else y
        return keras.layers.Add()([x, y])
    return named(name, residual_block)


def block_ignoring_its_name(x, channels, name="residual"):
    return block_with("block")(x, channels, name="residual")


def block_by_the_reference(x, channels, name="residual"):
    return nst.residual_block(x, channels, name)


RESIDUAL_BLOCK = [
    Mistake(block_with("no_skip", skip=False), "add the block's input to F(x): without it the "
            "block is two plain layers, and the network has to learn to copy the photo."),
    Mistake(block_with("relu_after_the_sum", relu_after=True), "no ReLU after the addition: "
            "the block returns x + F(x) as it is."),
    Mistake(block_with("relu_on_both", second_relu=True), "the second conv_layer has no ReLU "
            "(relu=False): F(x) must be able to take something away from x."),
    Mistake(raw_block("zero_padding", padding="zeros"), "pad by reflection, as nst.conv_layer "
            "does, not with zeros (padding=\"same\"): zeros frame every picture with a dark "
            "border."),
    Mistake(raw_block("keras_epsilon", epsilon=1e-3), "instance normalisation's epsilon is "
            "1e-5 (nst.INSTANCE_NORM_EPSILON), not GroupNormalization's default 1e-3."),
    Caught(block_with("one_convolution", convolutions=1), "yours has one"),
    Caught(raw_block("batch_norm", norm="batch"), "uses batch normalisation"),
    Caught(raw_block("no_padding", padding="none"), "keep x's size"),
    Caught(block_ignoring_its_name, "every name unique"),
    Caught(block_by_the_reference, "calls nst.residual_block"),
]


def perceptual(name="right", reductions=(tf.reduce_mean, tf.reduce_mean), pooled=None,
               style_of="pictures", targets="given", per_position=True, four_n_C2=True,
               weighted=True, layers="given", swapped=False, content_of="features"):
    """A learner's batch_perceptual_costs with one mistake (the defaults: none). pooled:
    "sum" or "mean" for one Gram matrix of the whole batch, divided by n_H n_W (and by the
    batch size for "mean")."""
    def grams(a, pooled=None):
        batch, n_H, n_W, n_C = a.shape
        F = tf.reshape(a, [-1, n_C] if pooled else [-1, n_H * n_W, n_C])
        scale = (n_H * n_W if per_position else 1) * (batch if pooled == "mean" else 1)
        return tf.matmul(F, F, transpose_a=True) / scale

    def batch_perceptual_costs(photos, pictures, style_targets, extractor,
                               style_layers=nst.STYLE_LAYERS, content_layer=nst.CONTENT_LAYER):
        style_layers = nst.STYLE_LAYERS if layers == "course style" else style_layers
        content_layer = nst.CONTENT_LAYER if layers == "course content" else content_layer
        a_P, a_G = extractor(photos), extractor(pictures)
        c_P, c_G = ((photos, pictures) if content_of == "pixels"
                    else (a_P[content_layer], a_G[content_layer]))
        _, n_H, n_W, n_C = c_G.shape
        J_content = reductions[0](tf.reduce_sum(tf.square(c_P - c_G), axis=[1, 2, 3])
                                  / (4.0 * n_H * n_W * n_C))
        J_style = 0.0
        for layer, weight in style_layers:
            G = grams((a_P if style_of == "photos" else a_G)[layer], pooled)
            target = grams(a_P[layer]) if targets == "photos" else style_targets[layer]
            n_C = G.shape[-1]
            per_image = tf.reduce_sum(tf.square(G - target), axis=[-2, -1])
            per_image /= 4.0 * n_C**2 if four_n_C2 else 1.0
            J_style += (weight if weighted else 1.0) * reductions[1](per_image)
        return (J_style, J_content) if swapped else (J_content, J_style)
    return named(name, batch_perceptual_costs)


def perceptual_by_style_target(photos, pictures, style_targets, extractor,
                               style_layers=nst.STYLE_LAYERS, content_layer=nst.CONTENT_LAYER):
    a_G = extractor(pictures)
    J_style = tf.add_n([weight * nst.layer_style_cost_from_target(style_targets[layer],
                                                                 a_G[layer])
                        for layer, weight in style_layers])
    return perceptual()(photos, pictures, style_targets, extractor, style_layers,
                        content_layer)[0], J_style


def perceptual_by_the_reference(photos, pictures, style_targets, extractor,
                                style_layers=nst.STYLE_LAYERS, content_layer=nst.CONTENT_LAYER):
    return nst.batch_perceptual_costs(photos, pictures, style_targets, extractor,
                                      style_layers, content_layer)


def _per_image(costs):
    return costs


MEAN = ("take the mean of the images' costs over the batch, not their sum: the costs then do "
        "not grow with the batch size.")
POOLED = ("one Gram matrix per image: a reshape to (-1, n_C) pools the positions of every "
          "image of the batch into one Gram matrix, which mixes their styles. Keep the batch "
          "axis: (batch, n_H n_W, n_C).")
BATCH_PERCEPTUAL_COSTS = [
    Mistake(perceptual("summed", reductions=(tf.reduce_sum, tf.reduce_sum)), MEAN),
    Mistake(perceptual("content_summed", reductions=(tf.reduce_sum, tf.reduce_mean)), MEAN),
    Mistake(perceptual("style_summed", reductions=(tf.reduce_mean, tf.reduce_sum)), MEAN),
    Mistake(perceptual("one_gram_for_the_batch", pooled="sum"), POOLED),
    Mistake(perceptual("one_mean_gram_for_the_batch", pooled="mean"), POOLED),
    Mistake(perceptual("swapped", swapped=True), "return (J_content, J_style), in that "
            "order."),
    Mistake(perceptual("style_of_the_photos", style_of="photos"), "measure the style of the "
            "pictures (the network's output), not of the photos."),
    Mistake(perceptual("targets_from_the_photos", targets="photos"), "compare the pictures' "
            "Gram matrices with style_targets, the painting's, not with the photos' Gram "
            "matrices."),
    Mistake(perceptual("not_per_position", per_position=False), "style_targets are per "
            "position (style_target divides the Gram matrix by n_H n_W): divide each "
            "picture's Gram matrix by its n_H n_W too."),
    Mistake(perceptual("without_4_n_C2", four_n_C2=False), "divide each layer's sum of "
            "squares by 4 n_C^2, as layer_style_cost_from_target does."),
    Mistake(perceptual("weights_ignored", weighted=False), "multiply each layer's cost by its "
            "weight from style_layers."),
    Mistake(perceptual("course_content_layer", layers="course content"), "take the content "
            "layer from the content_layer argument, not nst.CONTENT_LAYER."),
    Mistake(perceptual("course_style_layers", layers="course style"), "take the layers and "
            "their weights from the style_layers argument, not nst.STYLE_LAYERS."),
    Mistake(perceptual("content_of_the_pixels", content_of="pixels"), "compare photos and "
            "pictures by their activations at content_layer, not by their pixels."),
    Caught(perceptual("per_image", reductions=(_per_image, _per_image)),
           "one number for the batch"),
    Caught(perceptual_by_style_target, "take one image"),
    Caught(perceptual_by_the_reference, "calls nst.batch_perceptual_costs"),
]


def fast_step(name="right", weights=lambda alpha, beta, tv: (alpha, beta, tv), outside=False,
              gradient_of="weights", applied=True, after=False, returns="all", uphill=False,
              order=(0, 1, 2)):
    """A learner's fast_train_step with one mistake (the defaults: none)."""
    def fast_train_step(network, photos, style_targets, extractor, optimizer, alpha, beta,
                        tv_weight=0.0):
        a, b, tv = weights(alpha, beta, tv_weight)

        def costs(pictures):
            J_content, J_style = nst.batch_perceptual_costs(photos, pictures, style_targets,
                                                            extractor)
            J = nst.total_cost(J_content, J_style, a, b) + tv * nst.total_variation(pictures)
            return J, J_content, J_style

        pictures = network(photos) if outside else None
        with tf.GradientTape() as tape:
            pictures = pictures if outside else network(photos, training=True)
            J, J_content, J_style = costs(pictures)
        variables = network.trainable_variables
        gradients = tape.gradient(J, {"weights": variables, "photos": photos,
                                      "pictures": pictures}[gradient_of])
        if uphill:
            gradients = [-gradient for gradient in gradients]
        if applied:
            optimizer.apply_gradients(zip(gradients, variables, strict=False))  # as learners do
        if after:
            J, J_content, J_style = costs(network(photos))
        result = (J, J_content, J_style)
        return J if returns == "J" else tuple(result[i] for i in order)
    return named(name, fast_train_step)


def step_by_the_reference(network, photos, style_targets, extractor, optimizer, alpha, beta,
                          tv_weight=0.0):
    return nst.fast_train_step(network, photos, style_targets, extractor, optimizer, alpha,
                               beta, tv_weight)


FAST_TRAIN_STEP = [
    Mistake(fast_step("weights_swapped", weights=lambda a, b, tv: (b, a, tv)), "alpha and "
            "beta are swapped: alpha weighs J_content, beta J_style."),
    Mistake(fast_step("tv_ignored", weights=lambda a, b, tv: (a, b, 0.0)), "add tv_weight "
            "times the total variation of the pictures to J."),
    Mistake(fast_step("costs_after", after=True), "return the costs computed under the tape, "
            "before the update."),
    Mistake(fast_step("uphill", uphill=True), "the weights moved uphill: hand the optimiser "
            "the gradients themselves (it subtracts them), not their negatives."),
    Mistake(fast_step("style_before_content", order=(0, 2, 1)), "return (J, J_content, "
            "J_style), in that order."),
    Caught(fast_step("not_applied", applied=False), "weights unchanged"),
    Caught(fast_step("gradient_of_the_photos", gradient_of="photos"), "not the photos"),
    Caught(fast_step("gradient_of_the_pictures", gradient_of="pictures"),
           "not the pictures or the photos"),
    Caught(fast_step("only_J", returns="J"), "return (J, J_content, J_style)"),
    Caught(fast_step("network_outside_the_tape", outside=True),
           "inside the `with tf.GradientTape()` block"),
    Caught(step_by_the_reference, "calls nst.fast_train_step"),
]


# -- Notebook 08: the plateau stopping rule ---------------------------------------------

def plateau_rule(name="right", window=0, too_few=False, before="best", recent="best",
                 scale="before", compare="<"):
    """A learner's plateau_reached with one mistake (the defaults: none). before: the best
    cost before the window, its "first" or its "last"; recent: the window's "best" or its
    "last"; compare: how the drop meets the allowed one."""
    def plateau_reached(costs, patience, tolerance):
        if len(costs) <= patience:
            return too_few
        size = patience + window
        earlier = costs[:-size]
        best_before = {"best": min(earlier), "first": costs[0], "last": earlier[-1]}[before]
        best_recent = min(costs[-size:]) if recent == "best" else costs[-1]
        allowed = tolerance * {"before": best_before, "recent": best_recent,
                               "absolute": 1.0}[scale]
        drop = best_before - best_recent
        return {"<": drop < allowed, "<=": drop <= allowed, ">=": drop >= allowed}[compare]
    return named(name, plateau_reached)


def plateau_guard_too_loose(costs, patience, tolerance):
    if len(costs) < patience:
        return False
    before = min(costs[:-patience])
    return before - min(costs[-patience:]) < tolerance * before


def plateau_pops_the_window(costs, patience, tolerance):
    if len(costs) <= patience:
        return False
    recent = min(costs.pop() for _ in range(patience))
    return min(costs) - recent < tolerance * min(costs)


def plateau_returns_the_drop(costs, patience, tolerance):
    if len(costs) <= patience:
        return False
    before = min(costs[:-patience])
    return (before - min(costs[-patience:])) / before


WINDOW = "the window is the last patience costs; yours holds one "
PLATEAU_REACHED = [
    Mistake(plateau_rule("inverted", compare=">="), "True means a plateau: the costs have "
            "stopped improving. Yours says True while they still improve."),
    Mistake(plateau_rule("true_with_too_few", too_few=True), "with patience costs or fewer "
            "the run has just begun: return False (nothing comes before the window to compare "
            "with)."),
    Mistake(plateau_rule("window_too_long", window=1), WINDOW + "more."),
    Mistake(plateau_rule("window_too_short", window=-1), WINDOW + "fewer."),
    Mistake(plateau_rule("from_the_first", before="first"), "compare with the best of all the "
            "costs before the window, not with the first cost: the first is the highest, so "
            "the run never seems to stop improving."),
    Mistake(plateau_rule("from_just_before", before="last"), "compare with the best (lowest) "
            "of all the costs before the window, not with the one just before it: costs can "
            "go up and down (Adam's do)."),
    Mistake(plateau_rule("to_the_last", recent="last"), "take the best (lowest) of the last "
            "patience costs, not the last one: a cost a little up at the end does not undo "
            "the window's best."),
    Mistake(plateau_rule("absolute_tolerance", scale="absolute"), "tolerance is a fraction: "
            "compare the drop with tolerance times the best before the window, not with "
            "tolerance itself (costs can be in the millions, or tiny)."),
    Mistake(plateau_rule("relative_to_the_window", scale="recent"), "the drop is a fraction of "
            "the best before the window, not of the best in the window."),
    Mistake(plateau_rule("at_most", compare="<="), "a drop of exactly tolerance times the "
            "earlier best is still an improvement: a plateau is a drop of less than that, not "
            "of at most that."),
    Caught(plateau_guard_too_loose, "min of an empty list"),
    Caught(plateau_pops_the_window, "changed costs"),
    Caught(plateau_returns_the_drop, "return True or False"),
]


CATALOGUE = {
    "count_conv_params": COUNT_CONV_PARAMS,
    "compute_content_cost": COMPUTE_CONTENT_COST,
    "gram_matrix": GRAM_MATRIX,
    "compute_layer_style_cost": COMPUTE_LAYER_STYLE_COST,
    "compute_style_cost": COMPUTE_STYLE_COST,
    "total_cost": TOTAL_COST,
    "make_cost_and_gradient": MAKE_COST_AND_GRADIENT,
    "lbfgs": LBFGS,
    "total_variation": TOTAL_VARIATION,
    "train_step": TRAIN_STEP,
    "rgb_to_yiq": RGB_TO_YIQ,
    "yiq_to_rgb": YIQ_TO_RGB,
    "colour_mean_and_covariance": COLOUR_MEAN_AND_COVARIANCE,
    "symmetric_matrix_power": SYMMETRIC_MATRIX_POWER,
    "match_color": MATCH_COLOR,
    "masked_style_target": MASKED_STYLE_TARGET,
    "instance_norm": INSTANCE_NORM,
    "residual_block": RESIDUAL_BLOCK,
    "batch_perceptual_costs": BATCH_PERCEPTUAL_COSTS,
    "fast_train_step": FAST_TRAIN_STEP,
    "plateau_reached": PLATEAU_REACHED,
}
