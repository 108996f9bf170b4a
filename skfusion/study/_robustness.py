"""What happens in the clinic when a modality is missing or poor?

Each strategy's fitted fold models (no refit) predict their fold's test rows
again with one modality withheld from a share of the rows (its block all-NaN,
as a missing modality is) or degraded by Gaussian noise, and are scored with
the primary metric. At 0 % the score is the study's own; at 100 % it is the
score with the modality absent from every test row.
"""

import numpy as np
import pandas as pd

from ..blocks import modality_of_column
from ._runner import columns_of

__all__ = [
    "NOISE_LEVELS",
    "WITHHELD_FRACTIONS",
    "effective_robustness",
    "robustness_curves",
]

#: Shares of the test rows a modality is withheld from.
WITHHELD_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Standard deviations of the added noise, in units of each column's
#: standard deviation on the fold's training rows.
NOISE_LEVELS = (0.5, 1.0, 2.0)


def robustness_curves(results, models, blocks, y, seed):
    """Every strategy's primary score with each modality withheld or noisy.

    Parameters
    ----------
    results : StudyResults
        The analysed comparison.

    models : dict of (int, str) to estimator
        The fitted model of every strategy on every split.

    blocks : list of (DataFrame, DataFrame)
        The training and test blocks of every split.

    y : ndarray
        The target.

    seed : int
        Seeds which rows are withheld (the same rows for every strategy and
        modality of a split) and the noise.

    Returns
    -------
    curves : DataFrame
        ``strategy, modality, perturbation, level, repeat, fold, score``:
        ``perturbation`` is ``"withheld"`` (``level`` the share of test rows
        without the modality) or ``"noise"`` (``level`` the noise's standard
        deviation in column standard deviations); only strategies that see
        the modality. The withheld share 0 is the study's fold score.
    """
    scorer = results.scorers[results.primary_metric_]
    scores = results.fold_scores_
    clean = scores[scores["metric"] == results.primary_metric_].set_index(
        ["strategy", "repeat", "fold"]
    )["score"]
    rows = []
    for split, (train_X, test_X) in enumerate(blocks):
        repeat, fold = results.split_ids_[split]
        test = results.splits_[split][1]
        rng = np.random.RandomState(seed + split)
        order = rng.permutation(len(test_X))
        by_modality = {}
        for column in test_X.columns:
            by_modality.setdefault(modality_of_column(column), []).append(column)
        for modality, columns in by_modality.items():
            seeing = [
                name
                for name in results.strategies_
                if modality in results.strategy_modalities_[name]
            ]
            perturbed = []
            for fraction in WITHHELD_FRACTIONS[1:]:
                X = test_X.copy()
                X.iloc[
                    order[: round(fraction * len(X))], X.columns.get_indexer(columns)
                ] = np.nan
                perturbed.append(("withheld", fraction, X))
            spread = np.nan_to_num(train_X[columns].std().to_numpy(), nan=0.0)
            for level in NOISE_LEVELS:
                X = test_X.copy()
                noise = rng.normal(0.0, 1.0, size=(len(X), len(columns)))
                X[columns] = X[columns].to_numpy() + level * spread * noise
                perturbed.append(("noise", level, X))
            for name in seeing:
                rows.append(
                    [name, modality, "withheld", 0.0, repeat, fold,
                     clean[name, repeat, fold]]
                )  # fmt: skip
                model = models[split, name]
                for kind, level, X in perturbed:
                    _, X_name = columns_of(
                        (train_X, X), results.strategy_modalities_[name]
                    )
                    score = float(scorer(model, X_name, y[test]))
                    rows.append([name, modality, kind, level, repeat, fold, score])
    return pd.DataFrame(
        rows,
        columns=["strategy", "modality", "perturbation", "level", "repeat", "fold",
                 "score"],
    )  # fmt: skip


def effective_robustness(curves):
    """Area under each withheld curve relative to the clean score.

    The mean over folds of the score at each withheld share, integrated over
    the shares (trapezoids, 0 to 1), divided by the clean score: 1 when
    withholding the modality costs nothing.

    Parameters
    ----------
    curves : DataFrame
        As :func:`robustness_curves` returns.

    Returns
    -------
    summary : DataFrame
        ``strategy, modality, clean, at_100, relative_area``.
    """
    withheld = curves[curves["perturbation"] == "withheld"]
    means = withheld.groupby(["strategy", "modality", "level"], sort=False)[
        "score"
    ].mean()
    rows = []
    for (name, modality), part in means.groupby(level=[0, 1], sort=False):
        levels = part.index.get_level_values("level").to_numpy(dtype=float)
        values = part.to_numpy(dtype=float)
        clean = values[levels == 0.0][0]
        # Trapezoids over the shares 0 to 1.
        area = float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(levels)))
        rows.append(
            [name, modality, clean, values[levels == 1.0][0],
             area / clean if clean else np.nan]
        )  # fmt: skip
    return pd.DataFrame(
        rows, columns=["strategy", "modality", "clean", "at_100", "relative_area"]
    )
