"""External validation: a study's refitted strategies scored on another cohort."""

# The cohort is scored by the same functions as the study's folds: the
# refitted strategies' predictions of the new rows are laid out as one
# "split" whose test rows are the whole cohort, so the subject bootstrap,
# DeLong's test, the calibration and the scores by availability pattern are
# computed exactly as for the study itself.

from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..blocks import MODALITY_SEPARATOR, modality_availability
from ._analysis import (
    calibrate,
    compare,
    fold_scores,
    score_availability_patterns,
    summarise,
)
from ._checks import check_groups, check_modalities
from ._results import ANALYSIS_ATTRIBUTES, StudyResults
from ._runner import (
    as_float_blocks,
    hash_data,
    modality_transformer,
    naming_failures,
    predict_responses,
)
from ._task import task_named

__all__ = ["ExternalValidation", "evaluate_cohort"]


class ExternalValidation(NamedTuple):
    """The refitted strategies of a study scored on an external cohort.

    ``summary`` has one row per refitted strategy: ``kind``, ``modalities``,
    each metric on the whole cohort with its subject-bootstrap interval
    (``<metric>``, ``<metric>_boot_low``, ``<metric>_boot_high``), for a
    binary target ``sensitivity`` and ``specificity`` with theirs, and
    ``brier``. ``comparison`` sets every strategy against the study's
    reference (``best_unimodal_``): the ``difference`` of the primary metric
    and, for a binary target, DeLong's test (``auc``, ``reference_auc``,
    ``delong_z``, ``delong_p_value``). ``calibration`` holds the reliability
    table of each strategy with probabilities, ``availability`` which
    modality each row has, ``availability_scores`` the primary metric on
    the rows of each availability pattern, and ``bootstrap`` how the
    intervals were resampled. ``predictions`` and ``proba`` map each
    strategy to its predicted labels and ``predict_proba`` (None without);
    ``data_hash`` is the :func:`joblib.hash` of the cohort (table, target,
    groups), as the study's ``data_hash_`` is of its table.
    """

    summary: pd.DataFrame
    comparison: pd.DataFrame
    calibration: dict
    availability: pd.DataFrame
    availability_scores: pd.DataFrame
    bootstrap: dict
    predictions: dict
    proba: dict
    n_samples: int
    n_groups: int | None
    data_hash: str


def evaluate_cohort(study, table, y, groups=None):
    """Score every refitted strategy of ``study`` on a new table.

    Parameters
    ----------
    study : FusionStudy
        A study fitted with ``refit``.

    table : DataFrame
        The external cohort, with the study table's modality columns.

    y : array-like of shape (n_samples,)
        Its target; for a classification, labels among the study's classes.

    groups : array-like of shape (n_samples,), default=None
        Group of each row (e.g. the patient): the bootstrap resamples groups.

    Returns
    -------
    external : ExternalValidation
    """
    if not getattr(study, "estimators_", None):
        raise ValueError(
            "FusionStudy.evaluate needs refitted strategies: fit the study "
            "with refit='best', True or the strategies' names."
        )
    check_modalities(study.modalities, table)
    y = task_named(study.task_).check_cohort_target(
        y, len(table), study.classes_, study.metrics_
    )
    groups, n_groups = check_groups(groups, len(table))
    names = list(study.estimators_)
    predictions, proba, decision, blocks = {}, {}, {}, {}
    for name in names:
        pipeline = study.estimators_[name]
        extract, model = pipeline.named_steps["extract"], pipeline.named_steps["model"]
        seen = study.strategy_modalities_[name]
        if seen not in blocks:
            with naming_failures(f"extracting {list(seen)} on the external cohort"):
                blocks[seen] = as_float_blocks(extract.transform(table), table.index)
        X = blocks[seen]
        with naming_failures(f"predicting the external cohort with {name!r}"):
            predictions[name], proba[name], decision[name] = predict_responses(
                model, X, getattr(study, "survival_times_", None)
            )
    availability = _cohort_availability(study, table, y, blocks)

    n_rows = len(table)
    # The study's comparison, with one "split" that tests every row of the
    # cohort, its predictions, and no statistics yet.
    cohort = replace(
        StudyResults.from_study(study),
        strategies_={name: study.strategies_[name] for name in names},
        splits_=[(np.array([], dtype=int), np.arange(n_rows))],
        split_ids_=[(0, 0)],
        oof_predictions_={name: p[None] for name, p in predictions.items()},
        oof_proba_={name: None if p is None else p[None] for name, p in proba.items()},
        oof_decision={
            name: None if d is None else d[None] for name, d in decision.items()
        },
        n_samples_=n_rows,
        n_groups_=n_groups,
        availability_=availability,
        **dict.fromkeys(ANALYSIS_ATTRIBUTES),
    )
    if study.best_unimodal_ in names:
        cohort.best_unimodal_ = study.best_unimodal_
    cohort.fold_scores_ = fold_scores(cohort, y, {(0, name): np.nan for name in names})
    seed = study.bootstrap_["random_state"]
    summary, bootstrap, _ = summarise(cohort, y, groups, seed)
    cohort.summary_ = summary
    comparison = compare(cohort, y)
    return ExternalValidation(
        summary=_cohort_summary(summary, study),
        comparison=comparison.drop(columns=["t_statistic", "p_value"]),
        calibration=calibrate(cohort, y),
        availability=availability,
        availability_scores=score_availability_patterns(cohort, y),
        bootstrap=bootstrap,
        predictions=predictions,
        proba=proba,
        n_samples=n_rows,
        n_groups=n_groups,
        data_hash=hash_data(table, y, groups),
    )


def _cohort_availability(study, table, y, blocks):
    """Which modality each cohort row has, read from the extracted blocks.

    A modality that no refitted strategy sees is extracted on its own for
    this (its transformer fitted on the cohort: only whether a row has the
    modality is read from it, never a value).
    """
    present = {}
    for frame in blocks.values():
        present.update(modality_availability(frame).items())
    for modality in study.modalities:
        name = modality[0]
        if name in present:
            continue
        with naming_failures(f"reading which external rows have {name!r}"):
            frame = as_float_blocks(
                modality_transformer([modality]).fit_transform(table, y), table.index
            )
        prefix = f"{name}{MODALITY_SEPARATOR}"
        frame = frame[[c for c in frame.columns if c.startswith(prefix)]]
        present[name] = modality_availability(frame)[name]
    return pd.DataFrame(
        {name: present[name].to_numpy(dtype=bool) for name in study.modality_names_},
        index=table.index,
    )


def _cohort_summary(summary, study):
    """The pooled columns of a one-split summary, named by their metric."""
    columns = {"kind": "kind", "modalities": "modalities"}
    for metric in study.metrics_:
        columns[f"{metric}_pooled"] = metric
        columns[f"{metric}_boot_low"] = f"{metric}_boot_low"
        columns[f"{metric}_boot_high"] = f"{metric}_boot_high"
    for column in summary.columns:
        if column.startswith(("sensitivity", "specificity")) or column == "brier":
            columns[column] = column
    return summary[list(columns)].rename(columns=columns)
