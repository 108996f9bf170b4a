"""Deep fusion for time-to-event targets: FusionNet with a Cox partial likelihood."""

import numpy as np
import torch

from ..fusion.survival import _SurvivalScoreMixin, check_survival_y
from ..utils._sklearn_compat import validate_parameter_constraints
from .estimators import BlockDataset, TensorBatchIterator, _DeepFusionBase
from .module import FusionNet

__all__ = ["CoxPartialLikelihoodLoss", "DeepFusionSurvival"]


class CoxPartialLikelihoodLoss(torch.nn.Module):
    """Negative Cox partial log-likelihood, Breslow's ties, per event.

    For log-risks ``r`` and a target of ``(time, event)`` rows,

    .. math::

        -\\frac{1}{n_e} \\sum_{i: e_i = 1} \\Big( r_i -
        \\log \\sum_{j: t_j \\ge t_i} e^{r_j} \\Big)

    where :math:`n_e` is the number of events: every row still at risk at
    an event time, the tied ones included, is in its risk set (Breslow's
    approximation, as ``CoxPHSurvivalAnalysis(ties="breslow")``). A batch
    without an event has loss 0 (and a zero gradient).
    """

    def forward(self, log_risk, target):
        """The loss of a batch.

        Parameters
        ----------
        log_risk : Tensor of shape (n,) or (n, 1)
            The network's outputs.

        target : Tensor of shape (n, 2)
            Time and event indicator (1 for an event) of each row.

        Returns
        -------
        loss : Tensor (scalar)
        """
        log_risk = log_risk.reshape(-1)
        time, event = target[:, 0], target[:, 1]
        order = torch.argsort(time, descending=True)
        time, event, log_risk = time[order], event[order], log_risk[order]
        at_risk = torch.logcumsumexp(log_risk, dim=0)
        # Tied times share one risk set: the sum up to the group's last row.
        _, counts = torch.unique_consecutive(time, return_counts=True)
        last = torch.repeat_interleave(torch.cumsum(counts, 0) - 1, counts)
        at_risk = at_risk[last]
        n_events = event.sum()
        if n_events == 0:
            return (log_risk * 0.0).sum()
        return -((log_risk - at_risk) * event).sum() / n_events


class DeepFusionSurvival(_SurvivalScoreMixin, _DeepFusionBase):
    """Deep fusion for a time to event: encoders, a fusion layer, a log-risk.

    A :class:`~skfusion.deep.FusionNet` with one output, the log-risk,
    trained with skorch on the negative Cox partial log-likelihood
    (:class:`CoxPartialLikelihoodLoss`, Breslow's ties). Everything else is
    :class:`~skfusion.deep.DeepFusionClassifier`'s: the encoders and fusion
    layers, standardisation, masks for missing modalities and modality
    dropout, early stopping on an inner split of the training rows (grouped
    with ``groups``), ``device="auto"``, seeding and persistence.

    A row with no modality gets the mean training log-risk. Survival
    functions come from Breslow's baseline hazard fitted on the training
    rows' log-risks at the end of :meth:`fit`.

    Batches: the partial likelihood of a mini-batch compares each event only
    with the rows of its batch, so ``batch_size`` is larger than the
    classifier's (256): batches then hold enough events for a stable loss,
    and a study-sized table trains in one or a few batches.

    Parameters
    ----------
    fusion, encoders, embed_dim, hidden_dim, dropout, modality_dropout, \
rank, modalities, early_stopping, validation_fraction, n_iter_no_change, \
random_state, lr, max_epochs, device, verbose : see \
:class:`~skfusion.deep.DeepFusionClassifier`

    batch_size : int, default=256
        Rows per batch (-1: all rows).

    module, criterion, optimizer, iterator_train, iterator_valid, dataset, \
train_split, callbacks, predict_nonlinearity, warm_start, compile, \
use_caching, torch_load_kwargs : see :class:`skorch.NeuralNet`
        ``criterion`` defaults to :class:`CoxPartialLikelihoodLoss`.

    **kwargs : dict
        skorch's prefixed parameters (``optimizer__*``, ...).

    Attributes
    ----------
    module_ : FusionNet
        The trained network.

    baseline_ : BreslowEstimator
        scikit-survival's Breslow estimate of the baseline hazard.

    unique_times_ : ndarray
        The event times of the baseline.

    mean_risk_ : float
        The mean training log-risk, the answer for rows with no modality.

    mean_, scale_, n_samples_seen_, device_, modalities_, history_, \
n_features_in_, feature_names_in_ : see :class:`~skfusion.deep.DeepFusionClassifier`

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_survival
    >>> from skfusion.deep import DeepFusionSurvival
    >>> X, y = make_multimodal_survival(200, modality_sizes=(4, 4), random_state=0)
    >>> model = DeepFusionSurvival(max_epochs=20, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> bool(model.score(X, y) > 0.6)
    True
    """

    def __init__(
        self,
        module=FusionNet,
        criterion=CoxPartialLikelihoodLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=100,
        batch_size=256,
        iterator_train=TensorBatchIterator,
        iterator_valid=TensorBatchIterator,
        dataset=BlockDataset,
        train_split=None,
        callbacks=None,
        predict_nonlinearity="auto",
        warm_start=False,
        verbose=0,
        device="auto",
        compile=False,
        use_caching="auto",
        torch_load_kwargs=None,
        *,
        fusion="concat",
        encoders=None,
        embed_dim=32,
        hidden_dim=64,
        dropout=0.0,
        modality_dropout=0.0,
        rank=4,
        modalities=None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            dataset=dataset,
            train_split=train_split,
            callbacks=callbacks,
            predict_nonlinearity=predict_nonlinearity,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            compile=compile,
            use_caching=use_caching,
            torch_load_kwargs=torch_load_kwargs,
            fusion=fusion,
            encoders=encoders,
            embed_dim=embed_dim,
            hidden_dim=hidden_dim,
            dropout=dropout,
            modality_dropout=modality_dropout,
            rank=rank,
            modalities=modalities,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            **kwargs,
        )

    def fit(self, X, y, groups=None, **fit_params):
        """Train the network and fit the baseline hazard.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; an all-NaN block marks a missing modality.

        y : structured ndarray of shape (n_samples,)
            The survival target (event indicator, time), e.g.
            ``sksurv.util.Surv.from_arrays(event, time)``.

        groups : array-like of shape (n_samples,), default=None
            Groups of the inner early-stopping split.

        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : DeepFusionSurvival
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        event, time = check_survival_y(self, y)
        super().fit(X, np.column_stack([time, event]), groups=groups, **fit_params)
        self._fit_risk_baseline(X, event, time)
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs; refit the baseline hazard.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        y : structured ndarray of shape (n_samples,)
            The survival target.

        classes : None
            Unused.

        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : DeepFusionSurvival
        """
        if not hasattr(self, "module_") or not self.initialized_:
            return self.fit(X, y, **fit_params)
        event, time = check_survival_y(self, y)
        super().partial_fit(X, np.column_stack([time, event]), **fit_params)
        self._fit_risk_baseline(X, event, time)
        return self

    def _fit_risk_baseline(self, X, event, time):
        outputs, rows = self._network_outputs(X)
        risk = outputs[:, 0].astype(np.float64)
        self.mean_risk_ = float(risk.mean())
        self._fit_baseline(risk, event[rows], time[rows])

    def predict(self, X):
        """Log-risk of each row (greater: an earlier event).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        Returns
        -------
        risk : ndarray of shape (n_samples,)
            The network's log-risk; the mean training log-risk for rows
            with no modality.
        """
        outputs, rows = self._network_outputs(X)
        risk = np.full(rows.size, self.mean_risk_)
        if outputs is not None:
            risk[rows] = outputs[:, 0]
        return risk

    @property
    def predict_proba(self):
        """Not available: a survival model predicts risks and survival functions."""
        raise AttributeError(
            "DeepFusionSurvival has no predict_proba; use predict (risk) or "
            "predict_survival_function."
        )

    def _encode_targets(self, y):
        return np.asarray(y, dtype=np.float32)

    def _encode_more_targets(self, y):
        return np.asarray(y, dtype=np.float32)

    def _target_tensor(self, targets):
        return torch.as_tensor(targets, dtype=torch.float32)

    def _n_outputs(self):
        return 1

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A structured (event, time) target, not a 1-D y.
        tags.target_tags.required = True
        return tags
