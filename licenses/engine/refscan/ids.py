"""What a model reference is: the ``Reference`` record and the rules for Hub ids vs local paths.

Kept apart from the scanners so that every language applies exactly the same rules: a string is a
Hub id when it looks like ``owner/name`` (or a legacy single-segment id where the call is
unambiguously a Hub call), and a path when it starts like one or names an existing folder.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["model", "dataset"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
_PREFIXES = ("hf-hub:", "hf://", "https://huggingface.co/", "http://huggingface.co/", "huggingface.co/")

#: ``load_dataset`` builder names that read local files, not Hub datasets.
PACKAGED_BUILDERS = frozenset(
    {"csv", "json", "jsonl", "parquet", "text", "arrow", "pandas", "sql", "webdataset", "imagefolder"}
    | {"audiofolder", "videofolder", "xml", "generator", "spark", "cache"}
)


@dataclass(frozen=True)
class Reference:
    """One place where code pulls in a model or dataset.

    ``model`` is the Hub id (or the local path when ``local_path`` is set); ``None`` when it could
    not be determined statically, in which case ``resolved`` is false and ``expression`` holds the
    source text that would decide it. ``line``/``column`` are 1-based. For notebooks ``line`` is the
    line of the ``.ipynb`` file and ``cell``/``cell_line`` locate it inside the notebook.
    """

    model: str | None
    kind: Kind
    file: str
    line: int
    column: int
    call: str
    resolved: bool
    expression: str = ""
    local_path: str | None = None
    note: str = ""
    cell: int | None = None
    cell_line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None and v != ""} | {"resolved": self.resolved}


def _hub_path(value: str) -> str | None:
    """What follows a Hub prefix (``hf://``, ``https://huggingface.co/`` …); None without one."""
    return next((value[len(p) :] for p in _PREFIXES if value.startswith(p)), None)


def strip_hub_prefix(value: str) -> str:
    """``hf-hub:org/name``, ``https://huggingface.co/org/name/tree/main`` → ``org/name``."""
    v = value.strip()
    rest = _hub_path(v)
    if rest is None:
        return v
    rest = rest.removeprefix("datasets/")
    parts = rest.split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else rest


def looks_like_path(value: str) -> bool:
    v = value.strip()
    return (
        v.startswith(("./", "../", "/", "~", ".\\"))
        or v in {".", ".."}
        or "\\" in v
        or v.count("/") > 1
        or bool(re.match(r"^[A-Za-z]:[\\/]", v))
    )


#: The Hub's legacy ids without an owner (``gpt2``, ``bert-base-uncased``, ``t5-small`` …): a closed set
#: from before namespaces (the Hub has since moved them under organisations and redirects). Any other
#: single word handed to ``from_pretrained`` (``output``, ``checkpoints``) is a folder the code wrote.
_LEGACY_ID = re.compile(
    r"^(?:(?:albert|bart|bert|camembert|distilbert|distilroberta|roberta|t5|transfo-xl|xlm|xlnet)-"
    r"|(?:ctrl|distilgpt2|gpt2|openai-gpt)(?:-|$))",
    re.IGNORECASE,
)
#: First path segments of huggingface.co pages that are not model or dataset repositories.
_NOT_REPOSITORIES = frozenset(
    {"spaces", "docs", "blog", "learn", "papers", "collections", "organizations", "settings", "api", "models",
     "tasks", "join", "login", "pricing", "posts", "chat", "new", "new-dataset", "new-space"}
)  # fmt: skip
#: Names of files, not repositories: code, configs, data and weights.
_FILE_SUFFIXES = (
    ".py", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".txt", ".md", ".csv", ".tsv", ".parquet",
    ".arrow", ".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt", ".onnx", ".h5", ".pkl", ".npy",
    ".npz", ".zip", ".tar", ".gz", ".zst",
)  # fmt: skip


def is_legacy_id(value: str) -> bool:
    return bool(_LEGACY_ID.match(value))


def is_hub_id(value: str, *, allow_single: bool, kind: Kind = "model") -> bool:
    """Whether ``value`` can be a Hub repo id; single-segment ids only where the call is a Hub call,
    and for models only the legacy ones (datasets had hundreds: ``wikitext``, ``squad``, ``glue``);
    never a file's name or a date (``2024/01``)."""
    v = strip_hub_prefix(value)
    if not v or looks_like_path(v) or not _HUB_ID.match(v) or ".." in v:
        return False
    if v.lower().endswith(_FILE_SUFFIXES):
        return False
    if "/" not in v:
        return allow_single and (kind == "dataset" or is_legacy_id(v))
    return not all(part.isdigit() for part in v.split("/"))


def local_dir(value: str, file_dir: Path, root: Path) -> Path | None:
    """The existing folder a value names, relative to the file or the scan root; else None."""
    v = value.strip()
    if not v or "\n" in v or len(v) > 4096:
        return None
    candidates = [Path(v).expanduser()] if Path(v).expanduser().is_absolute() else [file_dir / v, root / v]
    for c in candidates:
        try:
            if c.is_dir():
                return c.resolve()
        except OSError:
            continue
    return None


def make_reference(
    value: str,
    kind: Kind,
    *,
    file: str,
    line: int,
    column: int,
    call: str,
    file_dir: Path,
    root: Path,
    allow_single: bool,
    expression: str = "",
    note: str = "",
    cell: int | None = None,
    cell_line: int | None = None,
) -> Reference | None:
    """Classify a statically known string: local folder, local path, Hub id, or not a reference (None)."""
    v = value.strip()
    common = {
        "file": file,
        "line": line,
        "column": column,
        "call": call,
        "cell": cell,
        "cell_line": cell_line,
    }
    rest = _hub_path(v)
    if rest is not None:
        # a Hub address (``hf://org/name``, ``https://huggingface.co/org/name/blob/main/x.safetensors``):
        # never a local path, however many slashes it has
        if rest.startswith("datasets/"):
            kind = "dataset"
        elif rest.split("/", 1)[0] in _NOT_REPOSITORIES:  # a Space, the docs, a listing: no model here
            return None
        if is_hub_id(v, allow_single=allow_single, kind=kind):
            return Reference(
                strip_hub_prefix(v), kind, resolved=True, expression=expression, note=note, **common
            )
        return None
    folder = local_dir(v, file_dir, root)
    if folder is not None:
        return Reference(
            v, kind, resolved=True, expression=expression, local_path=str(folder), note=note, **common
        )
    if looks_like_path(v):
        return Reference(
            v,
            kind,
            resolved=True,
            expression=expression,
            local_path=v,
            note=(note or "local path, not found"),
            **common,
        )
    if is_hub_id(v, allow_single=allow_single, kind=kind):
        return Reference(strip_hub_prefix(v), kind, resolved=True, expression=expression, note=note, **common)
    if allow_single and kind == "model" and "/" not in v and _HUB_ID.match(v):
        # ``from_pretrained("output")``: a folder the code writes at run time, not here now
        return Reference(
            v, kind, resolved=True, expression=expression, local_path=v,
            note=(note or "a folder name (not found here), not a Hub id"), **common,
        )  # fmt: skip
    return None
