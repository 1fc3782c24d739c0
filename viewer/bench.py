"""`valuemarts bench viewer`: how long the dashboard takes to show its KPIs in a browser (first
paint) and to redraw them after a global filter changes, on a freshly built demo warehouse.

First paint is timed from navigation to the KPI cards on screen, each time in a new browser
context (nothing cached in the browser; the server has started and warmed up, as after `make
demo`). A redraw is timed from choosing one Channel in the filter to the click-through-rate card
showing that channel's value; each channel is asked for once, so no redraw comes from the cache.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from valuemarts.bench.measure import measure, write_result
from viewer.browser import chromium, served

COLUMNS = ["measure", "first_s", "median_s", "max_s", "runs"]
CARD = "[data-kpi=ctr]"


def run(rows: int, repeats: int = 5) -> Path:
    """Build a demo warehouse of `rows` IH rows, serve it, time first paint and filter redraws."""
    python = [sys.executable, "-m", "valuemarts.cli"]
    with tempfile.TemporaryDirectory(prefix="valuemarts-bench-") as tmp:
        data, warehouse = Path(tmp) / "demo", Path(tmp) / "warehouse.duckdb"
        measure([*python, "demo-data", "--out", str(data), "--rows", str(rows)])
        build = measure([*python, "build", "--warehouse", str(warehouse), "--config", str(data / "config.toml"),
                         "--ih", str(data / "ih"), "--holdings", str(data / "holdings")])
        with served(warehouse, data / "config.toml") as url, chromium() as browser:
            paints = [_first_paint(browser, url) for _ in range(repeats)]
            redraws = [_redraw(browser, url, channel) for channel in _channels(warehouse)]
    table = [["first paint of the dashboard", *_summary(paints)],
             ["redraw after a filter change", *_summary(redraws)]]
    return write_result(f"viewer_{rows}", COLUMNS, table, {
        "ih_rows": rows, "build_seconds": round(build.seconds, 1), "first_paint_s": paints,
        "filter_redraw_s": redraws, "load_average_1min": round(os.getloadavg()[0], 2),
        "note": "first paint: navigation to the KPI cards, a new browser context each run, server warmed up; "
                "redraw: one Channel chosen in the global filter until the CTR card shows its value, each "
                "channel once (nothing cached)"})


def _first_paint(browser: object, url: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{url}?page=dashboard")
    page.locator(CARD).wait_for(timeout=120_000)
    seconds = time.perf_counter() - started
    context.close()
    return round(seconds, 3)


def _redraw(browser: object, url: str, channel: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}?page=dashboard")
    card = page.locator(CARD)
    card.wait_for(timeout=120_000)
    before = card.get_attribute("data-value")
    page.locator(".vm-filter").first.locator("input").first.click()
    page.keyboard.type(channel)
    page.wait_for_timeout(300)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    page.locator(f"{CARD}:not([data-value='{before}'])").wait_for(timeout=120_000)
    seconds = time.perf_counter() - started
    context.close()
    return round(seconds, 3)


def _channels(warehouse: Path) -> list[str]:
    from valuemarts.api import Warehouse

    return Warehouse.open(warehouse).report("engagement", ["Channel"])["Channel"].drop_nulls().to_list()


def _summary(seconds: list[float]) -> list[float | int]:
    return [seconds[0], round(statistics.median(seconds), 3), max(seconds), len(seconds)]
