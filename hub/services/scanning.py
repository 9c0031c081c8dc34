"""Scanning weight files: pickle imports (picklescan) and safetensors headers.

"Contains a pickle" is recorded on its own, whatever the scanner concludes: pickle
scanners are blocklists that get bypassed (peers.md §0.6), so a policy can refuse
pickles outright while the dangerous-import list is defence in depth. Safetensors files
are never loaded: only their header is read, for dtypes, shapes and parameter count.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import pickletools
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

from picklescan.scanner import SafetyLevel, scan_bytes

from licenses.engine.safetensors_header import HeaderError, read_safetensors_header

log = logging.getLogger(__name__)

PICKLE_SUFFIXES = (
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".pkl",
    ".pickle",
    ".joblib",
    ".npy",
    ".npz",
    ".zip",
    ".mar",
)
SAFETENSORS_SUFFIX = ".safetensors"
#: Largest file spooled to disk for a pickle scan; beyond it the scan records an error.
MAX_SCAN_BYTES = 64 * 1024**3
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


@dataclass
class ScanOutcome:
    file_format: str
    scanner: str
    contains_pickle: bool = False
    dangerous_imports: list[str] = field(default_factory=list)
    safetensors_dtypes: dict[str, int] = field(default_factory=dict)
    tensor_count: int | None = None
    parameter_count: int | None = None
    header_metadata: dict[str, str] = field(default_factory=dict)
    error: str = ""


def wants_scan(path: str) -> bool:
    lower = path.lower()
    return lower.endswith(PICKLE_SUFFIXES) or lower.endswith(SAFETENSORS_SUFFIX)


def scan_safetensors(stream: BinaryIO, size: int) -> ScanOutcome:
    out = ScanOutcome("safetensors", "safetensors-header")
    try:
        header = read_safetensors_header(stream, size)
    except HeaderError as exc:
        out.error = f"invalid safetensors header: {exc}"
        return out
    out.safetensors_dtypes = dict(header.dtypes)
    out.tensor_count = header.tensors
    out.parameter_count = header.parameters
    out.header_metadata = dict(header.metadata)
    return out


def _seekable_copy(stream: BinaryIO, size: int) -> contextlib.AbstractContextManager[BinaryIO]:
    """The scanners seek; S3 bodies don't. Spool to a temp file (disk, not memory)."""
    if getattr(stream, "seekable", lambda: False)():
        return contextlib.nullcontext(stream)
    if size > MAX_SCAN_BYTES:
        raise ValueError(f"file of {size} bytes is larger than the {MAX_SCAN_BYTES}-byte scan limit")
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - returned as the context manager
    shutil.copyfileobj(stream, spool, 1024 * 1024)
    spool.seek(0)
    return spool


def _member_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The first two bytes of a member (inflating at most one small chunk), or b'' if unreadable."""
    try:
        with zf.open(info) as member:
            return member.read(2)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError, ValueError):
        return b""


def _has_pickle(fh: BinaryIO) -> tuple[bool, str]:
    fh.seek(0)
    if zipfile.is_zipfile(fh):
        fh.seek(0)
        with zipfile.ZipFile(fh) as zf:
            names = zf.namelist()
            named = any(n.endswith((".pkl", ".pickle")) or n.endswith("/data.pkl") for n in names)
            # A pickle under another name is still one (picklescan finds those by their header too).
            found = named or any(_member_head(zf, info) in PICKLE_MAGIC for info in zf.infolist()[:1000])
        fh.seek(0)
        return found, "zip-pickle"
    fh.seek(0)
    head = fh.read(2)
    fh.seek(0)
    return head in PICKLE_MAGIC or (head[:1] == b"\x80"), "pickle"


#: picklescan disassembles a pickle inside an archive in memory, and a pickle opcode can carry an
#: argument as long as the member: past these bounds an archive is reported, not expanded.
MAX_ARCHIVED_PICKLE_BYTES = 256 * 1024**2
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_FROM_BYTES = 16 * 1024**2


def zip_bomb(fh: BinaryIO) -> str:
    """Why expanding this zip would be unbounded work, or ''. The sizes come from the central
    directory, and ``zipfile`` never inflates a member past its declared size, so a member cannot
    lie its way past the check."""
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as zf:
            for info in zf.infolist():
                ratio = info.file_size / max(1, info.compress_size)
                if info.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
                    return f"{info.filename} inflates {ratio:.0f}x to {info.file_size} bytes"
                if info.filename.endswith((".pkl", ".pickle")) and info.file_size > MAX_ARCHIVED_PICKLE_BYTES:
                    return f"{info.filename} is a {info.file_size}-byte pickle (limit {MAX_ARCHIVED_PICKLE_BYTES})"
    finally:
        fh.seek(0)
    return ""


#: Modules picklescan 1.0.5 only calls "suspicious" although any global from them loads code:
#: ``importlib.import_module("os")`` is the known blocklist evasion (peers.md §3, picklescan #66,
#: the unmerged PR #74). No weight file needs them, so they count as dangerous here.
CODE_LOADING_MODULES = frozenset({"importlib", "marshal", "runpy", "code", "codeop", "pydoc", "ctypes"})

ZIP_MAGIC = b"PK\x03\x04"
NUMPY_MAGIC = b"\x93NUMPY"


def sniff(stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    """The first bytes of ``stream`` and a stream that still yields everything from the start."""
    head = stream.read(8)
    if getattr(stream, "seekable", lambda: False)():
        stream.seek(0)
        return head, stream
    return head, _Prepended(head, stream)


class _Prepended:
    """A read-only stream: ``head`` followed by the rest of ``stream`` (for unseekable S3 bodies)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head, self.stream = head, stream

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n < 0:
                out, self.head = self.head + self.stream.read(), b""
                return out
            out, self.head = self.head[:n], self.head[n:]
            return out if len(out) == n else out + self.stream.read(n - len(out))
        return self.stream.read(n)

    def seekable(self) -> bool:
        return False


#: Containers that can hold a pickle: zip (torch, npz), numpy, 7z, and compressions joblib uses.
CONTAINER_MAGIC = (ZIP_MAGIC, NUMPY_MAGIC, b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")
PICKLE_OPCODES = frozenset(op.code.encode("latin-1") for op in pickletools.opcodes)


def looks_serialised(head: bytes) -> bool:
    """Could loading this run a pickle? A container that can hold one, or a first byte that is a
    pickle opcode (any protocol: protocol 0 starts with ``c``, ``(`` …). Anything else fails at
    the unpickler's first byte, so it cannot execute code and is not worth spooling."""
    return head.startswith(CONTAINER_MAGIC) or head[:1] in PICKLE_OPCODES


def scan_pickle(stream: BinaryIO, size: int, path: str) -> ScanOutcome:
    out = ScanOutcome("pickle", f"picklescan {importlib.metadata.version('picklescan')}")
    head, stream = sniff(stream)
    if not looks_serialised(head):
        # Neither pickle nor an archive that could hold one: nothing can execute on load.
        out.file_format = "unknown"
        return out
    try:
        with _seekable_copy(stream, size) as fh:
            out.contains_pickle, out.file_format = _has_pickle(fh)
            if out.file_format == "zip-pickle" and (bomb := zip_bomb(fh)):
                out.contains_pickle = True  # unscanned: nothing can be vouched for
                out.error = f"archive not expanded: {bomb}"
                return out
            if path.lower().endswith((".npy", ".npz")) and not out.contains_pickle:
                out.file_format = "numpy"
            ext = "." + path.rsplit(".", 1)[-1].lower() if "." in path else None
            result = scan_bytes(fh, path, ext)
    except Exception as exc:  # scanners choke on junk; the outcome records it instead of failing the revision
        log.info("scan of %s failed: %s", path, exc)
        out.error = f"scan failed: {exc}"
        return out
    if result.globals:
        out.contains_pickle = True
    out.dangerous_imports = sorted(
        {
            f"{g.module}.{g.name}"
            for g in result.globals
            if g.safety == SafetyLevel.Dangerous or g.module.split(".")[0] in CODE_LOADING_MODULES
        }
    )
    if result.scan_err and not out.error:
        out.error = "the scanner could not parse the whole file"
    return out


def scan_file(path: str, size: int, stream: BinaryIO) -> ScanOutcome:
    if path.lower().endswith(SAFETENSORS_SUFFIX):
        return scan_safetensors(stream, size)
    return scan_pickle(stream, size, path)
