"""The optional evaluation a study runs after its analysis.

Subgroups, learning curves and robustness curves need more than the stored
predictions (the table's subgroup columns, the folds' blocks to refit on or
perturb, the fitted fold models), so they run in ``FusionStudy.fit`` once
the analysis is done, each only when asked for.
"""

from ._learning import learning_curve, learning_curve_strategies
from ._robustness import robustness_curves
from ._subgroups import subgroup_calibration, subgroup_scores

__all__ = ["optional_evaluation"]


def optional_evaluation(
    results, table, blocks, models, y, groups, seed, params, subgroups
):
    """The subgroup tables and ``learning_curve_`` of a study, when asked for.

    Parameters
    ----------
    results : StudyResults
        The analysed comparison.

    table : DataFrame
        The study table.

    blocks : list of (DataFrame, DataFrame)
        The training and test blocks of every split.

    models : dict of (int, str) to estimator
        The fitted fold models kept (every strategy's with ``robustness``).

    y, groups : ndarray, ndarray or None
        The target and the groups.

    seed : int
        The bootstrap's seed, which also draws the learning curve's shares.

    params : dict
        The study's parameters (``learning_curve``, ``robustness``,
        ``n_jobs``).

    subgroups : list of str
        The checked subgroup columns.

    Returns
    -------
    attributes : dict
        The five attributes (None where not asked for) and ``notes``.
    """
    attributes = {
        "subgroup_scores_": None,
        "subgroup_gaps_": None,
        "subgroup_calibration_": None,
        "learning_curve_": None,
        "robustness_": None,
        "notes": [],
    }
    if subgroups:
        attributes["subgroup_scores_"], attributes["subgroup_gaps_"] = subgroup_scores(
            results, table, subgroups, y, groups, seed
        )
        attributes["subgroup_calibration_"] = subgroup_calibration(
            results, table, subgroups, y
        )
    if params["robustness"]:
        attributes["robustness_"] = robustness_curves(results, models, blocks, y, seed)
    names = learning_curve_strategies(params["learning_curve"], results)
    if names:
        attributes["learning_curve_"], attributes["notes"] = learning_curve(
            results, names, blocks, y, groups, seed, n_jobs=params["n_jobs"]
        )
    return attributes
