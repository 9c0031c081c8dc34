"""Races on the licences side, forced on PostgreSQL (``tests.races``): policies saved by two web
processes at once, violations triaged from the API and the web queue at once, analyses and
re-evaluations storing violations at once.

Each test pauses one transaction before it commits and lets the other run into it; the expected
outcome is the one the two requests would have had one after the other.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from hub.auth import mint_token
from licenses.models import Policy
from tests.races import require_postgresql, start, wait_for_lock_waiters

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

POLICY = {"name": "saas", "use": {"commercial": True}, "licenses": {"deny_classes": ["noncommercial"]}}


@pytest.fixture
def staff_api():
    cache.clear()  # the API's throttle counts per token in the cache
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {mint_token(staff, scope='write')[0]}")
    return client


def _paused_in_transaction(work, ready: threading.Event, release: threading.Event):
    """``work()`` inside a transaction that stays open (its locks held) until ``release``."""

    def run():
        with transaction.atomic():
            result = work()
            ready.set()
            assert release.wait(30)
        return result

    return run


def test_two_versions_saved_at_once_are_numbered_one_after_the_other():
    """Two saves of a policy at once (two PUTs, or a PUT and the admin) both read the same highest
    version; the second insert broke the (policy, version) constraint: a 500, the save lost."""
    require_postgresql()
    policy = Policy.objects.create(name="saas")
    policy.add_version(POLICY, None)
    ready, release = threading.Event(), threading.Event()
    first = start(_paused_in_transaction(lambda: policy.add_version(POLICY, None, "first"), ready, release))
    assert ready.wait(30)
    second = start(lambda: Policy.objects.get(pk=policy.pk).add_version(POLICY, None, "second"))
    wait_for_lock_waiters(1)
    release.set()
    assert first.outcome().version == 2
    assert second.outcome().version == 3


def test_a_put_racing_another_put_keeps_both_versions_and_answers_200(staff_api):
    require_postgresql()
    Policy.objects.create(name="saas").add_version(POLICY, None)
    ready, release = threading.Event(), threading.Event()
    holder = start(
        _paused_in_transaction(
            lambda: Policy.objects.get(name="saas").add_version(POLICY, None), ready, release
        )
    )
    assert ready.wait(30)
    put = start(lambda: staff_api.put("/api/v1/policies/saas", {"document": POLICY}, format="json"))
    wait_for_lock_waiters(1)
    release.set()
    holder.outcome()
    assert put.outcome().status_code == 200
    assert sorted(Policy.objects.get(name="saas").versions.values_list("version", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize("other", ["saas", "SaaS"])
def test_a_policy_created_twice_at_once_is_one_policy_and_a_409(staff_api, other):
    """Both creations pass the name check before either commits. The same name broke the unique
    index (a 500); names differing in case both went in, two policies a check could not tell
    apart. Now the database refuses the second and the API answers 409 ``policy-exists``."""
    require_postgresql()
    ready, release = threading.Event(), threading.Event()
    holder = start(_paused_in_transaction(lambda: Policy.objects.create(name="saas"), ready, release))
    assert ready.wait(30)
    post = start(
        lambda: staff_api.post("/api/v1/policies", {"document": {**POLICY, "name": other}}, format="json")
    )
    wait_for_lock_waiters(1)  # the second insert waits on the first's index entry
    release.set()
    holder.outcome()
    answer = post.outcome()
    assert answer.status_code == 409, answer.content
    assert answer.json()["error"]["code"] == "policy-exists"
    assert list(Policy.objects.values_list("name", flat=True)) == ["saas"]


FINDING = {"rule": "missing-license", "severity": "error", "message": "no licence", "evidence": []}


@pytest.fixture
def reviewer():
    return get_user_model().objects.create_user("reviewer", is_superuser=True)


@pytest.fixture
def repository():
    from hub.models import Namespace, Repository

    namespace = Namespace.objects.create(name="org", kind=Namespace.Kind.ORG)
    return Repository.objects.create(namespace=namespace, name="model")


def _violation(repository, rule: str, status: str = "open"):
    from licenses.models import Violation

    return Violation.objects.create(
        repository=repository, rule=rule, severity="warning", message=rule, evidence_hash=rule, status=status
    )


@pytest.mark.parametrize("second", ["false_positive", "acknowledged"])
def test_a_triage_racing_another_records_the_status_it_really_changed(repository, reviewer, second):
    """The API and the web queue triage one violation at once, both having read it open. The
    second used to record "open → …" too (a history with two changes from one status), and the
    same status twice was two events; it now starts from the status the first left."""
    require_postgresql()
    from licenses.models import Violation, ViolationEvent
    from licenses.services.violations import refresh_open_violations, set_violation_status

    violation = _violation(repository, "r")
    refresh_open_violations([repository.pk])
    read_by_second = Violation.objects.get(pk=violation.pk)  # the web queue's page, read before
    ready, release = threading.Event(), threading.Event()
    first = start(
        _paused_in_transaction(
            lambda: set_violation_status([violation], "acknowledged", reviewer, "seen"), ready, release
        )
    )
    assert ready.wait(30)
    other = start(lambda: set_violation_status([read_by_second], second, reviewer, "why"))
    wait_for_lock_waiters(1)
    release.set()
    first.outcome()
    other.outcome()
    events = list(ViolationEvent.objects.filter(violation=violation).values_list("from_status", "to_status"))
    if second == "acknowledged":
        assert events == [("open", "acknowledged")]
    else:
        assert events == [("open", "acknowledged"), ("acknowledged", "false_positive")]
    assert Violation.objects.get(pk=violation.pk).status == second


def test_two_triages_of_one_repository_at_once_keep_its_open_count_right(repository, reviewer):
    """One reviewer reopens a violation while another acknowledges a second one of the same model.
    Each recount of ``open_violations`` ran without the other's change: the model showed 0 open
    violations with one open, and the compliance check (which looks violations up only where the
    count is positive) and the catalogue's "has open violations" filter skipped it."""
    require_postgresql()
    from hub.models import Repository
    from licenses.services.violations import refresh_open_violations, set_violation_status

    reopened = _violation(repository, "a", status="acknowledged")
    acknowledged = _violation(repository, "b")
    refresh_open_violations([repository.pk])
    ready, release = threading.Event(), threading.Event()
    first = start(
        _paused_in_transaction(lambda: set_violation_status([reopened], "open", reviewer, ""), ready, release)
    )
    assert ready.wait(30)
    other = start(lambda: set_violation_status([acknowledged], "acknowledged", reviewer, "fine"))
    wait_for_lock_waiters(1)
    release.set()
    first.outcome()
    other.outcome()
    assert Repository.objects.get(pk=repository.pk).open_violations == 1


def test_two_first_syncs_of_one_repository_store_each_finding_once(repository):
    """The same revision's analysis delivered twice (at-least-once), or an analysis and a
    re-evaluation chunk, store a repository's first findings at once. Both saw no rows and both
    inserted: the second hit the unique key, failing the analysis' receiver or, for a chunk, the
    re-evaluation of every repository in it."""
    require_postgresql()
    from licenses.models import Violation, ViolationEvent
    from licenses.services.violations import sync_violations

    ready, release = threading.Event(), threading.Event()
    first = start(
        _paused_in_transaction(lambda: sync_violations(repository, None, [FINDING]), ready, release)
    )
    assert ready.wait(30)
    second = start(lambda: sync_violations(repository, None, [FINDING]))
    wait_for_lock_waiters(1)
    release.set()
    assert len(first.outcome().opened) == 1
    assert second.outcome().opened == []
    assert Violation.objects.filter(repository=repository).count() == 1
    assert ViolationEvent.objects.filter(violation__repository=repository).count() == 1


def test_an_analysis_overtaken_by_a_newer_one_does_not_write_its_findings(monkeypatch):
    """Two workers finish analyses of two commits one after the other; the older's receiver runs
    after the newer's (the receivers run outside the analysis' lock). The older findings and
    lineage used to be written last: the violation queue and the graph described a revision that
    was no longer the head. Forced here by running the newer commit's whole analysis between the
    older one being stored and its receiver."""
    import hub.tasks
    from hub.models import Repository
    from licenses.models import LineageEdge, Violation
    from tests.hub.conftest import make_repo

    owner = get_user_model().objects.create_user("owner")
    monkeypatch.setattr("workers.enqueue.send_on_commit", lambda *args, **kwargs: None)
    repo = make_repo(owner, "m", {"README.md": b"---\nbase_model: org/old-parent\n---\n# m\n"})
    older = repo.head_id
    newer_card = b"---\nlicense: mit\nbase_model: org/new-parent\n---\n# m\n"
    real_signal = hub.tasks.revision_analysed

    class NewerFirst:
        """``revision_analysed`` whose first sending runs the newer commit's analysis before it."""

        sent = False

        def send_robust(self, **kwargs):
            if not self.sent:
                self.sent = True
                make_commit(repo, newer_card)
                hub.tasks.analyze_revision(Repository.objects.get(pk=repo.pk).head_id)
            return real_signal.send_robust(**kwargs)

    def make_commit(repo, card):
        from hub.services.blobs import store_small
        from hub.services.commits import AddFile, CommitRequest, create_commit

        stored = store_small(card, 1 << 20)
        op = AddFile("README.md", stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid)
        create_commit(repo, "main", CommitRequest(title="relicense", operations=[op]), author=owner)

    monkeypatch.setattr(hub.tasks, "revision_analysed", NewerFirst())
    hub.tasks.analyze_revision(older)
    repo.refresh_from_db()
    assert repo.head_id != older and repo.latest_analysis.commit_id == repo.head_id
    open_rules = set(Violation.objects.filter(repository=repo, status="open").values_list("rule", flat=True))
    assert "missing-license" not in open_rules  # the head declares mit
    assert list(LineageEdge.objects.filter(child=repo).values_list("parent_ref", flat=True)) == [
        "org/new-parent"
    ]


def test_a_parent_relicensed_during_its_childs_first_analysis_is_seen_by_the_child(monkeypatch):
    """A child's first analysis reads its parent's licence, and before it stores its result the
    parent is relicensed non-commercial. The parent's re-evaluation walks the lineage edges, which
    the child's analysis has not recorded yet: it never saw the child, and the child stored what the
    parent was. The child passed with a non-commercial parent until its next commit. Forced here
    by relicensing the parent (eager tasks: its analysis and re-evaluation happen right there)
    between the child's engine call and its store."""
    import licenses.engine.analyze as engine
    from hub.models import Repository
    from licenses.models import Violation
    from tests.hub.conftest import make_repo

    owner = get_user_model().objects.create_user("owner")
    parent = make_repo(owner, "base", {"README.md": b"---\nlicense: apache-2.0\n---\n# base\n"})
    with monkeypatch.context() as no_tasks:
        no_tasks.setattr("workers.enqueue.send_on_commit", lambda *args, **kwargs: None)
        child = make_repo(
            owner, "tuned", {"README.md": b"---\nlicense: apache-2.0\nbase_model: owner/base\n---\n"}
        )
    real = engine.analyze_snapshot
    relicensed = []

    def engine_then_relicense(snapshot, **kwargs):
        result = real(snapshot, **kwargs)
        if snapshot.id == "owner/tuned" and not relicensed:
            relicensed.append(True)
            _commit_card(parent, owner, b"---\nlicense: cc-by-nc-4.0\n---\n# base\n")  # analysed at once
        return result

    monkeypatch.setattr(engine, "analyze_snapshot", engine_then_relicense)
    import hub.tasks

    hub.tasks.analyze_revision(Repository.objects.get(pk=child.pk).head_id)
    assert relicensed
    child.refresh_from_db()
    assert child.latest_analysis.commit_id == child.head_id
    rules = [v["rule"] for v in child.latest_analysis.result["violations"]]
    assert "relicensed-derivative" in rules
    assert Violation.objects.filter(repository=child, rule="relicensed-derivative", status="open").exists()


def _commit_card(repo, author, card: bytes) -> None:
    from django.test import TestCase

    from hub.services.blobs import store_small
    from hub.services.commits import AddFile, CommitRequest, create_commit

    stored = store_small(card, 1 << 20)
    op = AddFile("README.md", stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid)
    with TestCase.captureOnCommitCallbacks(execute=True):
        create_commit(repo, "main", CommitRequest(title="card", operations=[op]), author=author)


def test_a_run_that_started_earlier_does_not_store_over_one_that_started_later(monkeypatch):
    """Two runs of one revision overlap (a message delivered twice, a dataset's relicensing sending
    its models to analysis while one runs): the later one read the later data. The earlier one,
    finishing last, stored its result over the later one's. Forced by running the whole second run
    between the first one's engine call and its store; each run marks its result."""
    import hub.tasks
    import licenses.engine.analyze as engine
    from hub.models import RevisionAnalysis
    from tests.hub.conftest import make_repo

    owner = get_user_model().objects.create_user("owner")
    with monkeypatch.context() as no_tasks:
        no_tasks.setattr("workers.enqueue.send_on_commit", lambda *args, **kwargs: None)
        repo = make_repo(owner, "m", {"README.md": b"---\nlicense: mit\n---\n# m\n"})
    real = engine.analyze_snapshot
    runs = []

    def marked(snapshot, **kwargs):
        runs.append(len(runs) + 1)
        run = runs[-1]
        result = real(snapshot, **kwargs)
        if run == 1:
            assert hub.tasks.analyze_revision(repo.head_id) == "done"  # the second run, whole
        return {**result, "run": run}

    monkeypatch.setattr(engine, "analyze_snapshot", marked)
    assert hub.tasks.analyze_revision(repo.head_id) == "superseded"
    assert RevisionAnalysis.objects.get(commit_id=repo.head_id).result["run"] == 2
