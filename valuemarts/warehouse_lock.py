"""One build at a time per warehouse: an exclusive advisory lock beside the warehouse file.

Two builds that both copy the live warehouse and swap their copy in would lose the first one's
data, so every writer holds this lock from before it reads the warehouse until after its swap.
The operating system releases it when the holder exits, however it exits (SIGKILL included), so
a crashed build never leaves a stale lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from valuemarts.errors import ValueMartsError


class WarehouseBusy(ValueMartsError):
    """Another build holds the warehouse."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def exclusive_lock(warehouse: Path, *, wait: bool = False,
                   log: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the warehouse's build lock for the `with` block.

    Parameters
    ----------
    warehouse : Path
        The live warehouse file (it need not exist yet).
    wait : bool
        Wait for a running build to finish instead of stopping at once.
    log : callable
        Where the "waiting" line goes.

    Raises
    ------
    WarehouseBusy
        When another build holds the lock and `wait` is false.

    Examples
    --------
    >>> with exclusive_lock(Path("data/warehouse.duckdb")):  # doctest: +SKIP
    ...     ...  # copy, load, dbt build, swap
    """
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            if not wait:
                raise WarehouseBusy(f"{warehouse}: another build is running ({holder}); "
                                    "nothing was changed. Wait for it to finish, or pass --wait") from None
            log(f"waiting for the build running on {warehouse} ({holder})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {dt.datetime.now().isoformat(timespec='seconds')}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
