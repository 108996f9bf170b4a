"""The report of a fitted fusion study: tables, a manifest, Markdown and HTML.

:func:`write_report` writes everything a reader or a reviewer needs to check a
study into one folder: the numbers as CSV, a JSON manifest of the software,
parameters, data and splits that produced them, and the same report twice,
as Markdown next to its PNG figures and as one self-contained HTML file with
the figures embedded. The figures need matplotlib (the ``report`` extra);
without it every file is still written, without figures.
"""

import base64
import html
import importlib.metadata
import io
import json
import math
import numbers
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ..utils._docstrings import fill_docstring
from ._decision_rule import decision_rule_sentence
from ._results import StudyResults, optional_table
from ._task import TASKS, task_named
from ._tripod import GUIDELINE, tripod_checklist

__all__ = ["write_report"]

_NO_MATPLOTLIB = "Plots need matplotlib: pip install 'skfusion[report]'"
_VERSIONED = [
    "skfusion",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "joblib",
    "torch",
    "skorch",
    "matplotlib",
]
_TASKS = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "multilabel": "multi-label classification",
    "survival": "time to event (survival)",
    "regression": "regression",
}
_DPI = 100
# File name, caption and function of _plots of every figure, in report order.
_FIGURES = [
    ("fold_scores", "Per-fold scores"),
    ("roc", "ROC curves"),
    ("calibration", "Calibration"),
    ("decision_curves", "Decision curves"),
    ("learning_curve", "Learning curve"),
    ("robustness", "Robustness to a missing modality"),
    ("survival_groups", "Kaplan–Meier curves by predicted risk"),
    ("labels", "ROC AUC of each label"),
    ("contributions", "Modality contributions"),
    ("missingness", "Missing modalities"),
]
# The files of a report besides its figures, in the order they are written.
_TABLES = ("results.csv", "folds.csv")
_DOCUMENTS = ("manifest.json", "report.md", "report.html")
# Written by every report since the checklist; an earlier report never did.
_CHECKLIST = "tripod_checklist.csv"


def report_files():
    """Every file a report may write, relative to its folder.

    ``FusionStudy.report`` writes some of these (the external validation and
    the figures only when the study has them), replaces only those that an
    earlier report listed in its ``manifest.json``, and refuses to replace
    any other file of those names. ``skfusion study`` checks them against the
    files it reads before it starts.

    Returns
    -------
    names : list of str
        Relative paths, ``plots/<figure>.png`` for the figures.
    """
    return [
        *_TABLES,
        "external.csv",
        "subgroups.csv",
        "decision_curves.csv",
        "learning_curve.csv",
        "robustness.csv",
        _CHECKLIST,
        *_DOCUMENTS,
        *(f"plots/{name}.png" for name, _ in _FIGURES),
    ]


def _files_of_earlier_report(folder):
    """The report files that an earlier skfusion report in ``folder`` wrote.

    Read from its ``manifest.json``: the ``files`` it lists (only names a
    report may write, so a manifest cannot make it delete anything else);
    for a report from before the list was kept, the files such a report
    always wrote. A ``manifest.json`` that is not a skfusion manifest owns
    nothing.
    """
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(manifest, dict):
        return set()
    possible = set(report_files())
    files = manifest.get("files")
    if isinstance(files, list):
        return {name for name in files if isinstance(name, str)} & possible
    versions = manifest.get("versions")
    if isinstance(versions, dict) and "skfusion" in versions:
        earlier = {*_TABLES, *_DOCUMENTS}
        earlier |= {name for name in possible if name.startswith("plots/")}
        if manifest.get("external") is not None:
            earlier.add("external.csv")
        # Written since the study had these parameters, when it had the tables.
        params = manifest.get("params")
        params = params if isinstance(params, dict) else {}
        # Decision curves: of a study whose target has a positive class.
        task = TASKS.get(manifest.get("task"))
        if "decision_thresholds" in params and getattr(task, "positive_class", 0):
            earlier.add("decision_curves.csv")
        if params.get("subgroups") not in (None, "None"):
            earlier.add("subgroups.csv")
        if params.get("learning_curve") not in (None, False, "False"):
            earlier.add("learning_curve.csv")
        if params.get("robustness") in (True, "True"):
            earlier.add("robustness.csv")
        if manifest.get("reporting_guideline") == GUIDELINE:
            earlier.add(_CHECKLIST)
        return earlier
    return set()


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1, h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; }
figcaption { font-size: .85rem; color: #555; }
code { background: #f3f3f3; padding: 0 .2rem; }
.note { background: #fff6e0; border-left: 4px solid #e0a800; padding: .4rem .8rem; }
"""


@fill_docstring
def write_report(study, path):
    """Write the report of a fitted study into a folder.

    The folder holds:

    - ``results.csv``: one row per strategy, the summary statistics
      (``summary_``) joined with the comparison to the reference
      (``comparison_``);
    - ``folds.csv``: the score of every strategy on every fold
      (``fold_scores_``);
    - ``decision_curves.csv``, ``subgroups.csv``, ``learning_curve.csv`` and
      ``robustness.csv``, where the study has them (``decision_curve_``,
      ``subgroup_scores_``, ``learning_curve_``, ``robustness_``);
    - ``tripod_checklist.csv``: each item of the TRIPOD+AI reporting
      guideline, the report's sections that answer it and what the author
      must add (:func:`~skfusion.study.tripod_checklist`);
    - ``manifest.json``: software versions, creation time, study parameters,
      strategies, seeds, the hashes of the data and of the splits, and the fold
      sizes: what is needed to reproduce or audit the study;
    - ``report.md``: the report in Markdown, with its figures in ``plots/``;
    - ``report.html``: the same report as one self-contained file, the figures
      embedded as PNG data URIs and no external resource.

    %(fitted_study)s

    path : str or path-like
        The folder to write into; created, with its parents, if needed.
        Files that an earlier report wrote there (listed in its
        ``manifest.json``) are replaced, or deleted when this study has no
        such file; any other file is left alone, and a file of a report's
        name that no report wrote is refused (``FileExistsError``).

    Returns
    -------
    folder : pathlib.Path
        The folder written.
    """
    check_is_fitted(study, "summary_")
    folder = Path(path)
    owned = _files_of_earlier_report(folder)
    figures = _render_figures(study)
    external = getattr(study, "external_", None)
    extra_tables = {
        name: table
        for name, table in (
            ("subgroups.csv", optional_table(study, "subgroup_scores_")),
            ("decision_curves.csv", optional_table(study, "decision_curve_")),
            ("learning_curve.csv", optional_table(study, "learning_curve_")),
            ("robustness.csv", optional_table(study, "robustness_")),
        )
        if table is not None
    }
    blocks = _report_blocks(study, figures)
    planned = [
        *_TABLES,
        *(["external.csv"] if external is not None else []),
        *extra_tables,
        _CHECKLIST,
        *_DOCUMENTS,
        *(f"plots/{name}.png" for name in figures or {}),
    ]
    # Replace only what an earlier report wrote: a user's own file of the
    # same name is refused, never overwritten.
    foreign = [
        name for name in planned if (folder / name).exists() and name not in owned
    ]
    if foreign:
        raise FileExistsError(
            f"{folder / foreign[0]} exists and was not written by a skfusion "
            "report (no manifest.json of one lists it); the report would "
            "replace it. Write the report into another folder, or move the file."
        )
    folder.mkdir(parents=True, exist_ok=True)

    _results_table(study).to_csv(folder / "results.csv", index_label="strategy")
    study.fold_scores_.to_csv(folder / "folds.csv", index=False)
    if external is not None:
        _external_results(external).to_csv(
            folder / "external.csv", index_label="strategy"
        )
    for name, table in extra_tables.items():
        table.to_csv(folder / name, index=False)
    tripod_checklist(_sections(blocks)).to_csv(folder / _CHECKLIST, index=False)
    manifest = _jsonable({**_manifest(study), "files": sorted(planned)})
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    if figures is not None:
        (folder / "plots").mkdir(exist_ok=True)
        for name, (_, png) in figures.items():
            (folder / "plots" / f"{name}.png").write_bytes(png)
    # What an earlier report wrote and this one does not (its external
    # validation, a ROC curve after a binary study) must not be left next to
    # this one; nothing else is deleted.
    for name in sorted(owned - set(planned)):
        (folder / name).unlink(missing_ok=True)

    title = "Fusion study report"
    (folder / "report.md").write_text(
        _to_markdown(title, blocks, figures or {}), encoding="utf-8"
    )
    (folder / "report.html").write_text(
        _to_html(title, blocks, figures or {}), encoding="utf-8"
    )
    return folder


def _results_table(study):
    """One row per strategy: the columns of ``summary_``, then ``comparison_``'s."""
    return _joined(study.summary_, study.comparison_)


def _joined(summary, comparison):
    """A summary's columns, then the comparison's that it does not have."""
    comparison = comparison.drop(
        columns=summary.columns.intersection(comparison.columns)
    )
    results = summary.join(comparison)
    results.index.name = "strategy"
    return results


def _external_results(external):
    """One row per refitted strategy: its cohort scores, then the comparison."""
    return _joined(external.summary, external.comparison)


def _manifest(study):
    """What produced a study, as nested dicts and lists for :func:`_jsonable`."""
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in _VERSIONED:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None

    params = study.get_params(deep=False)
    params["modalities"] = [
        [name, _describe(transformer), columns]
        for name, transformer, columns in params["modalities"]
    ]
    if isinstance(params.get("strategies"), dict):
        params["strategies"] = {
            name: (
                [_describe(spec[0]), list(spec[1])]
                if isinstance(spec, tuple)
                else _describe(spec)
            )
            for name, spec in params["strategies"].items()
        }
    params = {key: _describe(value) for key, value in params.items()}

    return {
        "versions": versions,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task": study.task_,
        "target_name": study.target_name_,
        "classes": None if study.classes_ is None else list(study.classes_),
        "pos_label": getattr(study, "pos_label_", None),
        "target_counts": (
            None
            if study.target_counts_ is None
            else {str(k): v for k, v in study.target_counts_.items()}
        ),
        "modalities": list(study.modality_names_),
        "metrics": list(study.metrics_),
        "primary_metric": study.primary_metric_,
        "params": params,
        # The guideline of the checklist the report writes (tripod_checklist.csv).
        "reporting_guideline": GUIDELINE,
        "strategies": [
            {
                "name": name,
                "kind": study.strategy_kinds_[name],
                "modalities": list(study.strategy_modalities_[name]),
                "estimator": repr(estimator),
            }
            for name, estimator in study.strategies_.items()
        ],
        "best_unimodal": study.best_unimodal_,
        "contribution_strategy": study.contribution_strategy_,
        "bootstrap": getattr(study, "bootstrap_", None),
        "threshold": getattr(study, "threshold_", None),
        "random_state": params.get("random_state"),
        "fold_seeds": list(study.fold_seeds_),
        "splits_hash": study.splits_hash_,
        "data_hash": study.data_hash_,
        "n_samples": study.n_samples_,
        "n_groups": study.n_groups_,
        "folds": [
            {
                "repeat": repeat,
                "fold": fold,
                "n_train": len(train),
                "n_test": len(test),
            }
            for (repeat, fold), (train, test) in zip(
                study.split_ids_, study.splits_, strict=True
            )
        ],
        "timings": getattr(study, "timings_", None),
        "best_strategy": getattr(study, "best_strategy_", None),
        "refitted": list(getattr(study, "estimators_", {}) or {}),
        "external": _external_manifest(getattr(study, "external_", None)),
        "notes": list(study.notes_),
    }


def _external_manifest(external):
    """The external cohort a study was validated on, or None."""
    if external is None:
        return None
    return {
        "n_samples": external.n_samples,
        "n_groups": external.n_groups,
        "data_hash": external.data_hash,
        "bootstrap": external.bootstrap,
    }


def _describe(value):
    """A parameter value as JSON-friendly data; estimators and objects by repr."""
    if value is None or isinstance(value, str | bool | numbers.Number | np.generic):
        return value
    if isinstance(value, list | tuple):
        return [_describe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _describe(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _jsonable(value):
    """Plain JSON values: numpy scalars unwrapped, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


# Figures -------------------------------------------------------------------


def _render_figures(study):
    """PNG bytes of every applicable figure; None without matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    from ._plots import (
        plot_calibration,
        plot_contributions,
        plot_decision_curves,
        plot_fold_scores,
        plot_label_scores,
        plot_learning_curve,
        plot_missingness,
        plot_robustness,
        plot_roc_curves,
        plot_survival_groups,
    )

    plots = {
        "fold_scores": plot_fold_scores,
        "roc": plot_roc_curves,
        "calibration": plot_calibration,
        "decision_curves": plot_decision_curves,
        "learning_curve": plot_learning_curve,
        "robustness": plot_robustness,
        "survival_groups": plot_survival_groups,
        "labels": plot_label_scores,
        "contributions": plot_contributions,
        "missingness": plot_missingness,
    }
    figures = {}
    for name, title in _FIGURES:
        fig = plots[name](study)
        if fig is None:
            continue
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=_DPI)
        figures[name] = (title, buffer.getvalue())
    return figures


# Formatting ----------------------------------------------------------------


def _score(value):
    return "–" if value is None or pd.isna(value) else f"{value:.3f}"


def _p_value(value):
    if value is None or pd.isna(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _percent(value):
    return f"{value:.1f}%"


def _short_hash(value):
    return f"{value[:12]}…" if isinstance(value, str) and len(value) > 12 else value


# Content -------------------------------------------------------------------
#
# The report is a list of blocks rendered twice, to Markdown and to HTML:
# ("h2", text), ("p", text), ("list", [text, ...]), ("table", DataFrame of
# str), ("figure", name) and ("note", text).


def _report_blocks(study, figures):
    primary = study.primary_metric_
    blocks = []
    if figures is None:
        blocks.append(("note", _NO_MATPLOTLIB))

    def figure(name):
        if figures is not None and name in figures:
            blocks.append(("figure", name))

    blocks += _cohort_blocks(study)

    blocks.append(("h2", "Missing modalities"))
    blocks += _missingness_blocks(study)
    figure("missingness")

    blocks.append(("h2", "Comparison of strategies"))
    single = len(study.splits_) == 1
    reference = study.best_unimodal_
    if single and _has_pooled(study):
        text = (
            f"Primary metric: {primary} (greater is better), on the test rows of "
            "the single split. "
        )
    else:
        text = (
            f"Primary metric: {primary} (greater is better), mean over folds "
            "with a bootstrap 95% confidence interval of the fold scores. "
        )
    text += _pooled_text(study, single)
    text += decision_rule_sentence(
        study.strategies_, task_named(study.task_), study.pos_label_
    )
    if reference is None:
        text += " No single-modality strategy, so no reference to compare to."
    else:
        text += (
            f" Reference: {reference}, the best single-modality strategy. p vs "
            "reference: corrected resampled t-test (Nadeau and Bengio) on the "
            "fold scores"
            + (", not applicable to a single split (–)." if single else ".")
        )
        if task_named(study.task_).delong:
            text += (
                " DeLong p: DeLong test of the AUCs of the pooled out-of-fold "
                "probabilities of the first repeat."
            )
    blocks.append(("p", text))
    blocks.append(("table", _comparison_table(study)))
    rates = _rates_table(study)
    if rates is not None:
        blocks.append(
            (
                "p",
                "Sensitivity and specificity of the pooled out-of-fold "
                "predicted labels, each strategy's rows called "
                f"{study.pos_label_} by its own decision rule (stated above; "
                "their mean is the balanced accuracy), with subject-bootstrap "
                f"{_confidence(study)} intervals:",
            )
        )
        blocks.append(("table", rates))
    if len(study.metrics_) > 1:
        # One split has one score per metric: the pooled one, on its test rows.
        if not (single and _has_pooled(study)):
            blocks.append(("p", "All metrics, mean ± standard deviation over folds:"))
            blocks.append(("table", _metrics_table(study)))
        if _has_pooled(study):
            where = (
                "the test rows of the single split"
                if single
                else "the pooled out-of-fold predictions"
            )
            blocks.append(
                (
                    "p",
                    f"All metrics on {where}, with subject-bootstrap "
                    f"{_confidence(study)} intervals:",
                )
            )
            blocks.append(("table", _pooled_metrics_table(study)))
    note = task_named(study.task_).metric_note(StudyResults.from_study(study))
    if note is not None:
        blocks.append(("p", note))
    figure("fold_scores")
    figure("roc")
    figure("calibration")
    blocks += _decision_curve_blocks(study, figure)
    blocks += _subgroup_blocks(study)
    blocks += _learning_curve_blocks(study, figure)
    blocks += _robustness_blocks(study, figure)
    figure("survival_groups")

    if getattr(study, "label_scores_", None) is not None:
        blocks.append(("h2", "Scores by label"))
        blocks += _label_blocks(study)
        figure("labels")

    blocks.append(("h2", "Scores by availability pattern"))
    blocks += _pattern_score_blocks(study)

    blocks.append(("h2", "Modality contributions"))
    blocks += _contribution_blocks(study)
    figure("contributions")

    if getattr(study, "external_", None) is not None:
        blocks.append(("h2", "External validation"))
        blocks += _external_blocks(study)

    timings = getattr(study, "timings_", None)
    if timings:
        blocks.append(("h2", "Time"))
        blocks.append(
            (
                "p",
                "Wall-clock seconds of each stage of the study; the fit time of "
                "each strategy (mean per fold) is in the comparison table.",
            )
        )
        blocks.append(("table", _timings_table(timings)))

    blocks.append(("h2", "Notes"))
    blocks.append(("list", list(study.notes_) or ["None."]))
    return blocks + _checklist_blocks(blocks)


def _sections(blocks):
    """The report's section headings, and the manifest every report writes."""
    return [text for kind, text in blocks if kind == "h2"] + ["manifest.json"]


def _checklist_blocks(blocks):
    """The TRIPOD+AI checklist: where the report answers each item."""
    checklist = tripod_checklist(_sections(blocks))
    counts = checklist["status"].value_counts()
    return [
        ("h2", "TRIPOD+AI checklist"),
        (
            "p",
            f"Where this report answers each item of {GUIDELINE}, the "
            "reporting guideline for studies that develop or evaluate a "
            "prediction model with machine learning, and what the author must "
            f"add: {counts.get('reported', 0)} reported, "
            f"{counts.get('partly reported', 0)} partly, "
            f"{counts.get('not reported', 0)} not reported (the items on the "
            "setting, ethics and discussion are the author's). The same table "
            f"is in {_CHECKLIST}.",
        ),
        ("table", checklist.astype(str)),
    ]


def _timings_table(timings):
    return pd.DataFrame(
        {
            "stage": list(timings),
            "seconds": [f"{seconds:.1f}" for seconds in timings.values()],
        }
    )


def _evaluation_fact(study):
    """How the strategies were evaluated: folds and repeats, or one split."""
    if len(study.splits_) == 1:
        train, test = study.splits_[0]
        return (
            f"Evaluation: a single train/test split ({len(train)} training rows, "
            f"{len(test)} test rows); statistics that need several folds are "
            "not applicable"
        )
    n_repeats = len(study.fold_seeds_)
    n_folds = len(study.splits_) // max(n_repeats, 1)
    return (
        f"Cross-validation: {n_folds} folds × {n_repeats} repeat(s); fold seeds "
        + ", ".join(str(seed) for seed in study.fold_seeds_)
    )


def _cohort_blocks(study):
    facts = [
        f"Task: {_TASKS.get(study.task_, study.task_)}"
        + (f" of {study.target_name_}" if study.target_name_ else "")
        + (
            f"; positive class: {study.pos_label_}"
            if getattr(study, "pos_label_", None) is not None
            else ""
        ),
        f"Samples: {study.n_samples_}",
        "Groups: "
        + (
            f"{study.n_groups_} (kept whole within folds)"
            if study.n_groups_ is not None
            else "none (rows treated as independent)"
        ),
        f"Modalities: {', '.join(study.modality_names_)}",
        f"Metrics: {', '.join(study.metrics_)} (primary: {study.primary_metric_})",
        _evaluation_fact(study),
        f"Data hash: {_short_hash(study.data_hash_)}; splits hash: "
        f"{_short_hash(study.splits_hash_)} (full values in manifest.json)",
    ]
    blocks = [("h2", "Cohort"), ("list", facts)]
    caption = task_named(study.task_).counts_caption
    if caption is not None and study.target_counts_:
        heading, columns = caption
        counts = pd.DataFrame(
            [
                [str(label), str(count), _percent(100 * count / study.n_samples_)]
                for label, count in study.target_counts_.items()
            ],
            columns=list(columns),
        )
        blocks += [("p", heading), ("table", counts)]
    return blocks


def _missingness_blocks(study):
    from ._analysis import modality_presence, pattern_counts, tested_availability

    availability = tested_availability(study)
    presence = modality_presence(availability)
    presence_table = pd.DataFrame(
        {
            "modality": presence.index.astype(str),
            "present": presence["n_present"].astype(str).to_numpy(),
            "% present": presence["pct_present"].map(_percent).to_numpy(),
        }
    )
    counts = pattern_counts(availability)
    pattern_table = pd.DataFrame(
        {
            "availability pattern": counts.index.astype(str),
            "samples": counts["n_samples"].astype(str).to_numpy(),
            "share": counts["pct_samples"].map(_percent).to_numpy(),
        }
    )
    blocks = []
    untested = study.n_samples_ - len(availability)
    if untested:
        blocks.append(
            (
                "p",
                f"The {len(availability)} tested rows; the {untested} rows no "
                "split tests (training rows only) are not shown.",
            )
        )
    return [
        *blocks,
        ("table", presence_table),
        ("p", "Rows by the set of modalities they have:"),
        ("table", pattern_table),
    ]


def _has_pooled(study):
    """Whether the study has pooled metrics (a study pickled before may not)."""
    return f"{study.primary_metric_}_pooled" in study.summary_.columns


def _confidence(study):
    bootstrap = getattr(study, "bootstrap_", None) or {}
    return f"{100 * bootstrap.get('confidence', 0.95):g}%"


def _pooled_text(study, single):
    """What the pooled column is and how its interval was resampled."""
    bootstrap = getattr(study, "bootstrap_", None)
    if not _has_pooled(study) or bootstrap is None:
        return ""
    unit = "groups" if bootstrap["resampled"] == "groups" else "subjects (rows)"
    resamples = (
        f"percentile {_confidence(study)} interval of {bootstrap['n_resamples']} "
        f"bootstrap resamples of the {bootstrap['n_resampled']} tested {unit}, "
        f"the same resamples for every strategy (seed {bootstrap['random_state']})"
    )
    if single:
        return f"Confidence interval: {resamples}."
    repeats = " (mean over repeats)" if len(study.fold_seeds_) > 1 else ""
    return (
        "Pooled: the metric on the out-of-fold predictions of all tested rows "
        f"at once{repeats}, with a {resamples}."
    )


def _scored(row, estimate):
    """``estimate [low, high]`` of a row with ``low`` and ``high`` columns."""
    return f"{_score(row[estimate])} [{_score(row['low'])}, {_score(row['high'])}]"


def _with_interval(row, estimate, stem):
    return (
        f"{_score(row[estimate])} "
        f"[{_score(row[f'{stem}_low'])}, {_score(row[f'{stem}_high'])}]"
    )


def _comparison_table(study):
    primary = study.primary_metric_
    results = _results_table(study)
    compared = study.best_unimodal_ is not None
    task = task_named(study.task_)
    binary = task.delong
    # Columns a task's resampled comparison adds (Harrell's C of a survival study).
    c_difference = "c_difference" in results.columns
    pooled = _has_pooled(study)
    single = len(study.splits_) == 1
    confidence = _confidence(study)
    rows = []
    for name, row in results.iterrows():
        is_reference = name == study.best_unimodal_
        cells = {
            "strategy": str(name),
            "kind": str(row["kind"]),
            "modalities": str(row["modalities"]),
        }
        # One split: the fold score is the pooled one, and only the subject
        # bootstrap gives an interval.
        if single and pooled:
            cells[f"{primary} [{confidence} CI]"] = _with_interval(
                row, f"{primary}_pooled", f"{primary}_boot"
            )
        else:
            cells[f"{primary} [95% CI]"] = _with_interval(
                row, f"{primary}_mean", f"{primary}_ci"
            )
        if pooled and not single:
            cells[f"pooled [{confidence} CI]"] = _with_interval(
                row, f"{primary}_pooled", f"{primary}_boot"
            )
        if compared:
            cells["difference"] = "–" if is_reference else _score(row["difference"])
            cells["p vs reference"] = (
                "reference" if is_reference else _p_value(row["p_value"])
            )
        if compared and binary:
            cells["DeLong p"] = (
                "reference" if is_reference else _p_value(row["delong_p_value"])
            )
        if compared and c_difference:
            cells[f"C difference [{confidence} CI]"] = (
                "–"
                if is_reference
                else _with_interval(row, "c_difference", "c_difference")
            )
            cells["bootstrap p"] = (
                "reference" if is_reference else _p_value(row["bootstrap_p_value"])
            )
        if task.scores_brier:
            cells["Brier"] = _score(row.get("brier"))
        cells["fit time (s)"] = _score(row.get("fit_time"))
        rows.append(cells)
    return pd.DataFrame(rows)


def _metrics_table(study):
    summary = study.summary_
    table = pd.DataFrame({"strategy": summary.index.astype(str)})
    for metric in study.metrics_:
        table[metric] = [
            f"{_score(mean)} ± {_score(std)}"
            for mean, std in zip(
                summary[f"{metric}_mean"], summary[f"{metric}_std"], strict=True
            )
        ]
    return table


def _pooled_metrics_table(study):
    summary = study.summary_
    table = pd.DataFrame({"strategy": summary.index.astype(str)})
    for metric in study.metrics_:
        table[metric] = [
            _with_interval(row, f"{metric}_pooled", f"{metric}_boot")
            for _, row in summary.iterrows()
        ]
    return table


def _rates_table(study):
    """Sensitivity and specificity with their intervals; None unless binary."""
    summary = study.summary_
    rates = task_named(study.task_).rates
    if not rates or rates[0] not in summary.columns:
        return None
    confidence = _confidence(study)
    table = pd.DataFrame({"strategy": summary.index.astype(str)})
    for rate in rates:
        table[f"{rate} [{confidence} CI]"] = [
            _with_interval(row, rate, f"{rate}_boot") for _, row in summary.iterrows()
        ]
    return table


# Thresholds the report's decision-curve table shows, where the study has them.
_DECISION_TABLE_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5)


def _decision_curve_blocks(study, figure):
    """Decision curves: a sentence a clinician can read, the figure, a table."""
    curve = optional_table(study, "decision_curve_")
    if curve is None:
        return []
    blocks = [
        ("h2", "Decision curves"),
        (
            "p",
            "Is acting on the model worth it? At a threshold probability t (the "
            "risk from which one would treat, so that one true positive is "
            "worth t / (1 − t) false positives), the net benefit counts the "
            "true positives per patient minus the false positives weighted by "
            "that ratio. A strategy is useful at the thresholds where its curve "
            'lies above both "treat all" and "treat none" (0). From the '
            "pooled out-of-fold probabilities of the first repeat, with "
            f"subject-bootstrap {_confidence(study)} bands; the table shows "
            "selected thresholds.",
        ),
    ]
    figure("decision_curves")
    shown = [t for t in _DECISION_TABLE_THRESHOLDS if t in set(curve["threshold"])]
    if not shown:
        shown = sorted(curve["threshold"].unique())[:5]
    rows = []
    for name in curve["strategy"].unique():
        own = curve[curve["strategy"] == name].set_index("threshold")
        cells = {"strategy": str(name)}
        for t in shown:
            row = own.loc[t]
            band = f" [{_score(row['low'])}, {_score(row['high'])}]"
            cells[f"t = {100 * t:g}%"] = _score(row["net_benefit"]) + (
                band if row["low"] != row["high"] else ""
            )
        rows.append(cells)
    blocks.append(("table", pd.DataFrame(rows)))
    return blocks


def _subgroup_blocks(study):
    """Scores per subgroup level and the largest gap of each strategy."""
    scores = optional_table(study, "subgroup_scores_")
    if scores is None:
        return []
    primary = study.primary_metric_
    confidence = _confidence(study)
    blocks = [
        ("h2", "Subgroups"),
        (
            "p",
            "Does it work for everyone? Each strategy's "
            f"{primary} on the pooled out-of-fold predictions of each level, "
            f"with subject-bootstrap {confidence} intervals; a numeric column "
            "is cut into three bands at its tertiles, and a level of fewer "
            "than 10 tested rows is named but not scored (–). Every metric "
            "per level is in subgroups.csv.",
        ),
    ]
    own = scores[scores["metric"] == primary]
    for column, part in own.groupby("subgroup", sort=False):
        rows = []
        for name in study.strategies_:
            cells = {"strategy": str(name)}
            for (level, n), level_rows in part.groupby(
                ["level", "n_samples"], sort=False
            ):
                row = level_rows[level_rows["strategy"] == name].iloc[0]
                cells[f"{level} (n={n})"] = _scored(row, "score")
            rows.append(cells)
        blocks += [("p", f"By {column}:"), ("table", pd.DataFrame(rows))]
    calibration = optional_table(study, "subgroup_calibration_")
    if calibration is not None:
        blocks.append(
            (
                "p",
                "Calibration in the large per level: observed share of "
                f"{study.pos_label_} over the mean predicted probability (1 is "
                "calibrated; above 1 the model underestimates the risk in that "
                "level):",
            )
        )
        for column, part in calibration.groupby("subgroup", sort=False):
            table = part.pivot_table(
                index="strategy", columns="level", values="ratio", sort=False
            )
            table = table.map(_score).reset_index()
            table.columns = [str(c) for c in table.columns]
            blocks += [("p", f"By {column}:"), ("table", table)]
    gaps = optional_table(study, "subgroup_gaps_")
    if gaps is not None:
        blocks.append(
            (
                "p",
                f"Largest gap of {primary} between two levels (best minus "
                f"worst), with its bootstrap {confidence} interval and the "
                "bootstrap p-value of no gap; the two levels are the ones with "
                "the extreme scores, so a small p-value is a prompt to look "
                "closer rather than proof of a difference:",
            )
        )
        table = pd.DataFrame(
            {
                "subgroup": gaps["subgroup"].astype(str),
                "strategy": gaps["strategy"].astype(str),
                "levels": gaps["best_level"] + " − " + gaps["worst_level"],
                f"gap [{confidence} CI]": [
                    _scored(row, "gap") for _, row in gaps.iterrows()
                ],
                "p": [_p_value(p) for p in gaps["p_value"]],
            }
        )
        blocks.append(("table", table))
    return blocks


def _learning_curve_blocks(study, figure):
    """Scores on shares of the training rows: a sentence, the figure, a table."""
    curve = optional_table(study, "learning_curve_")
    if curve is None:
        return []
    blocks = [
        ("h2", "Learning curve"),
        (
            "p",
            "Would more patients help? Each strategy refitted on 10, 25, 50 and "
            "75 % of each fold's training rows (whole groups; every class kept) "
            f"and scored on the same test rows; 100 % is the study's own "
            f"{study.primary_metric_}. A curve still rising at 100 % suggests "
            "that more data would improve the model. Mean ± standard deviation "
            "over the folds, and the mean training rows per fold:",
        ),
    ]
    figure("learning_curve")
    points = curve.groupby(["strategy", "fraction"], sort=False)
    summary = points.agg(
        n_train=("n_train", "mean"), mean=("score", "mean"), sd=("score", "std")
    )
    rows = []
    for name in curve["strategy"].unique():
        cells = {"strategy": str(name)}
        for fraction, row in summary.loc[name].iterrows():
            cells[f"{fraction:.0%} (n≈{row['n_train']:.0f})"] = (
                f"{_score(row['mean'])} ± {_score(row['sd'])}"
            )
        rows.append(cells)
    blocks.append(("table", pd.DataFrame(rows)))
    return blocks


def _robustness_blocks(study, figure):
    """Scores with a modality withheld or noisy: a sentence, the figure, a table."""
    from ._robustness import NOISE_LEVELS, effective_robustness

    curves = optional_table(study, "robustness_")
    if curves is None:
        return []
    primary = study.primary_metric_
    blocks = [
        ("h2", "Robustness to a missing or degraded modality"),
        (
            "p",
            "What happens in the clinic when a modality is missing or poor? "
            "Each strategy's fitted fold models (no refit) predict their test "
            "rows again with one modality withheld from 25, 50, 75 and 100 % of "
            "the rows, or its values degraded by Gaussian noise of "
            f"{', '.join(f'{level:g}' for level in NOISE_LEVELS)} training "
            f"standard deviations. A flat curve degrades gracefully. The table "
            f"gives the clean {primary}, the score without the modality in any "
            "test row, and the area under the curve relative to the clean "
            "score (1: withholding the modality costs nothing).",
        ),
    ]
    figure("robustness")
    summary = effective_robustness(curves)
    noise = curves[curves["perturbation"] == "noise"]
    strongest = noise[noise["level"] == noise["level"].max()]
    noisy = strongest.groupby(["strategy", "modality"], sort=False)["score"].mean()
    table = pd.DataFrame(
        {
            "strategy": summary["strategy"].astype(str),
            "modality": summary["modality"].astype(str),
            primary: summary["clean"].map(_score),
            "without it": summary["at_100"].map(_score),
            "relative area": summary["relative_area"].map(_score),
            f"noise {noise['level'].max():g} sd": [
                _score(noisy.get((name, modality)))
                for name, modality in zip(
                    summary["strategy"], summary["modality"], strict=True
                )
            ],
        }
    )
    blocks.append(("table", table))
    return blocks


def _pattern_score_blocks(study):
    scores = study.availability_scores_
    if scores is None or scores.empty:
        return [("p", "No scores by availability pattern.")]
    scores = scores[scores["metric"] == study.primary_metric_]
    # Most frequent pattern first, as in the missingness table.
    sizes = (
        scores.groupby("pattern", sort=False)["n_samples"]
        .first()
        .sort_values(ascending=False, kind="stable")
    )
    table = scores.pivot_table(
        index="strategy", columns="pattern", values="score", dropna=False, sort=False
    )
    table = table.reindex(
        [name for name in study.strategies_ if name in table.index]
    ).reindex(columns=sizes.index)
    shown = pd.DataFrame({"strategy": table.index.astype(str)})
    for pattern in table.columns:
        shown[f"{pattern} (n={int(sizes[pattern])})"] = (
            table[pattern].map(_score).to_numpy()
        )
    return [
        (
            "p",
            f"{study.primary_metric_} on the pooled out-of-fold predictions of the "
            "rows with each set of modalities, mean over repeats; – where the "
            "metric is undefined (e.g. a single class).",
        ),
        ("table", shown),
    ]


def _external_blocks(study):
    """The refitted strategies on the external cohort: scores, DeLong, patterns."""
    external = study.external_
    results = _external_results(external)
    primary = study.primary_metric_
    bootstrap = external.bootstrap
    confidence = f"{100 * bootstrap['confidence']:g}%"
    unit = "groups" if bootstrap["resampled"] == "groups" else "subjects (rows)"
    reference = study.best_unimodal_ if study.best_unimodal_ in results.index else None
    task = task_named(study.task_)
    binary = task.delong
    text = (
        f"The strategies refitted on every row of the study, scored on an "
        f"external cohort of {external.n_samples} rows"
        + (f" ({external.n_groups} groups)" if external.n_groups else "")
        + f". Each metric on all its rows, with a percentile {confidence} "
        f"interval of {bootstrap['n_resamples']} bootstrap resamples of the "
        f"{bootstrap['n_resampled']} {unit} (seed {bootstrap['random_state']})."
    )
    if reference is not None:
        text += f" Difference: {primary} minus the reference's ({reference})."
        if binary:
            text += " DeLong p: DeLong test of the two AUCs on the cohort."
    rows = []
    for name, row in results.iterrows():
        cells = {
            "strategy": str(name),
            "kind": str(row["kind"]),
            "modalities": str(row["modalities"]),
            f"{primary} [{confidence} CI]": _with_interval(
                row, primary, f"{primary}_boot"
            ),
        }
        if reference is not None:
            is_reference = name == reference
            cells["difference"] = "–" if is_reference else _score(row["difference"])
            if binary:
                cells["DeLong p"] = (
                    "reference" if is_reference else _p_value(row["delong_p_value"])
                )
        if task.scores_brier:
            cells["Brier"] = _score(row.get("brier"))
        rows.append(cells)
    blocks = [("p", text), ("table", pd.DataFrame(rows))]
    if len(study.metrics_) > 1:
        table = pd.DataFrame({"strategy": results.index.astype(str)})
        for metric in study.metrics_:
            table[metric] = [
                _with_interval(row, metric, f"{metric}_boot")
                for _, row in results.iterrows()
            ]
        blocks += [
            ("p", f"All metrics on the cohort, {confidence} CI:"),
            ("table", table),
        ]
    if binary and "sensitivity" in results.columns:
        table = pd.DataFrame({"strategy": results.index.astype(str)})
        for rate in ("sensitivity", "specificity"):
            table[f"{rate} [{confidence} CI]"] = [
                _with_interval(row, rate, f"{rate}_boot")
                for _, row in results.iterrows()
            ]
        blocks += [
            (
                "p",
                "Sensitivity and specificity of the predicted labels, each "
                "strategy's own decision rule:",
            ),
            ("table", table),
        ]
    scores = external.availability_scores
    if scores is not None and not scores.empty:
        table = scores.pivot_table(
            index="strategy",
            columns="pattern",
            values="score",
            dropna=False,
            sort=False,
        ).reindex(list(results.index))
        sizes = scores.groupby("pattern", sort=False)["n_samples"].first()
        shown = pd.DataFrame({"strategy": table.index.astype(str)})
        for pattern in sizes.sort_values(ascending=False, kind="stable").index:
            shown[f"{pattern} (n={int(sizes[pattern])})"] = (
                table[pattern].map(_score).to_numpy()
            )
        blocks += [
            (
                "p",
                f"{primary} on the cohort's rows with each set of modalities; – "
                "where the metric is undefined (e.g. a single class).",
            ),
            ("table", shown),
        ]
    return blocks


def _label_blocks(study):
    """Each strategy's ROC AUC and average precision of each label."""
    scores = study.label_scores_
    table = pd.DataFrame({"strategy": list(study.strategies_)})
    for label in study.classes_:
        own = scores[scores["label"] == label].set_index("strategy")
        n_positive = int(own["n_positive"].iloc[0])
        table[f"{label} (n={n_positive}) AUC / AP"] = [
            f"{_score(own.loc[name, 'roc_auc'])} / "
            f"{_score(own.loc[name, 'average_precision'])}"
            for name in study.strategies_
        ]
    return [
        (
            "p",
            "ROC AUC and average precision of each label's probabilities on "
            "the pooled out-of-fold rows (mean over repeats); n: tested rows "
            "with the label.",
        ),
        ("table", table),
    ]


def _contribution_blocks(study):
    contributions = study.contributions_
    if contributions is None or contributions.empty:
        return [("p", "Contributions were not computed for this study.")]
    table = pd.DataFrame({"modality": contributions.index.astype(str)})
    table["Shapley value"] = contributions["shapley"].map(_score).to_numpy()
    table["ablation drop"] = contributions["ablation"].map(_score).to_numpy()
    table["permutation importance"] = [
        "–" if pd.isna(mean) else f"{mean:.3f} ± {_score(std)}"
        for mean, std in zip(
            contributions["importance_mean"],
            contributions["importance_std"],
            strict=True,
        )
    ]
    return [
        (
            "p",
            f"Contribution of each modality to {study.primary_metric_} in "
            f"{study.contribution_strategy_}: Shapley value over all modality "
            "subsets, drop when the modality is left out (ablation), and "
            "permutation importance of the modality block on the test folds.",
        ),
        ("table", table),
    ]


# Rendering -----------------------------------------------------------------


def _markdown_cell(text):
    return str(text).replace("|", r"\|").replace("\n", " ")


def _to_markdown(title, blocks, figures):
    lines = [f"# {title}", ""]
    for kind, content in blocks:
        if kind == "h2":
            lines += [f"## {content}", ""]
        elif kind == "p":
            lines += [content, ""]
        elif kind == "note":
            lines += [f"> **Note:** {content}", ""]
        elif kind == "list":
            lines += [f"- {item}" for item in content] + [""]
        elif kind == "table":
            header = [_markdown_cell(column) for column in content.columns]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join(["---"] * len(header)) + "|")
            for row in content.itertuples(index=False):
                lines.append("| " + " | ".join(_markdown_cell(c) for c in row) + " |")
            lines.append("")
        elif kind == "figure":
            lines += [f"![{figures[content][0]}](plots/{content}.png)", ""]
    return "\n".join(lines)


def _to_html(title, blocks, figures):
    escape = html.escape
    body = [f"<h1>{escape(title)}</h1>"]
    for kind, content in blocks:
        if kind == "h2":
            body.append(f"<h2>{escape(content)}</h2>")
        elif kind == "p":
            body.append(f"<p>{escape(content)}</p>")
        elif kind == "note":
            body.append(f'<p class="note">{escape(content)}</p>')
        elif kind == "list":
            items = "".join(f"<li>{escape(str(item))}</li>" for item in content)
            body.append(f"<ul>{items}</ul>")
        elif kind == "table":
            body.append(content.to_html(index=False, escape=True, border=0))
        elif kind == "figure":
            caption, png = figures[content]
            data = base64.b64encode(png).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" '
                f'alt="{escape(caption)}"><figcaption>{escape(caption)}'
                "</figcaption></figure>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
