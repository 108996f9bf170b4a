"""
Quick start: drug reviews as a table plus text, one grid search
===============================================================

The bundled DrugLib reviews (CC BY 4.0) give, per review, three tabular
columns (the drug, its rated effectiveness and side effects) and the review's
text. :func:`~skfusion.compose.make_modality_transformer` turns the two
modalities into one blocked matrix (``tabular__*`` and ``text__*`` columns);
:class:`~skfusion.fusion.BlockScaler` standardises each block and weights it;
a logistic regression fuses them (early fusion). ``GridSearchCV`` tunes the
block weight and the penalty like any scikit-learn parameters.
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skfusion.compose import make_modality_transformer
from skfusion.datasets import load_druglib
from skfusion.fusion import BlockScaler

X, y = load_druglib(subset="test", return_X_y=True)
tabular = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
text = make_pipeline(TfidfVectorizer(min_df=2), TruncatedSVD(50, random_state=0))
modalities = make_modality_transformer(
    ("tabular", tabular, ["drug", "effectiveness", "side_effects"]),
    ("text", text, "comments_review"),
)
model = make_pipeline(modalities, BlockScaler(), LogisticRegression(max_iter=1000))
grid = {
    "blockscaler__block_weights": [None, {"text": 2.0}],
    "logisticregression__C": [0.1, 1.0],
}
search = GridSearchCV(model, grid, cv=3).fit(X.fillna({"comments_review": ""}), y)
print(search.best_params_, round(search.best_score_, 3))

# %%
# The blocked matrix the fusion model sees: one column group per modality,
# named ``modality__feature``.
blocks = search.best_estimator_[0].transform(X.fillna({"comments_review": ""}))
print(blocks.shape)
print(sorted({column.split("__")[0] for column in blocks.columns}))

# %%
# The cross-validated accuracy of every combination of the grid.
scores = pd.DataFrame(search.cv_results_)
labels = [
    f"C={params['logisticregression__C']}, "
    f"text x{(params['blockscaler__block_weights'] or {}).get('text', 1.0):g}"
    for params in scores["params"]
]
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(labels, scores["mean_test_score"], xerr=scores["std_test_score"])
ax.set(xlabel="mean cross-validated accuracy", xlim=(0.5, 1.0))
plt.tight_layout()
plt.show()
