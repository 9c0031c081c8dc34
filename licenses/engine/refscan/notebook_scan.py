"""Model references in Jupyter notebooks.

Why the cells are joined into one module: a notebook is one namespace, so a constant set in cell 1
and used in cell 5 must resolve. IPython magics are blanked (keeping line numbers); ``!`` shell
escapes go to the shell scanner. Every reference carries ``cell`` (1-based position among all
cells, as Jupyter shows them) and ``cell_line``, and ``line`` is the line of the ``.ipynb`` file
holding that source line, so SARIF/editor locations point at real text in the file.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from dataclasses import replace
from pathlib import Path

from licenses.engine.refscan.ids import Reference
from licenses.engine.refscan.python_scan import mentions_loader, scan_python_source
from licenses.engine.refscan.shell_scan import scan_shell_text

_SOURCE_KEY = re.compile(r'"source"\s*:')
#: nbformat 3 (before 2015): code cells keep their text under "input", markdown cells under "source".
_V3_SOURCE_KEY = re.compile(r'"(?:source|input)"\s*:')


def _cells(nb: dict) -> tuple[list[dict], re.Pattern[str]]:
    """The notebook's cells in order, each with its text under "source", and the key pattern that
    finds their text in the file. nbformat 4 lists "cells"; nbformat 3 nests them in "worksheets"."""
    if "cells" in nb or "worksheets" not in nb:
        return nb.get("cells") or [], _SOURCE_KEY
    cells = [c for ws in nb.get("worksheets") or [] if isinstance(ws, dict) for c in ws.get("cells") or []]
    return [
        {**c, "source": c.get("input", "")} if c.get("cell_type") == "code" else c
        for c in cells
        if isinstance(c, dict)
    ], _V3_SOURCE_KEY


def _json_lines_of_sources(
    text: str, cells: list[dict], key: re.Pattern[str] = _SOURCE_KEY
) -> list[list[int] | int]:
    """For each cell, the .ipynb line of every source line (or the line of its "source" key)."""
    raw = text.splitlines()
    key_lines = [i for i, line in enumerate(raw, 1) if key.search(line)]
    out: list[list[int] | int] = []
    for idx, cell in enumerate(cells):
        if idx >= len(key_lines):
            out.append(1)
            continue
        kline = key_lines[idx]
        src = cell.get("source", "")
        if isinstance(src, list) and src and not raw[kline - 1].rstrip().endswith("]"):
            lines: list[int] = []
            for k, piece in enumerate(src, 1):
                probe = json.dumps(piece)[1:-1][:24]
                cand = kline + k
                lines.append(cand if cand <= len(raw) and probe in raw[cand - 1] else kline)
            out.append(lines)
        else:
            out.append(kline)
    return out


def scan_notebook_text(text: str, file: str, file_dir: Path, root: Path) -> list[Reference]:
    nb = json.loads(text)
    cells, key = _cells(nb) if isinstance(nb, dict) else ([], _SOURCE_KEY)
    json_lines = _json_lines_of_sources(text, cells, key)
    virtual: list[str] = []
    origin: list[tuple[int, int]] = []  # virtual line → (cell index, line in cell)
    refs: list[Reference] = []

    def locate(cell_idx: int, cell_line: int) -> int:
        where = json_lines[cell_idx]
        return where[cell_line - 1] if isinstance(where, list) and cell_line - 1 < len(where) else int(where)  # type: ignore[arg-type]

    for ci, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = src.splitlines()
        cell_magic = bool(lines) and lines[0].lstrip().startswith("%%")
        for li, line in enumerate(lines, 1):
            stripped = line.lstrip()
            if stripped.startswith("!") or (cell_magic and lines[0].lstrip().startswith(("%%bash", "%%sh"))):
                shell = stripped[1:] if stripped.startswith("!") else line
                for r in scan_shell_text(shell, file, file_dir, root):
                    refs.append(replace(r, line=locate(ci, li), cell=ci + 1, cell_line=li))
                virtual.append("")
            elif cell_magic or stripped.startswith(("%", "?")) or stripped.endswith("?"):
                virtual.append("")
            else:
                virtual.append(line)
            origin.append((ci, li))
    source = "\n".join(virtual) + "\n"
    if mentions_loader(source):
        try:
            found = scan_python_source(source, file, file_dir, root, tree=ast.parse(source))
        except SyntaxError:
            found = _per_cell(virtual, origin, file, file_dir, root)
        for r in found:
            ci, li = origin[r.line - 1] if 0 < r.line <= len(origin) else (0, r.line)
            refs.append(replace(r, line=locate(ci, li), cell=ci + 1, cell_line=li))
    refs.sort(key=lambda r: (r.line, r.column))
    return refs


def _per_cell(
    virtual: list[str], origin: list[tuple[int, int]], file: str, file_dir: Path, root: Path
) -> list[Reference]:
    """Fallback when one cell does not parse: scan each cell alone, keeping virtual line numbers."""
    found: list[Reference] = []
    start = 0
    while start < len(origin):
        ci = origin[start][0]
        end = start
        while end < len(origin) and origin[end][0] == ci:
            end += 1
        chunk = "\n" * start + "\n".join(virtual[start:end]) + "\n"
        with contextlib.suppress(SyntaxError):  # a broken cell hides only its own references
            found.extend(scan_python_source(chunk, file, file_dir, root, tree=ast.parse(chunk)))
        start = end
    return found
