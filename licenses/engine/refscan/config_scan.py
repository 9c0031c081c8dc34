"""Model references in YAML, JSON and TOML configuration files.

Why key-based: training and serving configs (Trainer/axolotl/LLaMA-Factory/TGI/vLLM …) name the model
under a handful of conventional keys. Keys that only ever hold Hub ids (``model_name_or_path``,
``base_model`` …) accept legacy single-segment ids; generic keys (``model``, ``model_id``) need an
``owner/name`` value so that ``model: gpt-4o`` or ``model: resnet`` is not taken for a Hub repo.
YAML positions come from the parser's marks; JSON and TOML values are located in the raw text.
CI files' ``run:``/``script:`` strings are scanned as shell.
"""

from __future__ import annotations

import json
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from licenses.engine.refscan.ids import Reference, make_reference
from licenses.engine.refscan.shell_scan import scan_shell_text

#: key → (kind, single-segment ids allowed)
KEYS: dict[str, tuple[str, bool]] = {
    "model_name_or_path": ("model", True),
    "pretrained_model_name_or_path": ("model", True),
    "base_model": ("model", True),
    "base_model_name_or_path": ("model", True),
    "tokenizer_name": ("model", True),
    "tokenizer_name_or_path": ("model", True),
    "teacher_model_name_or_path": ("model", True),
    "adapter_name_or_path": ("model", False),
    "peft_model_id": ("model", False),
    "model": ("model", False),
    "model_id": ("model", False),
    "model_name": ("model", False),
    "base_model_id": ("model", False),
    "tokenizer": ("model", False),
    "repo_id": ("model", False),
    "embedding_model": ("model", False),
    "reward_model": ("model", False),
    "ref_model": ("model", False),
    "teacher_model": ("model", False),
    "draft_model": ("model", False),
    "hf_model": ("model", False),  # container environments (compose, k8s): HF_MODEL=org/name
    "hf_model_id": ("model", False),
    "dataset_name": ("dataset", True),
    "dataset_id": ("dataset", False),
    "dataset": ("dataset", False),
    "datasets": ("dataset", False),
}
SHELL_KEYS = frozenset({"run", "script", "before_script", "after_script", "command", "entrypoint"})
#: Keys whose list is one command in exec form (compose, Kubernetes): ``["--model", "org/x"]``.
#: CI ``script:`` lists are several commands, one per item, and stay apart.
EXEC_KEYS = frozenset({"command", "entrypoint", "args"})


class _Loader(yaml.SafeLoader):
    """SafeLoader that never builds Python objects; we only compose nodes."""


def _norm(key: Any) -> str:
    return str(key).strip().lower().replace("-", "_")


def _yaml_hits(
    node: yaml.Node, key: str | None = None, seen: set[tuple[int, str | None]] | None = None
) -> Iterator[tuple[str, str, int, int, str]]:
    """(key, value, line, column, style) for every scalar under a known key, depth first.

    Each collection node is walked once per key it sits under: an alias is the very node its
    anchor composed, so a 300-byte "billion laughs" file (aliases of aliases, nine levels) is a
    few dozen visits instead of 9**9, and an alias yields no hit its anchor did not already.
    """
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if seen is None:
            seen = set()
        mark = (id(node), key)
        if mark in seen:
            return
        seen.add(mark)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            kname = _norm(k.value) if isinstance(k, yaml.ScalarNode) else None
            yield from _yaml_hits(v, kname, seen)
    elif isinstance(node, yaml.SequenceNode):
        words = [i for i in node.value if isinstance(i, yaml.ScalarNode)]
        if key in EXEC_KEYS and words and len(words) == len(node.value):
            # an option and its value are two items: read them as one command line too
            first = words[0]
            line = shlex.join(str(w.value) for w in words)
            yield "command", line, first.start_mark.line + 1, first.start_mark.column + 1, "exec"
        if key == "environment":  # ``- HF_MODEL=org/name``
            for item in words:
                name, eq, value = str(item.value).partition("=")
                if eq and _norm(name) in KEYS:
                    mark = item.start_mark
                    yield _norm(name), value, mark.line + 1, mark.column + len(name) + 2, ""
        for item in node.value:
            if isinstance(item, yaml.MappingNode) and key == "datasets":
                for k, v in item.value:
                    if (
                        isinstance(k, yaml.ScalarNode)
                        and _norm(k.value) in {"path", "name"}
                        and isinstance(v, yaml.ScalarNode)
                    ):
                        yield (
                            "datasets",
                            v.value,
                            v.start_mark.line + 1,
                            v.start_mark.column + 1,
                            v.style or "",
                        )
                yield from _yaml_hits(item, None, seen)
            else:
                yield from _yaml_hits(item, key, seen)
    elif (
        isinstance(node, yaml.ScalarNode)
        and (key in KEYS or key in SHELL_KEYS)
        and isinstance(node.value, str)
    ):
        yield str(key), node.value, node.start_mark.line + 1, node.start_mark.column + 1, node.style or ""


def _data_hits(data: Any, key: str | None = None) -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _data_hits(v, _norm(k))
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and key == "datasets":
                for k in ("path", "name"):
                    if isinstance(item.get(k), str):
                        yield "datasets", item[k]
                yield from _data_hits(item, None)
            else:
                yield from _data_hits(item, key)
    elif isinstance(data, str) and key in KEYS:
        yield key, data


class _Locator:
    """Finds each (key, value) in raw text in document order, so repeated values get their own lines."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.used: set[int] = set()

    def find(self, key: str, value: str) -> tuple[int, int]:
        quoted = (json.dumps(value), f"'{value}'", value)
        fallback = None
        for i, raw in enumerate(self.lines):
            if i in self.used:
                continue
            for q in quoted:
                col = raw.find(q)
                if col < 0:
                    continue
                if key.replace("_", "") in raw.lower().replace("_", "").replace("-", ""):
                    self.used.add(i)
                    return i + 1, col + 1
                if fallback is None:
                    fallback = (i, col)
                break
        if fallback is not None:
            self.used.add(fallback[0])
            return fallback[0] + 1, fallback[1] + 1
        return 1, 1


def _reference(
    key: str, value: str, file: str, line: int, col: int, file_dir: Path, root: Path
) -> Reference | None:
    kind, allow_single = KEYS[key]
    if kind == "dataset" and value.lower() in {"csv", "json", "jsonl", "parquet", "text", "imagefolder"}:
        return None
    return make_reference(
        value, kind, file=file, line=line, column=col, call=f"config key {key}",  # type: ignore[arg-type]
        file_dir=file_dir, root=root, allow_single=allow_single,
    )  # fmt: skip


def scan_yaml_text(text: str, file: str, file_dir: Path, root: Path) -> list[Reference]:
    refs: list[Reference] = []
    for doc in yaml.compose_all(text, Loader=_Loader):
        if doc is None:
            continue
        for key, value, line, col, style in _yaml_hits(doc):
            if key in SHELL_KEYS:
                offset = line if style in {"|", ">"} else line - 1
                refs.extend(scan_shell_text(value, file, file_dir, root, line_offset=offset))
                continue
            ref = _reference(key, value, file, line, col, file_dir, root)
            if ref is not None:
                refs.append(ref)
    # an exec-form list is read both word by word and as one line: the same reference may come twice
    unique = {(r.line, r.column, r.kind, r.model, r.expression): r for r in refs}
    return list(unique.values())


def scan_json_text(text: str, file: str, file_dir: Path, root: Path) -> list[Reference]:
    data = json.loads(text)
    if _is_findings_report(data):
        return []
    return _scan_data(data, text, file, file_dir, root)


def _is_findings_report(data: Any) -> bool:
    """A report of findings (this tool's JSON report or baseline, any SARIF log) lists models that
    code uses; it does not pull them. Committed next to the code (a baseline usually is), it was
    read as configuration, and every model it lists became a new finding of its own."""
    if not isinstance(data, dict):
        return False
    return data.get("tool") == "modelhub-audit" or "sarif" in str(data.get("$schema", "")).lower()


def scan_toml_text(text: str, file: str, file_dir: Path, root: Path) -> list[Reference]:
    return _scan_data(tomllib.loads(text), text, file, file_dir, root)


def _scan_data(data: Any, text: str, file: str, file_dir: Path, root: Path) -> list[Reference]:
    loc = _Locator(text)
    refs: list[Reference] = []
    for key, value in _data_hits(data):
        line, col = loc.find(key, value)
        ref = _reference(key, value, file, line, col, file_dir, root)
        if ref is not None:
            refs.append(ref)
    return refs
