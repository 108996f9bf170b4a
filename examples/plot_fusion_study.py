"""
A fusion study on chest X-rays, clinical variables and notes
=============================================================

Does adding the X-ray (or the notes) to the clinical variables help, by how
much, and how sure are we? :class:`~skfusion.study.FusionStudy` answers in one
call: it compares a baseline per modality with every fusion strategy on the
same patient-grouped folds, extracts each modality inside each training fold,
tests every strategy against the best single modality, measures what each
modality contributes, and writes a report with the plots. The clinical
evaluation comes with it: decision curves, scores by sex and age band, a
learning curve, and each strategy's robustness to a missing modality.

Data: the COVID-19 image data collection (Cohen et al., 2020), X-rays only;
task: COVID-19 against every other finding. Several X-rays of one patient
must never straddle a split, so the folds are grouped by patient. X-rays whose
file is absent from the snapshot are a *missing modality*, which every
strategy handles. Read the notes' score with care: they were written after
diagnosis and often name it (target leakage in the data, not a merit of the
model).

The data are read from ``../shared/data/covid_chestxray`` next to the
repository (or the folder given as first argument; the report goes to the
folder given as second argument). They are not bundled with skfusion because
part of them is licensed for non-commercial use only.
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skfusion.extractors import ImageFeatures
from skfusion.study import FusionStudy

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # sphinx-gallery runs the examples from their folder
    HERE = Path.cwd()
DEFAULT_DATA = HERE.parents[1] / "shared" / "data"
DATA = (Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA) / "covid_chestxray"
REPORT = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("fusion-study-report")

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
y = table["finding"].str.contains("COVID-19").map({True: "COVID-19", False: "other"})
groups = table["patientid"]

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
    ]
)
xray = ImageFeatures(features=("intensity", "hog", "lbp"), size=(64, 64), root=images)
notes = make_pipeline(
    TfidfVectorizer(min_df=2, sublinear_tf=True), TruncatedSVD(20, random_state=0)
)
modalities = [
    ("clinical", clinical, ["age", "sex", "view"]),
    ("xray", xray, "image"),
    ("notes", notes, "notes"),
]

# %%
# Run the study
# -------------
# The default strategies: each modality alone, early fusion (linear and
# gradient boosting), late fusion (mean and stacking), a shared space and two
# deep-fusion models. The image features are extracted once (the extractor
# learns nothing from the data); the clinical encoder and the text model are
# fitted inside every training fold. ``pos_label`` makes COVID-19 the class
# whose probability the calibration, Brier score and ROC curves refer to.
# The clinical evaluation: scores by sex and age band, a learning curve of
# the best strategy and the reference, and every strategy's robustness to a
# modality missing from part of the test rows.
study = FusionStudy(
    modalities,
    pos_label="COVID-19",
    cv=5,
    random_state=0,
    verbose=True,
    subgroups=["sex", "age"],
    learning_curve=True,
    robustness=True,
)
study.fit(table, y, groups=groups)

print(f"{study.n_samples_} X-rays of {study.n_groups_} patients")
columns = ["roc_auc_mean", "roc_auc_ci_low", "roc_auc_ci_high", "brier"]
print(study.summary_[columns].round(3).to_string())

# %%
# Every strategy against the best single modality
# ------------------------------------------------
# The corrected resampled t-test (Nadeau and Bengio) on the fold scores, and
# DeLong's test on the pooled out-of-fold probabilities.
print(f"reference: {study.best_unimodal_}")
print(
    study.comparison_[["difference", "p_value", "delong_p_value"]].round(4).to_string()
)

# %%
# What each modality contributes
# ------------------------------
print(f"contributions of the modalities to {study.contribution_strategy_}:")
print(study.contributions_.round(3).to_string())

# %%
# Does it work for everyone, and without a modality?
# ---------------------------------------------------
# The largest gap of ROC AUC between two levels of sex and of age band, and
# each strategy's ROC AUC with the notes missing from every test row.
print(study.subgroup_gaps_[["subgroup", "strategy", "gap", "p_value"]].round(3))
curves = study.robustness_
without_notes = curves.query(
    "perturbation == 'withheld' and modality == 'notes' and level == 1.0"
)
print(without_notes.groupby("strategy", sort=False)["score"].mean().round(3))

# %%
# The report
# ----------
folder = study.report(REPORT)
print(f"Report written to {folder.resolve() / 'report.html'}")

# %%
# Is acting on the model worth it?
# --------------------------------
# The decision curves the report draws: net benefit of each strategy against
# the threshold probability, with "treat all" and "treat none".

curve = study.decision_curve_
fig, ax = plt.subplots(figsize=(6, 4))
for name in [study.best_unimodal_, "early:linear", "treat all", "treat none"]:
    own = curve[curve["strategy"] == name]
    ax.plot(own["threshold"], own["net_benefit"], label=name)
ax.set(xlabel="Threshold probability", ylabel="Net benefit")
ax.legend()
plt.show()
