"""FusionStudy: every strategy on the same folds, with sound statistics."""

# The study checks its inputs (_checks), resolves its strategies and delegates
# the rest: the folds, the extraction and the out-of-fold fits to _runner,
# every score, interval, test and contribution to _analysis.

import time
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import HasMethods, Interval, StrOptions, fit_context
from ._analysis import analyse, measure_contributions, row_availability
from ._checks import (
    check_groups,
    check_modalities,
)
from ._evaluation import optional_evaluation
from ._external import evaluate_cohort
from ._refit import (
    best_strategy,
    named_in_refit,
    refit_strategies,
    strategies_to_refit,
)
from ._results import StudyResults
from ._runner import (
    extract_blocks,
    hash_data,
    hash_splits,
    make_splits,
    predict_out_of_fold,
)
from ._strategies import default_strategies
from ._subgroups import check_subgroups
from ._task import check_fold_count, check_target, task_named

__all__ = ["FusionStudy"]


@fill_docstring
class FusionStudy(BaseEstimator):
    """Compare unimodal baselines and fusion strategies on identical folds.

    A study takes the study table (one row per subject, one or more columns
    per modality), extracts every modality inside each training fold, fits
    every strategy on the same folds, and collects what a paper needs: fold
    scores with bootstrap confidence intervals, paired tests of every strategy
    against the best single modality, calibration, scores per pattern of
    available modalities, and the contribution of each modality (ablation,
    Shapley values, permutation importance). :meth:`report` writes it all to
    a folder, plots included.

    No leakage: each modality's transformer is fitted on the training rows of
    each fold only, and the strategies see the test rows only through the
    fold's fitted transformers. A transformer that learns nothing from the
    data (skfusion's extractors, which declare ``learns_from_data = False``)
    is applied once to all rows instead, which gives the same blocks faster.
    Each fold's blocks are computed once and shared by every strategy.

    Parameters
    ----------
    modalities : list of (str, transformer, columns) tuples
        One ``(name, transformer, columns)`` triple per modality, as in
        :func:`~skfusion.compose.make_modality_transformer`: a skfusion
        extractor, any sklearn transformer or ``"passthrough"``, and the
        table columns it reads.

    strategies : "default", list of str or dict, default="default"
        ``"default"`` compares a unimodal baseline per modality, early fusion
        (linear and gradient boosting), late fusion (mean and stacking), a
        shared space (multi-set CCA) and deep fusion (concat and attention,
        when torch is installed); see :func:`default_strategies` for their
        names and models. A list picks some of those by name. A dict
        maps a strategy name to an estimator that takes the blocked matrix of
        every modality, or to ``(estimator, modality_names)`` for a strategy
        that sees only some modalities.

    cv : int or cross-validation splitter, default=5
        An int is the number of shuffled folds: stratified for a
        classification target, and grouped (``StratifiedGroupKFold`` /
        ``GroupKFold``) when ``groups`` are passed to :meth:`fit`. A splitter
        is used as is, with ``groups``; its test sets must not overlap.

    n_repeats : int, default=1
        Repetitions of an integer ``cv``, each shuffled with its own seed
        drawn from ``random_state``. Must be 1 with a splitter.

    scoring : str, list of str or None, default=None
        Metric names as accepted by :func:`sklearn.metrics.get_scorer`; the
        first is the primary metric, which the comparison and the modality
        contributions use. ``None`` means ``["roc_auc", "balanced_accuracy",
        "accuracy"]`` for a binary target, ``["balanced_accuracy",
        "accuracy", "roc_auc_ovr"]`` for a multiclass one, and ``["r2",
        "neg_mean_absolute_error"]`` for a regression.

    pos_label : int, float, str or None, default=None
        The positive class of a binary target: the class whose probability
        the Brier score, the calibration, the ROC curves and the metrics that
        take a ``pos_label`` (precision, recall, F1, average precision, ...)
        refer to. ``None`` takes the greater label, scikit-learn's rule.
        Ignored for other targets.

    %(study_class_weight)s

    contributions : str, "auto" or None, default="auto"
        The strategy whose modality contributions are measured: refitted on
        every subset of modalities for the ablation and the Shapley values,
        and permuted block by block on each test fold for the importance.
        ``"auto"`` takes ``early:linear`` when present, else the first
        strategy that sees every modality; ``None`` skips contributions.

    max_exact, n_permutations : int, default=6 and 50
        Up to ``max_exact`` modalities the Shapley values are exact (every
        coalition refitted); above, estimated from ``n_permutations`` orders.

    random_state : int, RandomState instance or None, default=None
        Seeds the folds of every repeat, the default strategies and the
        permutations. An int makes the whole study reproducible.

    n_jobs : int, default=None
        Jobs over folds x strategies, over folds for the transformers fitted
        per fold, and, for an extractor applied once whose own ``n_jobs`` is
        None, over its batches. ``None`` means 1 unless in a
        :func:`joblib.parallel_backend` context, which is how a study runs on
        a Dask cluster.

    memory : str, joblib.Memory or None, default=None
        Caches extraction on disk by input content and extractor parameters
        (user guide, "The extraction cache"); delete the folder to clear it.

    verbose : bool, default=False
        Show a progress bar over folds x strategies.

    refit : bool, "best", str or list of str, default=False
        Which strategies to fit again on every row after the
        cross-validation, as :class:`~sklearn.pipeline.Pipeline` objects
        from the study table to predictions (extraction included; see
        ``estimators_``): ``"best"`` the best strategy by the mean primary
        score (``best_strategy_``), ``True`` every strategy, a name or a list
        of names those strategies, ``False`` none. Whenever anything is
        refitted, the reference of the comparison (``best_unimodal_``) is
        refitted too, so that :meth:`evaluate` can compare to it.

    decision_thresholds : array-like of float or None, default=None
        Threshold probabilities of a binary study's decision curves
        (``decision_curve_``); None means 1 % to 50 % in steps of 1 %.

    subgroups : str, list of str or None, default=None
        Columns of the table (sex, site, age, ...) whose levels each get
        every metric, with subject-bootstrap intervals, and whose largest
        gap between levels is tested (``subgroup_scores_``,
        ``subgroup_gaps_``). A numeric column with more than five distinct
        values is cut into three bands at its tertiles.

    robustness : bool, default=False
        Every strategy's fold models predict their test rows again with one
        modality withheld from 25 to 100 % of the rows, or degraded by noise
        (``robustness_``). No refit, but the models of every strategy are
        kept and predict 7 times per modality and fold.

    learning_curve : bool, str or list of str, default=False
        Strategies refitted on 10, 25, 50 and 75 % of each fold's training
        rows and scored on the same test rows (``learning_curve_``): ``True``
        the best strategy and the reference, or names. Off by default: it
        costs four refits per strategy and fold.

    Attributes
    ----------
    %(study_design)s

    target_counts_ : dict or None
        Number of rows of each class (None for a regression).

    modality_names_ : list of str
        The modalities, in the order given.

    notes_ : list of str
        Remarks for the report (strategies left out, and why).

    y_ : ndarray of shape (n_samples,) or (n_samples, n_labels)
        The target, as an array.

    %(study_results)s

    target_name_ : str or None
        Name of the target when ``y`` was a named Series.

    fold_seeds_ : list of int or None
        Shuffling seed of each repeat (None for a splitter).

    splits_hash_, data_hash_ : str
        :func:`joblib.hash` of the fold indices, and of the table (index,
        column names, cells), target and groups.

    %(study_evaluation)s

    contribution_strategy_ : str or None
        The strategy of the modality contributions.

    contributions_ : DataFrame or None
        One row per modality: ``ablation`` (full score minus the score
        without the modality), ``shapley``, ``importance_mean`` and
        ``importance_std`` (block permutation importance on the test folds).

    coalition_scores_ : dict of frozenset to float
        Mean primary score of every refitted subset of modalities; the empty
        set is the prior (dummy) model.

    best_strategy_ : str
        The strategy with the best mean primary score: among those ``refit``
        names (the reference added for the comparison aside), or among all
        strategies when nothing is refitted.

    estimators_ : dict of str to Pipeline
        The refitted strategies (empty when ``refit=False``): each a
        :class:`~sklearn.pipeline.Pipeline` with an ``"extract"`` step (the
        strategy's modality transformers, fitted on every row) and a
        ``"model"`` step (the strategy's estimator, fitted on every row), so
        that ``predict`` and ``predict_proba`` take a new table with the
        study table's columns. Strategies that see the same modalities
        share one fitted ``"extract"`` step.

    best_estimator_ : Pipeline
        ``estimators_[best_strategy_]``; only when something is refitted.

    external_ : ExternalValidation or None
        The last :meth:`evaluate` (None before): the refitted strategies
        scored on an external cohort; the report shows it.

    timings_ : dict of str to float
        Wall-clock seconds of each stage of ``fit``: ``"extraction"`` (the
        modality transformers, on all rows or per fold), ``"cross-validation"``
        (fitting and predicting every strategy on every split; the per-fold
        fit times are ``fit_time`` in ``fold_scores_`` and ``summary_``),
        ``"statistics"`` (scores, intervals, comparison, calibration, subgroups,
        learning curve), ``"contributions"``, ``"refit"`` and ``"total"``.

    See Also
    --------
    skfusion.inspection.modality_shapley : Shapley values on one blocked matrix.
    skfusion.study.corrected_resampled_ttest : The paired test of the comparison.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.study import FusionStudy
    >>> X, y = make_multimodal_classification(
    ...     120, modality_sizes=(3, 3), informativeness=(2.0, 1.0), missing_rate=0.0,
    ...     random_state=0,
    ... )
    >>> study = FusionStudy(
    ...     [("a", "passthrough", ["m0__x0", "m0__x1", "m0__x2"]),
    ...      ("b", "passthrough", ["m1__x0", "m1__x1", "m1__x2"])],
    ...     strategies={
    ...         "a only": (LogisticRegression(), ["a"]),
    ...         "b only": (LogisticRegression(), ["b"]),
    ...         "both": LogisticRegression(),
    ...     },
    ...     cv=3, contributions=None, random_state=0,
    ... ).fit(X, y)
    >>> study.summary_.index.tolist()
    ['a only', 'b only', 'both']
    >>> study.best_unimodal_
    'a only'
    """

    _parameter_constraints = {
        "modalities": [list, tuple],
        "strategies": [StrOptions({"default"}), list, dict],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object"],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "scoring": [str, list, tuple, None],
        "pos_label": [Integral, float, str, None],
        "class_weight": [StrOptions({"balanced"}), None],
        "contributions": [str, None],
        "max_exact": [Interval(Integral, 0, None, closed="left")],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "memory": [None, str, HasMethods(["cache"])],
        "verbose": ["verbose"],
        "refit": ["boolean", str, list],
        "decision_thresholds": ["array-like", None],
        "subgroups": [str, list, tuple, None],
        "learning_curve": ["boolean", str, list],
        "robustness": ["boolean"],
    }

    def __init__(
        self,
        modalities,
        strategies="default",
        *,
        cv=5,
        n_repeats=1,
        scoring=None,
        pos_label=None,
        class_weight=None,
        contributions="auto",
        max_exact=6,
        n_permutations=50,
        random_state=None,
        n_jobs=None,
        memory=None,
        verbose=False,
        refit=False,
        decision_thresholds=None,
        subgroups=None,
        learning_curve=False,
        robustness=False,
    ):
        self.modalities = modalities
        self.strategies = strategies
        self.cv = cv
        self.n_repeats = n_repeats
        self.scoring = scoring
        self.pos_label = pos_label
        self.class_weight = class_weight
        self.contributions = contributions
        self.max_exact = max_exact
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose
        self.refit = refit
        self.decision_thresholds = decision_thresholds
        self.subgroups = subgroups
        self.learning_curve = learning_curve
        self.robustness = robustness

    # The strategies check their own parameters when fitted.
    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, table, y, groups=None):
        """Run the study.

        Parameters
        ----------
        table : DataFrame of shape (n_samples, n_columns)
            The study table, one row per subject.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The target: class labels, numbers, or a 0/1 indicator of several
            labels (a DataFrame with one column per label, for instance one
            per finding). A multi-label target is split by iterative
            stratification (whole groups stratified on the combinations of
            labels when ``groups`` are given) and scored by default with the
            macro ROC AUC, the macro average precision, the micro ROC AUC,
            the Hamming loss and the sample-averaged F1.

        groups : array-like of shape (n_samples,), default=None
            Group of each row (for instance the patient of each image): rows
            of one group never straddle a split, and deep models early-stop
            on a grouped inner split.

        Returns
        -------
        self : FusionStudy
            The fitted study.
        """
        y, groups, inputs = _checked_inputs(
            self.modalities, table, y, groups, self.pos_label
        )
        vars(self).update(inputs)
        subgroups = check_subgroups(self.subgroups, table)
        # Every random draw of the study comes from this one generator: the
        # seed of the strategies and contributions first, then one seed per
        # repeat of an integer cv.
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        task = task_named(self.task_)
        grid = task.time_grid(y)  # the survival times and AUC horizons, or None
        if grid is not None:
            self.survival_times_, self.horizons_ = grid
        self.metrics_, self._scorers = task.make_scorers(
            self.scoring, y, self.pos_label_
        )
        self.primary_metric_ = self.metrics_[0]
        check_fold_count(self.cv, task, y, groups, self.n_groups_)
        self.splits_, self.split_ids_, self.fold_seeds_ = make_splits(
            self.cv,
            self.n_repeats,
            task,
            table,
            y,
            groups,
            rng,
        )
        task.check_splits(self.cv, self.classes_, y, self.splits_, self.split_ids_)
        # The strategies know the smallest training fold they are fitted on.
        smallest = min(len(train) for train, _ in self.splits_)
        params = self.get_params(deep=False)
        attributes = _strategy_attributes(params, inputs, seed, groups, smallest)
        vars(self).update(attributes)
        named_in_refit(self.refit, list(self.strategies_))
        self.splits_hash_ = hash_splits(self.splits_)
        self.data_hash_ = hash_data(table, y, groups)

        clock = _StageClock()
        blocks = extract_blocks(
            self.modalities,
            table,
            y,
            self.splits_,
            memory=self.memory,
            n_jobs=self.n_jobs,
        )
        clock.lap("extraction")
        self.availability_ = row_availability(
            blocks, self.splits_, table.index, self.modality_names_
        )
        out_of_fold = predict_out_of_fold(
            self.strategies_,
            self.strategy_modalities_,
            blocks,
            self.splits_,
            self.split_ids_,
            y,
            groups,
            label_dtype=task.label_dtype(y),
            keep_models_of=(
                self.strategies_ if self.robustness else {self.contribution_strategy_}
            ),
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            survival_times=None if grid is None else grid[0],
        )
        clock.lap("cross-validation")
        self.oof_predictions_ = out_of_fold.predictions
        self.oof_proba_ = out_of_fold.proba
        self._oof_decision = out_of_fold.decision

        # The first repeat's shuffling seed; a splitter has none.
        statistics_seed = seed if self.fold_seeds_[0] is None else self.fold_seeds_[0]
        results = analyse(
            self._results(),
            y,
            groups,
            out_of_fold.fit_times,
            statistics_seed,
            self.decision_thresholds,
        )
        vars(self).update(results.statistics())
        self.notes_.extend(results.notes)
        params = self.get_params(deep=False)
        models = out_of_fold.models
        extra = optional_evaluation(results, table, blocks, models, y, groups,
                                    statistics_seed, params, subgroups)  # fmt: skip
        self.notes_.extend(extra.pop("notes"))
        vars(self).update(extra)
        clock.lap("statistics")
        self.contributions_, self.coalition_scores_ = None, {}
        if self.contribution_strategy_ is not None:
            self.contributions_, self.coalition_scores_ = measure_contributions(
                results, self.contribution_strategy_, blocks, y, groups, models,
                seed, params)  # fmt: skip
        clock.lap("contributions")
        self._refit(table, y, groups)
        clock.lap("refit")
        self.timings_ = clock.timings()
        return self

    def evaluate(self, table, y, groups=None):
        """Score the refitted strategies on an external cohort.

        Every strategy in ``estimators_`` predicts the new table; each
        metric of the study is computed on all its rows, with a subject
        bootstrap interval (groups resampled when ``groups`` are given),
        and, for a binary target, DeLong's test against the reference
        (``best_unimodal_``), the calibration, and the scores by pattern of
        available modalities. The result is kept in ``external_``, and
        :meth:`report` adds an "External validation" section.

        Parameters
        ----------
        table : DataFrame of shape (n_samples, n_columns)
            The external cohort, with the study table's modality columns.

        y : array-like of shape (n_samples,)
            Its target; for a classification, labels among ``classes_``.

        groups : array-like of shape (n_samples,), default=None
            Group of each row (for instance the patient of each image).

        Returns
        -------
        external : ExternalValidation
            Also stored as ``external_``.
        """
        check_is_fitted(self, "summary_")
        self.external_ = evaluate_cohort(self, table, y, groups)
        return self.external_

    def _refit(self, table, y, groups):
        asked = strategies_to_refit(self.refit, self)
        self.external_ = None
        self.estimators_ = refit_strategies(self, asked, table, y, groups)
        if self.refit is False:
            self.best_strategy_ = best_strategy(self)
            return
        candidates = named_in_refit(self.refit, list(self.strategies_))
        self.best_strategy_ = best_strategy(self, candidates)
        self.best_estimator_ = self.estimators_[self.best_strategy_]

    def report(self, path):
        """Write the report: Markdown, self-contained HTML, CSVs, manifest.

        Parameters
        ----------
        path : str or path-like
            Folder to write into (created if needed).

        Returns
        -------
        folder : pathlib.Path
            The folder, holding ``report.md``, ``report.html``,
            ``results.csv``, ``folds.csv``, ``manifest.json`` and ``plots/``.
        """
        check_is_fitted(self, "summary_")
        from ._report import write_report

        return write_report(self, path)

    def _results(self):
        """The fitted comparison as the :class:`StudyResults` the analysis reads."""
        return StudyResults.from_study(self)


class _StageClock:
    """Wall-clock seconds of consecutive stages, for ``timings_``."""

    def __init__(self):
        self._start = self._last = time.perf_counter()
        self._laps = {}

    def lap(self, stage):
        now = time.perf_counter()
        self._laps[stage] = now - self._last
        self._last = now

    def timings(self):
        return {**self._laps, "total": self._last - self._start}


def _checked_inputs(modalities, table, y, groups, pos_label):
    """The checked target and groups, and the attributes the study learns of them."""
    names = check_modalities(modalities, table)
    target_name = getattr(y, "name", None)
    y, target = check_target(y, len(table), pos_label)
    groups, n_groups = check_groups(groups, len(table))
    attributes = {
        "modality_names_": names,
        "target_name_": target_name,
        "task_": target.task,
        "classes_": target.classes,
        "target_counts_": target.counts,
        "pos_label_": target.pos_label,
        "n_groups_": n_groups,
        "n_samples_": len(table),
        "y_": y,
    }
    if target.positive is not None:
        attributes["_positive"] = target.positive
    return y, groups, attributes


def _strategy_attributes(params, inputs, seed, groups, smallest_fold):
    """The study's strategies, their modalities and kinds, notes, contributions."""
    task = task_named(inputs["task_"])
    # A stratified tenth of the smallest training fold must hold every class
    # for gradient boosting to stop early on it.
    early_stopping = bool(task.validates_on(0.1 * smallest_fold, inputs["classes_"]))
    strategies, modalities, kinds, notes = _resolve_strategies(
        params["strategies"],
        inputs["modality_names_"],
        class_weight=params["class_weight"],
        grouped=groups is not None,
        seed=seed,
        boosting_early_stopping=early_stopping,
        **task.strategy_options(),
    )
    return {
        "strategies_": strategies,
        "strategy_modalities_": modalities,
        "strategy_kinds_": kinds,
        "notes_": notes,
        "contribution_strategy_": _contribution_strategy(
            params["contributions"], modalities, inputs["modality_names_"], notes
        ),
    }


def _resolve_strategies(
    strategies,
    names,
    *,
    classification,
    class_weight,
    grouped,
    seed,
    multilabel,
    survival,
    boosting_early_stopping,
):
    """The estimators, modalities, kinds and notes of the study's strategies."""
    if isinstance(strategies, str | list):
        resolved, notes = default_strategies(
            names,
            classification=classification,
            class_weight=class_weight,
            grouped=grouped,
            random_state=seed,
            multilabel=multilabel,
            survival=survival,
            boosting_early_stopping=boosting_early_stopping,
        )
        if isinstance(strategies, list):
            resolved = _chosen_defaults(strategies, resolved, notes)
            notes = []
        # The default strategies are named "<kind>:<variant>".
        kinds = {name: name.split(":")[0] for name in resolved}
        notes = notes + _default_strategy_notes(classification, class_weight, grouped)
        if not boosting_early_stopping and "early:hgb" in resolved:
            notes.append(
                "early:hgb does not stop early: a tenth of the smallest training "
                "fold cannot hold a row of every class; it runs 100 iterations."
            )
    else:
        if not strategies:
            raise ValueError("strategies must name at least one strategy.")
        resolved, notes = {}, []
        for name, spec in strategies.items():
            estimator, seen = spec if isinstance(spec, tuple) else (spec, names)
            unknown = [m for m in seen if m not in names]
            if unknown:
                raise ValueError(
                    f"Strategy {name!r} uses unknown modalities {unknown}; the "
                    f"study has {names}."
                )
            resolved[name] = (estimator, tuple(seen))
        kinds = {
            name: "unimodal" if len(seen) == 1 else "custom"
            for name, (_, seen) in resolved.items()
        }
    estimators = {name: est for name, (est, _) in resolved.items()}
    seen = {name: modalities for name, (_, modalities) in resolved.items()}
    return estimators, seen, kinds, list(notes)


def _chosen_defaults(chosen, defaults, notes):
    chosen = list(dict.fromkeys(chosen))
    unknown = [name for name in chosen if name not in defaults]
    if unknown or not chosen:
        raise ValueError(
            f"Unknown default strategies {unknown}; with these modalities the "
            f"default strategies are {list(defaults)}."
            + (f" {' '.join(notes)}" if notes else "")
        )
    return {name: defaults[name] for name in chosen}


def _contribution_strategy(choice, strategy_modalities, names, notes):
    """The strategy of the modality contributions, or None (with a note why)."""
    if choice == "auto":
        full = [
            s
            for s, seen in strategy_modalities.items()
            if len(seen) > 1 and set(seen) == set(names)
        ]
        choice = "early:linear" if "early:linear" in full else next(iter(full), None)
        if choice is None:
            notes.append(
                "Modality contributions skipped: no strategy sees every modality."
            )
    elif choice is not None and choice not in strategy_modalities:
        raise ValueError(
            f"contributions={choice!r} is not a strategy of the study; choose "
            f"among {list(strategy_modalities)}, 'auto' or None."
        )
    if choice is not None and len(names) < 2:
        notes.append("Modality contributions skipped: only one modality.")
        choice = None
    return choice


def _default_strategy_notes(classification, class_weight, grouped):
    """What the report says of the default strategies' weighting and tuning."""
    notes = []
    if classification and class_weight is not None:
        notes.append(
            f"Classes weighted (class_weight={class_weight!r}) in every default "
            "strategy: the logistic models, gradient boosting, late fusion's "
            "per-modality models and stacker, and the deep-fusion loss."
        )
    elif classification:
        notes.append(
            "Classes not weighted (class_weight=None): the default strategies' "
            "risks are calibrated to the training prevalence, and each predicts "
            "the class whose risk is largest relative to its share of the "
            "training rows."
        )
    splits = "grouped " if grouped else ""
    notes.append(
        "Penalties of the default linear models chosen by an inner "
        f"{splits}3-fold cross-validation on each training fold's rows only "
        "(late fusion's inner folds are not grouped"
        + (
            "; fewer grouped folds, with a warning, where a training fold holds "
            "fewer than 3 groups)."
            if grouped
            else ")."
        )
    )
    return notes
