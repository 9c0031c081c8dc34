"""The licences REST API: compliance checks, policies, violation triage, lineage, errors, throttling."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from hub.auth import mint_token
from hub.models import ApiToken, OrgMembership
from licenses.engine.kb import default_kb
from licenses.models import Violation
from licenses.services.lineage import record_lineage
from licenses.services.violations import sync_violations
from tests.licenses.factories import analysed_model

pytestmark = pytest.mark.django_db

SAAS = {
    "name": "commercial-saas",
    "use": {"commercial": True, "distribution": "saas", "monthly_active_users": 5_000_000, "regions": ["US"]},
    "licenses": {"deny_classes": ["noncommercial"], "unknown": "deny"},
}


@pytest.fixture(autouse=True)
def clear_throttle_cache():
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def models():
    return {
        "permissive": analysed_model("acme/bert-ft", "apache-2.0", "osi-permissive", "yes"),
        "nc": analysed_model("acme/nc-model", "cc-by-nc-4.0", "noncommercial", "no"),
        "llama": analysed_model("acme/Llama-3.1-bot", "llama3.1", "vendor-community", "conditional"),
        "private": analysed_model("secret/inhouse", "mit", "osi-permissive", "yes", private=True),
    }


def check(api, models, policy=SAAS, **kw):
    return api.post("/api/v1/compliance/check", {"models": models, "policy": policy}, format="json", **kw)


def by_model(resp):
    return {r["model"]: r for r in resp.json()["results"]}


def test_check_gives_verdicts_reasons_and_obligations(api, models):
    resp = check(api, ["acme/bert-ft", {"id": "acme/nc-model", "revision": "main"}, "acme/Llama-3.1-bot"])
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["policy"] == "commercial-saas"
    results = by_model(resp)
    assert results["acme/bert-ft"]["verdict"] == "allow"
    assert results["acme/bert-ft"]["revision"] == models["permissive"].head.sha
    nc = results["acme/nc-model"]
    assert nc["verdict"] == "deny"
    assert nc["reasons"] and all({"code", "message"} <= set(r) for r in nc["reasons"])
    llama = results["acme/Llama-3.1-bot"]
    assert llama["verdict"] in {"allow", "warn"}
    assert llama["obligations"], "a Llama licence comes with obligations (notice, naming, AUP, MAU cap)"
    assert llama["license"]["key"] == "llama3.1"


def test_unknown_and_private_models_are_unknown_model(api, models):
    resp = check(api, ["nobody/nothing", "secret/inhouse"])
    results = by_model(resp)
    for model in ("nobody/nothing", "secret/inhouse"):
        assert results[model]["verdict"] == "deny"
        assert [r["code"] for r in results[model]["reasons"]] == ["unknown-model"]
    resp = check(api, ["nobody/nothing"], policy={**SAAS, "licenses": {"unknown": "warn"}})
    assert by_model(resp)["nobody/nothing"]["verdict"] == "warn"


def test_member_token_sees_private_model(api, models):
    user = get_user_model().objects.create_user("member")
    OrgMembership.objects.create(org=models["private"].namespace, user=user)
    token, _ = mint_token(user, scope=ApiToken.Scope.READ)
    resp = check(api, ["secret/inhouse"], HTTP_AUTHORIZATION=f"Bearer {token}")
    assert by_model(resp)["secret/inhouse"]["verdict"] == "allow"


def test_uploaded_card_is_analysed_in_place(api, models):
    card = "---\nlicense: cc-by-nc-4.0\n---\n# A research model\n"
    resp = check(api, [{"id": "someone/unregistered", "card": card}])
    result = by_model(resp)["someone/unregistered"]
    assert result["license"]["key"] == "cc-by-nc-4.0"
    assert result["verdict"] == "deny"


def test_batch_of_hundreds(api, models):
    resp = check(api, ["acme/bert-ft"] * 200 + ["acme/nc-model"] * 100)
    verdicts = [r["verdict"] for r in resp.json()["results"]]
    assert verdicts.count("allow") == 200 and verdicts.count("deny") == 100


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"models": [], "policy": SAAS}, "invalid-request"),
        ({"models": ["a/b"], "policy": "no-such-policy"}, "unknown-policy"),
        ({"models": ["a/b"], "policy": {"use": {}}}, "invalid-policy"),
        ({"models": [42], "policy": SAAS}, "invalid-request"),
    ],
)
def test_bad_requests_use_the_stable_error_format(api, body, code):
    resp = api.post("/api/v1/compliance/check", body, format="json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == code
    assert resp.json()["error"]["message"]


def test_bad_token_is_rejected(api, models):
    resp = check(api, ["acme/bert-ft"], HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "authentication-failed"


def test_policies_are_versioned_and_staff_only(api, models):
    staff = get_user_model().objects.create_user("legal", is_staff=True)
    other = get_user_model().objects.create_user("dev")
    api.force_authenticate(other)
    assert api.post("/api/v1/policies", {"document": SAAS}, format="json").status_code == 403
    api.force_authenticate(staff)
    resp = api.post("/api/v1/policies", {"document": SAAS, "comment": "first"}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["current"]["version"] == 1
    twin = api.post("/api/v1/policies", {"document": {**SAAS, "name": "Commercial-SaaS"}}, format="json")
    assert twin.status_code == 409 and "'commercial-saas' exists" in twin.json()["error"]["message"]
    stricter = {**SAAS, "licenses": {"allow_classes": ["osi-permissive"], "unknown": "deny"}}
    resp = api.put("/api/v1/policies/commercial-saas", {"document": stricter}, format="json")
    assert resp.json()["current"]["version"] == 2
    assert [v["version"] for v in api.get("/api/v1/policies/commercial-saas/versions").json()["results"]] == [
        2,
        1,
    ]
    bad = api.put(
        "/api/v1/policies/commercial-saas", {"document": {"licenses": {"unknown": "x"}}}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid-policy"
    for name in ("my.policy", "with space", "\u00fcn\u00ef"):  # never addressable as /api/v1/policies/<name>
        unaddressable = api.post("/api/v1/policies", {"document": {**SAAS, "name": name}}, format="json")
        assert unaddressable.status_code == 400 and unaddressable.json()["error"]["code"] == "invalid-policy"

    api.force_authenticate(None)
    resp = check(api, ["acme/Llama-3.1-bot"], policy="commercial-saas")
    assert resp.json()["policy"] == "commercial-saas@v2"
    assert by_model(resp)["acme/Llama-3.1-bot"]["verdict"] == "deny"  # v2 allows permissive only
    # a CI job pins the version it was reviewed against, in the form every answer names it
    pinned = check(api, ["acme/Llama-3.1-bot"], policy="commercial-saas@v1")
    assert pinned.json()["policy"] == "commercial-saas@v1"
    assert by_model(pinned)["acme/Llama-3.1-bot"]["verdict"] != "deny"
    missing = check(api, ["acme/Llama-3.1-bot"], policy="commercial-saas@v9")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "unknown-policy"


def test_triage_through_the_api(api, models):
    sync_violations(
        models["permissive"], None, [{"rule": "missing-notice", "severity": "warning", "message": "m"}]
    )
    sync_violations(
        models["private"], None, [{"rule": "missing-license", "severity": "error", "message": "m"}]
    )
    user = get_user_model().objects.create_user("triager")
    OrgMembership.objects.create(org=models["permissive"].namespace, user=user, role=OrgMembership.Role.WRITE)
    read_token, _ = mint_token(user, scope=ApiToken.Scope.READ)
    write_token, _ = mint_token(user, scope=ApiToken.Scope.WRITE)
    # a signed-in stranger with a write token sees the public model's finding but may not dismiss it
    stranger_token, _ = mint_token(
        get_user_model().objects.create_user("stranger"), scope=ApiToken.Scope.WRITE
    )

    listing = api.get("/api/v1/violations").json()
    assert [v["model"] for v in listing["results"]] == ["acme/bert-ft"]  # the private one is invisible
    vid = listing["results"][0]["id"]

    body = {"ids": [vid], "status": "false_positive", "reason": "notice ships in the container image"}
    assert api.post("/api/v1/violations/triage", body, format="json").status_code == 401  # anonymous
    resp = api.post(
        "/api/v1/violations/triage", body, format="json", HTTP_AUTHORIZATION=f"Bearer {read_token}"
    )
    assert resp.status_code == 403
    resp = api.post(
        "/api/v1/violations/triage", body, format="json", HTTP_AUTHORIZATION=f"Bearer {stranger_token}"
    )
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "permission-denied"
    assert str(vid) in resp.json()["error"]["message"]
    assert Violation.objects.get(pk=vid).status == Violation.Status.OPEN  # nothing changed
    no_reason = {**body, "reason": ""}
    resp = api.post(
        "/api/v1/violations/triage", no_reason, format="json", HTTP_AUTHORIZATION=f"Bearer {write_token}"
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid-triage"
    resp = api.post(
        "/api/v1/violations/triage", body, format="json", HTTP_AUTHORIZATION=f"Bearer {write_token}"
    )
    assert resp.status_code == 200 and resp.json()[0]["status"] == "false_positive"

    hidden = Violation.objects.get(repository=models["private"]).pk
    resp = api.post(
        "/api/v1/violations/triage",
        {**body, "ids": [hidden]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {write_token}",
    )
    assert resp.status_code == 404

    detail = api.get(f"/api/v1/violations/{vid}").json()
    assert [e["action"] for e in detail["events"]] == ["opened", "status"]
    assert detail["events"][1]["actor"] == "triager"
    assert api.get("/api/v1/violations?status=open").json()["count"] == 0
    assert api.get("/api/v1/violations?status=all").json()["count"] == 1  # as the web queue says it
    for bad in ("status=bogus", "severity=fatal"):
        resp = api.get(f"/api/v1/violations?{bad}")
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid-request", bad


def test_lineage_endpoints_hide_private_models(api, models):
    record_lineage(
        models["permissive"],
        [{"id": "acme/nc-model", "relation": "finetune", "license_class": "noncommercial"}],
    )
    record_lineage(models["private"], [{"id": "acme/bert-ft", "relation": "adapter"}])
    resp = api.get("/api/v1/lineage/acme/nc-model/descendants")
    assert resp.json() == [{"id": "acme/bert-ft", "depth": 1, "in_registry": True}]
    assert api.get("/api/v1/lineage/acme/bert-ft/ancestors").json()[0]["id"] == "acme/nc-model"
    tainted = api.get("/api/v1/lineage/derived-from?class=noncommercial").json()
    assert [n["id"] for n in tainted] == ["acme/bert-ft"]
    assert api.get("/api/v1/lineage/secret/inhouse/ancestors").status_code == 404


@pytest.mark.parametrize("caller", ["anonymous", "outsider", "owner"])
def test_a_private_ancestor_reads_like_a_model_outside_the_registry_and_hides_what_lies_beyond(api, caller):
    """A public fine-tune of a private model of a private model. To whoever may not see them the
    private parent reads exactly like a parent the registry does not hold (its name is in the
    public card; anything else would tell it exists), and the grandparent, known only from the
    private card, appears nowhere: check, lineage API, every AI-BOM format. The owner sees all."""
    grand = analysed_model("alice/hidden-grandparent", "cc-by-nc-4.0", "noncommercial", "no", private=True)
    parent = analysed_model(
        "alice/hidden-parent", "cc-by-nc-4.0", "noncommercial", "no", private=True,
        base_models=[{"id": "alice/hidden-grandparent", "relation": "finetune"}],
    )  # fmt: skip
    unresolved = {"relation": "finetune", "relation_inferred": False, "license_key": None,
                  "license_class": None, "source": "unresolved", "as_of": None}  # fmt: skip
    child = analysed_model(
        "alice/pub-x", "mit", "osi-permissive", "yes",
        base_models=[{"id": "alice/hidden-parent", **unresolved, "license_key": "cc-by-nc-4.0", "source": "registry"}],
    )  # fmt: skip
    control = analysed_model(
        "alice/pub-y", "mit", "osi-permissive", "yes", base_models=[{"id": "alice/not-here", **unresolved}]
    )
    record_lineage(parent, [{"id": "alice/hidden-grandparent", "relation": "finetune"}])
    record_lineage(child, [{"id": "alice/hidden-parent", "relation": "finetune"}])
    record_lineage(control, [{"id": "alice/not-here", "relation": "finetune"}])
    headers = {}
    if caller != "anonymous":
        user = get_user_model().objects.create_user("alice" if caller == "owner" else "mallory")
        if caller == "owner":
            grand.namespace.user = user  # alice's own namespace
            grand.namespace.save()
        headers["HTTP_AUTHORIZATION"] = f"Bearer {mint_token(user)[0]}"
    results = by_model(check(api, ["alice/pub-x", "alice/pub-y"], **headers))
    lineage, control_lineage = results["alice/pub-x"]["lineage"], results["alice/pub-y"]["lineage"]
    graph = api.get("/api/v1/lineage/alice/pub-x/ancestors", **headers).json()
    texts = [
        api.get(f"/api/v1/models/alice/pub-x/bom?bom_format={fmt}", **headers).content.decode()
        + api.post(f"/api/v1/compliance/bom?bom_format={fmt}", {"models": ["alice/pub-x"], "policy": SAAS},
                   format="json", **headers).content.decode()
        for fmt in ("spdx3", "spdx2", "cyclonedx")
    ]  # fmt: skip
    # the stored analysis too: it holds the parent's licence until the child is re-judged
    stored = api.get("/api/v1/repos/alice/pub-x/analysis", **headers).json()["result"]
    texts.append(json.dumps(stored))
    if caller == "owner":
        assert [a["id"] for a in lineage["ancestors"]] == ["alice/hidden-parent", "alice/hidden-grandparent"]
        assert lineage["base_models"][0]["license_key"] == "cc-by-nc-4.0"
        assert stored["lineage"]["base_models"][0]["license_key"] == "cc-by-nc-4.0"
        assert [n["in_registry"] for n in graph] == [True, True]
        return
    assert [a["id"] for a in lineage["ancestors"]] == ["alice/hidden-parent"]
    named_like = lambda lin, name: json.loads(json.dumps(lin).replace(name, "X"))  # noqa: E731
    assert named_like(lineage, "alice/hidden-parent") == named_like(control_lineage, "alice/not-here")
    assert graph == [{"id": "alice/hidden-parent", "depth": 1, "in_registry": False}]
    assert api.get("/api/v1/lineage/alice/pub-y/ancestors", **headers).json() == [
        {"id": "alice/not-here", "depth": 1, "in_registry": False}
    ]
    assert not any("hidden-grandparent" in text or "cc-by-nc" in text.lower() for text in texts)
    assert all("alice/pub-x" in text for text in texts)
    assert stored["lineage"]["base_models"][0]["source"] == "unresolved"


def test_throttling_per_token(api, models, settings):
    settings.MODELHUB_API_RATE = "3/min"
    user = get_user_model().objects.create_user("busy")
    token_a, _ = mint_token(user)
    token_b, _ = mint_token(user)
    codes = [
        check(api, ["acme/bert-ft"], HTTP_AUTHORIZATION=f"Bearer {token_a}").status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    resp = check(api, ["acme/bert-ft"], HTTP_AUTHORIZATION=f"Bearer {token_a}")
    assert resp.json()["error"]["code"] == "rate-limited" and resp.json()["error"]["retry_after_seconds"] >= 0
    assert check(api, ["acme/bert-ft"], HTTP_AUTHORIZATION=f"Bearer {token_b}").status_code == 200


@pytest.mark.parametrize("fmt", ["spdx3", "spdx2", "cyclonedx"])
def test_bom_of_a_model_and_of_a_check(api, models, fmt):
    resp = api.get(f"/api/v1/models/acme/Llama-3.1-bot/bom?bom_format={fmt}")
    assert resp.status_code == 200, resp.content
    text = resp.content.decode()
    assert "acme/Llama-3.1-bot" in text
    resp = api.post(
        f"/api/v1/compliance/bom?bom_format={fmt}",
        {"models": ["acme/bert-ft", "acme/nc-model", "nobody/nothing"], "policy": SAAS},
        format="json",
    )
    assert resp.status_code == 200
    text = resp.content.decode()
    assert "acme/bert-ft" in text and "acme/nc-model" in text and "nobody/nothing" not in text


def test_a_bom_follows_the_ancestry_as_far_as_the_caller_may_see(api, db):
    """leaf <- middle <- secret (private) <- beyond: anonymous callers get the middle model in full,
    the private one as a name only (as a model outside the registry), and nothing beyond it; staff
    get the whole chain, each ancestor with its licence and the revision described."""
    analysed_model("open/beyond", "llama3.1", "vendor-community", "conditional")
    analysed_model(
        "secret/base", "mit", "osi-permissive", "yes", private=True,
        base_models=[{"id": "open/beyond", "relation": "finetune", "license_key": "llama3.1"}],
    )  # fmt: skip
    middle = analysed_model(
        "acme/middle", "apache-2.0", "osi-permissive", "yes",
        base_models=[{"id": "secret/base", "relation": "finetune", "license_key": "mit"}],
    )  # fmt: skip
    analysed_model(
        "acme/leaf", "apache-2.0", "osi-permissive", "yes",
        base_models=[{"id": "acme/middle", "relation": "finetune", "license_key": "apache-2.0"}],
    )  # fmt: skip

    def packages():
        doc = api.get("/api/v1/models/acme/leaf/bom?bom_format=spdx2").json()
        return {p["name"]: p for p in doc["packages"]}

    seen = packages()
    assert set(seen) == {"acme/leaf", "acme/middle", "secret/base"}
    assert seen["acme/middle"]["versionInfo"] == middle.head.sha
    assert seen["acme/middle"]["licenseDeclared"] == "Apache-2.0"
    assert (
        seen["secret/base"]["licenseDeclared"] == "NOASSERTION" and "versionInfo" not in seen["secret/base"]
    )

    api.force_authenticate(get_user_model().objects.create_user("legal", is_staff=True, is_superuser=True))
    seen = packages()
    assert set(seen) == {"acme/leaf", "acme/middle", "secret/base", "open/beyond"}
    assert seen["secret/base"]["licenseDeclared"] == "MIT"
    assert seen["open/beyond"]["licenseDeclared"] == default_kb().get("llama3.1").spdx


def test_bom_errors(api, models):
    assert api.get("/api/v1/models/acme/bert-ft/bom?bom_format=xml").json()["error"]["code"] == "invalid-bom"
    assert api.get("/api/v1/models/secret/inhouse/bom?bom_format=spdx3").status_code == 404


def test_batch_checks_cost_a_fixed_number_of_queries(models, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from licenses.engine.policy import load_policy
    from licenses.services.compliance import bom_reports, check_models, parse_model_specs

    policy = load_policy(SAAS)
    for i in range(40):
        analysed_model(f"bulk/m{i}", "mit", "osi-permissive", "yes")
    counts, bom_counts = [], []
    for ids in (["bulk/m0"], [f"bulk/m{i}" for i in range(40)] + ["acme/nc-model", "nobody/x"]):
        with CaptureQueriesContext(connection) as ctx:
            results = check_models(parse_model_specs(ids), policy, None)
        assert len(results) == len(ids)
        counts.append(len(ctx.captured_queries))
        with CaptureQueriesContext(connection) as ctx:
            reports = bom_reports(results, None)
        assert len(reports) == len([i for i in ids if not i.startswith("nobody/")])  # unknown ones left out
        assert all(r["revision"] and r["verdict"] for r in reports)
        bom_counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    assert bom_counts[0] == bom_counts[1], bom_counts


def test_pinned_revision_is_judged_as_it_was(api, models):
    from hub.models import Commit, Ref, RevisionAnalysis

    repo = models["nc"]
    old_sha = repo.head.sha
    new = Commit.objects.create(repository=repo, sha="b" * 40, parent=repo.head, title="relicense")
    result = {
        **repo.latest_analysis.result,
        "license": {"key": "mit", "class": "osi-permissive", "commercial_use": "yes"},
    }
    analysis = RevisionAnalysis.objects.create(
        commit=new, status="done", result=result, license_key="mit", license_class="osi-permissive"
    )
    Ref.objects.filter(repository=repo, name="main").update(commit=new)
    Ref.objects.create(repository=repo, kind="tag", name="v1", commit_id=repo.head_id)
    repo.head, repo.latest_analysis = new, analysis
    repo.save()
    resp = check(
        api,
        [
            "acme/nc-model",
            {"id": "acme/nc-model", "revision": old_sha[:10]},
            {"id": "acme/nc-model", "revision": "v1"},
            {"id": "acme/nc-model", "revision": "nope"},
        ],
    )
    got = [(r["revision"], r["verdict"]) for r in resp.json()["results"]]
    assert got == [("b" * 40, "allow"), (old_sha, "deny"), (old_sha, "deny"), (None, "deny")]
    assert resp.json()["results"][3]["reasons"][0]["code"] == "unknown-model"


@pytest.mark.parametrize("fmt", ["spdx3", "spdx2", "cyclonedx"])
def test_a_bom_of_only_unknown_models_is_a_404_that_says_why(api, models, fmt):
    resp = api.post(f"/api/v1/compliance/bom?bom_format={fmt}", {"models": ["nobody/x", "secret/inhouse"],
                    "policy": SAAS}, format="json")  # fmt: skip
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not-found" and "registry" in resp.json()["error"]["message"]


def test_a_model_without_a_licence_exports_in_every_format(api):
    analysed_model("acme/bare", "none", "unknown", "unknown")
    for fmt in ("spdx3", "spdx2", "cyclonedx"):
        resp = api.get(f"/api/v1/models/acme/bare/bom?bom_format={fmt}")
        assert resp.status_code == 200, (fmt, resp.content)


@pytest.mark.parametrize("revision", [None, "main"])
def test_the_eu_carve_out_sees_a_stored_analysiss_pipeline_tag(api, revision):
    """Both lookups (the batch fast path, and a pinned revision's full analysis) hand the policy
    the card's pipeline tag: a vision model under Llama 3.2 is denied for EU use, a text one not."""
    for name, tag in (("vision", "image-text-to-text"), ("text", "text-generation")):
        repo = analysed_model(f"acme/l32-{name}", "llama3.2", "vendor-community", "conditional")
        analysis = repo.latest_analysis
        analysis.result = {**analysis.result, "card": {"pipeline_tag": tag}}
        analysis.save(update_fields=["result"])
    policy = {"name": "eu", "use": {"commercial": True, "regions": ["DE"]}}
    ids = [
        {"id": f"acme/l32-{n}", "revision": revision} if revision else f"acme/l32-{n}"
        for n in ("vision", "text")
    ]
    results = by_model(check(api, ids, policy=policy))
    assert results["acme/l32-vision"]["verdict"] == "deny"
    assert "eu-carve-out" in {r["code"] for r in results["acme/l32-vision"]["reasons"]}
    assert "eu-carve-out-review" not in {r["code"] for r in results["acme/l32-text"]["reasons"]}


def test_a_model_the_registry_does_not_hold_is_unknown_even_if_well_known(api, models):
    """contract.md: a model the registry does not hold is ``deny`` / ``unknown-model``, a well-known
    base model the audit judges from its bundled tables too; the message says where the check
    looked (it used to name the bundled tables, which the check never reads)."""
    result = by_model(check(api, ["meta-llama/Llama-3.1-8B"]))["meta-llama/Llama-3.1-8B"]
    assert result["verdict"] == "deny" and [r["code"] for r in result["reasons"]] == ["unknown-model"]
    assert (
        "this registry" in result["reasons"][0]["message"]
        and "bundled" not in result["reasons"][0]["message"]
    )


@pytest.mark.parametrize(
    ("fmt", "media"),
    [("spdx3", "application/spdx+json"), ("spdx2", "application/spdx+json"),
     ("cyclonedx", "application/vnd.cyclonedx+json; version=1.6")],
)  # fmt: skip
def test_boms_are_served_as_their_formats_media_types_and_as_files(api, models, fmt, media):
    resp = api.get(f"/api/v1/models/acme/bert-ft/bom?bom_format={fmt}")
    assert resp["Content-Type"] == media
    assert resp["Content-Disposition"] == f'attachment; filename="ai-bom.{fmt}.json"'
    assert json.loads(resp.content)  # still JSON


def test_a_private_dataset_named_like_a_public_parent_model_hides_nothing(api):
    """Lineage joins models: a private *dataset* of the same name must not make the public parent
    model vanish from a check (a wrong answer, and a probe for private datasets)."""
    from hub.models import Repository

    analysed_model("alice/samename", "llama3", "vendor-community", "conditional")
    ds = analysed_model("alice/samename-ds", "mit", "osi-permissive", "yes", private=True)
    Repository.objects.filter(pk=ds.pk).update(name="samename", repo_type=Repository.Type.DATASET)
    child = analysed_model("alice/samechild", "llama3", "vendor-community", "conditional",
                           base_models=[{"id": "alice/samename", "relation": "finetune"}])  # fmt: skip
    record_lineage(child, [{"id": "alice/samename", "relation": "finetune"}])
    result = check(api, ["alice/samechild"]).json()["results"][0]
    assert [p["id"] for p in result["lineage"]["base_models"]] == ["alice/samename"]
    assert [a["id"] for a in result["lineage"]["ancestors"]] == ["alice/samename"]
    assert api.get("/api/v1/lineage/alice/samechild/ancestors").json()[0]["id"] == "alice/samename"


def test_the_lineage_walks_stop_at_private_models_the_caller_cannot_see(api):
    """Public grand -> private mid -> public child: an outsider learns nothing that only the
    private card says: child's ancestors stop at mid (read as outside the registry), grand's
    descendants and the derived-from list do not reach child through mid."""
    grand = analysed_model("acme/pub-grand", "cc-by-nc-4.0", "noncommercial", "no")
    to_grand = [{"id": "acme/pub-grand", "relation": "finetune", "license_class": "noncommercial"}]
    mid = analysed_model(
        "acme/secret-mid", "cc-by-nc-4.0", "noncommercial", "no", private=True, base_models=to_grand
    )
    to_mid = [{"id": "acme/secret-mid", "relation": "finetune"}]
    child = analysed_model("acme/pub-child", "cc-by-nc-4.0", "noncommercial", "no", base_models=to_mid)
    record_lineage(mid, to_grand)  # as the analysis receiver does
    record_lineage(child, to_mid)
    assert api.get("/api/v1/lineage/acme/pub-child/ancestors").json() == [
        {"id": "acme/secret-mid", "depth": 1, "in_registry": False}
    ]
    assert api.get("/api/v1/lineage/acme/pub-grand/descendants").json() == []
    assert "acme/pub-child" not in {
        n["id"] for n in api.get("/api/v1/lineage/derived-from?class=noncommercial").json()
    }
    result = check(api, ["acme/pub-child"]).json()["results"][0]
    assert result["lineage"]["ancestors"] == [{"id": "acme/secret-mid", "depth": 1}]
    assert grand.private is False


@pytest.mark.parametrize(
    ("accept", "status"),
    [("application/vnd.cyclonedx+json", 200), ("application/spdx+json", 200), ("application/json", 200),
     ("text/html,application/xhtml+xml,*/*;q=0.8", 200), ("text/html", 406)],
)  # fmt: skip
def test_a_bom_is_json_whatever_acceptable_form_a_client_asks_for(api, models, accept, status):
    resp = api.get("/api/v1/models/acme/bert-ft/bom?bom_format=cyclonedx", HTTP_ACCEPT=accept)
    assert resp.status_code == status
    if status == 200:
        assert resp["Content-Type"].startswith("application/vnd.cyclonedx+json")
        assert json.loads(resp.content)["bomFormat"] == "CycloneDX"  # not DRF's HTML page around it


@pytest.mark.parametrize(
    "query",
    [
        "model=relabelled",  # no owner: was ignored, and the whole queue answered
        "model=acme/x/y",
        "rule=relicensed",  # a rule no row can have: was an empty queue, as `status` typos were once
    ],
)
def test_violation_filters_that_match_nothing_by_construction_are_400s(api, models, query):
    resp = api.get(f"/api/v1/violations?{query}")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid-request"


def test_violation_filters_by_rule_and_model_still_filter(api, models):
    assert api.get("/api/v1/violations?rule=relicensed-derivative").status_code == 200
    assert api.get("/api/v1/violations?model=acme/nobody").json()["count"] == 0


def test_versions_of_a_policy_that_does_not_exist_are_a_404(api, models):
    resp = api.get("/api/v1/policies/no-such-policy/versions")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not-found"


RESEARCH = {
    "name": "research-internal",
    "use": {"commercial": False, "distribution": "internal"},
    "licenses": {"unknown": "warn"},
    "serialization": {"allow_pickle": True},
}


def test_research_policy_answer_says_what_the_licences_still_demand(api, models):
    """Allowed is not the whole answer: a non-commercial model must stay non-commercial, and a
    fine-tune relabelled apache-2.0 still carries its Llama base's terms (D6)."""
    analysed_model(
        "acme/relabelled-ft",
        "apache-2.0",
        "osi-permissive",
        "yes",
        base_models=[{"id": "meta-llama/Llama-3.1-8B", "relation": "finetune", "license_key": "llama3.1"}],
    )
    resp = check(api, ["acme/nc-model", "acme/relabelled-ft"], policy=RESEARCH)
    assert resp.status_code == 200, resp.content
    results = by_model(resp)
    nc = results["acme/nc-model"]
    assert nc["verdict"] == "allow"
    assert {"code": "noncommercial", "applies": True, "clause": "§2(a)(1)"}.items() <= next(
        o for o in nc["obligations"] if o["code"] == "noncommercial"
    ).items()
    ft = {(o["text"].split(":", 1)[0], o["code"]): o for o in results["acme/relabelled-ft"]["obligations"]}
    assert {("llama3.1", k) for k in ("acceptable-use-policy", "mau-cap", "name-prefix", "notice")} <= set(ft)
    assert ft[("llama3.1", "acceptable-use-policy")]["applies"]
    assert not ft[("llama3.1", "display-phrase")]["applies"], "internal use displays nothing to anyone"


def test_saas_answer_for_agpl_names_the_network_source_offer(api, models):
    analysed_model("acme/agpl-model", "agpl-3.0", "osi-copyleft", "yes")
    resp = check(api, ["acme/agpl-model"])
    codes = {o["code"]: o for o in by_model(resp)["acme/agpl-model"]["obligations"]}
    assert codes["network-source-offer"]["applies"] and codes["network-source-offer"]["clause"] == "§13"


@pytest.mark.parametrize("caller", ["anonymous", "outsider", "owner"])
def test_a_grandparents_licence_binds_through_a_relabelled_parent_unless_that_parent_is_hidden(api, caller):
    """meta-llama/Meta-Llama-3-8B (llama3) -> alice/b (apache-2.0) -> alice/c (apache-2.0): c is a
    Llama derivative too (licenses.md §3), so the check lists Llama's obligations for it; they
    used to be b's only. When b is private to someone else it reads like a model outside the
    registry: what lies above it (its private card) is neither used nor shown."""
    relabelled = {"relation": "finetune", "license_key": "apache-2.0", "license_class": "osi-permissive"}
    b = analysed_model(
        "alice/b", "apache-2.0", "osi-permissive", "yes", private=True,
        base_models=[{"id": "meta-llama/Meta-Llama-3-8B", "license_key": "llama3", "source": "bundled"}],
    )  # fmt: skip
    c = analysed_model(
        "alice/c", "apache-2.0", "osi-permissive", "yes", base_models=[{"id": "alice/b", **relabelled}]
    )
    record_lineage(b, [{"id": "meta-llama/Meta-Llama-3-8B", "license_key": "llama3", "source": "bundled"}])
    record_lineage(c, [{"id": "alice/b", **relabelled}])
    public = analysed_model(
        "bob/d", "apache-2.0", "osi-permissive", "yes", base_models=[{"id": "bob/e", **relabelled}]
    )
    e = analysed_model("bob/e", "apache-2.0", "osi-permissive", "yes")
    record_lineage(e, [{"id": "meta-llama/Meta-Llama-3-8B", "license_key": "llama3", "source": "bundled"}])
    record_lineage(public, [{"id": "bob/e", **relabelled}])
    headers = {}
    if caller != "anonymous":
        user = get_user_model().objects.create_user("alice" if caller == "owner" else "mallory")
        if caller == "owner":
            b.namespace.user = user
            b.namespace.save()
        headers["HTTP_AUTHORIZATION"] = f"Bearer {mint_token(user)[0]}"
    results = by_model(check(api, ["alice/c", "bob/d"], **headers))
    llama = lambda r: [o for o in r["obligations"] if o["text"].startswith("llama3:")]  # noqa: E731
    assert llama(results["bob/d"])  # a public chain binds whoever asks
    if caller == "owner":
        assert llama(results["alice/c"])
        return
    assert not llama(results["alice/c"])
    assert "llama" not in json.dumps(results["alice/c"]).lower()
