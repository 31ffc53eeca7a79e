"""The optimisation loop: both optimisers, interruption, NaN, and stylize on real VGG19."""

import dataclasses
import json
import re

import numpy as np
import pytest
import tensorflow as tf

import nst_course as course  # where the course's code runs: patched there
import nst_helpers as nst

TARGET = np.random.default_rng(5).random((1, 8, 8, 3)).astype(np.float32)


def quadratic(image):
    return {"total": tf.reduce_sum(tf.square(image - TARGET))}


@pytest.mark.parametrize("optimizer, steps", [("adam", 150), ("lbfgs", 30)])
def test_both_optimizers_reach_a_known_minimum(optimizer, steps):
    start = np.full((1, 8, 8, 3), 0.5, np.float32)
    result = nst.optimize_image(quadratic, start, steps=steps, optimizer=optimizer,
                                learning_rate=0.05, progress=False)
    assert result.stop_reason is nst.StopReason.FINISHED
    assert result.history["total"][-1] < 0.01 * result.history["total"][0]
    np.testing.assert_allclose(result.image.numpy(), TARGET, atol=0.05)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_pixels_stay_in_unit_range(optimizer):
    def pull_outside(image):  # the minimum lies at -1 and 2, outside [0, 1]
        return {"total": tf.reduce_sum(tf.square(image[..., :1] + 1))
                + tf.reduce_sum(tf.square(image[..., 1:] - 2))}

    result = nst.optimize_image(pull_outside, np.full((1, 4, 4, 3), 0.5, np.float32), steps=60,
                                optimizer=optimizer, learning_rate=0.1, progress=False)
    image = result.image.numpy()
    assert image.min() >= 0 and image.max() <= 1
    np.testing.assert_allclose(image[..., 0], 0, atol=0.02)
    np.testing.assert_allclose(image[..., 1:], 1, atol=0.02)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_ctrl_c_keeps_the_best_image_so_far(optimizer):
    def interrupt(evaluation):
        if evaluation.step == 5:
            raise KeyboardInterrupt

    def quartic(image):  # slow to converge, so both optimisers are still running at step 5
        return {"total": tf.reduce_sum((image - TARGET) ** 4)}

    start = np.full((1, 8, 8, 3), 0.5, np.float32)
    result = nst.optimize_image(quartic, start, steps=100, optimizer=optimizer,
                                progress=False, on_evaluation=interrupt)
    assert result.stop_reason is nst.StopReason.INTERRUPTED
    assert len(result.history["total"]) == 5 and "step 5" in result.note
    best = float(quartic(result.image)["total"])
    assert best == pytest.approx(min(result.history["total"]), rel=1e-5)
    assert best < result.history["total"][0]


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_steps_is_the_exact_number_of_evaluations(optimizer):
    def quartic(image):
        return {"total": tf.reduce_sum((image - TARGET) ** 4)}

    for steps in (1, 2, 7):  # L-BFGS converges on this in about 13: fewer is never done
        result = nst.optimize_image(quartic, np.full((1, 8, 8, 3), 0.5, np.float32),
                                    steps=steps, optimizer=optimizer, progress=False)
        assert len(result.history["total"]) == steps
        assert result.stop_reason is nst.StopReason.FINISHED


def test_every_evaluation_is_reported_with_the_image_its_costs_belong_to():
    seen = []

    def bumpy(image):  # a steep quartic: L-BFGS's first trial steps overshoot
        return {"total": tf.reduce_sum(100.0 * (image - TARGET) ** 4 + image)}

    result = nst.optimize_image(bumpy, np.full((1, 8, 8, 3), 0.9, np.float32), steps=30,
                                progress=False, on_evaluation=seen.append)
    assert [e.step for e in seen] == result.history["step"] == list(range(1, 31))
    assert [e.costs["total"] for e in seen] == result.history["total"]
    assert {(e.evaluations, e.stage, e.stages, e.size) for e in seen} == {(30, 1, 1, 8)}
    for evaluation in seen:  # the image of each report is the one its costs belong to
        assert evaluation.weighted == evaluation.costs
        assert evaluation.costs["total"] == pytest.approx(
            float(bumpy(evaluation.image)["total"]), rel=1e-5)
    assert np.all(np.diff([e.seconds for e in seen]) >= 0)


def test_nan_stops_with_a_message_and_keeps_the_last_good_image(capsys):
    def log_cost(image):  # Adam drives pixels to 0, where log becomes -inf
        return {"total": tf.reduce_sum(tf.math.log(image))}

    start = np.full((1, 4, 4, 3), 0.5, np.float32)
    result = nst.optimize_image(log_cost, start, steps=100, optimizer="adam", learning_rate=0.2,
                                progress=False)
    assert result.stop_reason is nst.StopReason.NOT_FINITE
    assert "the cost became -inf" in result.note
    assert "Stopped:" in capsys.readouterr().out
    assert np.all(np.isfinite(result.history["total"]))
    assert np.isfinite(float(log_cost(result.image)["total"]))


def test_bad_arguments_are_refused():
    start = np.zeros((1, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="optimizer must be"):
        nst.optimize_image(quadratic, start, steps=3, optimizer="sgd")
    with pytest.raises(ValueError, match="NaN"):
        nst.optimize_image(quadratic, start * np.nan, steps=3)


def test_noisy_content_init_is_reproducible_and_bounded(content_image):
    first = nst.initial_image(content_image, "noisy-content", noise=0.25, seed=1)
    again = nst.initial_image(content_image, "noisy-content", noise=0.25, seed=1)
    np.testing.assert_array_equal(first, again)
    difference = (first - content_image).numpy()
    assert np.abs(difference).max() <= 0.25 + 1e-6 and np.abs(difference).mean() > 0.05
    assert first.numpy().min() >= 0 and first.numpy().max() <= 1


def test_stylize_lowers_the_cost_and_records_everything(vgg, content_image, style_image):
    result = nst.stylize(content_image, style_image, steps=8, weights="quantized", progress=False)
    history = result.history
    assert result.stop_reason is nst.StopReason.FINISHED
    assert result.image.shape == content_image.shape
    assert min(history["total"]) < 0.5 * history["total"][0]
    assert set(history) >= {"step", "seconds", "total", "content", "style", "tv"}
    assert result.settings["weights_source"] == vgg.weights_source
    total = nst.total_cost(history["content"][0], history["style"][0], nst.DEFAULT_ALPHA,
                           nst.DEFAULT_BETA)
    assert history["total"][0] == pytest.approx(total, rel=1e-5)


def test_stylize_style_cost_matches_the_taught_function(vgg, content_image):
    # A style image of the same size: the precomputed targets must give the seeds' formula.
    style = tf.image.flip_left_right(content_image)[..., ::-1]
    result = nst.stylize(content_image, style, steps=1, init="content", alpha=0,
                         weights="quantized", progress=False)
    extractor = nst.make_feature_extractor([name for name, _ in nst.STYLE_LAYERS], "quantized")
    expected = nst.compute_style_cost(extractor(style), extractor(content_image))
    assert result.history["style"][0] == pytest.approx(float(expected), rel=1e-3)


def test_stylize_blends_several_styles(content_image, style_image):
    with pytest.raises(ValueError, match="style_blend needs 2"):
        nst.stylize(content_image, [style_image, content_image], style_blend=[1.0], steps=1)
    result = nst.stylize(content_image, [style_image, content_image], style_blend=[3, 1],
                         steps=2, weights="quantized", progress=False)
    assert result.settings["style_blend"] == [0.75, 0.25]


def test_stylize_refuses_nan_input(content_image, style_image):
    with pytest.raises(ValueError, match="the style image holds NaN"):
        nst.stylize(content_image, style_image * np.nan, steps=1)


def test_save_artwork_writes_image_and_metadata(content_image, style_image, tmp_path):
    result = nst.stylize(content_image, style_image, steps=2, weights="quantized",
                         progress=False)
    image_path, json_path = nst.save_artwork(result, tmp_path / "art.jpg", content="c.jpg")
    metadata = json.loads(json_path.read_text())
    assert image_path.exists() and metadata["content"] == "c.jpg"
    assert metadata["seed"] == 1 and "quantised" in metadata["weights_source"]
    assert {"tensorflow", "numpy"} <= set(metadata["versions"])
    assert metadata["wall_seconds"] >= 0
    with pytest.raises(FileExistsError):
        nst.save_artwork(result, tmp_path / "art.jpg")


def test_an_image_can_be_the_start_and_is_resized_to_the_content():
    content = np.zeros((1, 40, 60, 3), np.float32)
    small = np.random.default_rng(0).random((1, 20, 30, 3)).astype(np.float32)
    start = nst.initial_image(content, small)
    assert start.shape == content.shape
    assert float(tf.reduce_min(start)) >= 0 and float(tf.reduce_max(start)) <= 1
    np.testing.assert_allclose(float(tf.reduce_mean(start)), small.mean(), atol=0.01)


def test_coarse_to_fine_schedule_halves_down_and_spends_exactly_steps():
    assert nst.coarse_to_fine_schedule(320, 50) == [(320, 50)]  # notebooks 02-04: one pass
    assert nst.coarse_to_fine_schedule(512, 90) == [(256, 54), (512, 36)]  # the default
    assert nst.coarse_to_fine_schedule(1024, 90) == [(256, 27), (512, 27), (1024, 36)]
    assert nst.coarse_to_fine_schedule(512, 100) == [(256, 60), (512, 40)]
    assert [side for side, _ in nst.coarse_to_fine_schedule(400, 10)] == [200, 400]
    for size in (321, 512, 700, 1024, 3000):
        for steps in (2, 3, 7, 125, 200):
            schedule = nst.coarse_to_fine_schedule(size, steps)
            sides = [side for side, _ in schedule]
            assert sum(count for _, count in schedule) == steps
            assert sides[-1] == size and sides == sorted(sides)
            assert min(sides) >= nst.COARSE_TO_FINE_START and min(c for _, c in schedule) >= 1


def grey_distance(image):
    return {"total": tf.reduce_sum(tf.square(image - 0.3))}


def test_one_compiled_function_serves_every_size():
    compiled = nst.compile_costs_and_gradient(grey_distance)
    for side in (8, 12, 16, 20):
        nst.optimize_image(grey_distance, np.full((1, side, side, 3), 0.5, np.float32),
                           steps=2, progress=False, compiled=compiled)
    assert compiled.experimental_get_tracing_count() == 1  # traced once for any size


def test_stylize_coarse_to_fine_records_each_size_and_returns_the_full_size(
        vgg, content_image, style_image):
    result = nst.stylize(content_image, style_image, schedule=[(40, 3), (64, 4)],
                         progress=False)
    assert result.image.shape == content_image.shape
    assert result.history["size"] == [40] * 3 + [64] * 4
    assert result.history["step"] == list(range(1, 8))
    assert np.all(np.diff(result.history["seconds"]) >= 0)
    history = result.history
    final = [t for t, s in zip(history["total"], history["size"], strict=True) if s == 64]
    assert result.best_loss == min(final)
    assert result.settings["schedule"] == [[40, 3], [64, 4]]
    with pytest.raises(ValueError, match="must end at the content's size, 64 px"):
        nst.stylize(content_image, style_image, schedule=[(40, 3)], progress=False)


def test_stylize_reports_each_evaluation_of_the_whole_run_with_weighted_costs(
        vgg, content_image, style_image):
    seen = []
    options = nst.StylizeOptions(alpha=2.0, beta=0.5, tv_weight=3.0, steps=7,
                                 schedule=[(40, 3), (64, 4)])
    result = nst.stylize(content_image, style_image, options, progress=False,
                         on_evaluation=seen.append)
    assert [e.step for e in seen] == result.history["step"] == list(range(1, 8))
    assert [(e.stage, e.stages, e.size, e.evaluations) for e in seen] == (
        [(1, 2, 40, 7)] * 3 + [(2, 2, 64, 7)] * 4)
    assert [e.seconds for e in seen] == pytest.approx(result.history["seconds"])
    for e in seen:
        assert e.weighted["content"] == pytest.approx(2.0 * e.costs["content"])
        assert e.weighted["style"] == pytest.approx(0.5 * e.costs["style"])
        assert e.weighted["tv"] == pytest.approx(3.0 * e.costs["tv"])
        assert e.weighted["total"] == pytest.approx(
            e.weighted["content"] + e.weighted["style"] + e.weighted["tv"], rel=1e-5)
        assert max(e.image.shape[1:3]) == e.size


def test_stylize_takes_options_or_keywords_and_writes_the_options_to_its_settings(
        vgg, content_image, style_image):
    options = nst.StylizeOptions(beta=0.1, steps=2, seed=3)
    by_options = nst.stylize(content_image, style_image, options, progress=False)
    by_keywords = nst.stylize(content_image, style_image, beta=0.1, steps=2, seed=3,
                              progress=False)
    assert by_options.history["total"] == pytest.approx(by_keywords.history["total"])
    settings, given = by_options.settings, options.as_json()
    resolved = {"schedule": [[64, 2]], "style_blend": [1.0], "learning_rate": None}
    assert settings == {**settings, **given, **resolved}  # what "auto", None came to
    json.dumps(settings)  # every setting is a JSON value
    with pytest.raises(ValueError, match="not an option of stylize: stepz"):
        nst.stylize(content_image, style_image, stepz=3)
    with pytest.raises(ValueError, match="beta must be a finite number"):
        nst.stylize(content_image, style_image, options, beta=float("nan"))


@pytest.mark.parametrize("changes, words", [
    ({"alpha": -1}, "alpha must be a finite number at least 0"),
    ({"alpha": 0, "beta": 0}, "alpha and beta are both 0"),
    ({"content_layer": "block6_conv1"}, "content_layer must be one of block1_conv1"),
    ({"style_layers": [("block1_conv1", "heavy")]}, "the weight of block1_conv1 must be"),
    ({"style_layers": [("pool1", 1.0)]}, "a style layer must be one of"),
    ({"style_layers": []}, "style_layers is empty"),
    ({"style_blend": [1, -1]}, "a style_blend weight must be"),
    ({"init": "photo"}, "init must be one of noisy-content"),
    ({"optimizer": "sgd"}, "optimizer must be one of lbfgs, adam"),
    ({"steps": 0}, "steps must be a whole number of at least 1"),
    ({"steps": 2.5}, "steps must be a whole number"),
    ({"schedule": [(16, 3)]}, "schedule must be"),
    ({"schedule": []}, "schedule is empty"),
    ({"preserve_color": "sepia"}, "preserve_color must be one of none"),
    ({"style_scale": 0}, "style_scale must be a finite number above 0"),
    ({"learning_rate": float("inf")}, "learning_rate must be a finite number"),
])
def test_options_are_checked_once_when_made(changes, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        nst.StylizeOptions(**changes)


def test_options_are_frozen_tuples_and_replace_checks_again():
    options = nst.StylizeOptions(style_layers=[["block1_conv1", 1]], style_blend=[1, 2])
    assert options.style_layers == (("block1_conv1", 1.0),) and options.style_blend == (1.0, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.beta = 1.0
    assert options.replace(beta=1.0).beta == 1.0 and options.beta == nst.DEFAULT_BETA
    with pytest.raises(ValueError, match="steps must be"):
        options.replace(steps=-3)
    with pytest.raises(ValueError, match="not an option of stylize: colour"):
        options.replace(colour="none")


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_should_stop_ends_the_run_and_keeps_the_best_image(optimizer):
    asked = []

    def stop_after_six():
        asked.append(1)
        return len(asked) > 6

    def quartic(image):
        return {"total": tf.reduce_sum((image - TARGET) ** 4)}

    result = nst.optimize_image(quartic, np.full((1, 8, 8, 3), 0.5, np.float32), steps=50,
                                optimizer=optimizer, progress=False, should_stop=stop_after_six)
    assert result.stop_reason == nst.StopReason.STOPPED
    assert len(result.history["total"]) == 6
    assert float(quartic(result.image)["total"]) == pytest.approx(
        min(result.history["total"]), rel=1e-5)


def test_stylize_stopped_in_a_coarse_stage_returns_the_full_size(content_image, style_image):
    asked = []
    result = nst.stylize(content_image, style_image, schedule=[(40, 5), (64, 5)],
                         progress=False, should_stop=lambda: asked.append(1) or len(asked) > 3)
    assert result.stop_reason == nst.StopReason.STOPPED
    assert result.history["size"] == [40] * 3
    assert result.image.shape == content_image.shape

    def detail(image):  # what a 40 px version cannot hold
        small = tf.image.resize(image, (40, 40), "area")
        return (image - nst.initial_image(image, small)).numpy().ravel()

    # Enlarged as the next stage would start: with the photo's fine detail put back.
    assert np.corrcoef(detail(result.image), detail(content_image))[0, 1] > 0.5


def test_each_stage_starts_from_the_enlarged_result_with_the_content_detail_back():
    content = np.zeros((1, 8, 8, 3), np.float32)
    content[:, ::2] = 1.0  # stripes: detail a 4-px version cannot hold
    small = tf.image.resize(content, (4, 4), "area")
    coarse_result = tf.fill((1, 4, 4, 3), 0.5)
    start = course._with_detail_back(nst.initial_image(content, coarse_result), content, small)
    # the coarse result's flat grey plus the stripes' detail around their mean
    np.testing.assert_allclose(start.numpy()[0, :, 3, 0],
                               np.clip(0.5 + content[0, :, 3, 0] - 0.5, 0, 1), atol=0.05)


# -- Notebook 04's capstone references: lbfgs, crop_and_resize, save_picture. --

def test_lbfgs_reaches_a_known_minimum_within_bounds_and_keeps_the_best():
    def pull_outside(image):  # the minimum lies at -1 for the first channel: outside [0, 1]
        J = (tf.reduce_sum(tf.square(image[..., :1] + 1))
             + tf.reduce_sum(tf.square(image[..., 1:] - TARGET[..., 1:])))
        return J, 2 * tf.concat([image[..., :1] + 1, image[..., 1:] - TARGET[..., 1:]], -1)

    image, costs = nst.lbfgs(pull_outside, np.full((1, 8, 8, 3), 0.5, np.float32), 40)
    assert isinstance(image, tf.Tensor) and image.dtype == tf.float32
    assert image.shape == (1, 8, 8, 3) and 1 < len(costs) <= 40  # converged within budget
    np.testing.assert_allclose(image.numpy()[..., 0], 0, atol=1e-3)
    np.testing.assert_allclose(image.numpy()[..., 1:], TARGET[..., 1:], atol=1e-3)
    assert float(pull_outside(image)[0]) == pytest.approx(min(costs), rel=1e-5)


def test_crop_and_resize_crops_a_portrait_to_a_landscape_without_stretching():
    portrait = np.zeros((1, 100, 60, 3), np.float32)
    portrait[:, 30:70] = 1.0  # a white band across the middle: all that a 3:2 crop keeps
    landscape = np.zeros((1, 20, 30, 3), np.float32)
    cropped = nst.crop_and_resize(portrait, like=landscape).numpy()
    assert cropped.shape == (1, 20, 30, 3)
    np.testing.assert_allclose(cropped, 1.0, atol=1e-6)


def test_save_picture_writes_the_facts_and_refuses_to_overwrite(tmp_path):
    image = np.full((1, 8, 8, 3), 0.5, np.float32)
    image_path, json_path = nst.save_picture(image, tmp_path / "mine.jpg", beta=0.04, seed=1)
    metadata = json.loads(json_path.read_text())
    assert image_path.exists() and metadata["beta"] == 0.04 and metadata["seed"] == 1
    assert {"tensorflow", "scipy"} <= set(metadata["versions"]) and "device" in metadata
    with pytest.raises(FileExistsError):
        nst.save_picture(image, tmp_path / "mine.jpg")
    nst.save_picture(image, tmp_path / "mine.jpg", overwrite=True, beta=0.017)
    assert json.loads(json_path.read_text())["beta"] == 0.017
