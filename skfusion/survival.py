"""The one home of what every time-to-event model of skfusion shares.

scikit-survival puts ``score``, ``predict_survival_function`` and
``predict_cumulative_hazard_function`` in one mixin (``sksurv.base``); here
:class:`SurvivalMixin` gives them, with Breslow's baseline, to
:class:`~skfusion.fusion.LateFusionSurvival`, the inner-CV Coxnet of
:func:`~skfusion.fusion.coxnet_with_inner_cv` and
:class:`~skfusion.deep.DeepFusionSurvival`. :func:`import_sksurv` is the one
lazy import of scikit-survival, whose error names the extra to install. The
target check is :func:`skfusion.utils.validation.check_survival_target`.
"""

import importlib

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .utils.validation import check_survival_target

__all__ = ["SurvivalMixin", "import_sksurv"]


def import_sksurv(module, needed_by="This survival model"):
    """A module of scikit-survival, or an ImportError naming the extra.

    Parameters
    ----------
    module : str
        The module below ``sksurv``, e.g. ``"metrics"`` or
        ``"linear_model.coxph"``.

    needed_by : str, default="This survival model"
        What needs it, for the message (a singular noun).

    Returns
    -------
    module : module
        ``sksurv.<module>``.

    Raises
    ------
    ImportError
        When scikit-survival is not installed: ``pip install
        'skfusion[survival]'``.

    Examples
    --------
    >>> from skfusion.survival import import_sksurv
    >>> import_sksurv("metrics").__name__
    'sksurv.metrics'
    """
    try:
        return importlib.import_module(f"sksurv.{module}")
    except ImportError as exc:
        raise ImportError(
            f"{needed_by} needs scikit-survival, which is not installed: "
            "pip install 'skfusion[survival]'"
        ) from exc


class SurvivalMixin:
    """Harrell's C as ``score``, survival functions from Breslow's baseline.

    A mixin, left of the estimator's other bases. The estimator's ``fit``
    calls :meth:`_fit_baseline` with its training log-risks; the survival
    and cumulative hazard functions are then Breslow's baseline at
    ``_log_hazard(X)``, which is ``predict(X)`` unless the estimator
    rescales its risks. Fitted attributes: ``baseline_``
    (``sksurv.linear_model.coxph.BreslowEstimator``) and ``unique_times_``.
    """

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
            The share of comparable pairs whose risks are ordered as their
            times (tied risks count one half), as
            ``sksurv.metrics.concordance_index_censored`` computes it.
        """
        check_is_fitted(self)
        metrics = import_sksurv("metrics", type(self).__name__)
        event, time = check_survival_target(self, y)
        return metrics.concordance_index_censored(event, time, self.predict(X))[0]

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
        survival : ndarray of sksurv.functions.StepFunction of shape \
(n_samples,), or ndarray of shape (n_samples, n_times)
            Non-increasing, in [0, 1].
        """
        return self._functions("get_survival_function", X, return_array)

    def predict_cumulative_hazard_function(self, X, return_array=False):
        """Cumulative hazard functions: Breslow's baseline at the risks.

        Parameters
        ----------
        X, return_array
            As for :meth:`predict_survival_function`.

        Returns
        -------
        hazard : ndarray of sksurv.functions.StepFunction of shape \
(n_samples,), or ndarray of shape (n_samples, n_times)
            Non-decreasing, from 0.
        """
        return self._functions("get_cumulative_hazard_function", X, return_array)

    def _functions(self, method, X, return_array):
        check_is_fitted(self, "baseline_")
        functions = getattr(self.baseline_, method)(self._log_hazard(X))
        if not return_array:
            return functions
        return np.vstack([function(self.unique_times_) for function in functions])

    def _log_hazard(self, X):
        return self.predict(X)

    def _fit_baseline(self, risk, event, time):
        """Breslow's baseline (``baseline_``, ``unique_times_``) from training risks."""
        coxph = import_sksurv("linear_model.coxph", type(self).__name__)
        self.baseline_ = coxph.BreslowEstimator().fit(risk, event, time)
        self.unique_times_ = self.baseline_.unique_times_
