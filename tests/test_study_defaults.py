"""The default strategies: calibrated risks, penalties tuned inside the folds."""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline, make_pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import (
    BlockScaler,
    LateFusionClassifier,
    PrevalenceDecisionClassifier,
)
from skfusion.study import FusionStudy, _strategies, default_strategies, inner_cv
from skfusion.utils._test_common import DelegatingClassifier


def _modalities(X, names=("m0", "m1")):
    return [
        (name, "passthrough", [c for c in X.columns if c.startswith(f"{name}__")])
        for name in names
    ]


def _table(n, weights, seed=0):
    X, y = make_multimodal_classification(
        n,
        modality_sizes=(4, 4),
        informativeness=(1.5, 1.0),
        weights=weights,
        random_state=seed,
    )
    return X.rename(columns=lambda c: c.replace("__", "_")), y.to_numpy()


def _table_modalities(table, names=("m0", "m1")):
    return [
        (name, "passthrough", [c for c in table.columns if c.startswith(f"{name}_")])
        for name in names
    ]


def test_the_default_rule_finds_the_minority_class_as_class_weights_do():
    table, y = _table(300, weights=(0.9, 0.1))
    params = {
        "scoring": ["balanced_accuracy"],
        "cv": 3,
        "contributions": None,
        "random_state": 0,
    }
    modalities = _table_modalities(table)
    rule = FusionStudy(modalities, strategies=["early:linear"], **params)
    rule.fit(table, y)
    balanced = FusionStudy(
        modalities, strategies=["early:linear"], class_weight="balanced", **params
    ).fit(table, y)
    # The same unweighted model predicting the class of largest probability.
    pipeline = rule.strategies_["early:linear"]
    argmax = Pipeline([*pipeline.steps[:-1], ("model", pipeline[-1].estimator)])
    plain = FusionStudy(modalities, strategies={"early:linear": argmax}, **params)
    plain.fit(table, y)
    score = "balanced_accuracy_mean"

    def mean(study):
        return study.summary_.loc["early:linear", score]

    assert mean(balanced) - mean(plain) >= 0.1
    assert mean(rule) - mean(plain) >= 0.1
    # Within the fold spread of 30 minority rows.
    assert mean(rule) >= mean(balanced) - 0.05
    assert any("class_weight='balanced'" in note for note in balanced.notes_)
    assert any("not weighted" in note for note in rule.notes_)


def test_every_default_classifier_weights_classes_or_decides_by_prevalence():
    weighted, _ = default_strategies(
        ["a", "b"], classification=True, class_weight="balanced"
    )
    for name, (estimator, _) in weighted.items():
        weights = {
            key: value
            for key, value in estimator.get_params().items()
            if key.endswith("class_weight")
        }
        assert weights and set(weights.values()) == {"balanced"}, name
        # Weighted models predict the class of largest probability.
        assert not isinstance(estimator[-1], PrevalenceDecisionClassifier), name
    unweighted, _ = default_strategies(["a", "b"], classification=True)
    assert list(unweighted) == list(weighted)
    for name, (estimator, _) in unweighted.items():
        params = estimator.get_params()
        assert all(params[k] is None for k in params if k.endswith("class_weight"))
        assert isinstance(estimator[-1], PrevalenceDecisionClassifier), name
        assert estimator[-1].threshold == "prevalence"
    regression, _ = default_strategies(["a", "b"], classification=False)
    for name, (estimator, _) in regression.items():
        assert not isinstance(estimator[-1], PrevalenceDecisionClassifier), name


def test_unweighted_late_mean_is_recalibrated_on_out_of_fold_predictions():
    def late_mean(**params):
        strategies, _ = default_strategies(["a", "b"], classification=True, **params)
        return strategies["late:mean"][0][-1]

    calibrated = late_mean().estimator
    assert isinstance(calibrated, CalibratedClassifierCV)
    assert calibrated.method == "sigmoid" and calibrated.ensemble is False
    assert calibrated.estimator.combiner == "mean"
    # Weighted risks are left as they are, and sklearn's calibration takes a
    # single target: a multi-label late:mean is not recalibrated.
    assert isinstance(late_mean(class_weight="balanced"), LateFusionClassifier)
    assert isinstance(late_mean(multilabel=True).estimator, LateFusionClassifier)


class _RecordingSplitter(StratifiedGroupKFold):
    """StratifiedGroupKFold that records the rows and groups it splits."""

    seen = []

    def split(self, X, y=None, groups=None):
        splits = list(super().split(X, y, groups))
        type(self).seen.append((len(X), np.asarray(groups), splits))
        yield from splits


def test_inner_cv_sees_only_training_rows_and_keeps_groups(monkeypatch):
    table, y = _table(120, weights=None, seed=1)
    groups = np.arange(len(y)) // 3
    monkeypatch.setattr(
        _strategies,
        "inner_cv",
        lambda classification, grouped, random_state: _RecordingSplitter(
            3, shuffle=True, random_state=random_state
        ),
    )
    _RecordingSplitter.seen = []
    study = FusionStudy(
        _table_modalities(table),
        strategies=["unimodal:m0"],
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, y, groups=groups)
    assert len(_RecordingSplitter.seen) == 3  # one inner search per outer fold
    for (train, test), (n_rows, inner_groups, inner) in zip(
        study.splits_, _RecordingSplitter.seen, strict=True
    ):
        # Exactly the fold's training rows, in order, with their groups.
        assert n_rows == len(train)
        np.testing.assert_array_equal(inner_groups, groups[train])
        assert set(inner_groups).isdisjoint(groups[test])
        for inner_train, inner_test in inner:
            assert set(inner_groups[inner_train]).isdisjoint(inner_groups[inner_test])


def test_grouped_defaults_tune_on_grouped_inner_folds():
    table, y = _table(90, weights=None, seed=2)
    strategies, _ = default_strategies(["m0"], classification=True, grouped=True)
    cv = strategies["unimodal:m0"][0][-1].estimator.cv
    assert isinstance(cv, StratifiedGroupKFold)
    study = FusionStudy(
        _table_modalities(table, ("m0",)), cv=3, contributions=None, random_state=0
    ).fit(table, y, groups=np.arange(90) // 3)
    assert "grouped 3-fold" in " ".join(study.notes_)
    assert np.isfinite(study.summary_.loc["unimodal:m0", "roc_auc_mean"])


class _GroupsRecorder(DelegatingClassifier):
    """Logistic regression that requests groups and records whether it got them."""

    # Requested by metadata routing, as the study passes groups.
    __metadata_request__fit = {"groups": True}  # noqa: RUF012 (sklearn's name)
    calls = []

    def fit(self, X, y, groups=None):
        type(self).calls.append(groups is not None)
        return self._fitted(LogisticRegression().fit(X, y))


def test_a_grid_search_strategy_receives_the_groups():
    table, y = _table(90, weights=None, seed=3)
    groups = np.arange(90) // 3
    search = GridSearchCV(
        make_pipeline(BlockScaler(), LogisticRegression()),
        {"logisticregression__C": [0.1, 1.0]},
        cv=GroupKFold(3),
    )
    _GroupsRecorder.calls = []
    study = FusionStudy(
        _table_modalities(table),
        strategies={"search": search, "plain": _GroupsRecorder()},
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, y, groups=groups)
    assert study.summary_.loc["search", "roc_auc_mean"] > 0.6
    assert _GroupsRecorder.calls == [True, True, True]


def test_a_strategy_that_cannot_use_groups_still_runs_with_them():
    table, y = _table(60, weights=None, seed=4)
    study = FusionStudy(
        _table_modalities(table),
        strategies={"plain": make_pipeline(BlockScaler(), LogisticRegression())},
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, y, groups=np.arange(60) // 2)
    assert study.summary_.loc["plain", "roc_auc_mean"] > 0.6


@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_regression_defaults_ignore_class_weight(class_weight):
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(60, 4)), columns=["a_0", "a_1", "b_0", "b_1"])
    y = table["a_0"] * 2 + table["b_1"] + rng.normal(scale=0.1, size=60)
    study = FusionStudy(
        [("a", "passthrough", ["a_0", "a_1"]), ("b", "passthrough", ["b_0", "b_1"])],
        strategies=["unimodal:a", "early:linear"],
        class_weight=class_weight,
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, y)
    assert study.summary_.loc["early:linear", "r2_mean"] > 0.9
    assert not any("weighted" in note for note in study.notes_)


def test_a_training_fold_with_fewer_groups_than_inner_folds_is_studied():
    # Four groups and two outer folds: each training fold holds two groups,
    # fewer than the three grouped inner folds of the default linear models.
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    y = (table["a"] + rng.normal(size=40) > 0).astype(int).to_numpy()
    modalities = [("m", "passthrough", ["a"]), ("n", "passthrough", ["b"])]
    with pytest.warns(UserWarning, match="hold 2 groups, fewer than 3 folds"):
        study = FusionStudy(
            modalities,
            strategies=["unimodal:m", "early:linear", "late:mean"],
            cv=2,
            random_state=0,
            contributions=None,
        ).fit(table, y, groups=np.repeat(np.arange(4), 10))
    assert np.isfinite(study.summary_["roc_auc_mean"]).all()
    assert "fewer than 3 groups" in " ".join(study.notes_)


@pytest.mark.parametrize("classification", [True, False])
def test_the_inner_folds_adapt_to_the_groups_of_their_rows(classification):
    cv = inner_cv(classification=classification, grouped=True, random_state=0)
    X, y = np.zeros((12, 1)), np.tile([0, 1], 6)
    two = np.repeat([0, 1], 6)
    with pytest.warns(UserWarning, match="2 grouped folds"):
        folds = list(cv.split(X, y, two))
    assert len(folds) == 2 == cv.get_n_splits(X, y, two)
    for train, test in folds:
        assert not set(two[train]) & set(two[test])
    with pytest.warns(UserWarning, match="a single group; using 3 ungrouped"):
        assert len(list(cv.split(X, y, np.zeros(12)))) == 3
    six = np.repeat(np.arange(6), 2)
    assert len(list(cv.split(X, y, six))) == 3 == cv.get_n_splits(X, y, six)


def test_groups_go_where_metadata_routing_requests_them():
    pytest.importorskip("torch")
    from skfusion.deep import DeepFusionClassifier
    from skfusion.fusion import WideBlockReducer
    from skfusion.study._runner import requests_groups

    # The deep estimators request them for their early-stopping split, alone
    # or as the last step of a default strategy's pipeline.
    assert requests_groups(DeepFusionClassifier())
    assert requests_groups(make_pipeline(WideBlockReducer(), DeepFusionClassifier()))
    assert not requests_groups(make_pipeline(BlockScaler(), LogisticRegression()))
    assert requests_groups(_GroupsRecorder())


def test_boosting_on_too_few_rows_per_class_to_stop_early_still_runs():
    # 100 rows of 10 classes in 5 folds: a tenth of 80 training rows (8) cannot
    # hold a row of every class, where early stopping would fail the study.
    X, y = make_multimodal_classification(
        100, modality_sizes=(3, 3), n_classes=10, informativeness=2.0, random_state=0
    )
    modalities = [
        (name, "passthrough", [c for c in X.columns if c.startswith(f"{name}__")])
        for name in ("m0", "m1")
    ]
    study = FusionStudy(
        modalities,
        strategies=["unimodal:m0", "early:hgb"],
        cv=5,
        contributions=None,
        random_state=0,
    ).fit(X, y)
    boosting = study.strategies_["early:hgb"].get_params()
    assert [v for k, v in boosting.items() if k.endswith("early_stopping")] == [False]
    assert any("does not stop early" in note for note in study.notes_)
    assert np.isfinite(study.summary_.loc["early:hgb", "balanced_accuracy_mean"])
    # With enough rows per class it stops early, as before.
    X, y = make_multimodal_classification(
        300, modality_sizes=(3, 3), n_classes=3, random_state=0
    )
    study.set_params(cv=3).fit(X, y)
    boosting = study.strategies_["early:hgb"].get_params()
    assert [v for k, v in boosting.items() if k.endswith("early_stopping")] == [True]
    assert not any("does not stop early" in note for note in study.notes_)
