"""Fusion strategies: estimators that consume the blocked matrix."""

from .early import BlockScaler, FeatureFusion
from .late import LateFusionClassifier, LateFusionRegressor

__all__ = [
    "BlockScaler",
    "FeatureFusion",
    "LateFusionClassifier",
    "LateFusionRegressor",
]
