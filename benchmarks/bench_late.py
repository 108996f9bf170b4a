"""Late fusion on spoken + written digits, and stacking cost against scikit-learn.

1. Accuracy. FSDD recordings paired with MNIST images of the same digit
   (``../shared/data/fsdd_mnist_av``, the official FSDD split: 2,700 train /
   300 test; the bundled 600-row subset when the shared data are absent).
   Audio -> ``AudioFeatures``; image -> ``ImageFeatures`` (HOG + LBP +
   intensity). Each modality alone (imputer + scaler + logistic regression)
   against ``LateFusionClassifier`` with every combiner, on the test split;
   then the same with 30% of the test rows missing one modality.
2. Cost. ``LateFusionClassifier(combiner="stacking")`` fit time against
   ``sklearn.ensemble.StackingClassifier`` over the equivalent per-modality
   pipelines (column selection + imputer + scaler + logistic regression, the
   same folds, the same final estimator), same data, same process: ratio
   skfusion / scikit-learn, target <= 1.1.
"""

import gzip
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import StackingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.compose import make_modality_transformer
from skfusion.extractors import AudioFeatures, ImageFeatures
from skfusion.fusion import LateFusionClassifier

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd_mnist_av"
COMBINERS = ["mean", "weighted", "product", "stacking", "vote"]


def load_digits_study():
    """Study table (audio path, image array), digit, split."""
    if SHARED.is_dir():
        pairs = pd.read_csv(SHARED / "pairs.csv")
        raw = gzip.open(SHARED / "mnist" / "t10k-images-idx3-ubyte.gz").read()
        mnist = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
        table = pd.DataFrame(
            {
                "audio": [
                    str(SHARED / "fsdd" / "recordings" / w) for w in pairs["wav"]
                ],
                "image": list(mnist[pairs["mnist_index"]]),
            }
        )
        return table, pairs["digit"].to_numpy(), pairs["split"].to_numpy(), "shared"
    from skfusion.datasets import load_av_digits

    bunch = load_av_digits()
    table = bunch.data[["audio", "image"]]
    return table, bunch.target.to_numpy(), bunch.data["split"].to_numpy(), "bundled"


def blocked_matrices(table, split):
    extraction = make_modality_transformer(
        ("audio", AudioFeatures(sr=8000), "audio"),
        (
            "image",
            ImageFeatures(
                features=("intensity", "hog", "lbp"),
                size=(28, 28),
                hog_pixels_per_cell=(7, 7),
            ),
            "image",
        ),
    )
    train = extraction.fit_transform(table[split == "train"])
    test = extraction.transform(table[split == "test"])
    return train, test


def _single_modality(columns):
    return make_pipeline(
        ColumnTransformer([("select", "passthrough", columns)]),
        SimpleImputer(),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )


def accuracy_table(train, y_train, test, y_test, random_state=0):
    rows = []
    modality_columns = {
        m: [c for c in train.columns if c.startswith(f"{m}__")]
        for m in ("audio", "image")
    }
    for modality, columns in modality_columns.items():
        model = _single_modality(columns).fit(train, y_train)
        rows.append(
            {"model": f"{modality} only", "accuracy": model.score(test, y_test)}
        )
    best_single = max(row["accuracy"] for row in rows)

    rng = np.random.default_rng(random_state)
    damaged = test.copy()
    blank = rng.permutation(len(test))[: int(0.3 * len(test))]
    blank_audio, blank_image = blank[: len(blank) // 2], blank[len(blank) // 2 :]
    damaged.iloc[
        blank_audio, damaged.columns.get_indexer(modality_columns["audio"])
    ] = np.nan
    damaged.iloc[
        blank_image, damaged.columns.get_indexer(modality_columns["image"])
    ] = np.nan
    for combiner in COMBINERS:
        model = LateFusionClassifier(combiner=combiner, random_state=random_state)
        model.fit(train, y_train)
        by_modality = model.predict_by_modality(damaged)
        damaged_pred = model.predict(damaged)
        # On the damaged rows: the fused model against the modality that is left.
        left = np.where(
            np.isin(np.arange(len(test)), blank_audio),
            by_modality["image"],
            by_modality["audio"],
        )
        rows.append(
            {
                "model": f"late fusion, {combiner}",
                "accuracy": model.score(test, y_test),
                "beats_best_single": model.score(test, y_test) > best_single,
                "acc_30pct_missing_rows": accuracy_score(
                    y_test[blank], damaged_pred[blank]
                ),
                "acc_available_modality_alone": accuracy_score(
                    y_test[blank], left[blank].astype(y_test.dtype)
                ),
                "weights": model.modality_weights_,
            }
        )
    return pd.DataFrame(rows)


def _best_time(function, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def stacking_cost(train, y_train, random_state=0):
    folds = StratifiedKFold(5, shuffle=True, random_state=random_state)
    ours = LateFusionClassifier(combiner="stacking", cv=folds)
    columns = {
        m: [c for c in train.columns if c.startswith(f"{m}__")]
        for m in ("audio", "image")
    }
    theirs = StackingClassifier(
        [(m, _single_modality(cols)) for m, cols in columns.items()],
        final_estimator=LogisticRegression(max_iter=1000),
        cv=folds,
    )
    ours_time = _best_time(lambda: ours.fit(train, y_train))
    theirs_time = _best_time(lambda: theirs.fit(train, y_train))
    return {
        "skfusion_stacking_fit_s": ours_time,
        "sklearn_stacking_fit_s": theirs_time,
        "ratio": ours_time / theirs_time,
    }


def main():
    table, y, split, source = load_digits_study()
    start = time.perf_counter()
    train, test = blocked_matrices(table, split)
    print(
        f"data: {source}; train {train.shape}, test {test.shape}; "
        f"extraction {time.perf_counter() - start:.1f} s"
    )
    y_train, y_test = y[split == "train"], y[split == "test"]
    results = accuracy_table(train, y_train, test, y_test)
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(results.round(3).to_string(index=False))
    cost = stacking_cost(train, y_train)
    print(
        "stacking fit time: skfusion {skfusion_stacking_fit_s:.2f} s, scikit-learn "
        "{sklearn_stacking_fit_s:.2f} s, ratio {ratio:.3f}".format(**cost)
    )
    return results, cost


if __name__ == "__main__":
    main()
