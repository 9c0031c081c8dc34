"""The safetensors header reader: real files written by the ``safetensors`` package, and lies."""

from __future__ import annotations

import ctypes
import io
import json
import struct

import pytest

from licenses.engine.safetensors_header import HeaderError, read_safetensors_header

st = pytest.importorskip("safetensors._safetensors_rust")


def _real_file(
    tensors: dict[str, tuple[str, list[int], int]], metadata: dict[str, str] | None = None
) -> bytes:
    """Serialise with the reference implementation; data is zero bytes of the right length."""
    buffers = []
    specs = {}
    for name, (dtype, shape, nbytes) in tensors.items():
        buf = ctypes.create_string_buffer(max(nbytes, 1))
        buffers.append(buf)
        specs[name] = st.TensorSpec(dtype=dtype, shape=shape, data_ptr=ctypes.addressof(buf), data_len=nbytes)
    return bytes(st.serialize(specs, metadata))


def _hand_file(header: dict | bytes, data: bytes = b"", declared: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if declared is None else declared) + raw + data


def _read(blob: bytes, size: int | None = None):
    return read_safetensors_header(io.BytesIO(blob), len(blob) if size is None else size)


def test_real_file_counts_parameters_dtypes_and_metadata():
    blob = _real_file(
        {"w": ("float32", [2, 3], 24), "b": ("float16", [3], 6), "e": ("bfloat16", [4, 5], 40)},
        {"format": "pt"},
    )
    h = _read(blob)
    assert h.tensors == 3
    assert h.parameters == 6 + 3 + 20
    assert h.dtypes == {"F32": 6, "F16": 3, "BF16": 20}
    assert h.metadata == {"format": "pt"}


def test_reads_only_the_header():
    blob = _real_file({"w": ("float32", [1000], 4000)})

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, n=-1):
            out = super().read(n)
            Counting.consumed += len(out)
            return out

    fp = Counting(blob)
    read_safetensors_header(fp, len(blob))
    assert Counting.consumed < len(blob) - 3000


def test_declared_length_beyond_file_size_is_rejected():
    blob = _hand_file({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(HeaderError, match="exceeds the file size"):
        _read(blob, size=20)


def test_length_above_cap_is_rejected_before_reading():
    blob = struct.pack("<Q", 10**12) + b"{}"
    with pytest.raises(HeaderError, match="cap"):
        read_safetensors_header(io.BytesIO(blob), None)


def test_truncated_prefix_and_truncated_header():
    with pytest.raises(HeaderError, match="truncated"):
        _read(b"\x10\x00")
    with pytest.raises(HeaderError, match="truncated"):
        read_safetensors_header(io.BytesIO(struct.pack("<Q", 50) + b'{"a":'), None)


def test_invalid_json():
    with pytest.raises(HeaderError, match="JSON"):
        _read(_hand_file(b"{not json}"))
    with pytest.raises(HeaderError, match="not a JSON object"):
        _read(_hand_file(b"[1, 2, 3]"))


def test_offsets_out_of_range_and_inconsistent_sizes():
    out_of_range = _hand_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8)
    with pytest.raises(HeaderError, match="beyond the data block"):
        _read(out_of_range)
    wrong_span = _hand_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(HeaderError, match="needs 16 bytes"):
        _read(wrong_span)
    backwards = _hand_file({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}, b"\0" * 8)
    with pytest.raises(HeaderError, match="increasing"):
        _read(backwards)


def test_bad_shape_dtype_and_metadata():
    with pytest.raises(HeaderError, match="shape"):
        _read(_hand_file({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}))
    with pytest.raises(HeaderError, match="unknown dtype"):
        _read(_hand_file({"w": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}, b"\0"))
    with pytest.raises(HeaderError, match="__metadata__"):
        _read(_hand_file({"__metadata__": {"a": 1}}))
