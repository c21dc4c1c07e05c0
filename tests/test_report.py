"""The report of the tiny whole-DAG run, looked at in headless Chromium with the network cut off."""

import json
import re
import time

import pytest

from browser import Browser
from conftest import snakemake

RUNS = ["e2e_synthetic", "rest_synthetic", "jigsaw_synthetic"]  # the tiny config's summary_runs
PROTOCOLS = ["synthetic 0/50", "synthetic 0/100"]


def embedded(page: str, name: str) -> dict:
    """A JSON object that the report embeds as `var <name> = {...}` in <script id="<name>">."""
    script = re.search(rf'<script id="{name}">\s*var {name} = (.*?);?\s*</script>', page, re.S)
    return json.loads(script.group(1))


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(tiny_run, "--report", str(path))
    return path


def test_the_report_has_every_stage_with_its_figures_and_tables(report):
    page = report.read_text()
    categories, results = embedded(page, "categories"), embedded(page, "results")

    def items(category):
        return {path: results[path] for paths in categories[category].values() for path in paths}

    def kinds(category):
        return sorted(r["mime_type"] for r in items(category).values())

    assert kinds("Results") == ["image/png", "text/html", "text/html"]  # figure, its numbers, summary.csv
    assert kinds("Overlap filter") == ["image/png"] * 2
    assert kinds("Training") == ["image/png"] * len(RUNS)
    # a subcategory per target and protocol; in each, accuracy per class and the confusion of every run
    assert sorted(categories["Per class"]) == sorted(PROTOCOLS)
    assert kinds("Per class") == ["image/png"] * 2 * len(RUNS) * len(PROTOCOLS)
    assert kinds("Accuracy vs distance") == ["image/png"] * len(RUNS) * len(PROTOCOLS)
    assert kinds("Prototypes") == sorted(["image/png", "image/png", "text/html"] * len(RUNS) * len(PROTOCOLS))
    assert kinds("Data") == ["text/html"] * 2  # the source and the target
    assert kinds("Predictions") == ["text/html"]  # the demo's folder labelled with its five new names
    for result in results.values():
        assert result["caption"].strip(), result["name"]  # every item says how to read it
    # no item or script is fetched from the network: everything is inline
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', page)


def test_the_report_shows_each_category_in_a_browser_offline(report, tmp_path):
    browser = Browser()
    try:
        browser.open(report.as_uri())
        menu = browser.wait_for("document.body.innerText.includes('RESULTS') && document.body.innerText")
        for category in ["Results", "Overlap filter", "Training", "Per class", "Accuracy vs distance", "Prototypes",
                         "Data", "Predictions"]:
            assert category in menu
        shown = {}
        for category, subcategory in [("Results", None), ("Overlap filter", None), ("Training", None),
                                      ("Per class", "synthetic 0/50"), ("Accuracy vs distance", "synthetic 0/50"),
                                      ("Prototypes", "synthetic 0/100"), ("Data", None),
                                      ("Predictions", None)]:  # Prototypes opens on its composition table
            browser.open(report.as_uri())  # back to the menu
            browser.wait_for("document.body.innerText.includes('RESULTS')")
            browser.click_text(category)
            if subcategory:
                browser.wait_for(f"document.body.innerText.includes({json.dumps(subcategory)})")
                browser.click_text(subcategory)
            first = browser.wait_for("(() => { const r = [...document.querySelectorAll('tr')]"
                                     ".find(r => r.querySelector('a')); return r && r.cells[0].innerText.trim(); })()")
            browser.open_row(first)
            shown[category] = browser.wait_for(
                "(() => { const i = [...document.querySelectorAll('img')].find(i => i.src.startsWith('data:image/png') "
                "&& i.naturalWidth > 200); if (i) return 'image';"
                " const f = document.querySelector('iframe'); return f && f.src.startsWith('data:text/html') && 'table'; })()")
            if category == "Results":
                time.sleep(0.5)
                browser.screenshot(tmp_path / "results.png")
        assert shown == {"Results": "image", "Overlap filter": "image", "Training": "image", "Per class": "image",
                         "Accuracy vs distance": "image", "Prototypes": "table", "Data": "table",
                         "Predictions": "table"}, shown
        assert (tmp_path / "results.png").stat().st_size > 20_000  # a drawn page, not a blank one
    finally:
        browser.close()
