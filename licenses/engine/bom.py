"""AI-BOM export: SPDX 3.0.1 (AI and Dataset profiles), SPDX 2.3 and CycloneDX 1.6 ML-BOM.

Input is a list of analyze-JSON reports (the contract shape: ``id``, ``license``,
``lineage``, ``data``, ``transparency``), optionally with ``revision``,
``download_location`` and a compliance ``verdict``. Output is a JSON-ready dict.

- SPDX 3.0.1 is built with ``spdx-python-model`` (the SPDX project's generated bindings),
  whose typed setters reject malformed values as the graph is built.
- SPDX 2.3 is built with ``spdx-tools`` model objects and checked with its
  ``validate_full_spdx_document`` before it is written.
- CycloneDX 1.6 is written as a dict because ``cyclonedx-python-lib`` does not model
  ``modelCard`` yet (its ``Component.model_card`` is a commented-out TODO); the result is
  checked against the library's bundled 1.6 JSON schema in the tests.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from licenses.engine.kb import default_kb

TOOL = "modelhub"
_IDSTRING = re.compile(r"[^A-Za-z0-9.\-]+")


class BomError(ValueError):
    """The BOM could not be produced; the message says which model and why."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _slug(text: str) -> str:
    return _IDSTRING.sub("-", text).strip("-") or "x"


#: What the analysis writes in ``license.spdx`` when there is no expression: not licence ids. Each
#: format has its own way to say them (SPDX 2 ``NONE``/``NOASSERTION`` values, SPDX 3 named
#: individuals, CycloneDX by leaving ``licenses`` out).
NO_LICENSE, NO_ASSERTION = "NONE", "NOASSERTION"
_SPDX3_TERMS = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/"


def license_expression(report: Mapping[str, Any]) -> str | None:
    """The SPDX expression for a report's licence (SPDX id or LicenseRef), None when there is none
    or it is unknown (see ``license_state``)."""
    state = license_state(report)
    return None if state in (NO_LICENSE, NO_ASSERTION) else state


def license_state(report: Mapping[str, Any]) -> str:
    """The report's licence expression, ``NONE`` when the model declares no licence at all, or
    ``NOASSERTION`` when its licence is unknown."""
    lic = report.get("license") or {}
    spdx = str(lic.get("spdx") or "")
    if spdx == NO_LICENSE or lic.get("key") == "none":
        return NO_LICENSE
    if spdx and spdx != NO_ASSERTION:
        return spdx
    info = default_kb().get(str(lic.get("key") or ""))
    return info.spdx if info else NO_ASSERTION


def _owner(model_id: str) -> str | None:
    return model_id.split("/", 1)[0] if "/" in model_id else None


def _custom_refs(expression: str | None) -> list[str]:
    return sorted(set(re.findall(r"LicenseRef-[A-Za-z0-9.\-]+", expression or "")))


def _datasets(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = report.get("data") or {}
    known = {d.get("id"): d for d in data.get("dataset_licenses") or [] if isinstance(d, Mapping)}
    return [{"id": ds, **(known.get(ds) or {})} for ds in data.get("datasets") or [] if isinstance(ds, str)]


def _stated(expression: str | None) -> dict[str, Any]:
    """A report-shaped licence for a dataset or a parent, so every format says it as it says a
    model's (``license_state``): the expression, or no assertion."""
    return {"license": {"spdx": expression or NO_ASSERTION}}


def _dataset_licence(ds: Mapping[str, Any]) -> dict[str, Any]:
    """What the dataset-licence table says (``data.dataset_licenses``): ``CC BY-NC 4.0``, or
    several joined by ``|`` (every one applies), as SPDX when the knowledge base knows each."""
    kb = default_kb()
    parts = [p.strip() for p in str(ds.get("license") or "").split("|") if p.strip()]
    infos = [kb.lookup(p) for p in parts]
    if not parts or any(i is None or not i.spdx for i in infos):
        return _stated(None)
    return _stated(" AND ".join(dict.fromkeys(i.spdx for i in infos)))  # type: ignore[union-attr]


def _parent_licence(parent: Mapping[str, Any]) -> dict[str, Any]:
    """The licence the lineage resolved for a parent (``license_key``), when it did."""
    info = default_kb().get(str(parent.get("license_key") or ""))
    return _stated(info.spdx if info else None)


def _parent_location(parent: Mapping[str, Any], hub_url: str) -> str | None:
    """Where a parent can be downloaded: this hub when it holds it (the lineage resolved it from the
    registry), else not known (a link to this hub was a 404 for a model it does not host)."""
    return f"{hub_url}/{parent['id']}" if parent.get("source") == "registry" else None


def _parents(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        p
        for p in (report.get("lineage") or {}).get("base_models") or []
        if isinstance(p, Mapping) and p.get("id")
    ]


# --------------------------------------------------------------------------- SPDX 3.0.1


def to_spdx3(
    reports: Iterable[Mapping[str, Any]],
    *,
    ancestors: Iterable[Mapping[str, Any]] = (),
    hub_url: str = "",
    created: datetime | None = None,
) -> dict:
    from spdx_python_model import v3_0_1 as s

    base = f"urn:modelhub:{uuid.uuid4().hex}"
    info = s.CreationInfo()
    info.specVersion = "3.0.1"
    info.created = created or _now()
    tool = s.Tool()
    tool._id = f"{base}:tool"
    tool.name = TOOL
    tool.creationInfo = info
    org = s.Organization()
    org._id = f"{base}:supplier"
    org.name = "Modelhub registry"
    org.creationInfo = info
    info.createdBy = [org._id]  # an Agent; the tool that made it is ``createdUsing``
    info.createdUsing = [tool._id]
    objects: list[Any] = [tool, org]
    roots = []

    def element(cls, suffix: str):
        obj = cls()
        obj._id = f"{base}:{suffix}"
        obj.creationInfo = info
        objects.append(obj)
        return obj

    def relate(kind, src, targets, suffix: str):
        rel = element(s.Relationship, suffix)
        rel.from_ = src
        rel.to = targets
        rel.relationshipType = kind

    suppliers: dict[str, Any] = {}

    def supplier(model_id: str) -> str:
        """The model's publisher (the owner part of its id), not the registry that lists it."""
        owner = _owner(model_id) or model_id
        if owner not in suppliers:
            agent = element(s.Organization, f"supplier-{_slug(owner)}-{len(suppliers)}")
            agent.name = owner
            suppliers[owner] = agent
        return suppliers[owner]._id

    def model_package(model_id: str, suffix: str, version: str | None, location: str | None):
        pkg = element(s.ai_AIPackage, suffix)
        pkg.name = model_id
        pkg.software_primaryPurpose = s.software_SoftwarePurpose.model
        if location:
            pkg.software_downloadLocation = location
        # the AI profile requires a version; a parent's revision is often not known
        pkg.software_packageVersion = version or NO_ASSERTION
        pkg.releaseTime = info.created
        pkg.suppliedBy = supplier(model_id)
        return pkg

    def declare(pkg, licensed: Mapping[str, Any], suffix: str) -> list[Any]:
        """``pkg`` hasDeclaredLicense: the expression, or the NoneLicense / NoAssertionLicense
        individual; returns the target for a concluded licence too."""
        state = license_state(licensed)
        if state in (NO_LICENSE, NO_ASSERTION):
            target: list[Any] = [
                _SPDX3_TERMS + ("NoneLicense" if state == NO_LICENSE else "NoAssertionLicense")
            ]
        else:
            lic = element(s.simplelicensing_LicenseExpression, f"license-{suffix}")
            lic.simplelicensing_licenseExpression = state
            target = [lic]
        relate(s.RelationshipType.hasDeclaredLicense, pkg, target, f"declared-{suffix}")
        return target

    reports = list(reports)
    subjects = len(reports)
    reports += ancestors
    # a model requested and also a parent of another is one package (not a licensed root and a stub)
    packages: dict[str, Any] = {}
    models = []
    for n, report in enumerate(reports):
        model_id = str(report.get("id") or f"model-{n}")
        location = report.get("download_location") or f"{hub_url}/{model_id}"
        pkg = model_package(model_id, f"model-{n}", report.get("revision"), location)
        packages.setdefault(model_id.lower(), pkg)
        transparency = (report.get("transparency") or {}).get("score")
        if transparency is not None:
            pkg.comment = f"Modelhub transparency score {transparency}/100"
        models.append(pkg)
        if n < subjects:
            roots.append(pkg)
        declared = declare(pkg, report, f"{n}")
        relate(s.RelationshipType.hasConcludedLicense, pkg, declared, f"concluded-{n}")
        for d, ds in enumerate(_datasets(report)):
            dpkg = element(s.dataset_DatasetPackage, f"model-{n}-data-{d}")
            dpkg.name = ds["id"]
            dpkg.software_primaryPurpose = s.software_SoftwarePurpose.data
            dpkg.software_downloadLocation = f"{hub_url}/datasets/{ds['id']}"
            dpkg.releaseTime = info.created
            dpkg.suppliedBy = supplier(ds["id"])
            dpkg.dataset_datasetType = [s.dataset_DatasetType.text]
            declare(dpkg, _dataset_licence(ds), f"{n}-data-{d}")
            relate(s.RelationshipType.trainedOn, pkg, [dpkg], f"trained-{n}-{d}")
    for n, report in enumerate(reports):
        pkg = models[n]
        for p, parent in enumerate(_parents(report)):
            parent_id = str(parent["id"])
            ppkg = packages.get(parent_id.lower())
            if ppkg is None:
                ppkg = model_package(
                    parent_id, f"model-{n}-parent-{p}", None, _parent_location(parent, hub_url)
                )
                declare(ppkg, _parent_licence(parent), f"{n}-parent-{p}")
                packages[parent_id.lower()] = ppkg
            relate(s.RelationshipType.ancestorOf, ppkg, [pkg], f"ancestor-{n}-{p}")

    doc = element(s.SpdxDocument, "document")
    doc.name = "Modelhub AI-BOM"
    doc.rootElement = roots
    doc.element = [o for o in objects if o is not doc]
    doc.profileConformance = [
        s.ProfileIdentifierType.core,
        s.ProfileIdentifierType.software,
        s.ProfileIdentifierType.simpleLicensing,
        s.ProfileIdentifierType.ai,
        s.ProfileIdentifierType.dataset,
    ]
    objset = s.SHACLObjectSet()
    for obj in objects:
        objset.add(obj)
    out = io.BytesIO()
    s.JSONLDSerializer().write(objset, out)
    return json.loads(out.getvalue())


# --------------------------------------------------------------------------- SPDX 2.3


def to_spdx23(
    reports: Iterable[Mapping[str, Any]],
    *,
    ancestors: Iterable[Mapping[str, Any]] = (),
    hub_url: str = "",
    created: datetime | None = None,
) -> dict:
    from spdx_tools.common.spdx_licensing import spdx_licensing
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        CreationInfo,
        Document,
        ExtractedLicensingInfo,
        Package,
        PackagePurpose,
        Relationship,
        RelationshipType,
    )
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
    from spdx_tools.spdx.model.spdx_none import SpdxNone
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    from spdx_tools.spdx.validation.uri_validators import validate_download_location
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    kb = default_kb()

    def location(url: str | None):
        # SPDX 2.3 only accepts URLs with a dotted host; a hub on localhost gets NOASSERTION, and so
        # does a location that is not known
        return SpdxNoAssertion() if url is None or validate_download_location(url) else url

    packages, relationships, extracted = [], [], {}

    def licence_of(report: Mapping[str, Any]):
        state = license_state(report)
        if state in (NO_LICENSE, NO_ASSERTION):
            return SpdxNone() if state == NO_LICENSE else SpdxNoAssertion()
        # ids newer than spdx-tools' licence list (OpenMDW-1.0) are carried as LicenseRefs, as
        # SPDX 2.3 asks for any licence outside the list it validates against
        for unlisted in spdx_licensing.validate(state).invalid_symbols:
            if not unlisted.startswith("LicenseRef-"):
                state = re.sub(
                    rf"(?<![\w.\-+]){re.escape(unlisted)}(?![\w.\-+])", f"LicenseRef-{_slug(unlisted)}", state
                )
        for ref in _custom_refs(state):
            info = next((x for x in kb.all() if x.spdx == ref), None) or kb.lookup(
                ref.removeprefix("LicenseRef-")
            )
            extracted[ref] = ExtractedLicensingInfo(
                license_id=ref,
                extracted_text=f"Terms published by the licensor{': ' + info.url if info and info.url else ''}",
                license_name=info.name if info else ref,
                cross_references=[info.url] if info and info.url else [],
            )
        return spdx_licensing.parse(state)

    reports = list(reports)
    subjects = len(reports)
    reports += ancestors
    ids: dict[str, str] = {}  # model id (lower-cased) -> its package's SPDX id
    for n, report in enumerate(reports):
        model_id = str(report.get("id") or f"model-{n}")
        ids.setdefault(model_id.lower(), f"SPDXRef-Model-{n}-{_slug(model_id)}")
    for n, report in enumerate(reports):
        model_id = str(report.get("id") or f"model-{n}")
        spdx_id = f"SPDXRef-Model-{n}-{_slug(model_id)}"
        parsed = licence_of(report)
        packages.append(
            Package(
                spdx_id=spdx_id,
                name=model_id,
                download_location=location(report.get("download_location") or f"{hub_url}/{model_id}"),
                version=str(report["revision"]) if report.get("revision") else None,
                files_analyzed=False,
                license_concluded=parsed,
                license_declared=parsed,
                primary_package_purpose=PackagePurpose.OTHER,
                comment="machine-learning model" if n < subjects else "machine-learning model (ancestor)",
            )
        )
        if n < subjects:
            relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, spdx_id))
        for d, ds in enumerate(_datasets(report)):
            ds_id = f"{spdx_id}-Data-{d}"
            packages.append(
                Package(
                    spdx_id=ds_id,
                    name=ds["id"],
                    download_location=location(f"{hub_url}/datasets/{ds['id']}"),
                    files_analyzed=False,
                    license_declared=licence_of(_dataset_licence(ds)),
                    primary_package_purpose=PackagePurpose.OTHER,
                    comment="training dataset",
                )
            )
            relationships.append(Relationship(ds_id, RelationshipType.DEPENDENCY_OF, spdx_id))
        for p, parent in enumerate(_parents(report)):
            parent_id = ids.get(str(parent["id"]).lower())
            if parent_id is None:  # not requested itself: one package for it, however many children
                parent_id = ids[str(parent["id"]).lower()] = f"{spdx_id}-Base-{p}"
                packages.append(
                    Package(
                        spdx_id=parent_id,
                        name=str(parent["id"]),
                        download_location=location(_parent_location(parent, hub_url)),
                        files_analyzed=False,
                        license_declared=licence_of(_parent_licence(parent)),
                        primary_package_purpose=PackagePurpose.OTHER,
                        comment=f"base model ({parent.get('relation') or 'finetune'})",
                    )
                )
            relationships.append(Relationship(parent_id, RelationshipType.ANCESTOR_OF, spdx_id))

    document = Document(
        creation_info=CreationInfo(
            spdx_version="SPDX-2.3",
            spdx_id="SPDXRef-DOCUMENT",
            name="Modelhub AI-BOM",
            document_namespace=f"{hub_url or 'https://modelhub.invalid'}/spdx/{uuid.uuid4()}",
            creators=[Actor(ActorType.TOOL, TOOL)],
            created=(created or _now()).replace(tzinfo=None),
        ),
        packages=packages,
        relationships=relationships,
        extracted_licensing_info=list(extracted.values()),
    )
    problems = validate_full_spdx_document(document)
    if problems:
        raise BomError("; ".join(p.validation_message for p in problems[:5]))
    out = io.StringIO()
    write_document_to_stream(document, out, validate=False)
    return json.loads(out.getvalue())


# --------------------------------------------------------------------------- CycloneDX 1.6


def _cdx_licensed(licensed: Mapping[str, Any]) -> dict[str, Any]:
    """A component's ``licenses``, left out where there is none or it is unknown."""
    expression = license_expression(licensed)
    return {"licenses": [{"expression": expression}]} if expression else {}


def _model_card(report: Mapping[str, Any]) -> dict[str, Any]:
    lic = report.get("license") or {}
    transparency = report.get("transparency") or {}
    datasets = _datasets(report)
    card: dict[str, Any] = {
        "modelParameters": {
            "datasets": [{"type": "dataset", "name": d["id"]} for d in datasets],
        },
        "considerations": {
            "useCases": [],
            "technicalLimitations": [],
        },
        "properties": [
            {"name": "modelhub:license.key", "value": str(lic.get("key") or "unknown")},
            {"name": "modelhub:license.class", "value": str(lic.get("class") or "unknown")},
            {"name": "modelhub:license.commercial_use", "value": str(lic.get("commercial_use") or "unknown")},
            {"name": "modelhub:transparency.score", "value": str(transparency.get("score", ""))},
            {
                "name": "modelhub:data.disclosure_level",
                "value": str((report.get("data") or {}).get("disclosure_level", "")),
            },
        ],
    }
    pipeline = (
        (report.get("card") or {}).get("pipeline_tag") if isinstance(report.get("card"), Mapping) else None
    )
    if pipeline:
        card["modelParameters"]["task"] = pipeline
    if report.get("verdict"):
        card["properties"].append({"name": "modelhub:compliance.verdict", "value": str(report["verdict"])})
    return card


def to_cyclonedx(
    reports: Iterable[Mapping[str, Any]],
    *,
    ancestors: Iterable[Mapping[str, Any]] = (),
    hub_url: str = "",
    created: datetime | None = None,
) -> dict:
    components: dict[str, dict[str, Any]] = {}  # bom-ref -> component, in first-seen order
    dependencies: dict[str, list[str]] = {}  # bom-ref -> what it depends on, once each

    refs_by_id: dict[str, str] = {}  # "kind:id" lower-cased -> the bom-ref first written for it

    def ref_for(name: str, kind: str) -> str:
        """Hub ids are case-insensitive: a card's ``Org/Model`` and the registry's ``org/model``
        are one component (two were written, and the ancestor link went to the stub)."""
        return refs_by_id.setdefault(f"{kind}:{name}".lower(), f"{kind}:{name}")

    def component(name: str, kind: str, **extra: Any) -> str:
        """One component per bom-ref: a model's full entry fills in a bare stub written for it
        as another model's parent, whichever came first."""
        ref = ref_for(name, kind)
        components.setdefault(ref, {"type": kind, "bom-ref": ref, "name": name}).update(extra)
        return ref

    for report in [*reports, *ancestors]:
        model_id = str(report.get("id") or "model")
        extra: dict[str, Any] = {
            **_cdx_licensed(report),
            "modelCard": _model_card(report),
            "externalReferences": [
                {"type": "distribution", "url": report.get("download_location") or f"{hub_url}/{model_id}"}
            ],
        }
        if report.get("revision"):
            extra["version"] = str(report["revision"])
        ref = component(model_id, "machine-learning-model", **extra)
        depends = [
            component(
                d["id"],
                "data",
                data=[{"type": "dataset", "name": d["id"]}],
                **_cdx_licensed(_dataset_licence(d)),
            )
            for d in _datasets(report)
        ]
        for p in _parents(report):
            parent_ref = ref_for(str(p["id"]), "machine-learning-model")
            if parent_ref not in components:  # a requested model's own entry, if written already, wins
                where = _parent_location(p, hub_url)
                refs = {"externalReferences": [{"type": "distribution", "url": where}]} if where else {}
                component(str(p["id"]), "machine-learning-model", **_cdx_licensed(_parent_licence(p)), **refs)
            depends.append(parent_ref)
        listed = dependencies.setdefault(ref, [])
        listed.extend(d for d in dict.fromkeys(depends) if d not in listed)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": (created or _now()).isoformat().replace("+00:00", "Z"),
            "tools": {"components": [{"type": "application", "name": TOOL}]},
        },
        "components": list(components.values()),
        "dependencies": [{"ref": ref, "dependsOn": depends} for ref, depends in dependencies.items()],
    }


FORMATS = {"spdx3": to_spdx3, "spdx2": to_spdx23, "cyclonedx": to_cyclonedx}
#: Each format's registered media type: SPDX (2.3 JSON and 3.0 JSON-LD alike) and CycloneDX JSON.
MEDIA_TYPES = {
    "spdx3": "application/spdx+json",
    "spdx2": "application/spdx+json",
    "cyclonedx": "application/vnd.cyclonedx+json; version=1.6",
}


def export_bom(
    fmt: str,
    reports: Iterable[Mapping[str, Any]],
    ancestors: Iterable[Mapping[str, Any]] = (),
    **kwargs: Any,
) -> dict:
    """The BOM of ``reports`` (the models asked for: the document's subjects) in format ``fmt``.

    ``ancestors`` are reports of the models they derive from, beyond what their own lineage says
    (the registry's analyses of parents, grandparents …): each becomes a full package with its
    licence, version and datasets, linked to its children, but is not a subject of the document.
    """
    try:
        builder = FORMATS[fmt]
    except KeyError as exc:
        raise BomError(f"unknown BOM format {fmt!r}; use one of {sorted(FORMATS)}") from exc
    unique: dict[str, Mapping[str, Any]] = {}  # a model asked for twice (in any case) is one package
    for n, report in enumerate(reports):
        unique.setdefault(str(report.get("id") or f"model-{n}").lower(), report)
    subjects = list(unique.values())
    for report in ancestors:
        if report.get("id"):
            unique.setdefault(str(report["id"]).lower(), report)
    return builder(subjects, ancestors=list(unique.values())[len(subjects) :], **kwargs)
