"""Command line: ``skfusion demo``.

``skfusion demo`` runs a seeded, stratified cross-validated comparison of each
modality alone against early fusion on a bundled real dataset and prints the
table.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from .compose import make_modality_transformer
from .fusion import BlockScaler

__all__ = ["main", "run_demo"]

_SCORING = {"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy"}


def _druglib_study(random_state, max_samples):
    """The DrugLib study table and one modality transformer per modality."""
    from .datasets import load_druglib

    bunch = load_druglib(subset="train")
    table, target = bunch.data, bunch.target
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

    tabular = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=5,
                    sparse_output=False,
                ),
                ["drug", "condition"],
            ),
            ("ordinal", "passthrough", ["effectiveness", "side_effects"]),
        ]
    )
    text = make_pipeline(
        TfidfVectorizer(min_df=2, sublinear_tf=True, ngram_range=(1, 2)),
        TruncatedSVD(n_components=100, random_state=random_state),
    )
    modalities = {
        "tabular": (tabular, ["drug", "condition", "effectiveness", "side_effects"]),
        "text": (text, "review"),
    }
    return table, target, modalities


_DATASETS = {"druglib": _druglib_study}


def run_demo(dataset="druglib", *, cv=5, random_state=0, max_samples=None, n_jobs=None):
    """Compare each modality alone with early fusion by cross-validation.

    Every strategy is ``Pipeline(make_modality_transformer(...), BlockScaler(),
    LogisticRegression())`` and differs only in the modalities it gets.

    Parameters
    ----------
    dataset : {"druglib"}, default="druglib"
        Bundled dataset to run on.

    cv : int, default=5
        Number of stratified folds (shuffled with ``random_state``).

    random_state : int, default=0
        Seed of the folds and of every randomised step.

    max_samples : int, default=None
        Run on a stratified random subset of this many subjects (for a quick
        look); ``None`` uses them all.

    n_jobs : int, default=None
        Folds evaluated in parallel.

    Returns
    -------
    results : DataFrame
        One row per strategy: mean and standard deviation of accuracy and
        balanced accuracy over the folds, and the mean fit time in seconds.
    """
    if dataset not in _DATASETS:
        raise ValueError(f"dataset must be one of {sorted(_DATASETS)}; got {dataset!r}")
    table, target, modalities = _DATASETS[dataset](random_state, max_samples)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)

    strategies = {f"{name} only": [name] for name in modalities}
    strategies["early fusion (BlockScaler)"] = list(modalities)

    rows = []
    for strategy, names in strategies.items():
        pipeline = make_pipeline(
            make_modality_transformer(*[(name, *modalities[name]) for name in names]),
            BlockScaler(),
            LogisticRegression(max_iter=2000),
        )
        scores = cross_validate(
            pipeline, table, target, cv=folds, scoring=_SCORING, n_jobs=n_jobs
        )
        row = {"strategy": strategy, "modalities": "+".join(names)}
        for metric in _SCORING:
            values = scores[f"test_{metric}"]
            row[f"{metric}_mean"] = float(np.mean(values))
            row[f"{metric}_std"] = float(np.std(values))
        row["fit_time_s"] = float(np.mean(scores["fit_time"]))
        rows.append(row)
    return pd.DataFrame(rows)


def _format_table(results):
    lines = [f"{'strategy':<30} {'accuracy':>15} {'balanced acc.':>15} {'fit (s)':>8}"]
    for row in results.itertuples():
        lines.append(
            f"{row.strategy:<30} "
            f"{row.accuracy_mean:>8.3f} ± {row.accuracy_std:.3f} "
            f"{row.balanced_accuracy_mean:>8.3f} ± {row.balanced_accuracy_std:.3f} "
            f"{row.fit_time_s:>8.2f}"
        )
    return "\n".join(lines)


def _demo_command(args):
    start = time.perf_counter()
    results = run_demo(
        args.dataset,
        cv=args.cv,
        random_state=args.random_state,
        max_samples=args.max_samples,
        n_jobs=args.n_jobs,
    )
    print(
        f"skfusion demo: {args.dataset}, {args.cv}-fold stratified CV, "
        f"random_state={args.random_state}"
    )
    print(_format_table(results))
    if args.output is not None:
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        results.to_csv(output, index=False)
        print(f"Results written to {output.resolve()}")
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skfusion", description="Multimodal fusion studies with scikit-learn."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="compare each modality alone with early fusion on a bundled dataset",
    )
    demo.add_argument("--dataset", choices=sorted(_DATASETS), default="druglib")
    demo.add_argument("--cv", type=int, default=5, help="number of folds")
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument(
        "--max-samples", type=int, default=None, help="run on a stratified subset"
    )
    demo.add_argument("--n-jobs", type=int, default=None)
    demo.add_argument("--output", default=None, help="also save the table as CSV")
    demo.set_defaults(handler=_demo_command)
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
        Exit status, 0 on success.
    """
    args = _build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
