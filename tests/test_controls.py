"""Colour control (Gatys et al. 2017, sec. 5): YIQ, colour matching, preserve_color."""

import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nst

RNG = np.random.default_rng(7)


def test_yiq_known_answers_and_round_trip():
    white, red = np.ones((1, 1, 3), np.float32), np.array([[[1.0, 0, 0]]], np.float32)
    np.testing.assert_allclose(nst.rgb_to_yiq(white)[0, 0], [1, 0, 0], atol=1e-5)
    np.testing.assert_allclose(nst.rgb_to_yiq(red)[0, 0], [0.299, 0.595716, 0.211456],
                               atol=1e-6)
    image = RNG.random((1, 6, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(nst.yiq_to_rgb(nst.rgb_to_yiq(image)), image, atol=1e-5)


def test_a_grey_image_has_no_colour_and_keeps_its_luminance():
    image = RNG.random((1, 6, 5, 3)).astype(np.float32)
    grey = nst.luminance_image(image)
    np.testing.assert_allclose(nst.rgb_to_yiq(grey)[..., 1:], 0, atol=1e-5)
    np.testing.assert_allclose(nst.rgb_to_yiq(grey)[..., 0], nst.rgb_to_yiq(image)[..., 0],
                               atol=1e-5)


def test_luminance_matching_moves_mean_and_spread():
    dark = 0.2 * RNG.random((1, 16, 16, 3)).astype(np.float32)
    bright = 0.5 + 0.3 * RNG.random((1, 16, 16, 3)).astype(np.float32)
    Y = nst.rgb_to_yiq(nst.luminance_image(dark, like=bright))[..., 0]
    Y_bright = nst.rgb_to_yiq(bright)[..., 0]
    assert float(tf.reduce_mean(Y)) == pytest.approx(float(tf.reduce_mean(Y_bright)), abs=1e-3)
    assert float(tf.math.reduce_std(Y)) == pytest.approx(float(tf.math.reduce_std(Y_bright)),
                                                         rel=1e-2)


def test_with_luminance_keeps_the_colour_and_takes_the_brightness():
    colour, other = (RNG.random((1, 8, 8, 3)).astype(np.float32) * 0.5 + 0.25 for _ in "ab")
    mixed = nst.with_luminance(colour, other)
    np.testing.assert_allclose(nst.rgb_to_yiq(mixed)[..., 0], nst.rgb_to_yiq(other)[..., 0],
                               atol=1e-4)
    np.testing.assert_allclose(nst.rgb_to_yiq(mixed)[..., 1:], nst.rgb_to_yiq(colour)[..., 1:],
                               atol=1e-4)


def test_match_color_gives_the_content_mean_and_covariance():
    mixing = np.array([[0.6, 0.2, 0.1], [0.1, 0.3, 0.0], [0.0, 0.2, 0.5]])
    style = (RNG.random((1, 40, 30, 3)) @ mixing.T).astype(np.float32)  # correlated channels
    content = (0.3 + 0.4 * RNG.random((1, 20, 50, 3))).astype(np.float32)
    moved = nst.match_color(style, content).numpy().reshape(-1, 3)
    pixels = content.reshape(-1, 3)
    np.testing.assert_allclose(moved.mean(0), pixels.mean(0), atol=1e-4)
    np.testing.assert_allclose(np.cov(moved, rowvar=False), np.cov(pixels, rowvar=False),
                               atol=1e-4)
    assert nst.match_color(style, content).shape == style.shape


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["luminance", "histogram"])
def test_preserve_color_keeps_the_content_colours(vgg, content_image, style_image, mode):
    plain = nst.stylize(content_image, style_image, steps=8, progress=False)
    kept = nst.stylize(content_image, style_image, steps=8, progress=False,
                       preserve_color=mode)
    assert kept.settings["preserve_color"] == mode and kept.image.shape == content_image.shape
    assert nst.chroma_distance(kept.image, content_image) < nst.chroma_distance(
        plain.image, content_image)
    if mode == "luminance":  # the content's own colour channels, up to clipping
        assert nst.chroma_distance(kept.image, content_image) < 0.01


def test_preserve_color_refuses_an_unknown_mode(content_image, style_image):
    with pytest.raises(ValueError, match="preserve_color must be one of"):
        nst.stylize(content_image, style_image, steps=1, preserve_color="sepia")


@pytest.mark.slow
def test_style_scale_resizes_the_style_first(vgg, content_image, style_image):
    # A larger style image has larger strokes: its Gram targets differ, so does the result.
    plain = nst.stylize(content_image, style_image, steps=3, progress=False)
    large = nst.stylize(content_image, style_image, steps=3, progress=False, style_scale=2.0)
    assert large.settings["style_scale"] == 2.0
    assert not np.allclose(plain.image.numpy(), large.image.numpy())
    with pytest.raises(ValueError, match="style_scale=0.2 shrinks the style image"):
        nst.stylize(content_image, style_image, steps=1, style_scale=0.2)
    with pytest.raises(ValueError, match="style_scale must be a finite number above 0"):
        nst.stylize(content_image, style_image, steps=1, style_scale=0)


# -- Spatial control (sec. 4): one style per region through masked Gram matrices. --

def test_an_all_white_mask_gives_the_plain_style_target():
    a = tf.constant(RNG.normal(size=(1, 6, 8, 5)), tf.float32)
    white = tf.ones((6, 8, 1))
    np.testing.assert_allclose(nst.masked_style_target(a, white), nst.style_target(a),
                               rtol=1e-5, atol=1e-5)


def test_a_half_mask_gives_the_style_target_of_that_half():
    a = tf.constant(RNG.normal(size=(1, 6, 8, 5)), tf.float32)
    left = np.zeros((6, 8, 1), np.float32)
    left[:, :4] = 1
    np.testing.assert_allclose(nst.masked_style_target(a, tf.constant(left)),
                               nst.style_target(a[:, :, :4]), rtol=1e-5, atol=1e-5)


def test_bad_masks_are_refused_before_any_work(content_image, style_image):
    white = np.ones((10, 10), np.float32)
    with pytest.raises(ValueError, match="1 mask\\(s\\) for 2 style image\\(s\\)"):
        nst.stylize(content_image, [style_image, style_image], masks=[white], steps=1)
    with pytest.raises(ValueError, match="mask 2 is empty: no pixel is white"):
        nst.stylize(content_image, [style_image, style_image], masks=[white, 0 * white],
                    steps=1)
    with pytest.raises(ValueError, match="mask 1: expected a finite image"):
        nst.stylize(content_image, [style_image], masks=[white * np.nan], steps=1)
    with pytest.raises(ValueError, match="masks .* or style_blend, not both"):
        nst.stylize(content_image, [style_image, style_image], masks=[white, white],
                    style_blend=[1, 2], steps=1)


@pytest.mark.slow
def test_two_styles_in_two_regions(vgg, content_image):
    red = np.zeros((1, 48, 48, 3), np.float32)
    red[..., 0] = 0.9
    blue = np.zeros((1, 48, 48, 3), np.float32)
    blue[..., 2] = 0.9
    height, width = content_image.shape[1:3]
    left = np.zeros((height, width), np.float32)
    left[:, : width // 2] = 1
    result = nst.stylize(content_image, [red, blue], masks=[left, 1 - left], beta=1.0,
                         steps=40, progress=False)
    image = result.image.numpy()[0]
    left_half, right_half = image[:, : width // 3], image[:, -width // 3:]
    assert left_half[..., 0].mean() > right_half[..., 0].mean() + 0.1  # red on the left
    assert right_half[..., 2].mean() > left_half[..., 2].mean() + 0.1  # blue on the right
    assert result.settings["masks"] == 2


def test_sky_mask_marks_bright_blue_pixels_only():
    image = np.zeros((1, 4, 2, 3), np.float32)
    image[0, 0] = [0.2, 0.5, 0.9]  # sky blue
    image[0, 1] = [0.1, 0.1, 0.3]  # dark blue: below the brightness
    image[0, 2] = [0.8, 0.8, 0.85]  # white cloud: not bluer than red by the margin
    image[0, 3] = [0.7, 0.3, 0.2]  # brick
    mask = nst.sky_mask(image).numpy()
    assert mask.shape == (4, 2, 1)
    np.testing.assert_array_equal(mask[:, 0, 0], [1, 0, 0, 0])
    assert nst.sky_mask(image, margin=0.0, brightness=0.2).numpy()[:, 0, 0].tolist() == [
        1, 1, 1, 0]
