import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.io import wavfile
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skfusion.datasets import (
    load_av_digits,
    load_druglib,
    make_multimodal_classification,
)
from skfusion.datasets._base import data_dir

SOURCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_source = pytest.mark.skipif(
    not SOURCE_DIR.is_dir(), reason=f"source data not available at {SOURCE_DIR}"
)

DRUGLIB_FEATURES = [
    "drug",
    "condition",
    "effectiveness",
    "side_effects",
    "benefits_review",
    "side_effects_review",
    "comments_review",
]
AV_FEATURES = ["audio", "image", "speaker", "split"]


@pytest.fixture(scope="module")
def druglib_all():
    return load_druglib(subset="all")


@pytest.fixture(scope="module")
def av_all():
    return load_av_digits()


# --- bundled files ----------------------------------------------------------


def test_bundled_size_within_budget():
    files = [p for p in data_dir().rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 8 * 10**6


def test_licence_files_present():
    licences = data_dir() / "LICENSES"
    for name in ["druglib.txt", "fsdd.txt", "mnist.txt"]:
        text = (licences / name).read_text()
        assert "Licence:" in text and "https://creativecommons.org/" in text


@needs_source
@pytest.mark.parametrize("name", ["drugLibTrain_raw.tsv", "drugLibTest_raw.tsv"])
def test_druglib_files_identical_to_source(name):
    bundled = gzip.decompress((data_dir() / "druglib" / f"{name}.gz").read_bytes())
    assert bundled == (SOURCE_DIR / "druglib_reviews" / name).read_bytes()


@needs_source
def test_av_digits_files_identical_to_source(av_all):
    source = SOURCE_DIR / "fsdd_mnist_av"
    for path in av_all.data["audio"]:
        name = Path(path).name
        original = source / "fsdd" / "recordings" / name
        assert Path(path).read_bytes() == original.read_bytes()

    raw = gzip.decompress((source / "mnist/t10k-images-idx3-ubyte.gz").read_bytes())
    mnist = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
    pairs = pd.read_csv(source / "pairs.csv").set_index("wav")
    index = pairs.loc[[Path(p).name for p in av_all.data["audio"]], "mnist_index"]
    np.testing.assert_array_equal(np.stack(av_all.data["image"]), mnist[index])
    np.testing.assert_array_equal(
        pairs.loc[[Path(p).name for p in av_all.data["audio"]], "split"],
        av_all.data["split"],
    )


# --- load_druglib -----------------------------------------------------------


def test_druglib_subsets_add_up(druglib_all):
    train, test = load_druglib(subset="train"), load_druglib(subset="test")
    assert train.data.shape == (3107, 7)
    assert test.data.shape == (1036, 7)
    assert druglib_all.data.shape == (4143, 7)
    assert druglib_all.data.index.is_unique
    pd.testing.assert_frame_equal(
        pd.concat([train.frame, test.frame]), druglib_all.frame
    )


def test_druglib_columns_and_dtypes(druglib_all):
    data = druglib_all.data
    assert list(data.columns) == DRUGLIB_FEATURES
    assert druglib_all.feature_names == DRUGLIB_FEATURES
    assert data.index.name == "review_id"
    assert "rating" not in data.columns
    for column in ["effectiveness", "side_effects"]:
        assert data[column].dtype == np.int64
        assert set(data[column]) == {1, 2, 3, 4, 5}
    for column in ["drug", "condition", *DRUGLIB_FEATURES[4:]]:
        values = data[column].dropna()
        assert all(isinstance(v, str) and v.strip() for v in values)
        assert not values.str.contains("\r").any()
    assert data["drug"].notna().all()
    assert data["condition"].isna().sum() == 1
    assert data["side_effects_review"].isna().any()


def test_druglib_ordinal_mapping():
    # Review 2202 (first train row): "Highly Effective", "Mild Side Effects".
    data = load_druglib().data
    assert data.loc[2202, "effectiveness"] == 5
    assert data.loc[2202, "side_effects"] == 2
    assert data.loc[2202, "drug"] == "enalapril"


def test_druglib_targets(druglib_all):
    y = druglib_all.target
    assert y.name == "rating_class"
    assert druglib_all.target_names == ["negative", "neutral", "positive"]
    assert sorted(y.unique()) == ["negative", "neutral", "positive"]
    assert list(druglib_all.frame.columns) == [*DRUGLIB_FEATURES, "rating_class"]

    rating = load_druglib(subset="all", target="rating")
    r = rating.target
    assert r.name == "rating" and r.dtype == np.int64
    assert r.between(1, 10).all() and set(r) == set(range(1, 11))
    expected = pd.cut(r, [0, 4, 6, 10], labels=["negative", "neutral", "positive"])
    assert (expected.astype(str) == y).all()


def test_druglib_modalities(druglib_all):
    assert druglib_all.modalities == {
        "tabular": ["drug", "condition", "effectiveness", "side_effects"],
        "text": ["benefits_review", "side_effects_review", "comments_review"],
    }
    assert "CC BY 4.0" in druglib_all.DESCR
    assert "Graesser" in druglib_all.DESCR


def test_druglib_return_X_y_and_numpy():
    X, y = load_druglib(subset="test", return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape == (1036, 7) and y.shape == (1036,)

    bunch = load_druglib(subset="test", as_frame=False)
    assert bunch.frame is None
    assert isinstance(bunch.data, np.ndarray) and bunch.data.dtype == object
    assert bunch.data.shape == (1036, 7)
    assert isinstance(bunch.target, np.ndarray)
    np.testing.assert_array_equal(bunch.target, y.to_numpy(dtype=object))
    np.testing.assert_array_equal(bunch.data[:, 2], X["effectiveness"].to_numpy())

    X, y = load_druglib(target="rating", return_X_y=True, as_frame=False)
    assert y.dtype == np.int64 and X.shape == (3107, 7)


@pytest.mark.parametrize(
    "kwargs", [{"subset": "validation"}, {"target": "effectiveness"}]
)
def test_druglib_invalid_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        load_druglib(**kwargs)


# --- load_av_digits ---------------------------------------------------------


def test_av_digits_subsets_add_up(av_all):
    train, test = load_av_digits(subset="train"), load_av_digits(subset="test")
    assert train.data.shape == (300, 4) and test.data.shape == (300, 4)
    assert av_all.data.shape == (600, 4)
    assert (train.data["split"] == "train").all()
    assert (test.data["split"] == "test").all()
    assert isinstance(train.data.index, pd.RangeIndex)
    assert sorted(pd.concat([train.data, test.data])["audio"]) == sorted(
        av_all.data["audio"]
    )
    for bunch in [train, test]:
        counts = bunch.target.value_counts()
        assert sorted(counts.index) == list(range(10)) and (counts == 30).all()


def test_av_digits_columns_and_target(av_all):
    assert list(av_all.data.columns) == AV_FEATURES
    assert av_all.feature_names == AV_FEATURES
    assert list(av_all.frame.columns) == [*AV_FEATURES, "digit"]
    assert av_all.target.name == "digit" and av_all.target.dtype == np.int64
    assert av_all.target_names == list(range(10))
    assert av_all.modalities == {"audio": ["audio"], "image": ["image"]}
    assert av_all.data["speaker"].nunique() == 6
    for text in ["CC BY-SA 4.0", "CC BY-SA 3.0", "conditionally independent"]:
        assert text in av_all.DESCR


def test_av_digits_wav_files(av_all):
    pattern = re.compile(r"(\d)_([a-z]+)_(\d+)\.wav")
    for path, speaker, split, digit in zip(
        av_all.data["audio"],
        av_all.data["speaker"],
        av_all.data["split"],
        av_all.target,
        strict=True,
    ):
        path = Path(path)
        assert path.is_absolute() and path.is_file()
        match = pattern.fullmatch(path.name)
        assert int(match[1]) == digit and match[2] == speaker
        assert int(match[3]) <= 9
        assert split == ("test" if int(match[3]) <= 4 else "train")
    rate, signal = wavfile.read(av_all.data["audio"].iloc[0])
    assert rate == 8000 and signal.ndim == 1 and signal.size > 0


def test_av_digits_all_wavs_readable(av_all):
    rates = {wavfile.read(path)[0] for path in av_all.data["audio"]}
    assert rates == {8000}


def test_av_digits_images(av_all):
    images = av_all.data["image"]
    assert images.dtype == object
    assert all(im.shape == (28, 28) and im.dtype == np.uint8 for im in images)
    # Distinct images, and no image shared between the splits.
    flat = {im.tobytes() for im in images}
    assert len(flat) == 600


def test_av_digits_return_X_y_and_numpy():
    X, y = load_av_digits(subset="train", return_X_y=True)
    assert X.shape == (300, 4) and y.shape == (300,)

    bunch = load_av_digits(as_frame=False)
    assert bunch.frame is None
    assert bunch.data.dtype == object and bunch.data.shape == (600, 4)
    assert bunch.data[0, 1].shape == (28, 28)
    assert isinstance(bunch.data[0, 0], str)
    assert bunch.target.dtype == np.int64


def test_av_digits_invalid_subset():
    with pytest.raises(ValueError, match="subset"):
        load_av_digits(subset="validation")


# --- make_multimodal_classification ----------------------------------------


def test_synthetic_shapes_and_names():
    X, y = make_multimodal_classification(
        60, modality_sizes=(3, 2, 4), n_classes=3, random_state=0
    )
    assert X.shape == (60, 9) and y.shape == (60,)
    assert list(X.columns[:4]) == ["m0__x0", "m0__x1", "m0__x2", "m1__x0"]
    assert X.columns[-1] == "m2__x3"
    assert y.name == "y" and y.dtype == np.int64
    assert (np.bincount(y) == 20).all()

    X, y = make_multimodal_classification(
        10, modality_sizes=[1, 2], modality_names=["img", "txt"], random_state=0
    )
    assert list(X.columns) == ["img__x0", "txt__x0", "txt__x1"]


def test_synthetic_numpy_output_matches_frame():
    kwargs = {"modality_sizes": (2, 3), "missing_rate": 0.3, "random_state": 1}
    X, y = make_multimodal_classification(30, **kwargs)
    X_np, y_np = make_multimodal_classification(30, as_frame=False, **kwargs)
    assert isinstance(X_np, np.ndarray) and isinstance(y_np, np.ndarray)
    np.testing.assert_array_equal(X.to_numpy(), X_np)
    np.testing.assert_array_equal(y.to_numpy(), y_np)
    assert y_np.dtype == np.int64


def test_synthetic_reproducible():
    a = make_multimodal_classification(40, random_state=np.random.RandomState(3))
    b = make_multimodal_classification(40, random_state=3)
    c = make_multimodal_classification(40, random_state=4)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_series_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])


@pytest.mark.parametrize("n_classes", [2, 4])
def test_synthetic_informativeness_monotone(n_classes):
    scores = []
    for strength in [0.0, 1.0, 2.0, 4.0]:
        X, y = make_multimodal_classification(
            400,
            modality_sizes=(5, 5),
            informativeness=[strength, 0.0],
            n_classes=n_classes,
            as_frame=False,
            random_state=0,
        )
        X_train, X_test, y_train, y_test = train_test_split(
            X[:, :5], y, stratify=y, random_state=0
        )
        model = LogisticRegression().fit(X_train, y_train)
        scores.append(model.score(X_test, y_test))
    assert scores == sorted(scores)
    assert scores[0] < 1 / n_classes + 0.12
    # Bayes accuracy at separation 4: 0.98 for 2 classes, about 0.89 for 4.
    assert scores[-1] > 0.8


def test_synthetic_zero_informativeness_is_noise():
    X, y = make_multimodal_classification(
        300,
        modality_sizes=(4, 4),
        informativeness=[3.0, 0.0],
        as_frame=False,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    noise = LogisticRegression().fit(X_train[:, 4:], y_train)
    assert abs(noise.score(X_test[:, 4:], y_test) - 0.5) < 0.12


def test_synthetic_interaction_needs_both_modalities():
    X, y = make_multimodal_classification(
        400,
        modality_sizes=(2, 2),
        informativeness=4.0,
        interaction=True,
        as_frame=False,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    for block in [slice(0, 2), slice(2, 4)]:
        for model in [
            LogisticRegression(),
            RandomForestClassifier(n_estimators=50, random_state=0),
        ]:
            model.fit(X_train[:, block], y_train)
            assert abs(model.score(X_test[:, block], y_test) - 0.5) < 0.12
    for model in [
        RandomForestClassifier(n_estimators=50, random_state=0),
        GradientBoostingClassifier(random_state=0),
    ]:
        assert model.fit(X_train, y_train).score(X_test, y_test) > 0.8


def test_synthetic_missing_rate():
    X, _ = make_multimodal_classification(
        200, modality_sizes=(3, 2, 2), missing_rate=0.25, random_state=0
    )
    blocks = [
        ["m0__x0", "m0__x1", "m0__x2"],
        ["m1__x0", "m1__x1"],
        ["m2__x0", "m2__x1"],
    ]
    all_nan = np.column_stack([X[cols].isna().all(axis=1) for cols in blocks])
    any_nan = np.column_stack([X[cols].isna().any(axis=1) for cols in blocks])
    # A missing modality is a whole all-NaN block, exactly one per affected row.
    np.testing.assert_array_equal(all_nan, any_nan)
    assert all_nan.sum(axis=1).max() == 1
    assert all_nan.sum() == 50
    assert all_nan.any(axis=0).all()

    X, _ = make_multimodal_classification(50, random_state=0)
    assert not X.isna().any().any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 10.5}, "n_samples"),
        ({"modality_sizes": ()}, "modality_sizes"),
        ({"modality_sizes": (3, 0)}, "modality_sizes"),
        ({"modality_sizes": 5}, "modality_sizes"),
        ({"informativeness": -1.0}, "informativeness"),
        ({"informativeness": [1.0, 2.0, 3.0]}, "informativeness"),
        ({"informativeness": [1.0, np.nan]}, "informativeness"),
        ({"n_classes": 1}, "n_classes"),
        ({"interaction": True, "n_classes": 3}, "interaction"),
        ({"interaction": True, "modality_sizes": (4,)}, "interaction"),
        ({"interaction": "yes"}, "interaction"),
        ({"missing_rate": 1.0}, "missing_rate"),
        ({"missing_rate": -0.1}, "missing_rate"),
        ({"missing_rate": 0.1, "modality_sizes": (4,)}, "missing_rate"),
        ({"modality_names": ["a"]}, "modality_names"),
        ({"modality_names": ["a", "a"]}, "modality_names"),
        ({"modality_names": ["a", "b__c"]}, "modality_names"),
        ({"modality_names": "ab"}, "modality_names"),
        ({"as_frame": None}, "as_frame"),
    ],
)
def test_synthetic_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_classification(**kwargs)


def test_synthetic_weights_give_an_imbalanced_target():
    _, y = make_multimodal_classification(
        200, n_classes=3, weights=(0.7, 0.2, 0.1), random_state=0
    )
    assert np.bincount(y).tolist() == [140, 40, 20]
    _, y = make_multimodal_classification(7, weights=(0.99, 0.01), random_state=0)
    assert np.bincount(y).tolist() == [6, 1]
    with pytest.raises(ValueError, match="positive proportions"):
        make_multimodal_classification(50, weights=(0.5, 0.3, 0.2))
    with pytest.raises(ValueError, match="interaction"):
        make_multimodal_classification(50, weights=(0.5, 0.5), interaction=True)
