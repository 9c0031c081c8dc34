"""Subcommands of the ``modelhub`` console command.

Each module here exposes ``register(subparsers)``, which adds its parser and sets
``func`` (``(args) -> int`` exit status) as the parser default. Modules are found by
``pkgutil`` so adding a command is adding a module; the dispatcher stays untouched.
"""

from __future__ import annotations

import pkgutil


def command_modules() -> list[str]:
    """Names of the subcommand modules in this package, sorted for a stable --help."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
