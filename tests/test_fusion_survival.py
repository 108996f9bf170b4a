"""Survival fusion: coxnet_with_inner_cv and LateFusionSurvival."""

import pickle
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import brentq
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from skfusion.blocks import MissingModalityWarning
from skfusion.fusion import LateFusionSurvival, coxnet_with_inner_cv

pytest.importorskip("sksurv")
from sksurv.column import encode_categorical  # noqa: E402
from sksurv.datasets import load_breast_cancer  # noqa: E402
from sksurv.functions import StepFunction  # noqa: E402
from sksurv.metrics import concordance_index_censored  # noqa: E402
from sksurv.util import Surv  # noqa: E402


def _c(model, X, y):
    return concordance_index_censored(y["event"], y["time"], model.predict(X))[0]


def _columns(X, modality):
    return [c for c in X.columns if c.startswith(f"{modality}__")]


@pytest.fixture(scope="module")
def breast_cancer():
    """scikit-survival's cohort as clinical__* and genes__* blocks, split 2:1."""
    data, y = load_breast_cancer()
    clinical = ["age", "er", "grade", "size", "tumor_size", "node"]
    clinical = [c for c in data.columns if c in clinical]
    genes = [c for c in data.columns if c not in clinical]
    blocks = pd.concat(
        [
            encode_categorical(data[clinical]).add_prefix("clinical__"),
            data[genes].add_prefix("genes__"),
        ],
        axis=1,
    ).astype(float)
    y = Surv.from_arrays(y[y.dtype.names[0]], y[y.dtype.names[1]])
    test = np.random.default_rng(0).permutation(len(y))[: len(y) // 3]
    is_test = np.isin(np.arange(len(y)), test)
    return blocks[~is_test], y[~is_test], blocks[is_test], y[is_test]


def _cohort(n, rng, informativeness=(1.0, 1.0), sizes=(5, 20), missing=0.0):
    """log-risk = X1 @ b1 + X2 @ b2, exponential times, ~30% censored.

    The coefficients are the same for every cohort (three features of each
    block carry the signal), the rows are drawn from ``rng``.
    """
    blocks, log_risk = [], np.zeros(n)
    for m, (size, strength) in enumerate(zip(sizes, informativeness, strict=True)):
        block = rng.normal(size=(n, size))
        direction = np.zeros(size)
        direction[:3] = np.random.default_rng(m).normal(size=3)
        log_risk += strength * block @ (direction / np.linalg.norm(direction))
        blocks.append(pd.DataFrame(block, columns=[f"m{m}__x{j}" for j in range(size)]))
    time = rng.exponential(np.exp(-log_risk))
    # Exponential censoring whose scale censors 30% of these rows on average.
    scale = brentq(lambda s: np.mean(-np.expm1(-time / s)) - 0.3, 1e-6, 1e6)
    censoring = rng.exponential(scale, n)
    y = Surv.from_arrays(time <= censoring, np.minimum(time, censoring))
    X = pd.concat(blocks, axis=1)
    if missing:
        for m, size in enumerate(sizes):
            rows = rng.random(n) < missing
            X.loc[rows, [f"m{m}__x{j}" for j in range(size)]] = np.nan
    return X, y


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(0)
    X, y = _cohort(300, rng)
    X_test, y_test = _cohort(300, rng)
    return X, y, X_test, y_test


@pytest.fixture(scope="module")
def fitted(synthetic):
    X, y, _, _ = synthetic
    return {
        combiner: LateFusionSurvival(combiner=combiner, random_state=0).fit(X, y)
        for combiner in ("mean", "stacking")
    }


def test_synthetic_cohort_is_censored_about_30_percent(synthetic):
    _, y, _, _ = synthetic
    assert 0.2 < 1 - y["event"].mean() < 0.4


def test_breast_cancer_every_model_ranks_held_out_patients(breast_cancer):
    X, y, X_test, y_test = breast_cancer
    scores = {}
    for modality in ("clinical", "genes"):
        columns = _columns(X, modality)
        alone = coxnet_with_inner_cv(random_state=0).fit(X[columns], y)
        scores[modality] = _c(alone, X_test[columns], y_test)
    scores["early"] = _c(coxnet_with_inner_cv(random_state=0).fit(X, y), X_test, y_test)
    for combiner in ("mean", "stacking"):
        # Three out-of-fold folds keep the test short (five are the default).
        model = LateFusionSurvival(combiner=combiner, cv=3, random_state=0)
        model.fit(X, y)
        assert list(model.estimators_) == ["clinical", "genes"]
        scores[combiner] = _c(model, X_test, y_test)
        assert model.score(X_test, y_test) == pytest.approx(scores[combiner])
    assert all(np.isfinite(list(scores.values())))
    assert min(scores.values()) > 0.5, scores


def test_fusion_beats_each_modality_when_both_carry_signal(synthetic, fitted):
    X, y, X_test, y_test = synthetic
    alone = []
    for modality in ("m0", "m1"):
        columns = _columns(X, modality)
        model = coxnet_with_inner_cv(random_state=0).fit(X[columns], y)
        alone.append(_c(model, X_test[columns], y_test))
    early = coxnet_with_inner_cv(random_state=0).fit(X, y)
    for model in (*fitted.values(), early):
        assert _c(model, X_test, y_test) > max(alone) + 0.05


def test_the_mean_is_the_mean_of_the_standardised_risks(synthetic, fitted):
    X, _, X_test, _ = synthetic
    model = fitted["mean"]
    by_modality = model.predict_by_modality(X_test)
    assert_allclose(model.predict(X_test), by_modality.mean(axis=1))
    raw = model.estimators_["m0"].predict(X_test[_columns(X, "m0")])
    assert_allclose(
        by_modality["m0"],
        (raw - model.risk_mean_["m0"]) / model.risk_scale_["m0"],
    )
    assert model.modality_weights_ == {"m0": 0.5, "m1": 0.5}
    # The per-modality models keep the feature names.
    names = model.estimators_["m1"].feature_names_in_
    assert_array_equal(names, _columns(X, "m1"))


def test_stacking_learns_from_out_of_fold_risks_and_indicators(fitted):
    model = fitted["stacking"]
    assert model.modality_weights_ is None
    coef = model.final_estimator_.coef_
    assert coef.shape == (4,)
    assert (coef[:2] > 0).all()  # both modalities' risks raise the hazard
    # Present in every training row: those indicators carry nothing.
    assert_allclose(coef[2:], 0, atol=1e-8)
    assert model.calibration_slope_ == 1.0


def test_missing_modalities_at_fit_and_predict():
    rng = np.random.default_rng(1)
    X, y = _cohort(300, rng, missing=0.25)
    X_test, _ = _cohort(50, rng, missing=0.25)
    none = X_test.iloc[:3].copy()
    none[:] = np.nan
    for combiner in ("mean", "stacking"):
        model = LateFusionSurvival(combiner=combiner, random_state=0).fit(X, y)
        assert_allclose(model.predict(none), 0.0)
        risk = model.predict(X_test)
        assert np.isfinite(risk).all()
        by_modality = model.predict_by_modality(X_test)
        assert by_modality.index.equals(X_test.index)
        for modality in ("m0", "m1"):
            missing = X_test[_columns(X, modality)].isna().all(axis=1)
            assert by_modality.loc[missing, modality].isna().all()
            assert by_modality.loc[~missing, modality].notna().all()
        survival = model.predict_survival_function(none, return_array=True)
        assert np.isfinite(survival).all()
    # A row with one modality: its standardised risk is the mean.
    only_m0 = X_test[X_test[_columns(X, "m1")].isna().all(axis=1)]
    only_m0 = only_m0[only_m0[_columns(X, "m0")].notna().all(axis=1)]
    mean = LateFusionSurvival(random_state=0).fit(X, y)
    assert_allclose(mean.predict(only_m0), mean.predict_by_modality(only_m0)["m0"])
    early = coxnet_with_inner_cv(random_state=0).fit(X, y)
    assert np.isfinite(early.predict(X_test)).all()
    assert np.isfinite(early.predict(none)).all()


def test_a_modality_without_events_gets_no_model():
    rng = np.random.default_rng(2)
    X, y = _cohort(200, rng)
    columns = _columns(X, "m1")
    X.loc[y["event"], columns] = np.nan  # m1 only where censored
    with pytest.warns(MissingModalityWarning, match="'m1' has no event"):
        model = LateFusionSurvival(combiner="stacking", random_state=0).fit(X, y)
    assert model.estimators_["m1"] is None
    assert model.predict_by_modality(X)["m1"].isna().all()
    assert_allclose(model.final_estimator_.coef_[[1, 3]], 0, atol=1e-8)
    mean = LateFusionSurvival(random_state=0)
    with pytest.warns(MissingModalityWarning):
        mean.fit(X, y)
    assert_allclose(mean.predict(X), mean.predict_by_modality(X)["m0"])


def test_survival_functions_are_non_increasing_step_functions(synthetic, fitted):
    X, y, X_test, _ = synthetic
    early = coxnet_with_inner_cv(random_state=0).fit(X, y)
    for model in (*fitted.values(), early):
        functions = model.predict_survival_function(X_test.iloc[:4])
        assert len(functions) == 4
        assert all(isinstance(f, StepFunction) for f in functions)
        values = model.predict_survival_function(X_test.iloc[:4], return_array=True)
        assert values.shape[0] == 4
        assert ((values >= 0) & (values <= 1)).all()
        assert (np.diff(values, axis=1) <= 1e-12).all()
        hazard = model.predict_cumulative_hazard_function(
            X_test.iloc[:4], return_array=True
        )
        assert_allclose(np.exp(-hazard), values)
    # A higher risk, a lower survival curve.
    model = fitted["mean"]
    risk = model.predict(X_test)
    low, high = X_test.iloc[[np.argmin(risk)]], X_test.iloc[[np.argmax(risk)]]
    assert (
        model.predict_survival_function(high, return_array=True)
        <= model.predict_survival_function(low, return_array=True) + 1e-12
    ).all()
    assert model.calibration_slope_ > 0


@pytest.mark.parametrize("combiner", ["mean", "stacking"])
def test_clone_pickle_and_skops_round_trips(synthetic, fitted, combiner, tmp_path):
    from skfusion import persist

    pytest.importorskip("skops")
    X, y, X_test, _ = synthetic
    model = fitted[combiner]
    expected = model.predict(X_test)
    refitted = clone(model).fit(X, y)
    assert_array_equal(refitted.predict(X_test), expected)  # reproducible
    loaded = pickle.loads(pickle.dumps(model))
    assert_array_equal(loaded.predict(X_test), expected)
    path = tmp_path / "model.skops"
    persist.dump(model, path)
    assert set(persist.untrusted_types(path)) <= set(persist.TRUSTED_TYPES)
    restored = persist.load(path)
    assert_array_equal(restored.predict(X_test), expected)
    assert_array_equal(
        restored.predict_survival_function(X_test[:3], return_array=True),
        model.predict_survival_function(X_test[:3], return_array=True),
    )


def test_coxnet_round_trips_through_skops(synthetic, tmp_path):
    from skfusion import persist

    pytest.importorskip("skops")
    X, y, X_test, _ = synthetic
    model = coxnet_with_inner_cv(random_state=0).fit(X, y)
    path = tmp_path / "coxnet.skops"
    persist.dump(model, path)
    restored = persist.load(path)
    assert_array_equal(restored.predict(X_test), model.predict(X_test))


def test_grid_search_over_the_combiner_scores_harrells_c(synthetic):
    X, y, _, _ = synthetic
    search = GridSearchCV(
        LateFusionSurvival(cv=3, random_state=0),
        {"combiner": ["mean", "stacking"]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["combiner"] in {"mean", "stacking"}
    assert 0.6 < search.best_score_ < 1
    model = search.best_estimator_
    assert search.score(X, y) == pytest.approx(_c(model, X, y))


def test_per_modality_models_are_searchable(synthetic):
    X, y, _, _ = synthetic
    model = LateFusionSurvival(
        modality_estimators={"m1": coxnet_with_inner_cv(random_state=0)},
        random_state=0,
    )
    model.set_params(modality_estimators__m1__coxnet__l1_ratio=0.9)
    assert model.get_params()["modality_estimators__m1__coxnet__l1_ratio"] == 0.9
    model.fit(X, y)
    assert model.estimators_["m1"].named_steps["coxnet"].l1_ratio == 0.9
    assert model.estimators_["m0"].named_steps["coxnet"].l1_ratio == 0.5


def test_the_inner_cv_chooses_from_the_datas_path(synthetic):
    X, y, _, _ = synthetic
    step = coxnet_with_inner_cv(random_state=0).fit(X, y).named_steps["coxnet"]
    assert step.alpha_ in step.alphas_
    assert step.alphas_[0] == step.alphas_.max()
    assert step.cv_scores_.shape == step.alphas_.shape
    assert step.alpha_ < step.alphas_[0]  # a signal: some feature is kept
    assert (step.coef_ != 0).any()
    given = coxnet_with_inner_cv(alphas=[0.05, 0.01], random_state=0).fit(X, y)
    assert_allclose(given.named_steps["coxnet"].alphas_, [0.05, 0.01])


class _RecordingGroupKFold(GroupKFold):
    """A GroupKFold that records the groups it is given."""

    seen = []

    def split(self, X, y=None, groups=None):
        self.seen.append(groups)
        return super().split(X, y, groups)


def test_the_inner_cv_takes_groups_by_routing_or_directly(synthetic):
    X, y, _, _ = synthetic
    groups = np.arange(len(y)) // 3
    model = coxnet_with_inner_cv(cv=_RecordingGroupKFold(3))
    _RecordingGroupKFold.seen.clear()
    with config_context(enable_metadata_routing=True):
        model.fit(X, y, groups=groups)
    model.fit(X, y, coxnet__groups=groups)
    assert len(_RecordingGroupKFold.seen) == 2
    for seen in _RecordingGroupKFold.seen:
        assert_array_equal(seen, groups)
    with pytest.raises(ValueError, match="groups"):
        model.fit(X, y)  # GroupKFold needs them


@pytest.mark.parametrize(
    "model",
    [LateFusionSurvival(), coxnet_with_inner_cv()],
    ids=["late", "coxnet"],
)
def test_a_target_that_is_not_a_survival_array_is_refused(synthetic, model):
    X, y, _, _ = synthetic
    with pytest.raises(ValueError, match="needs a survival target"):
        clone(model).fit(X, y["time"])
    with pytest.raises(ValueError, match="needs a survival target"):
        clone(model).fit(X, pd.DataFrame({"event": y["event"], "time": y["time"]}))
    censored = y.copy()
    censored["event"] = False
    with pytest.raises(ValueError, match="every row is censored"):
        clone(model).fit(X, censored)
    negative = y.copy()
    negative["time"][3] = -1
    with pytest.raises(ValueError, match="negative or missing in 1 row"):
        clone(model).fit(X, negative)
    coded = np.empty(len(y), dtype=[("status", int), ("days", float)])
    coded["status"], coded["days"] = 2, y["time"]
    with pytest.raises(ValueError, match="must be 0/1"):
        clone(model).fit(X, coded)
    with pytest.raises(ValueError, match="rows"):
        clone(model).fit(X.iloc[:-1], y)


def test_an_event_indicator_coded_0_1_is_accepted(synthetic):
    X, y, X_test, _ = synthetic
    coded = np.empty(len(y), dtype=[("status", int), ("days", float)])
    coded["status"], coded["days"] = y["event"], y["time"]
    model = LateFusionSurvival(random_state=0).fit(X, coded)
    reference = LateFusionSurvival(random_state=0).fit(X, y)
    assert_allclose(model.predict(X_test), reference.predict(X_test))


def test_plain_arrays_with_a_modalities_mapping(synthetic):
    X, y, X_test, _ = synthetic
    mapping = {"m0": slice(0, 5), "m1": slice(5, None)}
    model = LateFusionSurvival(modalities=mapping, random_state=0)
    model.fit(X.to_numpy(), y)
    reference = LateFusionSurvival(random_state=0).fit(X, y)
    assert_allclose(model.predict(X_test.to_numpy()), reference.predict(X_test))


def test_few_events_lower_the_folds_with_a_warning():
    rng = np.random.default_rng(3)
    X, y = _cohort(60, rng)
    y["event"][:] = False
    y["event"][:4] = True
    with pytest.warns(UserWarning, match="4 event"):
        model = LateFusionSurvival(
            combiner="stacking",
            estimator=coxnet_with_inner_cv(cv=2, random_state=0),
            random_state=0,
        ).fit(X, y)
    assert np.isfinite(model.predict(X)).all()


def test_without_scikit_survival_the_extra_is_named(monkeypatch, synthetic):
    X, y, _, _ = synthetic
    monkeypatch.setitem(sys.modules, "sksurv.linear_model", None)
    with pytest.raises(ImportError, match=r"pip install 'skfusion\[survival\]'"):
        coxnet_with_inner_cv()
    with pytest.raises(ImportError, match=r"pip install 'skfusion\[survival\]'"):
        LateFusionSurvival().fit(X, y)


def test_fitting_warns_nothing_on_ordinary_data(synthetic):
    X, y, _, _ = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LateFusionSurvival(combiner="stacking", random_state=0).fit(X, y)
