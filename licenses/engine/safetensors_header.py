"""Read the header of a safetensors file without touching its tensors.

A safetensors file is an 8-byte little-endian header length, a JSON header describing
every tensor (dtype, shape, byte offsets into the data block) and the raw data. The
parameter count, dtypes and tensor count a model card rarely states are all in the
header, so the engine reads only that part. Uploaded files are untrusted: the
declared length may exceed the file, the JSON may be invalid or huge, and offsets may
point outside the data block. Every such lie raises :class:`HeaderError` instead of
being believed, and the header size is capped so a hostile file cannot make us
allocate gigabytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, BinaryIO

#: Largest header we are willing to read. Real headers are kilobytes to a few MB
#: (tens of thousands of tensors); the reference implementation caps at 100 MB too.
MAX_HEADER_BYTES = 100 * 1024 * 1024

#: Bytes per element. Sub-byte formats are packed, so their size check is skipped.
DTYPE_BYTES: dict[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
    "C64": 8,
}
PACKED_DTYPES = frozenset({"F4", "F6_E2M3", "F6_E3M2"})


class HeaderError(ValueError):
    """The file is not a well-formed safetensors file (or lies about itself)."""


@dataclass(frozen=True)
class SafetensorsHeader:
    """What the header says: tensor count, total elements, elements per dtype, metadata."""

    tensors: int
    parameters: int
    dtypes: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tensors": self.tensors,
            "parameters": self.parameters,
            "dtypes": dict(self.dtypes),
            "metadata": dict(self.metadata),
        }


def _read_exact(fp: BinaryIO, n: int) -> bytes:
    chunks: list[bytes] = []
    remaining = n
    while remaining > 0:
        chunk = fp.read(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _check_tensor(name: str, spec: Any, data_len: int | None) -> tuple[str, int]:
    if not isinstance(spec, dict):
        raise HeaderError(f"tensor {name!r}: entry is not an object")
    dtype = spec.get("dtype")
    shape = spec.get("shape")
    offsets = spec.get("data_offsets")
    if not isinstance(dtype, str) or not dtype:
        raise HeaderError(f"tensor {name!r}: missing dtype")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise HeaderError(f"tensor {name!r}: shape must be a list of non-negative integers")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise HeaderError(f"tensor {name!r}: data_offsets must be two integers")
    begin, end = offsets
    if begin < 0 or end < begin:
        raise HeaderError(f"tensor {name!r}: data_offsets [{begin}, {end}] are not an increasing range")
    if data_len is not None and end > data_len:
        raise HeaderError(
            f"tensor {name!r}: data_offsets end {end} lies beyond the data block ({data_len} bytes)"
        )
    elements = math.prod(shape)
    size = DTYPE_BYTES.get(dtype)
    if size is not None and elements * size != end - begin:
        raise HeaderError(
            f"tensor {name!r}: {dtype}{shape} needs {elements * size} bytes but offsets span {end - begin}"
        )
    if size is None and dtype not in PACKED_DTYPES:
        raise HeaderError(f"tensor {name!r}: unknown dtype {dtype!r}")
    return dtype, elements


def read_safetensors_header(
    fp: BinaryIO, file_size: int | None, max_header_bytes: int = MAX_HEADER_BYTES
) -> SafetensorsHeader:
    """Parse the header at the current position of ``fp``; never reads tensor data.

    ``file_size`` is the size the repository listing reports. When given, a header
    length or tensor offset beyond it is rejected (a truncated upload or a lie).
    """
    prefix = _read_exact(fp, 8)
    if len(prefix) < 8:
        raise HeaderError(f"truncated: {len(prefix)} bytes, the 8-byte header length is missing")
    length = int.from_bytes(prefix, "little")
    if length < 2:
        raise HeaderError(f"declared header length {length} is too small for a JSON object")
    if length > max_header_bytes:
        raise HeaderError(f"declared header length {length} exceeds the {max_header_bytes}-byte cap")
    if file_size is not None and 8 + length > file_size:
        raise HeaderError(f"declared header length {length} exceeds the file size {file_size}")
    raw = _read_exact(fp, length)
    if len(raw) < length:
        raise HeaderError(f"truncated: header declares {length} bytes, only {len(raw)} present")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeaderError(f"header is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise HeaderError("header is not a JSON object")
    data_len = None if file_size is None else file_size - 8 - length
    metadata: dict[str, str] = {}
    raw_meta = header.get("__metadata__")
    if raw_meta is not None:
        if not isinstance(raw_meta, dict) or not all(isinstance(v, str) for v in raw_meta.values()):
            raise HeaderError("__metadata__ must map strings to strings")
        metadata = dict(raw_meta)
    dtypes: dict[str, int] = {}
    parameters = 0
    tensors = 0
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype, elements = _check_tensor(name, spec, data_len)
        dtypes[dtype] = dtypes.get(dtype, 0) + elements
        parameters += elements
        tensors += 1
    return SafetensorsHeader(
        tensors=tensors, parameters=parameters, dtypes=dtypes, metadata=metadata, header_bytes=length
    )
