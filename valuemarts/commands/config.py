"""`valuemarts config list|show VERSION|diff V1 V2|restore VERSION [-o FILE]`: the config versions
builds and loads have used."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("config", help="list, show, diff and restore the config versions builds used",
                              description="Every config a build or load uses is kept with its content hash and a "
                                          "version number per config name ([variants] name); an unchanged config "
                                          "makes no new version.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION",
                               help="list, show VERSION, diff V1 V2 or restore VERSION")
    named = argparse.ArgumentParser(add_help=False, parents=[common])
    named.add_argument("--name", default=None,
                       help="the config name (default: the name of the most recently recorded version)")
    listing = actions.add_parser("list", parents=[common], help="every version with its hash and use")
    listing.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    show = actions.add_parser("show", parents=[named], help="print a version's TOML")
    show.add_argument("version", type=int, help="the version number (config list shows them)")
    diff = actions.add_parser("diff", parents=[named], help="compare two versions key by key")
    diff.add_argument("old_version", type=int, metavar="V1", help="the version compared from")
    diff.add_argument("new_version", type=int, metavar="V2", help="the version compared to")
    diff.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    restore = actions.add_parser("restore", parents=[named], help="write a version's exact TOML to a file")
    restore.add_argument("version", type=int, help="the version number (config list shows them)")
    restore.add_argument("-o", "--output", type=Path, default=None, metavar="FILE",
                         help="where to write it (default: stdout)")
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.tables import write_frame

    warehouse = Warehouse.open(args.warehouse)
    if args.action == "list":
        write_frame(warehouse.config_versions(), args.format)
    elif args.action == "diff":
        write_frame(warehouse.config_diff(args.old_version, args.new_version, args.name), args.format)
    else:
        text = warehouse.config_text(args.version, args.name)
        if args.action == "restore" and args.output is not None:
            args.output.write_bytes(text.encode("utf-8"))
            print(f"wrote version {args.version} to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    return 0
