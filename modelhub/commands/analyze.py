"""``modelhub analyze``: licence analysis of model repositories on disk, no server needed.

Output formats: ``json`` (the contract's array, one object per repository, for machines),
``table`` (a terminal summary) and ``markdown`` (the same summary for a PR comment or a
report). Exit 0 whenever the analysis ran, whatever it found; 2 when a PATH could not be
read (contract.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2

_COLUMNS = ("id", "licence", "class", "commercial", "violations", "confidence")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="analyse model repositories on disk (licence, lineage, violations)",
        description="Analyse model repositories on disk. A PATH is a README.md, a repository folder, or any "
        "folder above repository folders (every folder holding a README.md is a repository).",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--format", choices=("json", "table", "markdown"), default="json")
    parser.add_argument(
        "--registry",
        metavar="URL",
        help="a Modelhub (or any Hub-compatible) registry to resolve base models from, after the "
        "repositories analysed together and before the bundled table; token from $MODELHUB_TOKEN",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # the engine loads its knowledge base on first use
    from licenses.engine.analyze import analyze_paths, registry_resolver
    from licenses.engine.snapshot import UNREADABLE

    registry = registry_resolver(args.registry, os.environ.get("MODELHUB_TOKEN"))
    try:
        results = analyze_paths(list(args.paths), registry=registry)
    except (FileNotFoundError, NotADirectoryError, ValueError, PermissionError) as exc:
        print(f"modelhub analyze: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not results:
        print("modelhub analyze: no repositories (folders holding a README.md) found", file=sys.stderr)
    for error in getattr(registry, "errors", [])[:5]:
        print(f"modelhub analyze: registry: {error}", file=sys.stderr)
    if args.format == "json":
        json.dump(results, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(results))
    else:
        sys.stdout.write(render_table(results))
    unreadable = [
        f"{r['id']}: {problem}"
        for r in results
        for problem in r["card"]["problems"]
        if f": {UNREADABLE}: " in problem
    ]
    if unreadable:  # judged without files it could not read: the answer is not to be trusted
        for line in unreadable[:10]:
            print(f"modelhub analyze: could not read {line}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _row(result: dict[str, Any]) -> tuple[str, ...]:
    lic = result["license"]
    return (
        result["id"],
        lic["key"],
        lic["class"],
        lic["commercial_use"],
        str(len(result["violations"])),
        f"{lic['confidence']:.2f}",
    )


def render_table(results: list[dict[str, Any]]) -> str:
    """Fixed-width columns sized to the content, readable in an 80+ column terminal."""
    rows = [_COLUMNS, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"{len(results)} repositor{'y' if len(results) == 1 else 'ies'} analysed")
    return "\n".join(lines) + "\n"


def render_markdown(results: list[dict[str, Any]]) -> str:
    """A GitHub-flavoured markdown table (pipes in values escaped)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "|".join("---" for _ in _COLUMNS) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in _row(r)) + " |" for r in results]
    return "\n".join(lines) + "\n"
