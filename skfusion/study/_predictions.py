"""Score stored out-of-fold predictions with ordinary sklearn scorers."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if


def _has(attribute):
    return lambda self: getattr(self, attribute) is not None


class StoredClassifierPredictions(ClassifierMixin, BaseEstimator):
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


class StoredRegressorPredictions(RegressorMixin, BaseEstimator):
    """A 'fitted regressor' that answers with predictions made earlier."""

    def __init__(self, values):
        self.values = values

    def predict(self, X):
        return self.values[_rows(X)]


class StoredSurvivalPredictions(BaseEstimator):
    """A 'fitted survival model' answering with stored risks and survival.

    ``predict`` gives the stored risk scores of the rows; ``survival_at_grid``
    their survival probabilities at the study's time grid (None when the
    model had no survival function).
    """

    def __init__(self, risk, survival=None):
        self.risk = risk
        self.survival = survival

    def predict(self, X):
        return self.risk[_rows(X)]

    def survival_at_grid(self, X):
        return None if self.survival is None else self.survival[_rows(X)]


def _rows(X):
    return np.asarray(X, dtype=np.intp).ravel()
