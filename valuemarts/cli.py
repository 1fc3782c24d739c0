"""The `valuemarts` command line (the public contract in shared/design/cli.md).

Exit codes: 0 success, 1 bad input (messages on stderr name the file, row/column or TOML key
path), 2 wrong usage (argparse).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from valuemarts.errors import ConfigErrors, ValueMartsError
from valuemarts.paths import default_warehouse

COMMANDS = ("demo_data", "compile", "build", "report", "sql", "marts", "bench")


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
        return args.handler(args)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(str(error), file=sys.stderr)
        return 1
    except ValueMartsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
