"""Survival models: the Cox loss, inner-CV Coxnet, late and deep fusion."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skfusion.datasets import load_breast_cancer_modalities, make_multimodal_survival
from skfusion.deep import CoxPartialLikelihoodLoss, DeepFusionSurvival
from skfusion.fusion import LateFusionSurvival, coxnet_with_inner_cv

pytest.importorskip("sksurv")
from sksurv.linear_model import CoxPHSurvivalAnalysis  # noqa: E402
from sksurv.metrics import concordance_index_censored  # noqa: E402

SMALL = {"embed_dim": 8, "hidden_dim": 16, "random_state": 0}


def _breslow_log_likelihood(X, y, beta):
    """Breslow's partial log-likelihood, written out with loops."""
    risk = X @ beta
    total = 0.0
    for i in np.flatnonzero(y["event"]):
        at_risk = y["time"] >= y["time"][i]
        total += risk[i] - np.log(np.exp(risk[at_risk]).sum())
    return total


def _loss(X, y, beta):
    target = torch.as_tensor(np.column_stack([y["time"], y["event"]]))
    log_risk = torch.as_tensor(X) @ beta
    return CoxPartialLikelihoodLoss()(log_risk, target)


def _small_cohort():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = np.empty(20, dtype=[("event", bool), ("time", float)])
    y["time"] = np.round(rng.exponential(size=20) * np.exp(-X[:, 0]), 1)  # ties
    y["event"] = rng.random(20) < 0.7
    return X, y


def test_the_cox_loss_is_scikit_survivals_breslow_partial_likelihood():
    X, y = _small_cohort()
    assert len(np.unique(y["time"])) < 20, "the case needs tied times"
    beta = np.array([0.5, -0.2, 0.1])
    expected = -_breslow_log_likelihood(X, y, beta) / y["event"].sum()
    assert float(_loss(X, y, torch.as_tensor(beta))) == pytest.approx(expected)
    # scikit-survival's unpenalised Breslow fit maximises the same likelihood:
    # the loss's gradient vanishes at its coefficients.
    cox = CoxPHSurvivalAnalysis(ties="breslow", alpha=0, tol=1e-12, n_iter=200)
    coef = torch.as_tensor(cox.fit(X, y).coef_, dtype=torch.float64)
    coef.requires_grad_(True)
    _loss(X, y, coef).backward()
    assert_allclose(coef.grad.numpy(), 0, atol=1e-6)


def test_a_batch_without_events_has_zero_loss_and_gradient():
    log_risk = torch.zeros(4, requires_grad=True)
    target = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])
    loss = CoxPartialLikelihoodLoss()(log_risk, target)
    loss.backward()
    assert float(loss) == 0 and not torch.isnan(log_risk.grad).any()


def _split(n=400, **params):
    X, y = make_multimodal_survival(
        n, modality_sizes=(6, 6), missing_rate=0.1, random_state=0, **params
    )
    return X.iloc[:300], y[:300], X.iloc[300:], y[300:]


def _c(model, X, y):
    return concordance_index_censored(y["event"], y["time"], model.predict(X))[0]


@pytest.mark.parametrize(
    "model",
    [
        coxnet_with_inner_cv(random_state=0),
        LateFusionSurvival(random_state=0),
        LateFusionSurvival(combiner="stacking", random_state=0),
        DeepFusionSurvival(max_epochs=60, **SMALL),
    ],
    ids=["coxnet", "late-mean", "late-stacking", "deep"],
)
def test_every_model_ranks_held_out_patients(model):
    X, y, X_test, y_test = _split()
    model = clone(model).fit(X, y)
    assert _c(model, X_test, y_test) > 0.7
    assert model.score(X_test, y_test) == pytest.approx(_c(model, X_test, y_test))
    survival = model.predict_survival_function(X_test.iloc[:5], return_array=True)
    assert ((survival >= 0) & (survival <= 1)).all()
    assert (np.diff(survival, axis=1) <= 1e-12).all()
    loaded = pickle.loads(pickle.dumps(model))
    assert_allclose(loaded.predict(X_test), model.predict(X_test), rtol=1e-6)


def test_fusion_beats_each_modality_when_both_carry_signal():
    X, y, X_test, y_test = _split(informativeness=(1.0, 1.0))
    alone = []
    for m in ("m0", "m1"):
        columns = [c for c in X.columns if c.startswith(f"{m}__")]
        model = coxnet_with_inner_cv(random_state=0).fit(X[columns], y)
        alone.append(_c(model, X_test[columns], y_test))
    for model in (LateFusionSurvival(random_state=0), coxnet_with_inner_cv()):
        assert _c(model.fit(X, y), X_test, y_test) > max(alone)


def test_missing_modalities_are_handled():
    X, y, X_test, _ = _split()
    none = X_test.iloc[:2].copy()
    none[:] = np.nan
    late = LateFusionSurvival(random_state=0).fit(X, y)
    assert_allclose(late.predict(none), 0.0)
    by_modality = late.predict_by_modality(X_test)
    m1_missing = X_test.filter(like="m1__").isna().all(axis=1).to_numpy()
    assert by_modality["m1"].isna().to_numpy()[m1_missing].all()
    deep = DeepFusionSurvival(max_epochs=5, modality_dropout=0.3, **SMALL).fit(X, y)
    assert_allclose(deep.predict(none), deep.mean_risk_)
    assert np.isfinite(deep.predict(X_test)).all()


def test_deep_survival_is_reproducible_and_grid_searches():
    X, y, _, _ = _split()
    first = DeepFusionSurvival(max_epochs=5, **SMALL).fit(X, y).predict(X)
    second = DeepFusionSurvival(max_epochs=5, **SMALL).fit(X, y).predict(X)
    assert_allclose(first, second)
    search = GridSearchCV(
        DeepFusionSurvival(max_epochs=5, **SMALL), {"hidden_dim": [8, 16]}, cv=3
    ).fit(X, y)
    assert 0 < search.best_score_ < 1
    assert DeepFusionSurvival().device == "auto"
    assert search.best_estimator_.device_ == "cpu"


def test_late_fusion_of_the_breast_cancer_cohort():
    X, y = load_breast_cancer_modalities(return_X_y=True)
    model = LateFusionSurvival(combiner="stacking", random_state=0).fit(X, y)
    assert list(model.estimators_) == ["clinical", "genes"]
    assert 0.5 < model.score(X, y) <= 1
    search = GridSearchCV(
        LateFusionSurvival(random_state=0), {"combiner": ["mean", "stacking"]}, cv=3
    ).fit(X, y)
    assert search.best_params_["combiner"] in {"mean", "stacking"}


@pytest.mark.parametrize(
    "model",
    [LateFusionSurvival(), DeepFusionSurvival(max_epochs=1), coxnet_with_inner_cv()],
    ids=["late", "deep", "coxnet"],
)
def test_a_target_that_is_not_a_survival_array_is_refused(model):
    X, y, _, _ = _split(100)
    with pytest.raises(ValueError, match="needs a survival target"):
        clone(model).fit(X, y["time"])
    censored = y.copy()
    censored["event"] = False
    with pytest.raises(ValueError, match="every row is censored"):
        clone(model).fit(X, censored)
    negative = y.copy()
    negative["time"][3] = -1
    with pytest.raises(ValueError, match="negative or missing in 1 row"):
        clone(model).fit(X, negative)


def test_models_round_trip_through_skops(tmp_path):
    pytest.importorskip("skops")
    from skfusion import persist

    X, y, X_test, _ = _split()
    for name, model in {
        "late": LateFusionSurvival(combiner="stacking", random_state=0),
        "deep": DeepFusionSurvival(max_epochs=3, **SMALL),
    }.items():
        model.fit(X, y)
        path = tmp_path / f"{name}.skops"
        persist.dump(model, path)
        assert set(persist.untrusted_types(path)) <= set(persist.TRUSTED_TYPES)
        loaded = persist.load(path)
        assert_allclose(loaded.predict(X_test), model.predict(X_test), rtol=1e-6)
        assert_allclose(
            loaded.predict_survival_function(X_test[:3], return_array=True),
            model.predict_survival_function(X_test[:3], return_array=True),
            rtol=1e-6,
        )


def test_predict_by_modality_is_a_frame_on_the_input_index():
    X, y, X_test, _ = _split()
    model = LateFusionSurvival(random_state=0).fit(X, y)
    frame = model.predict_by_modality(X_test)
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.equals(X_test.index)
