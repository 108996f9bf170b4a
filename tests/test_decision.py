"""PrevalenceDecisionClassifier: the wrapped risks, a decision at the prevalence."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import GroupKFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import (
    BlockScaler,
    LateFusionClassifier,
    PrevalenceDecisionClassifier,
)
from skfusion.utils._test_common import DelegatingClassifier


def _data(n=400, weights=(0.85, 0.15), n_classes=2, seed=0):
    X, y = make_multimodal_classification(
        n,
        modality_sizes=(3, 3),
        informativeness=1.5,
        n_classes=n_classes,
        weights=weights,
        random_state=seed,
    )
    return X, y.to_numpy()


def test_probabilities_are_the_wrapped_models():
    X, y = _data()
    model = PrevalenceDecisionClassifier(LogisticRegression()).fit(X, y)
    plain = LogisticRegression().fit(X, y)
    assert_allclose(model.predict_proba(X), plain.predict_proba(X))
    assert_allclose(model.decision_function(X), plain.decision_function(X))
    assert_allclose(model.predict_log_proba(X), plain.predict_log_proba(X))
    assert_array_equal(model.classes_, plain.classes_)
    assert model.n_features_in_ == 6
    assert list(model.feature_names_in_) == list(X.columns)


def test_binary_rule_is_the_threshold_at_the_prevalence():
    X, y = _data()
    model = PrevalenceDecisionClassifier(LogisticRegression()).fit(X, y)
    prevalence = np.mean(y == 1)
    assert_allclose(model.prevalence_, [1 - prevalence, prevalence])
    assert model.threshold_ == pytest.approx(prevalence)
    risk = model.predict_proba(X)[:, 1]
    # The ratio rule, written out, and the threshold at the prevalence.
    ratio = model.predict_proba(X) / model.prevalence_
    assert_array_equal(model.predict(X), np.argmax(ratio, axis=1))
    assert_array_equal(model.predict(X), (risk > prevalence).astype(int))
    # It calls more minority rows than the 0.5 threshold of plain predict.
    plain = LogisticRegression().fit(X, y).predict(X)
    assert model.predict(X).sum() > plain.sum()


def test_binary_rule_with_string_labels_and_either_positive_class():
    X, y = _data()
    labels = np.where(y == 1, "ill", "healthy")
    model = PrevalenceDecisionClassifier(LogisticRegression()).fit(X, labels)
    assert list(model.classes_) == ["healthy", "ill"]
    risk = model.predict_proba(X)[:, 1]
    assert_array_equal(model.predict(X) == "ill", risk > np.mean(y == 1))
    # The rule is symmetric: stating the other class as positive changes nothing.
    other = PrevalenceDecisionClassifier(LogisticRegression(), pos_label="healthy")
    assert_array_equal(other.fit(X, labels).predict(X), model.predict(X))
    assert other.threshold_ == pytest.approx(np.mean(y == 0))


def test_multiclass_rule_is_the_largest_ratio_to_the_prevalence():
    X, y = _data(n=600, weights=(0.7, 0.2, 0.1), n_classes=3)
    model = PrevalenceDecisionClassifier(LogisticRegression()).fit(X, y)
    assert_allclose(model.prevalence_, [np.mean(y == k) for k in range(3)])
    assert model.threshold_ is None
    proba = model.predict_proba(X)
    expected = np.argmax(proba / model.prevalence_, axis=1)
    assert_array_equal(model.predict(X), expected)
    # Differs from argmax on some rows, towards the rarer classes.
    argmax = np.argmax(proba, axis=1)
    changed = model.predict(X) != argmax
    assert changed.any()
    assert np.all(model.predict(X)[changed] > 0)


def test_a_stated_threshold_replaces_the_prevalence():
    X, y = _data()
    model = PrevalenceDecisionClassifier(LogisticRegression(), threshold=0.3)
    model.fit(X, y)
    assert model.threshold_ == 0.3
    risk = model.predict_proba(X)[:, 1]
    assert_array_equal(model.predict(X), (risk >= 0.3).astype(int))
    # The threshold applies to the probability of pos_label.
    model.set_params(pos_label=0).fit(X, y)
    assert_array_equal(model.predict(X), np.where(1 - risk >= 0.3, 0, 1))
    with pytest.raises(ValueError, match="pos_label=2 is not a class"):
        model.set_params(pos_label=2).fit(X, y)


def test_a_stated_threshold_refuses_a_multiclass_target():
    X, y = _data(n=300, weights=None, n_classes=3)
    model = PrevalenceDecisionClassifier(LogisticRegression(), threshold=0.4)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        model.fit(X, y)


@pytest.mark.parametrize("bad", [0.0, 1.0, "half", 2])
def test_threshold_is_validated(bad):
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="threshold"):
        PrevalenceDecisionClassifier(LogisticRegression(), threshold=bad).fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [MultiOutputClassifier(LogisticRegression()), LateFusionClassifier()],
    ids=["list of per-label probabilities", "one array of label risks"],
)
def test_multilabel_rule_is_each_labels_prevalence(estimator):
    X, Y = make_multimodal_classification(
        300, modality_sizes=(3, 3), n_labels=3, weights=(0.8, 0.2), random_state=0
    )
    Y = Y.to_numpy()
    model = PrevalenceDecisionClassifier(estimator).fit(X, Y)
    assert_allclose(model.prevalence_, Y.mean(axis=0))
    assert_allclose(model.threshold_, Y.mean(axis=0))
    proba = model.predict_proba(X)
    risk = (
        np.column_stack([p[:, 1] for p in proba]) if isinstance(proba, list) else proba
    )
    assert_array_equal(model.predict(X), (risk > Y.mean(axis=0)).astype(int))
    stated = clone(model).set_params(threshold=0.5).fit(X, Y)
    assert_array_equal(stated.predict(X), (risk >= 0.5).astype(int))


def test_a_single_target_estimator_refuses_a_multilabel_target_by_name():
    X, Y = make_multimodal_classification(
        60, modality_sizes=(3, 3), n_labels=2, random_state=0
    )
    with pytest.raises(ValueError, match="PrevalenceDecisionClassifier: Logistic"):
        PrevalenceDecisionClassifier(LogisticRegression()).fit(X, Y)


def test_sample_weight_weighs_the_prevalence():
    X, y = _data(n=200)
    weights = np.where(y == 1, 3.0, 1.0)
    model = PrevalenceDecisionClassifier(LogisticRegression())
    model.fit(X, y, sample_weight=weights)
    share = 3 * np.sum(y == 1) / np.sum(weights)
    assert_allclose(model.prevalence_, [1 - share, share])
    reference = LogisticRegression().fit(X, y, sample_weight=weights)
    assert_allclose(model.predict_proba(X), reference.predict_proba(X))


def test_clone_and_pickle_keep_the_rule():
    X, y = _data()
    model = PrevalenceDecisionClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(C=0.5)), threshold=0.2
    )
    cloned = clone(model)
    assert cloned.get_params()["estimator__logisticregression__C"] == 0.5
    assert cloned.threshold == 0.2 and cloned.estimator is not model.estimator
    model.fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict(X), model.predict(X))
    assert_allclose(restored.predict_proba(X), model.predict_proba(X))
    model.set_params(estimator__logisticregression__C=2.0)
    assert model.estimator[-1].C == 2.0


class _GroupsRecorder(DelegatingClassifier):
    """Logistic regression that requests groups and records what it gets."""

    __metadata_request__fit = {"groups": True}  # noqa: RUF012 (sklearn's name)
    seen = []

    def fit(self, X, y, groups=None):
        type(self).seen.append(None if groups is None else np.asarray(groups))
        return self._fitted(LogisticRegression().fit(X, y))


def test_groups_reach_the_wrapped_estimator_by_metadata_routing():
    X, y = _data(n=90)
    groups = np.arange(90) // 3
    _GroupsRecorder.seen = []
    with config_context(enable_metadata_routing=True):
        PrevalenceDecisionClassifier(_GroupsRecorder()).fit(X, y, groups=groups)
        # A grouped inner search in a pipeline: its splitter gets the groups.
        search = make_pipeline(
            BlockScaler(),
            PrevalenceDecisionClassifier(
                LogisticRegressionCV(Cs=3, cv=GroupKFold(3), max_iter=500)
            ),
        )
        search.fit(X, y, groups=groups)
    assert_array_equal(_GroupsRecorder.seen[0], groups)
    # Without routing, fit's keyword arguments are passed as given.
    PrevalenceDecisionClassifier(_GroupsRecorder()).fit(X, y, groups=groups)
    assert_array_equal(_GroupsRecorder.seen[1], groups)
    # A GroupKFold without groups fails: the search above received them.
    with pytest.raises(ValueError, match="groups"):
        LogisticRegressionCV(Cs=3, cv=GroupKFold(3)).fit(X, y)


def test_the_study_sees_the_wrapped_request_for_groups():
    from skfusion.study._runner import requests_groups

    assert requests_groups(PrevalenceDecisionClassifier(_GroupsRecorder()))
    assert not requests_groups(PrevalenceDecisionClassifier(LogisticRegression()))
    assert requests_groups(
        make_pipeline(
            BlockScaler(),
            PrevalenceDecisionClassifier(LogisticRegressionCV(cv=GroupKFold(3))),
        )
    )


def test_tags_follow_the_wrapped_estimator():
    from sklearn.utils import get_tags

    late = get_tags(PrevalenceDecisionClassifier(LateFusionClassifier()))
    assert late.input_tags.allow_nan and late.classifier_tags.multi_label
    plain = get_tags(PrevalenceDecisionClassifier(LogisticRegression()))
    assert not plain.input_tags.allow_nan and plain.classifier_tags.multi_class
    stated = get_tags(PrevalenceDecisionClassifier(LogisticRegression(), threshold=0.2))
    assert not stated.classifier_tags.multi_class
