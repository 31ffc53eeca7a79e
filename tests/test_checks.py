"""The exercise checks: they accept the reference and reject common wrong answers with a
hint that fits the mistake."""

import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nst

CHECKS = {
    "compute_content_cost": (nst.check_compute_content_cost, nst.compute_content_cost),
    "gram_matrix": (nst.check_gram_matrix, nst.gram_matrix),
    "compute_layer_style_cost": (nst.check_compute_layer_style_cost,
                                 nst.compute_layer_style_cost),
    "compute_style_cost": (nst.check_compute_style_cost, nst.compute_style_cost),
    "total_cost": (nst.check_total_cost, nst.total_cost),
    "total_variation": (nst.check_total_variation, nst.total_variation),
    "count_conv_params": (nst.check_count_conv_params, nst.count_conv_params),
    "train_step": (nst.check_train_step, nst.train_step),
    "rgb_to_yiq": (nst.check_rgb_to_yiq, nst.rgb_to_yiq),
    "yiq_to_rgb": (nst.check_yiq_to_rgb, nst.yiq_to_rgb),
    "match_color": (nst.check_match_color, nst.match_color),
    "masked_style_target": (nst.check_masked_style_target, nst.masked_style_target),
}


@pytest.mark.parametrize("name", CHECKS)
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


def total_swapped(J_content, J_style, alpha=10, beta=40):
    return beta * J_content + alpha * J_style


def total_hard_coded(J_content, J_style, alpha=10, beta=40):
    return 10 * J_content + 40 * J_style


def total_normalised(J_content, J_style, alpha=10, beta=40):
    return (alpha * J_content + beta * J_style) / (alpha + beta)


def tv_squared(image):
    return (tf.reduce_mean(tf.square(image[:, 1:] - image[:, :-1]))
            + tf.reduce_mean(tf.square(image[:, :, 1:] - image[:, :, :-1])))


def tv_one_direction(image):
    return tf.reduce_mean(tf.abs(image[:, 1:] - image[:, :-1]))


def params_without_bias(kernel_size, channels_in, channels_out):
    return kernel_size * kernel_size * channels_in * channels_out


# Notebook 05: colour (YIQ, colour matching) and place (masked Gram matrices).
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


CATALOGUE = [
    ("compute_content_cost", content_mean, "divided by n_H n_W n_C"),
    ("compute_content_cost", content_no_normalisation, "divide the sum of squares by 4 n_H"),
    ("compute_content_cost", content_no_square, "square the differences"),
    ("compute_content_cost", content_norm_not_squared, "no square root"),
    ("compute_content_cost", content_with_numpy, "inside tf.function"),
    ("compute_content_cost", content_numpy_square, "inside tf.function"),
    ("compute_content_cost", content_returns_numpy, "not a tf.Tensor"),
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
    ("total_cost", total_swapped, "swapped"),
    ("total_cost", total_hard_coded, "not the numbers 10 and 40"),
    ("total_cost", total_normalised, "without dividing by alpha + beta"),
    ("total_variation", tv_squared, "absolute differences, not squared"),
    ("total_variation", tv_one_direction, "add both directions"),
    ("count_conv_params", params_without_bias, "count the biases"),
    ("compute_layer_style_cost", layer_style_int32_sizes, "the denominator overflowed"),
    ("train_step", step_without_clip, "clip the pixels to [0, 1]"),
    ("train_step", step_uphill, "moved uphill"),
    ("train_step", step_never_applied, "left the pixels unchanged"),
    ("train_step", step_swapped_weights, "calls nst.train_step"),
    ("rgb_to_yiq", yiq_not_transposed, "the matrix is not transposed"),
    ("rgb_to_yiq", yiq_channels_reversed, "the channels are reversed"),
    ("rgb_to_yiq", yiq_with_the_inverse, "you applied the inverse matrix"),
    ("rgb_to_yiq", yiq_with_numpy, "inside tf.function"),
    ("yiq_to_rgb", rgb_inverse_as_transpose, "the inverse is not the transpose"),
    ("yiq_to_rgb", rgb_inverse_not_transposed, "the inverse matrix is not transposed"),
    ("yiq_to_rgb", rgb_forward_again, "that is rgb_to_yiq again"),
    ("yiq_to_rgb", rgb_clipped, "do not clip"),
    ("match_color", match_swapped, "style and content are swapped"),
    ("match_color", match_covariance_not_root, "take the square roots of the covariances"),
    ("match_color", match_factors_swapped, "the factors are in the wrong order"),
    ("match_color", match_mean_only, "that matches the mean only"),
    ("match_color", match_per_channel, "each channel's spread alone"),
    ("match_color", match_cholesky, "not a Cholesky factor"),
    ("match_color", match_no_mean_shift, "subtract the style's mean colour"),
    ("match_color", match_unclipped, "clip the result to [0, 1]"),
    ("match_color", match_returns_numpy, "not a tf.Tensor"),
    ("masked_style_target", masked_gram(resize=False), "resize the mask first"),
    ("masked_style_target", masked_gram(divisor="positions"), "not by n_H n_W"),
    ("masked_style_target", masked_gram(power=2), "counts m twice (m^2)"),
    ("masked_style_target", masked_gram(divisor="image sum"), "resized to the layer's grid"),
    ("masked_style_target", masked_gram(divisor="none"), "divide by sum(m)"),
    ("masked_style_target", masked_gram(method="bilinear"), "method=\"area\""),
    ("masked_style_target", masked_gram(method="nearest"), "method=\"area\""),
    ("masked_style_target", masked_ignores_mask, "the mask is ignored"),
    ("masked_style_target", masked_by_style_target, "calls nst.style_target"),
]


def test_match_color_accepts_a_tensorflow_version_and_a_covariance_divided_by_n(capsys):
    """The check's tolerance (1e-3 of a pixel value) lets through what is not a mistake."""
    nst.check_match_color(colour_transfer("match", right_transform))
    nst.check_match_color(colour_transfer("match", right_transform, denominator_offset=0))
    assert capsys.readouterr().out.count("match_color: OK") == 2


def test_the_catalogue_covers_every_check_with_at_least_twelve_mistakes():
    assert len(CATALOGUE) >= 12
    assert {name for name, _, _ in CATALOGUE} == set(CHECKS)


@pytest.mark.parametrize("name, wrong, hint", CATALOGUE,
                         ids=[f"{n}-{w.__name__}" for n, w, _ in CATALOGUE])
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


def gram_that_disables_the_comparison(A):
    nst._compare = lambda *args: None
    return A


@pytest.mark.parametrize("cheat", [gram_by_name, gram_by_alias, gram_by_getattr,
                                   gram_by_style_target])
def test_a_solution_that_calls_the_reference_is_rejected(cheat):
    with pytest.raises(AssertionError, match="gram_matrix calls nst.(gram_matrix|style_target)"):
        nst.check_gram_matrix(cheat)


def test_a_solution_that_changes_the_module_is_rejected(monkeypatch):
    monkeypatch.setattr(nst, "_compare", nst._compare)  # restored after the test
    with pytest.raises(AssertionError, match=r"changed nst_helpers \(_compare\)"):
        nst.check_gram_matrix(gram_that_disables_the_comparison)


@pytest.mark.parametrize("name", CHECKS)
def test_every_check_prints_one_stable_line_with_a_number(name, capsys):
    check, reference = CHECKS[name]
    check(reference)
    first = capsys.readouterr().out
    check(reference)
    assert capsys.readouterr().out == first and first.count("\n") == 1
    assert any(character.isdigit() for character in first.split(";")[-1])
