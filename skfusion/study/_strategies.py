"""The default strategies of a fusion study."""

import importlib.util

import numpy as np
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.pipeline import make_pipeline

from ..fusion import (
    BlockScaler,
    LateFusionClassifier,
    LateFusionRegressor,
    SharedSpace,
    make_modality_pipeline,
)
from ._binning import QuantileBinning

__all__ = ["default_strategies"]

# Penalties searched by the inner cross-validation: from a model that barely
# moves off the prior (C = 1e-4, for 1,000-wide embeddings on a few hundred
# rows) to an almost unpenalised one.
LOGISTIC_CS = np.logspace(-4, 2, 7)
RIDGE_ALPHAS = np.logspace(-3, 4, 8)
INNER_SPLITS = 3
# Deep fusion on study-sized tables: decoupled weight decay and a patience
# that lets the validation loss settle before stopping.
DEEP_WEIGHT_DECAY = 1e-2
DEEP_PATIENCE = 15


def inner_cv(*, classification, grouped, random_state=None):
    """The inner cross-validation that chooses a default strategy's penalty.

    Parameters
    ----------
    classification : bool
        Stratify the inner folds by class.

    grouped : bool
        Keep each group in one inner fold: the splitter then needs ``groups``
        at ``fit``, which scikit-learn's metadata routing passes on
        (:class:`FusionStudy` enables it for the strategies that request
        them).

    random_state : int or None, default=None
        Seed of the shuffled folds.

    Returns
    -------
    cv : cross-validation splitter
        ``StratifiedGroupKFold``, ``GroupKFold``, ``StratifiedKFold`` or
        ``KFold`` with three shuffled folds.
    """
    if grouped:
        if classification:
            return StratifiedGroupKFold(
                INNER_SPLITS, shuffle=True, random_state=random_state
            )
        return GroupKFold(INNER_SPLITS, shuffle=True, random_state=random_state)
    if classification:
        return StratifiedKFold(INNER_SPLITS, shuffle=True, random_state=random_state)
    return KFold(INNER_SPLITS, shuffle=True, random_state=random_state)


def _linear(classification, class_weight, cv):
    """Logistic / ridge regression whose penalty the inner ``cv`` chooses."""
    if classification:
        # Log-loss, a proper scoring rule, is scikit-learn's coming default.
        return LogisticRegressionCV(
            Cs=LOGISTIC_CS,
            l1_ratios=(0.0,),
            cv=cv,
            scoring="neg_log_loss",
            class_weight=class_weight,
            max_iter=2000,
            use_legacy_attributes=False,
        )
    return RidgeCV(alphas=RIDGE_ALPHAS, cv=cv)


def default_strategies(
    modality_names,
    *,
    classification,
    class_weight="balanced",
    grouped=False,
    random_state=None,
):
    """The strategies a study compares when none are given.

    Every linear model chooses its penalty by an inner cross-validation on
    the rows it is fitted on (in a study: the training rows of each fold
    only): ``LogisticRegressionCV`` over ``C`` in 1e-4 ... 1e2 scored by
    log-loss, ``RidgeCV`` over ``alpha`` in 1e-3 ... 1e4, with three inner
    folds, grouped when ``grouped=True``. For a classification target, every
    model weights the classes by ``class_weight``.

    Wide blocks (a 1,280-column image embedding next to three clinical
    columns) are left whole: the inner cross-validation shrinks their weights
    as far as the data ask, down to ``C = 1e-4``. A fold-fitted PCA of the
    wide block was measured instead (``benchmarks/RESULTS.md``, the defaults
    section): it moved the linear models by less than the spread between
    folds and made deep fusion worse, so no default strategy reduces blocks.

    Parameters
    ----------
    modality_names : list of str
        The modalities of the study.

    classification : bool
        Whether the target is a class label (else a number).

    class_weight : "balanced" or None, default="balanced"
        Class weights of every model of a classification strategy: the
        logistic models, gradient boosting, the per-modality models and the
        stacker of late fusion, the deep-fusion loss. ``"balanced"`` weights
        each class by the inverse of its frequency, so that a minority class
        is not ignored. Ignored for regression.

    grouped : bool, default=False
        Whether the inner cross-validation of the linear models keeps groups
        together; the fitted strategies then need ``groups``, passed by
        scikit-learn's metadata routing (see :func:`inner_cv`). Late fusion's
        own out-of-fold splits and its per-modality models are not grouped
        (``LateFusionClassifier.fit`` takes no ``groups``).

    random_state : int or None, default=None
        Seed of every randomised strategy and of the inner folds.

    Returns
    -------
    strategies : dict of str to (estimator, tuple of str)
        The estimator of each strategy and the modalities it sees, in report
        order: ``unimodal:<modality>`` (BlockScaler + logistic / ridge
        regression on that modality alone), ``early:linear`` (BlockScaler with
        availability indicators + logistic / ridge regression),
        ``early:hgb`` (histogram gradient boosting on the blocked matrix, NaN
        handled natively, early-stopped on a tenth of the training rows; for
        a classification target its columns are binned first at their
        unweighted quantiles, the edges the boosting would use without class
        weights, because weighted edges cost 75x the fit),
        ``late:mean`` and ``late:stacking`` (one model per modality),
        ``shared:mcca`` (multi-set CCA + logistic / ridge; only with two
        modalities or more; :class:`FusionStudy` sets its number of
        components to the narrowest modality's width, at most 20), and
        ``deep:concat`` and ``deep:attention`` (deep fusion with skorch, with
        weight decay and early stopping on an inner split; only when torch is
        installed).

    notes : list of str
        Why a default strategy was left out, if one was.

    Examples
    --------
    >>> from skfusion.study import default_strategies
    >>> strategies, notes = default_strategies(["clinical"], classification=True)
    >>> list(strategies), notes
    (['unimodal:clinical'], ['Only one modality: the fusion strategies were left out.'])
    """
    names = tuple(modality_names)
    if not classification:
        class_weight = None
    cv = inner_cv(
        classification=classification, grouped=grouped, random_state=random_state
    )

    def linear():
        return _linear(classification, class_weight, cv)

    strategies = {
        f"unimodal:{name}": (make_pipeline(BlockScaler(), linear()), (name,))
        for name in names
    }
    notes = []
    if len(names) < 2:
        notes.append("Only one modality: the fusion strategies were left out.")
        return strategies, notes

    # Late fusion does not route groups, so its models tune on ungrouped folds.
    ungrouped = inner_cv(
        classification=classification, grouped=False, random_state=random_state
    )
    # Standardisation safe at any finite scale (StandardScaler overflows).
    per_modality = make_modality_pipeline(
        _linear(classification, class_weight, ungrouped)
    )
    if classification:
        # Binned first: weighted bin edges would take most of a study's time.
        boosting = make_pipeline(
            QuantileBinning(),
            HistGradientBoostingClassifier(
                class_weight=class_weight,
                early_stopping=True,
                random_state=random_state,
            ),
        )
        late = {
            "estimator": per_modality,
            "final_estimator": _linear(classification, class_weight, ungrouped),
        }
        late_class = LateFusionClassifier
    else:
        boosting = HistGradientBoostingRegressor(
            early_stopping=True, random_state=random_state
        )
        late = {"estimator": per_modality}
        late_class = LateFusionRegressor
    strategies["early:linear"] = (
        make_pipeline(BlockScaler(add_indicator=True), linear()),
        names,
    )
    strategies["early:hgb"] = (boosting, names)
    for combiner in ("mean", "stacking"):
        strategies[f"late:{combiner}"] = (
            late_class(combiner=combiner, random_state=random_state, **late),
            names,
        )
    strategies["shared:mcca"] = (
        make_pipeline(SharedSpace(n_components=2), linear()),
        names,
    )

    if importlib.util.find_spec("torch") is None:
        notes.append(
            "Deep fusion (deep:concat, deep:attention) skipped: torch is not installed."
        )
        return strategies, notes
    from ..deep import DeepFusionClassifier, DeepFusionRegressor

    deep_options = {
        "optimizer__weight_decay": DEEP_WEIGHT_DECAY,
        "n_iter_no_change": DEEP_PATIENCE,
        "random_state": random_state,
    }
    if classification:
        deep_options["class_weight"] = class_weight
    deep = DeepFusionClassifier if classification else DeepFusionRegressor
    for fusion in ("concat", "attention"):
        strategies[f"deep:{fusion}"] = (deep(fusion=fusion, **deep_options), names)
    return strategies, notes
