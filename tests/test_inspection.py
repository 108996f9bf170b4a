"""Tests of modality permutation importance and modality Shapley values."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import BlockScaler, LateFusionClassifier
from skfusion.inspection import modality_importance, modality_shapley

NAMES = ["m0", "m1", "m2"]


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(
        300, modality_sizes=(4, 4, 4), informativeness=(3.0, 1.0, 0.0), random_state=0
    )


def _pipeline():
    return make_pipeline(BlockScaler(), LogisticRegression())


@pytest.fixture(scope="module")
def exact_shapley(data):
    X, y = data
    return modality_shapley(_pipeline(), X, y, cv=5, random_state=0)


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class and keeps a copy of every X it scores."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.seen_ = []
        return self

    def predict(self, X):
        self.seen_.append(np.array(X, dtype=float, copy=True))
        return np.full(np.shape(X)[0], self.classes_[0])


@pytest.mark.parametrize(
    "estimator", [LateFusionClassifier(), _pipeline()], ids=["late", "blockscaler"]
)
def test_importance_ranks_informative_modalities_first(data, estimator):
    X, y = data
    model = estimator.fit(X, y)
    result = modality_importance(model, X, y, n_repeats=5, random_state=0)
    mean = result.importances_mean
    assert result.modalities == NAMES
    assert result.importances.shape == (3, 5)
    np.testing.assert_allclose(mean, result.importances.mean(axis=1))
    np.testing.assert_allclose(result.importances_std, result.importances.std(axis=1))
    assert mean[0] > mean[1] > mean[2]
    assert mean[1] > 0.02
    assert abs(mean[2]) < 0.03


def test_importance_is_reproducible(data):
    X, y = data
    model = _pipeline().fit(X, y)
    first = modality_importance(model, X, y, random_state=3)
    second = modality_importance(model, X, y, random_state=3, n_jobs=2)
    np.testing.assert_array_equal(first.importances, second.importances)


def test_importance_permutes_one_block_jointly(data):
    X, y = make_multimodal_classification(
        50, modality_sizes=(2, 3, 2), missing_rate=0.4, random_state=1
    )
    model = _RecordingClassifier().fit(X, y)
    modality_importance(model, X, y, n_repeats=2, random_state=0)
    original = X.to_numpy()
    blocks = {"m0": [0, 1], "m1": [2, 3, 4], "m2": [5, 6]}
    # The baseline first, then n_repeats permutations of each modality in turn.
    assert len(model.seen_) == 1 + 3 * 2
    np.testing.assert_array_equal(model.seen_[0], original)
    permuted_calls = zip(np.repeat(list(blocks), 2), model.seen_[1:], strict=True)
    for name, seen in permuted_calls:
        columns = blocks[name]
        others = [c for c in range(original.shape[1]) if c not in columns]
        np.testing.assert_array_equal(seen[:, others], original[:, others])
        block, source = seen[:, columns], original[:, columns]
        assert not np.array_equal(block, source, equal_nan=True)
        # One permutation for the whole block: every permuted row is a whole
        # original row, so the missing-modality rows stay all-NaN.
        remaining = list(range(len(source)))
        for row in block:
            match = next(
                i for i in remaining if np.array_equal(row, source[i], equal_nan=True)
            )
            remaining.remove(match)


def test_importance_numpy_input_with_modalities(data):
    X, y = data
    mapping = {"a": slice(0, 4), "b": [4, 5, 6, 7], "c": slice(8, 12)}
    model = LogisticRegression().fit(X.to_numpy(), y.to_numpy())
    result = modality_importance(
        model, X.to_numpy(), y.to_numpy(), modalities=mapping, random_state=0
    )
    assert result.modalities == ["a", "b", "c"]
    reference = modality_importance(
        LogisticRegression().fit(X, y), X, y, random_state=0
    )
    np.testing.assert_allclose(result.importances, reference.importances)


def test_shapley_efficiency_and_ordering(exact_shapley):
    result = exact_shapley
    values = result.shapley_values
    assert list(values) == NAMES
    assert len(result.coalition_scores) == 2**3
    assert result.coalition_scores[frozenset(NAMES)] == result.full_score
    assert result.coalition_scores[frozenset()] == result.empty_score
    assert sum(values.values()) == pytest.approx(
        result.full_score - result.empty_score, abs=1e-10
    )
    assert values["m0"] > values["m1"] > values["m2"]
    assert abs(values["m2"]) < 0.05
    assert result.empty_score == pytest.approx(0.5)


def test_shapley_monte_carlo_close_to_exact(data, exact_shapley):
    X, y = data
    sampled = modality_shapley(
        _pipeline(), X, y, cv=5, max_exact=2, n_permutations=300, random_state=0
    )
    assert sum(sampled.shapley_values.values()) == pytest.approx(
        sampled.full_score - sampled.empty_score, abs=1e-10
    )
    for name in NAMES:
        assert sampled.shapley_values[name] == pytest.approx(
            exact_shapley.shapley_values[name], abs=0.02
        )


def test_shapley_is_reproducible(data, exact_shapley):
    X, y = data
    again = modality_shapley(_pipeline(), X, y, cv=5, random_state=0, n_jobs=2)
    assert again.shapley_values == exact_shapley.shapley_values
    assert again.coalition_scores == exact_shapley.coalition_scores


def test_shapley_numpy_input_with_modalities(data, exact_shapley):
    X, y = data
    mapping = {"m0": slice(0, 4), "m1": slice(4, 8), "m2": slice(8, 12)}
    estimator = make_pipeline(BlockScaler(modalities=mapping), LogisticRegression())
    result = modality_shapley(
        estimator, X.to_numpy(), y.to_numpy(), modalities=mapping, random_state=0
    )
    for name in NAMES:
        assert result.shapley_values[name] == pytest.approx(
            exact_shapley.shapley_values[name], abs=1e-12
        )


def test_shapley_of_late_fusion_is_efficient(data):
    X, y = data
    result = modality_shapley(LateFusionClassifier(), X, y, cv=3, random_state=0)
    total = sum(result.shapley_values.values())
    assert total == pytest.approx(result.full_score - result.empty_score, abs=1e-10)
    assert result.shapley_values["m0"] > result.shapley_values["m2"]


class _RefusesMissingModalities(LogisticRegression):
    def fit(self, X, y, **kwargs):
        if np.isnan(X).all(axis=0).any():
            raise ValueError("a whole column is missing")
        return super().fit(np.nan_to_num(X), y, **kwargs)

    def predict(self, X):
        return super().predict(np.nan_to_num(X))


def test_shapley_names_the_failing_coalition(data):
    X, y = data
    with pytest.raises(ValueError, match="coalition of modalities"):
        modality_shapley(_RefusesMissingModalities(), X, y, cv=3, random_state=0)
