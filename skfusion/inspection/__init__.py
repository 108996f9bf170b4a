"""Which modalities a fusion model relies on.

:func:`modality_importance` permutes whole modality blocks of a fitted model's
input and measures the score drop; :func:`modality_shapley` shares the
cross-validated score of an unfitted model among the modalities by refitting it
on every coalition of modalities.
"""

from ._importance import modality_importance
from ._shapley import modality_shapley

__all__ = ["modality_importance", "modality_shapley"]
