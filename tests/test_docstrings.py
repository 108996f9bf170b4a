"""Shared docstring fragments are filled in on every public estimator."""

import inspect

import pytest

from skfusion.utils import all_estimators
from skfusion.utils._docstrings import FRAGMENTS, fill_docstring


@pytest.mark.parametrize(("name", "estimator"), all_estimators())
def test_no_placeholder_is_left_in_a_public_docstring(name, estimator):
    documented = [estimator] + [
        member
        for _, member in inspect.getmembers(estimator, inspect.isfunction)
        if member.__doc__
    ]
    for obj in documented:
        assert "%(" not in (obj.__doc__ or ""), f"{name}: {obj.__qualname__}"


def test_fragments_take_the_placeholders_indentation():
    def documented():
        """Summary.

        Parameters
        ----------
        %(blocked_X_unsupervised)s
        """

    text = fill_docstring(documented).__doc__
    assert "\n        X : DataFrame" in text
    assert "\n            The blocked matrix" in text
    assert "\n\n        y : None" in text


def test_an_unknown_placeholder_is_an_error():
    def documented():
        """%(no_such_fragment)s"""

    with pytest.raises(KeyError, match="no_such_fragment"):
        fill_docstring(documented)
    assert "no_such_fragment" not in FRAGMENTS
