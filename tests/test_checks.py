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
]


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
