"""Image input and output: every mode, every bad file, atomic and careful writes."""

import os

import numpy as np
import pytest
from PIL import Image

import nst_helpers as nst


def save(tmp_path, name, image, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


def test_loads_rgb_as_float_tensor_in_unit_range(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    path = save(tmp_path, "rgb.png", Image.fromarray(pixels))
    image = nst.load_image(path, max_dim=None)
    assert image.shape == (1, 40, 50, 3) and image.dtype.name == "float32"
    np.testing.assert_allclose(image.numpy()[0], pixels / 255.0, atol=1e-6)


def test_max_dim_shrinks_longest_side_and_keeps_aspect(tmp_path):
    path = save(tmp_path, "wide.png", Image.new("RGB", (300, 150), (10, 200, 30)))
    image = nst.load_image(path, max_dim=100)
    assert image.shape == (1, 50, 100, 3)
    np.testing.assert_allclose(image.numpy()[0, 10, 10], np.array([10, 200, 30]) / 255, atol=1e-5)


def test_small_image_is_not_enlarged(tmp_path):
    path = save(tmp_path, "small.png", Image.new("RGB", (60, 40)))
    assert nst.load_image(path, max_dim=512).shape == (1, 40, 60, 3)


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:10, :10] = (255, 0, 0)  # a red corner, top left as stored
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save(tmp_path, "rotated.jpg", image, exif=exif, quality=100)
    loaded = nst.load_image(path, max_dim=None).numpy()[0]
    assert loaded.shape == (60, 40, 3)
    assert loaded[5, -5, 0] > 0.8 and loaded[5, 5, 0] < 0.2  # the corner is now top right


def test_greyscale_becomes_three_equal_channels(tmp_path):
    path = save(tmp_path, "grey.png", Image.new("L", (40, 40), 128))
    pixels = nst.load_image(path).numpy()[0]
    np.testing.assert_allclose(pixels, 128 / 255, atol=1e-6)


def test_palette_image_keeps_its_colours(tmp_path):
    image = Image.new("P", (40, 40), 1)
    image.putpalette([0, 0, 0, 200, 50, 10] + [0, 0, 0] * 254)
    pixels = nst.load_image(save(tmp_path, "palette.png", image)).numpy()[0]
    np.testing.assert_allclose(pixels[0, 0], np.array([200, 50, 10]) / 255, atol=1e-6)


def test_palette_transparency_is_white(tmp_path):
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0] * 256)
    path = save(tmp_path, "palette_alpha.png", image, transparency=0)
    np.testing.assert_allclose(nst.load_image(path).numpy(), 1.0, atol=1e-6)


@pytest.mark.parametrize("mode, colour", [("RGBA", (255, 0, 0, 128)), ("LA", (0, 128))])
def test_transparent_pixels_are_composited_on_white(tmp_path, mode, colour):
    path = save(tmp_path, f"{mode}.png", Image.new(mode, (40, 40), colour))
    alpha = colour[-1] / 255
    expected = np.array(colour[:-1] * (3 if mode == "LA" else 1)) / 255 * alpha + (1 - alpha)
    np.testing.assert_allclose(nst.load_image(path).numpy()[0, 0, 0], expected, atol=1e-5)


def test_cmyk_becomes_rgb(tmp_path):
    image = Image.new("RGB", (40, 40), (0, 0, 255)).convert("CMYK")
    pixels = nst.load_image(save(tmp_path, "cmyk.jpg", image, quality=100)).numpy()[0]
    assert pixels.shape == (40, 40, 3)
    np.testing.assert_allclose(pixels[20, 20], [0, 0, 1], atol=0.05)


def test_sixteen_bit_greyscale_uses_the_full_range(tmp_path):
    values = np.full((40, 40), 65535, np.uint16)
    values[:, :20] = 32768
    path = save(tmp_path, "deep.png", Image.fromarray(values))
    assert Image.open(path).mode.startswith("I")
    pixels = nst.load_image(path, max_dim=None).numpy()[0]
    np.testing.assert_allclose(pixels[0, 0], 32768 / 65535, atol=1e-6)
    np.testing.assert_allclose(pixels[0, -1], 1.0, atol=1e-6)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing_here.jpg: no such file"):
        nst.load_image(tmp_path / "nothing_here.jpg")


def test_folder_is_refused(tmp_path):
    with pytest.raises(nst.ImageError, match="is a folder"):
        nst.load_image(tmp_path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.jpg"
    path.touch()
    with pytest.raises(nst.ImageError, match="empty.jpg: the file is empty"):
        nst.load_image(path)


def test_non_image_is_refused(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are not pixels\n")
    with pytest.raises(nst.ImageError, match="notes.jpg: not an image file"):
        nst.load_image(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_file_is_refused(tmp_path, suffix):
    pixels = np.random.default_rng(1).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    whole = save(tmp_path, "whole" + suffix, Image.fromarray(pixels))
    cut = tmp_path / ("cut" + suffix)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(nst.ImageError, match=f"cut{suffix}: the file is damaged or truncated"):
        nst.load_image(cut)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    # 70 million pixels that compress to a few kilobytes.
    path = save(tmp_path, "bomb.png", Image.new("1", (10_000, 7_000)))
    assert path.stat().st_size < 200_000
    with pytest.raises(nst.ImageError, match="bomb.png: the image declares more than"):
        nst.load_image(path)


def test_too_small_image_states_the_minimum(tmp_path):
    path = save(tmp_path, "tiny.png", Image.new("RGB", (31, 100)))
    expected = r"tiny.png: 31x100 px is too small \(use a larger image\).*at least 32"
    with pytest.raises(nst.ImageError, match=expected):
        nst.load_image(path)


def test_elongated_image_too_thin_after_shrinking(tmp_path):
    path = save(tmp_path, "strip.png", Image.new("RGB", (1000, 40)))
    with pytest.raises(nst.ImageError, match="after shrinking to max_dim=256"):
        nst.load_image(path, max_dim=256)


def test_max_dim_below_minimum_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 32"):
        nst.load_image(tmp_path / "whatever.png", max_dim=16)


def test_save_round_trips_png_and_creates_folders(tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (1, 20, 30, 3)).astype(np.float32) / 255
    path = nst.save_image(pixels, tmp_path / "new" / "folder" / "out.png")
    assert path.exists()
    reloaded = np.asarray(Image.open(path), np.float32) / 255
    np.testing.assert_allclose(reloaded, pixels[0], atol=1e-6)


def test_save_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "kept.png"
    nst.save_image(np.zeros((8, 8, 3)), path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="kept.png: exists already"):
        nst.save_image(np.ones((8, 8, 3)), path)
    assert path.read_bytes() == before
    nst.save_image(np.ones((8, 8, 3)), path, overwrite=True)
    assert np.asarray(Image.open(path)).min() == 255


def test_save_refuses_nan_and_writes_nothing(tmp_path):
    image = np.zeros((8, 8, 3))
    image[3, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        nst.save_image(image, tmp_path / "nan.png")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_unknown_suffix_and_bad_shape(tmp_path):
    with pytest.raises(ValueError, match="use a .png or .jpg"):
        nst.save_image(np.zeros((8, 8, 3)), tmp_path / "out.gif")
    with pytest.raises(ValueError, match="expected an image of shape"):
        nst.save_image(np.zeros((8, 8)), tmp_path / "out.png")


def test_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    nst.save_image(np.zeros((8, 8, 3)), path)
    before = path.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        nst.save_image(np.ones((8, 8, 3)), path, overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file left


def test_show_images_draws_one_axis_per_image():
    figure = nst.show_images([np.zeros((8, 8, 3)), np.ones((1, 8, 8, 3))], ["a", "b"])
    assert [axis.get_title() for axis in figure.axes] == ["a", "b"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_saved_files_get_the_usual_mode_from_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = nst.save_image(np.zeros((8, 8, 3)), tmp_path / "shared.png")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode  # 0o644: readable by the web server, the grader


def test_saving_under_a_file_names_the_file_in_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="notes.txt is a file, not a folder"):
        nst.save_image(np.zeros((8, 8, 3)), tmp_path / "notes.txt" / "out.png")
    assert (tmp_path / "notes.txt").read_text() == "not a folder"
