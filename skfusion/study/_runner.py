"""The study's runner: splits, per-fold extraction and its cache, out-of-fold fits."""

import contextlib
import time
import warnings
from numbers import Integral
from typing import NamedTuple

import joblib
import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_memory
from tqdm.auto import tqdm

from ..blocks import MODALITY_SEPARATOR, MissingModalityWarning, modality_of_column
from ..compose import make_modality_transformer
from ..utils.validation import non_numeric_rows, plain, row_name
from ._cache import ContentCachedExtractor, extraction_cache_location
from ._survival import survival_at

__all__ = [
    "OutOfFold",
    "as_float_blocks",
    "cached_by_content",
    "columns_of",
    "extract_blocks",
    "fit_and_predict",
    "hash_data",
    "hash_splits",
    "learns_from_data",
    "make_splits",
    "modality_transformer",
    "naming_failures",
    "uncached",
    "predict_out_of_fold",
    "predict_responses",
]


# -- splits ----------------------------------------------------------------------


def make_splits(cv, n_repeats, task, table, y, groups, rng):
    """The folds of every repeat, their ``(repeat, fold)`` ids and shuffle seeds.

    An integer ``cv`` gives ``n_repeats`` shuffled K-folds of the ``task``'s
    splitter (:meth:`Task.fold_splitter`: stratified as the target allows,
    grouped given ``groups``), each seeded by its own draw from ``rng``; the
    seeds are returned. (A seed per repeat is what ``fold_seeds_`` records,
    which sklearn's ``RepeatedStratifiedKFold``, drawing every repeat from
    one generator, has not; and it has no grouped variant.) A splitter is
    used as is, once; its seed is None.
    """
    if isinstance(cv, Integral):
        splitter, strata = task.fold_splitter(y, groups is not None)
        splits, ids, seeds = [], [], []
        for repeat in range(n_repeats):
            seed = int(rng.randint(np.iinfo(np.int32).max))
            seeds.append(seed)
            folds = splitter(n_splits=cv, shuffle=True, random_state=seed)
            for fold, (train, test) in enumerate(folds.split(table, strata, groups)):
                splits.append((train, test))
                ids.append((repeat, fold))
        return splits, ids, seeds
    if n_repeats != 1:
        raise ValueError(
            "n_repeats must be 1 when cv is a splitter; repeat with an integer "
            "cv or a repeated splitter's own settings."
        )
    splits = [
        (np.asarray(train), np.asarray(test))
        for train, test in cv.split(table, y, groups)
    ]
    tested = np.concatenate([test for _, test in splits])
    if len(np.unique(tested)) != len(tested):
        raise ValueError(
            "The test sets of cv overlap; FusionStudy pools out-of-fold "
            "predictions and needs each row tested at most once per repeat. "
            "Use an integer cv with n_repeats to repeat."
        )
    return splits, [(0, fold) for fold in range(len(splits))], [None]


def hash_splits(splits):
    """:func:`joblib.hash` of the train and test row positions of every split."""
    return joblib.hash(
        [
            (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
            for train, test in splits
        ]
    )


def hash_data(table, y, groups):
    """:func:`joblib.hash` of the table (index, column names, cells), y, groups.

    Column by column, so that two tables of the same content hash alike
    whatever their memory layout; array cells (images) by content.
    """
    columns = [(name, column.to_numpy()) for name, column in table.items()]
    return joblib.hash(
        [
            table.index.to_numpy(),
            columns,
            np.asarray(y),
            None if groups is None else np.asarray(groups),
        ]
    )


# -- extraction ------------------------------------------------------------------


def learns_from_data(transformer):
    """Whether a modality's transformer must be fitted inside every fold.

    A transformer is assumed to learn from the rows it is fitted on (a scaler,
    an encoder) unless its class declares ``learns_from_data = False``, as
    skfusion's extractors do (:class:`~skfusion.extractors.BaseExtractor`):
    one that learns nothing is applied once to every row, which gives the
    same blocks as fitting it per fold, faster. This is the one place the
    study reads that declaration. The former private spelling,
    ``_learns_from_data``, is still honoured, with a FutureWarning.
    """
    legacy = getattr(type(transformer), "_learns_from_data", None)
    if legacy is not None:
        warnings.warn(
            f"{type(transformer).__name__} declares _learns_from_data, the former "
            "name of learns_from_data; rename it (the old name is honoured for "
            "now and will stop being read).",
            FutureWarning,
            stacklevel=2,
        )
        return bool(legacy)
    return getattr(transformer, "learns_from_data", True)


def cached_by_content(transformer):
    """Whether the extraction cache may store a transformer's rows.

    Only skfusion's extractors that learn nothing from the data: their row
    of an input depends on that input alone, so that it can be keyed by the
    input's content (see :mod:`skfusion.study._cache`). Other transformers
    applied once are cached by the table, with :class:`joblib.Memory`.
    """
    # Imported here: a study of precomputed blocks never needs the extractors.
    from ..extractors import BaseExtractor

    return isinstance(transformer, BaseExtractor) and not learns_from_data(transformer)


def extract_blocks(modalities, table, y, splits, *, memory=None, n_jobs=None):
    """The (train, test) blocked matrices of every split, modalities in order.

    A transformer that learns from the data is fitted on the training rows
    of each fold (in parallel over folds), one that does not is applied once
    to all rows. With ``memory``, the folds' blocks are cached on disk by
    the table's content, and the rows of skfusion's extractors applied once
    by the content of each input (:func:`cached_by_content`), in the
    extraction cache under the same folder; other transformers applied once
    are cached by the table.
    """
    location = extraction_cache_location(memory)
    memory = check_memory(memory)
    once = [m for m in modalities if not learns_from_data(m[1])]
    per_fold = [m for m in modalities if learns_from_data(m[1])]
    by_content = [m for m in once if location is not None and cached_by_content(m[1])]
    by_table = [m for m in once if location is None or not cached_by_content(m[1])]

    wholes = []
    if by_content:
        wholes.append(_extract_all(by_content, table, y, n_jobs, location))
    if by_table:
        extract = memory.cache(_extract_all, ignore=["n_jobs"])
        wholes.append(extract(by_table, table, y, n_jobs))
    whole = pd.concat(wholes, axis=1) if wholes else None
    fold_blocks = [None] * len(splits)
    if per_fold:
        fold_blocks = Parallel(n_jobs=n_jobs)(
            delayed(memory.cache(_extract_fold))(per_fold, table, y, train, test)
            for train, test in splits
        )
    order = [name for name, _, _ in modalities]
    blocks = []
    for (train, test), fitted in zip(splits, fold_blocks, strict=True):
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


def columns_of(split_blocks, modalities):
    """The (train, test) blocks of one split restricted to some modalities."""
    train_X, test_X = split_blocks
    prefixes = tuple(f"{m}{MODALITY_SEPARATOR}" for m in modalities)
    columns = [c for c in train_X.columns if c.startswith(prefixes)]
    return train_X[columns], test_X[columns]


def modality_transformer(modalities, n_jobs=None, cache=None):
    """The modality transformer of some ``(name, transformer, columns)`` triples.

    Clones of the transformers, with pandas output; ``n_jobs`` is handed to
    the extractors whose own ``n_jobs`` is None. With ``cache`` (a folder,
    see :func:`~skfusion.study._cache.extraction_cache_location`), the
    extractors :func:`cached_by_content` read and store their rows there,
    wrapped in a :class:`~skfusion.study._cache.ContentCachedExtractor`
    (:func:`uncached` takes the wrappers out of the fitted transformer).
    """
    # Cloned: set_output would otherwise reach into the caller's transformers
    # (and change their joblib hash, which keys the extraction cache).
    cloned = []
    for name, transformer, columns in modalities:
        transformer = clone(transformer, safe=False)
        if n_jobs is not None and getattr(transformer, "n_jobs", False) is None:
            transformer.set_params(n_jobs=n_jobs)
        if cache is not None and cached_by_content(transformer):
            transformer = ContentCachedExtractor(transformer, cache)
        cloned.append((name, transformer, columns))
    return make_modality_transformer(*cloned).set_output(transform="pandas")


def uncached(transformer):
    """A fitted modality transformer with its extractors out of their cache.

    Each fitted :class:`~skfusion.study._cache.ContentCachedExtractor` is
    replaced by the extractor it fitted, so that the transformer, kept in a
    refitted pipeline, neither reads nor writes the study's cache when it
    predicts, and saves as the plain extractors. Returns ``transformer``,
    changed in place.
    """
    transformer.transformers_ = [
        (
            name,
            step.extractor_ if isinstance(step, ContentCachedExtractor) else step,
            columns,
        )
        for name, step, columns in transformer.transformers_
    ]
    # The extractors come out with the transformer's output container.
    return transformer.set_output(transform="pandas")


# The helpers below run in the joblib workers (and key the extraction cache).


def _extract_all(modalities, table, y, n_jobs, cache=None):
    transformer = modality_transformer(modalities, n_jobs, cache)
    return as_float_blocks(transformer.fit_transform(table, y), table.index)


def _extract_fold(modalities, table, y, train, test):
    transformer = modality_transformer(modalities)
    names = [name for name, _, _ in modalities]
    with naming_failures(f"extracting {names} on the training rows of a fold", train):
        train_X = transformer.fit_transform(table.iloc[train], y[train])
        train_X = as_float_blocks(train_X, table.index[train])
    with naming_failures(f"extracting {names} on the test rows of a fold", test):
        test_X = as_float_blocks(
            transformer.transform(table.iloc[test]), table.index[test]
        )
    return train_X, test_X


def _ordered(blocked, order):
    rank = {name: i for i, name in enumerate(order)}
    columns = sorted(blocked.columns, key=lambda c: rank[modality_of_column(c)])
    return blocked[columns]


def as_float_blocks(blocked, index):
    """The blocked matrix as a float DataFrame; a cell that is no number is named."""
    blocked = pd.DataFrame(blocked)
    try:
        values = blocked.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise _not_a_number(blocked, index) from None
    return pd.DataFrame(values, columns=blocked.columns, index=index)


def _not_a_number(blocked, index):
    """The error naming the first cell of ``blocked`` that is not a number."""
    for name, column in blocked.items():
        bad = non_numeric_rows(column)
        if bad.size:
            modality, _, feature = str(name).partition(MODALITY_SEPARATOR)
            return ValueError(
                f"FusionStudy: modality {modality!r}, column {feature!r}: "
                f"{bad.size} value(s) are not numbers, first at "
                f"{row_name(index, bad[0])} ({plain(column.iloc[bad[0]])!r}); "
                "encode the column (one-hot, ordinal) or give the modality a "
                "transformer that does."
            )
    return ValueError("FusionStudy: the blocked matrix is not numeric.")


# -- errors ----------------------------------------------------------------------


@contextlib.contextmanager
def naming_failures(where, rows=None):
    """Say where in the study an error happened, and which table row it names.

    A plain ValueError, TypeError or OSError is raised again, same type, with
    ``where`` in its message; other exceptions get a note. ``rows`` are the
    table positions of the rows being extracted: an error that carries the
    position of its row in them (a ``row`` attribute, see
    :func:`_row_of`) is told which table row that is.
    """
    try:
        yield
    except Exception as exc:
        if type(exc) in (ValueError, TypeError, OSError):
            detail = "" if rows is None else _table_row(exc, rows)
            raise type(exc)(f"FusionStudy: {where} failed: {exc}{detail}") from exc
        exc.add_note(f"FusionStudy: raised by {where}.")
        raise


def _row_of(error):
    """The position of the row an error is about, or None.

    Read from the ``row`` attribute (an int) of the error or of an error it
    was raised from (``raise ... from``, as the modality transformer re-raises
    an extractor's error): the position, among the rows the failing
    transformer was given, of the row it could not process.
    """
    while error is not None:
        row = getattr(error, "row", None)
        if isinstance(row, Integral) and not isinstance(row, bool):
            return int(row)
        error = error.__cause__
    return None


def _table_row(error, rows):
    """Which table row a fold-local row position of ``error`` is."""
    row = _row_of(error)
    if row is None or not 0 <= row < len(rows):
        return ""
    return (
        " (the rows are counted within the fold: "
        f"row {row} is table row {int(rows[row])})"
    )


# -- out-of-fold predictions --------------------------------------------------------


class OutOfFold(NamedTuple):
    """What every strategy predicted for the test rows of every split.

    ``predictions``, ``proba`` and ``decision`` map each strategy to its
    predicted labels (values), shape ``(n_repeats, n_samples)``, its
    ``predict_proba`` ``(n_repeats, n_samples, n_classes)`` and its
    ``decision_function`` (each None where the model has none; the decision
    only for a model without ``predict_proba``), NaN (None) in the rows a
    repeat does not test. ``fit_times`` maps ``(split, strategy)`` to seconds;
    ``models`` maps ``(split, strategy)`` to the fitted model of each
    strategy in ``keep_models_of``.
    """

    predictions: dict
    proba: dict
    decision: dict
    fit_times: dict
    models: dict


def predict_out_of_fold(
    strategies,
    strategy_modalities,
    blocks,
    splits,
    split_ids,
    y,
    groups,
    *,
    label_dtype,
    keep_models_of=(),
    n_jobs=None,
    verbose=False,
    survival_times=None,
):
    """Fit every strategy on every split and collect its out-of-fold predictions.

    Parameters
    ----------
    strategies : dict of str to estimator
        Unfitted estimators, cloned for each fit.

    strategy_modalities : dict of str to tuple of str
        The modalities each strategy sees.

    blocks : list of (DataFrame, DataFrame)
        The extracted (train, test) blocks of every split.

    splits, split_ids : list
        Train and test positions, and ``(repeat, fold)``, of every split.

    y : ndarray of shape (n_samples,)
        The target.

    groups : ndarray of shape (n_samples,) or None
        Passed to the models that take or request them.

    label_dtype : dtype
        The dtype of the stored predicted labels.

    keep_models_of : collection of str
        The strategies whose fitted models are kept (the contributions and
        the robustness curves reuse them).

    n_jobs : int or None
        Jobs over splits x strategies.

    verbose : bool
        Show a progress bar.

    survival_times : ndarray or None
        For a survival target, the times at which each model's survival
        function is stored (in place of ``predict_proba``).

    Returns
    -------
    out_of_fold : OutOfFold
    """
    names = list(strategies)
    n_repeats = max(r for r, _ in split_ids) + 1
    n_samples = len(y)
    shared = shared_first_steps(strategies, strategy_modalities)
    # Stage 1: each first step that several strategies share, fitted once
    # per split on the columns they see, and the split's blocks through it.
    prefix_tasks = [
        (split, key)
        for split in range(len(splits))
        for key in dict.fromkeys(shared.values())
    ]
    prefix_jobs = (
        delayed(_fit_first_step)(
            key[1],
            f"the first step shared by strategies "
            f"{[n for n, k in shared.items() if k == key]}, repeat "
            f"{split_ids[split][0]}, fold {split_ids[split][1]}",
            *columns_of(blocks[split], key[0]),
            y[splits[split][0]],
        )
        for split, key in prefix_tasks
    )
    prefixes = dict(
        zip(prefix_tasks, Parallel(n_jobs=n_jobs)(prefix_jobs), strict=True)
    )

    def fit_job(split, name):
        train, test = splits[split]
        where = (
            f"strategy {name!r}, repeat {split_ids[split][0]}, "
            f"fold {split_ids[split][1]}"
        )
        arguments = (
            y[train],
            None if groups is None else groups[train],
            name in keep_models_of,
            survival_times,
        )
        key = shared.get(name)
        if key is None:
            return delayed(fit_and_predict)(
                strategies[name],
                where,
                *columns_of(blocks[split], strategy_modalities[name]),
                *arguments,
            )
        step, train_X, test_X, seconds = prefixes[split, key]
        return delayed(_fit_rest_and_predict)(
            strategies[name], step, seconds, where, train_X, test_X, *arguments
        )

    tasks = [(split, name) for split in range(len(splits)) for name in names]
    jobs = (fit_job(split, name) for split, name in tasks)
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    progress = tqdm(
        results, total=len(tasks), desc="folds x strategies", disable=not verbose
    )

    out = OutOfFold({}, {}, {}, {}, {})
    for (split, name), result in zip(tasks, progress, strict=True):
        repeat, _ = split_ids[split]
        _, test = splits[split]
        labels, proba, decision, fit_time, model = result
        if name not in out.predictions:
            out.predictions[name] = _empty(
                (n_repeats, n_samples, *np.shape(labels)[1:]), label_dtype
            )
            out.proba[name] = (
                None
                if proba is None
                else np.full((n_repeats, n_samples, proba.shape[1]), np.nan)
            )
            out.decision[name] = (
                None
                if decision is None
                else np.full((n_repeats, n_samples, *decision.shape[1:]), np.nan)
            )
        out.predictions[name][repeat, test] = labels
        if proba is not None:
            out.proba[name][repeat, test] = proba
        if decision is not None:
            out.decision[name][repeat, test] = decision
        out.fit_times[split, name] = fit_time
        if model is not None:
            out.models[split, name] = model
    return out


def shared_first_steps(strategies, strategy_modalities):
    """The strategies whose pipelines start with the same transformer.

    Maps each such strategy to a key ``(modalities, first step)``: a
    :class:`~sklearn.pipeline.Pipeline` whose first step is a transformer of
    the same class and parameters (:func:`joblib.hash`) as that of another
    strategy seeing the same modalities (the default strategies' common
    :class:`~skfusion.fusion.WideBlockReducer`). Fitting it once per split
    and the rest of each pipeline on its output gives the same models as
    fitting every pipeline whole, the shared step fitted once.
    """
    keys = {}
    for name, estimator in strategies.items():
        if not isinstance(estimator, Pipeline) or len(estimator.steps) < 2:
            continue
        first = estimator.steps[0][1]
        if (
            first in (None, "passthrough")
            or not hasattr(first, "fit_transform")
            or requests_groups(first)
        ):
            # Passthrough, or a step fitted with groups: left in its pipeline.
            continue
        keys[name] = (tuple(strategy_modalities[name]), joblib.hash(first))
    counts = {}
    for key in keys.values():
        counts[key] = counts.get(key, 0) + 1
    steps = {}
    for name, key in keys.items():
        steps.setdefault(key, strategies[name].steps[0][1])
    return {
        name: (key[0], steps[key], key[1])
        for name, key in keys.items()
        if counts[key] > 1
    }


def _fit_first_step(step, where, train_X, test_X, y_train):
    """A clone of ``step`` fitted on the training blocks; both blocks through it."""
    step = clone(step)
    with naming_failures(where):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingModalityWarning)
            # As the pipeline would: fit_transform on its training rows.
            train_out = step.fit_transform(train_X, y_train)
        seconds = time.perf_counter() - start
        test_out = step.transform(test_X)
    return step, train_out, test_out, seconds


def _fit_rest_and_predict(
    pipeline, fitted_step, step_seconds, where, train_X, test_X, *arguments
):
    """Fit the pipeline after its (already fitted) first step, and predict.

    The fitted model returned is the whole pipeline: ``fitted_step`` then the
    rest, fitted; its fit time counts the shared step's.
    """
    rest = pipeline[1:]
    labels, proba, decision, fit_time, model = fit_and_predict(
        rest, where, train_X, test_X, *arguments
    )
    if model is not None:
        whole = clone(pipeline)
        whole.steps = [(pipeline.steps[0][0], fitted_step), *model.steps]
        model = whole
    return labels, proba, decision, fit_time + step_seconds, model


def fit_and_predict(
    estimator,
    where,
    train_X,
    test_X,
    y_train,
    groups_train,
    keep_model,
    survival_times=None,
):
    """Fit a clone on the training blocks and predict the test blocks.

    Returns the predicted labels, ``predict_proba`` (or None),
    ``decision_function`` for a model without ``predict_proba`` (or None),
    the fit time, and the fitted model when ``keep_model``. A modality
    missing in every training row is a case every strategy handles, so its
    :class:`~skfusion.blocks.MissingModalityWarning` is silenced.
    """
    model = clone(estimator)
    with naming_failures(where):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingModalityWarning)
            fit_with_groups(model, train_X, y_train, groups_train)
        fit_time = time.perf_counter() - start
        labels, proba, decision = predict_responses(model, test_X, survival_times)
    return labels, proba, decision, fit_time, model if keep_model else None


def predict_responses(model, X, survival_times=None):
    """``predict``, ``predict_proba`` (or None) and, without it, the decision.

    A multi-label model's probabilities come as one ``(n_samples, n_labels)``
    array of the probability that each label is 1, also from a model that
    returns scikit-learn's list of per-label ``(n_samples, 2)`` arrays
    (``MultiOutputClassifier``). With ``survival_times`` (a survival model),
    ``predict`` is the risk score and the "probabilities" are the survival
    probabilities at those times (None without a survival function).
    """
    if survival_times is not None:
        risk = np.asarray(model.predict(X), dtype=float)
        return risk, survival_at(model, X, survival_times), None
    labels = np.asarray(model.predict(X))
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    if isinstance(proba, list):
        proba = np.column_stack([label_proba[:, -1] for label_proba in proba])
    decision = None
    if proba is None and hasattr(model, "decision_function"):
        decision = model.decision_function(X)
    return labels, proba, decision


def fit_with_groups(model, X, y, groups):
    """Fit, passing ``groups`` to a model that requests them by metadata routing.

    A model requests them as scikit-learn's routing says: an estimator by
    ``set_fit_request(groups=True)`` or by default (the deep estimators), a
    composite (a pipeline, ``GridSearchCV``, ``LogisticRegressionCV``) when
    a step or its splitter does. Others are fitted without.
    """
    if groups is None or not requests_groups(model):
        return model.fit(X, y)
    with config_context(enable_metadata_routing=True):
        return model.fit(X, y, groups=groups)


def requests_groups(model):
    """Whether metadata routing would pass ``groups`` to ``model.fit``."""
    with config_context(enable_metadata_routing=True):
        try:
            return bool(get_routing_for_object(model).consumes("fit", ["groups"]))
        except (AttributeError, TypeError):
            return False  # an estimator that knows nothing of routing


def _empty(shape, dtype):
    if np.issubdtype(dtype, np.number):
        return np.full(shape, np.nan)
    return np.full(shape, None, dtype=object)
