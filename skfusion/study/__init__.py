"""The fusion study: comparing strategies with sound statistics."""

from ._checks import check_column_complete, check_column_present, check_media_files
from ._clinical import decision_curve, net_benefit
from ._external import ExternalValidation
from ._report import report_files
from ._strategies import (
    MODALITY_KINDS,
    MODALITY_STREAMS,
    MissingExtraError,
    default_modality_transformer,
    default_strategies,
    inner_cv,
)
from ._study import FusionStudy
from ._survival import survival_target
from ._tripod import tripod_checklist
from .statistics import (
    DeLongResult,
    SubjectBootstrapResult,
    TTestResult,
    bootstrap_ci,
    calibration_table,
    corrected_resampled_ttest,
    delong_test,
    subject_bootstrap_ci,
)

__all__ = [
    "DeLongResult",
    "ExternalValidation",
    "FusionStudy",
    "MODALITY_KINDS",
    "MODALITY_STREAMS",
    "MissingExtraError",
    "SubjectBootstrapResult",
    "TTestResult",
    "bootstrap_ci",
    "calibration_table",
    "check_column_complete",
    "check_column_present",
    "check_media_files",
    "corrected_resampled_ttest",
    "decision_curve",
    "default_modality_transformer",
    "default_strategies",
    "delong_test",
    "inner_cv",
    "net_benefit",
    "report_files",
    "subject_bootstrap_ci",
    "survival_target",
    "tripod_checklist",
]
