"""Find every public estimator that skfusion defines."""

import importlib
import inspect
import pkgutil
from operator import itemgetter

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
)

_TYPE_FILTERS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
}


def all_estimators(type_filter=None):
    """List the public estimators defined in skfusion.

    Modules and classes whose name starts with an underscore are skipped, as
    are the test modules and classes that neither predict nor transform
    (:class:`~skfusion.study.FusionStudy` runs estimators; it is not one).
    Every public module is imported (optional extras are imported only when
    an estimator uses them), so an import error is raised, not hidden.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer"} or list of those, \
            default=None
        Keep only estimators of these kinds. ``None`` keeps every estimator.

    Returns
    -------
    estimators : list of (str, type)
        ``(class name, class)`` pairs sorted by name.

    Examples
    --------
    >>> from skfusion.utils import all_estimators
    >>> names = [name for name, _ in all_estimators(type_filter="transformer")]
    >>> "BlockScaler" in names
    True
    """
    import skfusion

    found = {}
    for module_info in pkgutil.walk_packages(skfusion.__path__, "skfusion."):
        parts = module_info.name.split(".")
        if any(part.startswith("_") or part == "tests" for part in parts[1:]):
            continue
        # torch and skorch are core dependencies and the optional extras are
        # imported lazily, so every public module imports: a failure is a bug
        # to see, not a module to skip.
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and not name.startswith(("_", "Base"))
                and cls.__module__.startswith("skfusion.")
                and not inspect.isabstract(cls)
                and _predicts_or_transforms(cls)
            ):
                found[name] = cls

    estimators = sorted(found.items(), key=itemgetter(0))
    if type_filter is None:
        return estimators
    filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = set(filters) - set(_TYPE_FILTERS)
    if unknown:
        raise ValueError(
            f"type_filter must be among {sorted(_TYPE_FILTERS)}, got {sorted(unknown)}."
        )
    mixins = tuple(_TYPE_FILTERS[kind] for kind in filters)
    return [(name, cls) for name, cls in estimators if issubclass(cls, mixins)]


def _predicts_or_transforms(cls):
    return any(hasattr(cls, method) for method in ("predict", "transform"))
