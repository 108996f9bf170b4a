"""Time-to-event data: a synthetic generator and scikit-survival's breast cancer."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ..blocks import MODALITY_SEPARATOR
from ..utils._docstrings import fill_docstring
from ._synthetic import (
    _check_modalities,
    _check_names,
    _check_target,
    _hide_one_modality,
    _modality_columns,
)

__all__ = ["load_breast_cancer_modalities", "make_multimodal_survival"]

# Baseline hazard of the synthetic event times (time units are arbitrary).
_BASELINE_HAZARD = 0.1


def _survival_array(event, time):
    y = np.empty(len(time), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = event, time
    return y


def _censoring_scale(rng, event_times, censoring_rate):
    """Exponential censoring draws and the scale giving ``censoring_rate``.

    The draws are fixed first (one per row), then scaled: the censored share
    only grows as the scale shrinks, so a bisection finds it.
    """
    draws = rng.exponential(size=len(event_times))
    if censoring_rate == 0:
        return np.full(len(event_times), np.inf)
    low, high = 1e-8, 1e8
    for _ in range(200):
        scale = np.sqrt(low * high)
        if np.mean(draws * scale < event_times) > censoring_rate:
            low = scale
        else:
            high = scale
    return draws * high


@fill_docstring
def make_multimodal_survival(
    n_samples=200,
    *,
    modality_sizes=(10, 10),
    informativeness=1.0,
    censoring_rate=0.3,
    missing_rate=0.0,
    modality_names=None,
    return_risk=False,
    random_state=None,
):
    """Generate censored times to event whose modalities carry known signal.

    Each modality is a block of standard Gaussian features, and contributes
    ``informativeness * (block @ u)`` to the log-hazard, ``u`` a random unit
    direction of the block: the true log-risk is the sum over modalities, so
    each modality alone predicts part of it and fusing them predicts more.
    Event times are exponential with hazard ``0.1 * exp(log_risk)``
    (a proportional-hazards model), censored by independent exponential
    times scaled so that a ``censoring_rate`` share of the rows is censored.

    Parameters
    ----------
    %(generated_sizes)s

    informativeness : float or sequence of float, default=1.0
        Non-negative weight of each modality in the log-hazard (one value
        for all, or one per modality): the standard deviation of its
        contribution. 0 makes the block pure noise.

    censoring_rate : float, default=0.3
        Share of censored rows, in [0, 1).

    missing_rate : float, default=0.0
        Fraction of rows, in [0, 1), in which exactly one modality is set to
        all-NaN (a missing modality; its contribution to the risk is still
        there). Requires at least 2 modalities when positive.

    modality_names : sequence of str, default=None
        Name of each modality; ``["m0", "m1", ...]`` when None.

    return_risk : bool, default=False
        Also return the true log-risk of every row.

    random_state : int, RandomState instance or None, default=None
        Determines the random numbers.

    Returns
    -------
    X : DataFrame of shape (n_samples, sum(modality_sizes))
        The blocked matrix, columns ``f"{name}__x{j}"``.

    y : structured ndarray of shape (n_samples,)
        Fields ``event`` (bool) and ``time`` (float), as
        ``sksurv.util.Surv.from_arrays(event, time)`` makes them.

    risk : ndarray of shape (n_samples,)
        The true log-risk; only when ``return_risk=True``.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_survival
    >>> X, y, risk = make_multimodal_survival(
    ...     100, modality_sizes=(3, 2), censoring_rate=0.3, return_risk=True,
    ...     random_state=0)
    >>> X.shape, y.dtype.names, round(float(1 - y["event"].mean()), 2)
    ((100, 5), ('event', 'time'), 0.3)
    """
    sizes, strengths = _check_modalities(n_samples, modality_sizes, informativeness)
    _check_target(False, 2, missing_rate, len(sizes))
    names = _check_names(modality_names, len(sizes))
    if not isinstance(censoring_rate, numbers.Real) or not 0 <= censoring_rate < 1:
        raise ValueError(
            f"censoring_rate must be a float in [0, 1), got {censoring_rate!r}."
        )
    rng = check_random_state(random_state)
    blocks, risk = [], np.zeros(n_samples)
    for size, strength in zip(sizes, strengths, strict=True):
        block = rng.standard_normal((n_samples, size))
        direction = rng.standard_normal(size)
        direction /= np.linalg.norm(direction)
        risk += strength * block @ direction
        blocks.append(block)
    event_times = rng.exponential(size=n_samples) / (_BASELINE_HAZARD * np.exp(risk))
    censoring = _censoring_scale(rng, event_times, censoring_rate)
    event = event_times <= censoring
    time = np.minimum(event_times, censoring)

    _hide_one_modality(rng, blocks, missing_rate)
    X = pd.DataFrame(np.hstack(blocks), columns=_modality_columns(names, sizes))
    y = _survival_array(event, time)
    return (X, y, risk) if return_risk else (X, y)


def load_breast_cancer_modalities(*, return_X_y=False):
    """scikit-survival's breast-cancer cohort as two modalities.

    198 patients of the TRANSBIG study (distant metastasis-free survival;
    scikit-survival's ``sksurv.datasets.load_breast_cancer``, which ships
    the data): a ``clinical`` block (age, tumour size, grade and oestrogen
    receptor status, one-hot encoded) and a ``genes`` block (76 gene
    expression values), named ``clinical__*`` and ``genes__*``. Needs
    ``pip install 'skfusion[survival]'``.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (the blocked DataFrame), ``target`` (structured array with
        fields ``event`` and ``time``, in days), ``modalities`` (the columns
        of each block) and ``DESCR``.

    Examples
    --------
    >>> from skfusion.datasets import load_breast_cancer_modalities
    >>> X, y = load_breast_cancer_modalities(return_X_y=True)
    >>> X.shape, int(y["event"].sum())
    ((198, 82), 51)
    """
    try:
        from sksurv.column import encode_categorical
        from sksurv.datasets import load_breast_cancer
    except ImportError as exc:
        raise ImportError(
            "load_breast_cancer_modalities needs scikit-survival: pip install "
            "'skfusion[survival]'"
        ) from exc
    features, target = load_breast_cancer()
    genes = [c for c in features.columns if c.startswith("X")]
    clinical = encode_categorical(features.drop(columns=genes)).astype(float)
    X = pd.concat(
        [
            clinical.add_prefix(f"clinical{MODALITY_SEPARATOR}"),
            features[genes].astype(float).add_prefix(f"genes{MODALITY_SEPARATOR}"),
        ],
        axis=1,
    )
    event_name, time_name = target.dtype.names
    y = _survival_array(target[event_name], target[time_name])
    if return_X_y:
        return X, y
    modalities = {
        name: [c for c in X.columns if c.startswith(f"{name}{MODALITY_SEPARATOR}")]
        for name in ("clinical", "genes")
    }
    return Bunch(
        data=X,
        target=y,
        modalities=modalities,
        DESCR=load_breast_cancer_modalities.__doc__,
    )
