"""Benchmark of the audit's reference scan on a large real code base (transformers or diffusers from PyPI).

Why this comparison: the scan has to read and parse Python, so "read + ``ast.parse`` of every file" is the
floor no static scanner can beat by much; the target is a scan costing at most 1.5x that floor. Two scan
figures are printed: the real scan (which skips parsing files that mention no loading call) and a forced
scan that parses and walks every file, which isolates the cost of the analysis itself.

Usage::

    .venv/bin/python benchmarks/audit.py                      # pip-downloads transformers into a temp dir
    .venv/bin/python benchmarks/audit.py --package diffusers
    .venv/bin/python benchmarks/audit.py --source /path/to/unpacked/code --repeat 5

The package is fetched with ``pip download --no-deps`` and its wheel unpacked into a temporary folder;
nothing is installed and the project's dependencies are untouched.
"""

from __future__ import annotations

import argparse
import ast
import gc
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from licenses.engine.references import iter_files, scan_paths
from licenses.engine.refscan.python_scan import scan_python_source


def fetch(package: str, dest: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(dest),
        package,
    ]
    print("$", " ".join(cmd))
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    wheel = next(dest.glob("*.whl"))
    out = dest / "src"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(out)
    print(f"unpacked {wheel.name} into {out}")
    return out


def floor(files: list[Path]) -> int:
    """Read + ast.parse of every file: what any AST-based scanner has to pay."""
    n = 0
    for f in files:
        try:
            ast.parse(f.read_text(encoding="utf-8", errors="replace"))
            n += 1
        except SyntaxError:
            pass
    return n


def forced_scan(files: list[Path], root: Path) -> int:
    """Parse and analyse every file, without the text pre-filter."""
    refs = 0
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        refs += len(scan_python_source(text, f.relative_to(root).as_posix(), f.parent, root, tree=tree))
    return refs


def interleaved(repeat: int, fns: list[Callable[[], object]]) -> list[tuple[float, object]]:
    """Best time of each function over ``repeat`` rounds, the functions alternating within a round so
    that background load on a shared machine hits all of them alike."""
    best: list[tuple[float, object]] = [(float("inf"), None)] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            t0 = time.process_time()  # CPU time: wall clock is unusable on a loaded, shared machine
            value = fn()
            elapsed = time.process_time() - t0
            if elapsed < best[i][0]:
                best[i] = (elapsed, value)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", default="transformers")
    ap.add_argument("--source", type=Path, help="scan this folder instead of downloading a package")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        root = args.source.resolve() if args.source else fetch(args.package, Path(tmp))
        py_files = [p for p in iter_files(root) if p.suffix == ".py"]
        all_bytes = sum(p.stat().st_size for p in py_files)
        print(f"code base: {root} — {len(py_files)} Python files, {all_bytes / 1e6:.1f} MB")
        floor(py_files)  # warm the OS page cache so every measurement reads from memory
        (t_floor, _), (t_scan, result), (t_forced, forced_refs) = interleaved(
            args.repeat,
            [lambda: floor(py_files), lambda: scan_paths([root]), lambda: forced_scan(py_files, root)],
        )
        print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        refs = result.references  # type: ignore[union-attr]
        resolved = [r for r in refs if r.resolved]
        print(f"floor  read+ast.parse : {t_floor:7.2f} s  {len(py_files) / t_floor:8.0f} files/s")
        print(
            f"scan   (modelhub audit): {t_scan:7.2f} s  {result.files_scanned / t_scan:8.0f} files/s  "  # type: ignore[union-attr]
            f"ratio {t_scan / t_floor:.2f}x  ({result.files_scanned} files incl. configs/notebooks)"  # type: ignore[union-attr]
        )
        print(f"forced (parse+analyse every .py): {t_forced:7.2f} s  ratio {t_forced / t_floor:.2f}x")
        print(
            f"references: {len(refs)} ({len(resolved)} resolved, {len(refs) - len(resolved)} unresolved, "
            f"{len({r.model for r in resolved})} distinct ids); forced pass over .py only: {forced_refs}; "
            f"scan errors: {len(result.errors)}"  # type: ignore[union-attr]
        )
        top: dict[str, int] = {}
        for r in resolved:
            top[r.model] = top.get(r.model, 0) + 1  # type: ignore[index]
        common = sorted(top.items(), key=lambda kv: -kv[1])[:5]
        print("most referenced:", ", ".join(f"{m} ({n})" for m, n in common))
    return 0


if __name__ == "__main__":
    sys.exit(main())
