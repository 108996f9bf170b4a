"""Refitting a study's strategies on every row, as pipelines from the study table."""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ..blocks import MissingModalityWarning
from ._cache import extraction_cache_location
from ._runner import (
    as_float_blocks,
    fit_with_groups,
    modality_transformer,
    naming_failures,
    uncached,
)

__all__ = [
    "best_strategy",
    "named_in_refit",
    "refit_strategies",
    "strategies_to_refit",
]


def best_strategy(study, names=None):
    """The strategy (among ``names``) with the best mean primary score.

    Greater is better (scikit-learn's sign); ties go to the first in report
    order and a strategy whose score is NaN is never chosen over one that
    has a score.
    """
    column = study.summary_[f"{study.primary_metric_}_mean"]
    names = list(study.strategies_) if names is None else list(names)
    scores = column.loc[names].to_numpy(dtype=float)
    if np.isnan(scores).all():
        return names[0]
    return names[int(np.nanargmax(scores))]


def named_in_refit(refit, names):
    """The strategies a name or list ``refit`` gives; None for a bool or "best".

    Raises a ValueError naming what is not a strategy among ``names``, so
    that a study can refuse it before its cross-validation runs.
    """
    if isinstance(refit, bool) or refit == "best":
        return None
    chosen = [refit] if isinstance(refit, str) else list(refit)
    unknown = [name for name in chosen if name not in names]
    if unknown or not chosen:
        raise ValueError(
            f"refit={refit!r} names no strategy of the study ({unknown}); "
            f"choose among {names}, True, 'best' or False."
        )
    return chosen


def strategies_to_refit(refit, study):
    """The strategies ``refit`` asks for, in report order, with the reference.

    ``True`` is every strategy, ``"best"`` the best by the primary score, a
    name or a list those strategies; ``False`` none. The reference of the
    comparison (``best_unimodal_``) is added whenever anything is refitted,
    so that an external cohort can be compared to it.
    """
    names = list(study.strategies_)
    chosen = named_in_refit(refit, names)
    if chosen is None:
        chosen = names if refit is True else []
    if refit == "best":
        chosen = [best_strategy(study)]
    if not chosen:
        return []
    if study.best_unimodal_ is not None:
        chosen = [*chosen, study.best_unimodal_]
    return [name for name in names if name in chosen]


def refit_strategies(study, names, table, y, groups):
    """Each strategy of ``names`` fitted on every row, extraction included.

    Returns a dict of :class:`~sklearn.pipeline.Pipeline` objects with two
    steps: ``"extract"``, the modality transformer of the strategy's
    modalities fitted on every row, and ``"model"``, a clone of the
    strategy's estimator fitted on its output (with ``groups`` where the
    model takes them, as in the study's folds). Strategies that see the same
    modalities share one fitted ``"extract"`` step, so each set of
    modalities is extracted once. With the study's ``memory``, the
    extractors applied once read their rows from the extraction cache that
    the cross-validation filled; the pipelines hold the plain extractors.
    """
    cache = extraction_cache_location(study.memory)
    extracted = {}
    pipelines = {}
    for name in names:
        seen = study.strategy_modalities_[name]
        if seen not in extracted:
            triples = [m for m in study.modalities if m[0] in seen]
            transformer = modality_transformer(triples, study.n_jobs, cache)
            with naming_failures(f"extracting {list(seen)} on every row to refit"):
                blocks = as_float_blocks(
                    transformer.fit_transform(table, y), table.index
                )
            uncached(transformer)
            extracted[seen] = transformer, blocks
        transformer, blocks = extracted[seen]
        model = clone(study.strategies_[name])
        with naming_failures(f"refitting strategy {name!r} on every row"):
            with warnings.catch_warnings():
                # A modality missing in every row is handled by every strategy.
                warnings.simplefilter("ignore", MissingModalityWarning)
                fit_with_groups(model, blocks, y, groups)
        pipelines[name] = Pipeline([("extract", transformer), ("model", model)])
    return pipelines
