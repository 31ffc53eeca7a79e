"""The exercise checks: they accept the reference and reject common wrong answers with a
hint that fits the mistake."""

import numpy as np
import pytest
import tensorflow as tf

import nst_checks
import nst_helpers as nst

CHECKS = {
    "compute_content_cost": (nst.check_compute_content_cost, nst.compute_content_cost),
    "gram_matrix": (nst.check_gram_matrix, nst.gram_matrix),
    "compute_layer_style_cost": (nst.check_compute_layer_style_cost,
                                 nst.compute_layer_style_cost),
    "compute_style_cost": (nst.check_compute_style_cost, nst.compute_style_cost),
    "total_cost": (nst.check_total_cost, nst.total_cost),
    "make_cost_and_gradient": (nst.check_make_cost_and_gradient,
                               nst.make_cost_and_gradient),
    "lbfgs": (nst.check_lbfgs, nst.lbfgs),
    "total_variation": (nst.check_total_variation, nst.total_variation),
    "count_conv_params": (nst.check_count_conv_params, nst.count_conv_params),
    "train_step": (nst.check_train_step, nst.train_step),
    "rgb_to_yiq": (nst.check_rgb_to_yiq, nst.rgb_to_yiq),
    "yiq_to_rgb": (nst.check_yiq_to_rgb, nst.yiq_to_rgb),
    "colour_mean_and_covariance": (nst.check_colour_mean_and_covariance,
                                   nst.colour_mean_and_covariance),
    "symmetric_matrix_power": (nst.check_symmetric_matrix_power, nst.symmetric_matrix_power),
    "match_color": (nst.check_match_color, nst.match_color),
    "masked_style_target": (nst.check_masked_style_target, nst.masked_style_target),
    "instance_norm": (nst.check_instance_norm, nst.instance_norm),
    "residual_block": (nst.check_residual_block, nst.residual_block),
    "batch_perceptual_costs": (nst.check_batch_perceptual_costs, nst.batch_perceptual_costs),
    "fast_train_step": (nst.check_fast_train_step, nst.fast_train_step),
    "plateau_reached": (nst.check_plateau_reached, nst.plateau_reached),
}


# Checks that run VGG19 on a real problem or train for a few steps: seconds each, so their
# tests are left to `make test` (marked slow); `make unit` runs the rest.
HEAVY = {"make_cost_and_gradient", "lbfgs", "train_step", "residual_block",
         "batch_perceptual_costs", "fast_train_step"}


def each_check(names=CHECKS):
    return [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name
            for name in names]


@pytest.mark.parametrize("name", each_check())
def test_every_check_accepts_the_reference(name, capsys):
    check, reference = CHECKS[name]
    check(reference)
    assert capsys.readouterr().out.startswith(f"{name}: OK")


@pytest.mark.parametrize("name", CHECKS)
def test_every_check_reports_a_stub_as_not_written(name):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="not written yet"):
        CHECKS[name][0](stub)


# -- The catalogue: realistic wrong answers, the check that must reject each, the hint. --

def dims(a):
    _, n_H, n_W, n_C = a.shape
    return n_H, n_W, n_C


def content_mean(a_C, a_G):
    return tf.reduce_mean(tf.square(a_C - a_G))


def content_no_normalisation(a_C, a_G):
    return tf.reduce_sum(tf.square(a_C - a_G))


def content_no_square(a_C, a_G):
    n_H, n_W, n_C = dims(a_G)
    return tf.reduce_sum(tf.abs(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_norm_not_squared(a_C, a_G):
    n_H, n_W, n_C = dims(a_G)
    return tf.norm(a_C - a_G) / (4 * n_H * n_W * n_C)


def content_with_numpy(a_C, a_G):
    n_H, n_W, n_C = dims(a_G)
    return tf.constant(np.sum((a_C.numpy() - a_G.numpy()) ** 2) / (4 * n_H * n_W * n_C))


def content_numpy_square(a_C, a_G):  # works eagerly, fails on symbolic tensors
    n_H, n_W, n_C = dims(a_G)
    return tf.reduce_sum(np.square(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_returns_numpy(a_C, a_G):
    n_H, n_W, n_C = dims(a_G)
    return np.sum(np.square(np.asarray(a_C) - np.asarray(a_G))) / (4 * n_H * n_W * n_C)


def content_denominator_unbracketed(a_C, a_G):  # / 4 * n_H ... multiplies by the sizes
    n_H, n_W, n_C = dims(a_G)
    return tf.reduce_sum(tf.square(a_C - a_G)) / 4 * n_H * n_W * n_C


def content_int32_sizes(a_C, a_G):  # tf.shape's sizes, not cast
    shape = tf.shape(a_G)
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * shape[1] * shape[2] * shape[3])


def content_batch_taken_as_height(a_C, a_G):
    n_H, n_W, n_C = a_G.shape[:3]
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)


def content_python_sum(a_C, a_G):  # sums along the first (batch) axis only
    n_H, n_W, n_C = dims(a_G)
    return sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)


def gram_transposed(A):
    return tf.matmul(tf.transpose(A), A)


def gram_elementwise(A):
    return A * A


def gram_normalised(A):
    return tf.matmul(A, A, transpose_b=True) / tf.cast(tf.shape(A)[1], tf.float32)


def layer_style(unroll, gram, denominator):
    def cost(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        G_S, G_G = gram(unroll(a_S)), gram(unroll(a_G))
        return tf.reduce_sum(tf.square(G_S - G_G)) / denominator(n_H, n_W, n_C)
    return cost


def right_unroll(a):
    return tf.transpose(tf.reshape(a, [-1, a.shape[-1]]))


def reshape_without_transpose(a):
    return tf.reshape(a, [a.shape[-1], -1])


def gram(A):
    return tf.matmul(A, A, transpose_b=True)


def seeds_denominator(n_H, n_W, n_C):
    return 4.0 * n_C**2 * (n_H * n_W) ** 2


def style_ignores_weights(style_activations, generated_activations, style_layers):
    return tf.add_n([nst.compute_layer_style_cost(style_activations[n], generated_activations[n])
                     for n, _ in style_layers])


def style_last_layer_only(style_activations, generated_activations, style_layers):
    name, weight = style_layers[-1]
    return weight * nst.compute_layer_style_cost(style_activations[name],
                                                 generated_activations[name])


def style_averaged(style_activations, generated_activations, style_layers):
    return tf.add_n([w * nst.compute_layer_style_cost(style_activations[n],
                                                      generated_activations[n])
                     for n, w in style_layers]) / len(style_layers)


def positions_by_channels(a):  # reshaped to (n_H n_W, n_C), the transpose forgotten
    return tf.reshape(a, [-1, a.shape[-1]])


def layer_style_with_nst_unroll(a_S, a_G):  # the unrolling is part of the exercise
    return layer_style(nst.unroll, gram, seeds_denominator)(a_S, a_G)


def style_paired_by_position(style_activations, generated_activations, style_layers):
    return tf.add_n([w * nst.compute_layer_style_cost(style_activations[n],
                                                      generated_activations[n])
                     for (_, w), n in zip(style_layers, style_activations, strict=False)])


def style_default_layers(style_activations, generated_activations, style_layers):
    return tf.add_n([w * nst.compute_layer_style_cost(style_activations[n],
                                                      generated_activations[n])
                     for n, w in nst.STYLE_LAYERS])


def style_over_the_dictionaries(style_activations, generated_activations, style_layers):
    weights = dict(style_layers)
    return tf.add_n([weights[n] * nst.compute_layer_style_cost(a, generated_activations[n])
                     for n, a in style_activations.items()])


def layer_style_int32_sizes(a_S, a_G):  # tf.shape's int32 sizes multiplied, then cast
    _, n_H, n_W, n_C = tf.unstack(tf.shape(a_G))
    G_S, G_G = gram(right_unroll(a_S)), gram(right_unroll(a_G))
    denominator = tf.cast(4 * n_C**2 * (n_H * n_W) ** 2, tf.float32)
    return tf.reduce_sum(tf.square(G_S - G_G)) / denominator


def step_without_clip(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(tape.gradient(J, generated), generated)])
    return J


def step_uphill(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(-tape.gradient(J, generated), generated)])
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return J


def step_never_applied(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    tape.gradient(J, generated)
    return J


def step_swapped_weights(generated, compute_costs, optimizer, alpha, beta):
    return nst.train_step(generated, compute_costs, optimizer, beta, alpha)


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


def step_by_hand(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    generated.assign_sub(optimizer.learning_rate * tape.gradient(J, generated))
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return J


def step_returns_the_cost_after(generated, compute_costs, optimizer, alpha, beta):
    with tf.GradientTape() as tape:
        J = nst.total_cost(*compute_costs(generated), alpha, beta)
    optimizer.apply_gradients([(tape.gradient(J, generated), generated)])
    generated.assign(tf.clip_by_value(generated, 0.0, 1.0))
    return nst.total_cost(*compute_costs(generated), alpha, beta)


def total_swapped(J_content, J_style, alpha=10, beta=0.04):
    return beta * J_content + alpha * J_style


def total_hard_coded(J_content, J_style, alpha=10, beta=0.04):
    return 10 * J_content + 0.04 * J_style


def total_normalised(J_content, J_style, alpha=10, beta=0.04):
    return (alpha * J_content + beta * J_style) / (alpha + beta)


def tv_squared(image):
    return (tf.reduce_mean(tf.square(image[:, 1:] - image[:, :-1]))
            + tf.reduce_mean(tf.square(image[:, :, 1:] - image[:, :, :-1])))


def tv_one_direction(image):
    return tf.reduce_mean(tf.abs(image[:, 1:] - image[:, :-1]))


def tv_averaged(image):
    return (tf.reduce_mean(tf.abs(image[:, 1:] - image[:, :-1]))
            + tf.reduce_mean(tf.abs(image[:, :, 1:] - image[:, :, :-1]))) / 2


def tv_over_the_pixels(image):
    return ((tf.reduce_sum(tf.abs(image[:, 1:] - image[:, :-1]))
             + tf.reduce_sum(tf.abs(image[:, :, 1:] - image[:, :, :-1])))
            / tf.cast(tf.size(image), tf.float32))


def tv_one_mean_for_both(image):
    down = tf.reshape(tf.abs(image[:, 1:] - image[:, :-1]), [-1])
    across = tf.reshape(tf.abs(image[:, :, 1:] - image[:, :, :-1]), [-1])
    return tf.reduce_mean(tf.concat([down, across], axis=0))


def tv_rolled(image):
    return (tf.reduce_mean(tf.abs(image - tf.roll(image, 1, axis=1)))
            + tf.reduce_mean(tf.abs(image - tf.roll(image, 1, axis=2))))


def tv_isotropic(image):
    down = image[:, 1:, :-1] - image[:, :-1, :-1]
    across = image[:, :-1, 1:] - image[:, :-1, :-1]
    return tf.reduce_mean(tf.sqrt(tf.square(down) + tf.square(across)))


def tv_tensorflow_sum(image):
    return tf.image.total_variation(image)


def params_without_bias(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_in * channels_out


def params_one_channel_per_filter(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_out + channels_out


def params_kernel_not_squared(kernel_size, channels_in, channels_out):
    return kernel_size * channels_in * channels_out + channels_out


def params_bias_per_input_channel(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_in * channels_out + channels_in


# Notebook 06: colour (YIQ, colour matching) and place (masked Gram matrices).
M = nst.RGB_TO_YIQ
M_INVERSE = np.linalg.inv(M)


def yiq_not_transposed(image):
    return tf.tensordot(image, M, axes=1)


def yiq_channels_reversed(image):
    return tf.tensordot(image[..., ::-1], M.T, axes=1)


def yiq_with_the_inverse(image):
    return tf.tensordot(image, M_INVERSE.T, axes=1)


def yiq_with_numpy(image):  # works eagerly, fails on symbolic tensors
    return tf.constant(np.asarray(image) @ M.T)


def rgb_inverse_as_transpose(yiq):  # as if RGB_TO_YIQ were orthogonal
    return tf.tensordot(yiq, M.T.T, axes=1)


def rgb_inverse_not_transposed(yiq):
    return tf.tensordot(yiq, M_INVERSE, axes=1)


def rgb_forward_again(yiq):
    return tf.tensordot(yiq, M.T, axes=1)


def rgb_clipped(yiq):
    return tf.clip_by_value(tf.tensordot(yiq, M_INVERSE.T, axes=1), 0.0, 1.0)


def statistics(centre=True, divide_by_n=False, epsilon="identity", unroll="pixels",
               swapped=False, gram="channels", keepdims=False):
    """A TensorFlow colour_mean_and_covariance with one mistake, or none."""
    def mean_and_covariance(image):
        if unroll == "pixels":
            pixels = tf.reshape(image, [-1, 3])
        else:
            pixels = tf.transpose(tf.reshape(image, [3, -1]))
        mean = tf.reduce_mean(pixels, axis=0, keepdims=keepdims)
        centred = pixels - mean if centre else pixels
        count = tf.cast(tf.shape(pixels)[0], tf.float32) - (0.0 if divide_by_n else 1.0)
        if gram == "channels":
            covariance = tf.matmul(centred, centred, transpose_a=True) / count
        else:  # (N, N): the transpose on the wrong factor
            covariance = tf.matmul(centred, centred, transpose_b=True) / count
        covariance += {"identity": 1e-5 * tf.eye(3), "none": 0.0, "all": 1e-5}[epsilon]
        return (covariance, mean) if swapped else (mean, covariance)
    mean_and_covariance.__name__ = "statistics"
    return mean_and_covariance


def statistics_with_numpy(image):  # np.cov works eagerly, fails on symbolic tensors
    pixels = np.reshape(image, (-1, 3))
    return (tf.reduce_mean(tf.reshape(image, [-1, 3]), axis=0),
            tf.constant(np.cov(pixels, rowvar=False) + 1e-5 * np.eye(3), tf.float32))


def eigen(combine):
    """A TensorFlow symmetric_matrix_power that combines eigh's values and vectors so."""
    def power_of(matrix, power):
        values, vectors = tf.linalg.eigh(matrix)
        return combine(values, vectors, power)
    power_of.__name__ = "power_of"
    return power_of


power_values_only = eigen(lambda values, V, p: tf.linalg.diag(values**p))
power_order_swapped = eigen(
    lambda values, V, p: tf.transpose(V) @ tf.linalg.diag(values**p) @ V)
power_no_transpose = eigen(lambda values, V, p: V @ tf.linalg.diag(values**p) @ V)
power_times = eigen(lambda values, V, p: V @ tf.linalg.diag(values * p) @ tf.transpose(V))
power_forgotten = eigen(lambda values, V, p: V @ tf.linalg.diag(values) @ tf.transpose(V))


def power_entrywise(matrix, power):
    return matrix**power


def colour_statistics(image, denominator_offset=1):
    pixels = tf.reshape(tf.cast(image, tf.float64), [-1, 3])
    mean = tf.reduce_mean(pixels, axis=0)
    centred = pixels - mean
    count = tf.cast(tf.shape(pixels)[0] - denominator_offset, tf.float64)
    covariance = tf.matmul(centred, centred, transpose_a=True) / count
    return pixels, mean, covariance + 1e-5 * tf.eye(3, dtype=tf.float64)


def symmetric_power(matrix, power):
    values, vectors = tf.linalg.eigh(matrix)
    return vectors @ tf.linalg.diag(values**power) @ tf.transpose(vectors)


def colour_transfer(name, transform, centre=True, clip=True, denominator_offset=1):
    """A TensorFlow match_color whose matrix A is transform(Sigma_S, Sigma_C)."""
    def match(style, content):
        pixels, mu_S, sigma_S = colour_statistics(style, denominator_offset)
        _, mu_C, sigma_C = colour_statistics(content, denominator_offset)
        A = transform(sigma_S, sigma_C)
        moved = tf.matmul(pixels - mu_S if centre else pixels, A, transpose_b=True)
        moved = moved + mu_C if centre else moved
        moved = tf.clip_by_value(moved, 0.0, 1.0) if clip else moved
        return tf.cast(tf.reshape(moved, tf.shape(style)), tf.float32)
    match.__name__ = name
    return match


def right_transform(sigma_S, sigma_C):
    return symmetric_power(sigma_C, 0.5) @ symmetric_power(sigma_S, -0.5)


def match_swapped(style, content):
    return colour_transfer("match", right_transform)(content, style)


match_covariance_not_root = colour_transfer(
    "match_covariance_not_root", lambda S, C: C @ tf.linalg.inv(S))
match_factors_swapped = colour_transfer(
    "match_factors_swapped", lambda S, C: symmetric_power(S, -0.5) @ symmetric_power(C, 0.5))
match_mean_only = colour_transfer("match_mean_only", lambda S, C: tf.eye(3, dtype=tf.float64))
match_per_channel = colour_transfer(
    "match_per_channel",
    lambda S, C: tf.linalg.diag(tf.sqrt(tf.linalg.diag_part(C) / tf.linalg.diag_part(S))))
match_cholesky = colour_transfer(
    "match_cholesky", lambda S, C: tf.linalg.cholesky(C) @ tf.linalg.inv(tf.linalg.cholesky(S)))
match_no_mean_shift = colour_transfer("match_no_mean_shift", right_transform, centre=False)
match_unclipped = colour_transfer("match_unclipped", right_transform, clip=False)


def match_returns_numpy(style, content):
    return colour_transfer("match", right_transform)(style, content).numpy()


def match_a_not_transposed(style, content):  # each pixel row times A instead of A^T
    return colour_transfer("match", lambda S, C: tf.transpose(right_transform(S, C)))(
        style, content)


def match_by_the_pieces_references(style, content):  # the references do the work
    mu_S, sigma_S = nst.colour_mean_and_covariance(style)
    mu_C, sigma_C = nst.colour_mean_and_covariance(content)
    A = nst.symmetric_matrix_power(sigma_C, 0.5) @ nst.symmetric_matrix_power(sigma_S, -0.5)
    moved = tf.matmul(tf.reshape(style, [-1, 3]) - mu_S, A, transpose_b=True) + mu_C
    return tf.clip_by_value(tf.reshape(moved, tf.shape(style)), 0.0, 1.0)


def masked_gram(resize=True, method="area", power=1, divisor="sum"):
    def target(a, mask):
        n_C = a.shape[-1]
        grid = tf.image.resize(mask[tf.newaxis], a.shape[1:3], method) if resize else mask
        m = tf.reshape(grid, [-1, 1])
        F = tf.reshape(a, [-1, n_C])
        scale = {"sum": tf.reduce_sum(m), "positions": float(F.shape[0]),
                 "image sum": tf.reduce_sum(mask), "none": 1.0}[divisor]
        return tf.matmul(F * m**power, F * m ** (power - 1), transpose_a=True) / scale
    target.__name__ = f"masked_{'area' if resize else 'not_resized'}_{method}_{power}_{divisor}"
    return target


def masked_by_style_target(a, mask):  # the reference helper on sqrt(m) F, rescaled
    m = tf.image.resize(mask[tf.newaxis], a.shape[1:3], "area")
    n = float(a.shape[1] * a.shape[2])
    return nst.style_target(a * tf.sqrt(m)) * n / tf.reduce_sum(m)


def masked_ignores_mask(a, mask):
    F = tf.reshape(a, [-1, a.shape[-1]])
    return tf.matmul(F, F, transpose_a=True) / float(F.shape[0])


# Notebook 08: the plateau stopping rule.

def plateau_rule(window=0, too_few=False, first=False, just_before=False, last=False,
                 scale="before", compare="<"):
    """A learner's plateau_reached with one mistake (the defaults: none)."""
    def plateau(costs, patience, tolerance):
        if len(costs) <= patience:
            return too_few
        size = patience + window
        before = costs[0] if first else costs[-size - 1] if just_before else min(costs[:-size])
        recent = costs[-1] if last else min(costs[-size:])
        allowed = tolerance * {"before": before, "recent": recent, "absolute": 1}[scale]
        drop = before - recent
        return {"<": drop < allowed, "<=": drop <= allowed, ">=": drop >= allowed}[compare]
    changed = [{1: "window_too_long", -1: "window_too_short"}.get(window),
               too_few and "true_with_too_few", first and "from_the_first",
               just_before and "from_just_before", last and "to_the_last",
               scale != "before" and f"relative_to_{scale}",
               {"<=": "at_most", ">=": "inverted"}.get(compare)]
    plateau.__name__ = "_".join(["plateau", *filter(None, changed)])
    return plateau


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


def plateau_with_numpy(costs, patience, tolerance):  # right: NumPy, and a ratio
    costs = np.asarray(costs)
    if costs.size < patience + 1:
        return False
    return np.min(costs[-patience:]) / np.min(costs[:-patience]) > 1 - tolerance


def test_plateau_reached_accepts_other_ways_of_writing_it(capsys):
    nst.check_plateau_reached(plateau_with_numpy)
    nst.check_plateau_reached(plateau_rule())
    assert capsys.readouterr().out.count("plateau_reached: OK") == 2


CATALOGUE = [
    ("compute_content_cost", content_mean, "divided by n_H n_W n_C"),
    ("compute_content_cost", content_no_normalisation, "divide the sum of squares by 4 n_H"),
    ("compute_content_cost", content_no_square, "square the differences"),
    ("compute_content_cost", content_norm_not_squared, "no square root"),
    ("compute_content_cost", content_with_numpy, "inside tf.function"),
    ("compute_content_cost", content_numpy_square, "inside tf.function"),
    ("compute_content_cost", content_returns_numpy, "not a tf.Tensor"),
    ("compute_content_cost", content_denominator_unbracketed, "denominator in brackets"),
    ("compute_content_cost", content_int32_sizes, "cast the sizes"),
    ("compute_content_cost", content_batch_taken_as_height, "the first size is the batch"),
    ("compute_content_cost", content_python_sum, "Python's sum()"),
    ("gram_matrix", gram_transposed, "you computed A^T A"),
    ("gram_matrix", gram_elementwise, "not an element-wise product"),
    ("gram_matrix", gram_normalised, "unnormalised"),
    ("compute_layer_style_cost", layer_style(reshape_without_transpose, gram, seeds_denominator),
     "channels got mixed"),
    ("compute_layer_style_cost",
     layer_style(right_unroll, lambda A: tf.matmul(A, A, transpose_a=True), seeds_denominator),
     "not A^T A"),
    ("compute_layer_style_cost",
     layer_style(right_unroll, gram, lambda n_H, n_W, n_C: 4.0 * n_C * n_H * n_W),
     "both factors are squared"),
    ("compute_layer_style_cost",
     layer_style(right_unroll, gram, lambda n_H, n_W, n_C: float(n_C**2 * (n_H * n_W) ** 2)),
     "forgot the 4"),
    ("compute_layer_style_cost",
     layer_style(right_unroll, gram, lambda n_H, n_W, n_C: 2.0 * n_C**2 * (n_H * n_W) ** 2),
     "times the reference"),
    ("compute_style_cost", style_ignores_weights, "multiply each layer's cost by its weight"),
    ("compute_style_cost", style_last_layer_only, "not only the last one"),
    ("compute_style_cost", style_averaged, "do not average"),
    ("compute_style_cost", style_paired_by_position, "up by its name"),
    ("compute_style_cost", style_default_layers, "not nst.STYLE_LAYERS"),
    ("compute_style_cost", style_over_the_dictionaries, "does not list"),
    ("total_cost", total_swapped, "swapped"),
    ("total_cost", total_hard_coded, "not the numbers 10 and 0.04"),
    ("total_cost", total_normalised, "without dividing by alpha + beta"),
    ("total_variation", tv_squared, "absolute differences, not squared"),
    ("total_variation", tv_one_direction, "add both directions"),
    ("total_variation", tv_averaged, "do not average them"),
    ("total_variation", tv_over_the_pixels, "its own number of pairs"),
    ("total_variation", tv_one_mean_for_both, "each direction's mean on its own"),
    ("total_variation", tv_rolled, "wraps the last row"),
    ("total_variation", tv_isotropic, "anisotropic"),
    ("total_variation", tv_tensorflow_sum, "that is tf.image.total_variation"),
    ("count_conv_params", params_without_bias, "count the biases"),
    ("count_conv_params", params_one_channel_per_filter, "through every input channel"),
    ("count_conv_params", params_kernel_not_squared, "k * k weights per input channel"),
    ("count_conv_params", params_bias_per_input_channel, "not per input channel"),
    ("compute_layer_style_cost", layer_style_int32_sizes, "the denominator overflowed"),
    ("compute_layer_style_cost", layer_style(positions_by_channels, gram, seeds_denominator),
     "one row per channel"),
    ("compute_layer_style_cost", layer_style_with_nst_unroll, "calls nst.unroll"),
    ("train_step", step_without_clip, "clip the pixels to [0, 1]"),
    ("train_step", step_uphill, "moved uphill"),
    ("train_step", step_never_applied, "left the pixels unchanged"),
    ("train_step", step_swapped_weights, "calls nst.train_step"),
    ("train_step", step_clip_rebinds_the_name, "into the variable itself"),
    ("train_step", step_clip_first, "after the optimiser's update, not before"),
    ("train_step", step_by_hand, "let the optimiser apply the gradient"),
    ("train_step", step_returns_the_cost_after, "before the update"),
    ("rgb_to_yiq", yiq_not_transposed, "the matrix is not transposed"),
    ("rgb_to_yiq", yiq_channels_reversed, "the channels are reversed"),
    ("rgb_to_yiq", yiq_with_the_inverse, "you applied the inverse matrix"),
    ("rgb_to_yiq", yiq_with_numpy, "inside tf.function"),
    ("yiq_to_rgb", rgb_inverse_as_transpose, "the inverse is not the transpose"),
    ("yiq_to_rgb", rgb_inverse_not_transposed, "the inverse matrix is not transposed"),
    ("yiq_to_rgb", rgb_forward_again, "that is rgb_to_yiq again"),
    ("yiq_to_rgb", rgb_clipped, "do not clip"),
    ("colour_mean_and_covariance", statistics(divide_by_n=True), "not by N"),
    ("colour_mean_and_covariance", statistics(centre=False), "subtract the mean colour"),
    ("colour_mean_and_covariance", statistics(epsilon="none"), "add 1e-5 times the 3 x 3"),
    ("colour_mean_and_covariance", statistics(epsilon="all"), "on the diagonal only"),
    ("colour_mean_and_covariance", statistics(unroll="channels"), "mixes the channels"),
    ("colour_mean_and_covariance", statistics(gram="pixels"), "yours is pixels by pixels"),
    ("colour_mean_and_covariance", statistics(swapped=True), "in that order"),
    ("colour_mean_and_covariance", statistics(keepdims=True), "one value per channel"),
    ("colour_mean_and_covariance", statistics_with_numpy, "inside tf.function"),
    ("symmetric_matrix_power", power_values_only, "put the eigenvectors back"),
    ("symmetric_matrix_power", power_order_swapped, "not V^T diag(...) V"),
    ("symmetric_matrix_power", power_no_transpose, "transpose the last factor"),
    ("symmetric_matrix_power", power_times, "do not multiply them by it"),
    ("symmetric_matrix_power", power_forgotten, "is the matrix itself"),
    ("symmetric_matrix_power", power_entrywise, "not each entry of the matrix"),
    ("match_color", match_swapped, "style and content are swapped"),
    ("match_color", match_covariance_not_root, "take the square roots of the covariances"),
    ("match_color", match_factors_swapped, "A is the wrong way round"),
    ("match_color", match_mean_only, "that matches the mean only"),
    ("match_color", match_per_channel, "each channel's spread alone"),
    ("match_color", match_cholesky, "not a Cholesky factor"),
    ("match_color", match_no_mean_shift, "subtract the style's mean colour"),
    ("match_color", match_unclipped, "clip the result to [0, 1]"),
    ("match_color", match_returns_numpy, "not a tf.Tensor"),
    ("match_color", match_a_not_transposed, "is multiplied by A^T"),
    ("match_color", colour_transfer("match_over_n", right_transform, denominator_offset=0),
     "divided by N, not N - 1"),
    ("match_color", match_by_the_pieces_references, "calls nst.colour_mean_and_covariance"),
    ("masked_style_target", masked_gram(resize=False), "resize the mask first"),
    ("masked_style_target", masked_gram(divisor="positions"), "not by n_H n_W"),
    ("masked_style_target", masked_gram(power=2), "counts m twice (m^2)"),
    ("masked_style_target", masked_gram(divisor="image sum"), "resized to the layer's grid"),
    ("masked_style_target", masked_gram(divisor="none"), "divide by sum(m)"),
    ("masked_style_target", masked_gram(method="bilinear"), "method=\"area\""),
    ("masked_style_target", masked_gram(method="nearest"), "method=\"area\""),
    ("masked_style_target", masked_ignores_mask, "the mask is ignored"),
    ("masked_style_target", masked_by_style_target, "calls nst.style_target"),
    ("plateau_reached", plateau_rule(compare=">="), "True means a plateau"),
    ("plateau_reached", plateau_rule(too_few=True), "the run has just begun"),
    ("plateau_reached", plateau_guard_too_loose, "min of an empty list"),
    ("plateau_reached", plateau_rule(window=1), "yours holds one more"),
    ("plateau_reached", plateau_rule(window=-1), "yours holds one fewer"),
    ("plateau_reached", plateau_rule(first=True), "not with the first cost"),
    ("plateau_reached", plateau_rule(just_before=True), "not with the one just before it"),
    ("plateau_reached", plateau_rule(last=True), "not the last one"),
    ("plateau_reached", plateau_rule(scale="absolute"), "tolerance is a fraction"),
    ("plateau_reached", plateau_rule(scale="recent"), "not of the best in the window"),
    ("plateau_reached", plateau_rule(compare="<="), "not of at most that"),
    ("plateau_reached", plateau_pops_the_window, "changed costs"),
    ("plateau_reached", plateau_returns_the_drop, "return True or False"),
]


def own_statistics(image):  # a learner's own pieces, written otherwise than the references
    pixels = tf.reshape(image, [-1, 3])
    mean = tf.reduce_mean(pixels, axis=0)
    centred = pixels - mean
    n = tf.cast(tf.shape(pixels)[0], tf.float32)
    return mean, tf.einsum("pi,pj->ij", centred, centred) / (n - 1) + 1e-5 * tf.eye(3)


def own_power(matrix, power):
    values, vectors = tf.linalg.eigh(matrix)
    return tf.matmul(vectors * values**power, vectors, transpose_b=True)


def match_from_own_pieces(style, content):
    mu_S, sigma_S = own_statistics(style)
    mu_C, sigma_C = own_statistics(content)
    A = own_power(sigma_C, 0.5) @ own_power(sigma_S, -0.5)
    moved = tf.reshape(style, [-1, 3]) - mu_S
    return tf.clip_by_value(tf.reshape(moved @ tf.transpose(A) + mu_C, tf.shape(style)), 0, 1)


def test_the_colour_checks_accept_other_correct_ways(capsys):
    """What is not a mistake passes: other formulations, float64, the learner's own pieces."""
    nst.check_colour_mean_and_covariance(own_statistics)
    nst.check_symmetric_matrix_power(own_power)
    nst.check_match_color(colour_transfer("match", right_transform))  # in float64
    nst.check_match_color(match_from_own_pieces)
    out = capsys.readouterr().out
    assert out.count(": OK") == 4 and out.count("match_color: OK") == 2


# Notebook 04's capstone: make_cost_and_gradient and lbfgs, each wrong in one realistic way.

def cost_and_gradient_maker(name, compiled=True, targets_once=True, swap_images=False,
                            weights=lambda alpha, beta: (alpha, beta), gradient_of="J",
                            watch=True, passes=1):
    """A make_cost_and_gradient like a learner's, with one thing changed."""
    def make(content, style, extractor, alpha, beta):
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
                          "alpha * J_content": alpha * J_content}[gradient_of]
            return J, tape.gradient(target, image)

        return tf.function(cost_and_gradient) if compiled else cost_and_gradient
    make.__name__ = name
    return make


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


def lbfgs_maker(name, x_dtype=np.float64, cost=float, gradient_dtype=np.float64, bounds=True,
                keep="best", record="every", options="maxfun", jac=True,
                method="L-BFGS-B", image_dtype=tf.float32, returns_tensor=True):
    """An lbfgs like a learner's, with one thing changed."""
    from scipy.optimize import minimize

    def run(cost_and_gradient, start, steps):
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
    run.__name__ = name
    return run


def lbfgs_by_the_reference(cost_and_gradient, start, steps):
    return nst.lbfgs(cost_and_gradient, start, steps)


CAPSTONE_CATALOGUE = [
    ("make_cost_and_gradient",
     cost_and_gradient_maker("targets_every_evaluation", targets_once=False),
     "recomputes the targets at every evaluation"),
    ("make_cost_and_gradient",
     cost_and_gradient_maker("targets_every_evaluation_eagerly", targets_once=False,
                             compiled=False),
     "recomputes the targets at every evaluation"),
    ("make_cost_and_gradient", cost_and_gradient_maker("not_compiled", compiled=False),
     "compile it"),
    ("make_cost_and_gradient", cost_and_gradient_maker("vgg19_twice", passes=2),
     "once is enough"),
    ("make_cost_and_gradient",
     cost_and_gradient_maker("gradient_of_J_content", gradient_of="J_content"),
     "not the gradient of J_content alone"),
    ("make_cost_and_gradient",
     cost_and_gradient_maker("gradient_of_alpha_J_content", gradient_of="alpha * J_content"),
     "not of alpha * J_content alone"),
    ("make_cost_and_gradient",
     cost_and_gradient_maker("gradient_of_J_style", gradient_of="J_style"),
     "not the gradient of J_style alone"),
    ("make_cost_and_gradient", cost_and_gradient_with_respect_to_content,
     "the gradient is None"),
    ("make_cost_and_gradient", cost_and_gradient_maker("tape_not_watching", watch=False),
     "tape.watch(image)"),
    ("make_cost_and_gradient", cost_and_gradient_maker("images_swapped", swap_images=True),
     "the content and style images are swapped"),
    ("make_cost_and_gradient",
     cost_and_gradient_maker("weights_swapped", weights=lambda alpha, beta: (beta, alpha)),
     "alpha and beta are swapped"),
    ("make_cost_and_gradient",
     cost_and_gradient_maker("default_weights", weights=lambda alpha, beta: (10, 0.04)),
     "pass alpha and beta to total_cost"),
    ("make_cost_and_gradient", cost_and_gradient_by_the_reference,
     "calls nst.make_cost_and_gradient"),
    ("lbfgs", lbfgs_maker("float32_everywhere", x_dtype=np.float32, cost=lambda J: J.numpy(),
                          gradient_dtype=np.float32),
     "handed scipy x0, the cost and the gradient in float32"),
    ("lbfgs", lbfgs_maker("float32_gradient", gradient_dtype=np.float32),
     "handed scipy the gradient in float32"),
    ("lbfgs", lbfgs_maker("no_bounds", bounds=False), "did not bound every pixel to [0, 1]"),
    ("lbfgs", lbfgs_maker("last_image", keep="last"), "returned the last image it evaluated"),
    ("lbfgs", lbfgs_maker("costs_of_accepted_points", record="accepted"),
     "record the cost of every evaluation"),
    ("lbfgs", lbfgs_maker("no_budget", options="none"), "past its budget"),
    ("lbfgs", lbfgs_maker("finite_differences", jac=None), "pass jac=True"),
    ("lbfgs", lbfgs_maker("default_method", method=None, bounds=False, options="none"),
     "did not run scipy's L-BFGS-B"),
    ("lbfgs", lbfgs_maker("float64_image", image_dtype=tf.float64), "as a float32 tensor"),
    ("lbfgs", lbfgs_maker("numpy_image", returns_tensor=False), "a float32 tf.Tensor"),
    ("lbfgs", lbfgs_by_the_reference, "calls nst.lbfgs"),
]


class _BudgetSpent(Exception):
    pass


def lbfgs_stopping_exactly(cost_and_gradient, start, steps):
    """Right, written otherwise: Bounds(0, 1), a print every 4 evaluations, and a budget
    kept exactly by stopping scipy from inside."""
    from scipy.optimize import Bounds, minimize

    costs, images = [], []

    def scipy_cost_and_gradient(x):
        if len(costs) == steps:
            raise _BudgetSpent
        image = tf.constant(np.reshape(x, start.shape), dtype=tf.float32)
        J, gradient = cost_and_gradient(image)
        costs.append(float(J))
        images.append(image)
        if len(costs) % 4 == 0:
            print(f"evaluation {len(costs)}: J = {costs[-1]:.4g}")
        return np.float64(J), np.asarray(gradient, np.float64).reshape(-1)

    try:
        minimize(scipy_cost_and_gradient, np.asarray(start, np.float64).reshape(-1),
                 jac=True, method="L-BFGS-B", bounds=Bounds(0.0, 1.0))
    except _BudgetSpent:
        pass
    return images[int(np.argmin(costs))], costs


def cost_and_gradient_with_a_signature(content, style, extractor, alpha, beta):
    """Right, written otherwise: an input_signature, the style targets as a list."""
    a_C = extractor(content)[nst.CONTENT_LAYER]
    a_S = extractor(style)

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
    def cost_and_gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            a_G = extractor(image)
            J = (alpha * nst.compute_content_cost(a_C, a_G[nst.CONTENT_LAYER])
                 + beta * nst.compute_style_cost(a_S, a_G))
        gradient = tape.gradient(J, image)
        return J, gradient

    return cost_and_gradient


@pytest.mark.slow
def test_the_capstone_checks_accept_other_correct_ways(capsys):
    nst.check_lbfgs(lbfgs_stopping_exactly)
    nst.check_make_cost_and_gradient(cost_and_gradient_with_a_signature)
    out = capsys.readouterr().out
    assert out.count(": OK") == 2 and "evaluation 4" not in out


# Notebook 07: fast style transfer, each exercise wrong in one realistic way.

def norm_with(name, axes=(1, 2), fixed_epsilon=None, divisor="sqrt", centre=True,
              unbiased=False, keepdims=True):
    """A learner's instance_norm with one mistake (the defaults: none)."""
    def instance_norm(x, epsilon=1e-5):
        epsilon = epsilon if fixed_epsilon is None else fixed_epsilon
        mean, variance = tf.nn.moments(x, axes=list(axes), keepdims=keepdims)
        if unbiased:
            count = float(np.prod([x.shape[axis] for axis in axes]))
            variance = variance * count / (count - 1)
        return (x - mean if centre else x) / {
            "sqrt": tf.sqrt(variance + epsilon), "outside": tf.sqrt(variance) + epsilon,
            "none": tf.sqrt(variance), "variance": variance + epsilon}[divisor]
    instance_norm.__name__ = name
    return instance_norm


def norm_by_group_normalization(x, epsilon=1e-5):
    import keras

    return keras.layers.GroupNormalization(groups=-1, epsilon=epsilon, center=False,
                                           scale=False)(x)


def norm_by_the_reference(x, epsilon=1e-5):
    return nst.instance_norm(x, epsilon)


def norm_by_hand(x, epsilon=1e-5):  # right, written otherwise
    mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    variance = tf.reduce_mean(tf.square(x - mean), axis=[1, 2], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + epsilon)


def block_with(name, skip=True, relu_after=False, second_relu=False, convolutions=2):
    """A learner's residual_block from nst.conv_layer, with one mistake (defaults: none)."""
    import keras

    def residual_block(x, channels, name="residual"):
        y = nst.conv_layer(x, channels, 3, f"{name}_a", relu=convolutions == 2)
        if convolutions == 2:
            y = nst.conv_layer(y, channels, 3, f"{name}_b", relu=second_relu)
        y = keras.layers.Add(name=f"{name}_add")([x, y]) if skip else y
        return keras.layers.ReLU(name=f"{name}_out")(y) if relu_after else y
    residual_block.__name__ = name
    return residual_block


def raw_block(name, padding="reflect", norm="instance", epsilon=1e-5):
    """A learner's residual_block from raw Keras layers: reflection, zero or no padding,
    instance or batch normalisation."""
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
    residual_block.__name__ = name
    return residual_block


def block_ignoring_its_name(x, channels, name="residual"):
    return block_with("block")(x, channels, name="residual")


def block_by_the_reference(x, channels, name="residual"):
    return nst.residual_block(x, channels, name)


def perceptual(name, reduce=tf.reduce_mean, pooled=False, style_of="pictures",
               targets="given", per_position=True, four_n_C2=True, weighted=True,
               layers="given", swapped=False, content_of="features"):
    """A learner's batch_perceptual_costs with one mistake (the defaults: none)."""
    def grams(a, pooled=False):
        _, n_H, n_W, n_C = a.shape
        F = tf.reshape(a, [-1, n_C] if pooled else [-1, n_H * n_W, n_C])
        return tf.matmul(F, F, transpose_a=True) / (n_H * n_W if per_position else 1)

    def batch_perceptual_costs(photos, pictures, style_targets, extractor,
                               style_layers=nst.STYLE_LAYERS, content_layer=nst.CONTENT_LAYER):
        style_layers = nst.STYLE_LAYERS if layers == "course style" else style_layers
        content_layer = nst.CONTENT_LAYER if layers == "course content" else content_layer
        a_P, a_G = extractor(photos), extractor(pictures)
        c_P, c_G = ((photos, pictures) if content_of == "pixels"
                    else (a_P[content_layer], a_G[content_layer]))
        _, n_H, n_W, n_C = c_G.shape
        J_content = reduce(tf.reduce_sum(tf.square(c_P - c_G), axis=[1, 2, 3])
                           / (4.0 * n_H * n_W * n_C))
        J_style = 0.0
        for layer, weight in style_layers:
            G = grams((a_P if style_of == "photos" else a_G)[layer], pooled)
            target = grams(a_P[layer]) if targets == "photos" else style_targets[layer]
            n_C = G.shape[-1]
            per_image = tf.reduce_sum(tf.square(G - target), axis=[-2, -1])
            per_image /= 4.0 * n_C**2 if four_n_C2 else 1.0
            J_style += (weight if weighted else 1.0) * reduce(per_image)
        return (J_style, J_content) if swapped else (J_content, J_style)
    batch_perceptual_costs.__name__ = name
    return batch_perceptual_costs


def perceptual_per_image(photos, pictures, style_targets, extractor,
                         style_layers=nst.STYLE_LAYERS, content_layer=nst.CONTENT_LAYER):
    """Right, written otherwise: a loop over the images with the costs of notebooks 02
    and 03."""
    a_P, a_G = extractor(photos), extractor(pictures)
    costs = []
    for i in range(photos.shape[0]):
        J_content = nst.compute_content_cost(a_P[content_layer][i:i + 1],
                                             a_G[content_layer][i:i + 1])
        J_style = tf.add_n([weight * nst.layer_style_cost_from_target(style_targets[layer],
                                                                     a_G[layer][i:i + 1])
                            for layer, weight in style_layers])
        costs.append((J_content, J_style))
    return tuple(tf.reduce_mean(tf.stack(terms)) for terms in zip(*costs, strict=True))


def perceptual_by_style_target(photos, pictures, style_targets, extractor,
                               style_layers=nst.STYLE_LAYERS, content_layer=nst.CONTENT_LAYER):
    a_G = extractor(pictures)
    J_style = tf.add_n([weight * nst.layer_style_cost_from_target(style_targets[layer],
                                                                 a_G[layer])
                        for layer, weight in style_layers])
    return perceptual("right")(photos, pictures, style_targets, extractor, style_layers,
                               content_layer)[0], J_style


def perceptual_by_the_reference(photos, pictures, style_targets, extractor,
                                style_layers=nst.STYLE_LAYERS, content_layer=nst.CONTENT_LAYER):
    return nst.batch_perceptual_costs(photos, pictures, style_targets, extractor,
                                      style_layers, content_layer)


def fast_step(name, weights=lambda alpha, beta, tv: (alpha, beta, tv), outside=False,
              gradient_of="weights", applied=True, after=False, returns="all"):
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
        if applied:
            optimizer.apply_gradients(zip(gradients, variables, strict=False))  # as learners do
        if after:
            J, J_content, J_style = costs(network(photos))
        return J if returns == "J" else (J, J_content, J_style)
    fast_train_step.__name__ = name
    return fast_train_step


def step_by_the_reference(network, photos, style_targets, extractor, optimizer, alpha, beta,
                          tv_weight=0.0):
    return nst.fast_train_step(network, photos, style_targets, extractor, optimizer, alpha,
                               beta, tv_weight)


def step_with_own_costs(network, photos, style_targets, extractor, optimizer, alpha, beta,
                        tv_weight=0.0):
    """Right, written otherwise: the learner's own costs, optimizer.apply, the terms added
    in another order."""
    with tf.GradientTape() as tape:
        pictures = network(photos)
        J_content, J_style = perceptual_per_image(photos, pictures, style_targets, extractor)
        J = tv_weight * nst.total_variation(pictures) + beta * J_style + alpha * J_content
    variables = network.trainable_variables
    optimizer.apply(tape.gradient(J, variables), variables)
    return J, J_content, J_style


@pytest.mark.slow
def test_the_fast_style_checks_accept_other_correct_ways(capsys):
    nst.check_instance_norm(norm_by_hand)
    nst.check_instance_norm(norm_with("right"))
    nst.check_residual_block(raw_block("raw_keras"))
    nst.check_residual_block(block_with("from_conv_layer"))
    nst.check_batch_perceptual_costs(perceptual_per_image)
    nst.check_batch_perceptual_costs(perceptual("right"))
    nst.check_fast_train_step(step_with_own_costs)
    nst.check_fast_train_step(fast_step("right"))
    assert capsys.readouterr().out.count(": OK") == 8


def test_every_shortcut_names_something_the_guard_can_see():
    """A misspelt REFERENCE_SHORTCUTS entry would guard nothing."""
    for shortcuts in nst.REFERENCE_SHORTCUTS.values():
        for shortcut in shortcuts:
            code, _ = nst_checks._shortcut_code(shortcut)
            assert code is not None, shortcut


FAST_STYLE_CATALOGUE = [
    ("instance_norm", norm_with("layer_norm", axes=(1, 2, 3)), "layer normalisation"),
    ("instance_norm", norm_with("batch_norm", axes=(0, 1, 2)), "batch normalisation"),
    ("instance_norm", norm_with("no_epsilon", divisor="none"), "under the square root"),
    ("instance_norm", norm_with("epsilon_outside", divisor="outside"),
     "not sqrt(variance) + epsilon"),
    ("instance_norm", norm_with("by_the_variance", divisor="variance"),
     "not by the variance"),
    ("instance_norm", norm_with("not_centred", centre=False), "subtract the mean"),
    ("instance_norm", norm_with("keras_epsilon", fixed_epsilon=1e-3), "Keras's default 1e-3"),
    ("instance_norm", norm_with("fixed_epsilon", fixed_epsilon=1e-5),
     "use the epsilon argument, not a number"),
    ("instance_norm", norm_with("unbiased", unbiased=True), "not n_H n_W - 1"),
    ("instance_norm", norm_with("reduced_axes_dropped", keepdims=False), "keepdims=True"),
    ("instance_norm", norm_by_group_normalization, "calls keras.layers.GroupNormalization"),
    ("instance_norm", norm_by_the_reference, "calls nst.instance_norm"),
    ("residual_block", block_with("no_skip", skip=False), "add the block's input"),
    ("residual_block", block_with("relu_after_the_sum", relu_after=True),
     "no ReLU after the addition"),
    ("residual_block", block_with("relu_on_both", second_relu=True), "(relu=False)"),
    ("residual_block", block_with("one_convolution", convolutions=1), "yours has one"),
    ("residual_block", raw_block("zero_padding", padding="zeros"), "pad by reflection"),
    ("residual_block", raw_block("batch_norm", norm="batch"), "uses batch normalisation"),
    ("residual_block", raw_block("keras_epsilon", epsilon=1e-3), "not GroupNormalization's"),
    ("residual_block", raw_block("no_padding", padding="none"), "keep x's size"),
    ("residual_block", block_ignoring_its_name, "every name unique"),
    ("residual_block", block_by_the_reference, "calls nst.residual_block"),
    ("batch_perceptual_costs", perceptual("summed", reduce=tf.reduce_sum), "not their sum"),
    ("batch_perceptual_costs", perceptual("one_gram_for_the_batch", pooled=True),
     "one Gram matrix per image"),
    ("batch_perceptual_costs", perceptual("style_of_the_photos", style_of="photos"),
     "not of the photos"),
    ("batch_perceptual_costs", perceptual("targets_from_the_photos", targets="photos"),
     "not with the photos' Gram matrices"),
    ("batch_perceptual_costs", perceptual("swapped", swapped=True), "in that order"),
    ("batch_perceptual_costs", perceptual("not_per_position", per_position=False),
     "style_targets are per position"),
    ("batch_perceptual_costs", perceptual("without_4_n_C2", four_n_C2=False),
     "by 4 n_C^2"),
    ("batch_perceptual_costs", perceptual("weights_ignored", weighted=False),
     "multiply each layer's cost by its weight"),
    ("batch_perceptual_costs", perceptual("course_content_layer", layers="course content"),
     "not nst.CONTENT_LAYER"),
    ("batch_perceptual_costs", perceptual("course_style_layers", layers="course style"),
     "not nst.STYLE_LAYERS"),
    ("batch_perceptual_costs", perceptual("content_of_the_pixels", content_of="pixels"),
     "not by their pixels"),
    ("batch_perceptual_costs", perceptual("per_image", reduce=lambda costs: costs),
     "one number for the batch"),
    ("batch_perceptual_costs", perceptual_by_style_target, "take one image"),
    ("batch_perceptual_costs", perceptual_by_the_reference,
     "calls nst.batch_perceptual_costs"),
    ("fast_train_step", fast_step("not_applied", applied=False), "weights unchanged"),
    ("fast_train_step", fast_step("gradient_of_the_photos", gradient_of="photos"),
     "not the photos"),
    ("fast_train_step", fast_step("gradient_of_the_pictures", gradient_of="pictures"),
     "not the pictures or the photos"),
    ("fast_train_step", fast_step("costs_after", after=True), "before the update"),
    ("fast_train_step", fast_step("tv_ignored", weights=lambda a, b, tv: (a, b, 0.0)),
     "add tv_weight times the total variation"),
    ("fast_train_step", fast_step("weights_swapped", weights=lambda a, b, tv: (b, a, tv)),
     "alpha and beta are swapped"),
    ("fast_train_step", fast_step("only_J", returns="J"), "return (J, J_content, J_style)"),
    ("fast_train_step", fast_step("network_outside_the_tape", outside=True),
     "inside the `with tf.GradientTape()` block"),
    ("fast_train_step", step_by_the_reference, "calls nst.fast_train_step"),
]


CATALOGUE += CAPSTONE_CATALOGUE + FAST_STYLE_CATALOGUE


def test_the_catalogue_covers_every_check_with_at_least_twelve_mistakes():
    assert len(CATALOGUE) >= 12
    assert {name for name, _, _ in CATALOGUE} == set(CHECKS)


@pytest.mark.parametrize("name, wrong, hint", [
    pytest.param(name, wrong, hint, id=f"{name}-{wrong.__name__}",
                 marks=[pytest.mark.slow] if name in HEAVY else [])
    for name, wrong, hint in CATALOGUE])
def test_every_check_rejects_each_wrong_version_with_a_fitting_hint(name, wrong, hint):
    with pytest.raises(AssertionError) as rejection:
        CHECKS[name][0](wrong)
    message = str(rejection.value)
    assert message.startswith(name) and hint in message


# -- Using the reference instead of writing it: caught whatever the disguise. --

def gram_by_name(A):
    return nst.gram_matrix(A)


reference_alias = nst.gram_matrix


def gram_by_alias(A):
    return reference_alias(A)


def gram_by_getattr(A):
    return getattr(nst, "gram_" + "matrix")(A)


def gram_by_style_target(A):  # the helper that computes the same thing, scaled
    return nst.style_target(tf.reshape(tf.transpose(A), [1, 1, -1, A.shape[0]])) * A.shape[1]


def gram_that_disables_the_comparison(A):  # the very function the checks compare with
    nst_checks._compare = lambda *args: None
    return A


def gram_that_replaces_a_reference(A):
    nst.gram_matrix = lambda A: A
    return A


@pytest.mark.parametrize("cheat", [gram_by_name, gram_by_alias, gram_by_getattr,
                                   gram_by_style_target])
def test_a_solution_that_calls_the_reference_is_rejected(cheat):
    with pytest.raises(AssertionError, match="gram_matrix calls nst.(gram_matrix|style_target)"):
        nst.check_gram_matrix(cheat)


@pytest.mark.parametrize("cheat, changed", [
    (gram_that_disables_the_comparison, r"nst_checks\._compare"),
    (gram_that_replaces_a_reference, r"nst\.gram_matrix"),
])
def test_a_solution_that_changes_the_modules_is_rejected(monkeypatch, cheat, changed):
    monkeypatch.setattr(nst_checks, "_compare", nst_checks._compare)  # restored after the test
    monkeypatch.setattr(nst, "gram_matrix", nst.gram_matrix)
    with pytest.raises(AssertionError, match=rf"changed {changed} while it was checked"):
        nst.check_gram_matrix(cheat)


@pytest.mark.parametrize("name", each_check())
def test_every_check_prints_one_stable_line_with_a_number(name, capsys):
    check, reference = CHECKS[name]
    check(reference)
    first = capsys.readouterr().out
    check(reference)
    assert capsys.readouterr().out == first and first.count("\n") == 1
    assert any(character.isdigit() for character in first.split(";")[-1])
