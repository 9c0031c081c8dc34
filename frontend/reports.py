"""Compliance-check reports for download: a Markdown table people paste into a ticket.

The verdicts come from the licence service (``check_models``); this module only formats
them. AI-BOM exports (SPDX 3, SPDX 2.3, CycloneDX) are the licence engine's (``licenses.engine.bom``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from licenses.engine.bom import FORMATS, export_bom
from licenses.services.compliance import bom_ancestors, bom_reports

#: Characters Markdown or HTML would act on inside a table cell.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _cell(text: Any) -> str:
    """Text for a table cell, read as text wherever the report is pasted: a model id comes from the
    request as typed (``<script>``, ``[x](javascript:…)``), so every character Markdown or HTML
    would act on is escaped, not only the cell separator."""
    plain = str(text if text is not None else "").replace("\n", " ").strip()
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain)


def markdown_report(policy_label: str, results: Sequence[Mapping[str, Any]], endpoint: str = "") -> str:
    counts = {v: sum(1 for r in results if r.get("verdict") == v) for v in ("allow", "warn", "deny")}
    lines = [
        f"# Compliance check — policy {_cell(policy_label)}",  # an inline policy's name is typed by the caller
        "",
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
        + (f" by {endpoint}" if endpoint else "")
        + ".",
        "",
        f"**{counts['allow']} allowed, {counts['warn']} with warnings, {counts['deny']} denied** of {len(results)} models.",
        "",
        "| model | revision | licence | class | verdict | reasons |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lic = r.get("license") or {}
        reasons = "; ".join(
            f"{x.get('code')}: {x.get('message')}"
            for x in r.get("reasons") or []
            if x.get("effect") in {"deny", "warn"}
        )
        lines.append(
            f"| {_cell(r.get('model'))} | {_cell((r.get('revision') or '')[:12])} | {_cell(lic.get('key'))} "
            f"| {_cell(lic.get('class'))} | **{_cell(r.get('verdict'))}** | {_cell(reasons)} |"
        )
    for r in results:
        obligations = [o for o in r.get("obligations") or [] if o.get("applies", True)]
        if not obligations:
            continue
        lines += ["", f"## Obligations of {_cell(r.get('model'))}", ""]
        lines += [
            f"- {_cell(o.get('text'))}" + (f" ({_cell(o.get('clause'))})" if o.get("clause") else "")
            for o in obligations
        ]
    return "\n".join(lines) + "\n"


#: AI-BOM formats the licence engine exports, with the labels the page shows.
AIBOM_FORMATS = {"spdx3": "SPDX 3.0.1", "spdx2": "SPDX 2.3", "cyclonedx": "CycloneDX 1.6"}


def aibom(fmt: str, results: Sequence[Mapping[str, Any]], user, hub_url: str) -> dict:
    """The AI-BOM of checked models (verdicts included), built by the licence engine's exporter.

    Models unknown to the viewer are left out, as in the API's ``/compliance/bom``.
    """
    reports = bom_reports(results, user)
    return export_bom(fmt, reports, bom_ancestors(reports, user), hub_url=hub_url)


assert set(AIBOM_FORMATS) == set(FORMATS), "AI-BOM formats drifted from licenses.engine.bom"
