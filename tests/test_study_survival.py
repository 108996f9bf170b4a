"""FusionStudy on time-to-event targets: folds, metrics, intervals, report."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from skfusion.datasets import load_breast_cancer_modalities, make_multimodal_survival
from skfusion.fusion import BlockScaler
from skfusion.study import FusionStudy

sksurv = pytest.importorskip("sksurv")
from sksurv.linear_model import CoxnetSurvivalAnalysis  # noqa: E402
from sksurv.metrics import (  # noqa: E402
    concordance_index_censored,
    concordance_index_ipcw,
    integrated_brier_score,
)


def _cox():
    return make_pipeline(
        BlockScaler(),
        CoxnetSurvivalAnalysis(
            l1_ratio=0.5, alpha_min_ratio=0.1, fit_baseline_model=True
        ),
    )


def _strategies(names):
    return {
        **{f"unimodal:{m}": (_cox(), [m]) for m in names},
        "early": _cox(),
    }


def _modalities(X, names):
    return [
        (m, "passthrough", [c for c in X.columns if c.startswith(f"{m}__")])
        for m in names
    ]


@pytest.fixture(scope="module")
def synthetic():
    X, y, risk = make_multimodal_survival(
        300,
        modality_sizes=(4, 4),
        informativeness=(1.0, 1.0),
        censoring_rate=0.3,
        missing_rate=0.1,
        return_risk=True,
        random_state=0,
    )
    study = FusionStudy(
        _modalities(X, ["m0", "m1"]),
        strategies=_strategies(["m0", "m1"]),
        cv=3,
        random_state=0,
    ).fit(X, y)
    return study, X, y, risk


def test_a_structured_target_is_a_survival_study(synthetic):
    study, _, y, _ = synthetic
    assert study.task_ == "survival"
    assert study.classes_ is None
    assert study.target_counts_ == {
        "events": int(y["event"].sum()),
        "censored": int((~y["event"]).sum()),
    }
    assert study.metrics_ == ["c_harrell", "c_uno", "neg_integrated_brier", "mean_auc"]
    # Folds stratified on the event indicator.
    share = y["event"].mean()
    for _, test in study.splits_:
        assert abs(y["event"][test].mean() - share) < 0.02
    times = y["time"][y["event"]]
    np.testing.assert_allclose(study.horizons_, np.quantile(times, [0.25, 0.5, 0.75]))
    assert study.survival_times_.min() >= times.min()


def test_pooled_metrics_are_scikit_survivals_on_the_out_of_fold_predictions(
    synthetic,
):
    study, _, y, _ = synthetic
    for name in study.strategies_:
        risk = study.oof_predictions_[name][0]
        survival = study.oof_proba_[name][0]
        row = study.summary_.loc[name]
        harrell = concordance_index_censored(y["event"], y["time"], risk)[0]
        assert row["c_harrell_pooled"] == pytest.approx(harrell)
        uno = concordance_index_ipcw(y, y, risk, tau=study.horizons_[-1])[0]
        assert row["c_uno_pooled"] == pytest.approx(uno)
        grid = study.survival_times_
        keep = (grid >= y["time"].min()) & (grid < y["time"].max())
        brier = integrated_brier_score(y, y, survival[:, keep], grid[keep])
        assert row["neg_integrated_brier_pooled"] == pytest.approx(-brier)
        low, high = row["c_harrell_boot_low"], row["c_harrell_boot_high"]
        assert low < row["c_harrell_pooled"] < high
        # Survival functions: probabilities, non-increasing over time.
        assert ((survival >= 0) & (survival <= 1)).all()
        assert (np.diff(survival, axis=1) <= 1e-12).all()


def test_fusion_beats_each_modality_and_the_true_risk_beats_fusion(synthetic):
    study, _, y, risk = synthetic
    c = study.summary_["c_harrell_pooled"]
    assert c["early"] > max(c["unimodal:m0"], c["unimodal:m1"])
    truth = concordance_index_ipcw(y, y, risk, tau=study.horizons_[-1])[0]
    assert truth >= study.summary_["c_uno_pooled"].max()


def test_the_comparison_bootstraps_the_difference_in_harrells_c(synthetic):
    study, _, _, _ = synthetic
    comparison = study.comparison_
    reference = study.best_unimodal_
    row = comparison.loc["early"]
    c = study.summary_["c_harrell_pooled"]
    assert row["c_difference"] == pytest.approx(c["early"] - c[reference])
    assert row["c_difference_low"] < row["c_difference"] < row["c_difference_high"]
    assert 0 <= row["bootstrap_p_value"] <= 1
    assert comparison.loc[reference, "c_difference"] == 0


def test_the_report_of_the_breast_cancer_cohort(tmp_path):
    X, y = load_breast_cancer_modalities(return_X_y=True)
    study = FusionStudy(
        _modalities(X, ["clinical", "genes"]),
        strategies=_strategies(["clinical", "genes"]),
        cv=3,
        random_state=0,
        refit="best",
    ).fit(X, y)
    assert np.isfinite(study.summary_["c_harrell_pooled"]).all()
    assert np.isfinite(study.summary_["neg_integrated_brier_pooled"]).all()
    assert set(study.calibration_) == set(study.strategies_)
    assert study.contributions_ is not None
    folder = study.report(tmp_path / "report")
    text = (folder / "report.md").read_text()
    assert "time to event (survival)" in text
    assert "Events and censored rows:" in text
    assert "C difference [95% CI]" in text
    assert "neg_integrated_brier" in text
    plots = folder / "plots"
    if plots.is_dir() and any(plots.iterdir()):
        assert (plots / "survival_groups.png").is_file()
    assert study.best_estimator_.predict(X.iloc[:5]).shape == (5,)


def test_a_grouped_survival_study_keeps_groups_whole():
    X, y = make_multimodal_survival(120, modality_sizes=(3, 3), random_state=1)
    groups = np.arange(len(y)) // 3
    study = FusionStudy(
        _modalities(X, ["m0", "m1"]),
        strategies=_strategies(["m0", "m1"]),
        cv=3,
        random_state=0,
        contributions=None,
    ).fit(X, y, groups=groups)
    for train, test in study.splits_:
        assert not set(groups[train]) & set(groups[test])
    assert study.bootstrap_["resampled"] == "groups"


def _target(event, time):
    y = np.empty(len(time), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = event, time
    return y


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e, t: (e, np.where(np.arange(len(t)) == 4, -1.0, t)), "negative in 1"),
        (lambda e, t: (e, np.where(np.arange(len(t)) == 2, np.nan, t)), "row 2"),
        (lambda e, t: (np.zeros_like(e), t), "no event"),
        (lambda e, t: (np.arange(len(e)) < 2, t), "events in 2 row"),
    ],
)
def test_bad_survival_targets_are_named(edit, message):
    X, y = make_multimodal_survival(60, modality_sizes=(2, 2), random_state=0)
    event, time = edit(y["event"], y["time"])
    study = FusionStudy(
        _modalities(X, ["m0", "m1"]), strategies=_strategies(["m0", "m1"]), cv=3
    )
    with pytest.raises(ValueError, match=message):
        study.fit(X, _target(event, time))


def test_an_event_column_that_is_not_binary_is_named():
    X, y = make_multimodal_survival(60, modality_sizes=(2, 2), random_state=0)
    target = np.empty(60, dtype=[("status", int), ("days", float)])
    target["status"] = np.where(y["event"], 2, 0)
    target["days"] = y["time"]
    study = FusionStudy(
        _modalities(X, ["m0", "m1"]), strategies=_strategies(["m0", "m1"]), cv=3
    )
    with pytest.raises(ValueError, match="'status' must be 0/1 or True/False; row"):
        study.fit(X, target)


@pytest.mark.slow
def test_default_survival_strategies_on_the_breast_cancer_cohort(tmp_path):
    pytest.importorskip("skops")
    from skfusion import persist

    X, y = load_breast_cancer_modalities(return_X_y=True)
    train, cohort = np.arange(150), np.arange(150, 198)
    study = FusionStudy(
        _modalities(X, ["clinical", "genes"]),
        cv=3,
        random_state=0,
        refit=True,
        contributions="early:coxnet",
    ).fit(X.iloc[train], y[train])
    assert list(study.strategies_) == [
        "unimodal:clinical",
        "unimodal:genes",
        "early:coxnet",
        "early:gbsa",
        "late:mean",
        "late:stacking",
        "deep:concat",
    ]
    assert study.summary_["c_harrell_pooled"].between(0.4, 1).all()
    assert set(study.contributions_.index) == {"clinical", "genes"}
    external = study.evaluate(X.iloc[cohort], y[cohort])
    assert set(external.summary.index) == set(study.estimators_)
    assert np.isfinite(external.summary["c_harrell"]).all()
    text = (study.report(tmp_path / "report") / "report.md").read_text()
    assert "## External validation" in text
    path = tmp_path / "model.skops"
    persist.dump(study.best_estimator_, path)
    np.testing.assert_allclose(
        persist.load(path).predict(X.iloc[cohort]),
        study.best_estimator_.predict(X.iloc[cohort]),
        rtol=1e-6,
    )


@pytest.mark.parametrize("times", ["24 of 30 events at month 1", "times 1, 2, 3"])
def test_heavily_tied_event_times_do_not_crash_the_study(times, tmp_path):
    # Uno's C truncates at the 75th percentile of the event times; when it
    # equals the earliest time no test row lies below it, and the censoring
    # weights of the time-dependent AUC can be undefined: NaN, not a crash.
    rng = np.random.default_rng(0)
    n = 30
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = np.empty(n, dtype=[("event", bool), ("time", float)])
    if times.startswith("24"):
        y["time"] = np.r_[np.ones(24), np.arange(2, 8)]
        y["event"] = np.r_[np.ones(24, bool), np.zeros(6, bool)]
    else:
        y["time"] = rng.choice([1, 2, 3], size=n)
        y["event"] = rng.random(n) < 0.7
    study = FusionStudy(
        [("m", "passthrough", ["a", "b"])],
        strategies=["unimodal:m"],
        cv=3,
        random_state=0,
        contributions=None,
    ).fit(X, y)
    assert np.isfinite(study.summary_.loc["unimodal:m", "c_harrell_mean"])
    assert np.isnan(study.summary_.loc["unimodal:m", "c_uno_mean"])
    assert (study.report(tmp_path) / "report.html").is_file()


def test_a_dataframe_of_event_and_time_is_named_as_a_survival_target():
    # Issue 26, C10: not "Label 'time' of the multi-label target must be 0 or 1".
    X = pd.DataFrame({"a": np.arange(30.0)})
    y = pd.DataFrame({"event": np.tile([0, 1], 15), "time": np.arange(30.0) + 1})
    study = FusionStudy([("m", "passthrough", ["a"])], cv=3)
    with pytest.raises(ValueError, match="structured array of \\(event, time\\)"):
        study.fit(X, y)
    # A multi-label target whose 0/1 label is called "event" stays one.
    labels = pd.DataFrame({"event": np.tile([0, 1], 15), "other": np.tile([1, 0], 15)})
    assert study.set_params(contributions=None).fit(X, labels).task_ == "multilabel"


def test_survival_target_reads_a_tables_columns_and_names_them():
    from skfusion.study import survival_target

    table = pd.DataFrame(
        {"months": [3.0, 12.5, 7.0], "died": ["1", "FALSE", "true"]},
        index=["p1", "p2", "p3"],
    )
    y = survival_target(table, "months", "died")
    assert y.dtype.names == ("event", "time")
    assert y["event"].tolist() == [True, False, True]
    assert y["time"].tolist() == [3.0, 12.5, 7.0]
    soon = table.assign(months=["3", "soon", "1"])
    with pytest.raises(ValueError, match=r"'months' of t\.csv .* row 'p2' \('soon'\)"):
        survival_target(soon, "months", "died", "t.csv")
    negative = table.assign(months=[3.0, -1.0, 2.0])
    with pytest.raises(ValueError, match="^t.csv: The time 'months' is negative"):
        survival_target(negative, "months", "died", "t.csv")
