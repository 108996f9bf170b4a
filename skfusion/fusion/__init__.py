"""Fusion strategies: estimators that consume the blocked matrix."""

from .early import BlockScaler, FeatureFusion
from .late import LateFusionClassifier, LateFusionRegressor
from .shared import MultipleKernelClassifier, SharedSpace

__all__ = [
    "BlockScaler",
    "FeatureFusion",
    "LateFusionClassifier",
    "LateFusionRegressor",
    "MultipleKernelClassifier",
    "SharedSpace",
]
