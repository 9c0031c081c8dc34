"""Find every model and dataset a code base pulls in, without running any of it.

Why static: an audit in CI must not import the project (side effects, heavy dependencies,
downloads). The per-language passes live in ``licenses.engine.refscan``; this module walks the
tree, picks the pass by file name, bounds file sizes, skips version-control folders, virtual
environments and ``node_modules``, and returns every ``Reference`` plus the files it could not read.

Public API::

    scan_paths(paths, root=None, max_bytes=...) -> ScanResult
    scan_file(path, root) -> list[Reference]
    Reference(model, kind, file, line, column, call, resolved, expression, local_path, note, cell, cell_line)
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from licenses.engine.refscan.config_scan import scan_json_text, scan_toml_text, scan_yaml_text
from licenses.engine.refscan.ids import Reference
from licenses.engine.refscan.notebook_scan import scan_notebook_text
from licenses.engine.refscan.python_scan import mentions_loader, scan_python_source
from licenses.engine.refscan.shell_scan import scan_shell_text

__all__ = ["Reference", "ScanError", "ScanResult", "iter_files", "scan_file", "scan_paths"]

SKIP_DIRS = frozenset(
    # virtual environments are found by their pyvenv.cfg, whatever their name: a folder merely named
    # ``env`` is as often a package of the project (an RL environment) and was silently skipped
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"}
    | {
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        ".ipynb_checkpoints",
        ".idea",
        ".cache",
    }
)
#: Code and config files larger than this are skipped (generated, vendored or data, not code).
MAX_BYTES = 2_000_000
#: Notebooks carry outputs (images), so they get a larger bound.
MAX_NOTEBOOK_BYTES = 20_000_000
#: JSON files that are model artefacts or lockfiles, never configuration naming a model to pull.
_SKIP_JSON = frozenset(
    {"tokenizer.json", "package-lock.json", "vocab.json", "merges.json", "tokenizer_config.json"}
)


@dataclass(frozen=True)
class ScanError:
    file: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "message": self.message}


@dataclass
class ScanResult:
    references: list[Reference] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0


Scanner = Callable[[str, str, Path, Path], list[Reference]]


def _python(text: str, file: str, file_dir: Path, root: Path) -> list[Reference]:
    if not mentions_loader(text):
        return []
    return scan_python_source(text, file, file_dir, root, tree=ast.parse(text, filename=file))


def _dockerfile(text: str, file: str, file_dir: Path, root: Path) -> list[Reference]:
    return scan_shell_text(text, file, file_dir, root, dockerfile=True)


def scanner_for(path: Path) -> Scanner | None:
    """The pass for a file, by name; None for files that cannot name a model."""
    name = path.name
    lower = name.lower()
    suffix = path.suffix.lower()
    if suffix == ".py":
        return _python
    if suffix == ".ipynb":
        return scan_notebook_text
    if suffix in {".yaml", ".yml"}:
        return scan_yaml_text
    if suffix == ".json" and lower not in _SKIP_JSON and not lower.endswith(".schema.json"):
        return scan_json_text
    if suffix == ".toml":
        return scan_toml_text
    if lower.startswith(("dockerfile", "containerfile")) or suffix in {".dockerfile", ".containerfile"}:
        return _dockerfile
    if suffix in {".sh", ".bash", ".zsh"}:
        return scan_shell_text
    return None


def _is_venv(path: Path) -> bool:
    try:
        return (path / "pyvenv.cfg").is_file()
    except OSError:  # a folder we may not look into is not known to be a venv: the walk reports it
        return False


def iter_files(root: Path, on_error: Callable[[OSError], None] | None = None) -> Iterator[Path]:
    """Files under ``root`` in a stable order, pruning skipped folders and virtual environments.

    ``on_error`` receives each folder that cannot be listed (``os.walk`` would skip it silently):
    an audit must say which part of the tree it did not see.
    """
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dp = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not _is_venv(dp / d))
        for f in sorted(filenames):
            yield dp / f


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def scan_file(path: Path, root: Path) -> list[Reference]:
    """References in one file (raises OSError/SyntaxError/ValueError when it cannot be read/parsed)."""
    scanner = scanner_for(path)
    if scanner is None:
        return []
    text = path.read_text(encoding="utf-8-sig", errors="replace")  # a BOM is no code
    return scanner(text, _rel(path, root), path.parent, root)


def scan_paths(
    paths: Iterable[str | Path], root: str | Path | None = None, max_bytes: int = MAX_BYTES
) -> ScanResult:
    """Scan files and folders; file names in the result are relative to ``root`` (default: the first path)."""
    path_list = [Path(p) for p in paths]
    if root is None:
        first = path_list[0] if path_list else Path(".")
        root = first if first.is_dir() else first.parent
    root_path = Path(root).resolve()
    result = ScanResult()

    def unlisted(exc: OSError) -> None:
        folder = Path(exc.filename) if exc.filename else Path(".")
        result.errors.append(ScanError(_rel(folder, root_path), f"cannot list folder: {exc.strerror or exc}"))

    for top in path_list:
        for path in iter_files(top, unlisted):
            scanner = scanner_for(path)
            if scanner is None:
                continue
            rel = _rel(path, root_path)
            try:
                size = path.stat().st_size
                limit = MAX_NOTEBOOK_BYTES if path.suffix.lower() == ".ipynb" else max_bytes
                if size > limit:
                    result.errors.append(
                        ScanError(rel, f"skipped: {size} bytes is over the {limit}-byte bound")
                    )
                    continue
                text = path.read_text(encoding="utf-8-sig", errors="replace")  # a BOM is no code
                result.files_scanned += 1
                result.bytes_scanned += size
                result.references.extend(scanner(text, rel, path.parent, root_path))
            except SyntaxError as exc:
                result.errors.append(ScanError(rel, f"syntax error line {exc.lineno}: {exc.msg}"))
            except (OSError, ValueError, UnicodeError) as exc:
                result.errors.append(ScanError(rel, f"{type(exc).__name__}: {exc}"))
            except Exception as exc:  # a YAML/TOML oddity must not stop the audit of everything else
                result.errors.append(ScanError(rel, f"{type(exc).__name__}: {exc}"))
    return result
