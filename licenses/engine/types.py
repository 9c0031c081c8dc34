"""Shared value types of the licence engine.

These are the seams between the engine's modules (knowledge base, text detector,
card parser, classifier, lineage rules, transparency scoring, policy evaluation) and
between the engine and its two callers, the CLI and the Django server. They are
plain frozen dataclasses so that the core stays Django-free, hashable and cheap to
build in bulk; ``to_dict`` methods produce the vocabulary fixed by the interface
contract (``license.key``, ``license.class`` ...), never a renamed variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO, Literal

LicenseClass = Literal[
    "osi-permissive",
    "osi-copyleft",
    "open-content",
    "open-content-sharealike",
    "no-derivatives",
    "rail",
    "vendor-community",
    "noncommercial",
    "unknown",
]
LICENSE_CLASSES: tuple[str, ...] = LicenseClass.__args__  # type: ignore[attr-defined]

CommercialUse = Literal["yes", "no", "conditional", "unknown"]
COMMERCIAL_USE_VALUES: tuple[str, ...] = CommercialUse.__args__  # type: ignore[attr-defined]

Severity = Literal["error", "warning", "info"]
Relation = Literal["finetune", "adapter", "merge", "quantized"]
RELATIONS: tuple[str, ...] = Relation.__args__  # type: ignore[attr-defined]

#: Obligation kinds a licence can carry. Each one drives a derivative rule, a policy
#: check or an obligation shown to the user; the knowledge-base schema enumerates them.
OBLIGATION_KINDS: tuple[str, ...] = (
    "attribution",
    "notice",  # a fixed notice sentence / NOTICE file must ship
    "license-copy",  # a copy of the licence must accompany redistribution
    "mark-modifications",
    "share-alike",
    "no-derivatives",
    "noncommercial",
    "use-restrictions-flow-down",  # RAIL-style restrictions must be in every downstream licence
    "acceptable-use-policy",
    "mau-cap",  # value: int, monthly active users
    "dau-cap",  # value: int, daily active users
    "revenue-cap",  # value: int, annual revenue in USD
    "name-prefix",  # value: str, e.g. "Llama 3"
    "display-phrase",  # value: str, e.g. "Built with Llama"
    "no-output-training",  # outputs may not be used to improve other models
    "outputs-are-derivatives",
    "eu-carve-out",  # rights withheld for the EU (value: short description)
    "guardrail-termination",  # licence ends if guardrails are bypassed
    "royalty",
    "registration-required",
    "same-license-required",  # derivatives must use this same licence
    "hosting-restricted",
    "network-source-offer",  # users interacting over a network must be offered the source (AGPL §13)
)


class ExpressionError(ValueError):
    """The text is not a well-formed licence expression (defined here so the classifier can catch
    it without importing the expression parser, and its library, on every card)."""


@dataclass(frozen=True)
class Obligation:
    """One structured condition of a licence, with the clause it comes from."""

    kind: str
    clause: str  # citation, e.g. "§2 Additional Commercial Terms"
    summary: str  # one plain-language sentence
    value: Any = None  # numbers for caps, strings for prefixes/phrases

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "clause": self.clause, "summary": self.summary}
        if self.value is not None:
            d["value"] = self.value
        return d


@dataclass(frozen=True)
class LicenseInfo:
    """A knowledge-base entry: everything we know about one licence."""

    key: str
    name: str
    spdx: str  # SPDX id or LicenseRef-...
    license_class: str
    commercial_use: str
    osi_approved: bool
    url: str | None
    aliases: tuple[str, ...] = ()
    family: str | None = None  # e.g. "llama", "gemma", "openrail"; versions of one family share it
    version: str | None = None
    published: date | None = None
    summary: str = ""
    obligations: tuple[Obligation, ...] = ()
    is_family_id: bool = False  # an id like `openrail` that names a family, not exact terms

    def obligation(self, kind: str) -> Obligation | None:
        return next((o for o in self.obligations if o.kind == kind), None)

    def has(self, kind: str) -> bool:
        return self.obligation(kind) is not None


@dataclass(frozen=True)
class Evidence:
    """Where a conclusion came from: ``source`` is ``metadata``, ``file:<path>`` or ``body``."""

    source: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "detail": self.detail}


@dataclass(frozen=True)
class LicenseFinding:
    """The classifier's answer for one repository (contract: the ``license`` object)."""

    key: str  # knowledge-base key, ``none`` or ``unknown``
    license_class: str
    spdx: str | None
    commercial_use: str
    confidence: float
    evidence: tuple[Evidence, ...] = ()
    conflicts: tuple[dict[str, str], ...] = ()
    name: str | None = None
    reason: str | None = None  # why the answer is ``unknown``, when it is

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "key": self.key,
            "class": self.license_class,
            "spdx": self.spdx,
            "commercial_use": self.commercial_use,
            "confidence": round(self.confidence, 3),
            "evidence": [e.to_dict() for e in self.evidence],
            "conflicts": list(self.conflicts),
        }
        if self.name:
            d["name"] = self.name
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass(frozen=True)
class Violation:
    """A finding of a violation rule (contract: ``violations[]``)."""

    rule: str
    severity: str
    message: str
    parent: str | None = None
    clause: str | None = None
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "parent": self.parent,
            "message": self.message,
            "clause": self.clause,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class RepoSnapshot:
    """One revision of a model repository as the engine sees it, wherever it lives.

    The CLI builds it from a folder, the server from the database and blob store.
    ``files`` lists every file with its size; ``texts`` holds the decoded content of
    the small files the engine reads (README.md, LICENSE*, NOTICE*, USE_POLICY*,
    *.json configs); ``open_file`` lets header parsers read the first bytes of large
    files (safetensors, GGUF, pickles) without loading them.
    """

    id: str
    files: Mapping[str, int]
    texts: Mapping[str, str]
    open_file: Callable[[str], BinaryIO] | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None
    sha: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def readme(self) -> str | None:
        return self.texts.get("README.md")
