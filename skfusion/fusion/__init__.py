"""Fusion strategies: estimators that consume the blocked matrix."""

from .early import BlockScaler, FeatureFusion

__all__ = ["BlockScaler", "FeatureFusion"]
