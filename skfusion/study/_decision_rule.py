"""What the report says of how a study's strategies turn risks into labels.

The default strategies of a classification study (``class_weight=None``)
end in a :class:`~skfusion.fusion.PrevalenceDecisionClassifier`; other
strategies predict as they do. The report states, in a sentence, which rule
gave the labels that the balanced accuracy and the other metrics of labels
score.
"""

from sklearn.pipeline import Pipeline

from ..fusion import PrevalenceDecisionClassifier

__all__ = ["decision_rule", "decision_rule_sentence"]


def decision_rule(estimator):
    """The :class:`PrevalenceDecisionClassifier` that decides, or None.

    The estimator itself, or the last step of a pipeline.
    """
    if isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator if isinstance(estimator, PrevalenceDecisionClassifier) else None


def _rule_text(rule, clauses):
    """How one strategy's labels are decided, as a clause of the sentence."""
    if rule is None:
        return "its own predict (for a classifier, the class of largest probability)"
    if rule.threshold != "prevalence":
        return f"{clauses['stated']} {rule.threshold:g}"
    return clauses["prevalence"]


def decision_rule_sentence(strategies, task, pos_label=None):
    """The report's sentence on the rule behind each strategy's predicted labels.

    Parameters
    ----------
    strategies : dict of str to estimator
        The study's (unfitted) strategies.

    task : Task
        The study's task (:func:`~skfusion.study._task.task_named`), which
        words the rule; only classification tasks get a sentence.

    pos_label : object, default=None
        The positive class of a binary study.

    Returns
    -------
    sentence : str
        Starting with a space; empty for a regression or survival study.
    """
    wording = task.decision_clauses(pos_label)
    if wording is None:
        return ""
    clauses = {}
    for name, estimator in strategies.items():
        clause = _rule_text(decision_rule(estimator), wording)
        clauses.setdefault(clause, []).append(name)
    if len(clauses) == 1:
        rules = f"every strategy: {next(iter(clauses))}"
    else:
        rules = "; ".join(f"{', '.join(names)}: {c}" for c, names in clauses.items())
    text = (
        f" Predicted labels, which the balanced accuracy and the other metrics of "
        f"labels score: {rules}. The ROC AUC, Brier score, calibration and "
        "decision curves score the predicted risks."
    )
    return text
