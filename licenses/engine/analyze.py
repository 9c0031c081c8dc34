"""One repository in, the contract's ``modelhub analyze`` JSON object out.

The pipeline, each step a separate module:

1. ``frontmatter`` parses the card (bounded, never raises);
2. ``classify`` decides the licence, with evidence and conflicts;
3. ``cardfacts`` extracts structured facts; ``disclosure``, ``transparency`` and
   ``openness`` judge them (each reusing the previous step's result);
4. ``rules.build_context`` resolves the declared parents through a resolver chain
   (repositories analysed together, then a registry, then the bundled base-model table),
   as of the child's date; ``rules.evaluate_violations`` runs every contract rule.

The CLI and the server call the same function; the server passes its own resolver (the
registry's database) and the weight-scan facts it computed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from licenses.engine.ancestry import inherited_ancestors
from licenses.engine.basemodels import BundledBaseModels
from licenses.engine.cardfacts import extract_facts
from licenses.engine.classify import classify
from licenses.engine.datasets import bundled as bundled_datasets
from licenses.engine.disclosure import assess_disclosure, dataset_problems, judged_datasets
from licenses.engine.frontmatter import FrontMatter, parse_front_matter
from licenses.engine.kb import KnowledgeBase, default_kb
from licenses.engine.lineage import ChainResolver, LocalResolver, ParentResolver, RegistryResolver
from licenses.engine.obligations import obligations_in_force
from licenses.engine.openness import assess_openness
from licenses.engine.rules import build_context, evaluate_violations
from licenses.engine.rules.context import RuleContext
from licenses.engine.snapshot import discover_snapshots
from licenses.engine.transparency import assess_transparency
from licenses.engine.types import LicenseFinding, RepoSnapshot


def default_resolver(registry: ParentResolver | None = None) -> ChainResolver:
    """Registry (when given), then the bundled table of well-known base models."""
    return ChainResolver(registry, BundledBaseModels.load())


def analyze_snapshot(
    snapshot: RepoSnapshot,
    front: FrontMatter | None = None,
    kb: KnowledgeBase | None = None,
    *,
    resolver: ParentResolver | None = None,
    scan: Iterable[Mapping[str, Any]] = (),
    finding: LicenseFinding | None = None,
    dataset_cards: Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The contract object for ``snapshot``; ``front`` is parsed from its README when not given.

    ``resolver`` finds parents' licences (default: the bundled base-model table);
    ``scan`` carries weight-file scan facts (``path``, ``contains_pickle``, ``dangerous``);
    ``finding`` is the licence classification when the caller already made it;
    ``dataset_cards`` answers, for the datasets the card names, the card metadata of those it
    holds (the server: public dataset repositories of the registry), whose declared licences
    join the bundled dataset-licence table (its verified terms still win).
    """
    kb = kb or default_kb()
    if front is None:
        front = parse_front_matter(snapshot.readme or "")
    finding = finding or classify(snapshot, front, kb)
    facts = extract_facts(snapshot, front)
    table = bundled_datasets()
    judged = judged_datasets(facts)[0]
    if dataset_cards is not None and judged:
        table = table.with_cards(dataset_cards(judged))
    data = assess_disclosure(facts, table)
    transparency = assess_transparency(facts, finding.key, finding.license_class, disclosure=data)
    openness = assess_openness(
        facts, finding.key, finding.license_class, disclosure=data, transparency=transparency
    )
    ctx = build_context(
        snapshot,
        front,
        finding,
        resolver if resolver is not None else default_resolver(),
        datasets=data.get("dataset_licenses") or (),
        scan=scan,
        kb=kb,
        body_lower=facts.body_lower,
        body_index=facts.body_index,
    )
    problems = list(front.problems)
    if ctx.declared is not None:
        problems.extend(ctx.declared.problems())
    problems.extend(dataset_problems(data))
    for path, notes in sorted(snapshot.extra.get("text_problems", {}).items()):
        problems.extend(f"{path}: {note}" for note in notes)
    return {
        "id": snapshot.id,
        "license": finding.to_dict(),
        "lineage": lineage_of(ctx),
        "data": data,
        "transparency": transparency,
        "violations": [v.to_dict() for v in evaluate_violations(ctx)],
        "openness": openness,
        "card": {
            "readme": snapshot.readme is not None,
            "front_matter": front.raw_yaml is not None,
            "problems": problems,
            "pipeline_tag": facts.pipeline_tag,
            "library_name": facts.library_name,
        },
    }


def lineage_of(ctx: RuleContext) -> dict[str, Any]:
    """Declared parents with the licence each resolved to, and those nothing could resolve."""
    parents = []
    for parent in ctx.parents:
        record = parent.record
        parents.append(
            {
                "id": parent.ref.id,
                "relation": parent.ref.relation,
                "relation_inferred": parent.ref.relation_inferred,
                "license_key": record.license_key if record else None,
                "license_class": (record.license_class if record else None)
                or (parent.license.license_class if parent.license else None),
                "source": record.source if record else "unresolved",
                "as_of": record.as_of.isoformat() if record and record.as_of else None,
            }
        )
    return {
        "base_models": parents,
        "unresolved": [p["id"] for p in parents if p["source"] == "unresolved"],
        **(ctx.declared.to_dict() if ctx.declared is not None else {}),
    }


def analyze_paths(
    paths: list[Path], kb: KnowledgeBase | None = None, registry: ParentResolver | None = None
) -> list[dict[str, Any]]:
    """Analyse every repository the CLI's PATH arguments name, sorted by id.

    Parents are resolved among the analysed repositories first (contract), so the
    snapshots are classified in a first pass that feeds a ``LocalResolver``; then the
    registry, then the bundled table. Raises ``FileNotFoundError`` / ``ValueError`` from
    ``discover_repos`` for bad paths.
    """
    kb = kb or default_kb()
    snapshots = discover_snapshots(paths)
    fronts = [parse_front_matter(s.readme or "") for s in snapshots]
    findings = [classify(s, f, kb) for s, f in zip(snapshots, fronts, strict=True)]
    # the resolver reads only the licence's key and class: the full ``to_dict`` is built once, below
    local = LocalResolver(
        {
            "id": s.id,
            "license": {"key": finding.key, "class": finding.license_class},
            "files": sorted(s.files),
        }
        for s, finding in zip(snapshots, findings, strict=True)
    )
    resolver = ChainResolver(local, registry, BundledBaseModels.load())
    results = [
        analyze_snapshot(s, f, kb, resolver=resolver, finding=finding)
        for s, f, finding in zip(snapshots, fronts, findings, strict=True)
    ]
    by_id = {str(r["id"]).lower(): r for r in results}

    def parents_of(model_id: str) -> list[tuple[str, str | None]]:
        # an analysed repository knows its own parents (and their licences as resolved above);
        # the registry and the bundled table answer a licence, not a model's parents
        found = by_id.get(str(model_id).lower())
        bases = ((found or {}).get("lineage") or {}).get("base_models") or []
        return [(str(b["id"]), b.get("license_key")) for b in bases]

    for result in results:
        # (the walk reads other results' base models only, which this loop does not change)
        declared = [str(b["id"]) for b in result["lineage"]["base_models"]]
        result["lineage"]["ancestors"] = inherited_ancestors(declared, parents_of)
        # what the user must honour: every licence in force (each of an AND, the lightest OR
        # choice, every base model's and ancestor's); the server's stored analyses leave it to the
        # page and the compliance check, which derive it from the same fields when asked
        result["license"]["obligations"] = obligations_in_force(result, kb)
    return results


def registry_resolver(url: str | None, token: str | None = None) -> RegistryResolver | None:
    """The ``--registry`` resolver: a Hub-compatible ``/api/models/{id}``, licences mapped by the KB."""
    return RegistryResolver(url, token=token, kb=default_kb()) if url else None
