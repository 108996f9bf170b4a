"""What a study's analysis reads and fills: one value, not the whole study.

:class:`StudyResults` holds a cross-validated comparison (the strategies, the
splits, the stored out-of-fold predictions and the scorers) and, once
:func:`~skfusion.study._analysis.analyse` has run, its statistics. The
analysis functions take it instead of the :class:`FusionStudy`, so that they
can neither read nor change anything else of it; the study copies the
statistics to its fitted attributes, and an external cohort is analysed as a
StudyResults of one split that tests every row.
"""

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from ..utils._docstrings import fill_docstring

__all__ = ["ANALYSIS_ATTRIBUTES", "StudyResults", "optional_table"]

#: The attributes that the analysis fills, named as the study's.
ANALYSIS_ATTRIBUTES = (
    "fold_scores_",
    "summary_",
    "bootstrap_",
    "threshold_",
    "best_unimodal_",
    "comparison_",
    "calibration_",
    "availability_scores_",
    "label_scores_",
    "decision_curve_",
)


@fill_docstring
@dataclass(eq=False)
class StudyResults:
    """A cross-validated comparison of strategies, and its statistics.

    The fields ending in ``_`` are the :class:`FusionStudy` attributes of
    the same name (the statistics None until the analysis fills them); the
    others are what the study keeps privately.

    Attributes
    ----------
    %(study_design)s

    %(study_results)s

    scorers : dict of str to callable
        The scorer of each metric.

    oof_decision : dict
        The stored out-of-fold decision function (where no probabilities).

    positive : int or None
        The position of ``pos_label_`` in ``classes_`` (binary targets).

    survival_times_, horizons_ : ndarray or None
        The time grid of a survival study.

    notes : list of str
        What the report must say of the statistics.
    """

    task_: str
    classes_: object
    pos_label_: object
    metrics_: list
    primary_metric_: str
    strategies_: dict
    strategy_kinds_: dict
    strategy_modalities_: dict
    splits_: list
    split_ids_: list
    oof_predictions_: dict
    oof_proba_: dict
    n_samples_: int
    n_groups_: object
    availability_: object
    scorers: dict
    oof_decision: dict
    positive: object = None
    survival_times_: object = None
    horizons_: object = None
    fold_scores_: object = None
    summary_: object = None
    bootstrap_: object = None
    threshold_: object = None
    best_unimodal_: object = None
    comparison_: object = None
    calibration_: object = None
    availability_scores_: object = None
    label_scores_: object = None
    decision_curve_: object = None
    notes: list = field(default_factory=list)

    @classmethod
    def from_study(cls, study):
        """The comparison of a :class:`FusionStudy` cross-validated so far.

        Parameters
        ----------
        study : FusionStudy
            A study past its out-of-fold predictions (statistics it already
            has are taken too).

        Returns
        -------
        results : StudyResults
        """
        return cls(
            task_=study.task_,
            classes_=study.classes_,
            pos_label_=study.pos_label_,
            metrics_=study.metrics_,
            primary_metric_=study.primary_metric_,
            strategies_=study.strategies_,
            strategy_kinds_=study.strategy_kinds_,
            strategy_modalities_=study.strategy_modalities_,
            splits_=study.splits_,
            split_ids_=study.split_ids_,
            oof_predictions_=study.oof_predictions_,
            oof_proba_=study.oof_proba_,
            n_samples_=study.n_samples_,
            n_groups_=study.n_groups_,
            availability_=study.availability_,
            scorers=study._scorers,
            oof_decision=study._oof_decision,
            positive=getattr(study, "_positive", None),
            survival_times_=getattr(study, "survival_times_", None),
            horizons_=getattr(study, "horizons_", None),
            **{
                name: getattr(study, name)
                for name in ANALYSIS_ATTRIBUTES
                if hasattr(study, name)
            },
        )

    @property
    def n_repeats(self):
        """How many times the rows were split into folds."""
        return max(repeat for repeat, _ in self.split_ids_) + 1

    def tested_rows(self, repeat):
        """The positions of the rows tested in one repeat, fold after fold.

        Parameters
        ----------
        repeat : int
            The repeat.

        Returns
        -------
        rows : ndarray of int
        """
        return np.concatenate(
            [
                test
                for (r, _), (_, test) in zip(self.split_ids_, self.splits_, strict=True)
                if r == repeat
            ]
        )

    def labels(self, name, repeat):
        """A strategy's stored predicted labels of one repeat.

        Labels that are not numbers are stored in an object array (None where
        a row is not tested); scikit-learn's metrics take an object array of
        booleans for an unknown target, so they get the classes' dtype back.
        A survival strategy's "labels" are its risk scores.

        Parameters
        ----------
        name : str
            The strategy.

        repeat : int
            The repeat.

        Returns
        -------
        labels : ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        labels = self.oof_predictions_[name][repeat]
        if (
            self.classes_ is None
            or labels.dtype != object
            or self.classes_.dtype == object
        ):
            return labels
        cast = labels.copy()
        cast[pd.isna(cast)] = self.classes_[0]  # never scored: untested rows
        return cast.astype(self.classes_.dtype)

    def positive_scores(self, name, repeat=0):
        """A strategy's scores of the positive class in one repeat, or None.

        The probability of ``pos_label_`` where the strategy has
        probabilities, else its decision function oriented towards it
        (binary targets); None for a strategy with neither.
        """
        proba = self.oof_proba_[name]
        if proba is not None:
            return proba[repeat, :, self.positive]
        decision = self.oof_decision[name]
        if decision is None:
            return None
        # A binary decision function scores classes_[1].
        return decision[repeat] if self.positive == 1 else -decision[repeat]

    def stand_in(self, name, repeat, task):
        """A scorer-compatible model answering with a strategy's stored predictions.

        Parameters
        ----------
        name : str
            The strategy.

        repeat : int
            The repeat whose out-of-fold predictions it replays.

        task : Task
            The study's task, which makes the stand-in
            (:meth:`Task.stand_in`).

        Returns
        -------
        model : estimator
            Predicts for the table positions it is given as its only column.
        """
        proba = self.oof_proba_[name]
        decision = self.oof_decision[name]
        return task.stand_in(
            self.classes_,
            self.labels(name, repeat),
            None if proba is None else proba[repeat],
            None if decision is None else decision[repeat],
        )

    def statistics(self):
        """The filled statistics, by the study's attribute names.

        Returns
        -------
        statistics : dict of str to object
        """
        return {name: getattr(self, name) for name in ANALYSIS_ATTRIBUTES}

    def __repr__(self):
        filled = [f.name for f in fields(self) if getattr(self, f.name) is not None]
        return f"StudyResults({len(self.strategies_)} strategies; {len(filled)} fields)"


def optional_table(study, attribute):
    """A study's table that only some studies have, or None.

    None where the study lacks the attribute (one fitted or pickled before
    it existed), has None (not asked for) or an empty table.

    Parameters
    ----------
    study : FusionStudy
        A fitted study.

    attribute : str
        The attribute's name (``"decision_curve_"``, ``"robustness_"``, ...).

    Returns
    -------
    table : DataFrame or None
    """
    table = getattr(study, attribute, None)
    return None if table is None or table.empty else table
