"""The ``rltf`` command: one entry point, one module per subcommand.

Each subcommand module defines ``add_parser(subparsers)`` and a ``run(args) -> int`` that the
parser stores as its ``func``. Exit codes: 0 success, 1 failure of the work, 2 bad usage or
configuration (one clear line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rltf import __version__
from rltf.cli import datasets, demo, evaluate, execute, generate, sft, train
from rltf.config import ConfigError
from rltf.console import setup_logging
from rltf.records import RecordError

log = logging.getLogger("rltf")

SUBCOMMANDS = (execute, evaluate, generate, sft, train, demo, datasets)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rltf",
        description="Reinforcement learning from unit-test feedback (RLTF) for code language models.",
    )
    parser.add_argument("--version", action="version", version=f"rltf {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    verbosity = common.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const=1,
        dest="verbosity",
        default=0,
        help="debug logging",
    )
    verbosity.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const=-1,
        dest="verbosity",
        help="warnings and errors only",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbosity)
    try:
        return int(args.func(args))
    except (ConfigError, RecordError, FileNotFoundError) as e:
        print(f"rltf {args.command}: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # bad input detected by a library layer (e.g. an invalid argument)
        if args.verbosity > 0:
            log.exception("invalid input")
        print(f"rltf {args.command}: error: {e}", file=sys.stderr)
        return 2
    except NotImplementedError as e:
        print(
            f"rltf {args.command}: not implemented yet{': ' + str(e) if str(e) else ''}",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt:
        print(f"rltf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
