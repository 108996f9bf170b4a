"""
A study from the command line
=============================

``skfusion study`` runs :class:`~skfusion.study.FusionStudy` on a CSV table,
one row per subject, each modality given as ``NAME=KIND:COLUMNS`` and read
by the package's default extractor for its kind. Here 400 bundled DrugLib
reviews are written to a CSV (is a rating negative? a tabular modality and
a text one), and the study runs on three strategies, without the modality
contributions, so that the example stays short. The command line is
``skfusion study reviews.csv --target negative --modality ...``; the example
calls the same entry point, :func:`skfusion.cli.main`, with that list.
"""

import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pandas as pd

from skfusion.cli import main
from skfusion.datasets import load_druglib

folder = Path(tempfile.mkdtemp())
reviews = load_druglib(subset="test").frame.head(400)
reviews["negative"] = (reviews["rating_class"] == "negative").astype(int)
columns = ["drug", "effectiveness", "side_effects", "comments_review", "negative"]
reviews[columns].to_csv(folder / "reviews.csv", index=False)

command = [
    "study",
    str(folder / "reviews.csv"),
    "--target", "negative",
    "--modality", "tabular=tabular:drug,effectiveness,side_effects",
    "--modality", "review=text:comments_review",
    "--strategies", "unimodal:tabular,unimodal:review,early:linear",
    "--no-contributions",
    "--cv", "3",
    "--out", str(folder / "report"),
]  # fmt: skip
status = main(command)
print("exit status", status)

# %%
# The report folder: a Markdown and a self-contained HTML report, the
# results and fold scores as CSV, and a manifest of versions and seeds.
print(sorted(path.name for path in (folder / "report").iterdir()))
print(pd.read_csv(folder / "report" / "results.csv").iloc[:, :4].round(3))

# %%
# The report's figures are PNG files in ``plots/``; here, its per-fold scores.

fig, ax = plt.subplots(figsize=(7, 4))
ax.imshow(mpimg.imread(folder / "report" / "plots" / "fold_scores.png"))
ax.axis("off")
plt.show()
