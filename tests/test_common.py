"""scikit-learn's estimator checks on every public estimator of skfusion."""

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from skfusion.extractors import BaseExtractor
from skfusion.utils import all_estimators
from skfusion.utils._test_common import (
    EXTRACTOR_COLUMNS,
    INSTANCES,
    expected_failed_checks,
    instances_to_check,
)
from skfusion.utils.estimator_checks import (
    check_extractor,
    check_prediction_batch_invariance,
)


def test_every_public_estimator_has_a_test_instance():
    missing = [name for name, cls in all_estimators() if cls not in INSTANCES]
    assert not missing, f"add test instances for {missing} in _test_common.py"


@parametrize_with_checks(
    list(instances_to_check()), expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _check_id(value):
    return repr(value) if not callable(value) else value.__name__


EXTRA_CHECKS = [
    check_param_validation,
    check_dataframe_column_names_consistency,
]
EXTRA_TRANSFORMER_CHECKS = [
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
]


def _extra_cases():
    for estimator in instances_to_check():
        checks = list(EXTRA_CHECKS)
        if hasattr(estimator, "transform"):
            checks += EXTRA_TRANSFORMER_CHECKS
        for check in checks:
            expected = expected_failed_checks(estimator)
            marks = (
                [pytest.mark.xfail(reason=expected[check.__name__])]
                if check.__name__ in expected
                else []
            )
            yield pytest.param(
                estimator, check, marks=marks, id=f"{estimator!r}-{check.__name__}"
            )


@pytest.mark.parametrize("estimator, check", list(_extra_cases()))
def test_extra_sklearn_checks(estimator, check):
    check(type(estimator).__name__, estimator)


def _extractor_cases():
    for estimator in instances_to_check():
        if type(estimator) in EXTRACTOR_COLUMNS:
            yield pytest.param(estimator, id=repr(estimator))


def test_every_extractor_has_a_sample_column():
    extractors = [
        name
        for name, cls in all_estimators(type_filter="transformer")
        if issubclass(cls, BaseExtractor) and cls not in EXTRACTOR_COLUMNS
    ]
    assert not extractors, f"add sample columns for {extractors} in _test_common.py"


@pytest.mark.parametrize("extractor", list(_extractor_cases()))
def test_extractor_contract(extractor, tmp_path):
    check_extractor(extractor, EXTRACTOR_COLUMNS[type(extractor)](tmp_path))


def _block_matrix_cases():
    for estimator in instances_to_check():
        if not isinstance(estimator, BaseExtractor):
            yield pytest.param(estimator, id=repr(estimator))


@pytest.mark.parametrize("estimator", list(_block_matrix_cases()))
def test_predictions_do_not_depend_on_batching(estimator):
    # The float32 counterpart of scikit-learn's subset and sample-order checks,
    # which the deep estimators are expected to fail by a few ulps.
    rng = np.random.RandomState(0)
    X = 3 * rng.uniform(size=(30, 3))
    y = X[:, 0].astype(int) if is_classifier(estimator) else X @ [1.0, -2.0, 0.5]
    if is_classifier(estimator) and not get_tags(estimator).classifier_tags.multi_class:
        y = (X[:, 0] > 1.5).astype(int)
    if _needs_survival_target(estimator):
        y = _survival_target(y, rng)
    check_prediction_batch_invariance(estimator, X, y)


def _needs_survival_target(estimator):
    return type(estimator).__name__.endswith("Survival")


def _survival_target(risk, rng):
    """Times to event from a risk, about a quarter of them censored."""
    target = np.empty(len(risk), dtype=[("event", bool), ("time", float)])
    target["time"] = rng.exponential(size=len(risk)) * np.exp(-risk / 4)
    target["event"] = rng.random(len(risk)) < 0.75
    return target
