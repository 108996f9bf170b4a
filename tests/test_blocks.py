"""skfusion.blocks: the input checks and standardisation of every fusion estimator."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

# Every fusion family, by the module that holds it.
from skfusion import fusion
from skfusion.blocks import nan_column_statistics, standardize_columns
from skfusion.datasets import make_multimodal_classification
from skfusion.deep import DeepFusionClassifier, DeepFusionRegressor

DEEP = {"embed_dim": 4, "hidden_dim": 8, "max_epochs": 1, "random_state": 0}


def _estimators():
    return [
        fusion.BlockScaler(),
        fusion.FeatureFusion("sum"),
        fusion.LateFusionClassifier(combiner="stacking", cv=3, random_state=0),
        fusion.LateFusionRegressor(combiner="weighted", cv=3, random_state=0),
        fusion.SharedSpace(n_components=1),
        fusion.MultipleKernelClassifier(random_state=0),
        DeepFusionClassifier(**DEEP),
        DeepFusionRegressor(**DEEP),
    ]


def _with_targets():
    return [e for e in _estimators() if not hasattr(e, "transform")]


def _data(n_samples=40, random_state=0):
    X, y = make_multimodal_classification(
        n_samples, modality_sizes=(3, 2), missing_rate=0.2, random_state=random_state
    )
    return X, y


# --------------------------------------------------------------------------------
# nan_column_statistics / standardize_columns
# --------------------------------------------------------------------------------


def test_column_statistics_are_the_nan_mean_and_std():
    X, _ = _data()
    values = X.to_numpy()
    mean, scale, counts, varying = nan_column_statistics(values)
    assert_allclose(mean, np.nanmean(values, axis=0))
    assert_allclose(scale, np.nanstd(values, axis=0))
    assert_array_equal(counts, (~np.isnan(values)).sum(axis=0))
    assert varying.all()


def test_column_statistics_of_constant_and_never_observed_columns():
    values = np.array(
        [[0.1, np.nan, 1.0, 5.0], [0.1, np.nan, 2.0, np.nan], [0.1, np.nan, 4.0, 5.0]]
    )
    mean, scale, counts, varying = nan_column_statistics(values)
    assert_allclose(mean, [0.1, 0.0, 7 / 3, 5.0])
    assert_allclose(scale[[0, 1, 3]], 1.0)
    assert_array_equal(counts, [3, 0, 3, 2])
    assert_array_equal(varying, [False, False, True, False])


@pytest.mark.parametrize("factor", [1e300, 1e-300, 1e-150, 1e150])
def test_standardisation_is_scale_invariant_without_numpy_warnings(factor):
    X, _ = _data()
    values = X.to_numpy().copy()
    values[5, 1] = 1e3  # an outlier, and a column that is constant elsewhere
    values[:, 4] = 2.5
    mean, scale, _, varying = nan_column_statistics(values)
    expected = standardize_columns(values, mean, scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean_f, scale_f, _, varying_f = nan_column_statistics(values * factor)
        scaled = standardize_columns(values * factor, mean_f, scale_f)
    assert np.isfinite(mean_f).all() and np.isfinite(scale_f).all()
    assert_array_equal(varying_f, varying)
    assert_allclose(scaled[:, varying], expected[:, varying], rtol=1e-12, atol=1e-12)
    assert_allclose(scaled[:, ~varying], 0.0, atol=1e-12)


def test_standardisation_near_the_largest_float_does_not_overflow():
    values = np.array([[-1.7e308], [1.7e308], [np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, scale, _, _ = nan_column_statistics(values)
        scaled = standardize_columns(values, mean, scale)
    assert_allclose(scaled[:2, 0], [-1.0, 1.0])
    assert np.isnan(scaled[2, 0])


# --------------------------------------------------------------------------------
# Columns in another order than at fit
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", _estimators(), ids=lambda e: type(e).__name__)
def test_reordered_columns_name_the_first_misplaced_column(estimator):
    X, y = _data()
    estimator.fit(X, y)
    reordered = X[[*X.columns[3:], *X.columns[:3]]]
    method = "transform" if hasattr(estimator, "transform") else "predict"
    with pytest.raises(
        ValueError,
        match=r"column 'm1__x0' is at position 0 but was at position 3 when fitted",
    ):
        getattr(estimator, method)(reordered)


def test_reordered_columns_in_a_pipeline():
    X, y = _data()
    model = make_pipeline(fusion.BlockScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match=r"column 'm0__x2' is at position 0"):
        model.predict(X[["m0__x2", "m0__x0", "m0__x1", "m1__x0", "m1__x1"]])


# --------------------------------------------------------------------------------
# NaN in y
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", _with_targets(), ids=lambda e: type(e).__name__)
def test_nan_in_y_names_the_rows(estimator):
    X, y = _data()
    y = y.astype(float)
    y[[3, 7]] = np.nan
    with pytest.raises(ValueError, match=r"y is NaN in rows \[3, 7\]"):
        estimator.fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [fusion.LateFusionClassifier(), DeepFusionClassifier(**DEEP)],
    ids=lambda e: type(e).__name__,
)
def test_missing_label_in_y_names_the_rows(estimator):
    X, y = _data()
    labels = pd.Series(np.where(y == 1, "yes", "no"), dtype=object)
    labels[12] = None
    with pytest.raises(ValueError, match=r"y is NaN in rows \[12\]"):
        estimator.fit(X, labels)


def test_infinite_y_names_the_rows():
    X, y = _data()
    y = y.astype(float)
    y[4] = np.inf
    with pytest.raises(ValueError, match=r"y is infinite in rows \[4\]"):
        fusion.LateFusionRegressor().fit(X, y)


def test_every_fusion_estimator_is_a_client_of_blocks():
    # One home for validation, availability, standardisation and tags: every
    # estimator that consumes a blocked matrix inherits FusionMixin.
    from skfusion.blocks import FusionMixin

    for estimator in (
        fusion.BlockScaler,
        fusion.FeatureFusion,
        fusion.LateFusionClassifier,
        fusion.LateFusionRegressor,
        fusion.SharedSpace,
        fusion.MultipleKernelClassifier,
        DeepFusionClassifier,
        DeepFusionRegressor,
    ):
        assert issubclass(estimator, FusionMixin), estimator.__name__
        assert estimator().__sklearn_tags__().input_tags.allow_nan


def test_never_observed_columns_standardise_to_zero_everywhere():
    from skfusion.blocks import standardize_columns

    values = np.array([[1.0, np.nan], [3.0, np.nan]])
    mean, scale, counts, _ = nan_column_statistics(values)
    later = np.array([[2.0, 5.0], [np.nan, np.nan]])
    assert_array_equal(
        standardize_columns(later, mean, scale, counts)[:, 1], [0.0, 0.0]
    )
    # Without the counts, NaN stays NaN (the caller decides how to fill it).
    assert np.isnan(standardize_columns(later, mean, scale)[1]).all()


# --------------------------------------------------------------------------------
# validation after fit: the fast path for plain numeric frames
# --------------------------------------------------------------------------------


def _frames_of_every_numeric_dtype():
    X, _ = _data()
    as_float32 = X.astype(np.float32)
    mixed = X.astype({X.columns[0]: np.float32})
    counts = X.fillna(0).round().astype(np.int64)
    flags = X.fillna(0) > 0
    nullable = X.astype("Float64")  # an extension dtype: scikit-learn's path
    return {
        "float64": X,
        "float32": as_float32,
        "mixed": mixed,
        "int": counts,
        "bool": flags,
        "nullable": nullable,
    }


@pytest.mark.parametrize("kind", sorted(_frames_of_every_numeric_dtype()))
def test_validation_after_fit_equals_scikit_learns(kind):
    from sklearn.utils.validation import validate_data

    from skfusion.blocks import validate_blocked_data

    X = _frames_of_every_numeric_dtype()[kind]
    scaler = fusion.BlockScaler().fit(X)
    fast = validate_blocked_data(scaler, X, reset=False)
    reference = validate_data(
        scaler,
        X,
        reset=False,
        ensure_all_finite=False,
        dtype=[np.float64, np.float32],
    )
    assert fast.dtype == reference.dtype
    assert_array_equal(fast, reference)


def test_validation_after_fit_still_refuses_infinity_and_empty_frames():
    from skfusion.blocks import validate_blocked_data

    X, _ = _data()
    scaler = fusion.BlockScaler().fit(X)
    infinite = X.copy()
    infinite.iloc[3, 1] = np.inf
    column = X.columns[1]
    with pytest.raises(ValueError, match=f"infinity in column '{column}'.*row 3"):
        validate_blocked_data(scaler, infinite, reset=False)
    with pytest.raises(ValueError, match="0 sample"):
        validate_blocked_data(scaler, X.iloc[:0], reset=False)
    # Fitted without names, given names: scikit-learn's warning, as ever.
    by_position = {"m0": [0, 1, 2], "m1": [3, 4]}
    unnamed = fusion.BlockScaler(modalities=by_position).fit(X.to_numpy())
    with pytest.warns(UserWarning, match="feature names"):
        validate_blocked_data(unnamed, X, reset=False)
