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
    return card_data_json(readme)[0]


def card_data_json(readme: bytes | str | None) -> tuple[dict[str, Any], str]:
    """``card_data`` and its JSON text as a JSON column stores it (``json.dumps`` defaults).

    The JSON-safe form is made by a JSON round trip anyway; its text is returned too so a bulk
    writer (the mirror's first import) does not encode every card a second time. The text is
    the round trip's own unless a mapping had a key JSON had to turn into a string (``1:``,
    ``true:``): two keys may then have collided, and the text is encoded again from the result.
    """
    if not readme:
        return {}, "{}"
    meta = parse_front_matter(readme).metadata
    coerced: list[Any] = []
    try:
        text = json.dumps(_finite(meta, coerced), default=str, allow_nan=False)
        data = json.loads(text)
    except (TypeError, ValueError):
        return {}, "{}"
    if coerced:
        text = json.dumps(data)
    return data, text


def _finite(value: Any, coerced: list[Any] | None = None) -> Any:
    """YAML's ``.nan``/``.inf`` as strings: JSON (and the database's JSON columns) have no such numbers.

    Keys that are not strings are appended to ``coerced`` (when given).
    """
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        if coerced is not None:
            coerced.extend(k for k in value if not isinstance(k, str))
        return {k: _finite(v, coerced) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v, coerced) for v in value]
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
    seen: set[str] = set()  # a list's ``in`` made 28,000 distinct card tags cost 3.5 s of the commit

    def add(tag: str) -> None:
        if tag and tag not in seen and len(tag) <= 300:
            seen.add(tag)
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
