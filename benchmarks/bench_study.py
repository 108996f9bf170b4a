"""FusionStudy against the cross-validation loop a user writes by hand.

On the bundled spoken + written digits (``load_av_digits()``: 600 rows; audio
-> ``AudioFeatures()``, image -> ``ImageFeatures()``, both with their
defaults) five strategies are cross-validated on the same five folds:
``unimodal:audio``, ``unimodal:image`` (``BlockScaler`` + logistic regression
on one modality), ``early:linear`` (``BlockScaler(add_indicator=True)`` +
logistic regression), ``late:mean`` and ``late:stacking``
(``LateFusionClassifier``).

(a) ``FusionStudy(modalities, strategies, cv=5, random_state=0,
    contributions=None).fit(table, y)``.
(b) The naive equivalent: for each strategy,
    ``cross_validate(Pipeline([("extract", make_modality_transformer(...)),
    ("model", estimator)]), table, y, cv=study.splits_,
    scoring=study.metrics_)``, which extracts the strategy's modalities again
    in every fold of every strategy.

Measured, in one process: the wall time of (a) and (b) and the ratio
(a) / (b), expected well below 1 (the extractors learn nothing from the data,
so the study extracts each modality once instead of once per strategy per
fold); the wall time of (a) with ``n_jobs=2``; and the largest absolute
difference between the fold scores of (a) and (b) over every strategy, fold
and metric, which must be <= 1e-9 (same folds, same models, same features).

``--realistic`` runs instead the default study (every default strategy,
modality contributions included) on a realistic synthetic table: 1,500 rows,
a 2,000-column image-like block and a 3-column clinical block, 7 imbalanced
classes (40/20/12/10/8/6/4 %), 3 folds, ``random_state=0``; printed: each
stage's seconds (``timings_``), each strategy's mean fit time per fold and
primary score. ``--n-jobs`` sets the study's ``n_jobs``.

``--image-study`` runs the default study as a dermoscopy study looks to it
(issue 25): 1,500 images of about 1,000 lesions (``groups``, 1-3 images per
lesion) in 7 classes at the frequencies of a skin-lesion archive
(67/11/10/5/3/2/2 %); an image modality made of a 1,280-column
embedding-like sub-block (``image__embedding__*``: a 48-dimensional latent
structure, partly class-dependent, through random non-negative loadings plus
noise, as a CNN's pooled features are) and a 40-column colour-statistics-like
sub-block (``image__statistics__*``), and a clinical block (age, sex, site).
3 grouped folds, no contributions (as ``--cv 3 --no-contributions``); printed:
the stage times, each strategy's primary score and mean fit time per fold.
"""

import argparse
import sys
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import Pipeline, make_pipeline

from skfusion.compose import make_modality_transformer
from skfusion.datasets import load_av_digits
from skfusion.extractors import AudioFeatures, ImageFeatures
from skfusion.fusion import BlockScaler, LateFusionClassifier
from skfusion.study import FusionStudy

TOLERANCE = 1e-9


def load_table():
    bunch = load_av_digits()
    return bunch.data[["audio", "image"]], bunch.target.to_numpy()


def modalities():
    return [
        ("audio", AudioFeatures(), "audio"),
        ("image", ImageFeatures(), "image"),
    ]


def strategies():
    def linear(**scaler):
        return make_pipeline(BlockScaler(**scaler), LogisticRegression(max_iter=2000))

    return {
        "unimodal:audio": (linear(), ["audio"]),
        "unimodal:image": (linear(), ["image"]),
        "early:linear": linear(add_indicator=True),
        "late:mean": LateFusionClassifier(combiner="mean", random_state=0),
        "late:stacking": LateFusionClassifier(combiner="stacking", random_state=0),
    }


def run_study(table, y, n_jobs=None):
    study = FusionStudy(
        modalities(),
        strategies=strategies(),
        cv=5,
        random_state=0,
        contributions=None,
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    study.fit(table, y)
    return time.perf_counter() - start, study


def run_naive(table, y, splits, metrics):
    """Per-fold scores of the hand-written loop, in fold_scores_'s layout."""
    names = [name for name, _, _ in modalities()]
    rows = []
    start = time.perf_counter()
    for name, spec in strategies().items():
        estimator, seen = spec if isinstance(spec, tuple) else (spec, names)
        pipeline = Pipeline(
            [
                (
                    "extract",
                    make_modality_transformer(
                        *[m for m in modalities() if m[0] in seen]
                    ),
                ),
                ("model", estimator),
            ]
        )
        scores = cross_validate(
            pipeline, table, y, cv=splits, scoring=metrics, error_score="raise"
        )
        for metric in metrics:
            for fold, score in enumerate(scores[f"test_{metric}"]):
                rows.append(
                    {"strategy": name, "fold": fold, "metric": metric, "score": score}
                )
    return time.perf_counter() - start, pd.DataFrame(rows)


def score_differences(study, naive):
    ours = study.fold_scores_.loc[
        study.fold_scores_["repeat"] == 0, ["strategy", "fold", "metric", "score"]
    ]
    both = ours.merge(
        naive, on=["strategy", "fold", "metric"], suffixes=("_study", "_naive")
    )
    if len(both) != len(ours) or len(both) != len(naive):
        raise RuntimeError("The study and the naive loop scored different folds.")
    both["abs_diff"] = (both["score_study"] - both["score_naive"]).abs()
    return both


def _warm_up(table):
    # Imports, numba compilation and the page cache, outside every timing.
    make_modality_transformer(*modalities()).fit_transform(table.iloc[:20])


def run(repeats=1):
    table, y = load_table()
    _warm_up(table)
    study_times, naive_times, parallel_times = [], [], []
    for _ in range(repeats):
        study_time, study = run_study(table, y)
        naive_time, naive = run_naive(table, y, study.splits_, study.metrics_)
        parallel_time, parallel = run_study(table, y, n_jobs=2)
        study_times.append(study_time)
        naive_times.append(naive_time)
        parallel_times.append(parallel_time)
    diffs = score_differences(study, naive)
    parallel_diff = float(
        (parallel.fold_scores_["score"] - study.fold_scores_["score"]).abs().max()
    )
    naive_best = min(naive_times)
    timings = pd.DataFrame(
        [
            {
                "run": "(a) FusionStudy, n_jobs=None",
                "wall_s": min(study_times),
            },
            {
                "run": "(b) cross_validate per strategy",
                "wall_s": naive_best,
            },
            {
                "run": "(a) FusionStudy, n_jobs=2",
                "wall_s": min(parallel_times),
            },
        ]
    )
    timings["ratio_to_b"] = timings["wall_s"] / naive_best
    return {
        "timings": timings,
        "diffs": diffs,
        "parallel_diff": parallel_diff,
        "summary": study.summary_,
        "fold_scores": study.fold_scores_[
            ["strategy", "repeat", "fold", "metric", "score"]
        ],
        "metrics": study.metrics_,
        "fit_time": study.fold_scores_.groupby("strategy", sort=False)["fit_time"]
        .sum()
        .div(len(study.metrics_)),
    }


def realistic_table():
    """The realistic synthetic study: wide weak image-like block, 7 classes."""
    from skfusion.datasets import make_multimodal_classification

    X, y = make_multimodal_classification(
        1500,
        modality_sizes=(3, 2000),
        informativeness=(1.5, 2.0),
        n_classes=7,
        weights=[0.4, 0.2, 0.12, 0.1, 0.08, 0.06, 0.04],
        modality_names=["clinical", "image"],
        random_state=0,
    )
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    modalities = [
        (name, "passthrough", [c for c in table.columns if c.startswith(f"{name}_")])
        for name in ("clinical", "image")
    ]
    return table, y.to_numpy(), modalities


def run_realistic(n_jobs=None):
    table, y, modalities = realistic_table()
    study = FusionStudy(modalities, cv=3, random_state=0, n_jobs=n_jobs)
    start = time.perf_counter()
    study.fit(table, y)
    wall = time.perf_counter() - start
    return wall, study


def main_realistic(args):
    wall, study = run_realistic(args.n_jobs)
    primary = study.primary_metric_
    print(f"default study, n_jobs={args.n_jobs}: {wall:.1f} s")
    # An skfusion from before timings_ (for a "before" run) has none.
    print(pd.Series(getattr(study, "timings_", {}), dtype=float).round(1).to_string())
    print()
    print(study.summary_[[f"{primary}_mean", "fit_time"]].round(3).to_string())
    scores = study.fold_scores_[["strategy", "repeat", "fold", "metric", "score"]]
    return {"wall_s": wall, "fold_scores": scores, "study": study}


def image_study_table(n_rows=1500, random_state=0):
    """The table of ``--image-study``: (table, y, groups, modalities)."""
    rng = np.random.default_rng(random_state)
    frequencies = np.array([0.67, 0.11, 0.10, 0.05, 0.03, 0.02, 0.02])
    n_classes = len(frequencies)
    # (class, number of images) of each lesion, drawn until n_rows images.
    lesions, rows = [], 0
    while rows < n_rows:
        images = min(1 + rng.poisson(0.5), 3, n_rows - rows)
        lesions.append((rng.choice(n_classes, p=frequencies), images))
        rows += images
    labels, counts = (np.array(values) for values in zip(*lesions, strict=True))
    groups = np.repeat(np.arange(len(lesions)), counts)
    y = np.repeat(labels, counts)
    n_lesions = len(lesions)

    # Embedding: 48 latent factors per lesion (8 of them shifted by class),
    # a little per-image jitter, non-negative random loadings, ReLU and noise.
    latent = rng.normal(size=(n_lesions, 48))
    lesion_y = y[np.unique(groups, return_index=True)[1]]
    latent[:, :8] += 0.9 * rng.normal(size=(n_classes, 8))[lesion_y]
    per_image = latent[groups] + 0.3 * rng.normal(size=(n_rows, 48))
    loadings = np.abs(rng.normal(size=(48, 1280))) / np.sqrt(48)
    embedding = np.maximum(per_image @ loadings - 0.5, 0.0)
    embedding += 0.5 * rng.exponential(size=embedding.shape)
    # Colour statistics: 6 latent colour factors (3 class-shifted), 40 columns.
    colour = rng.normal(size=(n_rows, 6))
    colour[:, :3] += 0.7 * rng.normal(size=(n_classes, 3))[y]
    statistics = colour @ rng.normal(size=(6, 40)) + rng.normal(size=(n_rows, 40))
    # Clinical: age and site depend weakly on the class, sex not at all.
    age = np.clip(rng.normal(50 + 4 * rng.normal(size=n_classes)[y], 15), 0, 90)
    site_logits = rng.normal(size=(n_classes, 5))
    site = [rng.choice(5, p=np.exp(row) / np.exp(row).sum()) for row in site_logits[y]]
    table = pd.DataFrame(
        {
            "age": age.round(),
            "sex": rng.choice(["F", "M"], size=n_rows),
            "site": [f"site{k}" for k in site],
        }
    )
    images = pd.DataFrame(
        np.hstack([embedding, statistics]),
        columns=[f"embedding__emb{i}" for i in range(1280)]
        + [f"statistics__s{i}" for i in range(40)],
    )
    table = pd.concat([table, images], axis=1)
    from skfusion.study import default_modality_transformer

    clinical = ["age", "sex", "site"]
    modalities = [
        (
            "clinical",
            default_modality_transformer("tabular", table, clinical),
            clinical,
        ),
        ("image", "passthrough", list(images.columns)),
    ]
    return table, y, groups, modalities


def main_image_study(args):
    table, y, groups, modalities = image_study_table()
    study = FusionStudy(
        modalities, cv=3, random_state=0, n_jobs=args.n_jobs, contributions=None
    )
    start = time.perf_counter()
    study.fit(table, y, groups=groups)
    wall = time.perf_counter() - start
    primary = study.primary_metric_
    print(f"image study, n_jobs={args.n_jobs}: {wall:.1f} s")
    print(pd.Series(study.timings_, dtype=float).round(1).to_string())
    print()
    summary = study.summary_[[f"{primary}_mean", f"{primary}_std", "fit_time"]]
    print(summary.round(3).to_string())
    scores = study.fold_scores_[["strategy", "repeat", "fold", "metric", "score"]]
    return {"wall_s": wall, "fold_scores": scores, "study": study}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs of each side; best is kept"
    )
    parser.add_argument(
        "--save-scores",
        metavar="CSV",
        help="write the study's fold scores here (full precision), to compare runs",
    )
    parser.add_argument(
        "--compare",
        metavar="CSV",
        help="fold scores of an earlier run (--save-scores): print the largest "
        "difference and fail unless they are identical",
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="the default study on the realistic synthetic table instead",
    )
    parser.add_argument(
        "--image-study",
        action="store_true",
        help="the default study on the dermoscopy-like table instead",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="with --realistic or --image-study"
    )
    args = parser.parse_args(argv or [])
    if args.image_study:
        results = main_image_study(args)
        _save_and_compare(results["fold_scores"], args)
        return results
    if args.realistic:
        results = main_realistic(args)
        _save_and_compare(results["fold_scores"], args)
        return results
    results = run(args.repeats)
    scores = results["fold_scores"]
    timings, diffs = results["timings"], results["diffs"]
    with pd.option_context("display.width", 160):
        print(timings.round(3).to_string(index=False))
        print()
        per = diffs.groupby(["strategy", "metric"], sort=False)["abs_diff"].max()
        print("max |study - naive| per strategy and metric:")
        print(per.unstack("metric").to_string(float_format="{:.2e}".format))
        print()
        columns = [f"{m}_mean" for m in results["metrics"]]
        summary = results["summary"][columns].copy()
        summary["model_fit_s_total"] = results["fit_time"]
        print(summary.round(3).to_string())
    worst = float(diffs["abs_diff"].max())
    print()
    print(
        f"ratio (a)/(b) = {timings['ratio_to_b'].iloc[0]:.3f}; n_jobs=2 speed-up "
        f"{timings['wall_s'].iloc[0] / timings['wall_s'].iloc[2]:.2f}x; "
        f"max |fold score difference| = {worst:.2e} over {len(diffs)} scores "
        f"(tolerance {TOLERANCE:g}); n_jobs=2 vs n_jobs=None "
        f"{results['parallel_diff']:.2e}"
    )
    if not np.isfinite(worst) or worst > TOLERANCE:
        print("MISMATCH: the study's fold scores differ from the naive loop's.")
    _save_and_compare(scores, args)
    return results


def _save_and_compare(scores, args):
    """Write the fold scores (``--save-scores``) and compare (``--compare``)."""
    if args.save_scores:
        scores.to_csv(args.save_scores, index=False, float_format="%.17g")
    if args.compare:
        keys = ["strategy", "repeat", "fold", "metric"]
        earlier = pd.read_csv(args.compare)
        both = scores.merge(earlier, on=keys, suffixes=("", "_earlier"))
        if len(both) != len(scores) or len(both) != len(earlier):
            raise SystemExit(f"{args.compare} holds other folds or strategies.")
        change = float((both["score"] - both["score_earlier"]).abs().max())
        print(
            f"against {args.compare}: max |fold score difference| = {change:.2e} "
            f"over {len(both)} scores"
        )
        if change != 0.0:
            both["abs_diff"] = (both["score"] - both["score_earlier"]).abs()
            per = both.groupby(["strategy", "metric"], sort=False)["abs_diff"].max()
            changed = per.unstack("metric")
            print(
                changed[changed.max(axis=1) > 0].to_string(float_format="{:.2e}".format)
            )
            raise SystemExit("The fold scores changed.")


if __name__ == "__main__":
    main(sys.argv[1:])
