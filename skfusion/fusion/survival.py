"""Survival fusion: Cox models tuned inside the folds, and late fusion of risks.

Targets are scikit-survival's structured arrays of an event indicator and a
time (``sksurv.util.Surv.from_arrays(event, time)``). Every model here
predicts a risk score (greater means an earlier event), scores by Harrell's
concordance index and gives survival functions, as scikit-survival's models
do. scikit-survival is imported on use (the ``survival`` extra), so that
``import skfusion.fusion`` works without it.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

from ..blocks import MODALITY_SEPARATOR, MissingModalityWarning, modality_of_column
from ..survival import SurvivalMixin, import_sksurv
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import (
    Interval,
    StrOptions,
    fit_context,
    routing_enabled,
)
from ..utils.validation import check_survival_target
from .early import BlockScaler
from .late import _BaseLateFusion

__all__ = ["LateFusionSurvival", "check_survival_y", "coxnet_with_inner_cv"]

# The inner CV chooses among this many penalties of Coxnet's own path, from
# the largest (no feature kept) down to _ALPHA_MIN_RATIO of it, fitted on the
# training rows. Measured on the breast-cancer genes and synthetic blocks
# (benchmark in the report of issue 17): the chosen penalty lies between 2%
# and 30% of the largest; 0.01 leaves room below and 12 points keep the fit
# under a second for a few hundred rows.
_N_ALPHAS = 12
_ALPHA_MIN_RATIO = 0.01
# The stacker's ridge penalty: scikit-survival divides it by the number of
# rows, so 1.0 is a weak prior that keeps the coefficient of an indicator
# constant in training (a modality present in every row) at 0.
_STACKING_RIDGE = 1.0
# SurvivalMixin's names of the functions (those of Breslow's estimator), and
# those of the fitted CoxnetSurvivalAnalysis.
_PREDICT_FUNCTION = {
    "get_survival_function": "predict_survival_function",
    "get_cumulative_hazard_function": "predict_cumulative_hazard_function",
}


def check_survival_y(estimator, y):
    """The event indicator and time of a survival target, checked.

    Parameters
    ----------
    estimator : estimator instance
        Named in the messages.

    y : structured ndarray of shape (n_samples,)
        A bool (or 0/1) event field and a float time field, in either order
        (the bool field is the event; without one, the first field).

    Returns
    -------
    event : ndarray of bool
    time : ndarray of float

    Raises
    ------
    ValueError
        For a target that is not such an array, an event indicator that is
        not 0/1, a negative or missing time, or no event at all.

    Examples
    --------
    >>> from sksurv.util import Surv
    >>> from skfusion.fusion import LateFusionSurvival
    >>> from skfusion.fusion.survival import check_survival_y
    >>> y = Surv.from_arrays(event=[True, False], time=[2.0, 5.0])
    >>> check_survival_y(LateFusionSurvival(), y)
    (array([ True, False]), array([2., 5.]))
    """
    return check_survival_target(estimator, y)


def _survival_array(event, time):
    """The target as scikit-survival's estimators take it (a bool event first)."""
    y = np.empty(len(event), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = event, time
    return y


def _harrell_c(event, time, risk):
    metrics = import_sksurv("metrics")
    return metrics.concordance_index_censored(event, time, risk)[0]


def _spread(modalities, outputs):
    """Per modality, the mean and standard deviation of its finite risks.

    A modality without risks has mean 0; one whose risks do not vary (a
    model that kept no feature) has scale 1.
    """
    means, scales = {}, {}
    for modality, risks in zip(modalities, outputs, strict=True):
        risks = risks[np.isfinite(risks)]
        means[modality] = float(risks.mean()) if risks.size else 0.0
        scale = float(risks.std()) if risks.size > 1 else 0.0
        scales[modality] = (
            scale if scale > 1e-12 * max(1.0, abs(means[modality])) else 1.0
        )
    return means, scales


def _event_folds(event, n_splits, random_state, who):
    """Train/test positions of folds stratified on the event indicator.

    As many folds as asked, but no more than there are events (every test
    part then holds one, so that Harrell's C is defined there) nor, when
    some rows are censored, censored rows.
    """
    n_events, n_censored = int(event.sum()), int((~event).sum())
    fewest = min(n_events, n_censored) if n_censored else n_events
    n_splits = min(n_splits, fewest)
    if n_splits < 2:
        raise ValueError(
            f"{who} needs at least two folds stratified on the event, but the "
            f"rows hold {n_events} event(s) and {n_censored} censored row(s)."
        )
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros((len(event), 1)), event))


class _InnerCVCoxnet(SurvivalMixin, BaseEstimator):
    """Elastic-net Cox regression whose penalty an inner CV chooses.

    The second step of :func:`coxnet_with_inner_cv`, which documents it.
    Takes ``groups`` at fit (for a group splitter ``cv``), directly or by
    metadata routing.
    """

    _parameter_constraints = {
        "alphas": ["array-like", None],
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
    }

    def __init__(self, alphas=None, l1_ratio=0.5, cv=3, random_state=None):
        self.alphas = alphas
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, **params):
        """Choose the penalty by inner CV on these rows, then refit on all.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Standardised features, no NaN.

        y : structured ndarray of shape (n_samples,)
            The survival target.

        **params : dict
            ``groups`` for a group splitter ``cv`` (by metadata routing when
            it is enabled).

        Returns
        -------
        self : _InnerCVCoxnet
        """
        linear = import_sksurv("linear_model")
        event, time = check_survival_y(self, y)
        X = validate_data(self, X, dtype=np.float64)
        if len(X) != len(event):
            raise ValueError(
                f"{type(self).__name__}: X has {len(X)} rows and y {len(event)}."
            )
        y = _survival_array(event, time)
        folds = self._folds(X, event, params)
        grid = self.alphas
        if grid is None:
            # The data's own path, from the penalty that keeps no feature:
            # its scale depends on the width and scaling of the blocks.
            grid = (
                linear.CoxnetSurvivalAnalysis(
                    l1_ratio=self.l1_ratio,
                    n_alphas=_N_ALPHAS,
                    alpha_min_ratio=_ALPHA_MIN_RATIO,
                )
                .fit(X, y)
                .alphas_
            )
        grid = np.sort(np.ravel(np.asarray(grid, dtype=float)))[::-1]
        # One warm-started path per inner fold, every penalty read off it:
        # a single-penalty fit from scratch costs a hundred times more at the
        # small penalties (0.8 s against 5 ms for a path of 76 genes).
        scores = np.full((len(folds), len(grid)), np.nan)
        with warnings.catch_warnings():
            # A path that does not converge on a fold leaves it no vote; the
            # Breslow step may divide by an empty risk set's sum.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            for k, (train, test) in enumerate(folds):
                try:
                    path = linear.CoxnetSurvivalAnalysis(
                        l1_ratio=self.l1_ratio, alphas=grid
                    ).fit(X[train], y[train])
                except ArithmeticError:
                    continue
                if not event[test].any():
                    continue
                for j, alpha in enumerate(grid):
                    scores[k, j] = _harrell_c(
                        event[test], time[test], path.predict(X[test], alpha=alpha)
                    )
        mean_scores = np.nanmean(scores, axis=0) if not np.isnan(scores).all() else None
        if mean_scores is None or np.isnan(mean_scores).all():
            raise ValueError(
                f"{type(self).__name__}: every candidate penalty failed on an "
                "inner fold; give larger `alphas`."
            )
        best = int(np.nanargmax(mean_scores))
        self.alpha_ = float(grid[best])
        self.alphas_ = grid
        self.cv_scores_ = mean_scores
        with warnings.catch_warnings():
            # The inner CV may rightly choose a penalty that keeps no feature.
            warnings.filterwarnings("ignore", "all coefficients are zero")
            warnings.simplefilter("ignore", RuntimeWarning)
            # The path down to the chosen penalty, warm-started, with the
            # baseline of each; predictions read the chosen one.
            self.estimator_ = linear.CoxnetSurvivalAnalysis(
                l1_ratio=self.l1_ratio, alphas=grid[: best + 1], fit_baseline_model=True
            ).fit(X, y)
        self.coef_ = self.estimator_.coef_[:, -1]
        self.unique_times_ = self.estimator_.unique_times_
        return self

    def _folds(self, X, event, params):
        if routing_enabled():
            split_params = process_routing(self, "fit", **params).splitter.split
        else:
            split_params = Bunch(groups=params.pop("groups", None))
            if params:
                raise TypeError(
                    f"{type(self).__name__}.fit got unexpected parameter(s) "
                    f"{sorted(params)}."
                )
        if isinstance(self.cv, Integral):
            return _event_folds(
                event, self.cv, self.random_state, f"{type(self).__name__}'s inner CV"
            )
        # The splitter sees the event indicator as y: a stratified splitter
        # stratifies on it.
        splitter = check_cv(self.cv, event, classifier=True)
        return list(splitter.split(X, event, **split_params))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def get_metadata_routing(self):
        """How ``groups`` reach the inner splitter.

        Returns
        -------
        routing : MetadataRouter
        """
        return MetadataRouter(owner=self).add(
            splitter=check_cv(self.cv, classifier=True),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )

    def predict(self, X):
        """Risk scores: the linear predictor of the chosen model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        risk : ndarray of shape (n_samples,)
        """
        return self._at_chosen_alpha("predict", X)

    def _functions(self, method, X, return_array):
        # SurvivalMixin's hook: the chosen model's own functions, from the
        # Breslow baseline that Coxnet's path keeps for each penalty.
        predict = _PREDICT_FUNCTION[method]
        return self._at_chosen_alpha(predict, X, return_array=return_array)

    def _at_chosen_alpha(self, method, X, **kwargs):
        """``estimator_``'s ``method`` of the validated ``X`` at ``alpha_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return getattr(self.estimator_, method)(X, alpha=self.alpha_, **kwargs)


def coxnet_with_inner_cv(*, alphas=None, l1_ratio=0.5, cv=3, random_state=None):
    """Standardised blocks and an elastic-net Cox model tuned by inner CV.

    A :class:`BlockScaler` with availability indicators (missing values and
    missing modalities are imputed with the training mean of each column, 0
    after scaling; each block is weighted to total variance 1, so a wide
    block of genes is not favoured over a few clinical columns, and an
    indicator per modality lets the model learn what a missing modality
    says), followed by scikit-survival's ``CoxnetSurvivalAnalysis``. Its
    penalty is chosen by a ``cv``-fold cross-validation of the rows it is
    fitted on (in a study, the training rows of each fold, never the
    evaluation fold), scored by Harrell's C, with
    :class:`~sklearn.model_selection.GridSearchCV` over one penalty per
    candidate as scikit-survival's user guide does; the chosen model is then
    refitted on all those rows, with Breslow's baseline for survival
    functions.

    The candidate penalties are, unless given, twelve of Coxnet's own path
    fitted on those rows, from the largest (which keeps no feature) down to
    1% of it, evenly spaced on a log scale: the scale of the penalty depends
    on the number and scaling of the columns, which a fixed grid cannot
    follow.

    Parameters
    ----------
    alphas : array-like of float, default=None
        The candidate penalties; None takes them from the data's path.

    l1_ratio : float in (0, 1], default=0.5
        The elastic-net mixing: 1 is the lasso, near 0 ridge. 0.5 keeps
        correlated features (co-expressed genes) together while still
        selecting; on the breast-cancer cohort's 76 genes and on synthetic
        blocks it ranked as well as 0.1 and 0.9 (within their spread over
        folds), and better than the lasso.

    cv : int or cross-validation splitter, default=3
        Inner folds. An int means shuffled folds stratified on the event
        indicator, seeded by ``random_state``, lowered to the number of
        events (or of censored rows) where those are fewer, so that every
        test part has an event. A splitter is given the event indicator as
        its ``y``, so that ``StratifiedGroupKFold`` stratifies on it; a group
        splitter takes the ``groups`` passed to ``fit`` (``coxnet__groups``
        of the pipeline, or by scikit-learn's metadata routing).

    random_state : int, RandomState instance or None, default=None
        Seed of the inner folds.

    Returns
    -------
    estimator : Pipeline
        Steps ``blockscaler`` and ``coxnet``; ``predict`` gives risk scores,
        ``score`` Harrell's C, ``predict_survival_function`` and
        ``predict_cumulative_hazard_function`` step functions. The fitted
        ``coxnet`` step has ``alpha_`` (the chosen penalty), ``alphas_`` and
        ``cv_scores_`` (the candidates and their mean inner C), ``coef_``
        and ``estimator_`` (the refitted ``CoxnetSurvivalAnalysis``).

    Raises
    ------
    ImportError
        When scikit-survival is not installed.

    See Also
    --------
    LateFusionSurvival : One such model per modality, risks combined.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_survival
    >>> from skfusion.fusion import coxnet_with_inner_cv
    >>> X, y = make_multimodal_survival(120, modality_sizes=(3, 3), random_state=0)
    >>> model = coxnet_with_inner_cv(random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.6)
    True
    >>> model.predict_survival_function(X[:2], return_array=True).shape[0]
    2
    """
    # Imported now, so that a missing extra is said at once, and because
    # importing scikit-survival gives Pipeline its predict_survival_function.
    import_sksurv("linear_model")
    return Pipeline(
        [
            ("blockscaler", BlockScaler(add_indicator=True)),
            (
                "coxnet",
                _InnerCVCoxnet(
                    alphas=alphas, l1_ratio=l1_ratio, cv=cv, random_state=random_state
                ),
            ),
        ]
    )


@fill_docstring
class LateFusionSurvival(SurvivalMixin, _BaseLateFusion):
    """Late fusion of per-modality risk scores for a time-to-event target.

    One survival model per modality, fitted on the training rows that have
    that modality (by default :func:`coxnet_with_inner_cv`, its penalty
    tuned on those rows). Each model's risks are standardised by the mean
    and standard deviation of its risks on those training rows, which puts
    models on one scale whatever their own, and then combined:

    - ``combiner="mean"``: the mean of the standardised risks of the
      modalities present in a row;
    - ``combiner="stacking"``: ``final_estimator`` (by default a Cox model
      with a weak ridge penalty) fitted on out-of-fold risks (``cv`` folds
      shared by every modality, each modality's out-of-fold risks
      standardised by their own mean and standard deviation; 0 where a
      modality is missing) and one availability indicator per modality, so
      that it learns how much each modality is worth, and what its absence
      says.

    Why the full models' own spread, not that of the out-of-fold risks: the
    out-of-fold risks come from other models, whose inner CV chose other
    penalties, and are spread differently (on a synthetic cohort, a weak
    modality's out-of-fold risks were spread 4.5 times as much as its full
    model's, which then weighed a fifth as much as it should: Harrell's C
    0.695 instead of 0.750). A penalised model's risks are spread on its
    training rows as on new ones (within 10% there).

    Missing modalities: a row's missing modalities are left out of the mean;
    for stacking their risk is 0 and their indicator 0. A row with no
    modality gets risk 0, the mean standardised risk. A modality missing in
    every training row, or whose training rows hold no event, gets no model
    (``None``) and always counts as missing, with a warning; so does, for
    the rows it predicts, an out-of-fold fit whose training part has no
    event with that modality.

    Survival functions: Breslow's baseline hazard, estimated on the training
    rows at the fused out-of-fold risks (in-sample for the baseline, not for
    the modality models), scaled to the hazard by a Cox model. For
    ``"stacking"`` the stacker is that Cox model and the log-hazard is its
    prediction, the fused risk itself. For ``"mean"`` a one-variable Cox
    model of the fused out-of-fold risk gives the factor
    ``calibration_slope_``, and the log-hazard is ``calibration_slope_ *
    predict(X)``: the mean of standardised risks ranks patients but has no
    hazard scale of its own. Out-of-fold rather than in-sample risks,
    because they relate to the outcome as the risks of new patients do: a
    model's risks predict its own training rows too well, and a hazard
    scale learned from them would make the survival curves too extreme.

    Per-modality models are searchable through
    ``modality_estimators__<modality>__<param>`` as in
    :class:`LateFusionClassifier`. Each model is given its block as a
    DataFrame whose columns are named ``<modality>__<feature>`` (the
    input's names, prefixed where they are not), so that blocked-matrix
    estimators such as :func:`coxnet_with_inner_cv` apply to it and its
    coefficients keep their feature names.

    Parameters
    ----------
    estimator : survival estimator, default=None
        Model cloned for every modality without an entry in
        ``modality_estimators``: ``fit(X, y)`` with a structured ``y`` and
        ``predict`` giving risk scores, as scikit-survival's models. None
        means ``coxnet_with_inner_cv(random_state=random_state)``.

    modality_estimators : dict of str to survival estimator, default=None
        Models for specific modalities.

    combiner : {"mean", "stacking"}, default="mean"
        How the standardised per-modality risks are combined.

    final_estimator : survival estimator, default=None
        The stacker; None means
        ``CoxPHSurvivalAnalysis(alpha=1.0)`` (scikit-survival divides the
        ridge penalty by the number of rows: a weak one, which keeps the
        coefficient of an indicator that is constant in training at 0).

    cv : int, cross-validation generator or iterable, default=5
        Folds of the out-of-fold risks. An int means shuffled folds
        stratified on the event indicator, seeded by ``random_state``,
        lowered (with a warning) to the number of events, or of censored
        rows, where those are fewer. A splitter is given the event indicator
        as its ``y``; the splits must hold every training row out once.

    modalities : dict of str to columns, default=None
        Column groups, see :func:`skfusion.blocks.resolve_modalities`.

    n_jobs : int, default=None
        Modalities fitted in parallel.

    random_state : int, RandomState instance or None, default=None
        Seeds the out-of-fold splits and the inner folds of the default
        per-modality models.

    Attributes
    ----------
    estimators_ : dict of str to estimator
        The fitted model of each modality; None for one that could not be
        learned (see above).

    risk_mean_, risk_scale_ : dict of str to float
        Mean and standard deviation of each modality's risks on its training
        rows, which standardise its risks (scale 1 where they do not vary).

    modality_weights_ : dict of str to float or None
        Weight of each modality in the mean (uniform over the modalities
        with a model); None for ``"stacking"``.

    final_estimator_ : survival estimator or None
        The fitted stacker (``combiner="stacking"``), whose features are the
        standardised risks then the indicators, in the order of
        ``modalities_``.

    calibration_slope_ : float
        The log-hazard per unit of fused risk (1 for ``"stacking"``).

    baseline_ : BreslowEstimator
        Breslow's baseline of the fused log-hazard.

    unique_times_ : ndarray
        The event and censoring times of the baseline, where
        ``predict_survival_function(..., return_array=True)`` is evaluated.

    %(fitted_blocks)s

    See Also
    --------
    coxnet_with_inner_cv : The default per-modality model (and early fusion).
    LateFusionRegressor : The regression counterpart.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_survival
    >>> from skfusion.fusion import LateFusionSurvival
    >>> X, y = make_multimodal_survival(
    ...     150, modality_sizes=(3, 3), missing_rate=0.2, random_state=0)
    >>> model = LateFusionSurvival(combiner="stacking", random_state=0).fit(X, y)
    >>> list(model.predict_by_modality(X[:2]).columns)
    ['m0', 'm1']
    >>> bool(model.score(X, y) > 0.6)
    True
    >>> survival = model.predict_survival_function(X[:3], return_array=True)
    >>> bool(((survival >= 0) & (survival <= 1)).all())
    True
    """

    _parameter_constraints = {
        **_BaseLateFusion._parameter_constraints,
        "combiner": [StrOptions({"mean", "stacking"})],
    }

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit one model per modality, the standardisation and the combination.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; an all-NaN block marks a missing modality.

        y : structured ndarray of shape (n_samples,)
            The survival target (event indicator, time).

        Returns
        -------
        self : LateFusionSurvival
            The fitted model.
        """
        linear = import_sksurv("linear_model")
        event, time = check_survival_y(self, y)
        X = self._validate_blocks(X, reset=True)
        if len(X) != len(event):
            raise ValueError(
                f"{type(self).__name__}: X has {len(X)} rows and y {len(event)}."
            )
        y = _survival_array(event, time)
        self._check_modality_estimators()
        present = self._present(X)
        learnable = np.array([event[rows].any() for rows in present.T], dtype=bool)
        if not learnable.any():
            raise ValueError(
                f"{type(self).__name__}: no modality has an event among the "
                "training rows that hold it."
            )
        for modality, rows, usable in zip(
            self.modalities_, present.T, learnable, strict=True
        ):
            if not usable:
                warnings.warn(
                    f"Modality {modality!r} {self._fallback_reason(y[rows])}: it "
                    "gets no model and counts as missing at predict time.",
                    MissingModalityWarning,
                    stacklevel=3,
                )
        # A modality without a model counts as missing everywhere, in the
        # out-of-fold risks and the stacker's indicators as at predict time.
        present &= learnable

        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(self._fit_modality)(modality, X[rows][:, indices], y[rows], y[rows])
            for (modality, indices), rows in zip(
                self.modalities_.items(), present.T, strict=True
            )
        )
        self.estimators_ = dict(zip(self.modalities_, fitted, strict=True))

        # Each model's risks are standardised by their own spread: the full
        # models' by their risks on their training rows (a penalised model's
        # risks are spread there as on new rows), the out-of-fold risks, which
        # come from other models (penalties chosen per fold), by theirs.
        in_sample = [
            self._predict_modality(estimator, X[rows][:, indices])
            for estimator, indices, rows in zip(
                self.estimators_.values(),
                self.modalities_.values(),
                present.T,
                strict=True,
            )
        ]
        self.risk_mean_, self.risk_scale_ = _spread(self.modalities_, in_sample)
        out_of_fold = self._out_of_fold_outputs(X, y, present)
        [(standardised, _, fallback)] = self._problems(
            out_of_fold, y, spread=_spread(self.modalities_, out_of_fold)
        )
        self.final_estimator_ = None
        if self.combiner == "stacking":
            self.modality_weights_ = None
            final = (
                linear.CoxPHSurvivalAnalysis(alpha=_STACKING_RIDGE)
                if self.final_estimator is None
                else clone(self.final_estimator)
            )
            features = self._stacking_features(standardised, present, fallback)
            self.final_estimator_ = final.fit(features, y)
            fused = np.asarray(final.predict(features), dtype=float)
            self.calibration_slope_ = 1.0
        else:
            weights = learnable / learnable.sum()
            self.modality_weights_ = self._weights_by_modality(weights[:, None])
            # Rows whose every out-of-fold risk is missing get the fallback.
            fused = self._combine_weighted(
                standardised, np.isfinite(np.hstack(out_of_fold)), weights, fallback
            )[:, 0]
            calibration = linear.CoxPHSurvivalAnalysis(alpha=_STACKING_RIDGE)
            calibration.fit(fused.reshape(-1, 1), y)
            self.calibration_slope_ = float(calibration.coef_[0])
        self._fit_baseline(self.calibration_slope_ * fused, event, time)
        return self

    def predict(self, X):
        """Fused risk scores (greater: an earlier event).

        %(blocked_X)s

        Returns
        -------
        risk : ndarray of shape (n_samples,)
            0 for a row with no modality.
        """
        check_is_fitted(self)
        return self._combined_output(X)[:, 0]

    def predict_by_modality(self, X):
        """Each modality's standardised risk.

        %(blocked_X)s

        Returns
        -------
        risks : DataFrame of shape (n_samples, n_modalities)
            One column per modality: its model's risk, minus ``risk_mean_``,
            over ``risk_scale_``; NaN where the modality is missing. Keeps
            the index of ``X`` when it is a DataFrame.
        """
        return self._single_output_by_modality(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    # -- hooks of _BaseLateFusion ---------------------------------------------

    def _log_hazard(self, X):
        return self.calibration_slope_ * self.predict(X)

    def _default_estimator(self):
        random_state = self.random_state
        if isinstance(random_state, np.random.RandomState):
            # A seed drawn from it: the per-modality models are cloned.
            random_state = int(check_random_state(random_state).randint(2**31))
        return coxnet_with_inner_cv(random_state=random_state)

    def _block_frame(self, modality, X):
        """A modality's block as a DataFrame of ``modality__feature`` columns."""
        names = getattr(self, "feature_names_in_", None)
        positions = self.modalities_[modality]
        if names is None:
            columns = [f"{modality}{MODALITY_SEPARATOR}x{j}" for j in positions]
        else:
            columns = [
                name
                if modality_of_column(name) == modality
                else f"{modality}{MODALITY_SEPARATOR}{name}"
                for name in names[positions]
            ]
        return pd.DataFrame(X, columns=columns)

    def _fit_modality(self, modality, X, targets, all_targets, estimator=None):
        """The modality's fitted model, or None where its rows hold no event."""
        if self._degenerate(targets):
            return None
        if estimator is None:
            estimator = self._modality_estimator(modality)
        try:
            return estimator.fit(self._block_frame(modality, X), targets)
        except ValueError as exc:
            raise ValueError(f"Modality {modality!r}: {exc}") from exc

    def _predict_modality(self, estimator, X):
        if estimator is None:
            return np.full((len(X), 1), np.nan)
        columns = getattr(estimator, "feature_names_in_", None)
        if columns is not None:
            X = pd.DataFrame(X, columns=columns)
        return np.asarray(estimator.predict(X), dtype=float).reshape(-1, 1)

    def _folds(self, X, targets):
        event = targets["event"]
        if isinstance(self.cv, Integral):
            n_events, n_censored = int(event.sum()), int((~event).sum())
            fewest = min(n_events, n_censored) if n_censored else n_events
            if fewest < self.cv:
                warnings.warn(
                    f"{type(self).__name__}: cv={self.cv} folds, but the "
                    f"training rows hold {n_events} event(s) and {n_censored} "
                    f"censored row(s): using {fewest} folds.",
                    UserWarning,
                    stacklevel=5,
                )
            return _event_folds(
                event,
                self.cv,
                self.random_state,
                f"{type(self).__name__}'s out-of-fold risks",
            )
        return list(check_cv(self.cv, event, classifier=True).split(X, event))

    def _problems(self, outputs, targets, spread=None):
        """The standardised risks, NaN where missing, and the fallback 0.

        Standardised by ``risk_mean_`` and ``risk_scale_`` unless ``spread``
        gives other ``(means, scales)``.
        """
        means, scales = spread or (self.risk_mean_, self.risk_scale_)
        standardised = [
            (risks - means[modality]) / scales[modality]
            for modality, risks in zip(self.modalities_, outputs, strict=True)
        ]
        return [(standardised, targets, np.zeros(1))]

    def _predict_final(self, final, features):
        return np.asarray(final.predict(features), dtype=float).reshape(-1, 1)

    def _degenerate(self, targets):
        return targets.size == 0 or not targets["event"].any()

    _needs_fallback = _degenerate

    def _bounded_outputs(self, outputs, targets):
        return outputs

    def _output_width(self):
        return 1

    def _fallback_output(self):
        return np.zeros(1)

    def _fallback_reason(self, targets):
        if targets.size == 0:
            return "is missing in every training row"
        return f"has no event in its {targets.size} training row(s)"

    def _fold_fallback_reason(self):
        return "has no event among the rows with it"

    def _fallback_name(self):
        return "no model: the modality counts as missing in the rows they predict"
