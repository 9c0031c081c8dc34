"""What the Hub API derives from a revision's README front matter and file list.

``cardData`` is the YAML block as JSON; ``tags`` are the card's own tags plus the
derived ones clients filter on (``license:<key>``, ``base_model:<id>``,
``base_model:<relation>:<id>``, ``dataset:<id>``, library and format tags).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from licenses.engine.frontmatter import parse_front_matter

RELATIONS = ("adapter", "merge", "quantized", "finetune")


def card_data(readme: bytes | str | None) -> dict[str, Any]:
    """The README's YAML metadata, made JSON-safe (dates become ISO strings); {} when absent."""
    if not readme:
        return {}
    meta = parse_front_matter(readme).metadata
    try:
        return json.loads(json.dumps(_finite(meta), default=str, allow_nan=False))
    except (TypeError, ValueError):
        return {}


def _finite(value: Any) -> Any:
    """YAML's ``.nan``/``.inf`` as strings: JSON (and the database's JSON columns) have no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def string_list(value: Any) -> list[str]:
    """A card value that may be one string or a list of them, as a list of non-empty strings."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def base_model_relation(meta: dict[str, Any], paths: Iterable[str]) -> str:
    """Explicit ``base_model_relation`` wins; otherwise the spec's heuristic (§6.1)."""
    declared = meta.get("base_model_relation")
    if isinstance(declared, str) and declared in RELATIONS:
        return declared
    paths = list(paths)
    tags = {t.lower() for t in string_list(meta.get("tags"))}
    if len(string_list(meta.get("base_model"))) > 1:
        return "merge"
    if "adapter_config.json" in paths or meta.get("library_name") == "peft" or "lora" in tags:
        return "adapter"
    if any(p.endswith(".gguf") for p in paths) or tags & {"gptq", "awq", "mlx", "gguf", "quantized"}:
        return "quantized"
    return "finetune"


def derive_tags(meta: dict[str, Any], paths: Iterable[str]) -> list[str]:
    """The repository's tags, in the Hub's order: library, formats, card tags, then key:value tags."""
    paths = list(paths)
    tags: list[str] = []

    def add(tag: str) -> None:
        if tag and tag not in tags and len(tag) <= 300:
            tags.append(tag)

    for lib in string_list(meta.get("library_name")):
        add(lib)
    if any(p.endswith(".safetensors") for p in paths):
        add("safetensors")
    if any(p.endswith(".gguf") for p in paths):
        add("gguf")
    if any(p.endswith((".bin", ".pt", ".pth")) for p in paths):
        add("pytorch")
    for tag in string_list(meta.get("tags")):
        add(tag)
    for tag in string_list(meta.get("pipeline_tag")):
        add(tag)
    for lang in string_list(meta.get("language")):
        add(lang)
    for ds in string_list(meta.get("datasets")):
        add(f"dataset:{ds}")
    bases = string_list(meta.get("base_model"))
    if bases:
        relation = base_model_relation(meta, paths)
        for base in bases:
            add(f"base_model:{base}")
            add(f"base_model:{relation}:{base}")
    for lic in string_list(meta.get("license")):
        add(f"license:{lic.lower()}")
    return tags
