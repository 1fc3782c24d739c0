"""The viewer in a real browser: Debian's Chromium driven by Playwright (`make browser` installs
it; tests fail, never skip, without it). One viewer serves the shared demo warehouse read-only;
the import tests build on a copy of it, behind a viewer of their own.

Every number is checked against the library API on the same warehouse (`Warehouse.report`,
`Warehouse.sql`), never against the viewer's own code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from valuemarts.api import Warehouse
from valuemarts.demo import generate_ih_next_day, write_ih_day
from valuemarts.demo.ih import DEFAULT_START
from valuemarts.errors import ValueMartsError
from viewer.browser import Watch, chromium, served, settle
from viewer.state import PAGES

# What shows that each page drew its content (CSS selectors; they pierce Panel's shadow roots).
PAGE_MARKERS = {"home": "text=Files loaded", "dashboard": "[data-kpi=ctr]", "reports": ".vm-chart",
                "experiments": ".vm-verdict", "clv": "text=Value tiers", "data_import": "text=Validate and build",
                "configuration": "text=Active config", "sql": "text=Run", "history": "text=Record verdict",
                "chat": "text=Chat with the marts"}
BUILD_SECONDS = 300


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def viewer_url(demo_warehouse) -> Iterator[str]:
    with served(demo_warehouse.warehouse, demo_warehouse.config) as url:
        yield url


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.watch = Watch()
    opened.watch.attach(opened)
    yield opened
    context.close()


def open_page(page: object, url: str, name: str, **query: str) -> None:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    page.goto(f"{url}?page={name}{extra}")
    settle(page)
    page.locator(PAGE_MARKERS[name]).first.wait_for(timeout=60_000)


def kpi(page: object, key: str) -> float:
    return float(page.locator(f"[data-kpi={key}]").get_attribute("data-value"))


def wait_for_kpi(page: object, key: str, expected: float, seconds: float = 60) -> None:
    """Until the card holds exactly `expected` (the value's repr is in data-value)."""
    page.locator(f"[data-kpi={key}][data-value='{expected!r}']").wait_for(timeout=seconds * 1000)


def set_editor(page: object, selector: str, text: str) -> None:
    """Replace the text of a code editor as a user would (select all, then type it in)."""
    page.locator(f"{selector} .ace_content").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def downloaded_csv(page: object) -> list[list[str]]:
    with page.expect_download() as download:
        page.locator("text=Download CSV").first.click()
    return list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))


def same_rows(frame: pl.DataFrame, rows: list[list[str]]) -> None:
    """The CSV says exactly the frame: header, then each cell (floats to the last bit, empty = null)."""
    header, *body = rows
    assert header == frame.columns
    assert len(body) == frame.height
    for got, want in zip(body, frame.rows()):
        for text, value in zip(got, want):
            if value is None or (isinstance(value, float) and value != value):
                assert text == ""
            elif isinstance(value, bool):
                assert text == str(value)
            elif isinstance(value, (int, float)) or hasattr(value, "as_tuple"):
                assert float(text) == float(value)
            elif hasattr(value, "isoformat"):
                assert text == value.isoformat()
            else:
                assert text == str(value)


# ---- on the shared demo warehouse -------------------------------------------------------------------

def test_every_page_loads_without_errors_and_everything_is_served_locally(page, viewer_url) -> None:
    for name in PAGES:
        open_page(page, viewer_url, name)
        assert page.locator(".vm-danger").count() == 0, name
    assert page.watch.errors == []
    assert page.watch.remote() == []
    assert any("/static/" in u for u in page.watch.requests)   # scripts came from the viewer itself


def test_a_chart_of_every_report_type_renders(page, viewer_url, demo_warehouse) -> None:
    reports = Warehouse.open(demo_warehouse.warehouse).specs()["reports"]
    first_of_type = {}
    for name, spec in reports.items():
        first_of_type.setdefault(spec["type"], name)
    assert len(first_of_type) >= 14
    for kind, name in first_of_type.items():
        open_page(page, viewer_url, "reports", report=name)
        page.locator(".vm-chart canvas").first.wait_for(timeout=60_000)
        assert page.locator(".vm-danger").count() == 0, (kind, name)
        assert page.get_by_text(name, exact=True).count() >= 1, name
    assert page.watch.errors == []


def test_a_global_filter_changes_the_kpis_to_the_filtered_reports(page, viewer_url, demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    open_page(page, viewer_url, "dashboard")
    assert kpi(page, "ctr") == wh.report("engagement")["CTR"].item()
    page.locator(".vm-filter").first.locator("input").first.click()
    page.keyboard.type("Web")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    web = "Channel = 'Web'"
    engagement = wh.report("engagement", where=web).row(0, named=True)
    assert engagement["CTR"] != wh.report("engagement")["CTR"].item()
    wait_for_kpi(page, "ctr", engagement["CTR"])
    wait_for_kpi(page, "lift", engagement["Lift"])
    wait_for_kpi(page, "conversion_rate", wh.report("conversion", where=web)["ConversionRate"].item())
    wait_for_kpi(page, "auc", wh.report("model_ml_scores", where=web)["roc_auc"].item())
    assert page.watch.errors == []


def test_csv_downloads_equal_the_report_and_the_mart_query(page, viewer_url, demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    open_page(page, viewer_url, "reports", report="heatmap_month_group_ctr")
    same_rows(wh.report("engagement", by=["Month", "Group"]), downloaded_csv(page))

    query = "select * from marts.mart_experiment order by all"
    open_page(page, viewer_url, "sql")
    set_editor(page, ".vm-sql-editor", query)
    page.locator("text=Run").first.click()
    page.locator(".vm-sql-result >> text=Download CSV").wait_for(timeout=30_000)
    same_rows(wh.sql(query), downloaded_csv(page))


@pytest.mark.parametrize("query", ["DROP TABLE x", "select read_text('/etc/passwd')"])
def test_the_sql_console_refuses_with_the_reason(page, viewer_url, demo_warehouse, query: str) -> None:
    with pytest.raises(ValueMartsError) as refused:
        Warehouse.open(demo_warehouse.warehouse).sql(query)
    open_page(page, viewer_url, "sql")
    set_editor(page, ".vm-sql-editor", query)
    page.locator("text=Run").first.click()
    message = page.locator(".vm-danger")
    message.wait_for(timeout=30_000)
    assert shown_text(message) == str(refused.value)
    assert page.watch.errors == []


def test_history_shows_the_ledger_and_records_a_verdict(page, viewer_url, demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    open_page(page, viewer_url, "history")
    same_rows(wh.runs(), downloaded_csv(page))   # the first table's download: the run ledger
    before = wh.verdicts().height
    note_text = "Orange wins <b>clearly</b>, 100%"
    page.locator(".vm-verdict-note input").fill(note_text)
    page.locator(".vm-record-verdict button").click()
    page.locator(".vm-success >> text=Verdict recorded.").wait_for(timeout=30_000)
    verdicts = wh.verdicts()
    assert verdicts.height == before + 1
    latest = verdicts.row(-1, named=True)
    assert (latest["subject"], latest["decision"], latest["note"]) == ("experiment:BannerColour", "accept", note_text)
    assert page.watch.errors == []


# ---- imports, on a copy -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def import_target(demo_warehouse, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("viewer_import")
    warehouse = folder / "warehouse.duckdb"
    shutil.copy2(demo_warehouse.warehouse, warehouse)
    with served(warehouse, demo_warehouse.config) as url:
        yield url, warehouse


def upload(page: object, url: str, files: list[Path]) -> None:
    open_page(page, url, "data_import")
    page.locator(".vm-dropper input[type=file]").set_input_files([str(f) for f in files])
    for file in files:   # the server has every file (a big one arrives in chunks after the browser lists it)
        page.locator(f".vm-received >> text={file.name} ({file.stat().st_size:,} bytes)").wait_for(timeout=120_000)
    page.locator("text=Validate and build").first.click()


def shown_text(locator: object) -> str:
    """The text a Panel pane shows (its content sits in the element's shadow root)."""
    return locator.evaluate("e => Array.from((e.shadowRoot || e).childNodes)"
                            ".filter(n => !['STYLE', 'LINK'].includes(n.nodeName)).map(n => n.textContent).join('')"
                            ).strip()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_bad_upload_shows_its_error_and_leaves_the_marts(page, import_target, demo_warehouse, tmp_path) -> None:
    url, warehouse = import_target
    before, stamp = sha256(warehouse), warehouse.stat().st_mtime_ns
    bad = tmp_path / "bad_export.csv"
    bad.write_text("not,an,export\n1,2,3\n")
    other = tmp_path / "other.duckdb"
    shutil.copy2(warehouse, other)
    with pytest.raises(ValueMartsError) as refused:   # what `load` says about this file
        Warehouse(other, read_only=False).load(demo_warehouse.config, ih=[bad])
    upload(page, url, [bad])
    message = page.locator(".vm-danger")
    message.wait_for(timeout=BUILD_SECONDS * 1000)
    anywhere = re.compile(r"\S*bad_export\.csv")
    assert anywhere.sub("FILE", shown_text(message)) == anywhere.sub("FILE", str(refused.value))
    assert sha256(warehouse) == before and warehouse.stat().st_mtime_ns == stamp
    assert not any((warehouse.parent / "uploads" / "ih").glob("*/bad_export.csv"))   # a failed upload is removed
    assert page.watch.errors == []


def test_a_good_upload_ends_with_the_new_numbers_on_the_dashboard(page, import_target, demo_warehouse,
                                                                    tmp_path) -> None:
    url, warehouse = import_target
    old = Warehouse.open(warehouse).report("engagement").row(0, named=True)
    day = DEFAULT_START + timedelta(days=30)
    new_file = write_ih_day(generate_ih_next_day(40_000, seed=7, days=30, start=DEFAULT_START), day,
                            tmp_path / "new", "zip")
    upload(page, url, [new_file])
    page.locator(".vm-build-status >> text=Building").wait_for(timeout=60_000)
    # "Last build" arrives with this build's result (the earlier upload's error was shown until now)
    page.locator(".vm-build-status >> text=Last build").wait_for(timeout=BUILD_SECONDS * 1000)
    outcome = page.locator(".vm-success, .vm-danger").first
    assert shown_text(outcome).startswith("Built"), shown_text(outcome)
    new = Warehouse.open(warehouse).report("engagement").row(0, named=True)
    assert new["Count"] > old["Count"]
    open_page(page, url, "dashboard")
    wait_for_kpi(page, "ctr", new["CTR"])
    assert Warehouse.open(warehouse).sql(
        "select count(*) from marts.mart_file_loads where file_path like '%uploads%'").item() == 1
    assert page.watch.errors == []
