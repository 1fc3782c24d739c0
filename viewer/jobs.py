"""Builds started from the viewer (an import, an applied config) run in a background thread
through the library API, one at a time; sessions poll their progress.

The build itself is `Warehouse(path, read_only=False).build`: it validates files with the rules
and messages of `load`, works on a copy under the warehouse's lock and swaps it in only when
everything succeeded, so a failed build leaves the marts the pages show as they were.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from valuemarts.api import Warehouse
from valuemarts.errors import ValueMartsError

# dbt's progress lines, as the build passes them on: "  12/193 OK    marts.mart_x (table, 0.1s)"
_DBT_STEP = re.compile(r"^\s*(\d+)/(\d+)\s+[A-Z]")
_LOG_LINES = 200


@dataclass(frozen=True)
class Progress:
    """A build as a session shows it."""

    label: str = ""
    running: bool = False
    done: int = 0
    total: int = 0
    lines: tuple[str, ...] = ()
    error: str | None = None
    summary: tuple[str, ...] = ()
    finished_at: float | None = None

    @property
    def percent(self) -> int:
        """dbt's share of models and tests done; -1 (an unknown amount) while files load."""
        return int(100 * self.done / self.total) if self.total else -1


@dataclass
class BuildRunner:
    """Runs one build at a time for the viewer's warehouse and keeps its progress.

    Parameters
    ----------
    warehouse : Path
        The warehouse the viewer shows.
    config : Path, optional
        The config builds use unless one is given; without it the viewer cannot build.
    """

    warehouse: Path
    config: Path | None
    _progress: Progress = field(default_factory=Progress)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def progress(self) -> Progress:
        with self._lock:
            return self._progress

    def start(self, label: str, *, config: Path | None = None, ih: list[str] | None = None,
              holdings: list[str] | None = None, full_refresh: bool = False,
              finished: Callable[[Progress], None] | None = None) -> None:
        """Start a build in the background.

        Raises
        ------
        ValueMartsError
            A build started here is still running, or there is no config to build with.
        """
        config = config or self.config
        if config is None:
            raise ValueMartsError("no config to build with: start the viewer with `valuemarts serve --config CONFIG.toml`")
        with self._lock:
            if self._progress.running:
                raise ValueMartsError(f"a build is already running ({self._progress.label}); wait for it to finish")
            self._progress = Progress(label=label, running=True)
        thread = threading.Thread(target=self._run, args=(config, ih, holdings, full_refresh, finished),
                                  name="valuemarts-build", daemon=True)
        thread.start()

    def _run(self, config: Path, ih: list[str] | None, holdings: list[str] | None, full_refresh: bool,
             finished: Callable[[Progress], None] | None) -> None:
        error, summary = None, ()
        try:
            result = Warehouse(self.warehouse, read_only=False).build(config, ih=ih, holdings=holdings,
                                                                     full_refresh=full_refresh, log=self._log)
            summary = tuple(result.lines())
        except ValueMartsError as exc:
            error = str(exc)
        except Exception as exc:  # a crash must still end the build as failed, with its reason shown
            error = f"build failed: {type(exc).__name__}: {exc}"
        with self._lock:
            self._progress = replace(self._progress, running=False, error=error, summary=summary,
                                     finished_at=time.time())
            final = self._progress
        if finished is not None:
            finished(final)

    def _log(self, line: str) -> None:
        step = _DBT_STEP.match(line)
        with self._lock:
            current = self._progress
            done, total = (int(step.group(1)), int(step.group(2))) if step else (current.done, current.total)
            self._progress = replace(current, done=max(done, current.done), total=total,
                                     lines=(current.lines + (line,))[-_LOG_LINES:])
