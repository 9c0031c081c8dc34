"""The bundled table of well-known base models and their dated licence history.

Most derivatives on the Hub point at a few hundred base models (Llama, Mistral, Qwen,
Gemma, Stable Diffusion ...). Shipping their licences lets ``modelhub analyze`` judge a
fine-tune offline, without a registry. Each row keeps a *history* rather than one key
because parents are relicensed (Yi went from the Yi License to Apache-2.0 on 2024-05-30,
Falcon-7B/40B to Apache-2.0 at the end of May 2023) and ``base_model`` names no revision:
the licence that binds a child is the one in force when the child was published.

The table is data (``licenses/data/base_models.yaml``), validated on load: a licence key
the knowledge base does not know, an unsorted history or a duplicate id raises
``BaseModelTableError`` so a typo cannot silently turn into "parent unresolved".
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from licenses.engine.datafiles import read_yaml
from licenses.engine.lineage import ParentRecord, normalise_model_id

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "base_models.yaml"


class BaseModelTableError(ValueError):
    """The bundled table is malformed (bad row, unknown licence key, duplicate id)."""


@dataclass(frozen=True)
class LicenseSpan:
    """One entry of a licence history: ``key`` applies from ``since`` on."""

    key: str
    since: date


@dataclass(frozen=True)
class BaseModel:
    """One row of the table."""

    id: str
    history: tuple[LicenseSpan, ...]
    created: date | None = None
    note: str = ""

    def license_at(self, as_of: date | None) -> LicenseSpan:
        """The licence in force at ``as_of``: the latest one when no date is known, the
        first one for a date before the first entry (the model was already out under it
        when the table's earliest date could be established)."""
        if as_of is None:
            return self.history[-1]
        current = self.history[0]
        for span in self.history:
            if span.since <= as_of:
                current = span
        return current


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BaseModelTableError(f"{where}: not an ISO date: {value!r}")


def _parse_row(row: Any, index: int) -> BaseModel:
    where = f"models[{index}]"
    if not isinstance(row, dict):
        raise BaseModelTableError(f"{where}: expected a mapping")
    unknown = set(row) - {"id", "created", "license_history", "note"}
    if unknown:
        raise BaseModelTableError(f"{where}: unknown fields {sorted(unknown)}")
    mid = normalise_model_id(row.get("id"))
    if not mid or " " in mid:
        raise BaseModelTableError(f"{where}: missing or malformed id {row.get('id')!r}")
    hist_raw = row.get("license_history")
    if not isinstance(hist_raw, list) or not hist_raw:
        raise BaseModelTableError(f"{where} ({mid}): license_history must be a non-empty list")
    spans = []
    for j, entry in enumerate(hist_raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or "since" not in entry:
            raise BaseModelTableError(f"{where} ({mid}): license_history[{j}] needs key and since")
        spans.append(LicenseSpan(entry["key"], _as_date(entry["since"], f"{where} ({mid})")))
    if any(a.since >= b.since for a, b in itertools.pairwise(spans)):
        raise BaseModelTableError(
            f"{where} ({mid}): license_history must be in strictly increasing date order"
        )
    created = _as_date(row["created"], where) if row.get("created") is not None else None
    return BaseModel(mid, tuple(spans), created, str(row.get("note") or ""))


def _default_key_check() -> Callable[[str], bool] | None:
    """The knowledge base's key set, when the knowledge base can be loaded."""
    try:
        from licenses.engine.kb import default_kb

        kb = default_kb()
    except Exception:  # kb data missing (e.g. a partial checkout): the table is still usable
        return None
    return lambda key: kb.get(key) is not None


class BundledBaseModels:
    """Case-insensitive lookup over the table; implements the ``ParentResolver`` protocol."""

    def __init__(self, models: Iterable[BaseModel], known_key: Callable[[str], bool] | None = None) -> None:
        self._by_id: dict[str, BaseModel] = {}
        self._by_name: dict[str, list[BaseModel]] | None = None
        unknown: list[str] = []
        for model in models:
            lowered = model.id.lower()
            if lowered in self._by_id:
                raise BaseModelTableError(f"duplicate id {model.id!r}")
            self._by_id[lowered] = model
            if known_key is not None:
                unknown += [f"{model.id}: {s.key}" for s in model.history if not known_key(s.key)]
        if unknown:
            raise BaseModelTableError("licence keys unknown to the knowledge base: " + "; ".join(unknown))

    @classmethod
    def load(
        cls, path: Path | None = None, known_key: Callable[[str], bool] | None = None
    ) -> BundledBaseModels:
        """Load and validate a table; the default table is cached per process.

        Licence keys are checked against the knowledge base (``known_key``, defaulting to
        ``default_kb()`` when it loads).
        """
        if path is None and known_key is None:
            return _default_table()
        return cls._from_file(path or DEFAULT_PATH, known_key or _default_key_check())

    @classmethod
    def _from_file(cls, path: Path, known_key: Callable[[str], bool] | None) -> BundledBaseModels:
        try:
            data = read_yaml(path)
        except (OSError, yaml.YAMLError) as exc:
            raise BaseModelTableError(f"{path}: {exc}") from exc
        rows = data.get("models") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise BaseModelTableError(f"{path}: expected a top-level 'models' list")
        return cls((_parse_row(row, i) for i, row in enumerate(rows)), known_key)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self):
        return iter(self._by_id.values())

    def get(self, model_id: str) -> BaseModel | None:
        mid = normalise_model_id(model_id)
        return self._by_id.get(mid.lower()) if mid else None

    def resolve(self, model_id: str, as_of: date | None) -> ParentRecord | None:
        """The parent's licence in force at ``as_of`` (latest when ``as_of`` is None)."""
        model = self.get(model_id)
        return self._record(model, as_of) if model is not None else None

    def resolve_by_name(self, name: str, as_of: date | None) -> ParentRecord | None:
        """A model named without its owner ("Llama-2-70b-chat-hf" in "generated by …" prose).

        Answers only when every row with that name part agrees on the licence (mirrors
        such as NousResearch/… carry the original's); an ambiguous name resolves to None.
        """
        wanted = name.strip().lower()
        if not wanted or "/" in wanted:
            return self.resolve(name, as_of) if wanted else None
        if self._by_name is None:
            index: dict[str, list[BaseModel]] = {}
            for m in self._by_id.values():
                index.setdefault(m.id.rsplit("/", 1)[-1].lower(), []).append(m)
            self._by_name = index
        matches = self._by_name.get(wanted, [])
        keys = {m.license_at(as_of).key for m in matches}
        return self._record(matches[0], as_of) if len(keys) == 1 else None

    def _record(self, model: BaseModel, as_of: date | None) -> ParentRecord:
        span = model.license_at(as_of)
        return ParentRecord(
            id=model.id,
            license_key=span.key,
            license_class=None,
            source="bundled",
            as_of=span.since,
            name=model.id.rsplit("/", 1)[-1],
        )


@functools.cache
def _default_table() -> BundledBaseModels:
    return BundledBaseModels._from_file(DEFAULT_PATH, _default_key_check())
