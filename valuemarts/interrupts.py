"""SIGTERM handled like Ctrl-C, so an interrupted build runs its clean-up instead of vanishing."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class Interrupted(BaseException):
    """The process was asked to stop (SIGTERM or SIGINT). A BaseException, like KeyboardInterrupt,
    so no `except Exception` swallows it; clean-up in `finally`/`except BaseException` runs."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into `Interrupted` for the `with` block (main thread only: Python
    delivers signals there; elsewhere the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame) -> None:
        # One stop is enough: further signals must not cut the clean-up this one starts.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
