"""Small synthetic contexts for the rule tests, built on the real knowledge base."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from licenses.engine.kb import default_kb
from licenses.engine.lineage import BaseModelRef, ParentRecord
from licenses.engine.rules.context import ResolvedParent, RuleContext
from licenses.engine.types import LicenseFinding


def finding(key: str, conflicts: Iterable[Mapping[str, str]] = ()) -> LicenseFinding:
    info = default_kb().get(key)
    return LicenseFinding(
        key=key,
        license_class=info.license_class if info else "unknown",
        spdx=info.spdx if info else None,
        commercial_use=info.commercial_use if info else "unknown",
        confidence=1.0,
        conflicts=tuple(dict(c) for c in conflicts),
    )


def parent(
    model_id: str, key: str | None, relation: str = "finetune", source: str = "registry"
) -> ResolvedParent:
    """A resolved parent (``key=None``: unresolved)."""
    ref = BaseModelRef(model_id, relation, False)
    if key is None:
        return ResolvedParent(ref, None, None)
    record = ParentRecord(model_id, key, None, source, date(2024, 1, 1), model_id.rsplit("/", 1)[-1])
    return ResolvedParent(ref, record, default_kb().get(key))


def ctx(
    child_id: str = "someone/child-model",
    key: str = "apache-2.0",
    parents: Iterable[ResolvedParent] = (),
    metadata: Mapping[str, Any] | None = None,
    texts: Mapping[str, str] | None = None,
    files: Mapping[str, int] | None = None,
    datasets: Iterable[dict] = (),
    scan: Iterable[dict] = (),
    conflicts: Iterable[Mapping[str, str]] = (),
    output_sources: Iterable[ResolvedParent] = (),
    body: str = "",
) -> RuleContext:
    meta = (
        dict(metadata)
        if metadata is not None
        else ({"license": key} if key not in ("none", "unknown") else {})
    )
    texts = dict(texts) if texts is not None else {"README.md": body}
    files = dict(files) if files is not None else {name: len(t) for name, t in texts.items()}
    return RuleContext(
        child_id=child_id,
        child_name=child_id.rsplit("/", 1)[-1],
        license=finding(key, conflicts),
        metadata=meta,
        texts=texts,
        files=files,
        parents=list(parents),
        datasets=list(datasets),
        scan=list(scan),
        kb=default_kb(),
        output_sources=list(output_sources),
        body=body,
    )
