"""The fusion study: comparing strategies with sound statistics."""

from ._strategies import default_strategies
from ._study import FusionStudy
from .statistics import (
    DeLongResult,
    TTestResult,
    bootstrap_ci,
    calibration_table,
    corrected_resampled_ttest,
    delong_test,
)

__all__ = [
    "DeLongResult",
    "FusionStudy",
    "TTestResult",
    "bootstrap_ci",
    "calibration_table",
    "corrected_resampled_ttest",
    "default_strategies",
    "delong_test",
]
