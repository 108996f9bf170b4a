"""FusionStudy: every strategy on the same folds, with sound statistics."""

import contextlib
import hashlib
import inspect
import re
import time
import warnings
from functools import partial
from itertools import combinations
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn import config_context
from sklearn.base import BaseEstimator, clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import brier_score_loss, check_scoring
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.utils import check_random_state
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, check_memory
from tqdm.auto import tqdm

from ..compose import (
    make_modality_transformer,
    modality_availability,
    resolve_modalities,
)
from ..inspection import modality_importance
from ..inspection._shapley import _exact_shapley, _mask_modalities, _sampled_shapley
from ..utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    scorer_with_pos_label,
)
from ..utils.validation import non_numeric_rows
from ._plots import availability_pattern
from ._predictions import stored_predictions
from ._strategies import default_strategies
from .statistics import (
    _bootstrap_weights,
    _percentile_interval,
    _resampled_metric,
    bootstrap_ci,
    calibration_table,
    corrected_resampled_ttest,
    delong_test,
)

__all__ = ["FusionStudy"]

_DEFAULT_SCORING = {
    "binary": ["roc_auc", "balanced_accuracy", "accuracy"],
    "multiclass": ["balanced_accuracy", "accuracy", "roc_auc_ovr"],
    "regression": ["r2", "neg_mean_absolute_error"],
}
# Canonical components of the default shared space (fewer for narrow blocks).
_MAX_SHARED_COMPONENTS = 20
# Warnings that masking a modality in every row raises on purpose.
_MASKING_WARNINGS = (".*no observed value", ".*missing in every training row")
# Subject bootstrap of the pooled out-of-fold metrics.
_N_BOOTSTRAP = 1000
_CONFIDENCE = 0.95
# Probability of the positive class from which a row is called positive, for
# the sensitivity and specificity of a binary study.
_THRESHOLD = 0.5
# Scorers whose subject bootstrap is vectorised: the metric name of
# statistics.subject_bootstrap_ci, the response it scores and the scorer's sign.
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
    data (skfusion's extractors, which declare ``_learns_from_data = False``)
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

    class_weight : "balanced" or None, default="balanced"
        Class weights of every default strategy of a classification study
        (the logistic models, gradient boosting, late fusion's models and
        stacker, the deep-fusion loss): ``"balanced"`` weights each class by
        the inverse of its frequency, so that a rare class counts. ``None``
        leaves the classes unweighted. Strategies given as estimators are
        used as given. The report states what was weighted.

    contributions : str, "auto" or None, default="auto"
        The strategy whose modality contributions are measured: refitted on
        every subset of modalities for the ablation and the Shapley values,
        and permuted block by block on each test fold for the importance.
        ``"auto"`` takes ``early:linear`` when present, else the first
        strategy that sees every modality; ``None`` skips contributions.

    max_exact : int, default=6
        Up to this many modalities the Shapley values are exact (all
        coalitions refitted); above, they are estimated from
        ``n_permutations`` random orders.

    n_permutations : int, default=50
        Random orders for the sampled Shapley values.

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
        Caches each fold's extracted blocks on disk, so that fitting the study
        again (other strategies, other metrics) does not extract again.

    verbose : bool, default=False
        Show a progress bar over folds x strategies.

    Attributes
    ----------
    task_ : {"binary", "multiclass", "regression"}
        The kind of target.

    classes_ : ndarray or None
        Class labels (None for a regression).

    pos_label_ : object or None
        The positive class of a binary target (None otherwise).

    target_counts_ : dict or None
        Number of rows of each class (None for a regression).

    modality_names_ : list of str
        The modalities, in the order given.

    metrics_ : list of str
        The metrics; ``primary_metric_`` is the first.

    strategies_ : dict of str to estimator
        The (unfitted) estimator of every strategy, in report order.

    strategy_modalities_ : dict of str to tuple of str
        The modalities each strategy sees.

    strategy_kinds_ : dict of str to str
        ``"unimodal"``, ``"early"``, ``"late"``, ``"shared"``, ``"deep"`` or
        ``"custom"``.

    notes_ : list of str
        Remarks for the report (strategies left out, and why).

    n_samples_, n_groups_ : int
        Rows of the table and number of distinct groups (None without
        groups).

    y_ : ndarray of shape (n_samples,)
        The target, as an array.

    target_name_ : str or None
        Name of the target when ``y`` was a named Series.

    splits_ : list of (ndarray, ndarray)
        Train and test row positions of every fold, repeat after repeat.

    split_ids_ : list of (int, int)
        ``(repeat, fold)`` of each split.

    fold_seeds_ : list of int or None
        Shuffling seed of each repeat (None for a splitter).

    splits_hash_, data_hash_ : str
        SHA-256 of the fold indices, and of the table, target and groups.

    availability_ : DataFrame of bool
        Which modality each row has (indexed like the table).

    fold_scores_ : DataFrame
        One row per strategy, repeat, fold and metric, with columns
        ``strategy, repeat, fold, metric, score, fit_time, n_train, n_test``.
        Scores follow sklearn's sign: greater is better.

    oof_predictions_ : dict of str to ndarray of shape (n_repeats, n_samples)
        Out-of-fold predictions of each strategy.

    oof_proba_ : dict of str to ndarray or None
        Out-of-fold class probabilities, shape ``(n_repeats, n_samples,
        n_classes)``; None for a regression or a model without
        ``predict_proba``.

    summary_ : DataFrame
        One row per strategy: ``kind``, ``modalities``, and for each metric
        ``<metric>_mean``, ``_std``, ``_ci_low``, ``_ci_high`` (bootstrap 95%
        interval of the fold scores; NaN with a single split), then
        ``<metric>_pooled``, ``_boot_low``, ``_boot_high``: the metric on the
        pooled out-of-fold predictions of all tested rows (mean over
        repeats) and its subject-bootstrap interval (see ``bootstrap_``).
        For a binary target, ``sensitivity`` and ``specificity`` at
        ``threshold_`` on the pooled predictions, each with ``_boot_low`` and
        ``_boot_high`` (NaN for a strategy without ``predict_proba``). Then
        ``brier`` (pooled out-of-fold Brier score) and ``fit_time`` (mean
        seconds per fold).

    bootstrap_ : dict
        How the intervals of the pooled metrics were computed: percentile
        intervals (``confidence``) of ``n_resamples`` resamples of the
        ``n_resampled`` tested ``"rows"`` or ``"groups"`` (``resampled``),
        drawn with replacement, seeded by ``random_state`` (derived from the
        study's). Every strategy and repeat is scored on the same resamples;
        a resample's value is the mean over repeats.

    threshold_ : float or None
        The probability of ``pos_label_`` from which a row is called
        positive for the sensitivity and specificity (0.5); None unless the
        target is binary.

    best_unimodal_ : str or None
        The unimodal strategy with the best primary score, the reference of
        the comparison.

    comparison_ : DataFrame
        Every strategy against ``best_unimodal_``: ``reference``,
        ``difference``, ``t_statistic`` and ``p_value`` of the corrected
        resampled t-test (Nadeau and Bengio) on the primary fold scores (NaN
        with a single split, which gives one paired score), and, for a binary
        target, ``auc``, ``reference_auc``, ``delong_z`` and
        ``delong_p_value`` of DeLong's test on the pooled out-of-fold
        probabilities of the first repeat.

    calibration_ : dict of str to DataFrame
        Reliability table of each strategy (first repeat): the positive class
        of a binary target, the top-label confidence of a multiclass one.

    availability_scores_ : DataFrame
        Primary score of each strategy on the pooled out-of-fold rows of
        each availability pattern (for instance ``clinical+xray``), mean over
        repeats; columns ``strategy, pattern, n_samples, metric, score``.

    contribution_strategy_ : str or None
        The strategy of the modality contributions.

    contributions_ : DataFrame or None
        One row per modality: ``ablation`` (full score minus the score
        without the modality), ``shapley``, ``importance_mean`` and
        ``importance_std`` (block permutation importance on the test folds).

    coalition_scores_ : dict of frozenset to float
        Mean primary score of every refitted subset of modalities; the empty
        set is the prior (dummy) model.

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
        class_weight="balanced",
        contributions="auto",
        max_exact=6,
        n_permutations=50,
        random_state=None,
        n_jobs=None,
        memory=None,
        verbose=False,
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

    def fit(self, table, y, groups=None):
        """Run the study.

        Parameters
        ----------
        table : DataFrame of shape (n_samples, n_columns)
            The study table, one row per subject.

        y : array-like of shape (n_samples,)
            The target.

        groups : array-like of shape (n_samples,), default=None
            Group of each row (for instance the patient of each image): rows
            of one group never straddle a split, and deep models early-stop
            on a grouped inner split.

        Returns
        -------
        self : FusionStudy
            The fitted study.
        """
        self._validate_params()
        table, y, groups = self._check_inputs(table, y, groups)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self._set_strategies(seed, grouped=groups is not None)
        self._set_metrics()
        self._check_fold_count(y, groups)
        self.splits_, self.split_ids_, self.fold_seeds_ = self._make_splits(
            table, y, groups, rng
        )
        self._check_classes_in_splits(y)
        self.splits_hash_ = _hash_splits(self.splits_)
        self.data_hash_ = _hash_data(table, y, groups)

        blocks = self._extract(table, y)
        self._fit_shared_space_width(blocks)
        self.availability_ = self._availability(table, blocks)

        self._evaluate(blocks, y, groups)
        self._summarise(y, groups)
        self._score_availability_patterns(y)
        if self.contribution_strategy_ is not None:
            self._measure_contributions(blocks, y, groups, seed)
        else:
            self.contributions_ = None
            self.coalition_scores_ = {}
        return self

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

    # -- inputs ------------------------------------------------------------

    def _check_inputs(self, table, y, groups):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(
                f"FusionStudy needs the study table as a pandas DataFrame; got "
                f"{type(table).__name__}."
            )
        if len(table) == 0:
            raise ValueError("FusionStudy got an empty table (0 rows).")
        if not self.modalities:
            raise ValueError("FusionStudy needs at least one modality.")
        names = [modality[0] for modality in self.modalities]
        if len(set(names)) != len(names):
            raise ValueError(f"Modality names must be unique; got {names}.")
        _check_no_shared_columns(self.modalities, table)
        _check_passthrough_numeric(self.modalities, table)
        self.target_name_ = getattr(y, "name", None)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(table):
            raise ValueError(
                f"y must be 1-D with one value per table row ({len(table)}); got "
                f"shape {y.shape}."
            )
        missing = pd.isna(y)
        if missing.any():
            rows = np.flatnonzero(missing)
            raise ValueError(
                f"The target is missing in {len(rows)} row(s), at positions "
                f"{_preview(rows)}; drop or label them before the study."
            )
        task = type_of_target(y)
        if task in ("binary", "multiclass"):
            classes, counts = np.unique(y, return_counts=True)
            self.classes_ = classes
            self.target_counts_ = {
                _plain(c): int(n) for c, n in zip(classes, counts, strict=True)
            }
            self.task_ = task
        elif task in ("continuous", "continuous-multioutput") and y.ndim == 1:
            self.classes_ = None
            self.target_counts_ = None
            self.task_ = "regression"
        else:
            raise ValueError(
                f"FusionStudy supports binary, multiclass and continuous targets; "
                f"got a {task!r} target."
            )
        if self.task_ != "regression" and len(self.classes_) < 2:
            raise ValueError(
                f"The target has a single class ({_plain(self.classes_[0])!r}) in "
                "every row; a classification study needs at least two."
            )
        self.pos_label_ = None
        if self.task_ == "binary":
            label = self.classes_[1] if self.pos_label is None else self.pos_label
            if label not in self.classes_:
                raise ValueError(
                    f"pos_label={self.pos_label!r} is not a class of the target; "
                    f"the classes are {[_plain(c) for c in self.classes_]}."
                )
            self._positive = int(np.flatnonzero(self.classes_ == label)[0])
            self.pos_label_ = _plain(self.classes_[self._positive])
        if groups is not None:
            groups = np.asarray(groups)
            if len(groups) != len(table):
                raise ValueError(
                    f"groups must have one value per table row ({len(table)}); "
                    f"got {len(groups)}."
                )
            if pd.isna(groups).any():
                rows = np.flatnonzero(pd.isna(groups))
                raise ValueError(
                    f"groups is missing in row positions {_preview(rows)}."
                )
            self.n_groups_ = int(pd.Series(groups).nunique())
        else:
            self.n_groups_ = None
        self.n_samples_ = len(table)
        self.modality_names_ = names
        self.y_ = y
        return table, y, groups

    def _set_strategies(self, seed, grouped):
        names = self.modality_names_
        classification = self.task_ != "regression"
        if isinstance(self.strategies, str | list):
            resolved, notes = default_strategies(
                names,
                classification=classification,
                class_weight=self.class_weight,
                grouped=grouped,
                random_state=seed,
            )
            if isinstance(self.strategies, list):
                resolved = self._chosen_defaults(resolved, notes)
                notes = []
            kinds = {name: name.split(":")[0] for name in resolved}
            notes = notes + _default_strategy_notes(
                classification, self.class_weight, grouped
            )
        else:
            if not self.strategies:
                raise ValueError("strategies must name at least one strategy.")
            resolved, notes = {}, []
            for name, spec in self.strategies.items():
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
        self.strategies_ = {name: est for name, (est, _) in resolved.items()}
        self.strategy_modalities_ = {name: seen for name, (_, seen) in resolved.items()}
        self.strategy_kinds_ = kinds
        self.notes_ = list(notes)

        choice = self.contributions
        if choice == "auto":
            full = [s for s, seen in self.strategy_modalities_.items() if len(seen) > 1]
            full = [s for s in full if set(self.strategy_modalities_[s]) == set(names)]
            choice = (
                "early:linear" if "early:linear" in full else next(iter(full), None)
            )
            if choice is None:
                self.notes_.append(
                    "Modality contributions skipped: no strategy sees every modality."
                )
        elif choice is not None and choice not in self.strategies_:
            raise ValueError(
                f"contributions={choice!r} is not a strategy of the study; choose "
                f"among {list(self.strategies_)}, 'auto' or None."
            )
        if choice is not None and len(names) < 2:
            self.notes_.append("Modality contributions skipped: only one modality.")
            choice = None
        self.contribution_strategy_ = choice

    def _chosen_defaults(self, defaults, notes):
        chosen = list(dict.fromkeys(self.strategies))
        unknown = [name for name in chosen if name not in defaults]
        if unknown or not chosen:
            raise ValueError(
                f"Unknown default strategies {unknown}; with these modalities the "
                f"default strategies are {list(defaults)}."
                + (f" {' '.join(notes)}" if notes else "")
            )
        return {name: defaults[name] for name in chosen}

    def _set_metrics(self):
        scoring = self.scoring
        if scoring is None:
            scoring = _DEFAULT_SCORING[self.task_]
        elif isinstance(scoring, str):
            scoring = [scoring]
        self.metrics_ = list(scoring)
        self.primary_metric_ = self.metrics_[0]
        self._scorers = {m: check_scoring(None, scoring=m) for m in self.metrics_}
        if self.task_ == "binary":
            self._scorers = {
                m: scorer_with_pos_label(scorer, self.pos_label_)
                for m, scorer in self._scorers.items()
            }

    def _check_fold_count(self, y, groups):
        """Refuse an integer ``cv`` the groups or classes cannot fill."""
        if not isinstance(self.cv, Integral):
            return
        if groups is not None and self.n_groups_ < self.cv:
            raise ValueError(
                f"cv={self.cv} folds need at least {self.cv} groups, and groups "
                f"has {self.n_groups_} distinct values: rows of one group never "
                f"straddle folds. Use cv={max(self.n_groups_, 2)} or fewer folds."
            )
        if self.task_ == "regression":
            return
        if groups is None:
            members = dict(zip(*np.unique(y, return_counts=True), strict=True))
            unit = "row"
        else:
            frame = pd.DataFrame({"y": y, "group": groups})
            members = frame.groupby("y")["group"].nunique().to_dict()
            unit = "group"
        for label, count in members.items():
            if count < self.cv:
                raise ValueError(
                    f"Class {_plain(label)!r} is in {count} {unit}(s), fewer than "
                    f"the cv={self.cv} folds: some test folds would hold none of "
                    "it, where its per-fold scores are not defined. Use "
                    f"cv={max(count, 2)} or fewer folds, or merge or drop the "
                    "class."
                )

    def _check_classes_in_splits(self, y):
        """Every class in the training and test rows of every split."""
        if self.task_ == "regression":
            return
        if isinstance(self.cv, Integral):
            # Stratified folds of whole groups: a class in few, large groups.
            advice = "Use fewer folds, or groups that spread the class more evenly."
        else:
            advice = "Use a stratified cv (an integer cv stratifies) or fewer folds."
        # A class no model can learn is named before one a fold cannot test.
        for part, index in (("training", 0), ("test", 1)):
            for (repeat, fold), split in zip(
                self.split_ids_, self.splits_, strict=True
            ):
                rows = split[index]
                absent = [c for c in self.classes_ if not np.any(y[rows] == c)]
                if absent:
                    label = _plain(absent[0])
                    where = np.flatnonzero(y == absent[0])
                    raise ValueError(
                        f"Class {label!r} is absent from the {part} rows of "
                        f"repeat {repeat}, fold {fold} (its rows are at positions "
                        f"{_preview(where)}): a model cannot learn a class it "
                        "never sees, and a fold's scores are not defined for a "
                        f"class it does not test. {advice}"
                    )

    def _make_splits(self, table, y, groups, rng):
        classification = self.task_ != "regression"
        if isinstance(self.cv, Integral):
            splits, ids, seeds = [], [], []
            for repeat in range(self.n_repeats):
                seed = int(rng.randint(np.iinfo(np.int32).max))
                seeds.append(seed)
                if groups is not None:
                    splitter = StratifiedGroupKFold if classification else GroupKFold
                else:
                    splitter = StratifiedKFold if classification else KFold
                cv = splitter(n_splits=self.cv, shuffle=True, random_state=seed)
                for fold, (train, test) in enumerate(cv.split(table, y, groups)):
                    splits.append((train, test))
                    ids.append((repeat, fold))
            return splits, ids, seeds
        if self.n_repeats != 1:
            raise ValueError(
                "n_repeats must be 1 when cv is a splitter; repeat with an integer "
                "cv or a repeated splitter's own settings."
            )
        splits = [
            (np.asarray(train), np.asarray(test))
            for train, test in self.cv.split(table, y, groups)
        ]
        tested = np.concatenate([test for _, test in splits])
        if len(np.unique(tested)) != len(tested):
            raise ValueError(
                "The test sets of cv overlap; FusionStudy pools out-of-fold "
                "predictions and needs each row tested at most once per repeat. "
                "Use an integer cv with n_repeats to repeat."
            )
        return splits, [(0, fold) for fold in range(len(splits))], [None]

    # -- extraction ----------------------------------------------------------

    def _extract(self, table, y):
        """The (train, test) blocked matrices of every split."""
        memory = check_memory(self.memory)
        once, per_fold = [], []
        for name, transformer, columns in self.modalities:
            if getattr(transformer, "_learns_from_data", True):
                per_fold.append((name, transformer, columns))
            else:
                once.append((name, transformer, columns))

        whole = None
        if once:
            whole = memory.cache(_extract_all, ignore=["n_jobs"])(
                once, table, y, self.n_jobs
            )
        fold_blocks = [None] * len(self.splits_)
        if per_fold:
            fold_blocks = Parallel(n_jobs=self.n_jobs)(
                delayed(memory.cache(_extract_fold))(per_fold, table, y, train, test)
                for train, test in self.splits_
            )
        order = [name for name, _, _ in self.modalities]
        blocks = []
        for (train, test), fitted in zip(self.splits_, fold_blocks, strict=True):
            parts_train, parts_test = [], []
            if whole is not None:
                parts_train.append(whole.iloc[train])
                parts_test.append(whole.iloc[test])
            if fitted is not None:
                parts_train.append(fitted[0])
                parts_test.append(fitted[1])
            train_X = _ordered(pd.concat(parts_train, axis=1), order)
            test_X = _ordered(pd.concat(parts_test, axis=1), order)
            blocks.append((train_X, test_X))
        return blocks

    def _fit_shared_space_width(self, blocks):
        """Give the default shared space as many components as blocks allow."""
        if isinstance(self.strategies, dict) or "shared:mcca" not in self.strategies_:
            return
        # Per-fold transformers (one-hot encoders...) may differ in width.
        widths = [
            sum(column.startswith(f"{name}__") for column in train_X.columns)
            for train_X, _ in blocks
            for name in self.strategy_modalities_["shared:mcca"]
        ]
        n_components = max(1, min(_MAX_SHARED_COMPONENTS, *widths))
        self.strategies_["shared:mcca"].set_params(
            sharedspace__n_components=n_components
        )
        self.notes_.append(
            f"shared:mcca projects every modality on {n_components} canonical "
            f"components (at most {_MAX_SHARED_COMPONENTS}, and at most the width "
            "of the narrowest modality)."
        )

    def _availability(self, table, blocks):
        present = np.zeros((len(table), len(self.modality_names_)), dtype=bool)
        for (_, test), (_, test_X) in zip(self.splits_, blocks, strict=True):
            available = modality_availability(test_X)[self.modality_names_]
            present[test] = available.to_numpy()
        return pd.DataFrame(present, index=table.index, columns=self.modality_names_)

    # -- evaluation -----------------------------------------------------------

    def _evaluate(self, blocks, y, groups):
        names = list(self.strategies_)
        n_repeats = max(r for r, _ in self.split_ids_) + 1
        n_samples = self.n_samples_
        tasks = [(split, name) for split in range(len(self.splits_)) for name in names]
        keep_models = self.contribution_strategy_
        jobs = (
            delayed(_fit_and_predict)(
                self.strategies_[name],
                f"strategy {name!r}, repeat {self.split_ids_[split][0]}, "
                f"fold {self.split_ids_[split][1]}",
                *_columns_of(blocks[split], self.strategy_modalities_[name]),
                y[self.splits_[split][0]],
                None if groups is None else groups[self.splits_[split][0]],
                keep_model=name == keep_models,
            )
            for split, name in tasks
        )
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
        progress = tqdm(
            results,
            total=len(tasks),
            desc="folds x strategies",
            disable=not self.verbose,
        )

        self.oof_predictions_ = {}
        self.oof_proba_ = {}
        self._oof_decision = {}
        self._contribution_models = []
        fit_times = {}
        for (split, name), result in zip(tasks, progress, strict=True):
            repeat, _ = self.split_ids_[split]
            _, test = self.splits_[split]
            labels, proba, decision, fit_time, model = result
            if name not in self.oof_predictions_:
                dtype = y.dtype if self.task_ != "regression" else float
                self.oof_predictions_[name] = _empty((n_repeats, n_samples), dtype)
                self.oof_proba_[name] = (
                    None
                    if proba is None
                    else np.full((n_repeats, n_samples, proba.shape[1]), np.nan)
                )
                self._oof_decision[name] = (
                    None
                    if decision is None
                    else np.full((n_repeats, n_samples, *decision.shape[1:]), np.nan)
                )
            self.oof_predictions_[name][repeat, test] = labels
            if proba is not None:
                self.oof_proba_[name][repeat, test] = proba
            if decision is not None:
                self._oof_decision[name][repeat, test] = decision
            fit_times[split, name] = fit_time
            if model is not None:
                self._contribution_models.append(model)

        rows = []
        for split, name in tasks:
            repeat, fold = self.split_ids_[split]
            train, test = self.splits_[split]
            stand_in = self._stand_in(name, repeat)
            for metric, scorer in self._scorers.items():
                rows.append(
                    {
                        "strategy": name,
                        "repeat": repeat,
                        "fold": fold,
                        "metric": metric,
                        "score": float(scorer(stand_in, test[:, None], y[test])),
                        "fit_time": fit_times[split, name],
                        "n_train": len(train),
                        "n_test": len(test),
                    }
                )
        self.fold_scores_ = pd.DataFrame(rows)

    def _stand_in(self, name, repeat):
        """A scorer-compatible stand-in answering with stored OOF predictions."""
        proba = self.oof_proba_[name]
        decision = self._oof_decision[name]
        return stored_predictions(
            self.classes_,
            self._labels(name, repeat),
            None if proba is None else proba[repeat],
            None if decision is None else decision[repeat],
        )

    def _labels(self, name, repeat):
        """Stored predicted labels of one repeat, in the dtype of the classes.

        Labels that are not numbers are stored in an object array (None where
        a row is not tested); scikit-learn's metrics take an object array of
        booleans for an unknown target, so they get the classes' dtype back.
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

    # -- statistics -----------------------------------------------------------

    def _summarise(self, y, groups=None):
        scores = self.fold_scores_
        primary = self.primary_metric_
        rows = {}
        seed = self._statistics_seed()
        self.threshold_ = _THRESHOLD if self.task_ == "binary" else None
        pooled = self._pooled_metrics(y, groups, seed)
        tested = self._tested_rows(0)
        self.bootstrap_ = {
            "n_resamples": _N_BOOTSTRAP,
            "confidence": _CONFIDENCE,
            "resampled": "rows" if groups is None else "groups",
            "n_resampled": len(
                np.unique(tested if groups is None else np.asarray(groups)[tested])
            ),
            "random_state": seed,
        }
        if groups is None and self.n_groups_ is not None:
            self.notes_.append(
                "The subject bootstrap of the pooled metrics resampled rows, not "
                "groups: its intervals ignore the grouping and may be too narrow."
            )
        rates = ["sensitivity", "specificity"] if self.task_ == "binary" else []
        for name in self.strategies_:
            row = {
                "kind": self.strategy_kinds_[name],
                "modalities": "+".join(self.strategy_modalities_[name]),
            }
            own = scores[scores["strategy"] == name]
            for metric in self.metrics_:
                values = own.loc[own["metric"] == metric, "score"].to_numpy()
                row[f"{metric}_mean"] = float(np.mean(values))
                row[f"{metric}_std"] = (
                    float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
                )
                low, high = _confidence_interval(values, seed)
                row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = low, high
                estimate, low, high = pooled[name, metric]
                row[f"{metric}_pooled"] = estimate
                row[f"{metric}_boot_low"], row[f"{metric}_boot_high"] = low, high
            for rate in rates:
                estimate, low, high = pooled[name, rate]
                row[rate] = estimate
                row[f"{rate}_boot_low"], row[f"{rate}_boot_high"] = low, high
            row["brier"] = self._brier(name, y)
            row["fit_time"] = float(
                own.drop_duplicates(["repeat", "fold"])["fit_time"].mean()
            )
            rows[name] = row
        summary = pd.DataFrame.from_dict(rows, orient="index")
        summary.index.name = "strategy"
        self.summary_ = summary

        unimodal = [s for s, kind in self.strategy_kinds_.items() if kind == "unimodal"]
        self.best_unimodal_ = (
            max(unimodal, key=lambda s: summary.loc[s, f"{primary}_mean"])
            if unimodal
            else None
        )
        self.comparison_ = self._compare(y)
        self.calibration_ = self._calibrate(y)
        if len(self.splits_) < 2:
            self.notes_.append(
                "A single train/test split: the corrected resampled t-test and "
                "the confidence intervals of the fold scores need at least 2 "
                "folds and are not applicable (NaN). The pooled metrics with "
                "their subject-bootstrap intervals, DeLong's test, the Brier "
                "score and the calibration are computed on the test rows."
            )

    def _statistics_seed(self):
        """Seed of the bootstrap intervals, derived from ``random_state``."""
        if self.fold_seeds_[0] is not None:
            return self.fold_seeds_[0]
        # A splitter has no fold seed; an int random_state still gives one.
        rng = check_random_state(self.random_state)
        return int(rng.randint(np.iinfo(np.int32).max))

    def _pooled_metrics(self, y, groups, seed):
        """Pooled out-of-fold metrics with their subject-bootstrap intervals.

        Each metric is computed on the out-of-fold predictions of every tested
        row at once, in each repeat, and averaged over the repeats. A resample
        draws the tested rows (whole groups, given ``groups``) with
        replacement, the same resamples for every strategy, metric and repeat;
        its value is the mean over the repeats of the metric on the resampled
        rows, and the interval is the percentile interval of those values.

        Returns
        -------
        pooled : dict of (str, str) to (float, float, float)
            ``(estimate, low, high)`` of every strategy and metric, and of the
            sensitivity and specificity of a binary target.
        """
        n_repeats = max(r for r, _ in self.split_ids_) + 1
        # Every repeat of an integer cv tests every row; a splitter has one.
        tested = np.sort(self._tested_rows(0))
        y_tested = y[tested]
        units = tested if groups is None else np.asarray(groups)[tested]

        estimates, inputs = {}, {}
        for name in self.strategies_:
            for metric in self.metrics_:
                scorer = self._scorers[metric]
                per_repeat = []
                for repeat in range(n_repeats):
                    stand_in = self._stand_in(name, repeat)
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            value = scorer(stand_in, tested[:, None], y_tested)
                        per_repeat.append(float(value))
                    except ValueError:
                        per_repeat.append(np.nan)
                estimates[name, metric] = float(np.mean(per_repeat))
                inputs[name, metric] = [
                    self._bootstrap_input(name, metric, repeat, tested, y_tested)
                    for repeat in range(n_repeats)
                ]
            if self.task_ == "binary":
                self._rate_inputs(name, tested, y_tested, n_repeats, estimates, inputs)
        inputs = {
            key: per_repeat
            for key, per_repeat in inputs.items()
            if all(spec is not None for spec in per_repeat)
        }

        distributions = {key: [] for key in inputs}
        for weights in _bootstrap_weights(units, _N_BOOTSTRAP, seed):
            for key, per_repeat in inputs.items():
                values = [
                    sign * _resampled_metric(metric, y_true, y_pred, weights, label)
                    for metric, sign, y_true, y_pred, label in per_repeat
                ]
                distributions[key].append(np.mean(values, axis=0))
        pooled = {}
        for key, estimate in estimates.items():
            if key in distributions and np.isfinite(estimate):
                low, high, _ = _percentile_interval(
                    np.concatenate(distributions[key]), _CONFIDENCE
                )
            else:
                low = high = np.nan
            pooled[key] = (estimate, low, high)
        return pooled

    def _bootstrap_input(self, name, metric, repeat, tested, y_tested):
        """``(metric, sign, y_true, y_pred, pos_label)`` of one repeat, or None.

        A scorer with a vectorised metric gets the stored responses it scores;
        any other scorer is called on the stored predictions of each resample.
        """
        if metric not in _POOLED_METRICS:
            stand_in = self._stand_in(name, repeat)
            scorer = partial(_score_rows, self._scorers[metric], stand_in)
            return scorer, 1, y_tested, tested, None
        resampled, response, sign = _POOLED_METRICS[metric]
        if response == "positive score":
            if self.task_ != "binary":
                return None
            scores = self._positive_scores(name, repeat)
            y_pred = None if scores is None else scores[tested]
        elif response == "proba":
            proba = self.oof_proba_[name]
            y_pred = None if proba is None else proba[repeat, tested]
        else:
            y_pred = self._labels(name, repeat)[tested]
        if y_pred is None:
            return None
        return resampled, sign, y_tested, y_pred, self.pos_label_

    def _rate_inputs(self, name, tested, y_tested, n_repeats, estimates, inputs):
        """Sensitivity and specificity at ``threshold_`` (binary targets)."""
        proba = self.oof_proba_[name]
        per_repeat = None
        if proba is not None:
            actual = y_tested == self.pos_label_
            per_repeat = [
                (actual, proba[repeat, tested, self._positive] >= self.threshold_)
                for repeat in range(n_repeats)
            ]
        ones = np.ones((1, len(tested)))
        for rate in ("sensitivity", "specificity"):
            if per_repeat is None:
                estimates[name, rate] = np.nan
                inputs[name, rate] = [None]
                continue
            estimates[name, rate] = float(
                np.mean(
                    [
                        _resampled_metric(rate, actual, called, ones, True)[0]
                        for actual, called in per_repeat
                    ]
                )
            )
            inputs[name, rate] = [
                (rate, 1, actual, called, True) for actual, called in per_repeat
            ]

    def _brier(self, name, y):
        proba = self.oof_proba_.get(name)
        if proba is None:
            return np.nan
        values = []
        for repeat_proba in proba:
            tested = ~np.isnan(repeat_proba).any(axis=1)
            if self.task_ == "binary":
                positive = y[tested] == self.pos_label_
                values.append(
                    brier_score_loss(positive, repeat_proba[tested, self._positive])
                )
            else:
                values.append(
                    brier_score_loss(
                        y[tested], repeat_proba[tested], labels=self.classes_
                    )
                )
        return float(np.mean(values))

    def _compare(self, y):
        primary = self.primary_metric_
        scores = self.fold_scores_[self.fold_scores_["metric"] == primary]
        columns = ["reference", "difference", "t_statistic", "p_value"]
        if self.task_ == "binary":
            columns += ["auc", "reference_auc", "delong_z", "delong_p_value"]
        reference = self.best_unimodal_
        table = pd.DataFrame(
            index=pd.Index(list(self.strategies_), name="strategy"),
            columns=columns,
            dtype=object,
        )
        if reference is None:
            return table
        n_train = round(np.mean([len(train) for train, _ in self.splits_]))
        n_test = round(np.mean([len(test) for _, test in self.splits_]))
        ordered = scores.sort_values(["repeat", "fold"])
        reference_scores = ordered.loc[
            ordered["strategy"] == reference, "score"
        ].to_numpy()
        binary = self.task_ == "binary"
        reference_proba = self._positive_scores(reference) if binary else None
        tested = self._tested_rows(0)
        for name in self.strategies_:
            own = ordered.loc[ordered["strategy"] == name, "score"].to_numpy()
            row = {
                "reference": reference,
                "difference": float(np.mean(own - reference_scores)),
            }
            # One split gives one paired score: no t-test (see notes_).
            if name == reference or len(own) < 2:
                row.update(t_statistic=np.nan, p_value=np.nan)
            else:
                test = corrected_resampled_ttest(own, reference_scores, n_train, n_test)
                row.update(t_statistic=test.statistic, p_value=test.pvalue)
            if self.task_ == "binary":
                own_proba = self._positive_scores(name)
                if own_proba is None or reference_proba is None:
                    row.update(
                        auc=np.nan,
                        reference_auc=np.nan,
                        delong_z=np.nan,
                        delong_p_value=np.nan,
                    )
                else:
                    result = delong_test(
                        (y[tested] == self.pos_label_).astype(int),
                        own_proba[tested],
                        reference_proba[tested],
                    )
                    row.update(
                        auc=result.auc_a,
                        reference_auc=result.auc_b,
                        delong_z=result.statistic if name != reference else np.nan,
                        delong_p_value=result.pvalue if name != reference else np.nan,
                    )
            table.loc[name] = pd.Series(row)
        return table.infer_objects()

    def _positive_scores(self, name, repeat=0):
        """Scores of the positive class in one repeat (binary targets)."""
        proba = self.oof_proba_[name]
        if proba is not None:
            return proba[repeat, :, self._positive]
        decision = self._oof_decision[name]
        if decision is None:
            return None
        # A binary decision function scores classes_[1].
        return decision[repeat] if self._positive == 1 else -decision[repeat]

    def _tested_rows(self, repeat):
        return np.concatenate(
            [
                test
                for (r, _), (_, test) in zip(self.split_ids_, self.splits_, strict=True)
                if r == repeat
            ]
        )

    def _calibrate(self, y):
        if self.task_ == "regression":
            return {}
        tested = self._tested_rows(0)
        tables = {}
        for name, proba in self.oof_proba_.items():
            if proba is None:
                continue
            proba = proba[0, tested]
            if self.task_ == "binary":
                outcome = (y[tested] == self.pos_label_).astype(int)
                confidence = proba[:, self._positive]
            else:
                predicted = self.classes_[np.argmax(proba, axis=1)]
                outcome = (predicted == y[tested]).astype(int)
                confidence = proba.max(axis=1)
            if len(np.unique(outcome)) < 2:
                continue
            tables[name] = calibration_table(outcome, np.clip(confidence, 0, 1))
        return tables

    def _score_availability_patterns(self, y):
        patterns = availability_pattern(self.availability_).to_numpy()
        scorer = self._scorers[self.primary_metric_]
        n_repeats = max(r for r, _ in self.split_ids_) + 1
        tested = [self._tested_rows(repeat) for repeat in range(n_repeats)]
        # Rows no split tests (a custom splitter's training-only rows) have no
        # out-of-fold prediction and no availability: they are left out.
        rows_of = {
            pattern: [
                np.intersect1d(np.flatnonzero(patterns == pattern), rows)
                for rows in tested
            ]
            for pattern in pd.unique(patterns[np.sort(tested[0])])
        }
        rows = []
        for name in self.strategies_:
            stand_ins = [self._stand_in(name, repeat) for repeat in range(n_repeats)]
            for pattern, per_repeat in rows_of.items():
                values = []
                for stand_in, positions in zip(stand_ins, per_repeat, strict=True):
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            score = scorer(stand_in, positions[:, None], y[positions])
                        values.append(float(score))
                    except ValueError:
                        values.append(np.nan)
                rows.append(
                    {
                        "strategy": name,
                        "pattern": pattern,
                        "n_samples": len(per_repeat[0]),
                        "metric": self.primary_metric_,
                        "score": float(np.mean(values)),
                    }
                )
        self.availability_scores_ = pd.DataFrame(rows)

    # -- modality contributions -----------------------------------------------

    def _measure_contributions(self, blocks, y, groups, seed):
        name = self.contribution_strategy_
        estimator = self.strategies_[name]
        modalities = list(self.strategy_modalities_[name])
        rng = np.random.RandomState(seed)
        exact = len(modalities) <= self.max_exact
        if exact:
            coalitions = [
                frozenset(subset)
                for size in range(1, len(modalities))
                for subset in combinations(modalities, size)
            ]
            orders = None
        else:
            orders = [
                rng.permutation(modalities).tolist() for _ in range(self.n_permutations)
            ]
            coalitions = {
                frozenset(order[:size])
                for order in orders
                for size in range(1, len(modalities))
            }
            coalitions |= {frozenset(modalities) - {m} for m in modalities}
            coalitions = sorted(coalitions, key=lambda c: (len(c), sorted(c)))

        primary = self.fold_scores_["metric"] == self.primary_metric_
        own = self.fold_scores_[primary & (self.fold_scores_["strategy"] == name)]
        scores = {frozenset(modalities): float(own["score"].mean())}
        scores[frozenset()] = self._dummy_score(y)
        scorer = self._scorers[self.primary_metric_]
        jobs = [
            delayed(_coalition_fold_score)(
                estimator,
                *_columns_of(blocks[split], modalities),
                y[train],
                y[test],
                None if groups is None else groups[train],
                coalition,
                scorer,
            )
            for coalition in coalitions
            for split, (train, test) in enumerate(self.splits_)
        ]
        fold_values = Parallel(n_jobs=self.n_jobs)(jobs)
        n_splits = len(self.splits_)
        for position, coalition in enumerate(coalitions):
            values = fold_values[position * n_splits : (position + 1) * n_splits]
            scores[coalition] = float(np.mean(values))
        self.coalition_scores_ = scores

        if exact:
            shapley = _exact_shapley(modalities, scores)
        else:
            shapley = _sampled_shapley(modalities, orders, scores)
        full = scores[frozenset(modalities)]
        importances = self._block_importances(blocks, y, modalities, seed)
        rows = {
            m: {
                "ablation": full - scores[frozenset(modalities) - {m}],
                "shapley": shapley[m],
                "importance_mean": float(np.mean(importances[m])),
                "importance_std": float(np.std(importances[m])),
            }
            for m in modalities
        }
        contributions = pd.DataFrame.from_dict(rows, orient="index")
        contributions.index.name = "modality"
        self.contributions_ = contributions

    def _dummy_score(self, y):
        dummy = (
            DummyClassifier(strategy="prior")
            if self.task_ != "regression"
            else DummyRegressor()
        )
        scorer = self._scorers[self.primary_metric_]
        positions = np.arange(self.n_samples_)[:, None]
        values = []
        for train, test in self.splits_:
            model = clone(dummy).fit(positions[train], y[train])
            values.append(float(scorer(model, positions[test], y[test])))
        return float(np.mean(values))

    def _block_importances(self, blocks, y, modalities, seed):
        scorer = self._scorers[self.primary_metric_]
        importances = {m: [] for m in modalities}
        for model, (split, (_, test)) in zip(
            self._contribution_models, enumerate(self.splits_), strict=True
        ):
            _, test_X = _columns_of(blocks[split], modalities)
            result = modality_importance(
                model, test_X, y[test], scoring=scorer, n_repeats=5, random_state=seed
            )
            for m, value in zip(
                result.modalities, result.importances_mean, strict=True
            ):
                importances[m].append(value)
        return importances


# -- helpers run in the joblib workers -----------------------------------------


def _modality_transformer(modalities, n_jobs=None):
    # Cloned: set_output would otherwise reach into the caller's transformers
    # (and change their joblib hash, which keys the extraction cache).
    cloned = []
    for name, transformer, columns in modalities:
        transformer = clone(transformer, safe=False)
        if n_jobs is not None and getattr(transformer, "n_jobs", False) is None:
            transformer.set_params(n_jobs=n_jobs)
        cloned.append((name, transformer, columns))
    return make_modality_transformer(*cloned).set_output(transform="pandas")


def _extract_all(modalities, table, y, n_jobs):
    transformer = _modality_transformer(modalities, n_jobs)
    return _as_float(transformer.fit_transform(table, y), table.index)


def _extract_fold(modalities, table, y, train, test):
    transformer = _modality_transformer(modalities)
    names = [name for name, _, _ in modalities]
    with _naming_failures(f"extracting {names} on the training rows of a fold", train):
        train_X = transformer.fit_transform(table.iloc[train], y[train])
        train_X = _as_float(train_X, table.index[train])
    with _naming_failures(f"extracting {names} on the test rows of a fold", test):
        test_X = _as_float(transformer.transform(table.iloc[test]), table.index[test])
    return train_X, test_X


@contextlib.contextmanager
def _naming_failures(where, rows=None):
    """Say where in the study an error happened; map fold-local row numbers.

    A plain ValueError, TypeError or OSError is raised again, same type, with
    ``where`` in its message (and, given the fold's ``rows``, the table row of
    each row number the message names); other exceptions get a note.
    """
    try:
        yield
    except Exception as exc:
        if type(exc) in (ValueError, TypeError, OSError):
            detail = "" if rows is None else _table_positions(str(exc), rows)
            raise type(exc)(f"FusionStudy: {where} failed: {exc}{detail}") from exc
        exc.add_note(f"FusionStudy: raised by {where}.")
        raise


def _table_positions(message, rows):
    """Where the rows a fold-local error message names sit in the table."""
    named = sorted({int(n) for n in re.findall(r"\brows? (\d+)\b", message)})
    named = [n for n in named if n < len(rows)]
    if not named:
        return ""
    where = ", ".join(f"row {n} is table row {rows[n]}" for n in named)
    return f" (the rows are counted within the fold: {where})"


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
        notes.append("Classes not weighted (class_weight=None).")
    splits = "grouped " if grouped else ""
    notes.append(
        "Penalties of the default linear models chosen by an inner "
        f"{splits}3-fold cross-validation on each training fold's rows only "
        "(late fusion's inner folds are not grouped)."
    )
    return notes


def _fit_and_predict(
    estimator, where, train_X, test_X, y_train, groups_train, keep_model
):
    model = clone(estimator)
    with _naming_failures(where):
        start = time.perf_counter()
        with warnings.catch_warnings():
            for message in _MASKING_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=UserWarning)
            _fit_with_groups(model, train_X, y_train, groups_train)
        fit_time = time.perf_counter() - start
        labels = model.predict(test_X)
        proba = model.predict_proba(test_X) if hasattr(model, "predict_proba") else None
        decision = None
        if proba is None and hasattr(model, "decision_function"):
            decision = model.decision_function(test_X)
    return labels, proba, decision, fit_time, model if keep_model else None


def _coalition_fold_score(
    estimator, train_X, test_X, y_train, y_test, groups_train, coalition, scorer
):
    groups = resolve_modalities(train_X)
    train_X = _mask_modalities(train_X, groups, coalition)
    test_X = _mask_modalities(test_X, groups, coalition)
    where = (
        f"refitting on the modalities {sorted(coalition)} only (the others "
        "all-NaN), for the modality contributions; the contributions strategy "
        "must accept a modality missing in every row (BlockScaler pipelines, "
        "late and deep fusion do), or pass contributions=None,"
    )
    *_, model = _fit_and_predict(
        estimator, where, train_X, test_X, y_train, groups_train, keep_model=True
    )
    return float(scorer(model, test_X, y_test))


def _fit_with_groups(model, X, y, groups):
    """Fit, passing ``groups`` to a model that takes or requests them.

    A model whose ``fit`` names a ``groups`` parameter gets them directly;
    a composite (a pipeline, ``GridSearchCV``, ``LogisticRegressionCV``) whose
    inner splitter requests them gets them through scikit-learn's metadata
    routing. Others are fitted without.
    """
    if groups is None:
        return model.fit(X, y)
    if _names_groups(model):
        return model.fit(X, y, groups=groups)
    with config_context(enable_metadata_routing=True):
        try:
            requested = get_routing_for_object(model).consumes("fit", ["groups"])
        except (AttributeError, TypeError):
            requested = set()  # an estimator that knows nothing of routing
        if requested:
            return model.fit(X, y, groups=groups)
    return model.fit(X, y)


def _names_groups(estimator):
    try:
        return "groups" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


def _columns_of(split_blocks, modalities):
    train_X, test_X = split_blocks
    prefixes = tuple(f"{m}__" for m in modalities)
    columns = [c for c in train_X.columns if c.startswith(prefixes)]
    return train_X[columns], test_X[columns]


def _ordered(blocked, order):
    rank = {name: i for i, name in enumerate(order)}
    columns = sorted(
        blocked.columns,
        key=lambda c: rank[c.split("__")[0]],
    )
    return blocked[columns]


def _as_float(blocked, index):
    """The blocked matrix as floats; a cell that is no number is named."""
    blocked = pd.DataFrame(blocked)
    try:
        values = blocked.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise _not_a_number(blocked) from None
    return pd.DataFrame(values, columns=blocked.columns, index=index)


def _not_a_number(blocked):
    """The error naming the first cell of ``blocked`` that is not a number."""
    for name, column in blocked.items():
        bad = non_numeric_rows(column)
        if bad.size:
            modality, _, feature = str(name).partition("__")
            return ValueError(
                f"FusionStudy: modality {modality!r}, column {feature!r}: "
                f"{bad.size} value(s) are not numbers, first at row "
                f"{int(bad[0])} ({column.iloc[bad[0]]!r}); encode the column "
                "(one-hot, ordinal) or give the modality a transformer that does."
            )
    return ValueError("FusionStudy: the blocked matrix is not numeric.")


def _check_passthrough_numeric(modalities, table):
    """A ``"passthrough"`` modality's columns hold numbers (or are missing)."""
    for name, transformer, columns in modalities:
        if not (isinstance(transformer, str) and transformer == "passthrough"):
            continue
        try:
            selected = table[columns]
        except (KeyError, IndexError, TypeError):
            continue  # the extraction names an absent column
        if isinstance(selected, pd.Series):
            selected = selected.to_frame()
        for column, values in selected.items():
            bad = non_numeric_rows(values)
            if bad.size:
                raise ValueError(
                    f"FusionStudy: modality {name!r} passes column {column!r} "
                    f"through, but {bad.size} of its values are not numbers, "
                    f"first at row {int(bad[0])} ({values.iloc[bad[0]]!r}); "
                    "encode the column (one-hot, ordinal) or give the modality "
                    "a transformer that does."
                )


def _check_no_shared_columns(modalities, table):
    """Refuse a table column that two modalities use.

    Columns given by name or position are compared; a callable or a boolean
    mask selects columns that only the extraction resolves, and is not checked.
    """
    owner = {}
    for name, _, columns in modalities:
        if isinstance(columns, str | Integral):
            columns = [columns]
        if not isinstance(columns, list | tuple | pd.Index | np.ndarray):
            continue
        for column in columns:
            if isinstance(column, bool | np.bool_):
                break
            if isinstance(column, Integral) and not isinstance(column, str):
                if not 0 <= column < len(table.columns) or column in table.columns:
                    continue
                column = table.columns[column]
            if column in owner and owner[column] == name:
                raise ValueError(
                    f"Column {column!r} is listed twice in modality {name!r}; "
                    "list each column once."
                )
            if column in owner:
                raise ValueError(
                    f"Column {column!r} is in two modalities, {owner[column]!r} "
                    f"and {name!r}: a model would count it twice, and the "
                    "ablation and Shapley values of each would be meaningless. "
                    "Give each column to one modality."
                )
            owner[column] = name


def _empty(shape, dtype):
    if np.issubdtype(dtype, np.number):
        return np.full(shape, np.nan)
    return np.full(shape, None, dtype=object)


def _score_rows(scorer, stand_in, y_true, positions):
    """A scorer on the stored predictions of some rows (positions in the table)."""
    return scorer(stand_in, positions[:, None], y_true)


def _confidence_interval(values, seed):
    if len(values) < 2 or np.ptp(values) == 0:
        mean = float(np.mean(values))
        return (mean, mean) if len(values) >= 2 else (np.nan, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        low, high = bootstrap_ci(values, random_state=seed)
    return float(low), float(high)


def _hash_splits(splits):
    digest = hashlib.sha256()
    for train, test in splits:
        digest.update(np.asarray(train, dtype=np.int64).tobytes())
        digest.update(b"|")
        digest.update(np.asarray(test, dtype=np.int64).tobytes())
        digest.update(b"#")
    return digest.hexdigest()


def _hash_data(table, y, groups):
    """SHA-256 of the table (index, column names, cells), target and groups."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(table.index).to_numpy().tobytes())
    for name, column in table.items():
        digest.update(repr(name).encode())
        try:
            hashed = pd.util.hash_pandas_object(column, index=False).to_numpy()
            digest.update(hashed.tobytes())
        except TypeError:  # cells that pandas cannot hash: arrays (images)
            for cell in column:
                digest.update(_cell_bytes(cell))
    digest.update(pd.util.hash_array(np.asarray(y, dtype=object)).tobytes())
    if groups is not None:
        digest.update(pd.util.hash_array(np.asarray(groups, dtype=object)).tobytes())
    return digest.hexdigest()


def _cell_bytes(cell):
    if isinstance(cell, np.ndarray):
        header = f"{cell.dtype.str}{cell.shape}".encode()
        return header + np.ascontiguousarray(cell).tobytes()
    return repr(cell).encode()


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _preview(rows, limit=10):
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", ..." if len(rows) > limit else "")
