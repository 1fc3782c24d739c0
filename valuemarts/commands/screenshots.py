"""`valuemarts screenshots DIR`: a PNG of every viewer page on the current warehouse."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("screenshots", parents=[common], help="write a PNG of every viewer page",
                              description="Serve the viewer on a free local port, open each page in headless "
                                          "Chromium (/usr/bin/chromium, or $VALUEMARTS_CHROMIUM) and write "
                                          "DIR/<page>.png.")
    p.add_argument("dir", type=Path, help="folder for the PNG files (created if absent)")
    p.add_argument("--config", type=Path, default=None, help="the config the viewer is started with")
    p.add_argument("--width", type=int, default=1280, help="window width in pixels (default %(default)s)")
    return p


def run(args: argparse.Namespace) -> int:
    from viewer.screenshots import write_screenshots

    for path in write_screenshots(args.warehouse, args.dir, config=args.config, width=args.width):
        print(f"wrote {path}")
    return 0
