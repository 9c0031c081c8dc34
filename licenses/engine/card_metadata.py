"""Front-matter values as typed facts: string lists, ``model-index`` results, CO2 emissions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

_Record = TypeVar("_Record")


def frozen_record(cls: type[_Record], values: dict[str, Any]) -> _Record:
    """``cls(**values)`` for a frozen dataclass, ``values`` naming every field in field order.

    A frozen dataclass's ``__init__`` sets each field with ``object.__setattr__``; a card
    builds dozens of these records (its facts, sections, links, evaluation rows), and the
    34 calls of :class:`~licenses.engine.cardfacts.CardFacts` alone cost several times
    what filling the instance dict at once does. Only for classes without ``__slots__``,
    ``__post_init__`` or ``InitVar`` fields, whose ``__init__`` does nothing else.
    """
    record = object.__new__(cls)
    record.__dict__.update(values)
    return record


@dataclass(frozen=True)
class EvalResult:
    task: str | None
    dataset: str | None
    metric: str | None
    value: Any
    source: str = "model-index"

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "dataset": self.dataset, "metric": self.metric, "value": self.value,
                "source": self.source}  # fmt: skip


def as_str_list(value: Any) -> tuple[str, ...]:
    """Metadata values are str, list or junk; keep the strings (numbers as text)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, (list, tuple)):
        try:  # a list of strings (tags, languages, datasets ...): stripped in one C-level pass
            return tuple(filter(None, map(str.strip, value)))
        except TypeError:  # an item that is not a string: item by item
            pass
        out: list[str] = []
        for item in value:
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                out.append(str(item))
        return tuple(out)
    return ()


def _as_str(value: Any) -> str | None:
    """The first string of :func:`as_str_list`; absent and plain string values, most of them,
    answered without building the tuple."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    items = as_str_list(value)
    return items[0] if items else None


def _named(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return _as_str(value.get("name")) or _as_str(value.get("type")) or _as_str(value.get("id"))
    return _as_str(value)


def parse_model_index(value: Any) -> tuple[EvalResult, ...]:
    """Flatten ``model-index`` (Papers-with-Code spec) into (task, dataset, metric, value) rows."""
    results: list[EvalResult] = []
    if not isinstance(value, list):
        return ()
    new = object.__new__
    for entry in value[:50]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("results"), list):
            continue
        for res in entry["results"][:500]:
            if not isinstance(res, Mapping):
                continue
            task = _named(res.get("task"))
            dataset = _named(res.get("dataset"))
            metrics = res.get("metrics")
            if not isinstance(metrics, list):
                continue
            for metric in metrics[:100]:
                if isinstance(metric, Mapping) and "value" in metric:
                    val = metric.get("value")
                    if not isinstance(val, (int, float, str)) or isinstance(val, bool):
                        val = str(val)
                    # what frozen_record does, without a call per row (cards list hundreds)
                    row = new(EvalResult)
                    row.__dict__.update(task=task, dataset=dataset, metric=_named(metric), value=val,
                                        source="model-index")  # fmt: skip
                    results.append(row)
    return tuple(results)


def parse_co2(value: Any) -> dict[str, Any] | None:
    """``co2_eq_emissions`` is a number (grams) or a mapping (hub-docs model-cards-co2.md)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return {"emissions": float(value)}
    if isinstance(value, str):
        try:
            return {"emissions": float(value)}
        except ValueError:
            return {"emissions": None, "text": value[:200]}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        em = value.get("emissions")
        if isinstance(em, (int, float)) and not isinstance(em, bool):
            out["emissions"] = float(em)
        for key in ("source", "training_type", "geographical_location", "hardware_used"):
            if isinstance(value.get(key), (str, int, float)):
                out[key] = str(value[key])[:200]
        return out or None
    return None
