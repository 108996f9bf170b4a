"""FusionStudy's refitted pipelines and the external validation of a cohort."""

import importlib.util
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline

from skfusion.compose import make_modality_transformer
from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import BlockScaler, LateFusionClassifier
from skfusion.study import ExternalValidation, FusionStudy, delong_test

CHEST_XRAYS = Path(__file__).resolve().parents[2] / "shared/data/covid_chestxray"


def _table(n_samples=240, random_state=0):
    X, y = make_multimodal_classification(
        n_samples,
        modality_sizes=(3, 3),
        informativeness=(2.0, 1.0),
        missing_rate=0.2,
        random_state=random_state,
    )
    return X, y


def _modalities(X):
    return [
        (name, "passthrough", [c for c in X.columns if c.startswith(f"{name}__")])
        for name in ("m0", "m1")
    ]


def _strategies():
    scaled = make_pipeline(BlockScaler(), LogisticRegression())
    return {
        "unimodal:m0": (clone(scaled), ["m0"]),
        "unimodal:m1": (clone(scaled), ["m1"]),
        "early": clone(scaled),
        "late": LateFusionClassifier(random_state=0),
    }


def _study(refit, **params):
    X, y = _table()
    study = FusionStudy(
        _modalities(X),
        strategies=_strategies(),
        cv=3,
        random_state=0,
        contributions=None,
        refit=refit,
        **params,
    )
    return study, X, y


@pytest.fixture(scope="module")
def refitted():
    study, X, y = _study("best")
    train, cohort = np.arange(160), np.arange(160, 240)
    study.fit(X.iloc[train], y.iloc[train])
    return study, X.iloc[cohort], y.iloc[cohort]


def test_best_estimator_is_a_pipeline_from_the_table(refitted):
    study, cohort, _ = refitted
    scores = study.summary_[f"{study.primary_metric_}_mean"]
    assert study.best_strategy_ == scores.idxmax()
    model = study.best_estimator_
    assert isinstance(model, Pipeline)
    assert list(model.named_steps) == ["extract", "model"]
    assert model is study.estimators_[study.best_strategy_]
    # The reference is refitted too, for the comparison of a cohort.
    assert set(study.estimators_) == {study.best_strategy_, study.best_unimodal_}

    # The same as building the pipeline by hand and fitting it on the rows.
    X, y = _table()
    name = study.best_strategy_
    seen = study.strategy_modalities_[name]
    by_hand = Pipeline(
        [
            (
                "extract",
                make_modality_transformer(
                    *[m for m in _modalities(X) if m[0] in seen]
                ).set_output(transform="pandas"),
            ),
            ("model", clone(study.strategies_[name])),
        ]
    ).fit(X.iloc[:160], y.iloc[:160])
    assert_allclose(model.predict_proba(cohort), by_hand.predict_proba(cohort))
    assert_array_equal(model.predict(cohort), by_hand.predict(cohort))


def test_refit_true_refits_every_strategy_sharing_extraction():
    study, X, y = _study(True)
    study.fit(X, y)
    assert list(study.estimators_) == list(study.strategies_)
    extract = {name: p.named_steps["extract"] for name, p in study.estimators_.items()}
    # Strategies that see the same modalities share one fitted extraction.
    assert extract["early"] is extract["late"]
    assert extract["early"] is not extract["unimodal:m0"]
    assert study.timings_["refit"] >= 0


def test_refit_by_name_and_list():
    study, X, y = _study(["late"])
    study.fit(X, y)
    assert study.best_strategy_ == "late"
    assert set(study.estimators_) == {"late", study.best_unimodal_}


def test_refit_false_refits_nothing():
    study, X, y = _study(False)
    study.fit(X, y)
    assert study.estimators_ == {}
    assert not hasattr(study, "best_estimator_")
    assert study.best_strategy_ in study.strategies_
    with pytest.raises(ValueError, match="refit='best'"):
        study.evaluate(X, y)


def test_an_unknown_refit_name_is_refused_before_the_folds_run():
    study, X, y = _study("nope")
    with pytest.raises(ValueError, match=r"refit='nope' names no strategy.*'early'"):
        study.fit(X, y)


def test_evaluate_scores_the_cohort_like_the_metrics_do(refitted):
    study, cohort, y_cohort = refitted
    external = study.evaluate(cohort, y_cohort)
    assert isinstance(external, ExternalValidation)
    assert study.external_ is external
    assert list(external.summary.index) == list(study.estimators_)
    assert external.n_samples == len(cohort)
    positive = study.pos_label_
    y = y_cohort.to_numpy()
    for name, model in study.estimators_.items():
        proba = model.predict_proba(cohort)[:, list(model.classes_).index(positive)]
        row = external.summary.loc[name]
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y == positive, proba))
        assert row["balanced_accuracy"] == pytest.approx(
            balanced_accuracy_score(y, model.predict(cohort))
        )
        assert row["roc_auc_boot_low"] <= row["roc_auc"] <= row["roc_auc_boot_high"]
        assert_allclose(external.proba[name], model.predict_proba(cohort))
    # DeLong's test against the reference, on the cohort.
    other = next(n for n in study.estimators_ if n != study.best_unimodal_)
    scores = {
        name: study.estimators_[name].predict_proba(cohort)[:, 1]
        for name in (other, study.best_unimodal_)
    }
    result = delong_test(
        (y == positive).astype(int), scores[other], scores[study.best_unimodal_]
    )
    assert external.comparison.loc[other, "delong_p_value"] == pytest.approx(
        result.pvalue
    )
    assert external.comparison.loc[other, "difference"] == pytest.approx(
        external.summary.loc[other, "roc_auc"]
        - external.summary.loc[study.best_unimodal_, "roc_auc"]
    )
    # Availability read from the extracted blocks: a row without m1 is one
    # whose m1 columns are all NaN.
    m1 = [c for c in cohort.columns if c.startswith("m1__")]
    assert_array_equal(
        external.availability["m1"].to_numpy(), cohort[m1].notna().any(axis=1)
    )
    patterns = set(external.availability_scores["pattern"])
    assert patterns <= {"m0+m1", "m0", "m1", "none"}
    assert set(external.calibration) == set(study.estimators_)


def test_evaluate_resamples_groups_and_the_report_shows_it(refitted, tmp_path):
    study, cohort, y_cohort = refitted
    groups = np.arange(len(cohort)) // 2
    external = study.evaluate(cohort, y_cohort, groups=groups)
    assert external.bootstrap["resampled"] == "groups"
    assert external.bootstrap["n_resampled"] == len(np.unique(groups))
    folder = study.report(tmp_path / "report")
    text = (folder / "report.md").read_text()
    assert "## External validation" in text
    assert (
        f"external cohort of {len(cohort)} rows ({len(np.unique(groups))} groups)"
        in (text)
    )
    results = pd.read_csv(folder / "external.csv", index_col="strategy")
    assert list(results.index) == list(study.estimators_)
    assert "delong_p_value" in results.columns
    assert "External validation" in (folder / "report.html").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["external"]["n_samples"] == len(cohort)
    assert manifest["external"]["data_hash"] == external.data_hash
    assert manifest["refitted"] == list(study.estimators_)


def test_evaluate_names_bad_cohorts(refitted):
    study, cohort, y_cohort = refitted
    labels = y_cohort.to_numpy().copy()
    labels[3] = 7
    with pytest.raises(ValueError, match=r"labels the study never saw: \[7\]"):
        study.evaluate(cohort, labels)
    with pytest.raises(ValueError, match="one value per table row"):
        study.evaluate(cohort, labels[:-1])
    with pytest.raises(ValueError, match="Modality 'm1' needs column 'm1__x0'"):
        study.evaluate(cohort.drop(columns="m1__x0"), y_cohort)


def test_a_refitted_study_pickles_with_its_pipelines(refitted):
    study, cohort, y_cohort = refitted
    loaded = pickle.loads(pickle.dumps(study))
    assert_allclose(
        loaded.best_estimator_.predict_proba(cohort),
        study.best_estimator_.predict_proba(cohort),
    )
    external = loaded.evaluate(cohort, y_cohort)
    assert_allclose(
        external.summary["roc_auc"], study.evaluate(cohort, y_cohort).summary["roc_auc"]
    )


@pytest.mark.slow
@pytest.mark.skipif(not CHEST_XRAYS.is_dir(), reason="../shared/data is absent")
def test_covid_xray_study_refits_and_validates_on_held_apart_patients(tmp_path):
    pytest.importorskip("skimage")
    from skfusion.study import default_modality_transformer

    metadata = pd.read_csv(CHEST_XRAYS / "metadata.csv")
    xrays = metadata[
        (metadata["modality"] == "X-ray") & (metadata["finding"] != "todo")
    ].copy()
    images = CHEST_XRAYS / "images"
    xrays["image"] = [n if (images / n).is_file() else None for n in xrays["filename"]]
    xrays["covid"] = xrays["finding"].str.contains("COVID-19").astype(int)
    xrays = xrays.groupby("covid").head(60).reset_index(drop=True)
    patients = xrays["patientid"].to_numpy()
    held_apart = np.isin(patients, np.unique(patients)[::5])
    table, cohort = xrays[~held_apart], xrays[held_apart]
    clinical = ["age", "sex", "view"]
    modalities = [
        (
            "clinical",
            default_modality_transformer("tabular", table, clinical),
            clinical,
        ),
        (
            "xray",
            default_modality_transformer(
                "image", image_encoder="classical", root=images
            ),
            "image",
        ),
    ]
    study = FusionStudy(
        modalities,
        strategies=["unimodal:clinical", "unimodal:xray", "early:linear", "late:mean"],
        cv=3,
        random_state=0,
        contributions=None,
        refit="best",
    ).fit(table, table["covid"], groups=table["patientid"])
    # New patients, one without an X-ray: the pipeline extracts and predicts.
    new_rows = cohort.head(10).copy()
    new_rows.iloc[0, new_rows.columns.get_loc("image")] = None
    expected = study.best_estimator_.predict_proba(new_rows)
    assert expected.shape == (10, 2)
    assert_allclose(
        pickle.loads(pickle.dumps(study.best_estimator_)).predict_proba(new_rows),
        expected,
    )
    if importlib.util.find_spec("skops") is not None:
        from skfusion import persist

        path = tmp_path / "model.skops"
        persist.dump(study.best_estimator_, path)
        assert set(persist.untrusted_types(path)) <= set(persist.TRUSTED_TYPES)
        assert_allclose(persist.load(path).predict_proba(new_rows), expected)
    external = study.evaluate(cohort, cohort["covid"], groups=cohort["patientid"])
    assert set(external.summary.index) == set(study.estimators_)
    assert external.bootstrap["resampled"] == "groups"
    text = (study.report(tmp_path / "report") / "report.md").read_text()
    assert "## External validation" in text
