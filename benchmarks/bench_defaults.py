"""The default study against a careful hand-written reference, on every dataset.

For each dataset the default ``FusionStudy`` (every default strategy, 3
folds, grouped when the data have groups, ``random_state=0``, no
contributions) runs, and on the study's own folds a reference is
cross-validated with scikit-learn alone: the same modality transformers, the
blocks standardised and concatenated (``BlockScaler``), and a class-balanced
``LogisticRegressionCV`` whose ``C`` is chosen by an inner 3-fold CV on the
training rows (grouped when the data have groups, through metadata routing;
the study's own inner folds when its defaults have them, else seeded folds).
The reference is the scikit-learn script a biostatistician would write.

Datasets: the COVID-19 chest X-ray table (clinical + X-ray + notes, binary,
patient groups; from ../shared/data, skipped when absent), the bundled spoken
+ written digits (audio + image, 10 classes), the bundled DrugLib reviews
(tabular + review text, binary, a quarter positive; 1,500 rows), and a
synthetic table with imbalanced classes (70/20/10) and a wide, weak
image-like block (300 columns) beside a small informative clinical block.

Printed per dataset: the primary metric (the study's first default metric)
of every strategy and of the reference, the best default strategy, the best
unimodal baseline, and whether the two bars hold: best default >= reference,
and some fusion strategy >= the best unimodal baseline. ``--json PATH``
writes the numbers.

Run as ``python -m benchmarks.bench_defaults`` (add ``--datasets NAME ...``
to pick some). Importable against an older skfusion too (the "before"
column of RESULTS.md): it relies only on ``FusionStudy``'s long-standing
parameters.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import get_scorer
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skfusion.compose import make_modality_transformer
from skfusion.datasets import load_av_digits, make_multimodal_classification
from skfusion.fusion import BlockScaler
from skfusion.study import FusionStudy

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CV = 3
SEED = 0


def covid():
    data = SHARED / "covid_chestxray"
    if not data.is_dir():
        return None
    from skfusion.extractors import ImageFeatures

    metadata = pd.read_csv(data / "metadata.csv")
    table = metadata[
        (metadata["modality"] == "X-ray") & (metadata["finding"] != "todo")
    ].reset_index(drop=True)
    images = data / "images"
    table["image"] = [
        name if (images / name).is_file() else None for name in table["filename"]
    ]
    table["notes"] = table["clinical_notes"].fillna("")
    table["sex"] = table["sex"].fillna("unknown")
    table["view"] = table["view"].fillna("unknown")
    y = table["finding"].str.contains("COVID-19").map({True: 1, False: 0})
    clinical = ColumnTransformer(
        [
            ("age", "passthrough", ["age"]),
            (
                "categories",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ["sex", "view"],
            ),
        ]
    )
    notes = make_pipeline(
        TfidfVectorizer(min_df=2, sublinear_tf=True), TruncatedSVD(20, random_state=0)
    )
    modalities = [
        ("clinical", clinical, ["age", "sex", "view"]),
        ("xray", ImageFeatures(size=(64, 64), root=images), "image"),
        ("notes", notes, "notes"),
    ]
    return table, y.to_numpy(), table["patientid"].to_numpy(), modalities


def av_digits():
    from skfusion.extractors import AudioFeatures, ImageFeatures

    bunch = load_av_digits()
    modalities = [
        ("audio", AudioFeatures(), "audio"),
        ("image", ImageFeatures(), "image"),
    ]
    return bunch.data[["audio", "image"]], bunch.target.to_numpy(), None, modalities


def druglib():
    from skfusion.cli import _druglib_study

    table, target, modalities = _druglib_study(SEED, 1500)
    return table, target.to_numpy(), None, modalities


def synthetic():
    # 3 balanced classes, then subsampled to 70/20/10.
    X, y = make_multimodal_classification(
        1800,
        modality_sizes=(5, 300),
        informativeness=(1.5, 2.5),
        n_classes=3,
        modality_names=["clinical", "image"],
        random_state=SEED,
    )
    rng = np.random.default_rng(SEED)
    keep = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == label), size, replace=False)
            for label, size in zip((0, 1, 2), (420, 120, 60), strict=True)
        ]
    )
    X, y = X.iloc[np.sort(keep)].reset_index(drop=True), y.to_numpy()[np.sort(keep)]
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    modalities = [
        (name, "passthrough", [c for c in table.columns if c.startswith(f"{name}_")])
        for name in ("clinical", "image")
    ]
    return table, y, None, modalities


DATASETS = {
    "covid_chestxray": covid,
    "av_digits": av_digits,
    "druglib": druglib,
    "synthetic_imbalanced": synthetic,
}


def reference_scores(study, table, y, groups, modalities):
    """Class-balanced logistic regression, C by inner (grouped) CV, same folds."""
    inner = (
        StratifiedGroupKFold(3, shuffle=True, random_state=SEED)
        if groups is not None
        else StratifiedKFold(3, shuffle=True, random_state=SEED)
    )
    linear = study.strategies_.get("early:linear")
    # The model inside the default decision rule (PrevalenceDecisionClassifier).
    model = None if linear is None else getattr(linear[-1], "estimator", linear[-1])
    if model is not None and hasattr(model, "Cs"):
        # The same inner folds as the study's own tuned models: the reference
        # then differs from early:linear only by the availability indicators.
        inner = model.cv
    scorer = get_scorer(study.primary_metric_)
    scores = []
    for train, test in study.splits_:
        model = make_pipeline(
            make_modality_transformer(*modalities),
            BlockScaler(),
            LogisticRegressionCV(
                Cs=np.logspace(-4, 2, 7),
                l1_ratios=(0.0,),
                cv=inner,
                scoring="neg_log_loss",
                class_weight="balanced",
                max_iter=2000,
                use_legacy_attributes=False,
            ),
        )
        fit_params = {} if groups is None else {"groups": groups[train]}
        with sklearn.config_context(enable_metadata_routing=True):
            model.fit(table.iloc[train], y[train], **fit_params)
        scores.append(scorer(model, table.iloc[test], y[test]))
    return float(np.mean(scores))


def run(name):
    loaded = DATASETS[name]()
    if loaded is None:
        print(f"{name}: data not present, skipped")
        return None
    table, y, groups, modalities = loaded
    start = time.perf_counter()
    study = FusionStudy(modalities, cv=CV, contributions=None, random_state=SEED)
    study.fit(table, y, groups=groups)
    study_time = time.perf_counter() - start
    metric = study.primary_metric_
    scores = study.summary_[f"{metric}_mean"].astype(float)
    reference = reference_scores(study, table, y, groups, modalities)
    unimodal = scores[[s for s in scores.index if s.startswith("unimodal:")]]
    fusion = scores.drop(unimodal.index)
    best = scores.idxmax()
    result = {
        "dataset": name,
        "rows": len(table),
        "metric": metric,
        "scores": scores.round(4).to_dict(),
        "reference": round(reference, 4),
        "best_default": best,
        "best_unimodal": unimodal.idxmax(),
        "best_default_ge_reference": bool(scores[best] >= reference - 1e-12),
        "fusion_ge_best_unimodal": bool(fusion.max() >= unimodal.max()),
        "study_seconds": round(study_time, 1),
    }
    print(f"{name}: {len(table)} rows, {metric}, study {study_time:.0f} s")
    for strategy, score in scores.items():
        print(f"  {strategy:<22} {score:.3f}")
    print(f"  {'reference':<22} {reference:.3f}")
    print(
        f"  best default {best} {scores[best]:.3f} >= reference {reference:.3f}: "
        f"{result['best_default_ge_reference']}; some fusion >= best unimodal "
        f"({unimodal.idxmax()} {unimodal.max():.3f}): "
        f"{result['fusion_ge_best_unimodal']}"
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv if argv is not None else [])
    results = [r for r in map(run, args.datasets) if r is not None]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
