"""`python -m conformance.emulator`: the same as `uploads-conformance serve`."""

from __future__ import annotations

import argparse
import sys

from .cli import add_serve_arguments, serve_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.emulator",
                                     description="Run the reference Uploads API emulator.")
    add_serve_arguments(parser)
    return serve_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
