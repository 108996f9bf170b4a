"""FusionStudy on inputs that used to give a wrong answer or lose the work.

Each test is the regression test of one case of the robustness issue: the
study either refuses the input before fitting anything, naming what is wrong,
or runs to the end.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from skfusion.fusion import BlockScaler
from skfusion.study import FusionStudy


def _table(n_samples=30, random_state=0):
    rng = np.random.default_rng(random_state)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n_samples),
            "b": rng.normal(size=n_samples),
            "c": rng.normal(size=n_samples),
        }
    )


MODALITIES = [("m1", "passthrough", ["a"]), ("m2", "passthrough", ["b", "c"])]


class _CountingLogistic(LogisticRegression):
    """Logistic regression counting its fits: a refusal comes before any."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def _strategies():
    return {
        "unimodal:m1": (make_pipeline(BlockScaler(), _CountingLogistic()), ["m1"]),
        "both": make_pipeline(BlockScaler(), _CountingLogistic()),
    }


def _study(modalities=MODALITIES, **params):
    params = {"cv": 3, "random_state": 0, "contributions": None, **params}
    return FusionStudy(modalities, strategies=_strategies(), **params)


@pytest.fixture(autouse=True)
def _reset_fit_count():
    _CountingLogistic.fits = 0


def test_a_column_in_two_modalities_is_refused_by_name():
    modalities = [("m1", "passthrough", ["a"]), ("m2", "passthrough", ["a", "c"])]
    with pytest.raises(ValueError, match="Column 'a' is in two modalities, 'm1' and"):
        _study(modalities).fit(_table(), np.arange(30) % 2)
    assert _CountingLogistic.fits == 0


def test_a_column_twice_in_one_modality_is_refused():
    modalities = [("m1", "passthrough", ["a", "a"]), ("m2", "passthrough", ["b"])]
    with pytest.raises(ValueError, match="'a' is listed twice in modality 'm1'"):
        _study(modalities).fit(_table(), np.arange(30) % 2)


def test_columns_given_by_position_are_compared_by_name():
    modalities = [("m1", "passthrough", [0]), ("m2", "passthrough", ["a", "c"])]
    with pytest.raises(ValueError, match="Column 'a' is in two modalities"):
        _study(modalities).fit(_table(), np.arange(30) % 2)


def test_a_class_with_fewer_members_than_folds_is_refused_before_fitting():
    y = np.array([0] * 14 + [1] * 14 + [2] * 2)
    with pytest.raises(
        ValueError, match="Class 2 is in 2 row\\(s\\), fewer than the cv=3 folds"
    ) as error:
        _study().fit(_table(), y)
    assert "cv=2 or fewer folds" in str(error.value)
    assert _CountingLogistic.fits == 0


def test_a_class_with_fewer_groups_than_folds_speaks_of_groups():
    y = np.array([0, 1] * 15)
    # Every member of class 1 is in group 0 or 1.
    groups = np.where(y == 1, (np.arange(30) // 2) % 2, 10 + np.arange(30))
    with pytest.raises(ValueError, match="Class 1 is in 2 group\\(s\\)"):
        _study().fit(_table(), y, groups=groups)


def test_more_folds_than_groups_speaks_of_groups():
    y = np.arange(30) % 2
    with pytest.raises(ValueError, match="cv=20 folds need at least 20 groups") as err:
        _study(cv=20).fit(_table(), y, groups=np.arange(30) // 3)
    assert "groups has 10 distinct values" in str(err.value)
    assert "class" not in str(err.value).lower()


def test_a_class_missing_from_a_training_fold_is_refused_before_fitting():
    # Unshuffled KFold: class 2 (the last 3 rows) is in the last test fold only.
    y = np.array([0, 1] * 13 + [2] * 4)
    with pytest.raises(
        ValueError, match="Class 2 is absent from the training rows of repeat 0, fold 2"
    ) as error:
        _study(cv=KFold(3)).fit(_table(), y)
    assert "positions 26, 27, 28, 29" in str(error.value)
    assert _CountingLogistic.fits == 0


def test_a_class_missing_from_a_test_fold_is_refused():
    # Class 2 at rows 0 and 15: in every training part, not in fold 2's test.
    y = np.arange(30) % 2
    y[[0, 15]] = 2
    with pytest.raises(ValueError, match="Class 2 is absent from the test rows of rep"):
        _study(cv=KFold(3)).fit(_table(), y)


@pytest.mark.parametrize("as_series", [False, True])
def test_a_boolean_target_is_a_binary_study(tmp_path, as_series):
    table = _table(40)
    y = table["a"].to_numpy() + 0.3 * table["b"].to_numpy() > 0
    y = pd.Series(y, name="flag") if as_series else y
    study = _study().fit(table, y)
    assert study.task_ == "binary"
    assert study.pos_label_ is True
    assert study.summary_["roc_auc_mean"].notna().all()
    assert study.summary_.loc["unimodal:m1", "roc_auc_mean"] > 0.7
    assert (study.report(tmp_path / "report") / "report.html").is_file()


def test_a_string_in_a_passthrough_column_names_modality_column_and_row():
    table = _table()
    table["b"] = table["b"].astype(object)
    table.loc[4, "b"] = "oops"
    with pytest.raises(ValueError) as error:
        _study().fit(table, np.arange(30) % 2)
    message = str(error.value)
    assert "modality 'm2' passes column 'b' through" in message
    assert "first at row 4 ('oops')" in message
    assert _CountingLogistic.fits == 0


class _Strings:
    """A stateless transformer that returns its input as it is (strings)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X

    def set_output(self, transform=None):
        return self

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def test_a_transformer_giving_strings_is_named_with_the_table_row():
    table = _table()
    table["c"] = table["c"].astype(object)
    table.loc[7, "c"] = "n/a"
    modalities = [("m1", "passthrough", ["a"]), ("m2", _Strings(), ["b", "c"])]
    with pytest.raises(ValueError) as error:
        _study(modalities).fit(table, np.arange(30) % 2)
    message = str(error.value)
    assert "modality 'm2', column 'c': 1 value(s) are not numbers" in message
    assert "first at row 7 ('n/a')" in message


def test_a_corrupt_file_names_modality_column_and_table_row(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from skfusion.extractors import ImageLoader

    paths = []
    for row in range(30):
        path = tmp_path / f"{row}.png"
        Image.fromarray(np.full((4, 4), 8 * row, dtype=np.uint8)).save(path)
        paths.append(str(path))
    (tmp_path / "21.png").write_bytes(b"not a png")
    table = _table().assign(scan=paths)
    modalities = [*MODALITIES, ("xray", ImageLoader(size=(4, 4)), "scan")]
    with pytest.raises(ValueError) as error:
        _study(modalities).fit(table, np.arange(30) % 2)
    message = str(error.value)
    assert "Modality 'xray' (column 'scan'): ImageLoader cannot read row" in message
    assert "21.png" in message
    assert "table row 21" in message or "row 21 " in message


@pytest.mark.slow
def test_default_strategies_at_extreme_scales_and_an_exam_for_positives_only():
    """Every default strategy runs: a modality x 1e300, one 1e300 cell, and a
    modality measured only in the positive rows (one class among its rows)."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 30)
    table = pd.DataFrame(
        {
            "a": rng.normal(size=60) + y,
            "b": rng.normal(size=60) * 1e300,
            "c": np.where(y == 1, rng.normal(size=60), np.nan),
        }
    )
    table.loc[5, "a"] = 1e300
    modalities = [
        ("m1", "passthrough", ["a"]),
        ("m2", "passthrough", ["b"]),
        ("m3", "passthrough", ["c"]),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        study = FusionStudy(modalities, cv=3, random_state=0).fit(table, y)
    assert np.isfinite(study.summary_["roc_auc_mean"]).all()
    for name, proba in study.oof_proba_.items():
        assert np.isfinite(proba).all(), name
