"""
Tuning deep fusion with GridSearchCV
====================================

:class:`~skfusion.deep.DeepFusionClassifier` is a skorch ``NeuralNet`` and a
scikit-learn estimator: its fusion layer, widths, learning rate and any
``optimizer__*`` option are parameters that ``GridSearchCV`` tunes unchanged.
The data (:func:`~skfusion.datasets.make_multimodal_classification` with
``interaction=True``) hold a cross-modal interaction: the class is an XOR of
the two modalities, so that neither alone predicts it, and a fusion layer
must combine them.
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skfusion.datasets import make_multimodal_classification
from skfusion.deep import DeepFusionClassifier

X, y = make_multimodal_classification(
    800, modality_sizes=(4, 4), informativeness=4.0, interaction=True, random_state=0
)
search = GridSearchCV(
    DeepFusionClassifier(lr=0.01, max_epochs=60, random_state=0, device="cpu"),
    {"fusion": ["concat", "attention", "gated"], "hidden_dim": [16, 64]},
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
    scoring="accuracy",
)
search.fit(X, y)
results = pd.DataFrame(search.cv_results_)[
    ["param_fusion", "param_hidden_dim", "mean_test_score", "mean_fit_time"]
]
print(results.round(3).to_string(index=False))
print("best:", search.best_params_, round(search.best_score_, 3))

# %%
# Accuracy of each fusion layer and width: only layers that combine the two
# modalities can learn their interaction.
table = results.pivot(
    index="param_fusion", columns="param_hidden_dim", values="mean_test_score"
)
ax = table.plot.bar(figsize=(6, 4), rot=0)
ax.set(xlabel="fusion layer", ylabel="mean test accuracy", ylim=(0.4, 1.0))
ax.legend(title="hidden_dim")
plt.show()
