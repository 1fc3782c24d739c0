"""`valuemarts experiments history [--experiment NAME] [--format ...]`: every build's snapshot of
each experiment arm, with a peeking flag per experiment."""

from __future__ import annotations

import argparse

from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("experiments", help="the experiment ledger: arm statistics build by build")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="history")
    history = actions.add_parser(
        "history", parents=[common], help="every build's snapshot of each arm, with peeking flags",
        description="Every build's snapshot of each experiment arm (counts, CTR, lift and CI, p-values raw and "
                    "adjusted, sample-ratio checks), oldest first. `peeking` marks an experiment where an arm was "
                    "significant (Holm-adjusted p < 0.05) in one build and not in a later one; `peeking_dates` "
                    "says when.")
    history.add_argument("--experiment", default=None, metavar="NAME", help="only this experiment")
    history.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.tables import write_frame

    write_frame(Warehouse.open(args.warehouse).experiment_history(args.experiment), args.format)
    return 0
