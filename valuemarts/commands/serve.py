"""`valuemarts serve [--port 5006] [--address 127.0.0.1] [--config CONFIG.toml]`: the Panel viewer."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("serve", parents=[common], help="serve the viewer (Panel) and print its URL",
                              description="Serve the viewer over the warehouse and print its URL. It listens on "
                                          "127.0.0.1 unless --address says otherwise, which needs a password in "
                                          "$VALUEMARTS_VIEWER_PASSWORD. Stop it with Ctrl-C.")
    p.add_argument("--port", type=int, default=5006, help="port to listen on (default %(default)s; 0: any free port)")
    p.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default %(default)s: this machine only)")
    p.add_argument("--config", type=Path, default=None,
                   help="the TOML config the Data import and Configuration pages build with")
    return p


def run(args: argparse.Namespace) -> int:
    from viewer.app import PASSWORD_ENV, serve

    serve(args.warehouse, args.config, port=args.port, address=args.address,
          password=os.environ.get(PASSWORD_ENV) or None,
          on_ready=lambda url: print(f"viewer: {url}", flush=True))
    return 0
