"""Which modalities a fusion model relies on.

:func:`modality_importance` permutes whole modality blocks of a fitted model's
input and measures the score drop; :func:`modality_shapley` shares the
cross-validated score of an unfitted model among the modalities by refitting it
on every coalition of modalities, and :func:`modality_shapley_from_folds` does
the same over folds that are already extracted and split.
"""

from ._importance import modality_importance
from ._shapley import modality_shapley, modality_shapley_from_folds

__all__ = ["modality_importance", "modality_shapley", "modality_shapley_from_folds"]
