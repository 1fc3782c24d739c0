"""The `valuemarts` command line (the public contract in shared/design/cli.md).

Exit codes: 0 success, 1 bad input (messages on stderr name the file, row/column or TOML key
path), 2 wrong usage (argparse).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from valuemarts.errors import ConfigErrors, ValueMartsError
from valuemarts.interrupts import Interrupted
from valuemarts.paths import check_warehouse_path, default_warehouse

COMMANDS = ("demo_data", "compile", "load", "build", "report", "sql", "marts", "bench")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="valuemarts", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--warehouse", type=Path, default=None,
                        help="DuckDB warehouse file (default: $VALUEMARTS_WAREHOUSE, else data/warehouse.duckdb)")
    subparsers = root.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"valuemarts.commands.{name}")
        sub = module.add_parser(subparsers, common)
        sub.set_defaults(handler=module.run)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "warehouse", None) is None:
        args.warehouse = default_warehouse()
    try:
        check_warehouse_path(args.warehouse)
        code = args.handler(args)
        sys.stdout.flush()  # inside the try: a reader that closed the pipe is handled below
        return code
    except ConfigErrors as exc:
        for error in exc.errors:
            print(str(error), file=sys.stderr)
        return 1
    except ValueMartsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `valuemarts report ... | head`: the reader has what it wanted. Point stdout at
        # /dev/null so the interpreter's final flush doesn't fail again, and end quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (Interrupted, KeyboardInterrupt) as exc:
        print("stopped: nothing was changed (the previous warehouse is intact)", file=sys.stderr)
        return exc.exit_code if isinstance(exc, Interrupted) else 130


if __name__ == "__main__":
    sys.exit(main())
