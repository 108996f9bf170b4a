"""Deep fusion for time-to-event targets: FusionNet on Cox's partial likelihood.

:class:`DeepFusionSurvival` is :class:`~skfusion.deep.DeepFusionClassifier`'s
network and training (the same base) with one output, the log-risk, and
:class:`CoxPartialLikelihoodLoss` as its criterion. Targets, scores and
survival functions are scikit-survival's: a structured array of an event
indicator and a time, Harrell's concordance index, Breslow's baseline hazard.
scikit-survival is imported when a model is fitted or used (the ``survival``
extra), so that ``import skfusion.deep`` works without it.
"""

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..survival import SurvivalMixin, import_sksurv
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import validate_parameter_constraints
from ..utils.validation import check_survival_target
from .estimators import _DeepFusionBase, _OneOutputMixin
from .module import FusionNet

__all__ = ["CoxPartialLikelihoodLoss", "DeepFusionSurvival"]


def _check_survival_target(estimator, y):
    """The checked event indicator and time, then scikit-survival's check."""
    # scikit-survival first: without it, what to install is the answer.
    check_y_survival = import_sksurv("util", type(estimator).__name__).check_y_survival
    event, time = check_survival_target(estimator, y)
    return check_y_survival(event, time)


class CoxPartialLikelihoodLoss(torch.nn.Module):
    """Negative Cox partial log-likelihood with Breslow's ties, per event.

    For log-risks :math:`r`, times :math:`t` and event indicators :math:`e`
    of the rows of a batch,

    .. math::

        L = -\\frac{1}{\\max(1, \\sum_i e_i)} \\sum_{i: e_i = 1} \\Big( r_i -
        \\log \\sum_{j: t_j \\ge t_i} e^{r_j} \\Big).

    Every row whose time is at least an event's, the tied ones included, is
    in that event's risk set: Breslow's handling of ties [1]_, the partial
    likelihood that ``sksurv.linear_model.CoxPHSurvivalAnalysis(ties="breslow")``
    maximises (``tests/test_deep_survival.py`` compares the two), here of a
    network's log-risk as in DeepSurv [2]_. Averaged over the events, the loss
    does not grow with the batch. A batch without an event has loss 0 and a
    zero gradient.

    Computed in O(n log n): the rows sorted by decreasing time, a running
    ``logcumsumexp`` gives each row's risk set, and the last row of each run
    of tied times gives that run's. No branch depends on the data, so the
    loss runs on a GPU without synchronising.

    Notes
    -----
    Only the order of the times matters: any increasing transform of the
    times (their ranks) gives the same loss.

    References
    ----------
    .. [1] N. Breslow, "Covariance analysis of censored survival data",
       Biometrics 30(1), 89-99, 1974.
    .. [2] J. Katzman et al., "DeepSurv: personalized treatment recommender
       system using a Cox proportional hazards deep neural network", BMC
       Medical Research Methodology 18, 24, 2018.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep import CoxPartialLikelihoodLoss
    >>> log_risk = torch.tensor([0.0, 0.0, 0.0])
    >>> target = torch.tensor([[1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    >>> loss = CoxPartialLikelihoodLoss()(log_risk, target)
    >>> round(float(loss), 4)  # (log 3 + log 1) / 2
    0.5493
    """

    def forward(self, log_risk, target):
        """The loss of a batch.

        Parameters
        ----------
        log_risk : Tensor of shape (n,) or (n, 1)
            The network's outputs.

        target : Tensor of shape (n, 2)
            The time (or any increasing transform of it) and the event
            indicator (1 for an event, 0 for a censored row) of each row.

        Returns
        -------
        loss : Tensor of shape ()
        """
        log_risk = log_risk.reshape(-1)
        time, event = target[:, 0], target[:, 1].to(log_risk.dtype)
        order = torch.argsort(time, descending=True)
        time, event, log_risk = time[order], event[order], log_risk[order]
        log_at_risk = torch.logcumsumexp(log_risk, dim=0)
        # The position of the last row with a time >= each row's: the end of
        # its run of ties, whose running sum holds every tied row (Breslow).
        last = torch.searchsorted(-time, -time, right=True) - 1
        log_at_risk = log_at_risk[last]
        # Without events both sums are 0: clamping the count keeps 0 / 0 away.
        n_events = event.sum().clamp(min=1)
        return -((log_risk - log_at_risk) * event).sum() / n_events


@fill_docstring
class DeepFusionSurvival(SurvivalMixin, _OneOutputMixin, _DeepFusionBase):
    """Deep fusion for a time to event: encoders, a fusion layer, a log-risk.

    A :class:`~skfusion.deep.FusionNet` with one output, the log-risk,
    trained with skorch on the negative Cox partial log-likelihood
    (:class:`CoxPartialLikelihoodLoss`, Breslow's ties): a DeepSurv-style
    proportional-hazards model on the blocked matrix. The rest is
    :class:`~skfusion.deep.DeepFusionClassifier`'s: the encoders and fusion
    layers, standardisation with training statistics, availability masks for
    missing modalities, modality dropout, early stopping, ``device="auto"``,
    seeding and persistence.

    Missing modalities are masked, as in the classifier; a row with no
    modality at all is left out of training and gets the mean training
    log-risk, ``mean_risk_``, at prediction. Early stopping watches the Cox
    loss on an inner split of the training rows, stratified on the event
    indicator (by group with ``groups``); it is off where the validation rows
    would hold no event. After training, Breslow's estimator of the baseline
    hazard is fitted on the training rows' log-risks, which gives
    :meth:`predict_survival_function` and
    :meth:`predict_cumulative_hazard_function`.

    Requires ``pip install 'skfusion[survival]'`` (scikit-survival).

    Parameters
    ----------
    %(deep_parameters)s

    batch_size : int, default=256
        Rows per batch; -1 for all rows. The partial likelihood of a batch
        compares each of its events only with the rows of the batch, so
        batches must hold events: larger than the classifier's 64.

    module, criterion, iterator_train, iterator_valid, dataset, train_split, \
callbacks, predict_nonlinearity, warm_start, compile, use_caching, \
torch_load_kwargs : see :class:`skorch.NeuralNet`
        ``criterion`` defaults to :class:`CoxPartialLikelihoodLoss`; a
        criterion of your own takes the log-risks and an (n, 2) target of
        time ranks and event indicators.

    **kwargs : dict
        skorch's prefixed parameters (``optimizer__weight_decay``, ...);
        module hyperparameters only as the top-level parameters above.

    Attributes
    ----------
    module_ : FusionNet
        The trained network.

    mean_risk_ : float
        The mean training log-risk: the prediction for rows with no
        modality.

    baseline_ : sksurv.linear_model.coxph.BreslowEstimator
        Breslow's estimate of the baseline hazard, from the training rows
        (of the last :meth:`partial_fit` call, after one).

    unique_times_ : ndarray of shape (n_times,)
        The distinct training times, at which ``return_array=True`` gives
        the functions.

    mean_, scale_, n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Training column statistics and observed counts, as for
        :class:`DeepFusionClassifier`.

    device_ : str or None
        The torch device the network is on.

    history_ : skorch History
        Per-epoch losses (the Cox loss of the training and validation rows).

    %(fitted_blocks)s

    See Also
    --------
    CoxPartialLikelihoodLoss : The training loss.
    DeepFusionClassifier : The same network for class labels.
    sksurv.linear_model.CoxPHSurvivalAnalysis : A linear Cox model.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sksurv.util import Surv
    >>> from skfusion.deep import DeepFusionSurvival
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(200, 4)),
    ...                  columns=["a__x0", "a__x1", "b__x0", "b__x1"])
    >>> time = rng.exponential(np.exp(-X["a__x0"] - X["b__x1"]))
    >>> y = Surv.from_arrays(event=rng.random(200) < 0.8, time=time)
    >>> model = DeepFusionSurvival(max_epochs=20, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> bool(model.score(X, y) > 0.6)
    True
    >>> model.predict_survival_function(X[:2], return_array=True).shape
    (2, 200)
    """

    def __init__(
        self,
        module=FusionNet,
        criterion=CoxPartialLikelihoodLoss,
        *,
        # Measured on synthetic proportional-hazards cohorts (a cross-modal
        # interaction, 2 x 10 features, 500 or 2000 rows, 10% or 30% events,
        # three seeds, the default early stopping): batches of 64, 128, 256
        # and 512 rows reach the same held-out C-index (0.705-0.709 at 2000
        # rows and 30% events), 256 in half the time of 64; one full batch
        # takes too few steps before early stopping (0.652).
        batch_size=256,
        **kwargs,
    ):
        super().__init__(module, criterion, batch_size=batch_size, **kwargs)

    # -- fitting ------------------------------------------------------------------

    def fit(self, X, y, groups=None, **fit_params):
        """Train the network, then fit Breslow's baseline hazard.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; an all-NaN block marks a missing modality.

        y : structured ndarray of shape (n_samples,)
            The survival target: a bool event indicator and a float time,
            e.g. ``sksurv.util.Surv.from_arrays(event, time)``.

        groups : array-like of shape (n_samples,), default=None
            Group labels (e.g. patients) for the inner early-stopping split,
            which then keeps each group on one side.

        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : DeepFusionSurvival
            The fitted estimator.
        """
        # The parameters first: scikit-learn's parameter checks fit with a
        # 1-D y, which the target check would refuse before them.
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        event, time = _check_survival_target(self, y)
        super().fit(X, np.column_stack([time, event]), groups=groups, **fit_params)
        self._fit_baseline_on(X, event, time)
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs, then refit the baseline.

        The first call fits (as :meth:`fit`); later calls keep the network
        and the standardisation of the first, and refit Breslow's baseline
        on the rows of this call.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix, with the columns seen in the first call.

        y : structured ndarray of shape (n_samples,)
            The survival target.

        classes : None
            Unused.

        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : DeepFusionSurvival
            The updated estimator.
        """
        if not hasattr(self, "module_") or not self.initialized_:
            return self.fit(X, y, **fit_params)
        event, time = _check_survival_target(self, y)
        super().partial_fit(X, np.column_stack([time, event]), **fit_params)
        self._fit_baseline_on(X, event, time)
        return self

    def _fit_baseline_on(self, X, event, time):
        """``mean_risk_`` and Breslow's baseline from the training log-risks."""
        outputs, rows = self._network_outputs(X)
        risk = outputs[:, 0].astype(np.float64)
        self.mean_risk_ = float(risk.mean())
        # The rows with no modality took no part in training: none in the
        # baseline either.
        self._fit_baseline(risk, event[rows], time[rows])

    def _inner_split(self, targets, groups, seed):
        split = super()._inner_split(targets, groups, seed)
        if split is not None and not targets[split[1], 1].any():
            # Validation rows without an event have a Cox loss of 0 at every
            # epoch: early stopping would stop on nothing.
            return None
        return split

    def _stratification_labels(self, targets):
        return targets[:, 1].astype(np.intp)

    def _encode_targets(self, y):
        return self._encode_more_targets(y)

    def _encode_more_targets(self, y):
        # The loss needs only the order of the times (see
        # CoxPartialLikelihoodLoss): their dense ranks are exact in float32
        # up to 2**24 distinct times, where the times themselves could round
        # distinct values into ties.
        y = np.asarray(y, dtype=np.float64)
        ranks = np.unique(y[:, 0], return_inverse=True)[1].reshape(-1)
        return np.column_stack([ranks, y[:, 1]]).astype(np.float32)

    def _target_tensor(self, targets):
        return torch.as_tensor(targets, dtype=torch.float32)

    # -- prediction ---------------------------------------------------------------

    def predict(self, X):
        """Log-risk of each row: the greater, the earlier the event.

        %(blocked_X)s

        Returns
        -------
        risk : ndarray of shape (n_samples,)
            The network's log-risk; ``mean_risk_`` for rows with no
            modality.
        """
        check_is_fitted(self, "module_")
        return self._first_output(X, fill=self.mean_risk_)

    @property
    def predict_proba(self):
        """Not available: a survival model predicts risks and survival functions."""
        raise AttributeError(
            "DeepFusionSurvival has no predict_proba; use predict (the log-risk) "
            "or predict_survival_function."
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # As scikit-survival's SurvivalAnalysisMixin declares: a target is
        # required (a structured one, which the tags cannot say).
        tags.target_tags.required = True
        return tags
