"""One repository in, the contract's ``modelhub analyze`` JSON object out.

This module owns the licence part of the object (``license`` and the violations that
follow from the licence alone: ``missing-license``, ``unresolved-license``,
``metadata-file-mismatch``). ``lineage`` carries the declared parents with
``license_key`` still null, ``data`` the declared datasets, ``transparency`` an empty
score: lineage resolution, the derivative rules and transparency scoring are separate
modules that extend these fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from licenses.engine.classify import classify
from licenses.engine.frontmatter import FrontMatter, parse_front_matter
from licenses.engine.kb import KnowledgeBase, default_kb
from licenses.engine.snapshot import discover_repos, is_license_file, snapshot_from_dir
from licenses.engine.types import RELATIONS, Evidence, LicenseFinding, RepoSnapshot, Violation


def analyze_snapshot(
    snapshot: RepoSnapshot, front: FrontMatter | None = None, kb: KnowledgeBase | None = None
) -> dict[str, Any]:
    """The contract object for ``snapshot``; ``front`` is parsed from its README when not given."""
    kb = kb or default_kb()
    if front is None:
        front = parse_front_matter(snapshot.readme or "")
    finding = classify(snapshot, front, kb)
    meta = front.metadata
    problems = list(front.problems)
    for path, notes in sorted(snapshot.extra.get("text_problems", {}).items()):
        problems.extend(f"{path}: {note}" for note in notes)
    return {
        "id": snapshot.id,
        "license": finding.to_dict(),
        "lineage": {"base_models": base_models(meta)},
        "data": {"datasets": _strings(meta.get("datasets")), "disclosure_level": 0},
        "transparency": {"score": 0, "indicators": []},
        "violations": [v.to_dict() for v in licence_violations(snapshot, meta, finding, kb)],
        "card": {
            "readme": snapshot.readme is not None,
            "front_matter": front.raw_yaml is not None,
            "problems": problems,
        },
    }


def analyze_paths(paths: list[Path], kb: KnowledgeBase | None = None) -> list[dict[str, Any]]:
    """Analyse every repository the CLI's PATH arguments name, sorted by id.

    Raises ``FileNotFoundError`` / ``ValueError`` from ``discover_repos`` for bad paths.
    """
    kb = kb or default_kb()
    return [
        analyze_snapshot(snapshot_from_dir(folder, repo_id), kb=kb)
        for repo_id, folder in discover_repos(paths)
    ]


def _strings(value: Any) -> list[str]:
    """A metadata value that should be a list of ids, as strings (YAML may give a scalar)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in items if isinstance(v, (str, int, float)) and str(v).strip()]


def base_models(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Declared parents: ``base_model`` (string or list) with ``base_model_relation``."""
    relation = meta.get("base_model_relation")
    relation = relation.strip().lower() if isinstance(relation, str) else None
    if relation not in RELATIONS:
        relation = None
    return [
        {"id": parent, "relation": relation, "license_key": None}
        for parent in _strings(meta.get("base_model"))
    ]


def licence_violations(
    snapshot: RepoSnapshot, meta: dict[str, Any], finding: LicenseFinding, kb: KnowledgeBase
) -> list[Violation]:
    """The violation rules that need nothing but the repository's own licence finding."""
    out: list[Violation] = []
    declared = any(_strings(meta.get(k)) for k in ("license", "license_name", "license_link"))
    licence_files = sorted(p for p in snapshot.files if is_license_file(p))
    evidence = finding.evidence
    if not declared and not licence_files:
        stated = (
            f" The card body names {finding.key}, but the Hub only reads the metadata."
            if finding.key not in ("none", "unknown")
            else ""
        )
        out.append(
            Violation(
                rule="missing-license",
                severity="error",
                message="The model card declares no licence (no `license` in its metadata) and the repository has "
                "no LICENSE file, so nobody can tell on what terms the model may be used." + stated,
                evidence=evidence,
            )
        )
    elif finding.key == "unknown":
        out.append(
            Violation(
                rule="unresolved-license",
                severity="warning",
                message=f"The licence cannot be determined: {finding.reason}. Name the licence in `license_name` "
                "or `license_link`, or add its text as LICENSE.",
                evidence=evidence,
            )
        )
    elif (info := kb.get(finding.key)) is not None and info.is_family_id:
        out.append(
            Violation(
                rule="unresolved-license",
                severity="warning",
                message=f"`{finding.key}` names a family of licences, not one text; the exact terms (and their "
                "use restrictions) cannot be determined without the licence file.",
                evidence=evidence,
            )
        )
    for conflict in finding.conflicts:
        out.append(
            Violation(
                rule="metadata-file-mismatch",
                severity="error",
                message=f"The card's metadata declares {conflict['metadata']} but {conflict['path']} is the "
                f"{conflict['file']} licence; the repository states two different licences.",
                clause=None,
                evidence=(
                    Evidence("metadata", f"license: {conflict['metadata']}"),
                    Evidence(f"file:{conflict['path']}", conflict["detail"]),
                ),
            )
        )
    return out
