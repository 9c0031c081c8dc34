"""AI-BOM export, checked by the formats' own libraries and schemas."""

from __future__ import annotations

import io
import json

import pytest

from licenses.engine.bom import BomError, export_bom, license_expression
from licenses.engine.kb import default_kb

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


def _report(model_id: str, key: str, spdx: str | None, parents=(), revision: str | None = None) -> dict:
    return {
        "id": model_id,
        "revision": revision,
        "license": {"key": key, "class": "unknown", "spdx": spdx, "commercial_use": "unknown"},
        "lineage": {"base_models": [{"id": p, "relation": "finetune"} for p in parents]},
        "data": {},
        "transparency": {},
    }


NO_LICENCE = _report("acme/no-licence", "none", "NONE")
UNKNOWN = _report("acme/bespoke", "unknown", "NOASSERTION")
NEWER_ID = _report("acme/openmdw", "openmdw-1.0", "OpenMDW-1.0")  # newer than spdx-tools' list
BASE = _report("acme/base", "apache-2.0", "Apache-2.0", revision="b" * 40)
CHILD = _report("acme/child", "apache-2.0", "Apache-2.0", parents=["acme/base"], revision="c" * 40)


def test_spdx23_says_none_and_noassertion_and_carries_ids_newer_than_its_list():
    """These used to be refused (400): NONE and NOASSERTION were parsed as licence ids, and
    OpenMDW-1.0 is missing from the licence list spdx-tools validates against."""
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
    from spdx_tools.spdx.model.spdx_none import SpdxNone

    doc = export_bom("spdx2", [NO_LICENCE, UNKNOWN, NEWER_ID], hub_url="https://hub.example.org")
    by_name = {p["name"]: p for p in doc["packages"]}
    assert by_name["acme/no-licence"]["licenseDeclared"] == str(SpdxNone()) == "NONE"
    assert by_name["acme/bespoke"]["licenseDeclared"] == str(SpdxNoAssertion()) == "NOASSERTION"
    assert by_name["acme/openmdw"]["licenseDeclared"] == "LicenseRef-OpenMDW-1.0"
    assert "LicenseRef-OpenMDW-1.0" in {x["licenseId"] for x in doc["hasExtractedLicensingInfos"]}


def test_spdx3_uses_the_none_and_noassertion_individuals_and_versions_every_model():
    from spdx_python_model import v3_0_1 as s

    doc = export_bom("spdx3", [NO_LICENCE, UNKNOWN, CHILD], hub_url="https://hub.example.org")
    assert "NOASSERTION" not in {e.get("simplelicensing_licenseExpression") for e in doc["@graph"]}
    objset = s.SHACLObjectSet()
    s.JSONLDDeserializer().read(io.BytesIO(json.dumps(doc).encode()), objset)
    declared = {
        r.from_.name: r.to[0]
        for r in objset.foreach_type(s.Relationship)
        if r.relationshipType == s.RelationshipType.hasDeclaredLicense
    }
    assert str(declared["acme/no-licence"]).endswith("ExpandedLicensing/NoneLicense")
    assert str(declared["acme/bespoke"]).endswith("ExpandedLicensing/NoAssertionLicense")
    models = list(objset.foreach_type(s.ai_AIPackage))
    assert all(m.software_packageVersion for m in models)  # the AI profile requires one
    stub = next(m for m in models if m.name == "acme/base")
    assert stub.software_packageVersion == "NOASSERTION" and stub.suppliedBy.name == "acme"


def test_a_requested_model_that_is_also_a_parent_is_one_package_in_every_format():
    for order in ([CHILD, BASE], [BASE, CHILD]):
        spdx3 = export_bom("spdx3", order)
        assert sum(1 for e in spdx3["@graph"] if e.get("name") == "acme/base") == 1
        spdx2 = export_bom("spdx2", order, hub_url="https://hub.example.org")
        (base,) = [p for p in spdx2["packages"] if p["name"] == "acme/base"]
        assert base["licenseDeclared"] == "Apache-2.0" and base["versionInfo"] == "b" * 40
        assert {"spdxElementId": base["SPDXID"], "relationshipType": "ANCESTOR_OF",
                "relatedSpdxElement": next(p["SPDXID"] for p in spdx2["packages"] if p["name"] == "acme/child")
                } in spdx2["relationships"]  # fmt: skip
        cdx = export_bom("cyclonedx", order)
        (component,) = [c for c in cdx["components"] if c["name"] == "acme/base"]
        assert component["licenses"] == [{"expression": "Apache-2.0"}] and component["version"] == "b" * 40


def test_cyclonedx_stays_valid_when_a_model_is_asked_for_twice():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    bom = export_bom("cyclonedx", [CHILD, CHILD, NO_LICENCE, UNKNOWN])
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom), all_errors=True)
    assert errors is None, [str(e) for e in errors]
    assert [d["ref"] for d in bom["dependencies"]].count("machine-learning-model:acme/child") == 1
    by_name = {c["name"]: c for c in bom["components"]}
    assert "licenses" not in by_name["acme/no-licence"] and "licenses" not in by_name["acme/bespoke"]


def test_dataset_and_parent_licences_are_exported_in_every_format(tmp_path):
    """The analysis knows them (``data.dataset_licenses``, ``lineage.base_models[].license_key``);
    each format now says them, and no assertion where they are unknown."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    report = {
        **_report("acme/ft", "apache-2.0", "Apache-2.0", revision="f" * 40),
        "lineage": {"base_models": [{"id": "meta-llama/Llama-3.1-8B", "license_key": "llama3.1"},
                                    {"id": "someone/unknown-base"}]},
        "data": {"datasets": ["tatsu-lab/alpaca", "wikitext", "mystery/data"],
                 "dataset_licenses": [{"id": "tatsu-lab/alpaca", "license": "CC BY-NC 4.0"},
                                      {"id": "wikitext", "license": "cc-by-sa-3.0|gfdl"}]},
    }  # fmt: skip
    llama = default_kb().get("llama3.1").spdx

    spdx2 = export_bom("spdx2", [report], hub_url="https://hub.example.org")
    declared = {p["name"]: p.get("licenseDeclared") for p in spdx2["packages"]}
    assert declared["tatsu-lab/alpaca"] == "CC-BY-NC-4.0"
    assert declared["wikitext"].startswith("CC-BY-SA-3.0 AND ")  # every licence of "a|b" applies
    assert declared["mystery/data"] == "NOASSERTION" and declared["someone/unknown-base"] == "NOASSERTION"
    assert declared["meta-llama/Llama-3.1-8B"] == llama
    path = tmp_path / "bom.spdx.json"
    path.write_text(json.dumps(spdx2))
    assert validate_full_spdx_document(parse_file(str(path))) == []

    spdx3 = export_bom("spdx3", [report])
    exprs = {e.get("simplelicensing_licenseExpression") for e in spdx3["@graph"]}
    assert {"CC-BY-NC-4.0", llama} <= exprs

    cdx = export_bom("cyclonedx", [report])
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(cdx)) is None
    by_name = {c["name"]: c for c in cdx["components"]}
    assert by_name["tatsu-lab/alpaca"]["licenses"] == [{"expression": "CC-BY-NC-4.0"}]
    assert by_name["meta-llama/Llama-3.1-8B"]["licenses"] == [{"expression": llama}]
    assert "licenses" not in by_name["mystery/data"] and "licenses" not in by_name["someone/unknown-base"]


def test_a_model_asked_for_twice_in_any_case_is_one_package_in_every_format():
    twice = [BASE, {**BASE, "id": "ACME/Base"}]
    assert [p["name"] for p in export_bom("spdx2", twice, hub_url="https://hub.example.org")["packages"]] == [
        "acme/base"
    ]
    assert sum(1 for e in export_bom("spdx3", twice)["@graph"] if e.get("type") == "ai_AIPackage") == 1
    assert len(export_bom("cyclonedx", twice)["components"]) == 1


ROOT = _report("meta/root", "llama3.1", None, revision="r" * 40)
MIDDLE = {
    **_report("acme/middle", "llama3.1", None, parents=["meta/root"], revision="m" * 40),
    "data": {
        "datasets": ["acme/chats"],
        "dataset_licenses": [{"id": "acme/chats", "license": "cc-by-nc-4.0"}],
    },
}
LEAF = _report("acme/leaf", "llama3.1", None, parents=["acme/middle"], revision="l" * 40)


def test_ancestors_are_full_packages_linked_up_the_chain_but_not_subjects(tmp_path):
    """A fine-tune of a fine-tune: the grandparent, its licence and the parent's training data are
    in the BOM, each link is an ancestor relationship, and only the requested model is described."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_python_model import v3_0_1 as s
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    llama = default_kb().get("llama3.1").spdx
    spdx2 = export_bom("spdx2", [LEAF], [MIDDLE, ROOT, LEAF], hub_url="https://hub.example.org")
    by_name = {p["name"]: p for p in spdx2["packages"]}
    assert set(by_name) == {"acme/leaf", "acme/middle", "meta/root", "acme/chats"}
    assert (
        by_name["meta/root"]["versionInfo"] == "r" * 40 and by_name["meta/root"]["licenseDeclared"] == llama
    )
    assert by_name["acme/chats"]["licenseDeclared"] == "CC-BY-NC-4.0"
    links = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in spdx2["relationships"]
    }
    ref = {name: p["SPDXID"] for name, p in by_name.items()}
    assert (ref["meta/root"], "ANCESTOR_OF", ref["acme/middle"]) in links
    assert (ref["acme/middle"], "ANCESTOR_OF", ref["acme/leaf"]) in links
    assert {r for r in links if r[1] == "DESCRIBES"} == {("SPDXRef-DOCUMENT", "DESCRIBES", ref["acme/leaf"])}
    path = tmp_path / "bom.spdx.json"
    path.write_text(json.dumps(spdx2))
    assert validate_full_spdx_document(parse_file(str(path))) == []

    spdx3 = export_bom("spdx3", [LEAF], [MIDDLE, ROOT])
    objset = s.SHACLObjectSet()
    s.JSONLDDeserializer().read(io.BytesIO(json.dumps(spdx3).encode()), objset)
    packages = {p.name: p for p in objset.foreach_type(s.ai_AIPackage)}
    assert packages["meta/root"].software_packageVersion == "r" * 40
    ancestry = {
        (r.from_.name, r.to[0].name)
        for r in objset.foreach_type(s.Relationship)
        if r.relationshipType == s.RelationshipType.ancestorOf
    }
    assert ancestry == {("meta/root", "acme/middle"), ("acme/middle", "acme/leaf")}
    (document,) = objset.foreach_type(s.SpdxDocument)
    assert [e.name for e in document.rootElement] == ["acme/leaf"]

    cdx = export_bom("cyclonedx", [LEAF], [MIDDLE, ROOT])
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(cdx)) is None
    depends = {d["ref"]: d["dependsOn"] for d in cdx["dependencies"]}
    assert depends["machine-learning-model:acme/middle"] == [
        "data:acme/chats",
        "machine-learning-model:meta/root",
    ]
    (root,) = [c for c in cdx["components"] if c["name"] == "meta/root"]
    assert root["version"] == "r" * 40 and root["licenses"] == [{"expression": llama}]


def test_only_parents_this_hub_holds_get_its_download_location():
    """A parent outside the registry (the bundled table, or nobody) pointed at this hub: a 404."""
    report = {
        **_report("acme/ft", "apache-2.0", "Apache-2.0", revision="f" * 40),
        "lineage": {"base_models": [{"id": "acme/hosted", "source": "registry", "license_key": "mit"},
                                    {"id": "meta-llama/Llama-3.1-8B", "source": "bundled", "license_key": "llama3.1"},
                                    {"id": "someone/unknown", "source": "unresolved"}]},
    }  # fmt: skip
    hub = "https://hub.example.org"
    spdx2 = {p["name"]: p["downloadLocation"] for p in export_bom("spdx2", [report], hub_url=hub)["packages"]}
    assert spdx2["acme/hosted"] == f"{hub}/acme/hosted"
    assert spdx2["meta-llama/Llama-3.1-8B"] == spdx2["someone/unknown"] == "NOASSERTION"
    spdx3 = {e["name"]: e.get("software_downloadLocation") for e in export_bom("spdx3", [report], hub_url=hub)["@graph"]
             if e.get("type") == "ai_AIPackage"}  # fmt: skip
    assert spdx3["acme/hosted"] == f"{hub}/acme/hosted" and spdx3["someone/unknown"] is None
    cdx = {
        c["name"]: c.get("externalReferences")
        for c in export_bom("cyclonedx", [report], hub_url=hub)["components"]
    }
    assert cdx["acme/hosted"] == [{"type": "distribution", "url": f"{hub}/acme/hosted"}]
    assert cdx["meta-llama/Llama-3.1-8B"] is None


def test_a_parent_spelled_in_another_case_is_one_component():
    child = {**LEAF, "lineage": {"base_models": [{"id": "ACME/Middle", "relation": "finetune"}]}}
    cdx = export_bom("cyclonedx", [child], [MIDDLE, ROOT])
    names = [c["name"].lower() for c in cdx["components"] if c["type"] == "machine-learning-model"]
    assert sorted(names) == ["acme/leaf", "acme/middle", "meta/root"]
    (middle,) = [c for c in cdx["components"] if c["name"].lower() == "acme/middle"]
    assert middle["version"] == "m" * 40  # the full entry, not a stub beside it
