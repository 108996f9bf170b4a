"""Decision curves: net benefit by hand, on resamples, and in a study."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from skfusion.datasets import make_multimodal_classification
from skfusion.study import FusionStudy, decision_curve, net_benefit
from skfusion.study._clinical import TREAT_ALL, TREAT_NONE


def test_net_benefit_by_hand():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 0], dtype=bool)
    risk = np.array([0.9, 0.7, 0.2, 0.8, 0.3, 0.1, 0.05, 0.6, 0.4, 0.15])
    # t = 0.25: treated rows have risk >= 0.25: 0.9 0.7 0.8 0.3 0.6 0.4 -> TP 3, FP 3.
    # t = 0.5: 0.9 0.7 0.8 0.6 -> TP 2, FP 2.
    expected = [3 / 10 - 3 / 10 * (0.25 / 0.75), 2 / 10 - 2 / 10 * 1.0]
    assert_allclose(net_benefit(y, risk, [0.25, 0.5]), expected, rtol=0, atol=1e-12)
    # Treat all: 4 TP, 6 FP at every threshold.
    assert_allclose(
        net_benefit(y, None, [0.25, 0.5]),
        [0.4 - 0.6 / 3, 0.4 - 0.6],
        rtol=0,
        atol=1e-12,
    )


def test_weights_are_rows_repeated():
    rng = np.random.default_rng(0)
    y = rng.random(40) < 0.3
    risk = rng.random(40)
    weights = rng.integers(0, 4, size=(3, 40))
    thresholds = np.linspace(0.05, 0.6, 12)
    resampled = net_benefit(y, risk, thresholds, weights)
    for row, w in zip(resampled, weights, strict=True):
        repeated = np.repeat(np.arange(40), w)
        direct = net_benefit(y[repeated], risk[repeated], thresholds)
        assert_allclose(row, direct, rtol=0, atol=1e-12)


def test_thresholds_outside_zero_one_are_refused():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        net_benefit([True, False], [0.2, 0.4], [0.0, 0.5])


def test_decision_curve_bands_and_references():
    rng = np.random.default_rng(1)
    y = rng.random(300) < 0.25
    risk = np.clip(0.25 + 0.5 * (y - 0.25) + rng.normal(0, 0.2, 300), 0.001, 0.999)
    curve = decision_curve(
        {"model": risk, "no probabilities": None},
        y,
        groups=np.arange(300) // 2,
        thresholds=[0.05, 0.2, 0.4],
        n_resamples=300,
        random_state=0,
    )
    assert curve["strategy"].unique().tolist() == ["model", TREAT_ALL, TREAT_NONE]
    model = curve[curve["strategy"] == "model"]
    assert_allclose(model["net_benefit"], net_benefit(y, risk, [0.05, 0.2, 0.4]))
    assert (model["low"] <= model["net_benefit"]).all()
    assert (model["net_benefit"] <= model["high"]).all()
    assert (curve.loc[curve["strategy"] == TREAT_NONE, "net_benefit"] == 0).all()
    again = decision_curve(
        {"model": risk}, y, thresholds=[0.2], n_resamples=100, random_state=3
    )
    same = decision_curve(
        {"model": risk}, y, thresholds=[0.2], n_resamples=100, random_state=3
    )
    pd.testing.assert_frame_equal(again, same)


MODALITIES = [
    ("a", "passthrough", [f"m0__x{j}" for j in range(3)]),
    ("b", "passthrough", [f"m1__x{j}" for j in range(3)]),
]


def _data(n_samples):
    return make_multimodal_classification(
        n_samples, modality_sizes=(3, 3), informativeness=(2.0, 1.0), random_state=0
    )


def _fitted(X, y, groups=None, **params):
    """A two-strategy study of the two blocks, fitted."""
    study = FusionStudy(
        MODALITIES,
        strategies=["unimodal:a", "early:linear"],
        cv=3,
        contributions=None,
        random_state=0,
        **params,
    )
    return study.fit(X, y, groups=groups)


def _binary_study(**params):
    X, y = _data(120)
    return _fitted(X, y, **params), y


def test_a_binary_study_has_decision_curves_from_its_stored_probabilities():
    study, y = _binary_study(decision_thresholds=[0.1, 0.3])
    curve = study.decision_curve_
    assert set(curve["threshold"]) == {0.1, 0.3}
    tested = np.arange(len(y))  # one repeat of an integer cv tests every row
    for name in study.strategies_:
        risk = study.oof_proba_[name][0, tested, 1]
        own = curve[curve["strategy"] == name]
        assert_allclose(
            own["net_benefit"], net_benefit(y == 1, risk, [0.1, 0.3]), atol=1e-12
        )
    default, _ = _binary_study()
    assert default.decision_curve_["threshold"].nunique() == 50


def test_only_a_binary_study_has_decision_curves():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    modalities = [("m", "passthrough", ["a"]), ("n", "passthrough", ["b"])]
    study = FusionStudy(
        modalities,
        strategies=["unimodal:m"],
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, table["a"] * 2 + rng.normal(size=60))
    assert study.decision_curve_ is None


def test_the_report_shows_the_decision_curves(tmp_path):
    pytest.importorskip("matplotlib")
    study, _ = _binary_study()
    folder = study.report(tmp_path / "report")
    text = (folder / "report.md").read_text()
    assert "## Decision curves" in text
    assert "| strategy | t = 5% | t = 10% | t = 20% | t = 30% | t = 50% |" in text
    assert "treat all" in text and "treat none" in text
    assert (folder / "plots" / "decision_curves.png").is_file()


# -- subgroups ----------------------------------------------------------------------


def _subgroup_study(**params):
    X, y = _data(200)
    rng = np.random.default_rng(0)
    X["sex"] = rng.choice(["F", "M"], 200)
    X.loc[:4, "sex"] = None  # five rows: too few to score
    X["age"] = rng.integers(18, 90, 200).astype(float)
    params = {"subgroups": ["sex", "age"], **params}
    return _fitted(X, y, np.arange(200) // 2, **params), X, y


def test_subgroup_metrics_are_scikit_learns_on_the_subsets():
    from sklearn.metrics import accuracy_score, roc_auc_score

    study, X, y = _subgroup_study()
    scores = study.subgroup_scores_
    for level in ("F", "M"):
        rows = np.flatnonzero(X["sex"].to_numpy() == level)
        for name in study.strategies_:
            own = scores[
                (scores["subgroup"] == "sex")
                & (scores["level"] == level)
                & (scores["strategy"] == name)
            ].set_index("metric")
            proba = study.oof_proba_[name][0, rows, 1]
            labels = study.oof_predictions_[name][0, rows].astype(y.dtype)
            assert own.loc["roc_auc", "score"] == pytest.approx(
                roc_auc_score(y[rows], proba), abs=1e-12
            )
            assert own.loc["accuracy", "score"] == pytest.approx(
                accuracy_score(y[rows], labels), abs=1e-12
            )
            assert own.loc["roc_auc", "low"] <= own.loc["roc_auc", "score"]
            assert own["n_samples"].iloc[0] == rows.size
    missing = scores[(scores["subgroup"] == "sex") & (scores["level"] == "missing")]
    assert (missing["n_samples"] == 5).all() and missing["score"].isna().all()


def test_numeric_subgroups_are_cut_into_stated_bands_and_gaps_are_tested():
    study, X, y = _subgroup_study()
    ages = study.subgroup_scores_.query("subgroup == 'age'")
    assert ages["level"].unique().tolist() == ["[18, 42)", "[42, 67.7)", "[67.7, 89]"]
    assert ages.drop_duplicates("level")["n_samples"].sum() == 200
    gaps = study.subgroup_gaps_.set_index(["subgroup", "strategy"])
    scores = study.subgroup_scores_.query("metric == 'roc_auc'")
    for (subgroup, name), gap in gaps.iterrows():
        own = scores[(scores["subgroup"] == subgroup) & (scores["strategy"] == name)]
        by_level = own.set_index("level")["score"]
        assert gap["gap"] == pytest.approx(by_level.max() - by_level.min())
        assert gap["best_level"] == by_level.idxmax()
        assert 0 <= gap["p_value"] <= 1


def test_subgroups_name_an_unknown_column_and_show_in_the_report(tmp_path):
    with pytest.raises(ValueError, match=r"not in the table: \['site'\]"):
        _subgroup_study(subgroups=["site"])
    pytest.importorskip("matplotlib")
    study, _, _ = _subgroup_study()
    folder = study.report(tmp_path / "report")
    text = (folder / "report.md").read_text()
    assert "## Subgroups" in text and "By age:" in text
    assert "| strategy | F (n=87) | M (n=108) | missing (n=5) |" in text
    saved = pd.read_csv(folder / "subgroups.csv")
    assert len(saved) == len(study.subgroup_scores_)


# -- learning curves ----------------------------------------------------------------


def test_the_learning_curve_ends_at_the_studys_fold_scores():
    study, X, y = _subgroup_study(subgroups=None, learning_curve=["early:linear"])
    curve = study.learning_curve_
    assert curve["strategy"].unique().tolist() == ["early:linear"]
    assert sorted(curve["fraction"].unique()) == [0.1, 0.25, 0.5, 0.75, 1.0]
    full = curve[curve["fraction"] == 1.0].set_index("fold")["score"]
    folds = study.fold_scores_.query(
        "strategy == 'early:linear' and metric == 'roc_auc'"
    ).set_index("fold")["score"]
    pd.testing.assert_series_equal(full, folds, check_names=False)
    # Shares of whole groups (two rows each): even row counts, growing.
    shares = curve.groupby("fraction")["n_train"].mean()
    assert shares.is_monotonic_increasing
    assert (curve["n_train"] % 2 == 0).all()
    assert np.isfinite(curve["score"]).all()


def test_learning_curve_true_takes_the_best_and_the_reference(tmp_path):
    study, _, _ = _subgroup_study(subgroups=None, learning_curve=True)
    best = study.summary_["roc_auc_mean"].idxmax()
    expected = [n for n in study.strategies_ if n in {best, study.best_unimodal_}]
    assert study.learning_curve_["strategy"].unique().tolist() == expected
    with pytest.raises(ValueError, match=r"does not have: \['late:max'\]"):
        _subgroup_study(subgroups=None, learning_curve=["late:max"])
    pytest.importorskip("matplotlib")
    folder = study.report(tmp_path / "report")
    assert "## Learning curve" in (folder / "report.md").read_text()
    assert (folder / "plots" / "learning_curve.png").is_file()
    assert (folder / "learning_curve.csv").is_file()


def test_subgroup_calibration_in_the_large(tmp_path):
    study, X, y = _subgroup_study()
    calibration = study.subgroup_calibration_
    rows = np.flatnonzero(X["sex"].to_numpy() == "F")
    own = calibration.query("subgroup == 'sex' and level == 'F'").set_index("strategy")
    for name in study.strategies_:
        predicted = study.oof_proba_[name][0, rows, 1].mean()
        observed = np.mean(y[rows] == 1)
        assert own.loc[name, "predicted"] == pytest.approx(predicted, abs=1e-12)
        assert own.loc[name, "ratio"] == pytest.approx(observed / predicted)
    pytest.importorskip("matplotlib")
    text = (study.report(tmp_path / "report") / "report.md").read_text()
    assert "Calibration in the large per level" in text


# -- robustness ---------------------------------------------------------------------


def test_robustness_curves_start_at_the_study_and_end_without_the_modality(tmp_path):
    from sklearn.metrics import roc_auc_score

    from skfusion.study._robustness import effective_robustness

    study, X, y = _subgroup_study(subgroups=None, robustness=True)
    curves = study.robustness_
    assert set(curves["perturbation"]) == {"withheld", "noise"}
    withheld = curves[curves["perturbation"] == "withheld"]
    folds = study.fold_scores_.query("metric == 'roc_auc'")
    start = withheld[withheld["level"] == 0.0].merge(
        folds, on=["strategy", "repeat", "fold"], suffixes=("", "_study")
    )
    assert_allclose(start["score"], start["score_study"], rtol=0, atol=0)
    # unimodal:a sees only a: withheld from every test row it predicts the prior.
    assert set(curves.query("strategy == 'unimodal:a'")["modality"]) == {"a"}
    # 100 % withheld equals the fold model's score with b absent everywhere.
    from sklearn.base import clone

    from skfusion.study._runner import extract_blocks, fit_with_groups

    train, test = study.splits_[0]
    train_X, test_X = extract_blocks(study.modalities, X, y, study.splits_)[0]
    groups = np.arange(len(y)) // 2  # as _subgroup_study fits
    model = clone(study.strategies_["early:linear"])
    fit_with_groups(model, train_X, y[train], groups[train])
    test_X = test_X.copy()
    test_X[[c for c in test_X.columns if c.startswith("b__")]] = np.nan
    expected = roc_auc_score(y[test], model.predict_proba(test_X)[:, 1])
    row = withheld.query(
        "strategy == 'early:linear' and modality == 'b' and level == 1.0 and fold == 0"
    )
    assert row["score"].iloc[0] == pytest.approx(expected, abs=1e-12)
    summary = effective_robustness(curves)
    assert (summary["relative_area"] > 0).all()
    pytest.importorskip("matplotlib")
    folder = study.report(tmp_path / "report")
    assert (
        "## Robustness to a missing or degraded modality"
        in (folder / "report.md").read_text()
    )
    assert (folder / "plots" / "robustness.png").is_file()


# -- TRIPOD+AI checklist -------------------------------------------------------------


def test_the_checklist_follows_the_sections_of_the_report():
    from skfusion.study import tripod_checklist

    bare = tripod_checklist(["Cohort", "Comparison of strategies"]).set_index("item")
    assert bare.loc["14", "status"] == "not reported"
    assert "subgroups=" in bare.loc["14", "to add"]
    assert bare.loc["12e", "status"] == "reported"
    assert bare.loc["12e", "to add"] == ""
    assert bare.loc["17", "status"] == "not reported"  # the author's alone
    with_subgroups = tripod_checklist(["Cohort", "Subgroups"]).set_index("item")
    assert with_subgroups.loc["14", "status"] == "reported"
    assert with_subgroups.loc["14", "where"] == "Subgroups"
    # A section answering part of an item leaves the author the rest.
    assert with_subgroups.loc["10", "status"] == "partly reported"
    assert with_subgroups.loc["10", "to add"]


def test_the_report_has_the_tripod_checklist(tmp_path):
    study, _, _ = _subgroup_study()
    folder = study.report(tmp_path / "report")
    text = (folder / "report.md").read_text()
    assert "## TRIPOD+AI checklist" in text
    checklist = pd.read_csv(folder / "tripod_checklist.csv", keep_default_na=False)
    items = checklist.set_index("item")
    # The study ran its subgroups: fairness (14) is answered by that section;
    # it has no external cohort (16).
    assert items.loc["14", "status"] == "reported"
    assert items.loc["14", "where"] == "Subgroups"
    assert items.loc["16", "status"] == "not reported"
    assert items.loc["11", "where"] == "Missing modalities"
    assert set(checklist["status"]) <= {"reported", "partly reported", "not reported"}
    # The table in the report is the file's.
    assert f"| 14 | {items.loc['14', 'topic']} | reported | Subgroups |" in text
