"""Score stored out-of-fold predictions with ordinary sklearn scorers."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if


def _has(attribute):
    return lambda self: getattr(self, attribute) is not None


class _StoredClassifierPredictions(ClassifierMixin, BaseEstimator):
    """A 'fitted classifier' that answers with predictions made earlier.

    A scorer called with ``X`` = row positions (shape ``(n, 1)``) gets the
    stored responses of those rows, so any sklearn scorer can be computed on
    pooled out-of-fold predictions or on a subset of rows.
    """

    def __init__(self, classes, labels, proba=None, decision=None):
        self.classes = classes
        self.labels = labels
        self.proba = proba
        self.decision = decision
        self.classes_ = classes

    def predict(self, X):
        return self.labels[_rows(X)]

    @available_if(_has("proba"))
    def predict_proba(self, X):
        return self.proba[_rows(X)]

    @available_if(_has("decision"))
    def decision_function(self, X):
        return self.decision[_rows(X)]


class _StoredRegressorPredictions(RegressorMixin, BaseEstimator):
    """A 'fitted regressor' that answers with predictions made earlier."""

    def __init__(self, values):
        self.values = values

    def predict(self, X):
        return self.values[_rows(X)]


def _rows(X):
    return np.asarray(X, dtype=np.intp).ravel()


def stored_predictions(classes, labels, proba=None, decision=None):
    """The stored-predictions stand-in for one set of responses.

    Parameters
    ----------
    classes : ndarray or None
        Class labels of a classifier; None for a regressor.

    labels : ndarray of shape (n_samples,)
        Predictions of ``predict``.

    proba, decision : ndarray or None
        Outputs of ``predict_proba`` and ``decision_function``, when the model
        has them.

    Returns
    -------
    estimator : object
        A stand-in to pass to a scorer with ``X = positions[:, None]``.
    """
    if classes is None:
        return _StoredRegressorPredictions(labels)
    return _StoredClassifierPredictions(classes, labels, proba, decision)
