"""Figures of a fitted :class:`~skfusion.study.FusionStudy`.

Every function builds a :class:`matplotlib.figure.Figure` directly, never
through :mod:`matplotlib.pyplot`: no global figure registry, no interactive
backend, so the figures are safe to make in threads and on headless machines,
and they need no closing (dropping the reference frees them). matplotlib is
imported on first use, so this module imports without it.
"""

import inspect

import numpy as np
from sklearn.metrics import auc, roc_curve

from ..utils._docstrings import fill_docstring
from ._analysis import modality_presence, pattern_counts, tested_availability
from ._results import StudyResults, optional_table
from ._task import task_named


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _horizontal(boxplot):
    # matplotlib 3.10 replaced ``vert`` by ``orientation`` and deprecates
    # ``vert``; the report extra supports older versions too.
    if "orientation" in inspect.signature(boxplot).parameters:
        return {"orientation": "horizontal"}
    return {"vert": False}


@fill_docstring
def plot_fold_scores(study, metric=None):
    """Box plot of the per-fold scores of every strategy.

    One horizontal box per strategy, in report order from top to bottom. The
    best unimodal strategy, the reference of the comparison, is drawn in
    another colour and its mean marked by a dashed line.

    %(fitted_study)s

    metric : str, default=None
        The metric to show; the study's primary metric when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    metric = study.primary_metric_ if metric is None else metric
    scores = study.fold_scores_[study.fold_scores_["metric"] == metric]
    names = list(study.strategies_)
    data = [
        scores.loc[scores["strategy"] == name, "score"].to_numpy() for name in names
    ]
    reference = study.best_unimodal_

    fig = _figure(7, 1.2 + 0.45 * len(names))
    ax = fig.add_subplot()
    # Reversed so that the first strategy is at the top, as in the tables.
    boxes = ax.boxplot(
        data[::-1],
        patch_artist=True,
        medianprops={"color": "black"},
        **_horizontal(ax.boxplot),
    )
    ax.set_yticks(np.arange(1, len(names) + 1), names[::-1])
    for name, box in zip(names[::-1], boxes["boxes"], strict=True):
        box.set_facecolor("tab:orange" if name == reference else "tab:blue")
        box.set_alpha(0.6)
    if reference is not None:
        mean = np.mean(data[names.index(reference)])
        ax.axvline(
            mean,
            color="tab:orange",
            linestyle="--",
            label=f"reference {reference} (mean {mean:.3f})",
        )
        fig.legend(loc="outside lower center", fontsize="small")
    ax.set_xlabel(f"{metric} per fold (greater is better)")
    ax.set_title("Cross-validated scores")
    ax.grid(axis="x", alpha=0.3)
    return fig


@fill_docstring
def plot_roc_curves(study):
    """ROC curves of the pooled out-of-fold probabilities of the first repeat.

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        The figure; None unless the target is binary and at least one
        strategy predicts probabilities.
    """
    # The target is needed for the curves; a study that does not keep it
    # (``y_``) has no ROC figure, its AUCs are still in ``comparison_``.
    y = getattr(study, "y_", None)
    if not task_named(study.task_).positive_class or y is None:
        return None
    probas = {
        name: proba for name, proba in study.oof_proba_.items() if proba is not None
    }
    if not probas:
        return None
    y = np.asarray(y)
    positive = study.pos_label_
    column = list(study.classes_).index(positive)

    fig = _figure(5.5, 5)
    ax = fig.add_subplot()
    for name, proba in probas.items():
        # Rows no fold predicted (a custom splitter) carry NaN probabilities.
        scored = np.isfinite(proba[0][:, column])
        fpr, tpr, _ = roc_curve(y[scored], proba[0][scored, column], pos_label=positive)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set(
        xlabel="False positive rate",
        ylabel="True positive rate",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
        title=f"ROC curves (out of fold, repeat 0; positive: {positive})",
    )
    ax.legend(loc="lower right", fontsize="small")
    return fig


@fill_docstring
def plot_decision_curves(study):
    """Net benefit against the threshold probability (decision curve analysis).

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        The reference strategy and the best others by primary score (four
        curves at most, every one in ``decision_curve_``) with their
        subject-bootstrap bands, "treat all" and "treat none"; None unless
        the study has decision curves.
    """
    curve = optional_table(study, "decision_curve_")
    if curve is None:
        return None
    from ._clinical import TREAT_ALL, TREAT_NONE

    strategies = [
        name for name in curve["strategy"].unique() if name in study.strategies_
    ]
    shown = _reference_and_best(study, strategies, _MAX_CALIBRATION_CURVES)
    fig = _figure(6, 4.5)
    ax = fig.add_subplot()
    for name in shown:
        own = curve[curve["strategy"] == name]
        (line,) = ax.plot(own["threshold"], own["net_benefit"], label=name)
        ax.fill_between(
            own["threshold"],
            own["low"],
            own["high"],
            color=line.get_color(),
            alpha=0.15,
        )
    for name, style in ((TREAT_ALL, "--"), (TREAT_NONE, ":")):
        own = curve[curve["strategy"] == name]
        ax.plot(own["threshold"], own["net_benefit"], color="grey", linestyle=style,
                label=name)  # fmt: skip
    prevalence = curve.loc[curve["strategy"] == TREAT_ALL, "net_benefit"].max()
    top = max(prevalence, curve.loc[curve["strategy"].isin(shown), "high"].max())
    ax.set(
        xlabel="Threshold probability",
        ylabel="Net benefit",
        ylim=(min(-0.05, -0.1 * prevalence), 1.05 * max(top, 0.01)),
        title="Decision curves (out of fold, repeat 0)",
    )
    ax.legend(fontsize="small")
    return fig


@fill_docstring
def plot_learning_curve(study):
    """Primary score against the training rows of each fold (learning curve).

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        Mean and standard deviation over the folds of each chosen strategy's
        score at each share of the training rows; None without a learning
        curve.
    """
    curve = optional_table(study, "learning_curve_")
    if curve is None:
        return None
    fig = _figure(6, 4.5)
    ax = fig.add_subplot()
    for name, own in curve.groupby("strategy", sort=False):
        points = own.groupby("fraction")[["n_train", "score"]]
        mean, spread = points.mean(), points.std()
        ax.errorbar(mean["n_train"], mean["score"], yerr=spread["score"],
                    marker="o", capsize=3, label=name)  # fmt: skip
    ax.set(
        xlabel="Training rows per fold",
        ylabel=study.primary_metric_,
        title="Learning curve (mean ± sd over folds)",
    )
    ax.legend(fontsize="small")
    return fig


@fill_docstring
def plot_robustness(study):
    """Primary score against the share of test rows without each modality.

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        One panel per modality: each strategy that sees it, mean over the
        folds; None without robustness curves.
    """
    curves = optional_table(study, "robustness_")
    if curves is None:
        return None
    withheld = curves[curves["perturbation"] == "withheld"]
    modalities = list(withheld["modality"].unique())
    fig = _figure(4 * len(modalities), 3.8)
    axes = fig.subplots(1, len(modalities), squeeze=False, sharey=True)[0]
    # One colour per strategy in every panel.
    colours = {name: f"C{k % 10}" for k, name in enumerate(study.strategies_)}
    for ax, modality in zip(axes, modalities, strict=True):
        own = withheld[withheld["modality"] == modality]
        means = own.groupby(["strategy", "level"], sort=False)["score"].mean()
        for name, part in means.groupby(level=0, sort=False):
            ax.plot(part.index.get_level_values("level"), part.to_numpy(),
                    marker="o", color=colours.get(name), label=name)  # fmt: skip
        ax.set(xlabel=f"Share of test rows without {modality}", title=modality)
        ax.legend(fontsize="x-small")
    axes[0].set_ylabel(study.primary_metric_)
    return fig


_MAX_CALIBRATION_CURVES = 4


def _reference_and_best(study, names, limit):
    """The reference strategy first, then the best others by primary score."""
    primary = study.summary_[f"{study.primary_metric_}_mean"]
    ranked = sorted(names, key=lambda name: -primary[name])
    reference = [name for name in names if name == study.best_unimodal_]
    others = [name for name in ranked if name not in reference]
    return reference + others[: limit - len(reference)]


@fill_docstring
def plot_calibration(study):
    """Reliability diagram from the study's calibration tables.

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        The figure, with the reference strategy and the best others by
        primary score (four curves at most; every table is in
        ``calibration_``); None when the study has no calibration table
        (regression, or no strategy predicts probabilities).
    """
    tables = {name: t for name, t in study.calibration_.items() if len(t)}
    if not tables:
        return None
    # Ten overlapping reliability curves are unreadable: keep the reference
    # and the strategies with the best primary score.
    shown = _reference_and_best(study, list(tables), _MAX_CALIBRATION_CURVES)
    tables = {name: tables[name] for name in shown}

    fig = _figure(5.5, 5)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, table in tables.items():
        table = table.dropna(subset=["mean_predicted", "fraction_positive"])
        ax.plot(
            table["mean_predicted"],
            table["fraction_positive"],
            marker="o",
            markersize=4,
            label=name,
        )
    xlabel, ylabel = task_named(study.task_).calibration_axes(
        study.pos_label_, getattr(study, "horizons_", None)
    )
    ax.set(
        xlabel=xlabel,
        ylabel=ylabel,
        xlim=(0, 1),
        ylim=(0, 1),
        aspect="equal",
        title="Calibration (out of fold, repeat 0; reference and best others)",
    )
    ax.legend(loc="upper left", fontsize="small")
    return fig


@fill_docstring
def plot_contributions(study):
    """Bar chart of the contribution of each modality.

    Groups the Shapley value and the ablation drop of each modality, and the
    block permutation importance (mean ± standard deviation) where the study
    computed it.

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        The figure; None when the study skipped the contributions.
    """
    contributions = study.contributions_
    if contributions is None or contributions.empty:
        return None
    bars = [
        ("Shapley value", contributions["shapley"], None),
        ("ablation (drop without it)", contributions["ablation"], None),
    ]
    if contributions["importance_mean"].notna().any():
        bars.append(
            (
                "permutation importance",
                contributions["importance_mean"],
                contributions["importance_std"].fillna(0),
            )
        )

    modalities = [str(name) for name in contributions.index]
    x = np.arange(len(modalities))
    width = 0.8 / len(bars)
    fig = _figure(max(5, 1.5 + 1.2 * len(modalities)), 4)
    ax = fig.add_subplot()
    for i, (label, values, errors) in enumerate(bars):
        ax.bar(
            x + (i - (len(bars) - 1) / 2) * width,
            values.to_numpy(dtype=float),
            width,
            yerr=None if errors is None else errors.to_numpy(dtype=float),
            capsize=3,
            label=label,
        )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, modalities)
    ax.set_ylabel(f"{study.primary_metric_} gained")
    ax.set_title(f"Modality contributions ({study.contribution_strategy_})")
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return fig


@fill_docstring
def plot_missingness(study):
    """Presence of each modality and counts of the availability patterns.

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two panels: the percentage of rows with each modality, and the number
        of rows of each availability pattern, over the tested rows (see
        :func:`tested_availability`).
    """
    availability = tested_availability(study)
    presence = modality_presence(availability)
    counts = pattern_counts(availability)

    fig = _figure(9, 1.5 + 0.35 * max(len(presence), len(counts)))
    left, right = fig.subplots(1, 2)
    bars = left.barh(
        presence.index[::-1], presence["pct_present"][::-1], color="tab:blue"
    )
    left.bar_label(bars, labels=presence["n_present"][::-1], padding=2)
    left.set(xlim=(0, 110), xlabel="% of rows present", title="Modality presence")
    bars = right.barh(counts.index[::-1], counts["n_samples"][::-1], color="tab:green")
    right.bar_label(bars, padding=2)
    right.set(xlabel="rows", title="Availability patterns")
    right.margins(x=0.1)
    return fig


@fill_docstring
def plot_label_scores(study):
    """Heat map of every strategy's ROC AUC on every label (multi-label).

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        The figure; None unless the target is multi-label and some strategy
        predicts probabilities.
    """
    scores = getattr(study, "label_scores_", None)
    if scores is None or scores["roc_auc"].isna().all():
        return None
    table = scores.pivot_table(
        index="strategy", columns="label", values="roc_auc", dropna=False, sort=False
    ).reindex(index=list(study.strategies_), columns=list(study.classes_))
    values = table.to_numpy(dtype=float)
    fig = _figure(1.6 + 0.9 * values.shape[1], 1.2 + 0.45 * values.shape[0])
    ax = fig.add_subplot()
    image = ax.imshow(values, vmin=0.5, vmax=1.0, cmap="viridis", aspect="auto")
    ax.set_xticks(np.arange(values.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(np.arange(values.shape[0]), [str(i) for i in table.index])
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            ax.text(
                column,
                row,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="white" if value < 0.8 else "black",
                fontsize="small",
            )
    fig.colorbar(image, ax=ax, label="ROC AUC (pooled out-of-fold)")
    ax.set_title("ROC AUC of each label")
    return fig


@fill_docstring
def plot_survival_groups(study):
    """Kaplan–Meier curves of the tertiles of predicted risk (survival).

    One panel for the reference and one for the best other strategy by the
    primary score: the tested rows split into thirds of their pooled
    out-of-fold risk (first repeat), each third's Kaplan–Meier curve. Curves
    that separate widely are a model that ranks patients well.

    %(fitted_study)s

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        The figure; None unless the target is a time to event.
    """
    # Only a time-to-event study has a grid of survival times.
    if (
        getattr(study, "survival_times_", None) is None
        or getattr(study, "y_", None) is None
    ):
        return None
    from ._survival import kaplan_meier_by_risk_group

    results = StudyResults.from_study(study)
    names = _reference_and_best(study, list(study.strategies_), 2)
    tested = np.sort(results.tested_rows(0))
    y = study.y_[tested]
    fig = _figure(4.2 * len(names), 3.8)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        risk = results.labels(name, 0)[tested]
        for label, times, survival in kaplan_meier_by_risk_group(y, risk):
            ax.step(times, survival, where="post", label=label)
        ax.set(
            title=name,
            xlabel="time",
            ylabel="survival (Kaplan–Meier)",
            ylim=(0, 1.02),
        )
        ax.legend(loc="lower left", fontsize="small")
    fig.suptitle("Tertiles of out-of-fold predicted risk")
    return fig
