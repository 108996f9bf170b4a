"""The study report and the documentation, rendered in a real browser.

Headless Chromium (Debian's ``chromium``, driven by Playwright; nothing is
downloaded) opens the page; every image must decode, the tables must be
there and the console must stay free of errors. Skipped, with the reason,
where Chromium or Playwright is missing; ``.ci/run`` installs Chromium where
the machine allows it.
"""

import importlib.util
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import BlockScaler
from skfusion.study import FusionStudy

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "check_html_in_browser", REPO / "scripts" / "check_html_in_browser.py"
)
browser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser)

_MISSING = browser.missing_browser()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING))


def _small_study():
    X, y = make_multimodal_classification(
        150, modality_sizes=(4, 3), missing_rate=0.2, random_state=0
    )
    modalities = [
        (name, "passthrough", [c for c in X.columns if c.startswith(f"{name}__")])
        for name in ("m0", "m1")
    ]

    def model():
        return make_pipeline(BlockScaler(), LogisticRegression(max_iter=500))

    strategies = {
        "unimodal:m0": (model(), ["m0"]),
        "unimodal:m1": (model(), ["m1"]),
        "early:linear": (model(), ["m0", "m1"]),
    }
    study = FusionStudy(modalities, strategies, cv=3, n_permutations=3, random_state=0)
    return study.fit(X, y)


def test_the_study_report_renders_its_figures_and_tables(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    folder = _small_study().report(tmp_path / "report")
    page = Path(folder) / "report.html"
    (result,) = browser.render([page])
    with capsys.disabled():
        print(
            f"\nrendered {page.name}: {result['title']!r}, {result['images']} "
            f"image(s) decoded, {result['tables']} table(s), "
            f"console errors: {result['errors']}"
        )
    assert result["images"] >= 3
    assert result["broken_images"] == []
    assert result["tables"] >= 3
    assert result["errors"] == []


def test_a_broken_image_and_a_script_error_are_caught(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><head><title>broken</title></head><body>"
        '<img src="data:image/png;base64,AAAA"><table><tr><td>1</td></tr></table>'
        "<script>undefinedFunction()</script></body></html>"
    )
    (result,) = browser.render([page])
    assert len(result["broken_images"]) == 1
    assert result["tables"] == 1
    assert any("undefinedFunction" in error for error in result["errors"])
