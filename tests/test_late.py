import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import LateFusionClassifier, LateFusionRegressor

COMBINERS = ["mean", "weighted", "product", "stacking", "vote"]
REGRESSION_COMBINERS = ["mean", "weighted", "stacking"]


def _data(
    n_samples=90,
    sizes=(3, 3),
    informativeness=2.0,
    n_classes=2,
    missing_rate=0.0,
    random_state=0,
):
    return make_multimodal_classification(
        n_samples,
        modality_sizes=sizes,
        informativeness=informativeness,
        n_classes=n_classes,
        missing_rate=missing_rate,
        random_state=random_state,
    )


def _columns(X, modality):
    return [c for c in X.columns if c.startswith(f"{modality}__")]


def _blank(X, modality, rows):
    """Copy of X with the block of ``modality`` set to NaN in ``rows``."""
    X = X.copy()
    X.loc[X.index[rows], _columns(X, modality)] = np.nan
    return X


def _present(X, modality):
    return X[_columns(X, modality)].notna().any(axis=1).to_numpy()


class _RecordingLogisticRegression(LogisticRegression):
    """Logistic regression that logs the size of every training set it sees.

    The log is a class attribute because the fusion model fits clones.
    """

    log = []

    def fit(self, X, y, sample_weight=None):
        type(self).log.append(len(y))
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def fit_log():
    _RecordingLogisticRegression.log = []
    yield _RecordingLogisticRegression.log
    _RecordingLogisticRegression.log = []


def _regression_data(n_samples=120, random_state=0):
    """``a`` carries the target, ``b`` is pure noise."""
    rng = np.random.default_rng(random_state)
    values = rng.normal(size=(n_samples, 6))
    X = pd.DataFrame(
        values, columns=[f"{m}__x{i}" for m in ("a", "b") for i in range(3)]
    )
    y = 3.0 * values[:, 0] - 2.0 * values[:, 1] + rng.normal(0, 0.1, n_samples)
    return X, pd.Series(y + 5.0)


# --------------------------------------------------------------------------------
# Per-modality models
# --------------------------------------------------------------------------------


def test_each_modality_model_fitted_on_its_present_rows_only(fit_log):
    X, y = _data()
    X = _blank(X, "m1", slice(0, 30))
    X = _blank(X, "m0", slice(30, 45))
    model = LateFusionClassifier(_RecordingLogisticRegression()).fit(X, y)

    assert fit_log == [90 - 15, 90 - 30]
    for modality in ("m0", "m1"):
        rows = _present(X, modality)
        block = X.loc[rows, _columns(X, modality)]
        by_hand = LogisticRegression().fit(block, y[rows])
        fitted = model.estimators_[modality]
        assert fitted.n_features_in_ == 3
        assert_array_equal(fitted.coef_, by_hand.coef_)
        assert_array_equal(fitted.intercept_, by_hand.intercept_)


def test_predict_proba_by_modality_matches_each_estimator():
    X, y = _data(n_classes=3)
    X = _blank(X, "m1", slice(0, 20))
    model = LateFusionClassifier().fit(X, y)
    X_test = _blank(_blank(X, "m0", slice(60, 70)), "m1", slice(80, 90))

    by_modality = model.predict_proba_by_modality(X_test)

    assert list(by_modality) == ["m0", "m1"]
    for modality, proba in by_modality.items():
        rows = _present(X_test, modality)
        expected = model.estimators_[modality].predict_proba(
            X_test.loc[rows, _columns(X_test, modality)].to_numpy()
        )
        assert proba.shape == (90, 3)
        assert_allclose(proba[rows], expected, rtol=1e-12)
        assert np.isnan(proba[~rows]).all()


def test_predict_by_modality_keeps_index_and_nan_where_missing():
    X, y = _data()
    model = LateFusionClassifier().fit(X, y)
    X_test = _blank(X.iloc[:20], "m1", [0, 3, 7]).set_index(
        pd.Index([f"s{i}" for i in range(20)], name="subject")
    )

    labels = model.predict_by_modality(X_test)

    assert isinstance(labels, pd.DataFrame)
    assert labels.index.equals(X_test.index)
    assert list(labels.columns) == ["m0", "m1"]
    assert labels["m1"].isna().to_numpy().tolist() == [
        i in (0, 3, 7) for i in range(20)
    ]
    assert labels["m0"].notna().all()
    for modality, proba in model.predict_proba_by_modality(X_test).items():
        rows = _present(X_test, modality)
        assert_array_equal(
            labels.loc[rows, modality].to_numpy(dtype=float),
            model.classes_[np.argmax(proba[rows], axis=1)],
        )


# --------------------------------------------------------------------------------
# Combination and renormalisation over the available modalities
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("combiner", ["mean", "weighted", "product"])
@pytest.mark.parametrize("missing", ["m0", "m1"])
def test_row_with_one_modality_missing_gets_the_other_modality(combiner, missing):
    X, y = _data(n_classes=3)
    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0).fit(X, y)
    assert min(model.modality_weights_.values()) > 0
    X_test = _blank(X.iloc[:30], missing, slice(0, 15))
    available = "m1" if missing == "m0" else "m0"

    proba = model.predict_proba(X_test)
    by_modality = model.predict_proba_by_modality(X_test)

    assert_allclose(proba[:15], by_modality[available][:15], rtol=1e-9, atol=1e-12)


def test_mean_with_all_modalities_present_is_the_average():
    X, y = _data(n_classes=3)
    model = LateFusionClassifier(combiner="mean").fit(X, y)
    by_modality = model.predict_proba_by_modality(X)

    assert_allclose(
        model.predict_proba(X), (by_modality["m0"] + by_modality["m1"]) / 2, rtol=1e-12
    )


def test_weighted_with_all_modalities_present_is_the_weighted_average():
    X, y = _data(n_classes=3)
    model = LateFusionClassifier(combiner="weighted", cv=3, random_state=0).fit(X, y)
    weights = model.modality_weights_
    by_modality = model.predict_proba_by_modality(X)

    expected = weights["m0"] * by_modality["m0"] + weights["m1"] * by_modality["m1"]
    assert_allclose(model.predict_proba(X), expected, rtol=1e-10)


def test_product_with_all_modalities_present_is_the_normalised_geometric_mean():
    X, y = _data(n_classes=3)
    model = LateFusionClassifier(combiner="product").fit(X, y)
    by_modality = model.predict_proba_by_modality(X)

    geometric = np.sqrt(by_modality["m0"] * by_modality["m1"])
    expected = geometric / geometric.sum(axis=1, keepdims=True)
    assert_allclose(model.predict_proba(X), expected, rtol=1e-9)


def test_vote_is_the_majority_with_ties_broken_by_mean_probability():
    X, y = _data(n_samples=120, sizes=(2, 2, 2), informativeness=0.7, n_classes=2)
    model = LateFusionClassifier(combiner="vote").fit(X, y)
    X_test = _blank(X, "m2", slice(0, 60))
    by_modality = model.predict_proba_by_modality(X_test)

    votes = np.zeros((120, 2))
    mean_proba = np.zeros((120, 2))
    for proba in by_modality.values():
        rows = ~np.isnan(proba).all(axis=1)
        votes[np.flatnonzero(rows), np.argmax(proba[rows], axis=1)] += 1
        mean_proba[rows] += proba[rows]
    counts = votes.sum(axis=1, keepdims=True)
    shares = votes / counts + 1e-3 * mean_proba / counts
    expected = shares / shares.sum(axis=1, keepdims=True)

    proba = model.predict_proba(X_test)
    assert_allclose(proba, expected, rtol=1e-12)
    majority = votes[:, 1] != votes[:, 0]
    assert_array_equal(
        np.argmax(proba[majority], axis=1), np.argmax(votes[majority], 1)
    )
    tied = ~majority
    assert tied.any()
    assert_array_equal(np.argmax(proba[tied], 1), np.argmax(mean_proba[tied], 1))


# --------------------------------------------------------------------------------
# Rows with no modality at all: the training prior
# --------------------------------------------------------------------------------


def _imbalanced_data():
    X, y = _data(n_samples=120, n_classes=3)
    keep = np.flatnonzero((y != 2) | (np.arange(120) % 4 == 0))
    return X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)


@pytest.mark.parametrize("combiner", COMBINERS)
def test_row_with_no_modality_gets_the_class_prior(combiner):
    X, y = _imbalanced_data()
    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0).fit(X, y)
    X_test = X.iloc[:6].copy()
    X_test.iloc[[1, 4]] = np.nan

    expected_prior = np.bincount(y, minlength=3) / len(y)
    assert_allclose(model.class_prior_, expected_prior, rtol=1e-12)
    assert len(np.unique(expected_prior)) == 2  # not uniform: the test is meaningful
    proba = model.predict_proba(X_test)
    assert_allclose(proba[[1, 4]], np.tile(expected_prior, (2, 1)), rtol=1e-12)
    assert_array_equal(model.predict(X_test)[[1, 4]], [0, 0])
    assert np.isfinite(proba).all()


@pytest.mark.parametrize("combiner", COMBINERS)
def test_row_with_no_modality_raises_no_numpy_warning(combiner):
    X, y = _imbalanced_data()
    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0).fit(X, y)
    X_test = X.iloc[:4].copy()
    X_test.iloc[2] = np.nan

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.predict_proba(X_test)


@pytest.mark.parametrize("combiner", REGRESSION_COMBINERS)
def test_regressor_row_with_no_modality_gets_the_target_mean(combiner):
    X, y = _regression_data()
    model = LateFusionRegressor(combiner=combiner, cv=3, random_state=0).fit(X, y)
    X_test = X.iloc[:5].copy()
    X_test.iloc[[0, 3]] = np.nan

    assert model.target_mean_ == pytest.approx(y.mean(), rel=1e-12)
    assert_allclose(model.predict(X_test)[[0, 3]], [y.mean(), y.mean()], rtol=1e-12)


# --------------------------------------------------------------------------------
# Modality weights
# --------------------------------------------------------------------------------


def test_weighted_weights_are_a_distribution_favouring_the_informative_modality():
    X, y = _data(n_samples=150, informativeness=(3.0, 0.0))
    model = LateFusionClassifier(combiner="weighted", cv=3, random_state=0).fit(X, y)
    weights = model.modality_weights_

    assert list(weights) == ["m0", "m1"]
    assert all(w >= 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-12)
    assert weights["m0"] > 0.95
    assert weights["m1"] < weights["m0"] / 4


@pytest.mark.parametrize("combiner", ["mean", "product", "vote"])
def test_fixed_combiners_have_uniform_weights(combiner):
    X, y = _data(sizes=(2, 2, 2), informativeness=(3.0, 0.0, 1.0))
    model = LateFusionClassifier(combiner=combiner).fit(X, y)

    assert model.modality_weights_ == {"m0": 1 / 3, "m1": 1 / 3, "m2": 1 / 3}


def test_stacking_has_no_modality_weights():
    X, y = _data()
    model = LateFusionClassifier(combiner="stacking", cv=3, random_state=0).fit(X, y)

    assert model.modality_weights_ is None
    assert isinstance(model.final_estimator_, LogisticRegression)
    # two probability columns per modality, then one availability indicator each
    assert model.final_estimator_.n_features_in_ == 2 * 2 + 2


# --------------------------------------------------------------------------------
# Out-of-fold only: no leakage into the weights or the stacking model
# --------------------------------------------------------------------------------


def _memoriser_setting():
    """m0 informative with a smooth model; m1 pure noise with a 1-NN memoriser."""
    X, y = _data(n_samples=150, informativeness=(2.0, 0.0))
    estimators = {"m1": KNeighborsClassifier(n_neighbors=1)}
    return X, y, estimators


def test_weighted_weights_use_out_of_fold_predictions():
    X, y, estimators = _memoriser_setting()
    model = LateFusionClassifier(
        modality_estimators=estimators, combiner="weighted", cv=3, random_state=0
    ).fit(X, y)

    # In-sample the memoriser is perfect: weights fitted in-sample would go to m1.
    assert model.estimators_["m1"].score(X[_columns(X, "m1")].to_numpy(), y) == 1.0
    assert model.modality_weights_["m0"] > 0.9


def test_stacking_final_estimator_uses_out_of_fold_predictions():
    X, y, estimators = _memoriser_setting()
    model = LateFusionClassifier(
        modality_estimators=estimators, combiner="stacking", cv=3, random_state=0
    ).fit(X, y)

    coef = np.abs(model.final_estimator_.coef_[0])
    # columns: m0 probabilities (2), m1 probabilities (2), indicators (2)
    assert coef[2:4].max() < coef[0:2].max() / 3


@pytest.mark.parametrize("combiner", ["weighted", "stacking"])
def test_custom_cv_splits_are_honoured(combiner, fit_log):
    X, y = _data()
    order = np.random.default_rng(0).permutation(90)
    splits = [
        (np.setdiff1d(order, order[a:b]), order[a:b])
        for a, b in [(0, 10), (10, 30), (30, 90)]
    ]
    LateFusionClassifier(
        _RecordingLogisticRegression(), combiner=combiner, cv=splits
    ).fit(X, y)

    # per modality: the full fit, then one fit per custom fold
    assert sorted(fit_log) == sorted([90, 90] + [80, 70, 30] * 2)


def test_integer_cv_is_stratified_shuffled_folds_seeded_by_random_state():
    X, y = _data()
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))

    by_int = LateFusionClassifier(combiner="weighted", cv=3, random_state=0).fit(X, y)
    by_list = LateFusionClassifier(combiner="weighted", cv=splits).fit(X, y)
    other = list(KFold(3).split(X))
    by_other = LateFusionClassifier(combiner="weighted", cv=other).fit(X, y)

    assert by_int.modality_weights_ == by_list.modality_weights_
    assert by_other.modality_weights_ != by_list.modality_weights_


def test_custom_cv_splits_with_missing_training_rows(fit_log):
    X, y = _data()
    X = _blank(X, "m1", slice(0, 30))
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))

    model = LateFusionClassifier(
        _RecordingLogisticRegression(), combiner="weighted", cv=splits
    ).fit(X, y)

    # the splits index the training rows; each modality uses those it has
    present = _present(X, "m1")
    expected_m1 = [int(present[train].sum()) for train, _ in splits]
    assert sorted(fit_log[2:]) == sorted([60, 60, 60] + expected_m1)
    assert sum(model.modality_weights_.values()) == pytest.approx(1.0)


def test_one_shot_iterable_cv_is_accepted():
    X, y = _data()

    model = LateFusionClassifier(
        combiner="stacking", cv=KFold(3, shuffle=True, random_state=0).split(X)
    ).fit(X, y)

    assert np.isfinite(model.predict_proba(X)).all()


# --------------------------------------------------------------------------------
# Reproducibility
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("combiner", ["weighted", "stacking"])
def test_same_random_state_gives_identical_predictions(combiner):
    X, y = _data(missing_rate=0.3)
    first = LateFusionClassifier(combiner=combiner, cv=3, random_state=7).fit(X, y)
    second = LateFusionClassifier(combiner=combiner, cv=3, random_state=7).fit(X, y)
    third = LateFusionClassifier(combiner=combiner, cv=3, random_state=8).fit(X, y)

    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), third.predict_proba(X))


# --------------------------------------------------------------------------------
# Parameters: modality_estimators__<modality>__<param>
# --------------------------------------------------------------------------------


def test_grid_search_over_a_modality_estimator_parameter():
    X, y = _data(n_samples=60)
    late = LateFusionClassifier(
        modality_estimators={"m0": LogisticRegression()}, cv=3, random_state=0
    )
    pipeline = Pipeline([("late", late)])
    search = GridSearchCV(
        pipeline,
        param_grid={
            "late__combiner": ["mean", "stacking"],
            "late__modality_estimators__m0__C": [0.1, 1.0],
        },
        cv=3,
    ).fit(X, y)

    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_.named_steps["late"]
    chosen_c = search.best_params_["late__modality_estimators__m0__C"]
    assert best.combiner == search.best_params_["late__combiner"]
    assert best.modality_estimators["m0"].C == chosen_c
    assert best.estimators_["m0"].C == chosen_c


def test_get_and_set_nested_modality_parameters():
    model = LateFusionClassifier(modality_estimators={"m0": LogisticRegression()})

    params = model.get_params()
    assert params["modality_estimators__m0__C"] == 1.0
    assert isinstance(params["modality_estimators__m0"], LogisticRegression)
    assert "modality_estimators__m0__C" not in model.get_params(deep=False)

    assert model.set_params(modality_estimators__m0__C=5) is model
    assert model.modality_estimators["m0"].C == 5
    assert model.get_params()["modality_estimators__m0__C"] == 5


@pytest.mark.parametrize("modality_estimators", [None, {"m0": LogisticRegression()}])
def test_setting_a_parameter_of_an_unlisted_modality_raises(modality_estimators):
    model = LateFusionClassifier(modality_estimators=modality_estimators)

    with pytest.raises(ValueError, match="'m1'"):
        model.set_params(modality_estimators__m1__C=5)


def test_clone_keeps_modality_estimators():
    model = LateFusionClassifier(
        modality_estimators={"m0": LogisticRegression(C=0.3)}, combiner="vote"
    )

    cloned = clone(model)

    assert list(cloned.modality_estimators) == ["m0"]
    assert cloned.modality_estimators["m0"] is not model.modality_estimators["m0"]
    assert cloned.modality_estimators["m0"].C == 0.3
    assert cloned.combiner == "vote"


def test_modality_estimator_for_a_modality_not_in_x_raises_at_fit():
    X, y = _data()
    model = LateFusionClassifier(modality_estimators={"m9": LogisticRegression()})

    with pytest.raises(ValueError, match="'m9'"):
        model.fit(X, y)


# --------------------------------------------------------------------------------
# Missing data at fit and predict time
# --------------------------------------------------------------------------------


def _missing_scenario(where):
    X, y = _data(n_samples=600, sizes=(4, 4), informativeness=2.0, random_state=3)
    X_train, y_train = X.iloc[:400], y.iloc[:400]
    X_test, y_test = X.iloc[400:], y.iloc[400:].to_numpy()
    rows = np.random.default_rng(0).permutation(200)[:60]
    if where == "train":
        X_train = _blank(X_train, "m1", np.random.default_rng(1).permutation(400)[:120])
        X_test = _blank(X_test, "m0", rows)
    else:
        X_test = _blank(X_test, "m1", rows)
    return X_train, y_train, X_test, y_test, rows


@pytest.mark.parametrize("combiner", COMBINERS)
@pytest.mark.parametrize("where", ["train", "test"])
def test_missing_modalities_give_valid_probabilities(combiner, where):
    X_train, y_train, X_test, _, _ = _missing_scenario(where)
    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)

    proba = model.fit(X_train, y_train).predict_proba(X_test)

    assert proba.shape == (200, 2)
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("combiner", ["mean", "weighted", "product", "stacking"])
@pytest.mark.parametrize("where", ["train", "test"])
def test_rows_missing_a_modality_do_no_worse_than_the_available_one(combiner, where):
    X_train, y_train, X_test, y_test, rows = _missing_scenario(where)
    available = "m1" if where == "train" else "m0"
    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
    model.fit(X_train, y_train)

    fused = model.predict(X_test)[rows]
    alone = model.predict_by_modality(X_test)[available].to_numpy()[rows]

    fused_accuracy = np.mean(fused == y_test[rows])
    assert fused_accuracy >= np.mean(alone == y_test[rows])
    assert fused_accuracy > 0.7


# --------------------------------------------------------------------------------
# Errors and labels
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("combiner", COMBINERS)
def test_modality_missing_in_every_training_row_is_left_out(combiner):
    X, y = _data()
    X_train = _blank(X, "m1", slice(None))

    with pytest.warns(UserWarning, match="'m1'.*every training row"):
        model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
        model.fit(X_train, y)
    assert model.estimators_["m1"] is None
    if model.modality_weights_ is not None:
        assert model.modality_weights_["m1"] == 0.0
    # At predict time m1 has values, but no model: only m0 answers.
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    assert np.isnan(model.predict_proba_by_modality(X)["m1"]).all()
    if combiner in ("mean", "weighted", "product"):
        np.testing.assert_allclose(
            proba, model.predict_proba_by_modality(X)["m0"], rtol=1e-10
        )


def test_every_modality_missing_in_every_training_row_raises():
    X, y = _data()
    X = _blank(_blank(X, "m0", slice(None)), "m1", slice(None))

    with pytest.raises(ValueError, match="every modality is missing"):
        LateFusionClassifier().fit(X, y)


def test_single_class_target_raises():
    X, y = _data()

    with pytest.raises(ValueError, match="class"):
        LateFusionClassifier().fit(X, np.zeros(90, dtype=int))


@pytest.mark.parametrize("combiner", COMBINERS)
def test_single_class_among_rows_with_a_modality_falls_back_to_its_prior(combiner):
    # An exam done only for suspected positives: present in class-1 rows only.
    X, y = _data()
    X = _blank(X, "m1", np.flatnonzero(y == 0))

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(UserWarning, match=r"'m1'.*single class"):
            model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
            model.fit(X, y)
        proba = model.predict_proba(X)

    assert isinstance(model.estimators_["m1"], DummyClassifier)
    by_modality = model.predict_proba_by_modality(X)["m1"]
    present = _present(X, "m1")
    assert_allclose(by_modality[present], [[0.0, 1.0]] * int(present.sum()))
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0)
    # m0 still separates the classes.
    assert np.mean(model.predict(X) == y) > 0.7


@pytest.mark.parametrize("combiner", COMBINERS)
def test_modality_in_one_training_row_falls_back_to_its_prior(combiner):
    X, y = _data()
    X = _blank(X, "m1", slice(1, None))

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(UserWarning, match=r"'m1'.*single class"):
            model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
            model.fit(X, y)
        proba = model.predict_proba(X)

    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0)
    expected = np.eye(2)[y[0]]
    assert_allclose(model.predict_proba_by_modality(X)["m1"][0], expected)


@pytest.mark.parametrize("combiner", ["weighted", "stacking"])
def test_single_class_in_an_out_of_fold_training_part_falls_back(combiner):
    # m1 has both classes, but class 1 in one row only: the fold that holds
    # that row out trains on class 0 alone.
    X, y = _data()
    class_1 = np.flatnonzero(y == 1)
    X = _blank(X, "m1", class_1[1:])

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(UserWarning, match=r"'m1'.*out-of-fold"):
            model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
            model.fit(X, y)
        proba = model.predict_proba(X)

    assert isinstance(model.estimators_["m1"], Pipeline)  # its own fit has 2 classes
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("combiner", REGRESSION_COMBINERS)
def test_regressor_modality_in_one_training_row(combiner):
    X, y = _regression_data()
    X = _blank(X, "b", slice(1, None))

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        if combiner == "mean":
            model = LateFusionRegressor(combiner=combiner, cv=3, random_state=0)
            model.fit(X, y)
        else:
            with pytest.warns(UserWarning, match=r"'b'.*out-of-fold"):
                model = LateFusionRegressor(combiner=combiner, cv=3, random_state=0)
                model.fit(X, y)
        predicted = model.predict(X)

    assert np.isfinite(predicted).all()
    assert model.score(X, y) > 0.5


def _outputs_with_one_huge_value(estimator, combiner, data):
    """Probabilities (or predictions) of a model fitted with one 1e300 cell."""
    X, y = data
    X.iloc[3, 1] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = estimator(combiner=combiner, cv=3, random_state=0).fit(X, y)
        return getattr(model, "predict_proba", model.predict)(X)


@pytest.mark.parametrize("combiner", COMBINERS)
def test_one_huge_finite_value_is_handled(combiner):
    proba = _outputs_with_one_huge_value(LateFusionClassifier, combiner, _data())
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("combiner", REGRESSION_COMBINERS)
def test_regressor_one_huge_finite_value_is_handled(combiner):
    data = _regression_data()
    predicted = _outputs_with_one_huge_value(LateFusionRegressor, combiner, data)
    assert np.isfinite(predicted).all()


@pytest.mark.parametrize("factor", [1e300, 1e-300])
@pytest.mark.parametrize("combiner", COMBINERS)
def test_default_modality_models_are_scale_invariant(combiner, factor):
    X, y = _data(missing_rate=0.2)
    expected = (
        LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
        .fit(X, y)
        .predict_proba(X)
    )
    scaled = X.copy()
    scaled[_columns(X, "m1")] *= factor

    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
    assert_allclose(model.fit(scaled, y).predict_proba(scaled), expected, rtol=1e-6)


@pytest.mark.parametrize("combiner", COMBINERS)
def test_string_class_labels(combiner):
    X, y = _data(missing_rate=0.2)
    labels = np.where(y == 1, "dog", "cat")
    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)

    model.fit(X, labels)

    assert_array_equal(model.classes_, ["cat", "dog"])
    predicted = model.predict(X)
    assert set(predicted) <= {"cat", "dog"}
    assert np.mean(predicted == labels) > 0.7
    by_modality = model.predict_by_modality(X)
    assert set(by_modality["m0"].dropna()) <= {"cat", "dog"}
    assert by_modality["m1"].isna().to_numpy().tolist() == (~_present(X, "m1")).tolist()


def test_invalid_classifier_combiner_is_rejected():
    X, y = _data()

    with pytest.raises(ValueError, match="combiner"):
        LateFusionClassifier(combiner="median").fit(X, y)


# --------------------------------------------------------------------------------
# Regressor
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("combiner", REGRESSION_COMBINERS)
def test_regressor_combiners_fit_and_predict(combiner):
    X, y = _regression_data()
    X = _blank(X, "b", slice(0, 30))
    model = LateFusionRegressor(combiner=combiner, cv=3, random_state=0).fit(X, y)

    predicted = model.predict(X)

    assert predicted.shape == (120,)
    assert np.isfinite(predicted).all()
    assert model.score(X, y) > 0.5


def test_regressor_mean_renormalises_over_available_modalities():
    X, y = _regression_data()
    model = LateFusionRegressor(combiner="mean").fit(X, y)
    X_test = _blank(X.iloc[:10], "a", slice(0, 4))
    by_modality = model.predict_by_modality(X_test)

    predicted = model.predict(X_test)

    assert_allclose(predicted[:4], by_modality["b"].to_numpy()[:4], rtol=1e-12)
    assert_allclose(predicted[4:], by_modality.to_numpy()[4:].mean(axis=1), rtol=1e-12)


def test_regressor_weighted_favours_the_informative_modality():
    X, y = _regression_data()
    model = LateFusionRegressor(combiner="weighted", cv=3, random_state=0).fit(X, y)
    weights = model.modality_weights_

    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-12)
    assert min(weights.values()) >= 0
    assert weights["a"] > 0.9


def test_regressor_stacking_fills_missing_predictions_with_the_target_mean():
    X, y = _regression_data()
    X_train = _blank(X, "b", slice(0, 30))
    model = LateFusionRegressor(
        combiner="stacking", final_estimator=LinearRegression(), cv=3, random_state=0
    ).fit(X_train, y)
    assert model.modality_weights_ is None
    X_test = _blank(X.iloc[:6], "b", [0, 2])
    by_modality = model.predict_by_modality(X_test).to_numpy()

    features = np.column_stack(
        [
            by_modality[:, 0],
            np.where(
                np.isnan(by_modality[:, 1]), model.target_mean_, by_modality[:, 1]
            ),
            np.ones(6),
            (~np.isnan(by_modality[:, 1])).astype(float),
        ]
    )
    assert_allclose(
        model.predict(X_test), model.final_estimator_.predict(features), rtol=1e-12
    )


def test_regressor_predict_by_modality():
    X, y = _regression_data()
    model = LateFusionRegressor().fit(X, y)
    X_test = _blank(X.iloc[:8], "b", [1, 5]).set_index(pd.RangeIndex(100, 108))

    predictions = model.predict_by_modality(X_test)

    assert list(predictions.columns) == ["a", "b"]
    assert predictions.index.equals(X_test.index)
    assert predictions["b"].isna().to_numpy().tolist() == [
        i in (1, 5) for i in range(8)
    ]
    assert_allclose(
        predictions["a"].to_numpy(),
        model.estimators_["a"].predict(X_test[_columns(X_test, "a")].to_numpy()),
        rtol=1e-12,
    )


@pytest.mark.parametrize("combiner", ["vote", "product"])
def test_regressor_rejects_classification_combiners(combiner):
    X, y = _regression_data()

    with pytest.raises(ValueError, match="combiner"):
        LateFusionRegressor(combiner=combiner).fit(X, y)


@pytest.mark.parametrize("combiner", ["weighted", "stacking"])
def test_integer_cv_beyond_the_largest_class_is_lowered_with_a_warning(combiner):
    X, y = _data(n_samples=8, n_classes=3)
    y = np.array([2, 1, 1, 1, 2, 2, 0, 0])  # largest class: 3 rows

    with pytest.warns(UserWarning, match=r"cv=5 .*3 folds"):
        model = LateFusionClassifier(combiner=combiner, cv=5, random_state=0)
        model.fit(X, y)
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("combiner", ["weighted", "stacking"])
def test_regressor_integer_cv_beyond_the_rows_is_lowered_with_a_warning(combiner):
    X, y = _regression_data(n_samples=4)

    with pytest.warns(UserWarning, match=r"cv=5 .*4 folds"):
        model = LateFusionRegressor(combiner=combiner, cv=5, random_state=0)
        model.fit(X, y)
    assert np.isfinite(model.predict(X)).all()


def test_out_of_fold_folds_impossible_with_one_row_per_class_raises_naming_rows():
    X, y = _data(n_samples=3, n_classes=3)
    with pytest.raises(ValueError, match=r"1 training row"):
        LateFusionClassifier(combiner="weighted").fit(X, np.array([0, 1, 2]))
