"""The batched, rules-only re-evaluation of descendants (``licenses.services.reevaluation``).

It must store exactly what a full re-analysis of each descendant would, reopen triaged
violations only when their evidence changed, be safe to run twice, and cost a bounded
number of queries per chunk however many repositories the chunk holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from hub.auth import Caller
from hub.models import Commit, Namespace, Repository, RevisionAnalysis
from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, create_commit
from hub.services.repos import create_repository
from licenses.models import LineageEdge, Violation, ViolationEvent
from licenses.services.bulk_resolver import PrefetchedResolver
from licenses.services.reevaluation import finding_from_dict, plan_chunks, reevaluate_repositories
from licenses.services.resolver import DatabaseResolver
from licenses.services.violations import set_violation_status
from licenses.tasks import reevaluate_chunk, reevaluate_descendants
from tests.licenses.factories import analysed_model, relicense

pytestmark = pytest.mark.django_db(transaction=True)


def card(license_key: str, *base_models: str, extra: str = "") -> str:
    lines = ["---", f"license: {license_key}"]
    if len(base_models) == 1:
        lines.append(f"base_model: {base_models[0]}")
    elif base_models:
        lines += ["base_model:", *(f"- {b}" for b in base_models)]
    return (
        "\n".join([*lines, "---", "# A model", "", extra or "Trained on data described in the paper."]) + "\n"
    )


def push(repo: Repository, readme: str) -> None:
    stored = store_small(readme.encode(), 10**6)
    op = AddFile("README.md", stored.sha256, stored.size, False, stored.git_oid)
    create_commit(repo, "main", CommitRequest(title="update card", operations=[op]))


@pytest.fixture
def caller() -> Caller:
    return Caller(get_user_model().objects.create_user("owner", is_superuser=True))


def make(caller: Caller, repo_id: str, readme: str) -> Repository:
    org, name = repo_id.split("/")
    Namespace.objects.get_or_create(name=org, defaults={"kind": Namespace.Kind.ORG})
    repo, _ = create_repository(caller, name=name, organization=org)
    push(repo, readme)
    repo.refresh_from_db()
    return repo


@pytest.fixture
def family(caller) -> dict[str, Repository]:
    """Three levels under a non-commercial root; the grandchild merges the child and the root."""
    return {
        "root": make(caller, "base/research-model", card("cc-by-nc-4.0")),
        "child": make(caller, "org/chat-ft", card("apache-2.0", "base/research-model")),
        "sibling": make(caller, "org/chat-nc", card("cc-by-nc-4.0", "base/research-model")),
        "grandchild": make(
            caller, "org/chat-merge", card("apache-2.0", "org/chat-ft", "base/research-model")
        ),
    }


def state(repos: list[Repository]) -> dict[str, object]:
    """Everything a re-evaluation writes, per repository, without timestamps."""
    out: dict[str, object] = {}
    for repo in repos:
        repo.refresh_from_db()
        analysis = RevisionAnalysis.objects.get(commit_id=repo.head_id)
        out[repo.repo_id] = {
            "violations": analysis.result["violations"],
            "lineage": analysis.result["lineage"],
            "counts": (analysis.n_errors, analysis.n_warnings),
            "rows": sorted(
                Violation.objects.filter(repository=repo).values_list(
                    "rule", "parent_ref", "status", "evidence_hash"
                )
            ),
            "edges": sorted(
                LineageEdge.objects.filter(child=repo).values_list(
                    "parent_ref", "relation", "parent_license_key", "parent_license_class", "source"
                )
            ),
        }
    return out


def rules(repo: Repository, status: str = "open") -> set[tuple[str, str]]:
    return set(Violation.objects.filter(repository=repo, status=status).values_list("rule", "parent_ref"))


def test_batch_path_stores_what_a_full_reanalysis_would(family):
    descendants = [family["child"], family["sibling"], family["grandchild"]]
    before = state(descendants)
    assert ("relicensed-derivative", "base/research-model") in rules(family["child"])
    assert ("relicensed-derivative", "base/research-model") in rules(family["grandchild"])
    analysed_at = {r.pk: RevisionAnalysis.objects.get(commit_id=r.head_id).analysed_at for r in descendants}

    push(family["root"], card("apache-2.0"))  # relicensed: the receiver runs the batched re-evaluation

    batch = state(descendants)
    assert batch != before
    assert ("relicensed-derivative", "base/research-model") not in rules(family["child"])
    assert ("relicensed-derivative", "base/research-model") in rules(family["child"], "resolved")
    assert ("relicensed-derivative", "base/research-model") not in rules(family["grandchild"])
    # rules-only: no descendant was re-analysed
    assert all(
        RevisionAnalysis.objects.get(commit_id=r.head_id).analysed_at == analysed_at[r.pk]
        for r in descendants
    )

    from hub.tasks import analyze_revision

    for repo in descendants:  # the old path, one full analysis per descendant
        analyze_revision.run(repo.head_id)
    assert state(descendants) == batch


def test_relicensing_to_noncommercial_opens_violations_on_every_level(caller):
    root = make(caller, "base/open-model", card("apache-2.0"))
    child = make(caller, "org/ft", card("apache-2.0", "base/open-model"))
    merge = make(caller, "org/merge", card("apache-2.0", "org/ft", "base/open-model"))
    assert not rules(child) and not {r for r in rules(merge) if r[1] == "base/open-model"}

    push(root, card("cc-by-nc-4.0"))

    assert ("relicensed-derivative", "base/open-model") in rules(child)
    assert ("relicensed-derivative", "base/open-model") in rules(merge)
    analysis = RevisionAnalysis.objects.get(commit_id=child.head_id)
    assert analysis.n_errors == sum(1 for v in analysis.result["violations"] if v["severity"] == "error") > 0
    edge = LineageEdge.objects.get(child=child)
    assert (edge.parent_license_key, edge.parent_license_class) == ("cc-by-nc-4.0", "noncommercial")
    opened = ViolationEvent.objects.filter(violation__repository=child, action="opened")
    assert opened.filter(violation__rule="relicensed-derivative").count() == 1


@pytest.mark.parametrize("route", ["hub-api", "native-api", "save"])
def test_a_parent_made_private_stops_showing_through_its_children(family, caller, client, route):
    """Children resolve only public parents: when a parent becomes private afterwards, its licence
    must leave the children's lineage, edges and violations as if it had been private from the
    start, whichever route changed the visibility; made public again, it comes back."""
    from hub.auth import mint_token

    child, root = family["child"], family["root"]
    assert ("relicensed-derivative", "base/research-model") in rules(child)
    token, _ = mint_token(caller.user, scope="write")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def set_private(private: bool) -> None:
        if route == "hub-api":
            resp = client.put("/api/models/base/research-model/settings", {"private": private},
                              content_type="application/json", **bearer)  # fmt: skip
        elif route == "native-api":
            resp = client.patch("/api/v1/repos/base/research-model", {"private": private},
                                content_type="application/json", **bearer)  # fmt: skip
        else:
            repo = Repository.objects.get(pk=root.pk)
            repo.private = private
            repo.save()
            return
        assert resp.status_code == 200, resp.content

    set_private(True)
    parent = next(
        p for p in state([child])[child.repo_id]["lineage"]["base_models"] if p["id"] == "base/research-model"
    )
    assert parent["license_key"] is None and parent["source"] == "unresolved"
    assert ("relicensed-derivative", "base/research-model") not in rules(child)
    edge = LineageEdge.objects.get(child=child, parent_ref="base/research-model")
    assert edge.parent_license_key in (None, "")

    set_private(False)
    assert ("relicensed-derivative", "base/research-model") in rules(child)
    parent = next(
        p for p in state([child])[child.repo_id]["lineage"]["base_models"] if p["id"] == "base/research-model"
    )
    assert parent["license_key"] == "cc-by-nc-4.0"


def test_triaged_violations_reopen_only_when_evidence_changed(family, caller):
    child, root = family["child"], family["root"]
    violation = Violation.objects.get(repository=child, rule="relicensed-derivative")
    set_violation_status([violation], "acknowledged", caller.user, "licensed separately")

    reevaluate_descendants(root.repo_id)  # nothing changed: the judgement stands
    violation.refresh_from_db()
    assert violation.status == "acknowledged"

    push(root, card("cc-by-nc-sa-4.0"))  # still non-commercial, but different terms: new evidence
    violation.refresh_from_db()
    assert violation.status == "open"
    last = violation.events.order_by("pk").last()
    assert (last.action, last.from_status, last.reason) == (
        "reopened",
        "acknowledged",
        "the evidence changed",
    )


@pytest.mark.parametrize("triage", ["false_positive", "acknowledged"])
def test_a_triage_survives_a_finding_that_goes_away_and_comes_back_unchanged(family, caller, triage):
    """Parent made private and public again (or relicensed and back): the finding vanishes and returns
    with the very evidence the reviewer judged, so the decision stands; changed evidence reopens it."""
    child, root = family["child"], family["root"]
    violation = Violation.objects.get(repository=child, rule="relicensed-derivative")
    set_violation_status([violation], triage, caller.user, "LEGAL-7: licensed separately")

    root.private = True
    root.save()
    violation.refresh_from_db()
    assert (violation.status, violation.resolved_from) == ("resolved", triage)
    root.private = False
    root.save()
    violation.refresh_from_db()
    assert (violation.status, violation.status_reason) == (triage, "LEGAL-7: licensed separately")
    assert violation.status_changed_by is None and violation.resolved_from == ""
    last = violation.events.order_by("pk").last()
    assert (last.action, last.from_status, last.to_status) == ("status", "resolved", triage)
    assert "kept" in last.reason
    assert ("relicensed-derivative", "base/research-model") not in rules(child)  # not open again

    push(root, card("apache-2.0"))  # gone again …
    push(root, card("cc-by-nc-sa-4.0"))  # … and back with other evidence: a new question
    violation.refresh_from_db()
    assert (violation.status, violation.status_reason) == ("open", "")
    assert violation.status_changed_at is not None


def test_chunks_run_twice_leave_no_duplicates(family):
    push(family["root"], card("apache-2.0"))
    chunks = plan_chunks(family["root"].repo_id, chunk_size=2)
    assert [len(c) for c in chunks] == [2, 1]
    counts = (Violation.objects.count(), ViolationEvent.objects.count(), LineageEdge.objects.count())
    snapshot = state([family["child"], family["sibling"], family["grandchild"]])
    for chunk in chunks + chunks:
        reevaluate_chunk(chunk)
    assert (Violation.objects.count(), ViolationEvent.objects.count(), LineageEdge.objects.count()) == counts
    assert state([family["child"], family["sibling"], family["grandchild"]]) == snapshot


def test_plan_is_parents_first_and_skips_models_outside_the_registry(family):
    order = [pk for chunk in plan_chunks(family["root"].repo_id, chunk_size=10) for pk in chunk]
    assert order.index(family["child"].pk) < order.index(family["grandchild"].pk)
    assert set(order) == {family["child"].pk, family["sibling"].pk, family["grandchild"].pk}


@pytest.mark.parametrize("width", [2, 12])
def test_query_count_per_chunk_is_bounded(caller, django_assert_max_num_queries, width):
    root = make(caller, "base/wide-root", card("cc-by-nc-4.0"))
    kids = [make(caller, f"org/kid-{i}", card("apache-2.0", "base/wide-root")) for i in range(width)]
    grandkids = [make(caller, f"org/gk-{i}", card("apache-2.0", f"org/kid-{i}")) for i in range(width)]
    push(root, card("cc-by-nc-nd-4.0"))
    ids = [r.pk for r in kids + grandkids]
    with django_assert_max_num_queries(20):
        outcome = reevaluate_repositories(ids)
    assert outcome.evaluated == 2 * width and outcome.full == []


def test_head_without_its_own_analysis_goes_to_the_full_path(family):
    grandchild = family["grandchild"]
    RevisionAnalysis.objects.filter(commit_id=grandchild.head_id).update(status="failed")
    outcome = reevaluate_repositories([family["child"].pk, grandchild.pk])
    assert outcome.full == [grandchild.head_id] and outcome.evaluated == 1


def test_finding_round_trips_through_the_stored_dict(family):
    result = RevisionAnalysis.objects.get(commit_id=family["child"].head_id).result
    assert finding_from_dict(result["license"]).to_dict() == result["license"]


def test_prefetched_resolver_chooses_the_revision_a_single_lookup_would():
    parent = analysed_model("lab/yi-like", "yi-license", "restricted", "conditional")
    first = Commit.objects.get(pk=parent.head_id)
    first.created_at = timezone.now() - timedelta(days=400)
    first.save(update_fields=["created_at"])
    relicense(parent, "apache-2.0", "osi-permissive", timezone.now() - timedelta(days=100))
    dates = [
        None,
        (timezone.now() - timedelta(days=500)).date(),
        (timezone.now() - timedelta(days=200)).date(),
    ]
    dates.append(timezone.now().date())
    requests = [(m, d) for m in ("lab/yi-like", "LAB/Yi-Like", "lab/missing", "nameless") for d in dates]
    bulk, single = PrefetchedResolver(requests), DatabaseResolver()
    answers = [bulk.resolve(m, d) for m, d in requests]
    assert answers == [single.resolve(m, d) for m, d in requests]
    assert {a.license_key for a in answers if a} == {"yi-license", "apache-2.0"}


def test_update_rows_writes_each_rows_own_values(family):
    from licenses.services.bulk_update import update_rows

    rows = list(Violation.objects.order_by("pk"))
    assert len(rows) >= 2
    for i, v in enumerate(rows):
        v.evidence = [{"source": "body", "detail": f"row {i}"}]
        v.last_commit_id = None if i % 2 else v.repository.head_id
        v.clause = f"§{i}"
    assert update_rows(Violation, rows, ["evidence", "last_commit", "clause"]) == len(rows)
    stored = {v.pk: v for v in Violation.objects.all()}
    for i, v in enumerate(rows):
        got = stored[v.pk]
        assert (got.evidence, got.last_commit_id, got.clause) == (v.evidence, v.last_commit_id, f"§{i}")


def test_a_head_that_moves_during_the_chunk_is_left_to_its_own_analysis(family, monkeypatch):
    from licenses.services import reevaluation

    child, grandchild = family["child"], family["grandchild"]
    real_load = reevaluation._load

    def load_then_commit(repo_ids):
        loaded = real_load(repo_ids)
        moved = Commit.objects.create(repository=child, sha="c" * 40, title="meanwhile")
        Repository.objects.filter(pk=child.pk).update(head=moved)
        return loaded

    monkeypatch.setattr(reevaluation, "_load", load_then_commit)
    before = list(Violation.objects.filter(repository=child).values_list("pk", "status", "last_seen_at"))
    RevisionAnalysis.objects.filter(commit__repository=family["root"]).update(license_key="apache-2.0")
    outcome = reevaluate_repositories([child.pk, grandchild.pk])
    assert outcome.evaluated == 1
    assert (
        list(Violation.objects.filter(repository=child).values_list("pk", "status", "last_seen_at")) == before
    )
    assert ("relicensed-derivative", "base/research-model") not in rules(grandchild)


def test_update_json_keys_replaces_only_the_named_keys(family):
    from licenses.services.bulk_update import update_json_keys

    analyses = list(RevisionAnalysis.objects.filter(status="done").order_by("pk"))
    originals = {a.pk: dict(a.result) for a in analyses}
    for i, a in enumerate(analyses):
        a.result["violations"] = [{"rule": f"r{i}", "severity": "error"}]
        a.result["lineage"] = {"base_models": [], "unresolved": [f"x/{i}"]}
        a.n_errors = 100 + i
    assert update_json_keys(
        RevisionAnalysis, analyses, "result", ["violations", "lineage"], ["n_errors"]
    ) == len(analyses)
    for i, a in enumerate(analyses):
        got = RevisionAnalysis.objects.get(pk=a.pk)
        assert got.n_errors == 100 + i
        assert got.result["violations"] == [{"rule": f"r{i}", "severity": "error"}]
        assert got.result["lineage"]["unresolved"] == [f"x/{i}"]
        assert got.result["license"] == originals[a.pk]["license"]
        assert got.result["transparency"] == originals[a.pk]["transparency"]


def test_visibility_changes_are_seen_whatever_the_instance_loaded(family):
    """Two requests load the same repository; one makes it private, the other public again. The
    second change must be announced too, though its instance loaded "public" (as must a change
    after refresh_from_db); a save that leaves it as stored announces nothing."""
    from hub.signals import visibility_changed

    seen: list[bool] = []

    def record(sender, repository, **kwargs):
        seen.append(repository.private)

    visibility_changed.connect(record, dispatch_uid="test-visibility")
    try:
        root = family["root"]
        first, second = Repository.objects.get(pk=root.pk), Repository.objects.get(pk=root.pk)
        first.private = True
        first.save(update_fields=["private"])
        second.private = False  # loaded as public, but the database says private by now
        second.save(update_fields=["private"])
        third = Repository.objects.get(pk=root.pk)
        third.refresh_from_db()
        third.private = True
        third.save()
        third.save()  # unchanged: no announcement
        third.save(update_fields=["downloads"])  # visibility not written: no announcement
    finally:
        visibility_changed.disconnect(dispatch_uid="test-visibility")
    assert seen == [True, False, True]


def test_a_pinned_revision_is_checked_with_its_own_findings_and_ancestry(caller):
    """A tag made before the model took a non-commercial parent: its check must not carry the head's
    violations and ancestors (which contradicted its own empty ``base_models``), and the head's
    check must not lose them; a triage of the same evidence applies to both."""
    from hub.models import Ref
    from licenses.engine.policy import load_policy
    from licenses.services.compliance import ModelSpec, check_models

    make(caller, "base/nc", card("cc-by-nc-4.0"))
    model = make(caller, "org/app", card("apache-2.0"))
    Ref.objects.create(repository=model, kind=Ref.Kind.TAG, name="v1.0", commit=model.head)
    push(model, card("apache-2.0", "base/nc"))
    policy = load_policy({"name": "p", "use": {"commercial": True}, "licenses": {"unknown": "deny"}})

    def checked(revision):
        (result,) = check_models([ModelSpec("org/app", revision)], policy, caller.user)
        return result

    tagged, head = checked("v1.0"), checked(None)
    assert (tagged["violations"], tagged["lineage"]["ancestors"], tagged["verdict"]) == ([], [], "allow")
    assert [v["rule"] for v in head["violations"]] == ["relicensed-derivative"]
    assert head["lineage"]["ancestors"] == [{"id": "base/nc", "depth": 1}]

    # an older revision with the head's finding: its own list, with the queue's triage of that evidence
    push(model, card("apache-2.0", extra="New card text."))  # the finding goes away at the head …
    older = checked(head["revision"])
    assert [(v["rule"], v["status"]) for v in older["violations"]] == [("relicensed-derivative", "open")]
    assert older["lineage"]["ancestors"] == [{"id": "base/nc", "depth": 1}]
    violation = Violation.objects.get(repository=model, rule="relicensed-derivative")
    set_violation_status([violation], "acknowledged", caller.user, "licensed separately")
    assert [v["status"] for v in checked(head["revision"])["violations"]] == ["acknowledged"]
    set_violation_status([violation], "false_positive", caller.user, "not a derivative")
    assert checked(head["revision"])["violations"] == []


@pytest.mark.parametrize("route", ["repository", "namespace"])
def test_deleting_a_parent_re_judges_its_children(family, route):
    """Deleted (by itself, or with its organisation): the children no longer carry its licence in
    their lineage or violations, without waiting for an unrelated commit of theirs."""
    child, root = family["child"], family["root"]
    assert ("relicensed-derivative", "base/research-model") in rules(child)
    if route == "repository":
        root.delete()
    else:
        Namespace.objects.get(name="base").delete()
    assert ("relicensed-derivative", "base/research-model") not in rules(child)
    (parent,) = state([child])[child.repo_id]["lineage"]["base_models"]
    assert (parent["id"], parent["license_key"], parent["source"]) == (
        "base/research-model",
        None,
        "unresolved",
    )


def test_a_new_repository_is_not_an_error_until_something_is_put_in_it(caller, monkeypatch):
    """``create_repo`` commits ``.gitattributes`` by itself; its analysis opened (and alerted) an
    error-level ``missing-license`` for every new model seconds before the real upload."""
    from hub.services.commits import DeleteFile
    from licenses import tasks

    alerted: list[list[int]] = []
    monkeypatch.setattr(tasks, "notify_violations", lambda ids: alerted.append(ids) or len(ids))
    Namespace.objects.get_or_create(name="org", defaults={"kind": Namespace.Kind.ORG})
    repo, _ = create_repository(caller, name="fresh", organization="org")
    assert not Violation.objects.filter(repository=repo).exists() and alerted == []

    push(repo, "# A card that names no licence\n")
    assert rules(repo) == {("missing-license", "")} and len(alerted) == 1
    create_commit(repo, "main", CommitRequest(title="empty it", operations=[DeleteFile("README.md")]))
    assert rules(repo) == set()  # emptied: what was found is resolved


def test_a_relicensed_ancestor_is_reported_with_its_descendants(caller):
    """Llama -> a fine-tune relabelled apache-2.0 -> its child: the child's own pair is clean, so it
    passed although Llama's terms still reach it. The ancestor's open finding now comes with it
    (warn), at every depth, for pinned revisions too, and not through a model the caller cannot see."""
    from django.contrib.auth.models import AnonymousUser

    from hub.models import Ref
    from licenses.engine.policy import load_policy
    from licenses.services.compliance import ModelSpec, check_models

    make(caller, "meta/llama", card("llama3.1"))
    make(caller, "org/relabelled", card("apache-2.0", "meta/llama"))
    grand = make(caller, "org/grand", card("apache-2.0", "org/relabelled"))
    make(caller, "org/great-grand", card("apache-2.0", "org/grand"))
    Ref.objects.create(repository=grand, kind=Ref.Kind.TAG, name="v1", commit=grand.head)
    assert ("relicensed-derivative", "meta/llama") in rules(Repository.objects.get(name="relabelled"))
    policy = load_policy({"name": "p", "use": {"commercial": True}, "licenses": {"unknown": "deny"}})

    def reasons(model, revision=None, user=caller.user, pol=policy):
        (result,) = check_models([ModelSpec(model, revision)], pol, user)
        return result["verdict"], [r for r in result["reasons"] if r["code"] == "upstream-violation"]

    for model, depth in (("org/grand", "1 generation"), ("org/great-grand", "2 generations")):
        verdict, found = reasons(model)
        assert verdict == "warn" and len(found) == 1, (model, found)
        assert (
            f"ancestor org/relabelled ({depth} up) has an open relicensed-derivative finding"
            in found[0]["message"]
        )
    assert reasons("org/grand", "v1")[1]  # the pinned path says the same
    assert reasons("org/relabelled")[1] == []  # its own finding is a license-violation, not upstream

    excepted = {**policy.raw, "exceptions": [{"model": "org/grand", "reason": "licensed from Meta"}]}
    assert reasons("org/grand", pol=load_policy(excepted))[0] == "allow"

    Repository.objects.filter(name="relabelled").update(private=True)  # not through a hidden model
    assert reasons("org/great-grand", user=AnonymousUser()) == ("allow", [])


def test_datasets_hosted_here_decide_the_models_naming_them(caller):
    """A dataset repository's own card licence was never read: a model trained on a non-commercial
    dataset hosted here passed, and a licence change of the dataset changed nothing."""
    from hub.models import RevisionAnalysis

    Namespace.objects.get_or_create(name="lab", defaults={"kind": Namespace.Kind.ORG})
    dataset, _ = create_repository(caller, name="chats", organization="lab", repo_type="dataset")
    push(dataset, card("cc-by-nc-4.0"))
    model = make(caller, "org/assistant", card("apache-2.0", extra="Trained on lab/chats.").replace(
        "---\n# A model", "datasets:\n- lab/chats\n---\n# A model"))  # fmt: skip

    def data() -> dict:
        model.refresh_from_db()
        return RevisionAnalysis.objects.get(commit_id=model.head_id).result["data"]

    assert [d["id"] for d in data()["dataset_licenses"]] == ["lab/chats"]
    assert data()["dataset_licenses"][0]["source"] == "dataset-card"
    assert any(r == "noncommercial-upstream-data" for r, _ in rules(model))

    push(dataset, card("mit"))  # relicensed: the model is analysed again
    assert not any(r == "noncommercial-upstream-data" for r, _ in rules(model))
    assert data()["dataset_licenses"][0]["license"] == "mit"

    dataset.private = True  # made private: its licence is no longer anyone's to read here
    dataset.save()
    assert data()["dataset_licenses"][0]["license"] is None  # unknown again, as for any dataset


def test_a_pinned_revision_resolves_as_the_hub_resolves_it(caller):
    """A ref was looked up by name whatever its kind: a tag and a branch of one name, or a pull
    request (named by its number), answered whichever row came first."""
    from hub.models import Ref
    from licenses.engine.policy import load_policy
    from licenses.services.compliance import ModelSpec, check_models

    model = make(caller, "org/app", card("mit"))
    first = model.head
    push(model, card("apache-2.0"))
    model.refresh_from_db()
    Ref.objects.create(repository=model, kind=Ref.Kind.TAG, name="v1", commit=first)
    Ref.objects.create(repository=model, kind=Ref.Kind.BRANCH, name="v1", commit=model.head)
    Ref.objects.create(repository=model, kind=Ref.Kind.PR, name="1", commit=first)
    policy = load_policy({"name": "p", "use": {"commercial": True}, "licenses": {"unknown": "deny"}})

    def judged(revision):
        (result,) = check_models([ModelSpec("org/app", revision)], policy, caller.user)
        return result["revision"], [r["code"] for r in result["reasons"] if r["effect"] == "deny"]

    assert judged("v1") == (model.head.sha, [])  # the branch, as /resolve/v1/… serves it
    assert judged("refs/tags/v1")[0] == first.sha
    assert judged("1")[1] == ["unknown-model"]  # no branch or tag "1": a pull request is not a revision name
    assert judged(first.sha[:7])[0] == first.sha


def test_a_pinned_revisions_findings_never_name_a_parent_the_caller_cannot_see(caller):
    """A revision's own findings are not re-judged when its parent turns private; shown as they
    were, they told anyone the private parent's licence (the head's queue rows are re-judged)."""
    from django.contrib.auth.models import AnonymousUser

    from hub.models import Ref
    from licenses.engine.policy import load_policy
    from licenses.services.compliance import ModelSpec, check_models

    make(caller, "base/secret", card("cc-by-nc-4.0"))
    app = make(caller, "org/app", card("apache-2.0", "base/secret"))
    Ref.objects.create(repository=app, kind=Ref.Kind.TAG, name="v1", commit=app.head)
    push(app, card("apache-2.0", "base/secret", extra="new text"))
    policy = load_policy({"name": "p", "use": {"commercial": True}, "licenses": {"unknown": "deny"}})

    def pinned(user):
        (result,) = check_models([ModelSpec("org/app", "v1")], policy, user)
        return [v["rule"] for v in result["violations"]], str(result)

    assert pinned(caller.user)[0] == ["relicensed-derivative"]  # public parent: as it was
    secret = Repository.objects.get(name="secret")
    secret.private = True
    secret.save()  # the head is re-judged; the tag's stored analysis is not
    rules_seen, whole = pinned(AnonymousUser())
    assert rules_seen == [] and "cc-by-nc" not in whole  # reads like a parent outside the registry
    assert pinned(caller.user)[0] == ["relicensed-derivative"]  # a superuser still sees it


def test_a_parent_outside_the_registry_does_not_silence_an_upstream_violation(caller):
    """Naming a made-up second base model cut the walk at depth 1: a merge of a relabelled model
    and anything not held here passed without the warning a single-parent child gets."""
    from licenses.engine.policy import load_policy
    from licenses.services.compliance import ModelSpec, check_models

    make(caller, "meta/llama", card("llama3.1"))
    make(caller, "org/relabelled", card("apache-2.0", "meta/llama"))
    make(caller, "org/merge", card("apache-2.0", "org/relabelled", "nowhere/not-held"))
    make(caller, "org/grand-merge", card("apache-2.0", "org/merge"))
    policy = load_policy({"name": "p", "use": {"commercial": True}, "licenses": {"unknown": "deny"}})
    for model in ("org/merge", "org/grand-merge"):
        (result,) = check_models([ModelSpec(model)], policy, caller.user)
        assert [r["code"] for r in result["reasons"] if r["code"] == "upstream-violation"], model


def test_tag_pinned_checks_cost_a_fixed_number_of_queries(caller):
    """Tags fell back to one revision lookup per model once the batched lookup read branches only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hub.models import Ref
    from licenses.engine.policy import load_policy
    from licenses.services.compliance import ModelSpec, check_models

    policy = load_policy({"name": "p", "use": {"commercial": True}, "licenses": {"unknown": "deny"}})
    for i in range(6):
        model = make(caller, f"org/m{i}", card("mit"))
        Ref.objects.create(repository=model, kind=Ref.Kind.TAG, name="v1", commit=model.head)
        push(model, card("apache-2.0"))

    def count(n: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            results = check_models([ModelSpec(f"org/m{i}", "v1") for i in range(n)], policy, caller.user)
        assert {r["license"]["key"] for r in results} == {"mit"}  # the tag, not the head
        return len(ctx.captured_queries)

    assert count(2) == count(6)
