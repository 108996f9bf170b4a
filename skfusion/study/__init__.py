"""The fusion study: comparing strategies with sound statistics."""

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
    "TTestResult",
    "bootstrap_ci",
    "calibration_table",
    "corrected_resampled_ttest",
    "delong_test",
]
