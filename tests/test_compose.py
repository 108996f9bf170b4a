"""Tests for make_modality_transformer and modality resolution."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfusion.compose import (
    ModalityTransformer,
    make_modality_transformer,
    modality_availability,
    resolve_modalities,
)


@pytest.fixture
def study_table():
    return pd.DataFrame(
        {
            "age": [61.0, 47.0, 55.0, 70.0],
            "sex": ["F", "M", "F", "M"],
            "pixel_mean": [0.2, np.nan, 0.4, 0.1],
            "pixel_std": [0.1, np.nan, 0.3, 0.2],
            "note": ["cough and fever", "", "fever", "short of breath"],
        },
        index=[10, 11, 12, 13],
    )


def test_make_modality_transformer_prefixes_and_pandas_output(study_table):
    ct = make_modality_transformer(
        ("clinical", "passthrough", ["age"]),
        ("sex", OneHotEncoder(sparse_output=False), ["sex"]),
        ("image", StandardScaler(), ["pixel_mean", "pixel_std"]),
    )
    assert isinstance(ct, ModalityTransformer)
    out = ct.fit_transform(study_table)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [
        "clinical__age",
        "sex__sex_F",
        "sex__sex_M",
        "image__pixel_mean",
        "image__pixel_std",
    ]
    assert list(out.index) == [10, 11, 12, 13]
    # The missing image stays missing: an all-NaN block for that subject.
    assert out.loc[11, ["image__pixel_mean", "image__pixel_std"]].isna().all()
    assert list(ct.get_feature_names_out()) == list(out.columns)


def test_text_pipeline_without_set_output_is_accepted(study_table):
    text = make_pipeline(TfidfVectorizer(), TruncatedSVD(2, random_state=0))
    ct = make_modality_transformer(
        ("text", text, "note"), ("clinical", "passthrough", ["age"])
    )
    out = clone(ct).fit_transform(study_table)
    assert list(out.columns) == [
        "text__truncatedsvd0",
        "text__truncatedsvd1",
        "clinical__age",
    ]


def test_remainder_passthrough_is_prefixed(study_table):
    ct = make_modality_transformer(
        ("clinical", "passthrough", ["age"]), remainder="passthrough"
    )
    out = ct.fit_transform(study_table)
    assert "remainder__pixel_mean" in out.columns


def test_missing_column_error_names_modality_and_column(study_table):
    ct = make_modality_transformer(("image", "passthrough", ["pixel_mean", "xray"]))
    with pytest.raises(ValueError, match=r"Modality 'image'.*'xray'"):
        ct.fit(study_table)


def test_column_absent_at_transform_names_modality(study_table):
    ct = make_modality_transformer(
        ("clinical", "passthrough", ["age"]),
        ("image", "passthrough", ["pixel_mean"]),
    ).fit(study_table)
    with pytest.raises(ValueError, match=r"Modality 'image'.*'pixel_mean'"):
        ct.transform(study_table.drop(columns="pixel_mean"))


def test_extractor_error_names_modality_and_column(tmp_path, study_table):
    Image = pytest.importorskip("PIL.Image")
    pytest.importorskip("skimage")
    from skfusion.extractors import ImageLoader

    Image.new("L", (4, 4)).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    good, bad = str(tmp_path / "good.png"), str(tmp_path / "bad.png")
    table = study_table.assign(xray=[good, None, good, good])
    ct = make_modality_transformer(
        ("clinical", "passthrough", ["age"]),
        ("image", ImageLoader(size=(2, 2)), "xray"),
    ).fit(table)
    broken = table.assign(xray=[good, bad, None, good])
    message = (
        # Named by the table's index label, not by position.
        r"^Modality 'image' \(column 'xray'\): ImageLoader cannot read row 11 "
        r"\('.*bad\.png'\): "
    )
    for extract in (clone(ct).fit_transform, clone(ct).fit, ct.transform):
        with pytest.raises(ValueError, match=message) as info:
            extract(broken)
        assert type(info.value) is ValueError
        assert str(info.value.__cause__).startswith("ImageLoader cannot read row 11")
    # The fitted transformers and parameters are the extractors themselves.
    assert type(ct.named_transformers_["image"]) is ImageLoader
    assert clone(ct).get_params()["image__size"] == (2, 2)
    restored = pickle.loads(pickle.dumps(ct))
    pd.testing.assert_frame_equal(restored.transform(table), ct.transform(table))


class _Failing(TransformerMixin, BaseEstimator):
    """Raises ``error()`` when fitted."""

    def __init__(self, error=None):
        self.error = error

    def fit(self, X, y=None):
        raise self.error()

    def transform(self, X):
        return X


class _TwoArgumentError(Exception):
    def __init__(self, code, reason):
        super().__init__(f"{code}: {reason}")


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_modality_errors_name_the_columns_in_worker_processes_too(study_table, n_jobs):
    two_columns = make_modality_transformer(
        ("clinical", StandardScaler(), ["age", "sex"]),
        ("image", StandardScaler(), ["pixel_mean"]),
        n_jobs=n_jobs,
    )
    with pytest.raises(
        ValueError, match=r"^Modality 'clinical' \(columns \['age', 'sex'\]\): "
    ) as info:
        two_columns.fit(study_table)
    # Chained to the original (from a worker process: joblib's remote traceback).
    assert "could not convert" in str(info.value.__cause__)


def test_an_error_keeps_its_type_or_gets_a_note(study_table):
    typed = make_modality_transformer(
        ("clinical", _Failing(lambda: TypeError("no")), ["age"])
    )
    with pytest.raises(TypeError, match=r"^Modality 'clinical' \(column 'age'\): no$"):
        typed.fit(study_table)
    # An exception that cannot be rebuilt from a message gets a note instead.
    odd = make_modality_transformer(
        ("clinical", _Failing(lambda: _TwoArgumentError(7, "odd")), ["age"])
    )
    with pytest.raises(_TwoArgumentError) as info:
        odd.fit(study_table)
    assert str(info.value) == "7: odd"
    assert info.value.__notes__ == ["Raised by modality 'clinical' (column 'age')."]


@pytest.mark.parametrize(
    "modality, message",
    [
        (("clinical", "passthrough"), "triple"),
        (("", "passthrough", ["age"]), "non-empty string"),
    ],
)
def test_malformed_modalities_are_refused(modality, message):
    with pytest.raises(ValueError, match=message):
        make_modality_transformer(modality)


def test_resolve_from_prefixes_keeps_first_appearance_order():
    X = pd.DataFrame(np.zeros((2, 4)), columns=["b__1", "a__1", "b__2", "a__2"])
    groups = resolve_modalities(X)
    assert list(groups) == ["b", "a"]
    assert groups["b"].tolist() == [0, 2]
    assert groups["a"].tolist() == [1, 3]


def test_resolve_from_mapping_names_positions_and_slices():
    X = pd.DataFrame(np.zeros((2, 4)), columns=["age", "bmi", "f0", "f1"])
    groups = resolve_modalities(X, {"clinical": ["age", "bmi"], "image": slice(2, 4)})
    assert groups["clinical"].tolist() == [0, 1]
    assert groups["image"].tolist() == [2, 3]
    groups = resolve_modalities(X.to_numpy(), {"a": [0, -1], "b": [1, 2]})
    assert groups["a"].tolist() == [0, 3]


@pytest.mark.parametrize(
    "X, modalities, message",
    [
        (np.zeros((2, 3)), None, "no column names"),
        (pd.DataFrame(np.zeros((2, 2)), columns=["a__x", "age"]), None, "'age'"),
        (np.zeros((2, 3)), {"a": [0], "b": [1]}, "belong to no modality"),
        (np.zeros((2, 3)), {"a": [0, 1], "b": [1, 2]}, "both modality 'a'"),
        (np.zeros((2, 3)), {"a": [0, 1, 2], "b": [5]}, "Modality 'b'.*position 5"),
        (np.zeros((2, 3)), {"a": slice(0, 3), "b": slice(3, None)}, "selects no"),
        (np.zeros((2, 3)), {"a": ["age"], "b": [1, 2]}, "no column names"),
        (
            pd.DataFrame(np.zeros((2, 2)), columns=["age", "bmi"]),
            {"clinical": ["age", "weight"]},
            "Modality 'clinical'.*'weight'",
        ),
        (np.zeros((2, 3)), {}, "non-empty dict"),
        (np.zeros((2, 3)), {"a": [0.5], "b": [1, 2]}, "names, integer positions"),
    ],
)
def test_resolve_errors_are_explicit(X, modalities, message):
    with pytest.raises(ValueError, match=message):
        resolve_modalities(X, modalities)


def test_modality_availability_separates_missing_block_from_missing_value():
    X = pd.DataFrame(
        {
            "clinical__age": [50.0, np.nan, 60.0],
            "image__f0": [0.1, 0.2, np.nan],
            "image__f1": [np.nan, 0.3, np.nan],
        },
        index=["p1", "p2", "p3"],
    )
    available = modality_availability(X)
    assert list(available.index) == ["p1", "p2", "p3"]
    # p1 has a missing value inside a present image block.
    assert available.to_dict("list") == {
        "clinical": [True, False, True],
        "image": [True, True, False],
    }
