"""What DESIGN.md promises of the code's shape, checked on the source (issue 27)."""

import ast
from pathlib import Path

import pytest

import skfusion
from skfusion.study._task import TASKS

PACKAGE = Path(skfusion.__file__).parent
# The kinds of target a study takes, as its ``task_`` names them.
KINDS = set(TASKS)
MAX_CLASS_LINES = 500


def _parsed(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _constants(node):
    """The string constants a comparison operand is or holds (tuple, set, list)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [value for element in node.elts for value in _constants(element)]
    return []


def _kind_comparisons(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            named = {value for operand in operands for value in _constants(operand)}
            if named & KINDS:
                yield node.lineno, sorted(named & KINDS)


def test_no_class_is_longer_than_the_limit():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(_parsed(path)):
            if isinstance(node, ast.ClassDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.name} {lines}")
    assert not long


def test_a_task_has_capabilities_not_a_kind_flag():
    # What the study does differently is asked of the task by what it can
    # do (pooled metrics, a Brier score, a positive class, ...), so no code
    # outside the task module can branch on which kind it is.
    for task in TASKS.values():
        for flag in ("classification", "multilabel", "survival"):
            assert not hasattr(task, flag), (task.name, flag)


# statistics.py is the study's public library of metrics; like
# scikit-learn's, each checks that its input is the kind of target the
# metric is defined for. The task module is where the kinds are told apart.
_UNTESTED = ("_task.py", "statistics.py")


@pytest.mark.parametrize(
    "path",
    sorted(
        [p for p in (PACKAGE / "study").glob("*.py") if p.name not in _UNTESTED]
        + [PACKAGE / "cli.py"]
    ),
    ids=lambda p: p.name,
)
def test_no_kind_of_target_is_compared_outside_the_task_module(path):
    assert not list(_kind_comparisons(_parsed(path)))


def test_the_kind_check_finds_a_comparison():
    tree = ast.parse(
        "if study.task_ == 'survival':\n    pass\n"
        "ok = kind in ('binary', 'multiclass')\n"
        "fine = name == 'classifier'\n"
    )
    assert list(_kind_comparisons(tree)) == [
        (1, ["survival"]),
        (3, ["binary", "multiclass"]),
    ]


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """``(line, module, name)`` of every ``from skfusion... import name``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(_parsed(path)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target.split(".")[0] == "skfusion":
            for alias in node.names:
                yield node.lineno, target, alias.name


def _subpackage(module):
    """``skfusion.study`` of ``skfusion.study._task``; a top-level module is its own."""
    parts = module.split(".")
    is_package = len(parts) > 1 and (PACKAGE / parts[1]).is_dir()
    return ".".join(parts[:2]) if is_package else module


# skfusion.utils holds what the whole package shares by design (DESIGN.md): the
# one module of other libraries' private names (_sklearn_compat), the shared
# docstring fragments, the device and torch-state helpers. Every other
# subpackage's private modules are its own.
_SHARED_INTERNALS = "skfusion.utils"


def test_no_private_name_is_imported_across_our_packages():
    crossings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = _subpackage(_module_name(path))
        for line, target, name in _imports(path):
            there = _subpackage(target)
            if there == here or there == "skfusion" and name.startswith("__"):
                continue
            private_module = any(part.startswith("_") for part in target.split(".")[1:])
            if name.startswith("_") or (private_module and there != _SHARED_INTERNALS):
                crossings.append(f"{path.relative_to(PACKAGE)}:{line} {target}.{name}")
    assert not crossings
