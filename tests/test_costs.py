"""The course's formulas (Gatys et al., the Coursera assignment): known answers, an
independent NumPy version, properties, gradients."""

import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nst

rng = np.random.default_rng(42)


def random_activation(n_H, n_W, n_C, seed=None):
    generator = np.random.default_rng(seed) if seed is not None else rng
    return generator.normal(size=(1, n_H, n_W, n_C)).astype(np.float32)


# Independent NumPy versions, written from the formulas, not from nst_helpers.
def numpy_content_cost(a_C, a_G):
    _, n_H, n_W, n_C = a_G.shape
    return np.sum((a_C.astype(np.float64) - a_G) ** 2) / (4 * n_H * n_W * n_C)


def numpy_gram(a):
    """Gram matrix by explicit sums over positions: G[i, j] = sum_p a[p, i] a[p, j]."""
    _, n_H, n_W, n_C = a.shape
    gram = np.zeros((n_C, n_C))
    for h in range(n_H):
        for w in range(n_W):
            vector = a[0, h, w].astype(np.float64)
            gram += np.outer(vector, vector)
    return gram


def numpy_layer_style_cost(a_S, a_G):
    _, n_H, n_W, n_C = a_G.shape
    return np.sum((numpy_gram(a_S) - numpy_gram(a_G)) ** 2) / (4 * n_C**2 * (n_H * n_W) ** 2)


SHAPES = [(1, 1, 1), (2, 3, 4), (5, 4, 3), (7, 7, 16)]


def test_content_cost_known_answer():
    a_C = np.zeros((1, 1, 2, 2), np.float32)
    a_G = np.array([[[[1, 2], [3, 4]]]], np.float32)
    # sum of squares 30, divided by 4 * 1 * 2 * 2 = 16
    assert nst.compute_content_cost(a_C, a_G).numpy() == pytest.approx(30 / 16)


@pytest.mark.parametrize("shape", SHAPES)
def test_content_cost_matches_numpy(shape):
    a_C, a_G = random_activation(*shape), random_activation(*shape)
    cost = nst.compute_content_cost(a_C, a_G)
    assert isinstance(cost, tf.Tensor) and cost.shape == ()
    assert cost.numpy() == pytest.approx(numpy_content_cost(a_C, a_G), rel=1e-5)


def test_content_cost_properties():
    a_C, a_G = random_activation(3, 4, 5), random_activation(3, 4, 5)
    assert nst.compute_content_cost(a_C, a_C).numpy() == 0
    assert nst.compute_content_cost(a_C, a_G).numpy() == pytest.approx(
        nst.compute_content_cost(a_G, a_C).numpy())
    assert nst.compute_content_cost(2 * a_C, 2 * a_G).numpy() == pytest.approx(
        4 * nst.compute_content_cost(a_C, a_G).numpy(), rel=1e-5)


def test_content_cost_refuses_mismatched_shapes():
    with pytest.raises(tf.errors.InvalidArgumentError, match="same shape"):
        nst.compute_content_cost(random_activation(2, 2, 3), random_activation(2, 3, 3))


def test_unroll_gives_one_row_per_channel():
    a = random_activation(3, 4, 5)
    unrolled = nst.unroll(a).numpy()
    assert unrolled.shape == (5, 12)
    for channel in range(5):
        np.testing.assert_array_equal(unrolled[channel], a[0, :, :, channel].ravel())


def test_gram_matrix_known_answer():
    A = np.array([[1, 2, 3], [0, 1, -1]], np.float32)
    np.testing.assert_allclose(nst.gram_matrix(A).numpy(), [[14, -1], [-1, 2]])


@pytest.mark.parametrize("shape", SHAPES)
def test_gram_matrix_matches_explicit_sums(shape):
    a = random_activation(*shape)
    gram = nst.gram_matrix(nst.unroll(a)).numpy()
    np.testing.assert_allclose(gram, numpy_gram(a), rtol=1e-4, atol=1e-4)


def test_gram_matrix_properties():
    a = random_activation(6, 5, 8)
    gram = nst.gram_matrix(nst.unroll(a)).numpy()
    np.testing.assert_allclose(gram, gram.T, rtol=1e-6)  # symmetric
    assert np.linalg.eigvalsh(gram.astype(np.float64)).min() > -1e-3  # positive semi-definite
    np.testing.assert_allclose(np.diag(gram), (a[0] ** 2).sum(axis=(0, 1)), rtol=1e-5)
    shuffled = rng.permutation(a.reshape(-1, 8)).reshape(a.shape)  # pixels in another order
    np.testing.assert_allclose(nst.gram_matrix(nst.unroll(shuffled)).numpy(), gram, rtol=1e-4,
                               atol=1e-4)


def test_layer_style_cost_known_answer():
    a_S = np.zeros((1, 1, 2, 1), np.float32)
    a_G = np.array([[[[1], [2]]]], np.float32)
    # G_S = [[0]], G_G = [[1 + 4]] = [[5]]; 25 / (4 * 1 * (1 * 2)^2) = 25 / 16
    assert nst.compute_layer_style_cost(a_S, a_G).numpy() == pytest.approx(25 / 16)


@pytest.mark.parametrize("shape", SHAPES)
def test_layer_style_cost_matches_numpy(shape):
    a_S, a_G = random_activation(*shape), random_activation(*shape)
    cost = nst.compute_layer_style_cost(a_S, a_G)
    assert isinstance(cost, tf.Tensor) and cost.shape == ()
    assert cost.numpy() == pytest.approx(numpy_layer_style_cost(a_S, a_G), rel=1e-4)


def test_layer_style_cost_properties():
    a_S, a_G = random_activation(4, 5, 6), random_activation(4, 5, 6)
    assert nst.compute_layer_style_cost(a_S, a_S).numpy() == 0
    shuffled_G = rng.permutation(a_G.reshape(-1, 6)).reshape(a_G.shape)
    assert nst.compute_layer_style_cost(a_S, shuffled_G).numpy() == pytest.approx(
        nst.compute_layer_style_cost(a_S, a_G).numpy(), rel=1e-4)  # style ignores positions


def test_precomputed_style_target_gives_the_same_cost():
    a_S, a_G = random_activation(5, 6, 7), random_activation(5, 6, 7)
    direct = nst.compute_layer_style_cost(a_S, a_G).numpy()
    via_target = nst.layer_style_cost_from_target(nst.style_target(a_S), a_G).numpy()
    assert via_target == pytest.approx(direct, rel=1e-4)


def test_style_cost_is_the_weighted_sum_of_layer_costs():
    layers = [("low", 0.7), ("high", 0.1)]
    a_S = {"low": random_activation(6, 6, 4), "high": random_activation(3, 3, 8)}
    a_G = {"low": random_activation(6, 6, 4), "high": random_activation(3, 3, 8)}
    expected = sum(w * numpy_layer_style_cost(a_S[n], a_G[n]) for n, w in layers)
    assert nst.compute_style_cost(a_S, a_G, layers).numpy() == pytest.approx(expected, rel=1e-4)


def test_default_style_layers_are_gatys_equal_weights():
    assert nst.STYLE_LAYERS == tuple((f"block{i}_conv1", 0.2) for i in range(1, 6))


def test_total_cost_known_answer():
    assert float(nst.total_cost(2.0, 3.0)) == pytest.approx(10 * 2 + 0.04 * 3)  # stylize's weights
    assert float(nst.total_cost(2.0, 3.0, alpha=1, beta=0.5)) == 3.5


def test_total_variation_known_answer():
    image = np.zeros((1, 2, 3, 3), np.float32)
    image[0, :, 1:] = 1.0  # one vertical edge: across differences 1, 0 on each row
    # across: mean over 2*2*3 = 12 differences, 6 of them 1 -> 0.5; down: all 0
    assert nst.total_variation(image).numpy() == pytest.approx(0.5)
    assert nst.total_variation(np.full((1, 4, 4, 3), 0.3, np.float32)).numpy() == 0


def test_costs_work_inside_tf_function():
    a_C, a_G = random_activation(3, 3, 4), random_activation(3, 3, 4)
    graph_content = tf.function(nst.compute_content_cost)
    graph_style = tf.function(nst.compute_layer_style_cost)
    assert graph_content(a_C, a_G).numpy() == pytest.approx(numpy_content_cost(a_C, a_G), rel=1e-5)
    assert graph_style(a_C, a_G).numpy() == pytest.approx(numpy_layer_style_cost(a_C, a_G),
                                                          rel=1e-4)


def finite_difference_check(cost_fn, a_fixed, a_var, eps=1e-2, samples=12):
    a_var64 = tf.Variable(a_var.astype(np.float64))
    with tf.GradientTape() as tape:
        cost = cost_fn(tf.cast(a_fixed, tf.float64), a_var64)
    gradient = tape.gradient(cost, a_var64).numpy()
    flat = a_var.astype(np.float64).ravel()
    for index in np.random.default_rng(0).choice(flat.size, samples, replace=False):
        plus, minus = flat.copy(), flat.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric = (float(cost_fn(a_fixed, plus.reshape(a_var.shape).astype(np.float32)))
                   - float(cost_fn(a_fixed, minus.reshape(a_var.shape).astype(np.float32))))
        numeric /= 2 * eps
        assert gradient.ravel()[index] == pytest.approx(numeric, rel=2e-2, abs=1e-3)


def test_content_cost_gradient_matches_finite_differences():
    finite_difference_check(
        lambda a_C, a_G: nst.compute_content_cost(tf.cast(a_C, tf.float32),
                                                  tf.cast(a_G, tf.float32)),
        random_activation(3, 4, 5), random_activation(3, 4, 5),
    )


def test_layer_style_cost_gradient_matches_finite_differences():
    finite_difference_check(
        lambda a_S, a_G: nst.compute_layer_style_cost(tf.cast(a_S, tf.float32),
                                                      tf.cast(a_G, tf.float32)),
        random_activation(3, 4, 5), random_activation(3, 4, 5),
    )


def test_balanced_style_layers_give_the_asked_shares_and_keep_the_total(content_image,
                                                                       style_image, vgg):
    equal = nst.style_layer_costs(style_image, content_image)
    profile = [4, 3, 2, 0.5, 0.5]
    balanced = nst.balanced_style_layers(style_image, content_image, profile)
    costs = nst.style_layer_costs(style_image, content_image, balanced)
    assert sum(costs.values()) == pytest.approx(sum(equal.values()), rel=1e-4)
    shares = np.array(list(costs.values())) / sum(costs.values())
    np.testing.assert_allclose(shares, np.array(profile) / sum(profile), rtol=1e-4)
    with pytest.raises(ValueError, match="5 non-negative shares"):
        nst.balanced_style_layers(style_image, content_image, [1, 2])


def test_a_claim_is_an_error_only_when_strict_at_student_settings(monkeypatch, capsys):
    nst.claim(True, "anything")
    monkeypatch.setenv("NST_STRICT_CLAIMS", "1")
    monkeypatch.delenv("NST_QUICK", raising=False)
    with pytest.raises(AssertionError, match="the text claims that the sky is green"):
        nst.claim(False, "the sky is green")
    monkeypatch.setenv("NST_QUICK", "1")  # tiny runs cannot bear claims out
    nst.claim(False, "the sky is green")
    assert "quick mode's tiny images" in capsys.readouterr().out  # not "what did you change?"
    monkeypatch.delenv("NST_STRICT_CLAIMS")  # a student who changed a parameter
    monkeypatch.delenv("NST_QUICK")
    nst.claim(False, "the sky is green")
    note = capsys.readouterr().out
    assert "Note: the text says that the sky is green" in note and "What did you change?" in note
