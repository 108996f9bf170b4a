"""Input checks of a fusion study: the table, the modalities, the target, the folds."""

from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..utils.validation import non_numeric_rows, plain, preview, row_name

# Rows a message lists before it counts the rest.
_ROWS_SHOWN = 10
# Columns a message lists before it counts the rest.
_COLUMNS_SHOWN = 30

__all__ = [
    "Target",
    "check_multilabel_target",
    "check_classes_in_splits",
    "check_events_in_splits",
    "check_labels_in_splits",
    "check_class_fold_count",
    "check_label_fold_count",
    "check_column_complete",
    "check_column_present",
    "check_media_files",
    "count_units",
    "check_groups",
    "check_modalities",
    "check_target_values",
    "plain",
]


class Target(NamedTuple):
    """What the study records of its target.

    ``task`` is ``"binary"``, ``"multiclass"``, ``"multilabel"`` or
    ``"regression"``; ``classes`` and ``counts`` the class labels and their
    row counts (for a multi-label target the label names and the rows where
    each label is 1; None for a regression); ``pos_label`` the positive class
    of a binary target and ``positive`` its position in ``classes`` (None
    otherwise).
    """

    task: str
    classes: np.ndarray | None
    counts: dict | None
    pos_label: object
    positive: int | None


def _positions(rows):
    """``positions 3, 7``: row positions for a message."""
    return "positions " + preview(int(r) for r in rows)[1:-1]


def check_modalities(modalities, table):
    """Check the table and the modalities; return the modality names."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"FusionStudy needs the study table as a pandas DataFrame; got "
            f"{type(table).__name__}."
        )
    if len(table) == 0:
        raise ValueError("FusionStudy got an empty table (0 rows).")
    if not modalities:
        raise ValueError("FusionStudy needs at least one modality.")
    names = [modality[0] for modality in modalities]
    if len(set(names)) != len(names):
        raise ValueError(f"Modality names must be unique; got {names}.")
    _check_no_shared_columns(modalities, table)
    _check_passthrough_numeric(modalities, table)
    return names


def check_target_values(y, n_rows, whose="the study's"):
    """A 1-D target with one value per row and none missing, as an array.

    ``whose`` names the target in the messages (``"the external cohort's"``).
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(
            f"{whose.capitalize()} y must be 1-D with one value per table row "
            f"({n_rows}); got shape {y.shape}."
        )
    missing = pd.isna(y)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"{whose.capitalize()} target is missing in {len(rows)} row(s), at "
            f"{_positions(rows)}; drop or label them."
        )
    return y


# Column names that say a 2-D target is a time to event, not labels.
_SURVIVAL_WORDS = ("time", "event", "status", "duration", "censor")


def check_multilabel_target(y, n_rows):
    """A 2-D 0/1 indicator target: one column per label, each label varying."""
    # A 0/1 label may be called "event"; a column of times is no label.
    if (
        isinstance(y, pd.DataFrame)
        and any(
            word in str(column).lower()
            for column in y.columns
            for word in _SURVIVAL_WORDS
        )
        and not np.isin(y.to_numpy(), [0, 1]).all()
    ):
        columns = [str(c) for c in y.columns]
        raise ValueError(
            f"y is a DataFrame with columns {columns}, which would be read as the "
            "labels of a multi-label target. For a time-to-event study pass a "
            "structured array of (event, time) instead, e.g. "
            "sksurv.util.Surv.from_dataframe('event', 'time', y) (the event "
            "column 0/1 or boolean, the time a number), or skfusion study "
            "--time COLUMN --event COLUMN."
        )
    names = (
        [str(c) for c in y.columns]
        if isinstance(y, pd.DataFrame)
        else [f"label{k}" for k in range(np.shape(y)[1])]
    )
    values = np.asarray(y)
    if len(values) != n_rows:
        raise ValueError(
            f"y must have one row per table row ({n_rows}); got shape {values.shape}."
        )
    missing = pd.isna(values)
    if missing.any():
        rows = np.flatnonzero(missing.any(axis=1))
        raise ValueError(
            f"The multi-label target is missing in {len(rows)} row(s), at "
            f"{_positions(rows)}; drop or label them before the study."
        )
    if values.shape[1] == 1:
        raise ValueError(
            "y has a single label column; pass it as a 1-D target for a binary study."
        )
    for name, column in zip(names, values.T, strict=True):
        bad = np.flatnonzero(~np.isin(column, [0, 1]))
        if bad.size:
            raise ValueError(
                f"Label {name!r} of the multi-label target must be 0 or 1; row "
                f"{int(bad[0])} holds {plain(column[bad[0]])!r}."
            )
        if np.all(column == column[0]):
            raise ValueError(
                f"Label {name!r} is {plain(column[0])} in every row; each label "
                "of a multi-label study needs rows with and without it."
            )
    values = values.astype(int)
    counts = {name: int(n) for name, n in zip(names, values.sum(axis=0), strict=True)}
    return values, Target(
        "multilabel", np.asarray(names, dtype=object), counts, None, None
    )


def check_groups(groups, n_rows):
    """The groups as an array (or None) and their number of distinct values."""
    if groups is None:
        return None, None
    groups = np.asarray(groups)
    if len(groups) != n_rows:
        raise ValueError(
            f"groups must have one value per table row ({n_rows}); got {len(groups)}."
        )
    if pd.isna(groups).any():
        rows = np.flatnonzero(pd.isna(groups))
        raise ValueError(f"groups is missing in row {_positions(rows)}.")
    return groups, int(pd.Series(groups).nunique())


def check_class_fold_count(cv, y, groups):
    """Each class in at least ``cv`` rows (or groups), so every fold tests it."""
    if groups is None:
        members = dict(zip(*np.unique(y, return_counts=True), strict=True))
        unit = "row"
    else:
        frame = pd.DataFrame({"y": y, "group": groups})
        members = frame.groupby("y")["group"].nunique().to_dict()
        unit = "group"
    for label, count in members.items():
        if count < cv:
            raise ValueError(
                f"Class {plain(label)!r} is in {count} {unit}(s), fewer than "
                f"the cv={cv} folds: some test folds would hold none of "
                "it, where its per-fold scores are not defined. Use "
                f"cv={max(count, 2)} or fewer folds, or merge or drop the "
                "class."
            )


def count_units(rows, groups):
    """Rows (or, with ``groups``, groups) a boolean mask holds, and the unit."""
    if groups is None:
        return int(np.sum(rows)), "row"
    return len(np.unique(groups[rows])), "group"


def check_label_fold_count(cv, y, groups):
    """Each label with and without it in at least ``cv`` rows (or groups)."""
    for k, column in enumerate(y.T):
        for value, wording in ((1, "with"), (0, "without")):
            count, unit = count_units(column == value, groups)
            if count < cv:
                raise ValueError(
                    f"Label column {k} has {count} {unit}(s) {wording} it, fewer than "
                    f"the cv={cv} folds: some test folds would have none. Use "
                    f"cv={max(count, 2)} or fewer folds, or drop the label."
                )


def check_events_in_splits(y, splits, split_ids):
    """Some event in the training and test rows of every split (survival)."""
    for part, index in (("training", 0), ("test", 1)):
        for (repeat, fold), split in zip(split_ids, splits, strict=True):
            if not y["event"][split[index]].any():
                raise ValueError(
                    f"The {part} rows of repeat {repeat}, fold {fold} hold no "
                    "event: a model cannot learn, nor a metric score, without "
                    "one. Use fewer folds or a stratified cv."
                )


def check_classes_in_splits(cv, classes, y, splits, split_ids):
    """Every class in the training and test rows of every split."""
    if isinstance(cv, Integral):
        # Stratified folds of whole groups: a class in few, large groups.
        advice = "Use fewer folds, or groups that spread the class more evenly."
    else:
        advice = "Use a stratified cv (an integer cv stratifies) or fewer folds."
    # A class no model can learn is named before one a fold cannot test.
    for part, index in (("training", 0), ("test", 1)):
        for (repeat, fold), split in zip(split_ids, splits, strict=True):
            rows = split[index]
            absent = [c for c in classes if not np.any(y[rows] == c)]
            if absent:
                label = plain(absent[0])
                where = np.flatnonzero(y == absent[0])
                raise ValueError(
                    f"Class {label!r} is absent from the {part} rows of "
                    f"repeat {repeat}, fold {fold} (its rows are at "
                    f"{_positions(where)}): a model cannot learn a class it "
                    "never sees, and a fold's scores are not defined for a "
                    f"class it does not test. {advice}"
                )


def check_labels_in_splits(names, y, splits, split_ids):
    """Rows with and without every label in the training and test rows of
    every split (multi-label)."""
    for part, index in (("training", 0), ("test", 1)):
        for (repeat, fold), split in zip(split_ids, splits, strict=True):
            rows = split[index]
            for name, column in zip(names, y.T, strict=True):
                if len(np.unique(column[rows])) < 2:
                    raise ValueError(
                        f"Label {name!r} is {int(column[rows][0])} in every "
                        f"{part} row of repeat {repeat}, fold {fold}: its scores "
                        "are not defined there. Use fewer folds."
                    )


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
                    f"first at row {int(bad[0])} ({plain(values.iloc[bad[0]])!r}); "
                    "encode the column (one-hot, ordinal) or give the modality "
                    "a transformer that does."
                )


def _check_no_shared_columns(modalities, table):
    """Refuse a table column that two modalities use.

    Columns given by name or position are compared; a callable or a boolean
    mask selects columns that only the extraction resolves, and is not checked.
    Modalities whose transformers read different streams of the files of a
    column (their ``reads_streams``, e.g. the frames and the audio track of
    videos) may share it.
    """
    owner, streams = {}, {}
    for name, transformer, columns in modalities:
        if isinstance(columns, str | Integral):
            columns = [columns]
        if not isinstance(columns, list | tuple | pd.Index | np.ndarray):
            continue
        read = getattr(transformer, "reads_streams", None)
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
            shared = streams.get(column)
            if column in owner and not (read and shared and not read & shared):
                raise ValueError(
                    f"Column {column!r} is in two modalities, {owner[column]!r} "
                    f"and {name!r}: a model would count it twice, and the "
                    "ablation and Shapley values of each would be meaningless. "
                    "Give each column to one modality."
                )
            owner[column] = name
            # The streams read so far; none once a modality reads it whole.
            streams[column] = (shared or frozenset()) | read if read else None


def _holds_files(folder):
    """Whether a folder holds a file that is not hidden: a DICOM series."""
    return any(
        entry.is_file() and not entry.name.startswith(".") for entry in folder.iterdir()
    )


def check_media_files(column, root=None, modality=None, kind="files"):
    """Every path of a media column names a readable file under ``root``.

    What an extractor would find only after minutes of extraction, checked
    at once: each non-missing cell must resolve under ``root`` (see
    :func:`skfusion.extractors.resolve_path`) to a file, not a directory;
    for ``kind="image"`` a folder holding files (a DICOM series) will do, and
    for ``kind="signal"`` a WFDB record named without extension whose
    ``.hea`` header is a file. The command line calls it for every image,
    audio and signal column.

    Parameters
    ----------
    column : Series
        The paths, named by the table's column.

    root : str or path-like, default=None
        The folder that relative paths resolve under and every file must lie
        in; None resolves relative paths against the working directory.

    modality : str, default=None
        The modality's name, for the message.

    kind : str, default="files"
        What the files are (``"image"``, ``"audio"``, ...), for the message.

    Raises
    ------
    ValueError
        Naming the modality, the column, how many files cannot be read, the
        first one's row and why, and the rows of the others.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfusion.study import check_media_files
    >>> check_media_files(pd.Series([None, "."], name="scan"), modality="xray")
    Traceback (most recent call last):
    ...
    ValueError: modality 'xray' (files, column 'scan'): 1 of 2 file(s) cannot be ...
    """
    from ..extractors import PathOutsideRootError, is_missing, resolve_path

    problems = []
    for position, item in enumerate(column.tolist()):
        if is_missing(item):
            continue
        try:
            path = resolve_path(str(item), root)
        except PathOutsideRootError as exc:
            problems.append((position, item, str(exc)))
            continue
        if path.is_dir():
            if kind != "image" or not _holds_files(path):
                problems.append((position, item, f"{str(path)!r} is a directory"))
        elif not path.is_file() and not (
            kind == "signal"
            and not path.suffix
            and path.with_name(path.name + ".hea").is_file()
        ):
            problems.append((position, item, f"no such file {str(path)!r}"))
    if problems:
        position, item, reason = problems[0]
        rows = [repr(plain(column.index[p])) for p, _, _ in problems]
        shown = ", ".join(rows[:_ROWS_SHOWN])
        if len(rows) > _ROWS_SHOWN:
            shown += f", ... ({len(rows)} in all)"
        raise ValueError(
            f"modality {modality!r} ({kind}, column {column.name!r}): "
            f"{len(problems)} of {len(column)} file(s) cannot be read; first at "
            f"{row_name(column.index, position)} ({str(item)!r}): {reason}; rows "
            f"{shown}"
        )


def _columns_preview(table):
    columns = [str(column) for column in table.columns]
    shown = ", ".join(columns[:_COLUMNS_SHOWN])
    if len(columns) > _COLUMNS_SHOWN:
        shown += f", ... ({len(columns)} in all)"
    return shown


def _rows_preview(positions):
    shown = ", ".join(str(int(p)) for p in positions[:_ROWS_SHOWN])
    if len(positions) > _ROWS_SHOWN:
        shown += f", ... ({len(positions)} in all)"
    return shown


def check_column_present(table, column, role, source="the table"):
    """Refuse a column that the table does not have, listing those it has.

    Parameters
    ----------
    table : DataFrame
        The study table (or an external cohort).

    column : str
        The column a role or a modality names.

    role : str
        What the column is for (``"target"``, ``"group"``, ``"modality 'xray'
        (image)"``), for the message.

    source : str, default="the table"
        What the table is called in the message (a CSV file's name).

    Raises
    ------
    ValueError
        Naming the role, the column, the table and its columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfusion.study import check_column_present
    >>> check_column_present(pd.DataFrame({"age": [1]}), "sex", "subgroup")
    Traceback (most recent call last):
    ...
    ValueError: subgroup column 'sex' is not in the table; its columns are: age
    """
    if column not in table.columns:
        raise ValueError(
            f"{role} column {column!r} is not in {source}; its columns are: "
            f"{_columns_preview(table)}"
        )


def check_column_complete(table, column, role, source="the table"):
    """Refuse a column with missing values, naming their rows.

    For the columns a study cannot do without (the target, the groups, the
    time and event); a missing modality, by contrast, is data.

    Parameters
    ----------
    table : DataFrame
        The study table, read from a CSV with the default index.

    column : str
        The column.

    role : str
        What the column is for, for the message.

    source : str, default="the table"
        What the table is called in the message.

    Raises
    ------
    ValueError
        Naming the role, the column, how many rows miss a value and the
        first of them (0-based data rows of the CSV).

    Examples
    --------
    >>> import pandas as pd
    >>> from skfusion.study import check_column_complete
    >>> check_column_complete(pd.DataFrame({"y": [1, None]}), "y", "target")
    Traceback (most recent call last):
    ...
    ValueError: target column 'y' is missing in 1 row(s) of the table: rows 1 ...
    """
    missing = np.flatnonzero(table[column].isna().to_numpy())
    if missing.size:
        raise ValueError(
            f"{role} column {column!r} is missing in {missing.size} row(s) of "
            f"{source}: rows {_rows_preview(missing)} (0-based, header not "
            "counted); fill them in or remove those rows"
        )
