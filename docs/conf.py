"""Sphinx configuration of the skfusion documentation (``make docs``)."""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

import skfusion  # noqa: E402

project = "skfusion"
author = "The skfusion developers"
copyright = "2026, The skfusion developers"
release = skfusion.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax served from the build, not from a CDN: the site works offline.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# API pages are generated from the numpydoc docstrings.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Cross-references to other projects need their inventories, which need the
# network: offline builds resolve none of them and say nothing.
intersphinx_mapping = {}
nitpicky = False

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]

html_theme = "pydata_sphinx_theme"
html_title = f"skfusion {release}"
html_static_path = []
html_theme_options = {"navigation_with_keys": False}
# An explicit mode: without one the theme logs a console error on file:// pages.
html_context = {"default_mode": "light"}

# The gallery runs every example when ../shared/data (the COVID-19 X-rays,
# not bundled) is next to the repository, else only those on bundled data
# (plot_bundled_*): the others are then shown without being run.
SHARED_DATA = DOCS.parents[1] / "shared" / "data" / "covid_chestxray"
RUN_BY_DEFAULT = r"plot_" if SHARED_DATA.is_dir() else r"plot_bundled_"
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": os.environ.get("SKFUSION_GALLERY_RUN", RUN_BY_DEFAULT),
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out methods inherited from scikit-learn, skorch or torch.

    Their docstrings link to those projects' own pages (``score``, the
    ``set_*_request`` methods, skorch's many methods), which an offline build
    cannot resolve; the class docstring says which API the class follows.
    """
    module = getattr(obj, "__module__", None) or ""
    if module.split(".")[0] in ("sklearn", "skorch", "torch"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
