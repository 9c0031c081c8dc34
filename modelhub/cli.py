"""The ``modelhub`` console command: one entry point, one subcommand per task.

The subcommands run the Django-free engine directly, so ``analyze`` and ``audit``
work on a laptop or in CI without a server or database.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Sequence

from modelhub import __version__
from modelhub.commands import command_modules

#: Exit status for "could not read the input or the arguments" (contract.md).
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelhub",
        description="Model licensing and transparency registry: analyse model repositories, audit code bases.",
    )
    parser.add_argument("--version", action="version", version=f"modelhub {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"modelhub.commands.{name}").register(subparsers)
    return parser


EXIT_BROKEN_PIPE = 141
#: The output could not be written; the same status as any input or output the command could not handle.
EXIT_OUTPUT = 2
OUTPUT_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


def _stdout_to_devnull() -> None:
    """After stdout failed: the interpreter's final flush of what is left must not fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 on --help/--version
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status = int(args.func(args))
        # flushed here, not at interpreter exit: a reader that left after the last write would
        # otherwise go unnoticed and the command's own status (0 or the audit's 1) be returned
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # the reader went away (``modelhub analyze … | head``): no traceback; stdout is pointed
        # at /dev/null so the interpreter's final flush cannot fail again; 141 is 128 + SIGPIPE,
        # what a shell reports for a writer its pipe killed
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if exc.errno not in OUTPUT_FULL:
            raise
        # stdout cannot take the report (``> /dev/full``, a full disk): say so, no traceback
        print(f"modelhub: cannot write the output: {exc.strerror}", file=sys.stderr)
        _stdout_to_devnull()
        return EXIT_OUTPUT


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
