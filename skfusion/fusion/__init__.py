"""Fusion strategies: estimators that consume the blocked matrix."""

from .early import BlockScaler, FeatureFusion
from .kernel import MultipleKernelClassifier
from .late import LateFusionClassifier, LateFusionRegressor, make_modality_pipeline
from .shared import SharedSpace

__all__ = [
    "BlockScaler",
    "FeatureFusion",
    "LateFusionClassifier",
    "LateFusionRegressor",
    "MultipleKernelClassifier",
    "SharedSpace",
    "make_modality_pipeline",
]
