"""
Chest X-rays, clinical variables and notes: one study table, early fusion
=========================================================================

The COVID-19 image data collection (Cohen et al., 2020) gives, for each chest
X-ray, a few clinical variables (age, sex, view) and, for most, a free-text
clinical note. Here the three become modalities of one blocked matrix with
:func:`~skfusion.compose.make_modality_transformer`, and an early-fusion model
(:class:`~skfusion.fusion.BlockScaler` + logistic regression) is compared with
each modality alone, by cross-validation grouped by patient (several images
per patient must never straddle a split).

Task: COVID-19 against every other finding, X-rays only. Images whose file is
absent from the snapshot are a *missing modality*: an all-NaN block that the
fusion model imputes and flags, not a row to drop. Empty notes become empty
texts (a zero TF-IDF vector).

Read the result with care: the notes were written after diagnosis and often
name it, so the notes alone score high. That is target leakage in the data,
a common trap with clinical text, not a merit of the model.

The data are read from ``../shared/data/covid_chestxray`` next to the
repository (or the folder given as first argument); they are not bundled with
skfusion because part of them is licensed for non-commercial use only.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skfusion.compose import make_modality_transformer, modality_availability
from skfusion.extractors.image import ImageFeatures
from skfusion.fusion import BlockScaler

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # sphinx-gallery runs the examples from their folder
    HERE = Path.cwd()
DEFAULT_DATA = HERE.parents[1] / "shared" / "data"
DATA = (Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA) / "covid_chestxray"

# %%
# The study table: one row per X-ray
# -----------------------------------
metadata = pd.read_csv(DATA / "metadata.csv")
table = metadata[(metadata["modality"] == "X-ray") & (metadata["finding"] != "todo")]
table = table.reset_index(drop=True)
images = DATA / "images"
table["image"] = [
    name if (images / name).is_file() else None for name in table["filename"]
]
table["notes"] = table["clinical_notes"].fillna("")
y = table["finding"].str.contains("COVID-19").astype(int)
groups = table["patientid"]
print(f"{len(table)} X-rays of {groups.nunique()} patients, {y.mean():.0%} COVID-19")

# %%
# One transformer per modality
# ----------------------------
clinical = ColumnTransformer(
    [
        ("age", "passthrough", ["age"]),
        (
            "categories",
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            ["sex", "view"],
        ),
    ],
    sparse_threshold=0,
)
xray = ImageFeatures(features=("intensity", "hog", "lbp"), size=(64, 64), root=images)
notes = make_pipeline(
    TfidfVectorizer(min_df=2, sublinear_tf=True), TruncatedSVD(20, random_state=0)
)
modalities = {
    "clinical": (clinical, ["age", "sex", "view"]),
    "xray": (xray, "image"),
    "notes": (notes, "notes"),
}

blocked = make_modality_transformer(
    *[(name, *spec) for name, spec in modalities.items()]
).fit_transform(table)
print("blocked matrix:", blocked.shape)
print("subjects with each modality:")
print(modality_availability(blocked).mean().round(2).to_string())

# %%
# Each modality alone against early fusion
# ----------------------------------------
cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
strategies = {f"{name} only": [name] for name in modalities}
strategies["early fusion"] = list(modalities)
scores = {}
for strategy, names in strategies.items():
    model = make_pipeline(
        make_modality_transformer(*[(name, *modalities[name]) for name in names]),
        BlockScaler(add_indicator=True),
        LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000),
    )
    result = cross_validate(
        model, table, y, groups=groups, cv=cv, scoring="roc_auc", n_jobs=1
    )
    scores[strategy] = result["test_score"]
    print(
        f"{strategy:<14} ROC AUC {np.mean(result['test_score']):.3f} "
        f"± {np.std(result['test_score']):.3f}"
    )

# %%
# Plot (when matplotlib is installed)
# -----------------------------------
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3))
    means = [np.mean(values) for values in scores.values()]
    spreads = [np.std(values) for values in scores.values()]
    ax.barh(list(scores), means, xerr=spreads, color="tab:blue", alpha=0.7)
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel("ROC AUC, mean ± sd over 5 patient-grouped folds")
    fig.tight_layout()
    plt.show()
