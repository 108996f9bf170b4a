"""Fusion strategies: estimators that consume the blocked matrix."""

from .decision import PrevalenceDecisionClassifier
from .early import BlockScaler, FeatureFusion
from .kernel import MultipleKernelClassifier
from .late import LateFusionClassifier, LateFusionRegressor, make_modality_pipeline
from .reduction import WideBlockReducer
from .shared import SharedSpace
from .survival import LateFusionSurvival, coxnet_with_inner_cv

__all__ = [
    "BlockScaler",
    "FeatureFusion",
    "LateFusionClassifier",
    "LateFusionRegressor",
    "LateFusionSurvival",
    "MultipleKernelClassifier",
    "PrevalenceDecisionClassifier",
    "SharedSpace",
    "WideBlockReducer",
    "coxnet_with_inner_cv",
    "make_modality_pipeline",
]
