"""The compact head lookup of compliance checks: same answers as the full stored analysis, always fresh.

``check_models`` answers default-revision checks from ``compliance_lookup.fetch_heads`` (licence,
lineage, transparency and modality read out of the stored analysis in one query) and falls back to
``_Prefetched`` (the full analysis) for pinned revisions. These tests pin that both paths agree on
every kind of model, and that licence changes, re-analyses, in-place rewrites of an analysis,
triage and new policy versions show in the very next check.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.models import Commit, FileScan, OrgMembership, Ref, RevisionAnalysis
from licenses.engine import policy as policy_engine
from licenses.engine.policy import load_policy
from licenses.models import Policy as StoredPolicy
from licenses.models import PolicyVersion, Violation
from licenses.services import compliance, policy_cache, prepared_sql
from licenses.services.compliance import ModelSpec, check_models, parse_model_specs, resolve_policy
from licenses.services.lineage import record_lineage
from licenses.services.violations import set_violation_status, sync_violations
from tests.licenses.factories import analysed_model

pytestmark = pytest.mark.django_db

SAAS = {
    "name": "commercial-saas",
    "use": {"commercial": True, "distribution": "saas", "monthly_active_users": 5_000_000, "regions": ["EU"]},
    "licenses": {"deny_classes": ["noncommercial"], "unknown": "deny"},
    "transparency": {"min_score": 40, "min_disclosure_level": 1},
}
TODAY = date(2026, 1, 15)


@pytest.fixture(autouse=True)
def fresh_policy_cache():
    policy_cache.clear()
    yield
    policy_cache.clear()


@pytest.fixture
def zoo():
    """Models exercising every input the evaluator reads: licences, upstream, scans, violations, modality."""
    base = analysed_model("meta/llama-base", "llama3.1", "vendor-community", "conditional")
    child = analysed_model(
        "acme/Llama-Vision-ft",
        "apache-2.0",
        "osi-permissive",
        "yes",
        score=30,
        base_models=[{"id": "meta/llama-base", "relation": "finetune", "license_key": "llama3.1"}],
    )
    record_lineage(child, child.latest_analysis.result["lineage"]["base_models"])
    record_lineage(base, [{"id": "research/nc-root", "relation": "finetune"}])
    pickled = analysed_model("acme/pickled", "mit", "osi-permissive", "yes")
    FileScan.objects.create(commit=pickled.head, path="pytorch_model.bin", contains_pickle=True)
    FileScan.objects.create(commit=pickled.head, path="model.safetensors", file_format="safetensors")
    flagged = analysed_model("acme/flagged", "gpl-3.0", "osi-copyleft", "yes")
    sync_violations(
        flagged,
        flagged.head,
        [
            {"rule": "missing-notice", "severity": "error", "message": "no NOTICE"},
            {"rule": "relicensed-derivative", "severity": "warning", "message": "w", "parent": "x/y"},
            {"rule": "card-missing", "severity": "info", "message": "i"},
        ],
    )
    set_violation_status(
        Violation.objects.filter(repository=flagged, rule="card-missing"), "false_positive", None, "ok"
    )
    expr = analysed_model("acme/dual", "apache-2.0 OR mit", "osi-permissive", "yes")
    tagged = analysed_model("acme/tagged", "llama3.2", "vendor-community", "conditional")
    result = {**tagged.latest_analysis.result, "pipeline_tag": "image-text-to-text", "tags": ["vision"]}
    RevisionAnalysis.objects.filter(pk=tagged.latest_analysis_id).update(result=result)
    return {
        "base": base,
        "child": child,
        "pickled": pickled,
        "flagged": flagged,
        "expr": expr,
        "tagged": tagged,
    }


def _full_path(ids: list[str], policy, user=None) -> list[dict]:
    """The reference: every model judged from its full stored analysis (the pinned-revision path)."""
    specs = parse_model_specs(ids)
    pre = compliance._Prefetched(user, specs)
    return [compliance._registry_result(spec, pre, policy, TODAY) for spec in specs]


def test_compact_lookup_answers_exactly_like_the_full_analysis(zoo):
    ids = [r.repo_id for r in zoo.values()] + ["nobody/nothing", "no-slash"]
    for doc in (
        SAAS,
        {**SAAS, "use": {"commercial": False, "regions": ["US"]}, "licenses": {"unknown": "warn"}},
    ):
        policy = load_policy(doc)
        fast = check_models(parse_model_specs(ids), policy, None, TODAY)
        assert fast == _full_path(ids, policy)
    by_id = {r["model"]: r for r in fast}
    assert by_id["acme/Llama-Vision-ft"]["lineage"]["ancestors"] == [
        {"id": "meta/llama-base", "depth": 1},
        {"id": "research/nc-root", "depth": 2},
    ]
    flagged = by_id["acme/flagged"]
    assert [v["rule"] for v in flagged["violations"]] == ["missing-notice", "relicensed-derivative"]
    saas = {r["model"]: r for r in check_models(parse_model_specs(ids), load_policy(SAAS), None, TODAY)}
    assert "pickle-weights" in {r["code"] for r in saas["acme/pickled"]["reasons"]}
    # the stored pipeline tag says multimodal: Llama 3.2's EU carve-out denies, not "needs review"
    assert "eu-carve-out" in {r["code"] for r in saas["acme/tagged"]["reasons"]}


def test_private_models_follow_the_access_rule(zoo):
    secret = analysed_model("secret/inhouse", "mit", "osi-permissive", "yes", private=True)
    policy = load_policy(SAAS)
    stranger = get_user_model().objects.create_user("stranger")
    member = get_user_model().objects.create_user("member")
    OrgMembership.objects.create(org=secret.namespace, user=member)
    staff = get_user_model().objects.create_user("root", is_superuser=True)
    for user, visible in ((None, False), (stranger, False), (member, True), (staff, True)):
        [result] = check_models([ModelSpec("secret/inhouse")], policy, user, TODAY)
        assert (result["revision"] == secret.head.sha) is visible, user
        assert ("unknown-model" in {r["code"] for r in result["reasons"]}) is not visible


def _relicense(repo, key: str, license_class: str, commercial_use: str, sha: str) -> None:
    commit = Commit.objects.create(repository=repo, sha=sha, parent=repo.head, title="relicense")
    result = {
        **repo.latest_analysis.result,
        "license": {"key": key, "class": license_class, "commercial_use": commercial_use},
    }
    analysis = RevisionAnalysis.objects.create(
        commit=commit, status="done", result=result, license_key=key, license_class=license_class
    )
    Ref.objects.filter(repository=repo, name="main").update(commit=commit)
    repo.head, repo.latest_analysis = commit, analysis
    repo.save()


def test_licence_change_and_reanalysis_show_in_the_next_check(zoo):
    policy = load_policy(SAAS)
    repo = zoo["expr"]
    [before] = check_models([ModelSpec("acme/dual")], policy, None, TODAY)
    assert before["verdict"] == "allow"

    _relicense(repo, "cc-by-nc-4.0", "noncommercial", "no", "c" * 40)
    [after] = check_models([ModelSpec("acme/dual")], policy, None, TODAY)
    assert (after["revision"], after["verdict"], after["license"]["key"]) == (
        "c" * 40,
        "deny",
        "cc-by-nc-4.0",
    )

    # a new head whose analysis has not finished: judged as pending, not as the previous head
    pending = Commit.objects.create(repository=repo, sha="d" * 40, parent=repo.head, title="wip")
    RevisionAnalysis.objects.create(commit=pending, status="pending")
    Ref.objects.filter(repository=repo, name="main").update(commit=pending)
    repo.head = pending
    repo.save(update_fields=["head"])
    [wip] = check_models([ModelSpec("acme/dual")], policy, None, TODAY)
    assert wip["reasons"][0]["code"] == "unknown-model" and "pending" in wip["reasons"][0]["message"]

    # an analysis rewritten in place (the bulk re-evaluation's write) is read as it is now
    child = zoo["child"]
    result = {**child.latest_analysis.result, "transparency": {"score": 90}}
    RevisionAnalysis.objects.filter(pk=child.latest_analysis_id).update(result=result)
    [rewritten] = check_models([ModelSpec("acme/Llama-Vision-ft")], policy, None, TODAY)
    assert "transparency-below-minimum" not in {r["code"] for r in rewritten["reasons"]}


def test_new_violations_and_triage_show_in_the_next_check(zoo):
    policy = load_policy(SAAS)
    repo = zoo["pickled"]
    [clean] = check_models([ModelSpec("acme/pickled")], policy, None, TODAY)
    assert clean["violations"] == []

    sync_violations(
        repo, repo.head, [{"rule": "missing-notice", "severity": "error", "message": "no NOTICE"}]
    )
    [found] = check_models([ModelSpec("acme/pickled")], policy, None, TODAY)
    assert [v["rule"] for v in found["violations"]] == ["missing-notice"]
    assert "license-violation" in {r["code"] for r in found["reasons"]}

    set_violation_status(Violation.objects.filter(repository=repo), "false_positive", None, "NOTICE ships")
    [triaged] = check_models([ModelSpec("acme/pickled")], policy, None, TODAY)
    assert triaged["violations"] == []
    assert "license-violation" not in {r["code"] for r in triaged["reasons"]}


def test_new_policy_version_is_used_by_the_next_check(zoo, monkeypatch):
    compiled = []
    real = policy_cache.load_policy
    monkeypatch.setattr(
        policy_cache, "load_policy", lambda doc, **kw: compiled.append(doc) or real(doc, **kw)
    )
    stored = StoredPolicy.objects.create(name="commercial-saas")
    PolicyVersion.objects.create(policy=stored, version=1, document=SAAS)
    policy, label = resolve_policy("commercial-saas")
    assert label == "commercial-saas@v1"
    assert resolve_policy("commercial-saas")[0] is policy and len(compiled) == 1  # compiled once

    strict = {**SAAS, "licenses": {"allow_classes": ["osi-permissive"], "unknown": "deny"}}
    PolicyVersion.objects.create(policy=stored, version=2, document=strict)
    policy2, label2 = resolve_policy("commercial-saas")
    assert label2 == "commercial-saas@v2" and len(compiled) == 2
    [v1] = check_models([ModelSpec("acme/flagged")], policy, None, TODAY)
    [v2] = check_models([ModelSpec("acme/flagged")], policy2, None, TODAY)
    assert "license-class-not-allowed" not in {r["code"] for r in v1["reasons"]}
    assert "license-class-not-allowed" in {r["code"] for r in v2["reasons"]} and v2["verdict"] == "deny"

    # an admin edit of a stored version is a different document: compiled afresh, never stale
    PolicyVersion.objects.filter(policy=stored, version=2).update(document=SAAS)
    assert resolve_policy("commercial-saas")[0].licenses.allow_classes is None


def test_inline_policy_cache_is_bounded_and_keyed_by_content(monkeypatch):
    monkeypatch.setattr(policy_cache, "MAX_ENTRIES", 3)
    a = policy_cache.compile_policy(SAAS)
    assert policy_cache.compile_policy(dict(reversed(list(SAAS.items())))) is a  # key order does not matter
    for i in range(5):
        policy_cache.compile_policy({**SAAS, "name": f"p{i}"})
    assert len(policy_cache._compiled) == 3
    assert policy_cache.compile_policy(SAAS) is not a  # evicted, compiled again
    with pytest.raises(policy_engine.PolicyError):
        policy_cache.compile_policy({"use": {}})
    assert len(policy_cache._compiled) == 3  # failures are not cached


def test_query_count_does_not_grow_with_the_batch(zoo):
    policy = load_policy(SAAS)
    for i in range(30):
        analysed_model(f"bulk/m{i}", "mit", "osi-permissive", "yes")
    counts = []
    every_kind = ["acme/flagged", "acme/pickled", "acme/Llama-Vision-ft"]  # violations, scans, ancestors
    for ids in (every_kind, every_kind + [f"bulk/m{i}" for i in range(30)] + ["nobody/x"]):
        with CaptureQueriesContext(connection) as ctx:
            check_models(parse_model_specs(ids), policy, None, TODAY)
        counts.append(len(ctx.captured_queries))
    walk = 0 if prepared_sql.enabled() else 1  # prepared, the heads statement walks the lineage too
    # heads, violations, scans, which ancestors have open findings, which lineage models are private
    # (, ancestors); an ancestor with open findings would add one query for them. The zoo's
    # Llama-Vision-ft has a grandparent, whose licence binds it too: the graph edges the walk
    # reached and which of those models are private add two (none when nothing lies beyond parents)
    assert counts[0] == counts[1] == 7 + walk, counts
    with CaptureQueriesContext(connection) as ctx:
        check_models(parse_model_specs(["bulk/m0"]), policy, None, TODAY)
    assert len(ctx.captured_queries) == 1 + walk  # no violations, no unsafe files: nothing else


def test_unprepared_path_answers_the_same(zoo, monkeypatch):
    ids = [r.repo_id for r in zoo.values()] + ["nobody/nothing"]
    policy = load_policy(SAAS)
    prepared = check_models(parse_model_specs(ids), policy, None, TODAY)
    monkeypatch.setenv("MODELHUB_DB_PREPARE", "0")
    assert not prepared_sql.enabled()
    assert check_models(parse_model_specs(ids), policy, None, TODAY) == prepared


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_heads_statement_is_prepared_and_planned_once_per_connection(zoo):
    policy = load_policy(SAAS)
    for ids in (["acme/dual"], ["acme/dual", "acme/flagged", "nobody/x"]):  # any batch size: one statement
        check_models(parse_model_specs(ids), policy, None, TODAY)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%chains%"],
        )
        assert cursor.fetchall() == [(2, 0)]  # one statement, planned once (generically), run twice
    assert connection.connection.prepare_threshold is None  # Django's setting is left as it was
