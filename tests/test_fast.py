"""Fast style transfer (notebook 07): the transformation network, its training, resuming,
the shipped networks, --model and bad input."""

import gc
import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import nst_cli
import nst_course as course
import nst_helpers as nst

tf = nst.tf
sys.path.insert(0, str(nst.REPO_ROOT / "training"))
import train  # noqa: E402  (training/train.py, on the path just above)

TINY = ((4, 4, 8), 1)  # widths and residual blocks of a network that builds in a blink
CONTENT = nst.IMAGES_DIR / "content" / "chelsea_cat.jpg"


@pytest.fixture(scope="module")
def tiny_network():
    keras.utils.set_random_seed(0)
    return nst.transformation_network(*TINY)


@pytest.fixture(scope="module")
def extractor():
    return nst.make_feature_extractor([nst.CONTENT_LAYER] +
                                      [name for name, _ in nst.STYLE_LAYERS], "quantized")


@pytest.mark.parametrize("height, width", [(32, 32), (37, 53), (64, 45), (101, 99)])
def test_the_picture_has_the_photos_size_even_for_odd_sides(tiny_network, height, width):
    photo = tf.random.uniform((1, height, width, 3), seed=1)
    picture = nst.fast_stylize(photo, tiny_network)
    assert picture.shape == (1, height, width, 3)
    assert 0.0 <= float(tf.reduce_min(picture)) and float(tf.reduce_max(picture)) <= 1.0


def test_the_half_width_network_has_the_size_the_notebook_states():
    network = nst.transformation_network()
    assert network.count_params() == 424_899  # Johnson et al.'s 1.68 M at half width
    assert network(tf.zeros((2, 48, 64, 3))).shape == (2, 48, 64, 3)


def test_instance_norm_is_its_formula_and_keras_group_normalization():
    x = np.random.default_rng(0).normal(2.0, 3.0, (2, 5, 7, 4)).astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    variance = x.var(axis=(1, 2), keepdims=True)
    expected = (x - mean) / np.sqrt(variance + nst.INSTANCE_NORM_EPSILON)
    np.testing.assert_allclose(nst.instance_norm(x), expected, rtol=1e-5, atol=1e-5)
    layer = keras.layers.GroupNormalization(groups=-1, epsilon=nst.INSTANCE_NORM_EPSILON)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_a_photos_picture_does_not_depend_on_its_batch(tiny_network):
    photos = tf.random.uniform((3, 32, 32, 3), seed=2)
    alone = tiny_network(photos[:1])
    with_others = tiny_network(photos)[:1]
    np.testing.assert_allclose(alone, with_others, atol=1e-5)


def test_batch_costs_are_the_mean_of_the_per_image_costs(extractor):
    rng = np.random.default_rng(1)
    photos = tf.constant(rng.random((2, 32, 40, 3)), tf.float32)
    pictures = tf.constant(rng.random((2, 32, 40, 3)), tf.float32)
    painting = tf.constant(rng.random((1, 48, 48, 3)), tf.float32)
    targets = nst.batch_style_targets(painting, extractor)
    J_content, J_style = nst.batch_perceptual_costs(photos, pictures, targets, extractor)
    contents, styles = [], []
    for i in range(2):
        a_P, a_G = extractor(photos[i:i + 1]), extractor(pictures[i:i + 1])
        contents.append(nst.compute_content_cost(a_P[nst.CONTENT_LAYER], a_G[nst.CONTENT_LAYER]))
        styles.append(sum(weight * nst.layer_style_cost_from_target(targets[name], a_G[name])
                          for name, weight in nst.STYLE_LAYERS))
    np.testing.assert_allclose(J_content, np.mean(contents), rtol=1e-4)
    np.testing.assert_allclose(J_style, np.mean(styles), rtol=1e-4)


@pytest.mark.slow
def test_training_steps_lower_the_loss_on_a_fixed_batch(extractor):
    keras.utils.set_random_seed(0)
    network = nst.transformation_network(*TINY)
    photos = nst.random_crops([np.asarray(nst.load_image(CONTENT, 96)[0] * 255, np.uint8)],
                              2, 32, np.random.default_rng(0))
    painting = nst.load_image(nst.IMAGES_DIR / "style" / "hokusai_great_wave.jpg", 64)
    targets = nst.batch_style_targets(painting, extractor)
    optimizer = keras.optimizers.Adam(1e-2)
    step = tf.function(nst.fast_train_step)
    losses = [float(step(network, photos, targets, extractor, optimizer, 10.0, 0.04)[0])
              for _ in range(15)]
    assert losses[-1] < 0.5 * losses[0]


def test_random_crops_follow_the_generator():
    photos = [np.random.default_rng(i).integers(0, 256, (60 + i, 80, 3), np.uint8)
              for i in range(3)]
    first = nst.random_crops(photos, 3, 32, np.random.default_rng([1, 5]))
    again = nst.random_crops(photos, 3, 32, np.random.default_rng([1, 5]))
    other = nst.random_crops(photos, 3, 32, np.random.default_rng([1, 6]))
    assert first.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


# --- training/train.py: checkpoints and resuming ----------------------------------------

def _train(tmp_path, folder, *options):
    photos = tmp_path / "photos"
    if not photos.exists():
        photos.mkdir()
        for name in ("chelsea_cat", "jaguars", "colosseum"):
            nst.save_image(nst.load_image(nst.IMAGES_DIR / "content" / f"{name}.jpg", 96),
                           photos / f"{name}.jpg")
    return train.main([
        "--style", str(nst.IMAGES_DIR / "style" / "hokusai_great_wave.jpg"), "--photos",
        str(photos), "--size", "32", "--batch", "2", "--style-size", "64", "--widths", "4",
        "4", "8", "--residual-blocks", "1", "--precision", "float32", "--weights",
        "quantized", "--checkpoint-every", "2", "--quiet", "--checkpoints",
        str(tmp_path / folder), "--output", str(tmp_path / folder / "out"), *options])


def _weights(tmp_path, folder):
    with np.load(tmp_path / folder / "out" / f"hokusai_great_wave{nst.MODEL_SUFFIX}") as f:
        return {key: f[key] for key in f.files}


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    assert _train(tmp_path, "whole", "--steps", "5") == 0
    assert _train(tmp_path, "parts", "--steps", "5", "--minutes", "0") == 1  # one step
    assert _train(tmp_path, "parts", "--steps", "3") == 0  # a checkpoint on an odd step
    assert _train(tmp_path, "parts", "--steps", "5") == 0
    whole, parts = _weights(tmp_path, "whole"), _weights(tmp_path, "parts")
    assert whole.keys() == parts.keys()
    for key in whole:
        np.testing.assert_array_equal(whole[key], parts[key], err_msg=key)
    metadata = json.loads((tmp_path / "whole" / "out" / "hokusai_great_wave.json").read_text())
    assert metadata["style"] == "images/style/hokusai_great_wave.jpg"
    assert metadata["training_steps"] == 5 and metadata["photos"] == 3
    assert (tmp_path / "whole" / "out" / "hokusai_great_wave_losses.png").exists()


@pytest.mark.slow
def test_resuming_with_other_settings_is_refused(tmp_path, capsys):
    assert _train(tmp_path, "run", "--steps", "2") == 0
    assert _train(tmp_path, "run", "--steps", "4", "--beta", "1") == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "other settings (beta" in error[0]


def test_training_without_photos_is_one_line(tmp_path, capsys):
    code = train.main(["--style", "images/style/hokusai_great_wave.jpg", "--photos",
                       str(tmp_path), "--quiet"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (f"error: {tmp_path}: no photos. Run `make "
                                               "photos` first.")


# --- shipped networks --------------------------------------------------------------------

SHIPPED = nst.shipped_models()


def test_every_shipped_network_comes_with_its_painting_settings_and_curve():
    assert {"hokusai_great_wave", "van_gogh_cafe_terrace_at_night",
            "kandinsky_composition_viii"} <= set(SHIPPED)
    for name, painting in SHIPPED.items():
        assert painting.exists(), name
        metadata = nst.model_metadata(name)
        assert len(metadata["loss"]) == metadata["training_steps"] // metadata["loss_every"]
        assert (nst.MODELS_DIR / f"{name}_losses.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_network_paints_closer_in_style_to_its_painting(name, extractor):
    photo = nst.load_image(CONTENT, 256)
    picture = nst.fast_stylize(photo, name)
    painting = nst.load_image(SHIPPED[name], 256)
    targets = nst.batch_style_targets(painting, extractor)
    _, photo_style = nst.batch_perceptual_costs(photo, photo, targets, extractor)
    _, picture_style = nst.batch_perceptual_costs(photo, picture, targets, extractor)
    assert float(picture_style) < 0.5 * float(photo_style)

def test_each_network_is_compiled_once_for_every_size_and_let_go_with_it(tiny_network):
    """A grid of networks by photos (notebook 07) traces each network once, so TensorFlow
    has no retracing to warn about; a network no longer used takes its graph with it."""
    other = nst.transformation_network((4, 4, 8), 1)
    for size in (40, 56, 72):
        for network in (tiny_network, other):
            nst.fast_stylize(tf.random.uniform((1, size, size + 8, 3), seed=size), network)
    assert course._FORWARD_PASSES[tiny_network].experimental_get_tracing_count() == 1
    assert course._FORWARD_PASSES[other].experimental_get_tracing_count() == 1
    held = len(course._FORWARD_PASSES)
    del other, network  # the loop's name held it too
    gc.collect()
    assert len(course._FORWARD_PASSES) == held - 1


# --- bad input: one clear line, nothing written --------------------------------------------

def test_a_network_saved_and_loaded_paints_the_same(tmp_path, tiny_network):
    path = tmp_path / f"x{nst.MODEL_SUFFIX}"
    nst.save_style_network(tiny_network, path, style="images/style/hokusai_great_wave.jpg")
    photo = tf.random.uniform((1, 40, 36, 3), seed=3)
    np.testing.assert_array_equal(nst.fast_stylize(photo, tiny_network),
                                  nst.fast_stylize(photo, path))


def _message(error):
    text = str(error.value)
    assert "\n" not in text
    return text


def test_unknown_missing_damaged_and_foreign_networks_are_named(tmp_path, tiny_network):
    photo = tf.random.uniform((1, 40, 40, 3), seed=4)
    with pytest.raises(nst.ModelError) as error:
        nst.fast_stylize(photo, "no_such_painting")
    assert "no such style network" in _message(error)
    with pytest.raises(nst.ModelError) as error:
        nst.fast_stylize(photo, tmp_path / f"gone{nst.MODEL_SUFFIX}")
    assert "no such file" in _message(error)
    damaged = tmp_path / f"damaged{nst.MODEL_SUFFIX}"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(nst.ModelError) as error:
        nst.fast_stylize(photo, damaged)
    assert "damaged or not a style network" in _message(error)
    foreign = tmp_path / f"foreign{nst.MODEL_SUFFIX}"
    arrays = {v.path: np.asarray(v) for v in tiny_network.weights[:-2]}  # a layer short
    np.savez(foreign, architecture=np.array([4, 4, 8, 1]), **arrays)
    with pytest.raises(nst.ModelError) as error:
        nst.fast_stylize(photo, foreign)
    assert "the weights of another network" in _message(error)
    keras_file = tmp_path / f"keras{nst.MODEL_SUFFIX}"
    np.savez(keras_file, kernel=np.zeros(3))
    with pytest.raises(nst.ModelError) as error:
        nst.fast_stylize(photo, keras_file)
    assert "not a style network saved by save_style_network" in _message(error)


def test_a_photo_too_small_or_not_finite_is_refused(tiny_network):
    with pytest.raises(nst.ImageError, match="too small"):
        nst.fast_stylize(tf.zeros((1, 20, 64, 3)), tiny_network)
    with pytest.raises(ValueError, match="NaN"):
        nst.fast_stylize(tf.fill((1, 40, 40, 3), np.nan), tiny_network)


# --- the command line: --model ------------------------------------------------------------

def run(*args):
    return subprocess.run([sys.executable, str(nst.REPO_ROOT / "nst_helpers.py"), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def saved_network(tmp_path, tiny_network):
    path = tmp_path / f"great_wave{nst.MODEL_SUFFIX}"
    nst.save_style_network(tiny_network, path, style="images/style/hokusai_great_wave.jpg",
                           alpha=10.0, beta=0.04, crop_size=32, batch=2,
                           training_steps=5)
    return path


@pytest.mark.slow  # end to end: `python nst_helpers.py --model`, in its own process
def test_model_paints_and_its_json_names_the_network(tmp_path, saved_network):
    output = tmp_path / "out.jpg"
    completed = run("--content", str(CONTENT), "--model", str(saved_network), "--size", "96",
                    "--output", str(output))
    assert completed.returncode == 0, completed.stderr
    assert nst.load_image(output, None).shape == (1, 64, 96, 3)
    metadata = json.loads(output.with_suffix(".json").read_text())
    assert metadata["model"] == str(saved_network)
    assert metadata["style"] == "images/style/hokusai_great_wave.jpg"
    assert metadata["trained"]["training_steps"] == 5


def main(capsys, *args):
    """The command line in this process (a subprocess costs a TensorFlow start-up):
    its exit status and what it wrote to stderr."""
    try:
        code = nst_cli.main([str(arg) for arg in args])
    except SystemExit as exit:  # argparse's errors
        code = exit.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("model, words", [
    ("no_such_painting", "no such style network"),
    ("damaged", "damaged or not a style network"),
])
def test_a_bad_model_is_one_line_and_writes_nothing(tmp_path, capsys, model, words):
    damaged = tmp_path / f"damaged{nst.MODEL_SUFFIX}"
    damaged.write_bytes(b"garbage")
    damaged.with_name("damaged.json").write_text('{"style": "images/style/x.jpg"}')
    output = tmp_path / "out.jpg"
    code, error = main(capsys, "--content", CONTENT, "--model",
                       damaged if model == "damaged" else model, "--output", output)
    assert code == 2
    assert error.strip().startswith("error: ") and len(error.strip().splitlines()) == 1
    assert words in error
    assert not output.exists() and not output.with_suffix(".json").exists()


@pytest.mark.parametrize("extra, words", [
    (["--style", CONTENT], "not both"),
    (["--beta", "1"], "--beta would be ignored"),
])
def test_model_refuses_options_it_would_ignore(tmp_path, capsys, saved_network, extra, words):
    code, error = main(capsys, "--content", CONTENT, "--model", saved_network, *extra,
                       "--output", tmp_path / "out.jpg")
    assert code == 2 and words in error


def test_neither_style_nor_model_is_named(tmp_path, capsys):
    code, error = main(capsys, "--content", CONTENT, "--output", tmp_path / "out.jpg")
    assert code == 2 and "--style" in error and "--model" in error
