"""What differs between the kinds of target a study takes: one object per kind.

A study's target is binary, multiclass, multi-label, continuous (regression)
or a time to event (survival). Everything that depends on which (the default
metrics and their scorers, whether the folds are stratified, what a stored
prediction is scored as, the Brier score, the calibration pairs, the
sensitivity and specificity, DeLong's test, how many folds the target can
fill) is a method or an attribute of the target's :class:`Task`; the study
and its analysis ask the task instead of testing the kind.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import (
    brier_score_loss,
    check_scoring,
    f1_score,
    hamming_loss,
    make_scorer,
    roc_auc_score,
)
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.utils.multiclass import type_of_target

from ..utils._sklearn_compat import scorer_with_pos_label
from ..utils.validation import plain
from ._checks import (
    Target,
    _positions,
    check_class_fold_count,
    check_classes_in_splits,
    check_events_in_splits,
    check_label_fold_count,
    check_labels_in_splits,
    check_multilabel_target,
    check_target_values,
    count_units,
)
from ._predictions import (
    StoredClassifierPredictions,
    StoredRegressorPredictions,
    StoredSurvivalPredictions,
)
from ._survival import (
    calibrate_survival,
    chance_survival_score,
    check_survival_target,
    compare_survival,
    is_survival_target,
    make_survival_scorers,
    survival_grid,
    survival_metric_note,
)
from .statistics import calibration_table

__all__ = ["TASKS", "Task", "check_fold_count", "check_target", "task_named"]

# Metrics of multi-label studies that scikit-learn has no scorer name for.
_EXTRA_SCORERS = {
    "roc_auc_micro": make_scorer(
        roc_auc_score, response_method="predict_proba", average="micro"
    ),
    "neg_hamming_loss": make_scorer(hamming_loss, greater_is_better=False),
    # A row with no label and none predicted scores 0, as scikit-learn's
    # default does, without a warning for every fold.
    "f1_samples": make_scorer(f1_score, average="samples", zero_division=0.0),
}
# Scorers whose subject bootstrap is vectorised: the metric name of
# statistics.resampled_metric, the response it scores and the scorer's sign.
# Other scorers are evaluated resample by resample (slower).
_POOLED_METRICS = {
    "roc_auc": ("roc_auc", "positive score", 1),
    "average_precision": ("average_precision", "positive score", 1),
    "roc_auc_ovr": ("roc_auc_ovr", "proba", 1),
    "accuracy": ("accuracy", "labels", 1),
    "balanced_accuracy": ("balanced_accuracy", "labels", 1),
    "f1": ("f1", "labels", 1),
    "precision": ("precision", "labels", 1),
    "recall": ("recall", "labels", 1),
    "r2": ("r2", "labels", 1),
    "neg_mean_absolute_error": ("mean_absolute_error", "labels", -1),
    "neg_mean_squared_error": ("mean_squared_error", "labels", -1),
    "neg_root_mean_squared_error": ("root_mean_squared_error", "labels", -1),
}
# The same for a multi-label target: per-label probabilities, 0/1 labels.
_POOLED_MULTILABEL_METRICS = {
    "roc_auc": ("multilabel_roc_auc", "proba", 1),
    "average_precision": ("multilabel_average_precision", "proba", 1),
    "roc_auc_micro": ("micro_roc_auc", "proba", 1),
    "neg_hamming_loss": ("hamming_loss", "labels", -1),
    "f1_samples": ("f1_samples", "labels", 1),
}


class Task:
    """A kind of target, and what a study does differently for it.

    Attributes
    ----------
    name : str
        ``"binary"``, ``"multiclass"``, ``"multilabel"``, ``"regression"``
        or ``"survival"``: the study's ``task_``.

    positive_class : bool
        Whether one class is the positive one (a binary target).

    default_scoring : list of str
        The metrics of a study that names none; the first is the primary.

    pooled_metrics : dict
        The metrics whose subject bootstrap is vectorised: name to
        ``(resampled metric, response, sign)``.

    rates : tuple of str
        The rates of the predicted labels in the summary (binary targets
        only).

    delong : bool
        Whether the comparison adds DeLong's test of the ROC AUCs.

    scores_brier : bool
        Whether the strategies' probabilities have a Brier score.

    scores_each_label : bool
        Whether the analysis scores each label on its own (``label_scores_``).

    rescores_resamples : bool
        Whether a metric without a vectorised bootstrap is bootstrapped by
        calling its scorer on every resample (else it keeps only its
        fold-score interval).
    """

    name = None
    #: ``(heading, column names)`` of the report's table of target counts,
    #: or None for a target without counts.
    counts_caption = ("Class counts:", ("class", "samples", "share"))
    positive_class = False
    default_scoring = ()
    pooled_metrics = _POOLED_METRICS
    rates = ()
    delong = False
    scores_brier = True
    scores_each_label = False
    rescores_resamples = True

    def make_scorers(self, scoring, y, pos_label):
        """The metric names and their scorers.

        Parameters
        ----------
        scoring : str, list of str or None
            The study's ``scoring``; None means ``default_scoring``.

        y : ndarray
            The checked target.

        pos_label : object
            The positive class of a binary target.

        Returns
        -------
        metrics : list of str

        scorers : dict of str to callable
        """
        if scoring is None:
            scoring = self.default_scoring
        elif isinstance(scoring, str):
            scoring = [scoring]
        metrics = list(scoring)
        scorers = {
            m: _EXTRA_SCORERS[m]
            if m in _EXTRA_SCORERS
            else check_scoring(None, scoring=m)
            for m in metrics
        }
        return metrics, scorers

    def strategy_options(self):
        """The kind of default strategies: keywords of ``default_strategies``."""
        return {"classification": True, "multilabel": False, "survival": False}

    def validates_on(self, n_rows, classes):
        """Whether a stratified validation split of ``n_rows`` rows is possible.

        Parameters
        ----------
        n_rows : float
            The rows a model would hold out (a share of its training rows).

        classes : ndarray or None
            The study's ``classes_``.

        Returns
        -------
        possible : bool
            Whether the held-out rows can hold a row of every class.
        """
        return np.ceil(n_rows) >= len(classes)

    def fold_splitter(self, y, grouped):
        """The K-fold class of an integer ``cv``, and what it stratifies on.

        Parameters
        ----------
        y : ndarray
            The target.

        grouped : bool
            Whether the folds keep the rows of a group together.

        Returns
        -------
        splitter : type
            A scikit-learn style K-fold class (``n_splits``, ``shuffle``,
            ``random_state``).

        strata : ndarray
            The ``y`` its ``split`` is given.
        """
        return (StratifiedGroupKFold if grouped else StratifiedKFold), y

    def share_strata(self, y):
        """What a learning curve's share of the rows keeps in proportion, or None."""
        return y

    def calibration_tables(self, results, y, tested):
        """Reliability table of every strategy with probabilities (first repeat).

        Parameters
        ----------
        results : StudyResults
            The comparison.

        y : ndarray
            The target.

        tested : ndarray of int
            The rows the first repeat tests.

        Returns
        -------
        tables : dict of str to DataFrame
        """
        tables = {}
        for name, proba in results.oof_proba_.items():
            if proba is None:  # a regressor, or a classifier without probabilities
                continue
            pairs = self.calibration_pairs(
                proba[0, tested],
                y[tested],
                results.classes_,
                results.pos_label_,
                results.positive,
            )
            if pairs is None:
                continue
            outcome, confidence = pairs
            if len(np.unique(outcome)) < 2:
                continue
            tables[name] = calibration_table(outcome, np.clip(confidence, 0, 1))
        return tables

    def compare_resampled(self, results, y, groups, seed, n_resamples, confidence):
        """Columns the comparison adds from subject resamples, or None.

        Returns
        -------
        table : DataFrame or None
            Indexed by strategy, joined to ``comparison_``.
        """
        return None

    def metric_note(self, results):
        """The report's sentence on the task's own metrics, or None."""
        return None

    def decision_clauses(self, pos_label):
        """How the report words a decision rule's labels, or None.

        Returns
        -------
        clauses : dict or None
            ``"prevalence"``: the clause of the prevalence rule;
            ``"stated"``: the clause of a stated threshold, to which the
            threshold is appended. None for a target without classes.
        """
        return {
            "prevalence": "each row gets the class whose predicted risk is largest "
            "relative to the class's share of the fold's training rows",
            "stated": "a row gets a class when its predicted risk is at least",
        }

    def chance_score(self, results, y):
        """The primary metric of the chance-level model, mean over the splits.

        The model that :meth:`dummy` gives, fitted on each split's training
        rows and scored on its test rows: what a modality's contribution is
        measured from.
        """
        scorer = results.scorers[results.primary_metric_]
        positions = np.arange(results.n_samples_)[:, None]
        values = []
        for train, test in results.splits_:
            model = clone(self.dummy()).fit(positions[train], y[train])
            values.append(float(scorer(model, positions[test], y[test])))
        return float(np.mean(values))

    def time_grid(self, y):
        """``(survival_times, horizons)`` of a survival target, else None."""
        return None

    def label_dtype(self, y):
        """The dtype of the stored predicted labels."""
        return y.dtype

    def dummy(self):
        """The chance-level model that contributions are measured from, or None.

        A survival study has none: its chance level is scored by
        :meth:`chance_score` from constant risks instead.
        """
        return DummyClassifier(strategy="prior")

    def stand_in(self, classes, labels, proba, decision):
        """A model that replays stored predictions, for a scorer to call.

        Parameters
        ----------
        classes : ndarray or None
            The study's ``classes_``.

        labels : ndarray
            The stored predictions (a survival study's risk scores).

        proba, decision : ndarray or None
            The stored probabilities (a survival study's survival curves) and
            decision function.

        Returns
        -------
        model : estimator
            Answers for the table positions it is given as its only column.
        """
        return StoredClassifierPredictions(classes, labels, proba, decision)

    def brier(self, proba, y, classes, pos_label, positive):
        """The Brier score of one repeat's probabilities on its tested rows."""
        return brier_score_loss(y, proba, labels=classes)

    def calibration_pairs(self, proba, y, classes, pos_label, positive):
        """``(outcome, confidence)`` pairs of a reliability table, or None."""
        predicted = classes[np.argmax(proba, axis=1)]
        return (predicted == y).astype(int), proba.max(axis=1)

    def calibration_axes(self, pos_label, horizons):
        """The x and y labels of the calibration figure."""
        return "Mean top-label confidence", "Fraction correct"

    def check_fold_count(self, cv, y, groups):
        """Refuse an integer ``cv`` whose folds the target cannot fill."""

    def check_splits(self, cv, classes, y, splits, split_ids):
        """Refuse splits whose training or test rows the target cannot fill."""
        check_classes_in_splits(cv, classes, y, splits, split_ids)

    def check_cohort_target(self, y, n_rows, classes, metrics):
        """An external cohort's target as an array of the study's kind.

        Parameters
        ----------
        y : array-like
            The cohort's target.

        n_rows : int
            Rows of the cohort's table.

        classes : ndarray or None
            The study's classes (its labels for a multi-label target).

        metrics : list of str
            The study's metrics, named in the messages.

        Returns
        -------
        y : ndarray
        """
        y = check_target_values(y, n_rows, whose="the external cohort's")
        unknown = [c for c in pd.unique(y) if c not in set(classes.tolist())]
        if unknown:
            rows = np.flatnonzero(np.isin(y, unknown))
            raise ValueError(
                f"The external cohort has labels the study never saw: "
                f"{[plain(c) for c in unknown]} (at {_positions(rows)}); the study's "
                f"classes are {[plain(c) for c in classes]}."
            )
        self._check_cohort_classes(y, classes, metrics)
        return y.astype(classes.dtype) if classes.dtype != object else y

    def _check_cohort_classes(self, y, classes, metrics):
        """Refuse a cohort whose classes the metrics cannot score."""


class BinaryTask(Task):
    """A target of two classes, one of them positive."""

    name = "binary"
    positive_class = True
    default_scoring = ("roc_auc", "balanced_accuracy", "accuracy")
    rates = ("sensitivity", "specificity")
    delong = True

    def decision_clauses(self, pos_label):
        return {
            "prevalence": f"a row is {pos_label} when its predicted risk exceeds "
            f"the share of {pos_label} among the fold's training rows",
            "stated": f"a row is {pos_label} when its predicted risk is at least",
        }

    def make_scorers(self, scoring, y, pos_label):
        metrics, scorers = super().make_scorers(scoring, y, pos_label)
        return metrics, {
            m: scorer_with_pos_label(scorer, pos_label) for m, scorer in scorers.items()
        }

    def brier(self, proba, y, classes, pos_label, positive):
        return brier_score_loss(y == pos_label, proba[:, positive])

    def calibration_pairs(self, proba, y, classes, pos_label, positive):
        return (y == pos_label).astype(int), proba[:, positive]

    def calibration_axes(self, pos_label, horizons):
        return "Mean predicted probability", f"Fraction of {pos_label}"

    def check_fold_count(self, cv, y, groups):
        check_class_fold_count(cv, y, groups)


class MulticlassTask(Task):
    """A target of more than two classes."""

    name = "multiclass"
    default_scoring = ("balanced_accuracy", "accuracy", "roc_auc_ovr")

    def check_fold_count(self, cv, y, groups):
        check_class_fold_count(cv, y, groups)

    def _check_cohort_classes(self, y, classes, metrics):
        absent = [c for c in classes if not np.any(y == c)]
        if absent:
            # A multiclass ROC AUC and the calibration of every class need rows
            # of every class; say which is missing rather than fail inside them.
            raise ValueError(
                f"The external cohort has no row of class(es) "
                f"{[plain(c) for c in absent]}; the study's multiclass metrics "
                f"({', '.join(metrics)}) need rows of each of its classes "
                f"{[plain(c) for c in classes]}. Add such rows, or score the "
                "classes present with the refitted estimators_ directly."
            )


class MultilabelTask(Task):
    """One 0/1 column per label (finding)."""

    name = "multilabel"
    counts_caption = (
        "Label counts (a row may have several):",
        ("label", "rows with it", "share of rows"),
    )
    scores_each_label = True
    default_scoring = (
        "roc_auc",
        "average_precision",
        "roc_auc_micro",
        "neg_hamming_loss",
        "f1_samples",
    )
    pooled_metrics = _POOLED_MULTILABEL_METRICS

    def strategy_options(self):
        return {"classification": True, "multilabel": True, "survival": False}

    def decision_clauses(self, pos_label):
        return {
            "prevalence": "a label is present when its predicted risk exceeds the "
            "label's share of the fold's training rows",
            "stated": "a label is present when its predicted risk is at least",
        }

    def fold_splitter(self, y, grouped):
        # Iterative stratification (Sechidis et al., 2011) keeps each label's
        # share in every fold as far as the rows allow; whole groups are
        # stratified on the combinations of labels.
        if not grouped:
            return MultilabelStratifiedKFold, y
        return StratifiedGroupKFold, np.unique(y, axis=0, return_inverse=True)[
            1
        ].ravel()

    def share_strata(self, y):
        return None  # every label kept would need iterative stratification

    def validates_on(self, n_rows, classes):
        return np.ceil(n_rows) >= 2  # one model per label, 0 or 1

    def stand_in(self, classes, labels, proba, decision):
        # scikit-learn's multi-label classes_: the classes of every label.
        binary = [np.array([0, 1])] * len(classes)
        return StoredClassifierPredictions(binary, labels, proba, decision)

    def brier(self, proba, y, classes, pos_label, positive):
        # The mean over labels of each label's Brier score.
        return np.mean((proba - y) ** 2)

    def calibration_pairs(self, proba, y, classes, pos_label, positive):
        # Every (row, label) pair: is the label there, at what probability.
        return y.ravel(), proba.ravel()

    def check_fold_count(self, cv, y, groups):
        check_label_fold_count(cv, y, groups)

    def check_splits(self, cv, classes, y, splits, split_ids):
        check_labels_in_splits(classes, y, splits, split_ids)

    def check_cohort_target(self, y, n_rows, classes, metrics):
        # The study's labels, 0 or 1, none missing.
        names = list(classes)
        if isinstance(y, pd.DataFrame):
            absent = [name for name in names if name not in y.columns]
            if absent:
                raise ValueError(
                    f"The external cohort's target lacks the labels {absent}; the "
                    f"study's labels are {names}."
                )
            y = y[names]
        values = np.asarray(y)
        if values.shape != (n_rows, len(names)):
            raise ValueError(
                f"The external cohort's y must have one row per table row and one "
                f"column per label ({n_rows}, {len(names)}); got shape "
                f"{values.shape}."
            )
        bad = ~np.isin(values, [0, 1])
        if bad.any():
            row, column = np.argwhere(bad)[0]
            raise ValueError(
                f"Label {names[column]!r} of the external cohort must be 0 or 1; "
                f"row {row} holds {plain(values[row, column])!r}."
            )
        return values.astype(int)


class RegressionTask(Task):
    """A continuous target."""

    name = "regression"
    counts_caption = None
    default_scoring = ("r2", "neg_mean_absolute_error")
    scores_brier = False

    def strategy_options(self):
        return {"classification": False, "multilabel": False, "survival": False}

    def decision_clauses(self, pos_label):
        return None

    def fold_splitter(self, y, grouped):
        return (GroupKFold if grouped else KFold), y

    def validates_on(self, n_rows, classes):
        return np.ceil(n_rows) >= 1

    def share_strata(self, y):
        return None

    def label_dtype(self, y):
        return float

    def dummy(self):
        return DummyRegressor()

    def stand_in(self, classes, labels, proba, decision):
        return StoredRegressorPredictions(labels)

    def brier(self, proba, y, classes, pos_label, positive):
        return np.nan

    def calibration_pairs(self, proba, y, classes, pos_label, positive):
        return None  # no reliability table of a continuous prediction

    def check_splits(self, cv, classes, y, splits, split_ids):
        pass  # any rows can be regressed on

    def check_cohort_target(self, y, n_rows, classes, metrics):
        y = check_target_values(y, n_rows, whose="the external cohort's")
        numbers = pd.to_numeric(pd.Series(y), errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy())
        if bad.size:
            raise ValueError(
                "The external cohort's target must be numeric, as the study's; "
                f"{bad.size} row(s) are not numbers, first at row {int(bad[0])} "
                f"({plain(y[bad[0]])!r})."
            )
        return numbers.to_numpy(dtype=float)


class SurvivalTask(Task):
    """A time to event: an event indicator and a time per row."""

    name = "survival"
    counts_caption = ("Events and censored rows:", ("outcome", "rows", "share"))
    # Harrell's C is resampled pair by pair; the metrics that estimate a
    # censoring distribution keep only their fold-score interval.
    pooled_metrics = {"c_harrell": ("harrell_c", "labels", 1)}
    rescores_resamples = False
    # The stored "probabilities" of a survival strategy are survival curves.
    scores_brier = False

    def strategy_options(self):
        return {"classification": False, "multilabel": False, "survival": True}

    def decision_clauses(self, pos_label):
        return None

    def fold_splitter(self, y, grouped):
        # Each fold tests its share of the events.
        return (StratifiedGroupKFold if grouped else StratifiedKFold), y["event"]

    def share_strata(self, y):
        return None

    def validates_on(self, n_rows, classes):
        return np.ceil(n_rows) >= 1

    def calibration_tables(self, results, y, tested):
        return calibrate_survival(results, y, tested)

    def compare_resampled(self, results, y, groups, seed, n_resamples, confidence):
        return compare_survival(results, y, groups, seed, n_resamples, confidence)

    def chance_score(self, results, y):
        return chance_survival_score(results, y)

    def metric_note(self, results):
        return survival_metric_note(results.survival_times_, results.horizons_)

    def make_scorers(self, scoring, y, pos_label):
        # Scored on the grid of the study's own event times.
        return make_survival_scorers(scoring, y, *survival_grid(y))

    def time_grid(self, y):
        return survival_grid(y)

    def label_dtype(self, y):
        return float

    def dummy(self):
        return None

    def calibration_axes(self, pos_label, horizons):
        at = horizons[len(horizons) // 2]
        return (
            f"Mean predicted survival at t = {at:g}",
            "Kaplan–Meier survival of the bin",
        )

    def stand_in(self, classes, labels, proba, decision):
        return StoredSurvivalPredictions(labels, proba)

    def check_cohort_target(self, y, n_rows, classes, metrics):
        if not is_survival_target(y):
            raise ValueError(
                "The external cohort's y must be a survival target (a structured "
                "array of an event indicator and a time), as the study's."
            )
        return check_survival_target(np.asarray(y), n_rows)[0]

    def check_splits(self, cv, classes, y, splits, split_ids):
        check_events_in_splits(y, splits, split_ids)

    def check_fold_count(self, cv, y, groups):
        # Each fold tests some events: stratified on the event indicator.
        count, unit = count_units(y["event"], groups)
        if count < cv:
            raise ValueError(
                f"The target has events in {count} {unit}(s), fewer than the "
                f"cv={cv} folds: some test folds would have no event, where no "
                f"survival metric is defined. Use cv={max(count, 2)} or fewer."
            )


#: The task of each kind of target, by the study's ``task_``.
TASKS = {
    task.name: task
    for task in (
        BinaryTask(),
        MulticlassTask(),
        MultilabelTask(),
        RegressionTask(),
        SurvivalTask(),
    )
}


def check_target(y, n_rows, pos_label):
    """The target as an array, and what it is (a :class:`Target`).

    A 2-D ``y`` is a multi-label target: one 0/1 column per label (finding),
    named by the columns of a DataFrame (else ``label0``, ``label1``, ...).
    """
    if is_survival_target(y):
        y, counts = check_survival_target(np.asarray(y), n_rows)
        return y, Target("survival", None, counts, None, None)
    if np.ndim(y) == 2:
        return check_multilabel_target(y, n_rows)
    y = check_target_values(y, n_rows)
    task = type_of_target(y)
    if task in ("continuous", "continuous-multioutput"):
        return y, Target("regression", None, None, None, None)
    if task not in ("binary", "multiclass"):
        raise ValueError(
            f"FusionStudy supports binary, multiclass and continuous targets; "
            f"got a {task!r} target."
        )
    classes, n_rows_of = np.unique(y, return_counts=True)
    counts = {plain(c): int(n) for c, n in zip(classes, n_rows_of, strict=True)}
    if len(classes) < 2:
        raise ValueError(
            f"The target has a single class ({plain(classes[0])!r}) in "
            "every row; a classification study needs at least two."
        )
    if task != "binary":
        return y, Target(task, classes, counts, None, None)
    label = classes[1] if pos_label is None else pos_label
    if label not in classes:
        raise ValueError(
            f"pos_label={pos_label!r} is not a class of the target; "
            f"the classes are {[plain(c) for c in classes]}."
        )
    positive = int(np.flatnonzero(classes == label)[0])
    return y, Target(task, classes, counts, plain(classes[positive]), positive)


def task_named(name):
    """The :class:`Task` of a study's ``task_``."""
    return TASKS[name]


def check_fold_count(cv, task, y, groups, n_groups):
    """Refuse an integer ``cv`` the groups or the target cannot fill."""
    if not isinstance(cv, Integral):
        return
    if groups is not None and n_groups < cv:
        raise ValueError(
            f"cv={cv} folds need at least {cv} groups, and groups "
            f"has {n_groups} distinct values: rows of one group never "
            f"straddle folds. Use cv={max(n_groups, 2)} or fewer folds."
        )
    task.check_fold_count(cv, y, groups)
