"""The viewer's only door to the warehouse: `valuemarts.api.Warehouse`, read-only, with answers
kept per version of the warehouse file.

Each API call opens the file, answers and closes it, so a build that swaps a new file in is read
at the next call. The file's identity (inode, size, modification time) is part of every cache
key: after a swap nothing cached from the old file is served again. The cache is shared by all
sessions of the process, so a second browser gets the dashboard without querying again.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from valuemarts.api import Warehouse

T = TypeVar("T")
Stamp = tuple[int, int, int]
_CACHE_SIZE = 512


class Marts:
    """Read-only, cached access to one warehouse file.

    Parameters
    ----------
    path : Path
        The warehouse file; it need not exist yet (the viewer can import the first files).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.warehouse = Warehouse.open(self.path)
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def stamp(self) -> Stamp | None:
        """The file's identity now: a swap (a new inode) or a write changes it; None without a file."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_size, stat.st_mtime_ns

    def exists(self) -> bool:
        return self.stamp() is not None

    def report(self, metric: str, by: Sequence[str] = (), where: str | None = None,
               prop: str | None = None) -> pl.DataFrame:
        """`Warehouse.report`, cached for this version of the file."""
        return self._cached(("report", metric, tuple(by), where, prop),
                            lambda: self.warehouse.report(metric, list(by), where, prop))

    def query(self, sql: str) -> pl.DataFrame:
        """`Warehouse.sql` for the viewer's own queries, cached for this version of the file."""
        return self._cached(("sql", sql), lambda: self.warehouse.sql(sql))

    def specs(self) -> dict[str, Any]:
        """The compiled config the warehouse was built with (`Warehouse.specs`)."""
        return self._cached(("specs",), self.warehouse.specs)

    def builds(self) -> pl.DataFrame:
        """The builds recorded in the warehouse (`Warehouse.builds`)."""
        return self._cached(("builds",), self.warehouse.builds)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        full = (self.stamp(), *key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
        value = compute()
        with self._lock:
            self._cache[full] = value
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return value
