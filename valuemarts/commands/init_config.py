"""`valuemarts init-config SAMPLE_PATH ... -o CONFIG.toml`: a commented config drafted from a
sample of IH and/or holdings files. No network."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "init-config", parents=[common], help="draft a commented config from sample export files",
        description="Profiles sample IH and/or holdings files or folders (any format `load` reads) and writes a "
                    "config that `build` accepts as it is, each choice commented. Nothing leaves this machine.")
    p.add_argument("samples", nargs="+", type=Path, metavar="SAMPLE_PATH", help="sample files or folders")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="CONFIG.toml", help="where to write the config")
    p.add_argument("--force", action="store_true", help="replace CONFIG.toml if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import draft_config
    from valuemarts.errors import ValueMartsError

    if args.output.exists() and not args.force:
        raise ValueMartsError(f"{args.output} exists; use --force to replace it")
    text = draft_config(args.samples)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: review the commented choices, then "
          f"`valuemarts build --config {args.output} ...`", file=sys.stderr)
    return 0
