"""`uploads-conformance serve`: run the reference emulator from the command line.

    uploads-conformance serve [--host 127.0.0.1] [--port 8000] [--api-key KEY... | --no-auth]
                              [--data-dir DIR] [--body-timeout SECONDS]
                              [--sweep-interval SECONDS] [--retention SECONDS]
                              [--max-pending-uploads N] [--max-connections N]
                              [--max-disk-bytes BYTES] [--test-controls]
                              [--mutant NAME] [--list-mutants]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .body_stream import DEFAULT_BODY_TIMEOUT_S
from .config import (
    DEFAULT_API_KEY,
    DEFAULT_RETENTION_S,
    DEFAULT_SWEEP_INTERVAL_S,
    EmulatorConfig,
)
from .mutants import MUTANTS
from .server import run_server


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--api-key", action="append", default=None, metavar="KEY",
                      help=f"the Bearer key to require (default: $OPENAI_API_KEY, else "
                           f"{DEFAULT_API_KEY}); repeat it for more keys, each its own "
                           "tenant, blind to the others' uploads and files")
    auth.add_argument("--no-auth", action="store_true", help="accept requests without a key")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep uploads, parts, files and the test clock in DIR across "
                             "restarts (default: in memory and a temporary directory)")
    parser.add_argument("--body-timeout", type=float, default=DEFAULT_BODY_TIMEOUT_S,
                        metavar="SECONDS",
                        help="abandon a request body that sends nothing for this long "
                             f"(408, connection closed; default {DEFAULT_BODY_TIMEOUT_S:g})")
    parser.add_argument("--sweep-interval", type=float, default=DEFAULT_SWEEP_INTERVAL_S,
                        metavar="SECONDS",
                        help="how often expired uploads' and files' data is deleted "
                             f"(default {DEFAULT_SWEEP_INTERVAL_S:g})")
    parser.add_argument("--retention", type=float, default=DEFAULT_RETENTION_S,
                        metavar="SECONDS",
                        help="forget an ended upload this long after it ended (then it is "
                             f"unknown, 404; default {DEFAULT_RETENTION_S:g})")
    parser.add_argument("--max-pending-uploads", type=int, default=None, metavar="N",
                        help="refuse a create (429) while N uploads are pending")
    parser.add_argument("--max-connections", type=int, default=None, metavar="N",
                        help="answer 503 at once beyond N open connections")
    parser.add_argument("--max-disk-bytes", type=int, default=None, metavar="BYTES",
                        help="spool at most this much part data; past it a part is answered "
                             "as on a full disk (503, Retry-After)")
    parser.add_argument("--test-controls", action="store_true",
                        help="serve the test-control extension under /v1/_conformance")
    parser.add_argument("--mutant", choices=sorted(MUTANTS), default=None, metavar="NAME",
                        help="switch on one named fault (see --list-mutants)")
    parser.add_argument("--list-mutants", action="store_true",
                        help="print the mutants and exit")


def serve_command(args: argparse.Namespace) -> int:
    if args.list_mutants:
        width = max(map(len, MUTANTS))
        for name, description in MUTANTS.items():
            print(f"{name:<{width}}  {description}")
        return 0
    keys: list[str] = [] if args.no_auth else (
        args.api_key or [os.environ.get("OPENAI_API_KEY") or DEFAULT_API_KEY])
    try:
        config = EmulatorConfig(api_key=keys[0] if keys else None,
                                other_api_keys=tuple(keys[1:]),
                                test_controls=args.test_controls,
                                data_dir=args.data_dir, mutant=args.mutant,
                                body_timeout=args.body_timeout,
                                sweep_interval=args.sweep_interval,
                                retention=args.retention,
                                max_pending_uploads=args.max_pending_uploads,
                                max_connections=args.max_connections,
                                max_disk_bytes=args.max_disk_bytes)
        run_server(config, host=args.host, port=args.port)
    except ValueError as exc:
        print(f"uploads-conformance serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the port is taken, the data dir cannot be made or is in use
        print(f"uploads-conformance serve: cannot serve: {exc}", file=sys.stderr)
        return 2
    return 0
