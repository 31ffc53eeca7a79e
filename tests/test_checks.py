"""The exercise checks: they accept the reference and other right answers, and reject every
wrong answer of the catalogue (nst_mistakes.py) with its hint."""

import numpy as np
import pytest
import tensorflow as tf

import nst_checks
import nst_helpers as nst
from nst_mistakes import (
    CATALOGUE,
    Mistake,
    block_with,
    colour_transfer,
    fast_step,
    norm_with,
    perceptual,
    plateau_rule,
    raw_block,
)

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


# -- The catalogue: every wrong answer rejected, with its hint or words. --

def test_the_catalogue_covers_every_check_with_mistakes_the_check_names():
    assert set(CATALOGUE) == set(CHECKS)
    assert all(any(isinstance(entry, Mistake) for entry in entries)
               for name, entries in CATALOGUE.items() if name != "lbfgs")
    assert sum(map(len, CATALOGUE.values())) >= 200


@pytest.mark.parametrize("name, entry", [
    pytest.param(name, entry, id=f"{name}-{entry.function.__name__}",
                 marks=[pytest.mark.slow] if name in HEAVY else [])
    for name, entries in CATALOGUE.items() for entry in entries])
def test_every_check_rejects_each_wrong_answer_with_its_hint(name, entry):
    with pytest.raises(AssertionError) as rejection:
        CHECKS[name][0](entry.function)
    message = str(rejection.value)
    expected = f"Hint: {entry.hint}" if isinstance(entry, Mistake) else entry.words
    assert message.startswith(name) and expected in message


# -- Right answers written otherwise pass. --

def plateau_with_numpy(costs, patience, tolerance):  # right: NumPy, and a ratio
    costs = np.asarray(costs)
    if costs.size < patience + 1:
        return False
    return np.min(costs[-patience:]) / np.min(costs[:-patience]) > 1 - tolerance


def test_plateau_reached_accepts_other_ways_of_writing_it(capsys):
    nst.check_plateau_reached(plateau_with_numpy)
    nst.check_plateau_reached(plateau_rule())
    assert capsys.readouterr().out.count("plateau_reached: OK") == 2


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
    nst.check_match_color(colour_transfer())  # in float64
    nst.check_match_color(match_from_own_pieces)
    out = capsys.readouterr().out
    assert out.count(": OK") == 4 and out.count("match_color: OK") == 2


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


def norm_by_hand(x, epsilon=1e-5):  # right, written otherwise
    mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    variance = tf.reduce_mean(tf.square(x - mean), axis=[1, 2], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + epsilon)




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
