"""Survival fusion: Cox models tuned inside the folds, and late fusion of risks.

Targets are scikit-survival's structured arrays of an event indicator and a
time (``sksurv.util.Surv.from_arrays(event, time)``). Every model here
predicts a risk score (greater means an earlier event), scores by Harrell's
concordance index and gives survival functions, as scikit-survival's models
do. scikit-survival is imported on use (the ``survival`` extra).
"""

import importlib
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted

from ..blocks import MODALITY_SEPARATOR, FusionMixin
from ..utils._sklearn_compat import HasMethods, Interval, StrOptions
from .early import BlockScaler

__all__ = ["LateFusionSurvival", "check_survival_y", "coxnet_with_inner_cv"]

# The penalties the inner cross-validation chooses from: the first few of
# Coxnet's own path (from the largest, which keeps no feature, down by
# ``alpha_min_ratio``), fitted on the training rows.
_N_ALPHAS = 8
_ALPHA_MIN_RATIO = 0.05


def _sksurv(module):
    try:
        return importlib.import_module(f"sksurv.{module}")
    except ImportError as exc:
        raise ImportError(
            "Survival models need scikit-survival, which is not installed: "
            "pip install 'skfusion[survival]'"
        ) from exc


def check_survival_y(estimator, y):
    """The event indicator and time of a survival target, checked.

    Parameters
    ----------
    estimator : estimator instance
        Named in the messages.

    y : structured ndarray of shape (n_samples,)
        A bool (or 0/1) event field and a float time field.

    Returns
    -------
    event : ndarray of bool
    time : ndarray of float

    Raises
    ------
    ValueError
        For a target that is not such an array, a negative or missing time,
        or no event at all.
    """
    name = type(estimator).__name__
    if y is None:
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None: give a "
            "survival target (event indicator, time)."
        )
    dtype = getattr(y, "dtype", None)
    if dtype is None or dtype.names is None or len(dtype.names) != 2:
        raise ValueError(
            f"{name} needs a survival target: a structured array of an event "
            "indicator and a time, e.g. sksurv.util.Surv.from_arrays(event, time)."
        )
    kinds = [dtype[field].kind for field in dtype.names]
    event_field = dtype.names[kinds.index("b")] if "b" in kinds else dtype.names[0]
    time_field = [f for f in dtype.names if f != event_field][0]
    event, time = np.asarray(y[event_field]), np.asarray(y[time_field], dtype=float)
    if event.dtype != bool:
        if not np.isin(event, [0, 1]).all():
            raise ValueError(f"{name}: the event indicator must be 0/1 or True/False.")
        event = event.astype(bool)
    bad = np.flatnonzero(~np.isfinite(time) | (time < 0))
    if bad.size:
        raise ValueError(
            f"{name}: the time is negative or missing in {bad.size} row(s), "
            f"first at row {int(bad[0])}."
        )
    if not event.any():
        raise ValueError(f"{name}: every row is censored; no event to learn from.")
    return event, time


def _harrell_c(event, time, risk):
    metrics = _sksurv("metrics")
    return metrics.concordance_index_censored(event, time, risk)[0]


class _SurvivalScoreMixin:
    """Harrell's C as ``score`` and survival functions from ``baseline_``."""

    def score(self, X, y):
        """Harrell's concordance index of the predicted risks.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        y : structured ndarray of shape (n_samples,)
            The survival target.

        Returns
        -------
        score : float
        """
        event, time = check_survival_y(self, y)
        return _harrell_c(event, time, self.predict(X))

    def predict_survival_function(self, X, return_array=False):
        """Survival functions: Breslow's baseline at the predicted risks.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        return_array : bool, default=False
            Return the values at ``unique_times_`` instead of step functions.

        Returns
        -------
        survival : ndarray of StepFunction, or of shape (n_samples, n_times)
        """
        functions = self.baseline_.get_survival_function(self.predict(X))
        if return_array:
            return np.vstack([function(self.unique_times_) for function in functions])
        return functions

    def predict_cumulative_hazard_function(self, X, return_array=False):
        """Cumulative hazard functions: Breslow's baseline at the risks.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        return_array : bool, default=False
            Return the values at ``unique_times_`` instead of step functions.

        Returns
        -------
        hazard : ndarray of StepFunction, or of shape (n_samples, n_times)
        """
        functions = self.baseline_.get_cumulative_hazard_function(self.predict(X))
        if return_array:
            return np.vstack([function(self.unique_times_) for function in functions])
        return functions

    def _fit_baseline(self, risk, event, time):
        breslow = _sksurv("linear_model.coxph")
        self.baseline_ = breslow.BreslowEstimator().fit(risk, event, time)
        self.unique_times_ = self.baseline_.unique_times_


def _event_folds(event, n_splits, random_state):
    """Train/test positions of folds stratified on the event indicator."""
    n_splits = max(2, min(n_splits, int(event.sum()), int((~event).sum()) or 2))
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(event)), event))


class _InnerCVCoxnet(_SurvivalScoreMixin, BaseEstimator):
    """Elastic-net Cox regression whose penalty an inner CV chooses.

    See :func:`coxnet_with_inner_cv`.
    """

    def __init__(self, l1_ratio=0.5, cv=3, random_state=None):
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y):
        linear = _sksurv("linear_model")
        event, time = check_survival_y(self, y)
        X = np.asarray(X, dtype=float)
        path = linear.CoxnetSurvivalAnalysis(
            l1_ratio=self.l1_ratio,
            n_alphas=_N_ALPHAS,
            alpha_min_ratio=_ALPHA_MIN_RATIO,
        ).fit(X, y)
        search = GridSearchCV(
            linear.CoxnetSurvivalAnalysis(
                l1_ratio=self.l1_ratio, fit_baseline_model=True
            ),
            {"alphas": [[alpha] for alpha in path.alphas_]},
            cv=_event_folds(event, self.cv, self.random_state),
            error_score=np.nan,
        )
        with warnings.catch_warnings():
            # A small penalty may not converge on a fold: that alpha loses.
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.simplefilter("ignore", UserWarning)
            search.fit(X, y)
        self.alpha_ = float(search.best_params_["alphas"][0])
        self.cv_scores_ = search.cv_results_["mean_test_score"]
        self.model_ = search.best_estimator_
        self.unique_times_ = self.model_.unique_times_
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        check_is_fitted(self, "model_")
        return self.model_.predict(np.asarray(X, dtype=float))

    def predict_survival_function(self, X, return_array=False):
        check_is_fitted(self, "model_")
        return self.model_.predict_survival_function(
            np.asarray(X, dtype=float), return_array=return_array
        )

    def predict_cumulative_hazard_function(self, X, return_array=False):
        check_is_fitted(self, "model_")
        return self.model_.predict_cumulative_hazard_function(
            np.asarray(X, dtype=float), return_array=return_array
        )


def coxnet_with_inner_cv(*, l1_ratio=0.5, cv=3, random_state=None):
    """Standardised blocks and an elastic-net Cox model tuned by inner CV.

    A :class:`BlockScaler` (missing values and modalities imputed with the
    training means, 0 after scaling) followed by scikit-survival's
    ``CoxnetSurvivalAnalysis``, whose penalty is chosen among the first
    eight of its own regularisation path (down to 5% of the largest
    penalty), fitted on the training rows, by an inner ``cv``-fold
    cross-validation of the training rows stratified on the event indicator
    and scored by Harrell's C. The penalty is chosen inside the rows the
    model is fitted on, never on the evaluation fold.

    Parameters
    ----------
    l1_ratio : float, default=0.5
        The elastic-net mixing: 1 is the lasso, close to 0 ridge. 0.5 keeps
        groups of correlated features (co-expressed genes) together while
        still selecting.

    cv : int, default=3
        Inner folds (fewer when the events are too few).

    random_state : int or None, default=None
        Seed of the inner folds.

    Returns
    -------
    estimator : Pipeline
        With ``predict`` (risk scores), ``score`` (Harrell's C) and
        ``predict_survival_function``.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_survival
    >>> from skfusion.fusion import coxnet_with_inner_cv
    >>> X, y = make_multimodal_survival(120, modality_sizes=(3, 3), random_state=0)
    >>> model = coxnet_with_inner_cv(random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.6)
    True
    """
    return make_pipeline(
        BlockScaler(),
        _InnerCVCoxnet(l1_ratio=l1_ratio, cv=cv, random_state=random_state),
    )


class LateFusionSurvival(_SurvivalScoreMixin, FusionMixin, BaseEstimator):
    """Late fusion of per-modality risk scores for a time-to-event target.

    One survival model per modality, fitted on the training rows that have
    that modality; each model's risks are standardised by the mean and
    standard deviation of its out-of-fold risks, and combined:

    - ``combiner="mean"``: the mean of the standardised risks of the
      modalities present in a row;
    - ``combiner="stacking"``: a Cox model (ridge-penalised
      ``CoxPHSurvivalAnalysis``) on the out-of-fold standardised risks (0
      where a modality is missing) and one availability indicator per
      modality, so that it learns how much each modality is worth, and how
      much its absence says.

    A row with no modality gets risk 0, the average standardised risk.
    Survival functions come from Breslow's baseline fitted on the fused
    training risks (in-sample for ``"mean"``, the stacker's own for
    ``"stacking"``).

    Parameters
    ----------
    estimator : estimator or None, default=None
        The per-modality survival model, cloned for each modality; None
        means :func:`coxnet_with_inner_cv`.

    combiner : {"mean", "stacking"}, default="mean"
        How the per-modality risks are combined.

    cv : int, default=5
        Folds of the out-of-fold risks (stratified on the event indicator).

    modalities : dict or None, default=None
        See :func:`~skfusion.blocks.resolve_modalities`; by default the
        column-name prefixes.

    random_state : int or None, default=None
        Seed of the folds and of the default per-modality models.

    Attributes
    ----------
    estimators_ : dict of str to estimator
        The fitted model of each modality.

    risk_mean_, risk_scale_ : dict of str to float
        The standardisation of each modality's risks.

    final_estimator_ : CoxPHSurvivalAnalysis or None
        The stacker (``combiner="stacking"``).

    baseline_ : BreslowEstimator
        The baseline hazard of the fused risks.

    unique_times_ : ndarray
        The event times of the baseline.

    modalities_ : dict of str to ndarray of int
        Column positions of each modality.

    n_features_in_ : int
        Number of columns seen in :meth:`fit`.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_survival
    >>> from skfusion.fusion import LateFusionSurvival
    >>> X, y = make_multimodal_survival(
    ...     150, modality_sizes=(3, 3), missing_rate=0.2, random_state=0)
    >>> model = LateFusionSurvival(random_state=0).fit(X, y)
    >>> list(model.predict_by_modality(X[:2]).columns)
    ['m0', 'm1']
    >>> bool(model.score(X, y) > 0.6)
    True
    """

    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "predict"])],
        "combiner": [StrOptions({"mean", "stacking"})],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "modalities": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        combiner="mean",
        cv=5,
        modalities=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.combiner = combiner
        self.cv = cv
        self.modalities = modalities
        self.random_state = random_state

    def fit(self, X, y):
        """Fit one model per modality and the combination.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; an all-NaN block marks a missing modality.

        y : structured ndarray of shape (n_samples,)
            The survival target (event indicator, time).

        Returns
        -------
        self : LateFusionSurvival
        """
        self._validate_params()
        event, time = check_survival_y(self, y)
        X = self._validate_blocks(X, reset=True)
        if len(X) != len(event):
            raise ValueError(
                f"{type(self).__name__}: X has {len(X)} rows and y {len(event)}."
            )
        present = self._present(X)
        seed = None if self.random_state is None else int(self.random_state)
        estimator = (
            coxnet_with_inner_cv(random_state=seed)
            if self.estimator is None
            else self.estimator
        )
        n_modalities = len(self.modalities_)
        out_of_fold = np.zeros((len(X), n_modalities))
        self.estimators_, self.risk_mean_, self.risk_scale_ = {}, {}, {}
        for m, name in enumerate(self.modalities_):
            rows = np.flatnonzero(present[:, m])
            if not event[rows].any():
                raise ValueError(
                    f"{type(self).__name__}: no row with modality {name!r} has an "
                    "event; its model cannot be fitted."
                )
            block = self._block(X, rows, name)
            risks = np.empty(len(rows))
            for train, test in _event_folds(event[rows], self.cv, seed):
                model = clone(estimator).fit(block.iloc[train], y[rows[train]])
                risks[test] = model.predict(block.iloc[test])
            self.estimators_[name] = clone(estimator).fit(block, y[rows])
            self.risk_mean_[name] = float(risks.mean())
            self.risk_scale_[name] = float(risks.std()) or 1.0
            out_of_fold[rows, m] = (risks - self.risk_mean_[name]) / self.risk_scale_[
                name
            ]
        self.final_estimator_ = None
        if self.combiner == "stacking":
            linear = _sksurv("linear_model")
            self.final_estimator_ = linear.CoxPHSurvivalAnalysis(alpha=0.1).fit(
                np.hstack([out_of_fold, present]), y
            )
            fused = self.final_estimator_.predict(np.hstack([out_of_fold, present]))
        else:
            fused = self._mean(self._standardised(X, present), present)
        self._fit_baseline(fused, event, time)
        return self

    def _block(self, X, rows, name):
        """Rows of one modality's block, named so that a BlockScaler finds it."""
        columns = self.modalities_[name]
        names = getattr(self, "feature_names_in_", None)
        labels = (
            [str(names[c]) for c in columns]
            if names is not None
            else [f"{name}{MODALITY_SEPARATOR}x{j}" for j in range(len(columns))]
        )
        return pd.DataFrame(X[np.ix_(rows, columns)], columns=labels)

    def _standardised(self, X, present):
        """Each modality's standardised risk; NaN where it is missing."""
        risks = np.full((len(X), len(self.modalities_)), np.nan)
        for m, name in enumerate(self.modalities_):
            rows = np.flatnonzero(present[:, m])
            if rows.size:
                raw = self.estimators_[name].predict(self._block(X, rows, name))
                risks[rows, m] = (raw - self.risk_mean_[name]) / self.risk_scale_[name]
        return risks

    @staticmethod
    def _mean(risks, present):
        counts = present.sum(axis=1)
        total = np.where(present, risks, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, total / np.maximum(counts, 1), 0.0)

    def predict(self, X):
        """Fused risk scores (greater: an earlier event).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        Returns
        -------
        risk : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimators_")
        X = self._validate_blocks(X, reset=False)
        present = self._present(X)
        risks = self._standardised(X, present)
        if self.final_estimator_ is None:
            return self._mean(risks, present)
        features = np.hstack([np.where(present, risks, 0.0), present])
        return self.final_estimator_.predict(features)

    def predict_by_modality(self, X):
        """Each modality's standardised risk (NaN where it is missing).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        Returns
        -------
        risks : DataFrame of shape (n_samples, n_modalities)
        """
        check_is_fitted(self, "estimators_")
        index = X.index if hasattr(X, "index") else None
        X = self._validate_blocks(X, reset=False)
        risks = self._standardised(X, self._present(X))
        return pd.DataFrame(risks, columns=list(self.modalities_), index=index)
