"""Two choices behind the default strategies, measured.

(a) Wide blocks: on ``bench_defaults``' imbalanced synthetic table (a
    300-column weak image-like block), the tuned linear model and deep concat
    fusion with the image block kept whole or reduced by a fold-fitted PCA to
    20, 60 or 120 components.
(b) Deep fusion: settings around the default deep-fusion strategy
    (class-weighted loss, AdamW weight decay 1e-2, patience 15) on the same
    synthetic table and on DrugLib.
(c) Deep architecture (``--architecture``): the MLP encoders' depth (one
    rectified layer, or a hidden layer and a linear embedding) and the
    dropout, with the study's deep options, for concat and attention
    fusion, on every dataset of ``bench_defaults`` (COVID X-rays when
    ../shared is present, spoken + written digits, DrugLib, the synthetic
    table), with the fit time of each.

Scores: 3 stratified shuffled folds (seed 0; grouped by patient on the
COVID table), balanced accuracy on the synthetic table and the digits, ROC
AUC on DrugLib and COVID. Run as
``OMP_NUM_THREADS=1 python -m benchmarks.bench_defaults_choices`` for (a)
and (b), with ``--architecture`` for (c).
"""

import argparse
import tempfile
import time

import numpy as np
from joblib import Memory
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.model_selection import (
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.compose import make_modality_transformer
from skfusion.study import inner_cv
from skfusion.study._strategies import (
    DEEP_PATIENCE,
    DEEP_WEIGHT_DECAY,
    _linear,
)

from .bench_defaults import av_digits, covid, druglib, synthetic

CV = StratifiedKFold(3, shuffle=True, random_state=0)
DEEP_SETTINGS = {
    "default": {},
    "weight decay 0.1": {"optimizer__weight_decay": 0.1},
    "dropout 0.3": {"dropout": 0.3},
    "validation fraction 0.2": {"validation_fraction": 0.2},
    "half the widths": {"embed_dim": 16, "hidden_dim": 32},
    "lr 3e-3": {"lr": 3e-3},
}


def _deep(**settings):
    from skfusion.deep import DeepFusionClassifier

    params = {
        "class_weight": "balanced",
        "optimizer__weight_decay": DEEP_WEIGHT_DECAY,
        "n_iter_no_change": DEEP_PATIENCE,
        "random_state": 0,
    }
    return DeepFusionClassifier(**{**params, **settings})


def _blocks(modalities, n_components):
    (clinical, _, clinical_columns), (image, _, image_columns) = modalities
    image_step = StandardScaler()
    if n_components is not None:
        image_step = make_pipeline(StandardScaler(), PCA(n_components, random_state=0))
    steps = [
        (clinical, StandardScaler(), clinical_columns),
        (image, image_step, image_columns),
    ]
    return ColumnTransformer(steps).set_output(transform="pandas")


def wide_blocks():
    table, y, _, modalities = synthetic()
    inner = inner_cv(classification=True, grouped=False, random_state=0)
    linear = _linear(True, "balanced", inner)
    print("image block       linear  deep concat")
    for n_components in (None, 20, 60, 120):
        scores = [
            cross_val_score(
                make_pipeline(_blocks(modalities, n_components), model),
                table,
                y,
                cv=CV,
                scoring="balanced_accuracy",
            ).mean()
            for model in (linear, _deep())
        ]
        label = "kept whole" if n_components is None else f"PCA {n_components}"
        print(f"{label:<17} {scores[0]:.3f}   {scores[1]:.3f}")


def deep_settings():
    for load, metric in ((synthetic, "balanced_accuracy"), (druglib, "roc_auc")):
        table, y, _, modalities = load()
        for name, settings in DEEP_SETTINGS.items():
            start = time.perf_counter()
            model = make_pipeline(
                make_modality_transformer(*modalities), _deep(**settings)
            )
            score = cross_val_score(model, table, y, cv=CV, scoring=metric).mean()
            print(
                f"{load.__name__:<10} {name:<24} {metric} {score:.3f} "
                f"({time.perf_counter() - start:.0f} s)"
            )


ARCHITECTURES = {
    "2 layers, dropout 0.1": {"n_layers": 2, "dropout": 0.1},
    "2 layers, dropout 0": {"n_layers": 2, "dropout": 0.0},
    "1 layer, dropout 0.1": {"n_layers": 1, "dropout": 0.1},
    "1 layer, dropout 0": {"n_layers": 1, "dropout": 0.0},
}
ARCHITECTURE_DATA = (
    (covid, "roc_auc"),
    (av_digits, "balanced_accuracy"),
    (druglib, "roc_auc"),
    (synthetic, "balanced_accuracy"),
)


def architectures():
    """Encoder depth and dropout on every dataset: mean score and fit time."""
    with tempfile.TemporaryDirectory() as cache:
        # The modality transformers of a fold are fitted once, for every row.
        memory = Memory(cache, verbose=0)
        for load, metric in ARCHITECTURE_DATA:
            data = load()
            if data is None:
                print(f"{load.__name__:<10} skipped (no ../shared data)")
                continue
            table, y, groups, modalities = data
            if groups is None:
                folds = list(CV.split(table, y))
            else:
                cv = StratifiedGroupKFold(3, shuffle=True, random_state=0)
                folds = list(cv.split(table, y, groups))
            names = [name for name, _, _ in modalities]
            for fusion in ("concat", "attention"):
                for label, settings in ARCHITECTURES.items():
                    depth = {"n_layers": settings["n_layers"]}
                    deep = _deep(
                        fusion=fusion,
                        dropout=settings["dropout"],
                        encoders=dict.fromkeys(names, ("mlp", depth)),
                    )
                    model = make_pipeline(
                        make_modality_transformer(*modalities), deep, memory=memory
                    )
                    result = cross_validate(model, table, y, cv=folds, scoring=metric)
                    print(
                        f"{load.__name__:<10} {fusion:<9} {label:<22} {metric} "
                        f"{result['test_score'].mean():.3f} "
                        f"(folds {np.round(result['test_score'], 3).tolist()}, "
                        f"fit {np.mean(result['fit_time']):.1f} s)",
                        flush=True,
                    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--architecture",
        action="store_true",
        help="measure the deep encoders' depth and dropout (c) instead",
    )
    args = parser.parse_args(argv or [])
    if args.architecture:
        architectures()
        return
    wide_blocks()
    deep_settings()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
