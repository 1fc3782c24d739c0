"""The viewer in a real browser, for screenshots, the benchmark and the browser tests: a viewer
server in its own process on a free local port, and Debian's Chromium driven by Playwright
(never a browser Playwright downloads: `make browser` installs /usr/bin/chromium with apt)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM_ENV = "VALUEMARTS_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
START_SECONDS = 120
LOCAL_SCHEMES = ("blob", "data", "about")


def chromium_path() -> str:
    """The Chromium to drive: $VALUEMARTS_CHROMIUM, else Debian's /usr/bin/chromium."""
    path = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no Chromium; `make browser` installs Debian's (apt-get install chromium)")
    return path


@contextmanager
def served(warehouse: Path, config: Path | None = None) -> Iterator[str]:
    """A viewer on a free port of 127.0.0.1 for the `with` block; yields its URL."""
    command = [sys.executable, "-m", "valuemarts.cli", "serve", "--warehouse", str(warehouse), "--port", "0"]
    if config is not None:
        command += ["--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield _url_of(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _url_of(process: subprocess.Popen) -> str:
    """The URL the server prints (`viewer: URL`), or its output when it stopped first."""
    deadline = time.monotonic() + START_SECONDS
    seen = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("viewer: "):
            _drain(process)
            return line.split(" ", 1)[1].strip()
    raise RuntimeError("the viewer did not start:\n" + "".join(seen[-40:]))


def _drain(process: subprocess.Popen) -> None:
    """Keep reading the server's output so a full pipe never blocks it."""
    import threading

    def read() -> None:
        assert process.stdout is not None
        for _line in process.stdout:
            pass

    threading.Thread(target=read, daemon=True).start()


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (a Playwright Browser) for the `with` block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What a page did: console errors, uncaught exceptions, and every URL it requested."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page: object) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def remote(self) -> list[str]:
        """Requested URLs that left this machine (the viewer must serve all it needs itself)."""
        return [u for u in self.requests
                if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).hostname not in ("127.0.0.1", "localhost")]


def settle(page: object, timeout_ms: int = 60_000) -> None:
    """Wait until the page has loaded and no part of it shows Panel's loading indicator."""
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    page.locator(".bk-panel-models-layout-Column, .bk-Column").first.wait_for(timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while page.locator(".pn-loading").count() and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)
