"""Which items of the TRIPOD+AI reporting guideline a study's report addresses.

TRIPOD+AI (Collins et al., BMJ 2024;385:e078378) is the guideline for
reporting a study that develops or evaluates a prediction model with
regression or machine learning: 27 items, several with parts. A study can
address the items about its data, analysis and results; the items about the
clinical setting, the participants' recruitment, ethics and the discussion
are the author's. :func:`tripod_checklist` says, item by item, in which
section of the report the answer stands, and what the author must add.
"""

from typing import NamedTuple

import pandas as pd

__all__ = ["GUIDELINE", "TRIPOD_AI_ITEMS", "ChecklistItem", "tripod_checklist"]

#: The guideline the checklist follows, as the report cites it.
GUIDELINE = "TRIPOD+AI (Collins et al., BMJ 2024;385:e078378)"

# The names of the report's sections, as its headings spell them.
_COHORT = "Cohort"
_MISSING = "Missing modalities"
_COMPARISON = "Comparison of strategies"
_DECISION = "Decision curves"
_SUBGROUPS = "Subgroups"
_LEARNING = "Learning curve"
_ROBUSTNESS = "Robustness to a missing or degraded modality"
_CONTRIBUTIONS = "Modality contributions"
_EXTERNAL = "External validation"
_NOTES = "Notes"
_MANIFEST = "manifest.json"


class ChecklistItem(NamedTuple):
    """One item (or part of an item) of TRIPOD+AI, and who answers it.

    Attributes
    ----------
    item : str
        The item's number in the guideline (``"12c"``).

    topic : str
        What the item asks for, in a few words.

    sections : tuple of str
        The report's sections (or files) that answer it; the item is
        addressed where any of them is in the report.

    author : str or None
        What the author must add even where those sections are in the
        report; None where they answer the item in full.

    absent : str or None
        How to have the report answer the item where none of its sections
        is there (an option of the study); None where only the author can.
    """

    item: str
    topic: str
    sections: tuple
    author: str | None
    absent: str | None = None


#: The items a study's report speaks to in full or in part, and those it
#: cannot (no section: the author's alone), in the guideline's order.
TRIPOD_AI_ITEMS = (
    ChecklistItem(
        "1",
        "Title",
        (),
        "a title naming the model's purpose, population, outcome and kind of model",
    ),
    ChecklistItem("2", "Abstract", (), "a structured abstract"),
    ChecklistItem(
        "3a-c",
        "Background, intended use, health inequalities",
        (),
        "the clinical context, where in care the model is meant to "
        "be used, by whom, and known inequalities",
    ),
    ChecklistItem(
        "4", "Objectives", (_COHORT,), "whether the study develops, evaluates or both"
    ),
    ChecklistItem(
        "5a-b",
        "Sources of data and their dates",
        (),
        "where the data come from, why, and the dates of accrual and follow-up",
    ),
    ChecklistItem(
        "6a-c",
        "Setting, eligibility, treatments",
        (),
        "the setting and centres, inclusion and exclusion criteria, "
        "treatments received",
    ),
    ChecklistItem(
        "7",
        "Data preparation",
        (_COHORT, _MANIFEST),
        "cleaning and pre-processing done before the study "
        "(the report gives each modality's extractor and "
        "settings)",
    ),
    ChecklistItem(
        "8a",
        "Outcome and how it was assessed",
        (_COHORT,),
        "how and when the outcome was assessed, and by whom",
    ),
    ChecklistItem(
        "9a",
        "Predictors (modalities) and their measurement",
        (_COHORT, _MANIFEST),
        "how and when each modality was acquired",
    ),
    ChecklistItem(
        "10",
        "Sample size",
        (_COHORT, _LEARNING),
        "the justification of the sample size (the learning curve, "
        "where computed, shows whether more rows would "
        "help)",
    ),
    ChecklistItem("11", "Missing data", (_MISSING,), None),
    ChecklistItem(
        "12a", "How the data were used for development and evaluation", (_COHORT,), None
    ),
    ChecklistItem(
        "12c",
        "Model types, building, hyperparameter tuning",
        (_COMPARISON, _NOTES, _MANIFEST),
        None,
    ),
    ChecklistItem(
        "12d",
        "Heterogeneity across clusters or centres",
        (_SUBGROUPS,),
        None,
        "run the study with subgroups= naming the site or centre",
    ),
    ChecklistItem(
        "12e",
        "Performance measures, with their uncertainty",
        (_COMPARISON, _DECISION),
        None,
    ),
    ChecklistItem("12g", "Comparison of models", (_COMPARISON,), None),
    ChecklistItem("13", "Class imbalance: how, and why", (_COMPARISON, _NOTES), None),
    ChecklistItem(
        "14",
        "Fairness: how assessed",
        (_SUBGROUPS,),
        None,
        "run the study with subgroups= (sex, age band, ethnicity, site)",
    ),
    ChecklistItem("15", "Model output and any threshold", (_COMPARISON,), None),
    ChecklistItem(
        "16",
        "Differences between development and evaluation data",
        (_EXTERNAL,),
        None,
        "validate on an external cohort (external=), or say why there is none",
    ),
    ChecklistItem("17", "Ethical approval", (), "the approving body and reference"),
    ChecklistItem(
        "18a-f",
        "Funding, conflicts, protocol, registration, data and code sharing",
        (_MANIFEST,),
        "funding, conflicts of interest, protocol and registration, "
        "where data and code can be had (manifest.json records "
        "the versions, parameters and seeds that repeat the "
        "analysis)",
    ),
    ChecklistItem(
        "19",
        "Patient and public involvement",
        (),
        "how patients and the public were involved",
    ),
    ChecklistItem(
        "20a-b",
        "Participants: flow and characteristics",
        (_COHORT, _MISSING, _SUBGROUPS),
        "the flow of participants and a table of their characteristics",
    ),
    ChecklistItem(
        "20c",
        "Development and evaluation data compared",
        (_EXTERNAL,),
        None,
        "validate on an external cohort (external=), or say why there is none",
    ),
    ChecklistItem(
        "21",
        "Participants and outcome events in each analysis",
        (_COHORT, _SUBGROUPS),
        None,
    ),
    ChecklistItem(
        "22",
        "The full model, to be used or reproduced",
        (_MANIFEST,),
        "the fitted model (skfusion study --save-model) or how to obtain it",
    ),
    ChecklistItem(
        "23a",
        "Model performance, with confidence intervals",
        (_COMPARISON, _DECISION, _EXTERNAL),
        None,
    ),
    ChecklistItem(
        "23b",
        "Performance in key subgroups",
        (_SUBGROUPS,),
        None,
        "run the study with subgroups=",
    ),
    ChecklistItem(
        "25",
        "Interpretation",
        (_CONTRIBUTIONS,),
        "the overall interpretation of the results",
    ),
    ChecklistItem(
        "26",
        "Limitations",
        (_MISSING, _ROBUSTNESS),
        "the study's limitations (the robustness curves, where "
        "computed, show what a missing or poor modality "
        "costs)",
    ),
    ChecklistItem(
        "27a-c",
        "Usability: poor or missing input, users, next steps",
        (_ROBUSTNESS,),
        "who would use the model and what comes next (the "
        "robustness curves answer how it handles missing or poor "
        "input)",
    ),
)

_ADDRESSED = "reported"
_PARTLY = "partly reported"
_NOT = "not reported"


def tripod_checklist(sections):
    """Item by item, where a report answers TRIPOD+AI and what is left to add.

    Parameters
    ----------
    sections : iterable of str
        The headings of the report's sections (and the files it writes, such
        as ``"manifest.json"``).

    Returns
    -------
    checklist : DataFrame
        One row per item of :data:`TRIPOD_AI_ITEMS`: ``item``, ``topic``,
        ``status`` (``"reported"``: the report answers it in full;
        ``"partly reported"``: the report gives part and the author the
        rest; ``"not reported"``), ``where`` (the sections that answer it,
        joined by ``"; "``, empty where none) and ``to add`` (what the
        author must still report, or the study option that would report
        it; empty where nothing).

    Examples
    --------
    >>> from skfusion.study import tripod_checklist
    >>> checklist = tripod_checklist(["Cohort", "Missing modalities"])
    >>> checklist.set_index("item").loc["11", "status"]
    'reported'
    >>> checklist.set_index("item").loc["14", "status"]
    'not reported'
    """
    present = set(sections)
    rows = []
    for entry in TRIPOD_AI_ITEMS:
        where = [section for section in entry.sections if section in present]
        if not where:
            status = _NOT
            to_add = entry.absent or entry.author or ""
        else:
            status = _PARTLY if entry.author else _ADDRESSED
            to_add = entry.author or ""
        rows.append(
            {
                "item": entry.item,
                "topic": entry.topic,
                "status": status,
                "where": "; ".join(where),
                "to add": to_add,
            }
        )
    return pd.DataFrame(rows, columns=["item", "topic", "status", "where", "to add"])
