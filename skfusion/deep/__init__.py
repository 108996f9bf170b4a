"""Deep fusion with PyTorch and skorch.

Importing this subpackage imports torch; ``import skfusion`` does not.
"""

from .data import BlockDataset, TensorBatchIterator
from .encoders import CNN1dEncoder, CNN2dEncoder, MLPEncoder, build_encoder
from .estimators import DeepFusionClassifier, DeepFusionRegressor
from .layers import FUSION_LAYERS, build_fusion
from .module import FusionNet
from .survival import CoxPartialLikelihoodLoss, DeepFusionSurvival

__all__ = [
    "BlockDataset",
    "CNN1dEncoder",
    "CNN2dEncoder",
    "CoxPartialLikelihoodLoss",
    "DeepFusionClassifier",
    "DeepFusionRegressor",
    "DeepFusionSurvival",
    "FUSION_LAYERS",
    "FusionNet",
    "MLPEncoder",
    "TensorBatchIterator",
    "build_encoder",
    "build_fusion",
]
