"""`valuemarts verdict add --subject experiment:NAME|report:NAME --decision ... --reason ...
[--note TEXT]` and `valuemarts verdict list [--format csv]`."""

from __future__ import annotations

import argparse

from valuemarts.history.verdicts import DECISIONS, REASONS
from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("verdict", help="record and list decisions on experiments and reports")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="add or list")
    add = actions.add_parser("add", parents=[common], help="record a decision")
    add.add_argument("--subject", required=True, metavar="experiment:NAME|report:NAME")
    add.add_argument("--decision", required=True, choices=DECISIONS)
    add.add_argument("--reason", required=True, choices=REASONS, help="the reason's category; details go in --note")
    add.add_argument("--note", default="", metavar="TEXT")
    add.add_argument("--by", default=None, metavar="NAME", help="who decided (default: your login name)")
    listing = actions.add_parser("list", parents=[common], help="every verdict, oldest first")
    listing.add_argument("--subject", default=None, metavar="experiment:NAME|report:NAME", help="only this subject")
    listing.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.tables import write_frame

    warehouse = Warehouse.open(args.warehouse)
    if args.action == "add":
        verdict_id = warehouse.add_verdict(args.subject, args.decision, args.reason, args.note, args.by)
        print(f"verdict {verdict_id} recorded")
    else:
        write_frame(warehouse.verdicts(args.subject), args.format)
    return 0
