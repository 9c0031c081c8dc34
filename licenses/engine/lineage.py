"""Lineage: which models a repository derives from, how, and under which licence.

Two questions are answered here and kept apart on purpose:

* *Which parents, and by what relation?* — ``base_model_refs`` reads the card's
  ``base_model`` / ``base_model_relation`` and, when the relation is missing, infers it
  the way the Hub does (hub-api.md §6.1). An inferred relation is flagged so that a
  reviewer can tell a publisher's statement from our guess.
* *Under which licence was each parent?* — a chain of ``ParentResolver`` objects:
  repositories analysed in the same run, then a registry speaking the Hub API, then
  the bundled table of well-known base models (``basemodels.py``). Resolution is
  date-aware (``as_of``) because parents get relicensed (Yi, Falcon) and
  ``base_model`` carries no revision. A parent nobody can resolve is returned as
  ``None`` and reported as unresolved; it is never guessed from its name.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

from licenses.engine.frontmatter import load_yaml_document
from licenses.engine.snapshot import (
    MERGEKIT_CONFIG,
    MERGEKIT_CONFIG_BYTES,
    MERGEKIT_CONFIGS,
    MERGEKIT_MOE_CONFIG,
)
from licenses.engine.types import RepoSnapshot

log = logging.getLogger(__name__)

ParentSource = Literal["local", "registry", "bundled"]

_HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")
_RELATION_ALIASES = {
    "finetune": "finetune",
    "finetuned": "finetune",
    "fine-tune": "finetune",
    "adapter": "adapter",
    "lora": "adapter",
    "merge": "merge",
    "merged": "merge",
    "quantized": "quantized",
    "quantised": "quantized",
    "quantization": "quantized",
}
_QUANT_NAME = re.compile(r"(?:^|[-_.])(gguf|ggml|awq|gptq|exl2|mlx|bnb|[0-9.]+bpw)(?:$|[-_.])", re.I)
_QUANT_TAGS = {"gguf", "ggml", "awq", "gptq", "exl2", "mlx", "4-bit", "8-bit", "bitsandbytes", "quantized"}


@dataclass(frozen=True)
class BaseModelRef:
    """One declared parent: its normalised id and the relation (declared or inferred)."""

    id: str
    relation: str
    relation_inferred: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "relation": self.relation, "relation_inferred": self.relation_inferred}


def normalise_model_id(raw: Any) -> str | None:
    """Turn a ``base_model`` entry into a bare ``owner/name`` id (or ``None`` if empty).

    Cards write parents as Hub URLs, with stray whitespace, trailing slashes or a
    ``/tree/main`` suffix; all of those name the same repository.
    """
    if not isinstance(raw, str):
        return None
    s = raw.strip().strip("\"'")
    lowered = s.lower()  # (once, not once per prefix)
    for prefix in _HUB_PREFIXES:
        if lowered.startswith(prefix):
            s = s[len(prefix) :]
            break
    s = s.split("?", 1)[0].split("#", 1)[0].strip("/")
    parts = [p for p in s.split("/") if p]
    if len(parts) > 2 and parts[2] in ("tree", "blob", "resolve"):
        parts = parts[:2]
    s = "/".join(parts).strip()
    return s or None


def _declared_relation(metadata: Mapping[str, Any]) -> str | None:
    raw = metadata.get("base_model_relation")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if not isinstance(raw, str):
        return None
    return _RELATION_ALIASES.get(raw.strip().lower())


def _config_json(snapshot: RepoSnapshot, name: str = "config.json") -> dict[str, Any]:
    """The JSON object in the snapshot's file ``name``; ``{}`` when absent, malformed or not an object."""
    text = snapshot.texts.get(name)
    if not text:
        return {}
    try:
        data = json.loads(text)
    except (ValueError, TypeError, RecursionError):  # nested past the parser's recursion limit
        return {}
    return data if isinstance(data, dict) else {}


def _tags(metadata: Mapping[str, Any]) -> set[str]:
    tags = metadata.get("tags")
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list):
        return set()
    return {str(t).strip().lower() for t in tags if t is not None}


def infer_relation(metadata: Mapping[str, Any], snapshot: RepoSnapshot, n_parents: int) -> str:
    """Infer the relation the Hub would show when the card does not state one.

    Order matters: several parents is a merge whatever the files say; adapter files
    beat quantization markers because a QLoRA adapter carries both; everything else
    is a finetune, the Hub's default.
    """
    if n_parents > 1:
        return "merge"
    names = [p.rsplit("/", 1)[-1].lower() for p in snapshot.files]
    tags = _tags(metadata)
    library = str(metadata.get("library_name") or "").lower()
    if (
        "adapter_config.json" in names
        or any(n.startswith("adapter_model.") for n in names)
        or library == "peft"
        or "lora" in tags
        or "peft" in tags
    ):
        return "adapter"
    if (
        any(n.endswith((".gguf", ".ggml")) for n in names)
        or "quantize_config.json" in names
        or "quant_config.json" in names
        or "quantization_config" in _config_json(snapshot)
        or tags & _QUANT_TAGS
    ):
        return "quantized"
    return "finetune"


#: At most this many parents are judged per card. The largest real merges name a few dozen
#: (40 in the Hub's dependency extract, ``corpus/hf-dep-network-edges``); a card listing
#: thousands cost a registry lookup and a lineage edge each, so the rest are refused and said so.
MAX_PARENTS = 128
#: No Hub id is this long (the Hub caps a repository name at 96 characters); a longer
#: ``base_model`` entry names no model, and the lineage graph's columns hold 200.
MAX_PARENT_ID_CHARS = 200
#: Over-long entries named in the analysis (the rest are counted): a 256 KB front matter of YAML
#: aliases to one such entry repeated it 40,000 times, 6.6 MB of problems and ``invalid_parents``.
MAX_INVALID_SHOWN = 8


@dataclass(frozen=True)
class DeclaredParents:
    """The parents a repository names, and what was refused and why (shown, never silent)."""

    refs: list[BaseModelRef]
    #: distinct usable ids named (before the ``MAX_PARENTS`` cut)
    named: int = 0
    #: ids refused as too long to be a model id (distinct, at most ``MAX_INVALID_SHOWN``)
    too_long: tuple[str, ...] = ()
    #: how many distinct over-long ids were named (``too_long`` shows the first of them)
    invalid: int = 0

    @property
    def over_limit(self) -> int:
        """How many usable parents were named beyond ``MAX_PARENTS`` (not judged)."""
        return max(0, self.named - len(self.refs))

    def problems(self) -> list[str]:
        """One sentence per refusal, for the analysis' card problems."""
        out = [
            f"a parent id of {len(raw)} characters is not a model id (longer than "
            f"{MAX_PARENT_ID_CHARS}): ignored"
            for raw in self.too_long
        ]
        if self.invalid > len(self.too_long):
            out.append(f"{self.invalid - len(self.too_long)} more over-long parent ids: ignored")
        if self.over_limit:
            out.append(
                f"the card names {self.named} parents; only the first {MAX_PARENTS} are judged "
                f"({self.over_limit} ignored)"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``lineage`` keys that say what was refused (empty when nothing was)."""
        out: dict[str, Any] = {}
        if self.over_limit:
            out["parents_named"] = self.named
            out["parents_ignored"] = self.over_limit
        if self.too_long:
            out["invalid_parents"] = [_shorten(raw) for raw in self.too_long]
        if self.invalid > len(self.too_long):
            out["invalid_parents_count"] = self.invalid
        return out


def _shorten(raw: str, keep: int = 60) -> str:
    return raw if len(raw) <= keep else f"{raw[:keep]}… ({len(raw)} characters)"


def _bounded(ids: Iterable[str], own_id: str) -> tuple[list[str], int, tuple[str, ...], int]:
    """Distinct ids (case-insensitive, not the repository itself) in order, cut at ``MAX_PARENTS``;
    with the number of distinct usable ids named, the first refused over-long ones and how many
    distinct over-long ones there were (repeats are one, as for usable ids)."""
    kept: list[str] = []
    seen: set[str] = set()
    too_long: list[str] = []
    seen_long: set[str] = set()
    own = own_id.lower()
    for mid in ids:
        if len(mid) > MAX_PARENT_ID_CHARS:
            low = mid.lower()
            if low not in seen_long:
                seen_long.add(low)
                if len(too_long) < MAX_INVALID_SHOWN:
                    too_long.append(mid)
            continue
        low = mid.lower()
        if low in seen or low == own:
            continue
        seen.add(low)
        if len(kept) < MAX_PARENTS:
            kept.append(mid)
    return kept, len(seen), tuple(too_long), len(seen_long)


def base_model_refs(metadata: Mapping[str, Any], snapshot: RepoSnapshot) -> list[BaseModelRef]:
    """The parents a card declares, de-duplicated, in card order, with their relation."""
    return declared_parents(metadata, snapshot).refs


_NONE = DeclaredParents([])


def declared_parents(metadata: Mapping[str, Any], snapshot: RepoSnapshot) -> DeclaredParents:
    """``base_model_refs`` with what was refused: ids longer than any model id, parents past
    ``MAX_PARENTS``."""
    # most cards declare none: answer before the ``Mapping`` test (an ABC check) and the loop
    raw = metadata.get("base_model") if isinstance(metadata, dict | Mapping) else None
    if raw is None:
        texts = snapshot.texts
        if "adapter_config.json" in texts and (adapter := _adapter_parent(snapshot)):
            ids, named, too_long, invalid = _bounded(adapter, snapshot.id)
            return DeclaredParents([BaseModelRef(i, "adapter", True) for i in ids], named, too_long, invalid)
        if MERGEKIT_CONFIG in texts or MERGEKIT_MOE_CONFIG in texts:
            ids, named, too_long, invalid = _bounded(_merge_parents(snapshot), snapshot.id)
            return DeclaredParents([BaseModelRef(i, "merge", True) for i in ids], named, too_long, invalid)
        return _NONE
    items: Iterable[Any] = raw if isinstance(raw, list) else [raw]
    ids, named, too_long, invalid = _bounded((m for m in map(normalise_model_id, items) if m), snapshot.id)
    if not ids:
        return DeclaredParents([], named, too_long, invalid) if too_long else _NONE
    declared = _declared_relation(metadata)
    if declared:
        return DeclaredParents([BaseModelRef(i, declared, False) for i in ids], named, too_long, invalid)
    relation = infer_relation(metadata, snapshot, len(ids))
    return DeclaredParents([BaseModelRef(i, relation, True) for i in ids], named, too_long, invalid)


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9_]")


def _hub_model_id(raw: Any) -> str | None:
    """``raw`` as a Hub id (``owner/name``, Hub URLs normalised), or None for anything else:
    training machines' local paths (``/mnt/…``, ``./output``, ``~/models``), bare names."""
    if not isinstance(raw, str) or raw.lstrip().startswith((".", "/", "~")):
        return None
    mid = normalise_model_id(raw)
    return mid if mid and _HUB_ID.fullmatch(mid) else None


def _adapter_parent(snapshot: RepoSnapshot) -> list[str]:
    """The model a PEFT adapter is applied to, when the card does not name it.

    An adapter cannot be used without its base model, and PEFT records which one in
    ``adapter_config.json`` (``base_model_name_or_path``): that is a statement of the
    publisher's files, not a guess from a name. Only a Hub id counts (``owner/name``);
    training machines' local paths (``/mnt/…``, ``./output``) name nothing.
    """
    mid = _hub_model_id(_config_json(snapshot, "adapter_config.json").get("base_model_name_or_path"))
    if not mid or mid.lower() == snapshot.id.lower():
        return []
    return [mid]


def _merge_parents(snapshot: RepoSnapshot) -> list[str]:
    """The models a mergekit merge was made of, when the card does not name them.

    ``mergekit-yaml`` writes its recipe beside the merged weights as ``mergekit_config.yml``:
    the top-level ``base_model``, ``models[].model`` and ``slices[].sources[].model``.
    ``mergekit-moe`` writes ``mergekit_moe_config.yml``: ``base_model`` (attention and norms)
    and ``experts[].source_model`` (``shared_experts`` too, for architectures that have them);
    publishers also upload a MoE recipe under the first name, so both schemas are read from
    both files, in that order. Each is a mergekit model reference: ``owner/name``,
    ``owner/name@revision``, ``model+lora`` (a LoRA applied to the model first: both are
    inputs), or the same as a mapping (``{model: {path, revision}, lora: …}``). Every input is
    an inferred ``merge`` parent, even when the recipe names one distinct model (a passthrough
    self-stack is still a merge). Hub ids only, as for adapters; a recipe the snapshot could
    not read whole, or that is not valid YAML (parsed with the front matter's limits), names
    nothing (the other recipe still does).
    """
    ids: list[str] = []
    for name in MERGEKIT_CONFIGS:
        config = _recipe(snapshot, name)
        if config is None:
            continue
        for reference in _mergekit_references(config):
            for raw in _mergekit_paths(reference):
                mid = _hub_model_id(raw)
                if mid:
                    ids.append(mid)
    return ids


def _recipe(snapshot: RepoSnapshot, name: str) -> dict | None:
    """The mapping in the snapshot's recipe ``name``; None when absent, cut at the cap, malformed."""
    text = snapshot.texts.get(name)
    if text is None or snapshot.files.get(name, 0) > MERGEKIT_CONFIG_BYTES:
        return None  # cut at the snapshot's cap: half a list of models is no statement
    try:
        config = load_yaml_document(text)
    except ValueError:
        return None
    return config if isinstance(config, dict) else None


def _mergekit_references(config: dict) -> Iterable[Any]:
    """The model references of a mergekit or mergekit-moe configuration, in recipe order
    (malformed parts skipped)."""
    yield config.get("base_model")
    models = config.get("models")
    if isinstance(models, list):
        yield from (m.get("model") for m in models if isinstance(m, dict))
    slices = config.get("slices")
    if isinstance(slices, list):
        for piece in slices:
            sources = piece.get("sources") if isinstance(piece, dict) else None
            if isinstance(sources, list):
                yield from (src.get("model") for src in sources if isinstance(src, dict))
    for key in ("experts", "shared_experts"):
        experts = config.get(key)
        if isinstance(experts, list):
            yield from (e.get("source_model") for e in experts if isinstance(e, dict))


def _mergekit_paths(reference: Any) -> list[str]:
    """The model paths one mergekit ``ModelReference`` names (model, then LoRA), revisions cut.

    mergekit refuses a string with two ``+`` or a path with two ``@``; so does this.
    """
    if isinstance(reference, str):
        parts: list[Any] = reference.split("+")
        if len(parts) > 2:
            return []
    elif isinstance(reference, dict):
        parts = [reference.get("model"), reference.get("lora")]
    else:
        return []
    paths: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            part = part.get("path")
        if isinstance(part, str) and part.count("@") <= 1:
            paths.append(part.split("@", 1)[0])
    return paths


@dataclass(frozen=True)
class ParentRecord:
    """What a resolver knows about a parent: its licence key and where that came from.

    ``as_of`` is the date the licence was observed to be in force (bundled table: the
    start of the history entry used; registry: the repo's last modification).
    """

    id: str
    license_key: str
    license_class: str | None
    source: ParentSource
    as_of: date | None = None
    name: str = ""
    files: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "license_key": self.license_key,
            "license_class": self.license_class,
            "source": self.source,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


class ParentResolver(Protocol):
    """Anything that can say under which licence a model was at a given date."""

    def resolve(self, model_id: str, as_of: date | None) -> ParentRecord | None: ...


_UNINFORMATIVE = {"none", "unknown", ""}


class ChainResolver:
    """Ask resolvers in order; the first that knows the parent's licence wins.

    A hit whose licence is ``none``/``unknown`` (e.g. an analysed copy of a parent
    without its card) is kept only as a last resort, so that it does not hide a
    later resolver that knows the real terms.
    """

    def __init__(self, *resolvers: ParentResolver | None) -> None:
        self.resolvers = [r for r in resolvers if r is not None]

    def resolve(self, model_id: str, as_of: date | None) -> ParentRecord | None:
        fallback: ParentRecord | None = None
        for resolver in self.resolvers:
            record = resolver.resolve(model_id, as_of)
            if record is None:
                continue
            if record.license_key not in _UNINFORMATIVE:
                return record
            fallback = fallback or record
        return fallback


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        s = value.strip().replace("Z", "+00:00")
        try:
            return datetime.fromisoformat(s).date()
        except ValueError:
            try:
                return date.fromisoformat(s[:10])
            except ValueError:
                return None
    return None


class LocalResolver:
    """Parents found among the repositories analysed in the same run.

    Built from the analyse JSON shape (``{"id", "license": {"key", "class"}, ...}``)
    so that the CLI can resolve a folder of models against each other.
    """

    def __init__(self, results: Iterable[Mapping[str, Any]]) -> None:
        self._by_id: dict[str, ParentRecord] = {}
        for r in results:
            rid = normalise_model_id(r.get("id"))
            lic = r.get("license") or {}
            if not rid or not isinstance(lic, Mapping):
                continue
            files = r.get("files")
            self._by_id[rid.lower()] = ParentRecord(
                id=rid,
                license_key=str(lic.get("key") or "unknown"),
                license_class=lic.get("class"),
                source="local",
                as_of=_parse_date(r.get("last_modified") or r.get("created_at")),
                name=rid.rsplit("/", 1)[-1],
                files=tuple(files) if isinstance(files, list | tuple) else (),
            )

    def resolve(self, model_id: str, as_of: date | None) -> ParentRecord | None:
        mid = normalise_model_id(model_id)
        return self._by_id.get(mid.lower()) if mid else None


@dataclass
class RegistryResolver:
    """Parents looked up on a Hub-compatible registry (``GET {base}/api/models/{id}``).

    Network trouble must not sink an analysis: failures return ``None`` and are kept
    in ``errors`` for the report. Answers are cached per id for the resolver's life.
    The registry only knows the current licence, so ``as_of`` cannot be honoured;
    the record's ``as_of`` says when that licence was last touched.
    """

    base_url: str
    token: str | None = None
    session: Any = None
    timeout: float = 5.0
    kb: Any = None
    errors: list[str] = field(default_factory=list)
    _cache: dict[str, ParentRecord | None] = field(default_factory=dict, repr=False)

    def _get_json(self, url: str) -> Any:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.session is not None:
            resp = self.session.get(url, headers=headers, timeout=self.timeout)
            if resp.status_code != 200:
                raise OSError(f"HTTP {resp.status_code}")
            return resp.json()
        from urllib.request import Request, urlopen

        with urlopen(Request(url, headers=headers), timeout=self.timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def _license_key(self, card: Mapping[str, Any], tags: list[Any]) -> str:
        lic = card.get("license")
        if isinstance(lic, list):
            lic = next((x for x in lic if isinstance(x, str) and x != "other"), lic[0] if lic else None)
        if not lic:
            lic = next(
                (t.split(":", 1)[1] for t in tags if isinstance(t, str) and t.startswith("license:")), None
            )
        if not lic:
            return "none"
        name = card.get("license_name") if lic == "other" else None
        candidate = str(name or lic).strip()
        if self.kb is not None:
            info = self.kb.lookup(candidate) if hasattr(self.kb, "lookup") else self.kb.get(candidate)
            if info is not None:
                return info.key
            return "unknown" if lic == "other" else candidate.lower()
        return candidate.lower() if lic != "other" or name else "unknown"

    def resolve(self, model_id: str, as_of: date | None) -> ParentRecord | None:
        mid = normalise_model_id(model_id)
        if not mid:
            return None
        if not self.base_url.lower().startswith(("http://", "https://")):
            self.errors.append(f"{mid}: registry URL must be http(s): {self.base_url}")
            return None
        if mid.lower() in self._cache:
            return self._cache[mid.lower()]
        url = f"{self.base_url.rstrip('/')}/api/models/{quote(mid, safe='/')}"
        record: ParentRecord | None = None
        try:
            data = self._get_json(url)
            if not isinstance(data, Mapping):
                raise ValueError("response is not a JSON object")
            card = data.get("cardData") or {}
            tags = data.get("tags") or []
            key = self._license_key(card if isinstance(card, Mapping) else {}, list(tags))
            info = self.kb.get(key) if self.kb is not None else None
            record = ParentRecord(
                id=str(data.get("id") or mid),
                license_key=key,
                license_class=info.license_class if info is not None else None,
                source="registry",
                as_of=_parse_date(data.get("lastModified") or data.get("createdAt")),
                name=str(data.get("id") or mid).rsplit("/", 1)[-1],
                files=tuple(
                    s.get("rfilename", "") for s in data.get("siblings") or [] if isinstance(s, Mapping)
                ),
            )
        except Exception as exc:  # network, HTTP status, JSON: all mean "not resolved here"
            self.errors.append(f"{mid}: {exc}")
            log.info("registry lookup failed for %s: %s", mid, exc)
        self._cache[mid.lower()] = record
        return record
