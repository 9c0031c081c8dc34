"""AI-BOM export, checked by the formats' own libraries and schemas."""

from __future__ import annotations

import io
import json

import pytest

from licenses.engine.bom import BomError, export_bom, license_expression

REPORTS = [
    {
        "id": "acme/llama-3.1-support",
        "revision": "a" * 40,
        "license": {
            "key": "llama3.1",
            "class": "vendor-community",
            "spdx": None,
            "commercial_use": "conditional",
        },
        "lineage": {"base_models": [{"id": "meta-llama/Llama-3.1-8B", "relation": "finetune"}]},
        "data": {
            "datasets": ["tatsu-lab/alpaca"],
            "disclosure_level": 3,
            "dataset_licenses": [{"id": "tatsu-lab/alpaca", "license": "cc-by-nc-4.0", "commercial": "no"}],
        },
        "transparency": {"score": 42},
        "verdict": "warn",
    },
    {
        "id": "acme/bert-tiny",
        "license": {
            "key": "apache-2.0",
            "class": "osi-permissive",
            "spdx": "Apache-2.0",
            "commercial_use": "yes",
        },
        "lineage": {"base_models": []},
        "data": {"datasets": [], "disclosure_level": 0},
        "transparency": {"score": 10},
    },
    {"id": "acme/mystery", "license": {"key": "unknown", "class": "unknown"}, "data": {}, "transparency": {}},
]


def test_license_expression_uses_the_knowledge_base():
    assert license_expression(REPORTS[1]) == "Apache-2.0"
    assert license_expression(REPORTS[0]).startswith("LicenseRef-")
    assert license_expression(REPORTS[2]) is None


def test_spdx23_is_valid_per_spdx_tools(tmp_path):
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    doc = export_bom("spdx2", REPORTS, hub_url="https://hub.example.org")
    path = tmp_path / "bom.spdx.json"
    path.write_text(json.dumps(doc))
    parsed = parse_file(str(path))
    assert validate_full_spdx_document(parsed) == []
    names = {p.name for p in parsed.packages}
    assert {"acme/llama-3.1-support", "meta-llama/Llama-3.1-8B", "tatsu-lab/alpaca", "acme/mystery"} <= names
    model = next(p for p in parsed.packages if p.name == "acme/bert-tiny")
    assert str(model.license_declared) == "Apache-2.0"
    assert any(x.license_id.startswith("LicenseRef-") for x in parsed.extracted_licensing_info)


def test_spdx3_round_trips_through_spdx_python_model():
    from spdx_python_model import v3_0_1 as s

    doc = export_bom("spdx3", REPORTS, hub_url="https://hub.example.org")
    objset = s.SHACLObjectSet()
    s.JSONLDDeserializer().read(io.BytesIO(json.dumps(doc).encode()), objset)
    models = [o for o in objset.foreach_type(s.ai_AIPackage)]
    datasets = [o for o in objset.foreach_type(s.dataset_DatasetPackage)]
    assert {m.name for m in models} >= {"acme/llama-3.1-support", "acme/bert-tiny", "meta-llama/Llama-3.1-8B"}
    assert [d.name for d in datasets] == ["tatsu-lab/alpaca"]
    rels = {
        (r.relationshipType, r.from_.name if hasattr(r.from_, "name") else r.from_)
        for r in objset.foreach_type(s.Relationship)
    }
    assert any(kind == s.RelationshipType.trainedOn for kind, _ in rels)
    exprs = {
        e.simplelicensing_licenseExpression for e in objset.foreach_type(s.simplelicensing_LicenseExpression)
    }
    assert "Apache-2.0" in exprs
    (document,) = list(objset.foreach_type(s.SpdxDocument))
    assert s.ProfileIdentifierType.ai in document.profileConformance
    assert s.ProfileIdentifierType.dataset in document.profileConformance


def test_cyclonedx_16_validates_against_the_bundled_schema():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    bom = export_bom("cyclonedx", REPORTS, hub_url="https://hub.example.org")
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom), all_errors=True)
    assert errors is None, [str(e) for e in errors]
    model = next(c for c in bom["components"] if c["name"] == "acme/llama-3.1-support")
    assert model["type"] == "machine-learning-model"
    props = {p["name"]: p["value"] for p in model["modelCard"]["properties"]}
    assert props["modelhub:license.key"] == "llama3.1" and props["modelhub:compliance.verdict"] == "warn"
    deps = next(d for d in bom["dependencies"] if d["ref"] == model["bom-ref"])["dependsOn"]
    assert "data:tatsu-lab/alpaca" in deps and "machine-learning-model:meta-llama/Llama-3.1-8B" in deps


def test_a_broken_bom_is_caught_by_the_validator():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    bom = export_bom("cyclonedx", REPORTS[:1])
    bom["components"][0]["type"] = "not-a-type"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom)) is not None


def test_unknown_format():
    with pytest.raises(BomError, match="unknown BOM format"):
        export_bom("xml", REPORTS)
