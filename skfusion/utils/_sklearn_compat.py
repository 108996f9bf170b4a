"""The one place where private scikit-learn helpers are imported.

scikit-learn does not promise stability for these names; importing them here
means a future rename is fixed in a single file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils._set_output import _safe_set_output, _SetOutputMixin
from sklearn.utils.validation import _check_feature_names_in

__all__ = [
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "_SetOutputMixin",
    "_check_feature_names_in",
    "_fit_context",
    "_safe_set_output",
    "validate_parameter_constraints",
    "validate_params",
]
