"""The quantile binning before the study's class-weighted gradient boosting."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline

from skfusion.study import default_strategies
from skfusion.study._binning import QuantileBinning


def _data(n_samples=300, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * [1.0, 1e-200, 1e200, 1.0]
    X[:, 3] = rng.integers(0, 5, n_samples)  # few values: passes unchanged
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + rng.normal(0, 0.5, n_samples) > 0.5).astype(int)
    return X, y


def test_boosting_on_the_bins_is_the_unweighted_model_exactly():
    X, y = _data()
    X_test, _ = _data(seed=1)
    boosting = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    direct = clone(boosting).fit(X, y)
    binned = make_pipeline(QuantileBinning(), clone(boosting)).fit(X, y)
    assert_allclose(binned.predict_proba(X_test), direct.predict_proba(X_test))


def test_missing_values_stay_missing_and_few_values_pass():
    X, _ = _data()
    binning = QuantileBinning().fit(X)
    binned = binning.transform(X)
    assert_array_equal(np.isnan(binned), np.isnan(X))
    assert binning.edges_[3] is None
    assert_array_equal(binned[:, 3], X[:, 3])
    observed = binned[~np.isnan(binned[:, 0]), 0]
    assert observed.min() >= 0 and observed.max() <= 254
    assert len(np.unique(observed)) == 255


def test_the_bins_keep_the_order_of_the_values_at_any_scale():
    X, _ = _data()
    binned = QuantileBinning().fit_transform(X)
    for j in (1, 2):
        present = ~np.isnan(X[:, j])
        order = np.argsort(X[present, j], kind="stable")
        assert np.all(np.diff(binned[present, j][order]) >= 0)


@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_the_default_gradient_boosting_bins_first(class_weight):
    strategies, _ = default_strategies(
        ["a", "b"], classification=True, class_weight=class_weight, random_state=0
    )
    boosting, seen = strategies["early:hgb"]
    assert seen == ("a", "b")
    # Binned after the wide blocks are reduced, before the boosting.
    assert isinstance(boosting.steps[-2][1], QuantileBinning)
    # Unweighted, the boosting decides by the prevalence rule.
    model = boosting[-1].estimator if class_weight is None else boosting[-1]
    assert model.class_weight == class_weight
