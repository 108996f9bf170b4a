"""Render HTML pages in headless Chromium and check what a reader would see.

Each page is opened in the system's Chromium (Debian's ``chromium`` package,
driven by Playwright; no browser is downloaded) and checked: every ``<img>``
decoded (``naturalWidth > 0``), at least ``--min-tables`` tables present, no
error in the console and no page error. Run as::

    python scripts/check_html_in_browser.py PAGE.html [PAGE.html ...] [--min-tables N]

It prints one line per page (its title, images, tables) and exits 1 when a
check fails, 0 when all pass, and 0 with a "skipped" line when Chromium or
Playwright is not installed.
"""

import argparse
import shutil
import sys
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium():
    """The path of an installed Chromium, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def missing_browser():
    """Why pages cannot be rendered here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    if find_chromium() is None:
        return "no Chromium on PATH (apt-get install chromium)"
    return None


def render(pages):
    """Render each page; return one dict of what rendered per page.

    Keys: ``title``, ``images`` (count), ``broken_images`` (their sources),
    ``tables`` (count), ``headings`` (the text of each ``<h2>``, as shown),
    ``errors`` (console errors and page errors).
    """
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(), args=["--no-sandbox"]
        )
        try:
            for page_path in pages:
                page = browser.new_page()
                errors = []
                page.on(
                    "console",
                    lambda message, errors=errors: (
                        errors.append(message.text) if message.type == "error" else None
                    ),
                )
                page.on(
                    "pageerror", lambda error, errors=errors: errors.append(str(error))
                )
                page.goto(Path(page_path).resolve().as_uri(), wait_until="load")
                images = page.eval_on_selector_all(
                    "img",
                    "imgs => imgs.map(i => ({src: i.currentSrc || i.src,"
                    " ok: i.complete && i.naturalWidth > 0}))",
                )
                results.append(
                    {
                        "page": str(page_path),
                        "title": page.title(),
                        "images": len(images),
                        "broken_images": [i["src"][:80] for i in images if not i["ok"]],
                        "tables": page.locator("table").count(),
                        "headings": page.locator("h2").all_inner_texts(),
                        "errors": errors,
                    }
                )
                page.close()
        finally:
            browser.close()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--min-tables", type=int, default=0)
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason is not None:
        print(f"browser check skipped: {reason}")
        return 0
    failed = False
    for result in render(args.pages):
        problems = []
        if result["broken_images"]:
            problems.append(f"images that did not decode: {result['broken_images']}")
        if result["tables"] < args.min_tables:
            problems.append(f"{result['tables']} table(s), expected {args.min_tables}")
        if result["errors"]:
            problems.append(f"console errors: {result['errors']}")
        status = "FAILED: " + "; ".join(problems) if problems else "ok"
        print(
            f"{result['page']}: {result['title']!r}, {result['images']} image(s) "
            f"decoded, {result['tables']} table(s): {status}"
        )
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
