"""Weight files of a repository: formats, quantisations and parameter counts, without loading a tensor."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from licenses.engine.card_metadata import frozen_record
from licenses.engine.safetensors_header import HeaderError, read_safetensors_header
from licenses.engine.types import RepoSnapshot


@dataclass(frozen=True)
class WeightsInfo:
    """What the weight files say about the model, without loading a tensor."""

    files: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    parameters: int | None = None
    tensors: int | None = None
    dtypes: dict[str, int] = field(default_factory=dict)
    total_size: int | None = None  # bytes, from model.safetensors.index.json
    source: str | None = None  # where ``parameters`` came from
    quantizations: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "formats": list(self.formats),
            "parameters": self.parameters,
            "tensors": self.tensors,
            "dtypes": dict(self.dtypes),
            "total_size": self.total_size,
            "source": self.source,
            "quantizations": list(self.quantizations),
            "errors": list(self.errors),
        }


_WEIGHT_FORMATS = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".ggml": "ggml",
    ".bin": "pytorch-bin",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "checkpoint",
    ".h5": "keras-h5",
    ".keras": "keras",
    ".onnx": "onnx",
    ".msgpack": "flax",
    ".tflite": "tflite",
    ".mlmodel": "coreml",
    ".npz": "numpy",
    ".pkl": "pickle",
    ".nemo": "nemo",
}
_NOT_WEIGHTS = re.compile(r"(^|/)(training_args|optimizer|scheduler|rng_state|tokenizer|vocab)[^/]*$")
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q[1-8]_[0-9A-Z_]*[0-9A-Z]|Q[1-8]|F16|BF16|F32|[1-8]bit|AWQ|GPTQ|EXL2)(?![A-Za-z0-9])",
                    re.IGNORECASE)  # fmt: skip
MAX_HEADER_FILES = 256


#: Every extension at once: one ``endswith`` call passes over the README, configs and other
#: non-weight files (most of a repository) instead of one call per extension.
_WEIGHT_SUFFIXES = tuple(_WEIGHT_FORMATS)


def weight_files(files: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for path in files:
        low = path.lower()
        if not low.endswith(_WEIGHT_SUFFIXES):
            continue
        for ext, fmt in _WEIGHT_FORMATS.items():
            if low.endswith(ext) and not _NOT_WEIGHTS.search(low):
                out.append((path, fmt))
                break
    return out


def json_object(texts: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = texts.get(name)
    if not raw or len(raw) > 20_000_000:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


_SHARD_INDEX = "model.safetensors.index.json"


def _no_weights() -> WeightsInfo:
    """What :func:`read_weights` finds in a snapshot without weight files or a shard index
    (a fresh record each time: ``dtypes`` is a mutable dict)."""
    return frozen_record(
        WeightsInfo,
        {"files": (), "formats": (), "parameters": None, "tensors": None, "dtypes": {}, "total_size": None,
         "source": None, "quantizations": (), "errors": ()},
    )  # fmt: skip


def read_weights(snapshot: RepoSnapshot) -> WeightsInfo:
    """Weight formats from file names; parameters from safetensors headers or the shard index.

    Only the 8-byte length and JSON header of each ``.safetensors`` file are read, through
    ``snapshot.open_file``; a header that lies is reported in ``errors`` and ignored.
    """
    found = weight_files(snapshot.files)
    if not found:
        for name in snapshot.texts:
            if name.endswith(_SHARD_INDEX):
                break
        else:
            # no weight file and no shard index (every README-only snapshot): nothing below
            # would find anything, and its generators and loops cost more than this record
            return _no_weights()
    formats = tuple(dict.fromkeys(fmt for _, fmt in found))
    quants = tuple(
        dict.fromkeys(
            q.upper() for path, fmt in found if fmt in ("gguf", "ggml") for q in _QUANT.findall(path)
        )
    )
    errors: list[str] = []
    total_size: int | None = None
    for name in snapshot.texts:
        if name.endswith(_SHARD_INDEX):
            index = json_object(snapshot.texts, name)
            meta = index.get("metadata")
            if isinstance(meta, Mapping) and isinstance(meta.get("total_size"), (int, float)):
                total_size = (total_size or 0) + int(meta["total_size"])
    parameters = tensors = None
    dtypes: dict[str, int] = {}
    source = None
    st_files = [p for p, fmt in found if fmt == "safetensors"]
    if st_files and snapshot.open_file is not None:
        params = count = 0
        read_any = False
        for path in sorted(st_files)[:MAX_HEADER_FILES]:
            try:
                with snapshot.open_file(path) as fp:
                    header = read_safetensors_header(fp, snapshot.files.get(path))
            except HeaderError as exc:
                errors.append(f"{path}: {exc}")
                continue
            except OSError as exc:
                errors.append(f"{path}: cannot read ({exc.__class__.__name__})")
                continue
            read_any = True
            params += header.parameters
            count += header.tensors
            for dt, n in header.dtypes.items():
                dtypes[dt] = dtypes.get(dt, 0) + n
        if len(st_files) > MAX_HEADER_FILES:
            errors.append(f"only the first {MAX_HEADER_FILES} of {len(st_files)} safetensors files were read")
        if read_any:
            parameters, tensors, source = params, count, "safetensors headers"
    return frozen_record(
        WeightsInfo,
        {
            "files": tuple(p for p, _ in found),
            "formats": formats,
            "parameters": parameters,
            "tensors": tensors,
            "dtypes": dtypes,
            "total_size": total_size,
            "source": source,
            "quantizations": quants,
            "errors": tuple(errors),
        },
    )
