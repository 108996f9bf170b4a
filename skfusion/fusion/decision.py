"""The decision rule of a classifier whose risks are calibrated to the prevalence.

A model fitted without class weights estimates risks at the training
prevalence; an imbalanced target is then handled where the decision is taken,
not by distorting the risks (van den Goorbergh et al., JAMIA 2022):
:class:`PrevalenceDecisionClassifier` keeps the wrapped model's probabilities
and predicts the class whose risk is largest relative to its training share.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from ..utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    fit_context,
    routing_enabled,
)

__all__ = ["PrevalenceDecisionClassifier"]


def _estimator_has(method):
    """Whether the wrapped estimator (fitted, else as given) has ``method``."""

    def check(self):
        return hasattr(getattr(self, "estimator_", self.estimator), method)

    return check


class PrevalenceDecisionClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier's risks as they are, its decision at the training prevalence.

    The wrapped classifier's ``predict_proba`` (and ``decision_function``,
    ``predict_log_proba``) are returned unchanged; :meth:`predict` picks, in
    each row, the class with the largest ratio of its predicted risk to its
    share of the training rows (``prevalence_``). A classifier fitted without
    class weights estimates risks calibrated to that prevalence, so the rule
    handles class imbalance at the decision and leaves the risks, the Brier
    score, the calibration and any decision curve unbiased: it is the
    decision a model fitted with balanced class weights would take, without
    distorting the risks (van den Goorbergh, van Smeden, Timmerman and Van
    Calster, "The harm of class imbalance corrections for risk prediction
    models", JAMIA 2022).

    - Binary target: the rule calls a row positive when its risk exceeds the
      positive class's training prevalence. A number ``threshold`` replaces
      the prevalence: the row is ``pos_label`` when its probability of
      ``pos_label`` is at least ``threshold``.
    - Multiclass target: the class of largest ``risk / prevalence``.
    - Multi-label target (a 0/1 indicator matrix): each label is 1 when its
      risk exceeds that label's training prevalence, or is at least a number
      ``threshold``.

    Ties go to the first class (binary and multi-label: a risk equal to the
    prevalence is not called positive).

    Parameters
    ----------
    estimator : classifier
        The model whose risks are used; needs ``predict_proba``. Its risks
        should be calibrated to the training prevalence: fitted without
        class weights or resampling (with ``class_weight="balanced"`` they are
        calibrated to equal classes, and plain ``argmax`` is the rule to
        use).

    threshold : "prevalence" or float in (0, 1), default="prevalence"
        ``"prevalence"`` for the rule above; a number is the probability from
        which a row is called ``pos_label`` (binary target) or a label 1
        (multi-label target). A multiclass target takes ``"prevalence"``
        only.

    pos_label : int, float, bool, str or None, default=None
        The positive class of a binary target with a number ``threshold``;
        None means the greater label (``classes_[1]``). Unused otherwise.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.

    classes_ : ndarray of shape (n_classes,) or list of ndarray
        The wrapped classifier's classes.

    prevalence_ : ndarray of shape (n_classes,) or (n_labels,)
        Share of the training rows of each class (``sample_weight``-weighted
        when one is passed to ``fit``); for a multi-label target, the share
        of rows with each label.

    threshold_ : float, ndarray of shape (n_labels,) or None
        The probability from which a row is called positive: of the positive
        class for a binary target, of each label for a multi-label one (the
        prevalence, or ``threshold``); None for a multiclass target, whose
        rule compares ratios.

    n_features_in_ : int
        Number of features seen during fit (when the estimator has it).

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit (when the estimator has them).

    See Also
    --------
    sklearn.model_selection.FixedThresholdClassifier : A stated threshold on a
        binary classifier's score.
    sklearn.model_selection.TunedThresholdClassifierCV : A threshold tuned by
        cross-validation to optimise a metric.

    Notes
    -----
    For a binary target the ratio rule and the threshold at the prevalence are
    one rule: with risk ``p`` of the positive class and prevalence ``pi``,
    ``p / pi > (1 - p) / (1 - pi)`` exactly when ``p > pi``. It is the Bayes
    decision that maximises the expected balanced accuracy when the risks are
    calibrated. ``fit`` passes its keyword arguments (``groups``,
    ``sample_weight``, ...) to the estimator's ``fit``, through scikit-learn's
    metadata routing when it is enabled.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.fusion import PrevalenceDecisionClassifier
    >>> X, y = make_multimodal_classification(
    ...     300, weights=(0.9, 0.1), informativeness=1.5, random_state=0
    ... )
    >>> model = PrevalenceDecisionClassifier(LogisticRegression()).fit(X, y)
    >>> model.prevalence_.round(2).tolist(), round(float(model.threshold_), 2)
    ([0.9, 0.1], 0.1)
    >>> risk = model.predict_proba(X)[:, 1]
    >>> bool(((risk > 0.1) == (model.predict(X) == 1)).all())
    True
    >>> model.set_params(threshold=0.3).fit(X, y).threshold_
    0.3
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "threshold": [
            StrOptions({"prevalence"}),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "pos_label": [Real, str, "boolean", None],
    }

    def __init__(self, estimator, *, threshold="prevalence", pos_label=None):
        self.estimator = estimator
        self.threshold = threshold
        self.pos_label = pos_label

    # The wrapped estimator checks its own parameters when fitted.
    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the estimator and record the training prevalence of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training input, passed to the estimator as it is.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix of several labels.

        **fit_params : dict
            Passed to the estimator's ``fit`` (``groups``, ``sample_weight``,
            ...): as requested by metadata routing when it is enabled, as
            given otherwise.

        Returns
        -------
        self : PrevalenceDecisionClassifier
            The fitted classifier.
        """
        check_classification_targets(y)
        y_array = np.asarray(y)
        kind = type_of_target(y_array, input_name="y")
        if kind == "multiclass-multioutput":
            raise ValueError(
                f"{type(self).__name__} takes class labels or a 0/1 indicator "
                "matrix of several labels, not several multiclass targets."
            )
        inner = get_tags(self.estimator)
        takes_labels = inner.target_tags.multi_output or (
            inner.classifier_tags is not None and inner.classifier_tags.multi_label
        )
        if kind == "multilabel-indicator" and not takes_labels:
            raise ValueError(
                f"{type(self).__name__}: {type(self.estimator).__name__} takes a "
                "single target, not a multi-label one; wrap it in scikit-learn's "
                "MultiOutputClassifier."
            )
        if kind == "multiclass" and self.threshold != "prevalence":
            raise ValueError(
                f"Only binary classification is supported with threshold="
                f"{self.threshold!r} (and multi-label targets); the type of the "
                "target is multiclass, which takes threshold='prevalence'."
            )
        if routing_enabled():
            routed = process_routing(self, "fit", **fit_params).estimator.fit
        else:
            routed = fit_params
        self.estimator_ = clone(self.estimator).fit(X, y, **routed)
        weights = fit_params.get("sample_weight")
        if kind == "multilabel-indicator":
            self.prevalence_ = np.average(y_array != 0, axis=0, weights=weights)
        else:
            self.prevalence_ = np.array(
                [
                    np.average(y_array == label, weights=weights)
                    for label in self.estimator_.classes_
                ]
            )
        self._multilabel = kind == "multilabel-indicator"
        self.threshold_ = self._threshold(kind)
        for attribute in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attribute):
                setattr(self, attribute, getattr(self.estimator_, attribute))
        return self

    def _threshold(self, kind):
        if kind == "multiclass":
            return None
        if kind == "multilabel-indicator":
            if self.threshold == "prevalence":
                return self.prevalence_.copy()
            return np.full(len(self.prevalence_), float(self.threshold))
        positive = self._positive_column()
        if self.threshold == "prevalence":
            return self.prevalence_[positive]
        return float(self.threshold)

    def _positive_column(self):
        classes = list(self.estimator_.classes_)
        if self.pos_label is None:
            return len(classes) - 1
        if self.pos_label not in classes:
            raise ValueError(
                f"pos_label={self.pos_label!r} is not a class; the classes are "
                f"{classes}."
            )
        return classes.index(self.pos_label)

    @property
    def classes_(self):
        """The wrapped classifier's classes."""
        return self.estimator_.classes_

    def predict(self, X):
        """The class of largest risk relative to its prevalence, or over threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input, passed to the estimator's ``predict_proba``.

        Returns
        -------
        labels : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or the 0/1 indicator matrix of a multi-label target.
        """
        check_is_fitted(self)
        proba = self.estimator_.predict_proba(X)
        if self._multilabel:
            proba = _positive_risks(proba)
            if self.threshold == "prevalence":
                return (proba > self.threshold_).astype(int)
            return (proba >= self.threshold_).astype(int)
        classes = np.asarray(self.estimator_.classes_)
        proba = np.asarray(proba)
        if self.threshold == "prevalence":
            # A class of no training weight (sample_weight 0) is never chosen.
            ratio = np.divide(
                proba,
                self.prevalence_,
                out=np.full(proba.shape, -np.inf),
                where=self.prevalence_ > 0,
            )
            return classes[np.argmax(ratio, axis=1)]
        positive = self._positive_column()
        called = proba[:, positive] >= self.threshold_
        return np.where(called, classes[positive], classes[1 - positive])

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """The wrapped classifier's class probabilities, unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list of ndarray
            As the estimator returns them.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """The wrapped classifier's log-probabilities, unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            As the estimator returns them.
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The wrapped classifier's decision function, unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As the estimator returns them.
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    def get_metadata_routing(self):
        """How ``fit``'s metadata reach the estimator.

        Returns
        -------
        routing : MetadataRouter
            ``fit``'s metadata go to the estimator's ``fit``, as it requests
            them.
        """
        return MetadataRouter(owner=self).add(
            estimator=self.estimator,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.target_tags.multi_output = inner.target_tags.multi_output
        if inner.classifier_tags is not None:
            tags.classifier_tags.multi_label = inner.classifier_tags.multi_label
        # A stated threshold applies to one positive class (or to each label).
        tags.classifier_tags.multi_class = self.threshold == "prevalence"
        return tags


def _positive_risks(proba):
    """Each label's risk as one ``(n_samples, n_labels)`` array.

    scikit-learn's multi-label classifiers (``MultiOutputClassifier``) return
    a list of per-label ``(n_samples, 2)`` arrays; skfusion's return the
    array already.
    """
    if isinstance(proba, list):
        return np.column_stack([label[:, -1] for label in proba])
    return np.asarray(proba)
