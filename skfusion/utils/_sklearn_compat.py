"""The one place where private scikit-learn helpers are imported.

scikit-learn does not promise stability for these names; importing them here
means a future rename is fixed in a single file. Supported: scikit-learn 1.9
(the floor of ``pyproject.toml``) and later, each helper checked by one test in
``tests/test_sklearn_compat.py``.
"""

import inspect

from sklearn.base import _fit_context
from sklearn.metrics import make_scorer
from sklearn.preprocessing._data import _is_constant_feature
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils._set_output import _safe_set_output, _SetOutputMixin
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import _check_feature_names_in

__all__ = [
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "_SetOutputMixin",
    "_check_feature_names_in",
    "_fit_context",
    "_is_constant_feature",
    "_routing_enabled",
    "_safe_set_output",
    "scorer_with_pos_label",
    "validate_parameter_constraints",
    "validate_params",
]


def scorer_with_pos_label(scorer, pos_label):
    """The same scorer with ``pos_label`` passed to its metric, when it takes one.

    Reads the private ``_score_func``, ``_response_method``, ``_sign`` and
    ``_kwargs`` of scikit-learn's scorers; a scorer without them, or whose
    metric has no ``pos_label`` (a symmetric one such as ROC AUC), is returned
    unchanged.
    """
    metric = getattr(scorer, "_score_func", None)
    if metric is None or "pos_label" not in inspect.signature(metric).parameters:
        return scorer
    return make_scorer(
        metric,
        response_method=scorer._response_method,
        greater_is_better=scorer._sign > 0,
        **{**scorer._kwargs, "pos_label": pos_label},
    )
