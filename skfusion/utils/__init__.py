"""Utilities: estimator discovery and the package's own estimator checks."""

from .discovery import all_estimators

__all__ = ["all_estimators"]
