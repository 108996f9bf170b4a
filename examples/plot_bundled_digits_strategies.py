"""
Early, late and deep fusion of spoken and written digits
=========================================================

The bundled audio-visual digits pair a spoken digit (FSDD, CC BY-SA 4.0)
with a written one (MNIST, CC BY-SA 3.0): 600 subjects, 10 classes. Each
modality alone is informative; fused, they are more so. Three fusion
families on the same blocked matrix and the same folds:

- early fusion: :class:`~skfusion.fusion.BlockScaler` and one logistic
  regression on both blocks;
- late fusion: :class:`~skfusion.fusion.LateFusionClassifier`, one logistic
  regression per modality, probabilities averaged;
- deep fusion: :class:`~skfusion.deep.DeepFusionClassifier`, one encoder per
  modality and concatenation.

The modality features are extracted once (the extractors learn nothing from
the data), then every model is cross-validated on them.
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.compose import make_modality_transformer
from skfusion.datasets import load_av_digits
from skfusion.deep import DeepFusionClassifier
from skfusion.extractors import AudioFeatures, ImageFeatures
from skfusion.fusion import BlockScaler, LateFusionClassifier

digits = load_av_digits()
blocks = make_modality_transformer(
    ("audio", AudioFeatures(), "audio"),
    ("image", ImageFeatures(), "image"),
).fit_transform(digits.data, digits.target)
y = digits.target.to_numpy()
print(blocks.shape, sorted({c.split("__")[0] for c in blocks.columns}))

# %%
# Each modality alone, and the three fusion families.


def linear():
    return LogisticRegression(max_iter=2000)


models = {
    "audio alone": make_pipeline(BlockScaler(), linear()),
    "image alone": make_pipeline(BlockScaler(), linear()),
    "early fusion": make_pipeline(BlockScaler(), linear()),
    # Each per-modality model sees its own block alone, as an array.
    "late fusion": LateFusionClassifier(
        make_pipeline(StandardScaler(), linear()), combiner="mean"
    ),
    "deep fusion": DeepFusionClassifier(random_state=0, device="cpu"),
}
columns = {
    "audio alone": blocks.filter(like="audio__").columns,
    "image alone": blocks.filter(like="image__").columns,
}
folds = StratifiedKFold(3, shuffle=True, random_state=0)
scores = {}
for name, model in models.items():
    X = blocks[columns[name]] if name in columns else blocks
    scores[name] = cross_val_score(model, X, y, cv=folds, scoring="accuracy")
    print(f"{name:<13} accuracy {scores[name].mean():.3f} +/- {scores[name].std():.3f}")

# %%
# The folds' accuracies, strategy by strategy.
table = pd.DataFrame(scores)
ax = table.plot.box(vert=False, figsize=(6, 3))
ax.set_xlabel("accuracy (3 folds)")
plt.tight_layout()
plt.show()
