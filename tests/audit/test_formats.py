"""Report formats: SARIF 2.1.0 structure, JUnit parsed back, Markdown, text and JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date

import jsonschema
import pytest

from licenses.engine.audit import run_audit
from licenses.engine.policy import load_policy
from licenses.engine.report_formats import FORMATS, append_step_summary, render

# The required properties and enumerations of the SARIF 2.1.0 schema (OASIS, sarif-schema-2.1.0.json)
# for every object we emit. The full schema is not bundled offline, so this subset is written out
# from the standard: sarifLog, run, tool, toolComponent, reportingDescriptor, result, message,
# location, physicalLocation, artifactLocation, region, suppression.
_MESSAGE = {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}]}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"enum": ["2.1.0"]},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "shortDescription": {"type": "object", "required": ["text"]},
                                                "defaultConfiguration": {
                                                    "properties": {
                                                        "level": {
                                                            "enum": ["none", "note", "warning", "error"]
                                                        }
                                                    }
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "invocations": {"type": "array", "items": {"required": ["executionSuccessful"]}},
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": _MESSAGE,
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "baselineState": {"enum": ["new", "unchanged", "updated", "absent"]},
                                "partialFingerprints": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                                "suppressions": {
                                    "type": "array",
                                    "items": {
                                        "required": ["kind"],
                                        "properties": {"kind": {"enum": ["inSource", "external"]}},
                                    },
                                },
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "anyOf": [
                                                    {"required": ["address"]},
                                                    {"required": ["artifactLocation"]},
                                                ],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "properties": {
                                                            "uri": {
                                                                "type": "string",
                                                                "format": "uri-reference",
                                                            }
                                                        },
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {"type": "integer", "minimum": 1},
                                                            "startColumn": {"type": "integer", "minimum": 1},
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def result(codebase, fail_policy):
    return run_audit(codebase, load_policy(fail_policy), offline=True, today=date(2026, 11, 23))


def test_sarif_matches_the_required_structure(result):
    log = json.loads(render(result, "sarif"))
    jsonschema.validate(log, SARIF_SUBSET, format_checker=jsonschema.FormatChecker())
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"  # our columns count characters, not UTF-16 units
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]


def test_sarif_points_at_exact_lines(result, codebase):
    log = json.loads(render(result, "sarif"))
    results = log["runs"][0]["results"]
    mau = [r for r in results if r["ruleId"] == "mau-cap-exceeded"]
    locs = sorted(
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in mau
    )
    assert locs == [("app/inference.py", 13), ("app/inference.py", 14), ("configs/serve.json", 4)]
    assert {r["level"] for r in mau} == {"error"}
    eu = next(r for r in results if r["ruleId"] == "eu-carve-out")
    assert "Llama-3.2-11B-Vision-Instruct" in eu["message"]["text"]
    unresolved = [r for r in results if r["ruleId"] == "unresolved-reference"]
    assert [r["level"] for r in unresolved] == ["warning", "warning"]
    fingerprints = [r["partialFingerprints"]["modelhubFinding/v1"] for r in results]
    assert len(fingerprints) == len(set(fingerprints))
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == codebase.resolve().as_uri() + "/"


def test_sarif_omits_allowed_and_waived(result):
    results = json.loads(render(result, "sarif"))["runs"][0]["results"]
    models = {r["properties"]["model"] for r in results if "properties" in r}
    assert "Qwen/Qwen2.5-72B-Instruct" not in models  # waived by an exception
    assert "microsoft/phi-2" not in models


def test_junit_one_testcase_per_reference(result):
    root = ET.fromstring(render(result, "junit"))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(result.findings) + len(result.unresolved) == int(suite.get("tests"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 8 == int(suite.get("failures")) == int(root.get("failures"))
    names = {c.get("name") for c in failed}
    assert "facebook/opt-125m @ notebooks/explore.ipynb:39" in names
    fail = next(c for c in failed if c.get("name").startswith("meta-llama/Llama-3.1")).find("failure")
    assert "mau-cap-exceeded" in fail.get("message") and "700,000,000" in fail.text
    assert len([c for c in cases if c.find("skipped") is not None]) == 2 == int(suite.get("skipped"))
    assert all(c.get("classname") for c in cases)


def test_markdown_summary(result, tmp_path):
    md = render(result, "markdown")
    assert md.startswith("## Model licence audit: ❌ failed")
    rows = [line for line in md.splitlines() if line.startswith("| ❌")]
    assert len(rows) == 8 and all(row.count(" | ") == 4 for row in rows)
    assert "`configs/serve.json:4`" in md
    summary = tmp_path / "s.md"
    assert append_step_summary(result, {"GITHUB_STEP_SUMMARY": str(summary)}) == summary
    assert append_step_summary(result, {}) is None
    assert summary.read_text() == md


def test_text_and_json(result):
    text = render(result, "text")
    assert "configs/serve.json:4: DENY meta-llama/Llama-3.2-11B-Vision-Instruct" in text
    assert "notebooks/explore.ipynb:39 (cell 4, line 2): DENY facebook/opt-125m" in text
    assert text.rstrip().endswith("FAILED")
    data = json.loads(render(result, "json"))
    assert data["summary"]["deny"] == 8 and data["summary"]["failed"] is True
    assert set(FORMATS) == {"text", "json", "sarif", "junit", "markdown"}
    with pytest.raises(ValueError):
        render(result, "html")
