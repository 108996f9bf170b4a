"""Calibrated risks: the default study with and without class weights.

Issue 28 asks whether the default strategies' predicted risks are right. For
each dataset the default ``FusionStudy`` runs twice on the same folds (5
folds, grouped when the data have groups, ``random_state=0``, no
contributions, extraction cached between the two runs):

- ``before``: ``class_weight="balanced"``: every model weights the classes
  by the inverse of their frequency and predicts the class of largest
  probability (the default before issue 28, an option since);
- ``after``: the defaults since issue 28, ``class_weight=None``: no
  weights, every strategy deciding by the prevalence rule
  (``PrevalenceDecisionClassifier``), ``late:mean`` recalibrated by Platt's
  curve on out-of-fold predictions (single-label targets).

Per strategy, from the stored out-of-fold predictions of the study:

- ``auc``: ROC AUC (one-vs-rest macro for a multiclass target, macro over
  labels for a multi-label one), mean ± sd over the folds;
- ``bacc``: balanced accuracy of the study's predicted labels (for a
  multi-label target the mean over labels), mean ± sd over the folds;
- ``bacc_rule``: the balanced accuracy of the prevalence rule recomputed
  here from the out-of-fold probabilities (each row's class the one with the
  largest ratio of its predicted risk to the class's share of the fold's
  training rows; per label for a multi-label target); equal to ``bacc``
  where the study predicts by that rule (``after``);
- ``brier``: Brier score of the pooled out-of-fold probabilities (the mean
  over classes or labels of the one-vs-rest score for more than two);
- ``slope`` and ``intercept``: logistic recalibration of the pooled
  out-of-fold logits, ``logit P(y=1) = a + b logit(p)``: ``slope`` is ``b``
  and ``intercept`` the calibration in the large (``a`` with ``b`` fixed at
  1); ideal 1 and 0, a slope above 1 means under-confident risks, an
  intercept above 0 risks that are too low on average (one-vs-rest per class
  or per label, averaged, for more than two);
- ``mean_risk`` against ``prevalence``: of the positive class (binary), of
  the rarest class (multiclass), the mean over labels (multi-label);
- ``fit_s``: the strategy's mean fit time per fold, and per run the study's
  wall time.

Datasets (``--datasets`` picks some): ``covid_chestxray`` (the X-ray table
of ``bench_defaults``: clinical + X-ray features + notes, binary, 82 %
COVID-19, grouped by patient; skipped when ../shared/data is absent),
``druglib`` (1,500 reviews, tabular + review text, binary, a quarter
negative), ``av_digits`` (600 spoken + written digits, 10 balanced
classes), ``synthetic_imbalanced`` (``bench_defaults``'s 70/20/10 table),
``synthetic_binary`` (1,000 rows, 10 % positive, two informative blocks and
a noise block, a tenth of the rows missing one modality) and
``synthetic_multilabel`` (600 rows, 3 labels each present in 20 % of the
rows). ``--no-deep`` leaves the two deep strategies out; ``--late`` adds
the late-fusion variants of ``late_variants`` to the ``after`` run.

Run as ``python -m benchmarks.bench_calibration [--json PATH]``.
"""

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, roc_auc_score

from benchmarks import bench_defaults
from skfusion.datasets import make_multimodal_classification
from skfusion.study import FusionStudy

CV = 5
SEED = 0
CONFIGS = {"before": "balanced", "after": None}
# Risks of exactly 0 or 1 (boosting, a saturated network) have no logit.
_EPS = 1e-6


def synthetic_binary():
    X, y = make_multimodal_classification(
        1000,
        modality_sizes=(4, 20, 10),
        informativeness=(1.5, 2.0, 0.0),
        weights=(0.9, 0.1),
        missing_rate=0.1,
        modality_names=["clinical", "image", "noise"],
        random_state=SEED,
    )
    return _passthrough(X, y.to_numpy(), ("clinical", "image", "noise"))


def synthetic_multilabel():
    X, Y = make_multimodal_classification(
        600,
        modality_sizes=(6, 12),
        informativeness=(1.5, 2.0),
        n_labels=3,
        weights=(0.8, 0.2),
        modality_names=["clinical", "image"],
        random_state=SEED,
    )
    return _passthrough(X, Y, ("clinical", "image"))


def _passthrough(X, y, names):
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    modalities = [
        (name, "passthrough", [c for c in table.columns if c.startswith(f"{name}_")])
        for name in names
    ]
    return table, y, None, modalities


DATASETS = {
    **bench_defaults.DATASETS,
    "synthetic_binary": synthetic_binary,
    "synthetic_multilabel": synthetic_multilabel,
}


def calibration_line(outcome, risk):
    """``(intercept, slope)`` of the logistic recalibration of ``risk``.

    ``slope``: the coefficient of ``logit(risk)`` in an unpenalised logistic
    regression of ``outcome`` on it; ``intercept``: the calibration in the
    large, the intercept ``a`` that solves ``sum(outcome - expit(a +
    logit(risk))) = 0`` (the logistic model with the logit as an offset).
    """
    outcome = np.asarray(outcome, dtype=float)
    score = logit(np.clip(risk, _EPS, 1 - _EPS))
    slope = LogisticRegression(C=np.inf).fit(score[:, None], outcome).coef_[0, 0]

    def excess(a):
        return np.sum(outcome - expit(a + score))

    intercept = brentq(excess, -30, 30)
    return float(intercept), float(slope)


def _one_vs_rest(y, proba, task, classes):
    """``(outcome, risk)`` of every class (or label) scored on its own."""
    if task == "binary":
        return [(y == classes[1], proba[:, 1])]
    if task == "multilabel":
        return [(y[:, j], proba[:, j]) for j in range(proba.shape[1])]
    return [(y == c, proba[:, k]) for k, c in enumerate(classes)]


def prevalence_rule(proba, y_train, task, classes):
    """Labels of the prevalence rule from the probabilities and training target."""
    if task == "multilabel":
        return (proba > np.mean(y_train, axis=0)).astype(int)
    shares = np.array([np.mean(y_train == c) for c in classes])
    return classes[np.argmax(proba / shares, axis=1)]


def _balanced_accuracy(y, labels, task):
    if task == "multilabel":
        return float(
            np.mean(
                [
                    balanced_accuracy_score(y[:, j], labels[:, j])
                    for j in range(y.shape[1])
                ]
            )
        )
    return balanced_accuracy_score(y, labels)


def _auc(y, proba, task, classes):
    if task == "binary":
        return roc_auc_score(y == classes[1], proba[:, 1])
    if task == "multilabel":
        return roc_auc_score(y, proba, average="macro")
    return roc_auc_score(y, proba, multi_class="ovr", labels=classes)


def strategy_scores(study, y, name):
    """The calibration and discrimination of one strategy's stored predictions."""
    task = study.task_
    classes = np.asarray(study.classes_) if task != "multilabel" else np.array([0, 1])
    proba = study.oof_proba_[name][0]
    labels = study.oof_predictions_[name][0]
    folds = {"auc": [], "bacc": [], "bacc_rule": []}
    rule = np.empty_like(labels)
    for train, test in study.splits_:
        folds["auc"].append(_auc(y[test], proba[test], task, classes))
        folds["bacc"].append(_balanced_accuracy(y[test], labels[test], task))
        rule[test] = prevalence_rule(proba[test], y[train], task, classes)
        folds["bacc_rule"].append(_balanced_accuracy(y[test], rule[test], task))
    pairs = _one_vs_rest(y, proba, task, classes)
    lines = np.array([calibration_line(outcome, risk) for outcome, risk in pairs])
    # Calibration in the large of the rarest class, where weights show most.
    rarest = int(np.argmin([np.mean(outcome) for outcome, _ in pairs]))
    shown = [pairs[rarest]] if task == "multiclass" else pairs
    row = {f"{key}_mean": float(np.mean(v)) for key, v in folds.items()}
    row.update({f"{key}_std": float(np.std(v, ddof=1)) for key, v in folds.items()})
    row.update(
        {
            "brier": float(np.mean([brier_score_loss(o, r) for o, r in pairs])),
            "intercept": float(lines[:, 0].mean()),
            "slope": float(lines[:, 1].mean()),
            "mean_risk": float(np.mean([r.mean() for _, r in shown])),
            "prevalence": float(np.mean([np.mean(o) for o, _ in shown])),
            "fit_s": float(study.summary_.loc[name, "fit_time"]),
        }
    )
    return row


def late_variants(study):
    """Late-fusion variants measured beside the defaults with ``--late``.

    Built from the ``after`` study's own ``late:mean`` (the decision rule
    around ``CalibratedClassifierCV(LateFusionClassifier(combiner="mean"),
    method="sigmoid", ensemble=False)``), so that they differ from it by the
    recalibration only: ``late:mean (not recalibrated)`` without it, and
    ``late:mean (temperature)`` with ``method="temperature"`` instead (the
    log-probabilities times one fitted factor, which corrects the slope
    only).
    """
    from sklearn.base import clone

    pipeline = study.strategies_["late:mean"]
    rule = pipeline.steps[-1][1]
    calibrated = rule.estimator
    variants = {}
    for name, model in (
        ("late:mean (not recalibrated)", calibrated.estimator),
        ("late:mean (temperature)", clone(calibrated).set_params(method="temperature")),
    ):
        variant = clone(pipeline)
        variant.steps[-1] = (
            pipeline.steps[-1][0],
            clone(rule).set_params(estimator=model),
        )
        variants[name] = variant
    return variants


def run_config(table, y, groups, modalities, class_weight, memory, *, deep, late):
    study = FusionStudy(
        modalities,
        cv=CV,
        class_weight=class_weight,
        contributions=None,
        random_state=SEED,
        memory=memory,
    )
    if not deep:
        from skfusion.study import default_strategies

        defaults, _ = default_strategies(
            [m[0] for m in modalities],
            classification=True,
            multilabel=np.ndim(y) == 2,
        )
        study.set_params(strategies=[n for n in defaults if not n.startswith("deep:")])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.fit(table, y, groups=groups)
    seconds = time.perf_counter() - start
    rows = {name: strategy_scores(study, y, name) for name in study.strategies_}
    if late and class_weight is None and np.ndim(y) == 1:
        variants = late_variants(study)
        extra = FusionStudy(
            modalities,
            strategies=variants,
            cv=CV,
            contributions=None,
            random_state=SEED,
            memory=memory,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extra.fit(table, y, groups=groups)
        rows.update({name: strategy_scores(extra, y, name) for name in variants})
    return rows, seconds


def run(name, *, deep=True, late=False):
    loaded = DATASETS[name]()
    if loaded is None:
        print(f"{name}: data not present, skipped")
        return None
    table, y, groups, modalities = loaded
    y = np.asarray(y)
    result = {"dataset": name, "rows": len(table), "runs": {}}
    with tempfile.TemporaryDirectory() as cache:
        for config, class_weight in CONFIGS.items():
            rows, seconds = run_config(
                table, y, groups, modalities, class_weight, cache, deep=deep, late=late
            )
            result["runs"][config] = {"seconds": round(seconds, 1), "strategies": rows}
    _print(result)
    return result


def _print(result):
    print(f"\n{result['dataset']} ({result['rows']} rows)")
    for config, run_ in result["runs"].items():
        print(f"  {config}: study {run_['seconds']:.1f} s")
        print(
            "  | strategy | ROC AUC | bal. acc. | bal. acc. (rule) | Brier | "
            "slope | intercept | mean risk / prevalence | fit s |"
        )
        for strategy, row in run_["strategies"].items():
            print(
                f"  | {strategy} | {row['auc_mean']:.3f} ± {row['auc_std']:.3f} "
                f"| {row['bacc_mean']:.3f} ± {row['bacc_std']:.3f} "
                f"| {row['bacc_rule_mean']:.3f} | {row['brier']:.4f} "
                f"| {row['slope']:.2f} | {row['intercept']:+.2f} "
                f"| {row['mean_risk']:.3f} / {row['prevalence']:.3f} "
                f"| {row['fit_s']:.2f} |"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--no-deep", action="store_true")
    parser.add_argument("--late", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv if argv is not None else [])
    results = [
        r
        for r in (
            run(name, deep=not args.no_deep, late=args.late) for name in args.datasets
        )
        if r is not None
    ]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
