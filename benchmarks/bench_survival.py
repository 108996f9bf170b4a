"""Survival studies: does fusion beat each modality, and how far from the truth?

1. Synthetic (``make_multimodal_survival``): two modalities of 10 features
   each, 400 rows, 30% censored, 10% of the rows missing one modality, in
   three settings of informativeness: both modalities carry signal (1, 1),
   one strong and one weak (1.5, 0.5), one only (1, 0). The default survival
   strategies of a ``FusionStudy`` (5-fold CV, seed 0), each with its pooled
   out-of-fold Harrell's C, Uno's C, integrated Brier score and mean
   time-dependent AUC, against the true log-risk's Uno's C (the ceiling no
   strategy should pass). Three data seeds per setting.
2. Real: scikit-survival's breast-cancer cohort (198 patients, clinical + 76
   genes; ``load_breast_cancer_modalities``), the same study.

Command: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_survival``.
"""

import time

import pandas as pd

SETTINGS = {"both (1, 1)": (1.0, 1.0), "strong+weak (1.5, 0.5)": (1.5, 0.5)}
SETTINGS["one only (1, 0)"] = (1.0, 0.0)
SEEDS = (0, 1, 2)


def _modalities(X, names):
    return [
        (m, "passthrough", [c for c in X.columns if c.startswith(f"{m}__")])
        for m in names
    ]


def _study(X, y, names):
    from skfusion.study import FusionStudy

    start = time.perf_counter()
    study = FusionStudy(
        _modalities(X, names), cv=5, random_state=0, contributions=None
    ).fit(X, y)
    return study, time.perf_counter() - start


def _rows(study, seconds, **labels):
    columns = ["c_harrell", "c_uno", "neg_integrated_brier", "mean_auc"]
    rows = []
    for name, row in study.summary_.iterrows():
        rows.append(
            {
                **labels,
                "strategy": name,
                **{c: row[f"{c}_pooled"] for c in columns},
                "seconds": seconds,
            }
        )
    return rows


def run():
    from sksurv.metrics import concordance_index_ipcw

    from skfusion.datasets import (
        load_breast_cancer_modalities,
        make_multimodal_survival,
    )

    rows = []
    for setting, strengths in SETTINGS.items():
        for seed in SEEDS:
            X, y, risk = make_multimodal_survival(
                400,
                modality_sizes=(10, 10),
                informativeness=strengths,
                censoring_rate=0.3,
                missing_rate=0.1,
                return_risk=True,
                random_state=seed,
            )
            study, seconds = _study(X, y, ["m0", "m1"])
            truth = concordance_index_ipcw(y, y, risk, tau=study.horizons_[-1])[0]
            for row in _rows(study, seconds, data=setting, seed=seed):
                row["true_risk_c_uno"] = truth
                rows.append(row)
    X, y = load_breast_cancer_modalities(return_X_y=True)
    study, seconds = _study(X, y, ["clinical", "genes"])
    rows += _rows(study, seconds, data="breast cancer", seed=0)
    return pd.DataFrame(rows)


def main():
    results = run()
    synthetic = results[results["data"] != "breast cancer"]
    summary = synthetic.groupby(["data", "strategy"], sort=False).mean(
        numeric_only=True
    )
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print("Synthetic, mean over seeds", SEEDS)
        print(summary.drop(columns="seed").round(3).to_string())
        print("\nBreast cancer")
        real = results[results["data"] == "breast cancer"].set_index("strategy")
        print(real.drop(columns=["data", "seed"]).round(3).to_string())
        best_fused = synthetic[~synthetic["strategy"].str.startswith("unimodal")]
        above = (synthetic["c_uno"] > synthetic["true_risk_c_uno"]).sum()
        print(f"\nRuns where a strategy's Uno's C exceeds the true risk's: {above}")
        print(
            f"Fused strategies' mean Harrell's C: {best_fused['c_harrell'].mean():.3f}"
        )
    return results


if __name__ == "__main__":
    main()
