"""Renderings of an ``AuditResult``: text, JSON, SARIF 2.1.0, JUnit XML and Markdown.

Why five: people read text in a terminal, scripts read JSON (contract fields), code-scanning UIs
(GitHub, GitLab, Azure) read SARIF and annotate the exact line, CI test tabs read JUnit, and the
GitHub job summary reads Markdown. All are built from the same ``AuditResult`` so they agree.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from licenses.engine.audit import AuditResult, Finding

FORMATS = ("text", "json", "sarif", "junit", "markdown")
TOOL_NAME = "modelhub-audit"
TOOL_URI = "https://modelhub.invalid/docs/ci-audit"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_ICON = {"allow": "✅", "warn": "⚠️", "deny": "❌"}

#: One line per reason code, for SARIF rule descriptions (the full list is in docs/policies.md).
RULE_TEXT = {
    "license-denied": "Licence key is on the policy's deny list",
    "license-class-denied": "Licence class is denied by the policy",
    "license-class-not-allowed": "Licence class is not in the policy's allow_classes",
    "license-unknown": "Licence cannot be resolved to known terms",
    "noncommercial-license": "Licence forbids commercial use; the policy states commercial use",
    "commercial-use-unclear": "Whether the licence allows commercial use is not known",
    "upstream-license-denied": "A base model's licence is not allowed by the policy",
    "mau-cap-exceeded": "Stated monthly active users exceed the licence's cap",
    "revenue-cap-exceeded": "Stated annual revenue exceeds the licence's cap",
    "eu-carve-out": "Licence withholds rights in the EU and the policy lists EU regions",
    "eu-carve-out-review": "Licence has an EU carve-out for some models; modality unknown",
    "hosting-restricted": "Licence restricts hosted (SaaS) use",
    "transparency-below-minimum": "Transparency score below the policy minimum",
    "transparency-unknown": "No transparency score to check against the policy minimum",
    "disclosure-below-minimum": "Training-data disclosure level below the policy minimum",
    "disclosure-unknown": "Training-data disclosure level unknown",
    "unsafe-serialization": "Weights can execute code on load",
    "pickle-weights": "Pickle weights while the policy does not allow pickle",
    "license-violation": "The model's repository violates its parent's licence",
    "unknown-model": "Model is not known to the registry or the bundled tables",
    "unknown-dataset": "Dataset is not known to the registry or the bundled tables",
    "unresolved-reference": "A model reference whose id cannot be determined statically",
}


def _display_model(f: Finding) -> str:
    return f"{f.model} ({f.local_path})" if f.local_path else f.model


def _location(file: str, line: int, cell: int | None = None, cell_line: int | None = None) -> str:
    return f"{file}:{line}" + (f" (cell {cell}, line {cell_line})" if cell else "")


def _active_reasons(f: Finding) -> list[dict[str, Any]]:
    return [r for r in f.reasons if r.get("effect", "deny") != "info" and not r.get("waived")]


# --------------------------------------------------------------------------- text


def render_text(result: AuditResult) -> str:
    lines = [f"modelhub audit: {result.root} against policy '{result.policy}'", ""]
    for f in result.findings:
        tag = f.verdict.upper() + (" (baselined)" if f.baselined else "")
        lic = f"  [{f.license['key']}, {f.license['class']}]" if f.license else ""
        lines.append(f"{_location(f.file, f.line, f.cell, f.cell_line)}: {tag} {_display_model(f)}{lic}")
        for r in f.reasons:
            if r.get("effect") == "info" and r.get("code") not in {"exception-applied", "exception-expired"}:
                continue
            mark = " (waived)" if r.get("waived") else ""
            lines.append(f"    {r['code']}{mark}: {r['message']}")
    if result.unresolved:
        lines += ["", "Unresolved references (model id not static; review by hand):"]
        for u in result.unresolved:
            lines.append(
                f"{_location(u.file, u.line, u.cell, u.cell_line)}: {u.call}({u.expression}) — {u.note}"
            )
    if result.local_paths:
        lines += ["", "Local paths without a model card (not judged):"]
        lines += [f"{u.file}:{u.line}: {u.model}" for u in result.local_paths]
    for e in result.scan_errors:
        lines.append(f"scan error: {e.file}: {e.message}")
    for e in result.registry_errors:
        lines.append(f"registry error: {e}")
    c = result.counts()
    lines += [
        "",
        f"{len(result.findings)} references in {result.files_scanned} files: {c['deny']} denied, {c['warn']} warned, "
        f"{c['allow']} allowed, {c['baselined']} baselined, {len(result.unresolved)} unresolved. "
        + ("FAILED" if result.failed else "PASSED")
        + _unread(result),
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- json


def render_json(result: AuditResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- sarif


def _sarif_level(effect: str) -> str:
    return {"deny": "error", "warn": "warning"}.get(effect, "note")


def _sarif_location(file: str, line: int, column: int, message: str | None = None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, line)}
    if column and column > 0:
        region["startColumn"] = column
    loc: dict[str, Any] = {
        # a relative URI reference: "my dir/train #2.py" must not read as a fragment "#2.py"
        "physicalLocation": {
            "artifactLocation": {"uri": urllib.parse.quote(file), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }
    if message:
        loc["message"] = {"text": message}
    return loc


def _source_root(root: str | Path) -> Path:
    """The folder result paths are relative to: the audited folder, or an audited file's folder."""
    path = Path(root).resolve()
    return path if path.is_dir() else path.parent


def render_sarif(result: AuditResult) -> str:
    """SARIF 2.1.0: one result per (finding, deny/warn reason); ``ruleId`` is the reason code."""
    from modelhub import __version__

    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def fingerprint(base: str) -> str:
        # Line-free, so alerts survive moved code; the ordinal separates repeats within one file.
        seen[base] = seen.get(base, 0) + 1
        return f"{base}:{seen[base]}"

    def rule_index(code: str, level: str) -> int:
        if code not in rules:
            rules[code] = {
                "id": code,
                "name": "".join(part.capitalize() for part in code.split("-")),
                "shortDescription": {"text": RULE_TEXT.get(code, code.replace("-", " "))},
                "helpUri": f"{TOOL_URI}#{code}",
                "defaultConfiguration": {"level": level},
            }
        return list(rules).index(code)

    for f in result.findings:
        for r in _active_reasons(f):
            level = _sarif_level(r.get("effect", "deny"))
            code = r["code"]
            text = f"{f.kind} {_display_model(f)}: {r['message']}"
            res: dict[str, Any] = {
                "ruleId": code,
                "ruleIndex": rule_index(code, level),
                "level": level,
                "message": {"text": text},
                "locations": [_sarif_location(f.file, f.line, f.column)],
                "partialFingerprints": {"modelhubFinding/v1": fingerprint(f"{f.fingerprint}:{code}")},
                "properties": {"model": f.model, "verdict": f.verdict, "license": f.license, "call": f.call},
            }
            if f.baselined:
                res["baselineState"] = "unchanged"
                res["suppressions"] = [
                    {"kind": "external", "justification": "accepted in the audit baseline"}
                ]
            results.append(res)
    for u in result.unresolved:
        text = f"{u.kind} reference cannot be resolved statically: {u.call}({u.expression}) — {u.note}"
        results.append(
            {
                "ruleId": "unresolved-reference",
                "ruleIndex": rule_index("unresolved-reference", "warning"),
                "level": "warning",
                "message": {"text": text},
                "locations": [_sarif_location(u.file, u.line, u.column)],
                "partialFingerprints": {
                    "modelhubFinding/v1": fingerprint(f"unresolved:{u.file}:{u.call}:{u.expression}")
                },
            }
        )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "informationUri": TOOL_URI,
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _source_root(result.root).as_uri() + "/"}},
                # columns count characters (SARIF's default unit is UTF-16 code units)
                "columnKind": "unicodeCodePoints",
                "invocations": [{"executionSuccessful": True}],
                "results": results,
                "properties": {"policy": result.policy},
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- junit


def render_junit(result: AuditResult) -> str:
    """One testcase per model reference (failure for deny), a skipped testcase per unresolved one."""
    suite = ET.Element("testsuite", name=f"modelhub-audit ({result.policy})")
    failures = skipped = 0
    for f in result.findings:
        case = ET.SubElement(
            suite, "testcase", classname=f.file, name=f"{_display_model(f)} @ {f.file}:{f.line}", time="0"
        )
        detail = "\n".join(f"{r['code']}: {r['message']}" for r in f.reasons)
        if f.verdict == "deny" and not f.baselined:
            failures += 1
            codes = ", ".join(r["code"] for r in _active_reasons(f) if r.get("effect") == "deny")
            fail = ET.SubElement(case, "failure", message=f"{f.model} denied: {codes}", type="deny")
            fail.text = detail
        elif f.verdict == "warn" or f.baselined:
            ET.SubElement(
                case, "system-out"
            ).text = f"{f.verdict}{' (baselined)' if f.baselined else ''}\n{detail}"
    for u in result.unresolved:
        skipped += 1
        case = ET.SubElement(
            suite, "testcase", classname=u.file, name=f"unresolved @ {u.file}:{u.line}", time="0"
        )
        ET.SubElement(case, "skipped", message=f"{u.call}({u.expression}): {u.note}")
    total = len(result.findings) + len(result.unresolved)
    suite.set("tests", str(total))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element(
        "testsuites", name="modelhub-audit", tests=str(total), failures=str(failures), errors="0"
    )
    root.append(suite)
    for element in root.iter():  # scanned files can hold characters XML 1.0 has no way to write
        element.text = _xml_text(element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = _xml_text(value)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


#: Characters XML 1.0 cannot hold in any form (C0 controls but tab/newline/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str | None) -> str | None:
    return _NOT_XML.sub("\ufffd", text) if text else text


# --------------------------------------------------------------------------- markdown


def _unread(result: AuditResult) -> str:
    """A pass is only as good as what was read: say how many files were not."""
    n = len(result.scan_errors)
    return f", but {n} file{'s' if n != 1 else ''} could not be read (see the scan errors)" if n else ""


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: AuditResult) -> str:
    c = result.counts()
    status = ("❌ failed" if result.failed else "✅ passed") + _unread(result)
    lines = [
        f"## Model licence audit: {status}",
        "",
        f"Policy **{_md(result.policy)}** · {len(result.findings)} references in {result.files_scanned} files · "
        f"{c['deny']} denied · {c['warn']} warned · {c['allow']} allowed · {c['baselined']} baselined · "
        f"{len(result.unresolved)} unresolved",
        "",
    ]
    if result.findings:
        lines += ["| | Model | Licence | Where | Why |", "|---|---|---|---|---|"]
        order = {"deny": 0, "warn": 1, "allow": 2}
        for f in sorted(result.findings, key=lambda f: (order.get(f.verdict, 3), f.file, f.line)):
            why = "; ".join(f"`{r['code']}` {r['message']}" for r in _active_reasons(f)) or "—"
            lic = f"{f.license['key']} ({f.license['class']})" if f.license else "unknown"
            icon = _ICON.get(f.verdict, "") + (" (baselined)" if f.baselined else "")
            lines.append(
                f"| {icon} | `{_md(_display_model(f))}` | {_md(lic)} | `{f.file}:{f.line}` | {_md(why)} |"
            )
    if result.unresolved:
        lines += ["", "<details><summary>Unresolved references</summary>", ""]
        lines += [f"- `{u.file}:{u.line}` `{_md(u.expression)}` — {_md(u.note)}" for u in result.unresolved]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[AuditResult], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "markdown": render_markdown,
}


def render(result: AuditResult, fmt: str) -> str:
    renderer = RENDERERS.get(fmt)  # looked up first: a KeyError inside a renderer is a bug, not a format
    if renderer is None:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderer(result)


def append_step_summary(result: AuditResult, env: dict[str, str] | None = None) -> Path | None:
    """Append the Markdown summary to ``$GITHUB_STEP_SUMMARY`` when the runner sets it."""
    target = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(render_markdown(result))
    return path
