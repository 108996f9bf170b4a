"""FusionStudy: identical folds, no leakage, sound statistics, contributions."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted

from skfusion.datasets import make_multimodal_classification
from skfusion.extractors._base import BaseExtractor
from skfusion.fusion import BlockScaler
from skfusion.study import FusionStudy
from skfusion.study._analysis import pooled_metrics
from skfusion.utils._test_common import DelegatingClassifier


def _table(n_samples=120, missing_rate=0.15, random_state=0):
    X, y = make_multimodal_classification(
        n_samples,
        modality_sizes=(3, 3, 2),
        informativeness=(2.0, 1.0, 0.0),
        missing_rate=missing_rate,
        random_state=random_state,
    )
    return X, y


def _modalities(X, names=("m0", "m1", "m2")):
    return [
        (name, "passthrough", [c for c in X.columns if c.startswith(f"{name}__")])
        for name in names
    ]


def _scaled_logistic():
    return make_pipeline(BlockScaler(), LogisticRegression())


def _fast_strategies():
    return {
        "unimodal:m0": (_scaled_logistic(), ["m0"]),
        "unimodal:m1": (_scaled_logistic(), ["m1"]),
        "unimodal:m2": (_scaled_logistic(), ["m2"]),
        "early": _scaled_logistic(),
    }


@pytest.fixture(scope="module")
def fitted_study():
    X, y = _table()
    groups = np.arange(len(y)) // 3
    study = FusionStudy(
        _modalities(X),
        strategies=_fast_strategies(),
        cv=3,
        n_repeats=2,
        random_state=0,
    )
    return study.fit(X, y, groups=groups), X, y, groups


class _RecordingClassifier(DelegatingClassifier):
    """Logistic regression that records the rows it was trained on."""

    seen = []

    def __init__(self, tag="a"):
        self.tag = tag

    def fit(self, X, y):
        type(self).seen.append((self.tag, tuple(X.index)))
        model = make_pipeline(BlockScaler(), LogisticRegression())
        return self._fitted(model.fit(X, y))


def test_every_strategy_is_trained_and_tested_on_identical_folds():
    X, y = _table()
    X.index = [f"subject{i}" for i in range(len(X))]
    groups = np.arange(len(y)) // 4
    _RecordingClassifier.seen = []
    study = FusionStudy(
        _modalities(X),
        strategies={
            "a": (_RecordingClassifier("a"), ["m0"]),
            "b": _RecordingClassifier("b"),
            "c": (_RecordingClassifier("c"), ["m1", "m2"]),
        },
        cv=3,
        n_repeats=2,
        contributions=None,
        random_state=0,
    ).fit(X, y, groups=groups)

    expected = [tuple(X.index[train]) for train, _ in study.splits_]
    for tag in "abc":
        seen = [rows for seen_tag, rows in _RecordingClassifier.seen if seen_tag == tag]
        assert seen == expected
    assert len(study.splits_) == 6
    # Grouped: no group on both sides of any split; every row tested once per repeat.
    for train, test in study.splits_:
        assert not set(groups[train]) & set(groups[test])
    for repeat in range(2):
        tested = np.concatenate(
            [
                test
                for (r, _), (_, test) in zip(
                    study.split_ids_, study.splits_, strict=True
                )
                if r == repeat
            ]
        )
        assert sorted(tested) == list(range(len(y)))
    # The two repeats are shuffled differently, and the seeds are recorded.
    assert study.fold_seeds_[0] != study.fold_seeds_[1]
    assert (
        study.splits_hash_
        != FusionStudy(
            _modalities(X),
            strategies={"b": _RecordingClassifier("b")},
            cv=3,
            n_repeats=2,
            contributions=None,
            random_state=1,
        )
        .fit(X, y, groups=groups)
        .splits_hash_
    )


def test_random_state_makes_the_study_reproducible(fitted_study):
    study, X, y, groups = fitted_study
    again = clone(study).fit(X, y, groups=groups)
    pd.testing.assert_frame_equal(
        study.fold_scores_.drop(columns="fit_time"),
        again.fold_scores_.drop(columns="fit_time"),
    )
    assert study.splits_hash_ == again.splits_hash_
    assert study.data_hash_ == again.data_hash_


class _TargetEncoder(TransformerMixin, BaseEstimator):
    """Mean target of each subject id seen at fit (the global mean otherwise)."""

    def fit(self, X, y):
        ids = np.asarray(X).ravel()
        self.prior_ = float(np.mean(y))
        self.means_ = pd.Series(np.asarray(y, dtype=float)).groupby(ids).mean()
        return self

    def transform(self, X):
        check_is_fitted(self)
        ids = pd.Series(np.asarray(X).ravel())
        return ids.map(self.means_).fillna(self.prior_).to_numpy()[:, None]

    def get_feature_names_out(self, input_features=None):
        return np.array(["encoded"])


def test_a_target_learning_extractor_is_fitted_inside_the_folds():
    rng = np.random.RandomState(0)
    n = 150
    table = pd.DataFrame({"subject_id": np.arange(n), "noise": rng.normal(size=n)})
    y = rng.randint(0, 2, size=n)  # no feature carries any signal
    modalities = [
        ("ids", _TargetEncoder(), ["subject_id"]),
        ("noise", "passthrough", ["noise"]),
    ]

    # Fitted outside the folds, the encoder hands each row its own label.
    leaked = (
        _TargetEncoder().fit(table[["subject_id"]], y).transform(table[["subject_id"]])
    )
    leaked_auc = cross_val_score(
        LogisticRegression(), leaked, y, cv=5, scoring="roc_auc"
    ).mean()
    assert leaked_auc > 0.95

    study = FusionStudy(
        modalities,
        strategies={
            "ids only": (_scaled_logistic(), ["ids"]),
            "both": _scaled_logistic(),
        },
        cv=5,
        contributions=None,
        random_state=0,
    ).fit(table, y)
    for strategy in ("ids only", "both"):
        assert study.summary_.loc[strategy, "roc_auc_mean"] < 0.65


class _CountingExtractor(BaseExtractor):
    """Squares a number; counts how many items it featurizes."""

    calls = 0

    def __init__(
        self,
        batch_size=32,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=None,
    ):
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _featurize(self, loaded):
        type(self).calls += 1
        return np.array([float(loaded) ** 2])

    def _feature_names(self):
        return ["square"]


class _LearningCountingExtractor(_CountingExtractor):
    learns_from_data = True


@pytest.mark.parametrize(
    "extractor, expected_calls",
    [
        # Learns nothing: extracted once for all rows (plus fit's width probe).
        (_CountingExtractor, lambda n, k: n),
        # Learns from its rows: once per fold, train and test rows.
        (_LearningCountingExtractor, lambda n, k: k * n),
    ],
)
def test_extraction_runs_once_per_fold_not_once_per_strategy(extractor, expected_calls):
    X, y = _table(90, missing_rate=0.0)
    table = X.assign(number=np.arange(len(X), dtype=float))
    extractor.calls = 0
    FusionStudy(
        [*_modalities(X, ("m0",)), ("number", extractor(), "number")],
        strategies={
            "m0": (_scaled_logistic(), ["m0"]),
            "number": (_scaled_logistic(), ["number"]),
            "both": _scaled_logistic(),
            "both again": make_pipeline(BlockScaler(), LogisticRegression(C=0.1)),
        },
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, y)
    n_calls = extractor.calls
    assert expected_calls(len(y), 3) <= n_calls <= expected_calls(len(y), 3) + 3


def _number_study(n_samples, extractor, **params):
    """A study of one extractor on a ``number`` column, with its table and y."""
    X, y = _table(n_samples, missing_rate=0.0)
    table = X.assign(number=np.arange(len(X), dtype=float))
    study = FusionStudy(
        [("number", extractor, "number")],
        strategies={"number": _scaled_logistic()},
        cv=3,
        contributions=None,
        random_state=0,
        **params,
    )
    return study, table, y


def test_memory_caches_the_fold_extraction(tmp_path):
    _LearningCountingExtractor.calls = 0
    study, table, y = _number_study(
        60, _LearningCountingExtractor(), memory=str(tmp_path)
    )
    study.fit(table, y)
    first = _LearningCountingExtractor.calls
    clone(study).fit(table, y)
    assert first > 0
    assert _LearningCountingExtractor.calls == first


def test_a_fitted_study_pickles_and_reports_after_loading(fitted_study, tmp_path):
    import pickle

    study = fitted_study[0]
    loaded = pickle.loads(pickle.dumps(study))
    pd.testing.assert_frame_equal(loaded.summary_, study.summary_)
    assert (loaded.report(tmp_path) / "report.html").is_file()


def test_confidence_intervals_contain_the_mean(fitted_study):
    study = fitted_study[0]
    for metric in study.metrics_:
        low = study.summary_[f"{metric}_ci_low"]
        high = study.summary_[f"{metric}_ci_high"]
        mean = study.summary_[f"{metric}_mean"]
        assert (low <= mean).all() and (mean <= high).all()
        assert (low < high).all()


def test_summary_matches_the_fold_scores(fitted_study):
    study = fitted_study[0]
    scores = study.fold_scores_
    assert set(scores.columns) == {
        "strategy",
        "repeat",
        "fold",
        "metric",
        "score",
        "fit_time",
        "n_train",
        "n_test",
    }
    assert len(scores) == len(study.strategies_) * 6 * len(study.metrics_)
    means = scores.groupby(["strategy", "metric"])["score"].mean()
    for strategy in study.strategies_:
        for metric in study.metrics_:
            assert study.summary_.loc[strategy, f"{metric}_mean"] == pytest.approx(
                means[strategy, metric]
            )


def test_comparison_against_the_best_unimodal_baseline(fitted_study):
    study = fitted_study[0]
    assert study.best_unimodal_ == "unimodal:m0"
    comparison = study.comparison_
    assert (comparison["reference"] == "unimodal:m0").all()
    assert np.isnan(comparison.loc["unimodal:m0", "p_value"])
    # The uninformative modality is clearly worse than the informative one.
    assert comparison.loc["unimodal:m2", "p_value"] < 0.05
    assert comparison.loc["unimodal:m2", "delong_p_value"] < 0.05
    assert comparison.loc["unimodal:m2", "difference"] < 0
    for name in ("unimodal:m1", "unimodal:m2", "early"):
        p = comparison.loc[name, ["p_value", "delong_p_value"]].astype(float)
        assert ((p > 0) & (p <= 1)).all()


def test_calibration_and_availability_patterns(fitted_study):
    study, X, y, _ = fitted_study
    assert set(study.calibration_) == set(study.strategies_)
    table = study.calibration_["early"]
    assert table["count"].sum() == len(y)
    assert ((study.summary_["brier"] > 0) & (study.summary_["brier"] < 0.25)).all()

    assert study.availability_.shape == (len(y), 3)
    patterns = study.availability_scores_
    assert set(patterns["strategy"]) == set(study.strategies_)
    per_strategy = patterns[patterns["strategy"] == "early"]
    assert per_strategy["n_samples"].sum() == len(y)
    # Rows without m0 are scored separately, and m0 alone does worse on them.
    without_m0 = patterns["pattern"].str.split("+").map(lambda p: "m0" not in p)
    m0_alone = patterns[(patterns["strategy"] == "unimodal:m0") & without_m0]
    fused = patterns[(patterns["strategy"] == "early") & without_m0]
    assert fused["score"].mean() > m0_alone["score"].mean()


def test_shapley_values_sum_to_the_full_minus_the_empty_score(fitted_study):
    study = fitted_study[0]
    assert study.contribution_strategy_ == "early"
    contributions = study.contributions_
    full = study.coalition_scores_[frozenset({"m0", "m1", "m2"})]
    empty = study.coalition_scores_[frozenset()]
    assert contributions["shapley"].sum() == pytest.approx(full - empty, abs=1e-10)
    assert empty == pytest.approx(0.5)  # a prior model has no ranking
    assert len(study.coalition_scores_) == 2**3
    ranking = contributions["shapley"].sort_values(ascending=False).index.tolist()
    assert ranking == ["m0", "m1", "m2"]
    assert (
        contributions.loc["m0", "importance_mean"]
        > contributions.loc["m2", "importance_mean"]
    )
    assert contributions.loc["m0", "ablation"] == pytest.approx(
        full - study.coalition_scores_[frozenset({"m1", "m2"})]
    )


def test_sampled_shapley_above_max_exact():
    X, y = _table(90)
    study = FusionStudy(
        _modalities(X),
        strategies={"early": _scaled_logistic()},
        cv=3,
        max_exact=2,
        n_permutations=4,
        random_state=0,
    ).fit(X, y)
    total = study.contributions_["shapley"].sum()
    full = study.coalition_scores_[frozenset({"m0", "m1", "m2"})]
    assert total == pytest.approx(full - study.coalition_scores_[frozenset()])
    assert not study.contributions_["ablation"].isna().any()


def test_regression_study():
    rng = np.random.RandomState(0)
    table = pd.DataFrame(rng.normal(size=(80, 4)), columns=["a1", "a2", "b1", "b2"])
    y = 2 * table["a1"] + 0.5 * table["b1"] + rng.normal(scale=0.1, size=80)
    study = FusionStudy(
        [("a", "passthrough", ["a1", "a2"]), ("b", "passthrough", ["b1", "b2"])],
        strategies={
            "a": (make_pipeline(BlockScaler(), Ridge()), ["a"]),
            "b": (make_pipeline(BlockScaler(), Ridge()), ["b"]),
            "both": make_pipeline(BlockScaler(), Ridge()),
        },
        cv=GroupKFold(n_splits=4),
        random_state=0,
    ).fit(table, y, groups=np.arange(80) // 2)
    assert study.task_ == "regression"
    assert study.metrics_ == ["r2", "neg_mean_absolute_error"]
    assert study.best_unimodal_ == "a"
    assert study.summary_.loc["both", "r2_mean"] > study.summary_.loc["a", "r2_mean"]
    assert study.calibration_ == {}
    assert study.fold_seeds_ == [None]
    assert study.oof_proba_["both"] is None


@pytest.mark.slow
def test_default_strategies_run_on_a_small_study():
    pytest.importorskip("torch")
    X, y = _table(80)
    study = FusionStudy(_modalities(X, ("m0", "m1")), cv=2, random_state=0).fit(X, y)
    assert list(study.strategies_) == [
        "unimodal:m0",
        "unimodal:m1",
        "early:linear",
        "early:hgb",
        "late:mean",
        "late:stacking",
        "shared:mcca",
        "deep:concat",
        "deep:attention",
    ]
    assert study.contribution_strategy_ == "early:linear"
    assert study.strategy_kinds_["late:mean"] == "late"
    assert not study.summary_.isna().any().any()


def test_bad_inputs_are_named():
    X, y = _table(30)
    modalities = _modalities(X)
    with pytest.raises(ValueError, match="single class"):
        FusionStudy(modalities, cv=2).fit(X, np.zeros(30))
    with pytest.raises(ValueError, match="empty table"):
        FusionStudy(modalities, cv=2).fit(X.iloc[:0], y[:0])
    y_missing = y.astype(float)
    y_missing[[3, 7]] = np.nan
    with pytest.raises(ValueError, match="positions 3, 7"):
        FusionStudy(modalities, cv=2).fit(X, y_missing)
    with pytest.raises(ValueError, match="unknown modalities \\['xray'\\]"):
        FusionStudy(
            modalities, strategies={"s": (LogisticRegression(), ["xray"])}, cv=2
        ).fit(X, y)
    with pytest.raises(ValueError, match="contributions='nope'"):
        FusionStudy(modalities, contributions="nope", cv=2).fit(X, y)
    with pytest.raises(ValueError, match="Modality 'm0' needs column"):
        FusionStudy(modalities, cv=2).fit(X.drop(columns="m0__x0"), y)
    with pytest.raises(ValueError, match="strategy 'plain', repeat 0, fold 0"):
        FusionStudy(
            modalities,
            strategies={"plain": LogisticRegression()},
            cv=2,
            contributions=None,
        ).fit(X, y)


def test_the_study_runner_is_not_discovered_as_an_estimator():
    # FusionStudy runs estimators but neither predicts nor transforms: the
    # estimator discovery, and so the sklearn checks, skip it.
    from skfusion.utils import all_estimators

    assert "FusionStudy" not in [name for name, _ in all_estimators()]


def test_a_study_runs_on_a_dask_cluster_with_the_same_results():
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    X, y = _table(90)
    params = {"strategies": _fast_strategies(), "cv": 3, "random_state": 0}
    local = FusionStudy(_modalities(X), **params).fit(X, y)
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ):
        with parallel_backend("dask"):
            on_dask = FusionStudy(_modalities(X), n_jobs=-1, **params).fit(X, y)
    pd.testing.assert_frame_equal(
        local.fold_scores_.drop(columns="fit_time"),
        on_dask.fold_scores_.drop(columns="fit_time"),
    )
    assert local.coalition_scores_ == on_dask.coalition_scores_


def test_a_table_with_array_cells_is_hashed_by_content():
    from skfusion.extractors import ImageLoader

    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 30)
    pixels = [rng.rand(6, 6) + label for label in y]
    table = pd.DataFrame({"age": rng.normal(size=60), "pixels": pixels})
    modalities = [
        ("clinical", "passthrough", ["age"]),
        ("image", ImageLoader(size=(6, 6)), "pixels"),
    ]
    params = {
        "strategies": {"image": (_scaled_logistic(), ["image"])},
        "cv": 3,
        "contributions": None,
        "random_state": 0,
    }
    study = FusionStudy(modalities, **params).fit(table, y)
    assert study.summary_.loc["image", "roc_auc_mean"] > 0.9
    again = FusionStudy(modalities, **params).fit(table.copy(), y)
    assert again.data_hash_ == study.data_hash_
    changed = table.copy()
    changed.at[5, "pixels"] = pixels[5] + 1e-3
    assert FusionStudy(modalities, **params).fit(changed, y).data_hash_ != (
        study.data_hash_
    )


def test_a_list_picks_default_strategies_by_name():
    X, y = _table(60)
    study = FusionStudy(
        _modalities(X, ("m0", "m1")),
        strategies=["early:linear", "unimodal:m1"],
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert list(study.strategies_) == ["early:linear", "unimodal:m1"]
    assert study.strategy_kinds_ == {"early:linear": "early", "unimodal:m1": "unimodal"}
    with pytest.raises(ValueError, match="Unknown default strategies \\['late:max'\\]"):
        FusionStudy(_modalities(X), strategies=["late:max"], cv=2).fit(X, y)


class _FailingLearningExtractor(_LearningCountingExtractor):
    """Fails on the item 50 (a corrupt file, say)."""

    def _featurize(self, loaded):
        if loaded == 50:
            raise ValueError("corrupt input")
        return super()._featurize(loaded)


def test_a_fold_extraction_error_names_the_table_row_not_the_fold_position():
    study, table, y = _number_study(90, _FailingLearningExtractor())
    table.index = table.index + 1000  # the row labels are the table's own
    with pytest.raises(ValueError) as error:
        study.fit(table, y)
    message = str(error.value)
    assert "_FailingLearningExtractor cannot read row 1050 (float)" in message
    assert "counted within the fold" not in message
    assert "np." not in message


class _ArrayFed(TransformerMixin, BaseEstimator):
    """Hands its extractor the column as a bare array, without the table's index."""

    def __init__(self, extractor=None):
        self.extractor = extractor

    def fit(self, X, y=None):
        self.extractor_ = clone(self.extractor).fit(np.asarray(X).ravel())
        return self

    def transform(self, X):
        return self.extractor_.transform(np.asarray(X).ravel())

    def get_feature_names_out(self, input_features=None):
        return self.extractor_.get_feature_names_out()


def test_a_fold_position_from_an_array_fed_extractor_is_translated():
    study, table, y = _number_study(90, _ArrayFed(_FailingLearningExtractor()))
    with pytest.raises(ValueError, match="row \\d+ is table row 50\\)"):
        study.fit(table, y)


def test_pos_label_sets_the_positive_class_of_every_probability_view():
    X, y = _table(120)
    labels = np.where(y == 1, "sick", "healthy")  # "sick" > "healthy": default
    params = {"strategies": _fast_strategies(), "cv": 3, "random_state": 0}
    default = FusionStudy(_modalities(X), scoring=["roc_auc", "f1"], **params)
    default.fit(X, labels)
    assert default.pos_label_ == "sick"
    flipped = FusionStudy(
        _modalities(X), scoring=["roc_auc", "f1"], pos_label="healthy", **params
    ).fit(X, labels)
    assert flipped.pos_label_ == "healthy"
    # Symmetric: ROC AUC, DeLong, Brier. Not symmetric: F1 and calibration.
    for column in ("roc_auc_mean", "brier"):
        assert_allclose(flipped.summary_[column], default.summary_[column])
    assert_allclose(
        flipped.comparison_["delong_p_value"].astype(float),
        default.comparison_["delong_p_value"].astype(float),
    )
    assert not np.allclose(flipped.summary_["f1_mean"], default.summary_["f1_mean"])
    # P(healthy) = 1 - P(sick): the reliability bins come in reverse order.
    healthy = flipped.calibration_["early"]
    sick = default.calibration_["early"]
    assert healthy["count"].tolist() == sick["count"].tolist()[::-1]
    assert_allclose(
        healthy["mean_predicted"].dropna().to_numpy(),
        1 - sick["mean_predicted"].dropna().to_numpy()[::-1],
    )
    with pytest.raises(ValueError, match="pos_label='ill' is not a class"):
        FusionStudy(_modalities(X), pos_label="ill", **params).fit(X, labels)


def test_pooled_metrics_with_subject_bootstrap_intervals(fitted_study):
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    study, _, y, groups = fitted_study
    summary = study.summary_
    y = np.asarray(y)
    for name in study.strategies_:
        proba = study.oof_proba_[name][:, :, 1]
        labels = study.oof_predictions_[name]
        # Computed like the fold scores, on all rows at once, mean over repeats.
        assert summary.loc[name, "roc_auc_pooled"] == pytest.approx(
            np.mean([roc_auc_score(y, p) for p in proba])
        )
        assert summary.loc[name, "balanced_accuracy_pooled"] == pytest.approx(
            np.mean([balanced_accuracy_score(y, p) for p in labels])
        )
        called = proba >= 0.5
        assert summary.loc[name, "sensitivity"] == pytest.approx(
            called[:, y == 1].mean()
        )
        assert summary.loc[name, "specificity"] == pytest.approx(
            (~called[:, y == 0]).mean()
        )
        for column in [*(f"{m}_pooled" for m in study.metrics_), "sensitivity"]:
            stem = column.removesuffix("_pooled")
            low = summary.loc[name, f"{stem}_boot_low"]
            high = summary.loc[name, f"{stem}_boot_high"]
            assert low <= summary.loc[name, column] <= high
            assert low < high
    assert study.threshold_ is None  # the rates are at each strategy's own labels
    assert study.bootstrap_["n_resamples"] == 1000
    # The fixture's rows come in groups of three: whole groups are resampled.
    assert study.bootstrap_["resampled"] == "groups"
    assert study.bootstrap_["n_resampled"] == len(np.unique(groups))
    # Seeded from random_state: the same seed gives the same intervals.
    seed = study.bootstrap_["random_state"]
    assert seed == study.fold_seeds_[0]
    again = pooled_metrics(study._results(), y, groups, seed)
    other = pooled_metrics(study._results(), y, groups, seed + 1)
    for name in study.strategies_:
        assert again[name, "roc_auc"] == (
            summary.loc[name, "roc_auc_pooled"],
            summary.loc[name, "roc_auc_boot_low"],
            summary.loc[name, "roc_auc_boot_high"],
        )
        assert other[name, "roc_auc"][1:] != again[name, "roc_auc"][1:]


def test_a_single_split_study_reports_what_one_split_allows(tmp_path):
    from sklearn.model_selection import PredefinedSplit

    X, y = _table(120)
    test_fold = np.where(np.arange(len(y)) % 3 == 0, 0, -1)  # 40 test rows
    study = FusionStudy(
        _modalities(X),
        strategies=_fast_strategies(),
        cv=PredefinedSplit(test_fold),
        random_state=0,
    ).fit(X, y)
    assert len(study.splits_) == 1
    comparison = study.comparison_
    assert comparison["p_value"].isna().all()
    assert comparison["t_statistic"].isna().all()
    others = comparison.index != study.best_unimodal_
    assert comparison.loc[others, "delong_p_value"].notna().all()
    summary = study.summary_
    assert summary["roc_auc_ci_low"].isna().all()
    assert summary["roc_auc_std"].isna().all()
    present = [
        "roc_auc_mean",
        "roc_auc_pooled",
        "roc_auc_boot_low",
        "roc_auc_boot_high",
        "sensitivity",
        "specificity",
        "brier",
    ]
    assert summary[present].notna().all().all()
    assert study.bootstrap_["n_resampled"] == 40
    # One split: the pooled metric is the score of the test set.
    assert_allclose(summary["roc_auc_pooled"], summary["roc_auc_mean"])
    assert any("single train/test split" in note for note in study.notes_)
    assert study.contributions_["shapley"].notna().all()
    # The rows only ever trained on are no availability pattern of their own.
    assert (
        study.availability_scores_.groupby("strategy")["n_samples"].sum().eq(40).all()
    )
    folder = study.report(tmp_path)
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "single train/test split" in markdown
    results = pd.read_csv(folder / "results.csv", index_col="strategy")
    assert results["p_value"].isna().all()
    assert results["roc_auc_boot_low"].notna().all()


def test_a_grouped_study_bootstraps_whole_groups(fitted_study):
    study, _, _, groups = fitted_study
    assert study.bootstrap_["resampled"] == "groups"
    metric = study.primary_metric_
    for strategy in study.strategies_:
        row = study.summary_.loc[strategy]
        low, high = row[f"{metric}_boot_low"], row[f"{metric}_boot_high"]
        assert low <= row[f"{metric}_pooled"] <= high


class _SlowFitClassifier(DelegatingClassifier):
    """Logistic regression whose fit takes at least ``delay`` seconds."""

    def __init__(self, delay=0.05):
        self.delay = delay

    def fit(self, X, y):
        import time

        time.sleep(self.delay)
        return self._fitted(_scaled_logistic().fit(X, y))


def test_timings_and_fit_times_measure_the_stages(tmp_path):
    X, y = _table()
    strategies = {**_fast_strategies(), "slow": _SlowFitClassifier(delay=0.05)}
    study = FusionStudy(
        _modalities(X), strategies=strategies, cv=3, random_state=0
    ).fit(X, y)
    stages = ["extraction", "cross-validation", "statistics", "contributions", "refit"]
    assert list(study.timings_) == [*stages, "total"]
    assert all(study.timings_[stage] >= 0 for stage in stages)
    assert study.timings_["total"] == pytest.approx(
        sum(study.timings_[stage] for stage in stages)
    )
    # The fit time is the fit alone, per fold: the slow strategy's sleep.
    assert study.summary_.loc["slow", "fit_time"] >= 0.05
    assert study.summary_.loc["slow", "fit_time"] < study.timings_["cross-validation"]
    fit_total = study.fold_scores_.drop_duplicates(["strategy", "fold"])["fit_time"]
    assert fit_total.sum() <= study.timings_["cross-validation"]
    report = (study.report(tmp_path) / "report.md").read_text()
    assert "## Time" in report
    assert "| cross-validation |" in report


class _LegacyLearningExtractor(_CountingExtractor):
    """Declares the former private name, as a user's extractor may."""

    _learns_from_data = True


def test_the_former_learns_from_data_name_is_honoured_with_a_warning():
    from skfusion.study._runner import learns_from_data

    with pytest.warns(FutureWarning, match="_learns_from_data, the former name"):
        assert learns_from_data(_LegacyLearningExtractor())
    assert not learns_from_data(_CountingExtractor())
    assert learns_from_data(BlockScaler())
