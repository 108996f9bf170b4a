"""The default strategies of a fusion study."""

import importlib.util

from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import make_pipeline

from ..fusion import (
    BlockScaler,
    LateFusionClassifier,
    LateFusionRegressor,
    SharedSpace,
)

__all__ = ["default_strategies"]


def _linear(classification):
    if classification:
        return LogisticRegression(max_iter=2000)
    return RidgeCV()


def default_strategies(modality_names, *, classification, random_state=None):
    """The strategies a study compares when none are given.

    Parameters
    ----------
    modality_names : list of str
        The modalities of the study.

    classification : bool
        Whether the target is a class label (else a number).

    random_state : int or None, default=None
        Seed of every randomised strategy.

    Returns
    -------
    strategies : dict of str to (estimator, tuple of str)
        The estimator of each strategy and the modalities it sees, in report
        order: ``unimodal:<modality>`` (BlockScaler + logistic / ridge
        regression on that modality alone), ``early:linear`` (BlockScaler with
        availability indicators + logistic / ridge regression),
        ``early:hgb`` (histogram gradient boosting on the blocked matrix, NaN
        handled natively), ``late:mean`` and ``late:stacking`` (one model per
        modality), ``shared:mcca`` (multi-set CCA + logistic / ridge; only with
        two modalities or more; :class:`FusionStudy` sets its number of
        components to the narrowest modality's width, at most 20), and
        ``deep:concat`` and ``deep:attention`` (deep fusion with skorch; only
        when torch is installed).

    notes : list of str
        Why a default strategy was left out, if one was.
    """
    names = tuple(modality_names)
    strategies = {
        f"unimodal:{name}": (
            make_pipeline(BlockScaler(), _linear(classification)),
            (name,),
        )
        for name in names
    }
    notes = []
    if len(names) < 2:
        notes.append("Only one modality: the fusion strategies were left out.")
        return strategies, notes

    if classification:
        boosting = HistGradientBoostingClassifier(random_state=random_state)
        late = LateFusionClassifier
    else:
        boosting = HistGradientBoostingRegressor(random_state=random_state)
        late = LateFusionRegressor
    strategies["early:linear"] = (
        make_pipeline(BlockScaler(add_indicator=True), _linear(classification)),
        names,
    )
    strategies["early:hgb"] = (boosting, names)
    strategies["late:mean"] = (late(combiner="mean", random_state=random_state), names)
    strategies["late:stacking"] = (
        late(combiner="stacking", random_state=random_state),
        names,
    )
    strategies["shared:mcca"] = (
        make_pipeline(SharedSpace(n_components=2), _linear(classification)),
        names,
    )

    if importlib.util.find_spec("torch") is None:
        notes.append(
            "Deep fusion (deep:concat, deep:attention) skipped: torch is not installed."
        )
        return strategies, notes
    from ..deep import DeepFusionClassifier, DeepFusionRegressor

    deep = DeepFusionClassifier if classification else DeepFusionRegressor
    for fusion in ("concat", "attention"):
        strategies[f"deep:{fusion}"] = (
            deep(fusion=fusion, random_state=random_state),
            names,
        )
    return strategies, notes
