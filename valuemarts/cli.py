"""The `valuemarts` command line (the public contract: docs/cli.md).

Exit codes: 0 success, 1 bad input (messages on stderr name the file, row/column or TOML key
path), 2 wrong usage (argparse).

Each command is a module of valuemarts.commands with `add_parser(subparsers, common)` and
`run(args) -> int`. Only the module of the command being run is imported (all of them for the
top-level help), so `valuemarts report` never pays for what `build` or `bench` import.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from pathlib import Path

from valuemarts.errors import ConfigErrors, ValueMartsError
from valuemarts.interrupts import Interrupted
from valuemarts.paths import check_warehouse_path, default_spark_warehouse, default_warehouse

COMMANDS = ("demo_data", "compile", "load", "build", "report", "sql", "marts", "ask", "runs", "config", "experiments",
            "verdict", "compare_configs", "init_config", "serve", "screenshots", "bench")


def parser(warehouse: Path | None = None, command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser.

    Parameters
    ----------
    warehouse : Path, optional
        The --warehouse value of this invocation, known before parsing so that help can describe
        that warehouse (`report --help` lists its metrics).
    command : str, optional
        The command being run (`report`, `demo-data`, ...): only its module is imported; the
        others get a bare entry that keeps the usage line complete. None imports every command.

    Examples
    --------
    >>> parser().parse_args(["report", "engagement", "--by", "Channel"]).by
    'Channel'
    """
    root = argparse.ArgumentParser(prog="valuemarts", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--warehouse", type=Path, default=warehouse, metavar="PATH",
                        help="DuckDB warehouse file (default: $VALUEMARTS_WAREHOUSE, else data/warehouse.duckdb); "
                             "with --target spark, the Spark warehouse folder")
    common.add_argument("--project-dir", type=Path, default=None, metavar="DIR",
                        help="the valuemarts dbt project to use (default: $VALUEMARTS_PROJECT_DIR, else the "
                             "folder you run in or its nearest parent with the project's dbt_project.yml)")
    subparsers = root.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        if command is not None and _cli_name(name) != command:
            subparsers.add_parser(_cli_name(name))
            continue
        module = importlib.import_module(f"valuemarts.commands.{name}")
        sub = module.add_parser(subparsers, common)
        sub.set_defaults(handler=module.run)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run one command; `argv` None means this process is the command (the console script).

    Examples
    --------
    >>> main(["marts", "--warehouse", "data/warehouse.duckdb"])  # doctest: +SKIP
    0
    """
    if argv is None:
        # The process ends when the command does: spare the interpreter's exit a garbage
        # collection over every object the command's imports left (about 90 ms after a report).
        code = main(sys.argv[1:])
        gc.freeze()
        return code
    given = _project_dir_given(argv)
    if given is None:
        return _main(argv)
    # The project is found through the environment wherever it is needed (paths.project_dir).
    previous = os.environ.get("VALUEMARTS_PROJECT_DIR")
    os.environ["VALUEMARTS_PROJECT_DIR"] = str(given.resolve())
    try:
        return _main(argv)
    finally:
        if previous is None:
            del os.environ["VALUEMARTS_PROJECT_DIR"]
        else:
            os.environ["VALUEMARTS_PROJECT_DIR"] = previous


def _main(argv: list[str]) -> int:
    command = argv[0] if argv and argv[0] in {_cli_name(n) for n in COMMANDS} else None
    args = parser(_warehouse_given(argv) or default_warehouse(), command).parse_args(argv)
    spark = getattr(args, "target", "duckdb") == "spark"
    if getattr(args, "warehouse", None) is None or (spark and _warehouse_given(argv) is None):
        args.warehouse = default_spark_warehouse() if spark else default_warehouse()
    try:
        if not spark:  # a Spark warehouse is a folder (valuemarts.spark)
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


def _cli_name(module: str) -> str:
    return module.replace("_", "-")


def _warehouse_given(argv: list[str]) -> Path | None:
    """--warehouse wherever it stands in `argv` (help may come before it)."""
    return _peek(argv, "--warehouse")


def _project_dir_given(argv: list[str]) -> Path | None:
    """--project-dir, needed before anything looks for the project."""
    return _peek(argv, "--project-dir")


def _peek(argv: list[str], flag: str) -> Path | None:
    """The path given to `flag` anywhere in `argv`; None when absent or malformed (the real
    parser then reports it)."""
    peek = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    peek.add_argument(flag, type=Path, dest="value")
    try:
        return peek.parse_known_args(argv)[0].value
    except argparse.ArgumentError:
        return None


if __name__ == "__main__":
    sys.exit(main())
