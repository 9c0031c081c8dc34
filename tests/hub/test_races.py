"""Races between requests on one repository, forced on PostgreSQL (``tests.races``).

Production runs several web processes and several workers against one database: two requests
on one repository interleave at whatever point the scheduler picks. Each test here fixes the
interleaving that used to go wrong (a 500, a deadlock, a branch brought back without its
history) and checks the outcome a client would expect from running the two one after the other.
"""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from hub.models import Commit, Namespace, Ref, RepoFile, Repository
from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, create_commit
from hub.services.errors import RepoNotFound, RevisionNotFound
from hub.services.refs import create_ref, delete_ref
from tests.hub.conftest import make_repo
from tests.races import require_postgresql, start, wait_for_lock_waiters

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _add(path: str, content: bytes) -> CommitRequest:
    stored = store_small(content, 1 << 20)
    return CommitRequest(
        title=f"add {path}",
        operations=[AddFile(path, stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid)],
    )


@pytest.fixture
def no_analysis(monkeypatch):
    """Commits here enqueue no analysis: the race under test is the commit's own transaction (the
    in-process task would run in the committing thread and add a third party to the race)."""
    monkeypatch.setattr("workers.enqueue.send_on_commit", lambda *args, **kwargs: None)


def test_a_commit_that_waited_for_a_deletion_of_its_repository_is_a_404(fs_store, alice, no_analysis):
    """The commit reaches the repository's lock while a deletion holds it; the deletion commits.
    The commit then finds no repository: RepoNotFound (404), not ``DoesNotExist`` (a 500)."""
    require_postgresql()
    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    request = _add("a.txt", b"a")
    with transaction.atomic():
        Repository.objects.select_for_update().get(pk=repo.pk)  # as the deletion's first step
        committer = start(lambda: create_commit(repo, "main", request, author=alice))
        wait_for_lock_waiters(1)
        Repository.objects.get(pk=repo.pk).delete()
    with pytest.raises(RepoNotFound):
        committer.outcome()
    assert not Repository.objects.filter(pk=repo.pk).exists()


def test_deleting_a_repository_while_a_commit_is_in_flight_does_not_deadlock(
    fs_store, alice, no_analysis, monkeypatch
):
    """The commit holds the repository's lock and is about to move its branch when the deletion
    starts. The deletion used to take the branch rows, then wait for the repository row: each
    waited for the other and PostgreSQL aborted one ("deadlock detected", a 503). Now the deletion
    waits for the commit, then deletes everything, the new commit included."""
    require_postgresql()
    from hub.services import commits

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    request = _add("a.txt", b"a")
    locked, release = threading.Event(), threading.Event()
    real_hold = commits._hold_named_content

    def paused(shas):  # runs inside the commit's transaction, right after the repository lock
        locked.set()
        assert release.wait(30)
        return real_hold(shas)

    monkeypatch.setattr(commits, "_hold_named_content", paused)
    committer = start(lambda: create_commit(repo, "main", request, author=alice))
    assert locked.wait(30)
    deleter = start(lambda: Repository.objects.get(pk=repo.pk).delete())
    wait_for_lock_waiters(1)  # the deletion waits for the commit
    release.set()
    assert committer.outcome().sha
    deleted, _ = deleter.outcome()
    assert deleted
    assert not Repository.objects.filter(pk=repo.pk).exists()
    assert not Commit.objects.filter(repository_id=repo.pk).exists()


def test_a_commit_to_a_branch_deleted_meanwhile_does_not_bring_it_back(fs_store, alice, no_analysis):
    """The Hub API checks that the branch exists, then the commit waits for the repository's lock;
    meanwhile the branch is deleted. The commit used to create the branch again from nothing,
    holding only its own files (the branch's history and other files silently gone). It is now
    refused as the Hub refuses a commit to a missing branch, and the branch stays deleted."""
    require_postgresql()
    repo = make_repo(alice, "m", {"README.md": b"# m\n", "keep.txt": b"kept"})
    create_ref(repo, Ref.Kind.BRANCH, "dev", "main")
    request = _add("new.txt", b"new")
    with transaction.atomic():
        Repository.objects.select_for_update().get(pk=repo.pk)  # a commit in flight holds it
        committer = start(lambda: create_commit(repo, "dev", request, author=alice, existing_branch=True))
        wait_for_lock_waiters(1)
        Ref.objects.filter(repository=repo, kind=Ref.Kind.BRANCH, name="dev").delete()
    with pytest.raises(RevisionNotFound):
        committer.outcome()
    assert not Ref.objects.filter(repository=repo, name="dev").exists()
    assert not RepoFile.objects.filter(commit__repository=repo, path="new.txt").exists()


def test_a_branch_deletion_waits_for_a_commit_in_flight(fs_store, alice, no_analysis, monkeypatch):
    """The other order: the commit holds the repository's lock when the deletion arrives. The
    deletion waits and then deletes the branch with the new commit on it, as if the two had run
    one after the other; before, it went ahead under the commit, which then either recreated the
    branch from nothing or moved a branch row that no longer existed (an acknowledged commit on
    no branch)."""
    require_postgresql()
    from hub.services import commits

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    create_ref(repo, Ref.Kind.BRANCH, "dev", "main")
    request = _add("new.txt", b"new")
    locked, release = threading.Event(), threading.Event()
    real_hold = commits._hold_named_content

    def paused(shas):
        locked.set()
        assert release.wait(30)
        return real_hold(shas)

    monkeypatch.setattr(commits, "_hold_named_content", paused)
    committer = start(lambda: create_commit(repo, "dev", request, author=alice, existing_branch=True))
    assert locked.wait(30)
    deleter = start(lambda: delete_ref(repo, Ref.Kind.BRANCH, "dev"))
    wait_for_lock_waiters(1)
    release.set()
    commit = committer.outcome()
    deleter.outcome()
    assert not Ref.objects.filter(repository=repo, name="dev").exists()
    assert Commit.objects.filter(pk=commit.pk).exists()


def test_an_analysis_finishing_while_its_repository_is_deleted_does_not_deadlock(
    fs_store, alice, no_analysis
):
    """The deletion holds the repository's lock and is about to delete the revision's rows when
    the analysis finishes. The analysis saved its row first and then waited for the repository,
    while the deletion waited for that row: PostgreSQL aborted one (the task failed with
    "deadlock detected"). The analysis now waits for the repository first and ends as missing."""
    require_postgresql()
    from django.db.models.signals import pre_delete

    import hub.tasks

    repo = make_repo(alice, "m", {"README.md": b"---\nlicense: mit\n---\n# m\n"})
    head = repo.head_id
    locked, release = threading.Event(), threading.Event()

    def paused(sender, instance, **kwargs):  # inside the deletion, the repository's row locked
        if instance.pk == repo.pk:
            locked.set()
            assert release.wait(30)

    pre_delete.connect(paused, sender=Repository, dispatch_uid="test-paused-deletion")
    try:
        deleter = start(lambda: Repository.objects.get(pk=repo.pk).delete())
        assert locked.wait(30)
        analysis = start(lambda: hub.tasks.analyze_revision(head))
        wait_for_lock_waiters(1)  # the analysis waits for the repository
        release.set()
        assert deleter.outcome()[0]
        assert analysis.outcome() == "missing"
    finally:
        pre_delete.disconnect(dispatch_uid="test-paused-deletion", sender=Repository)
    assert not Commit.objects.filter(pk=head).exists()


def _pull_request(alice):
    from hub.services.discussions import commit_as_new_pull_request

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    return commit_as_new_pull_request(repo, "main", _add("pr.txt", b"proposed"), alice)[0]


def _paused_merge(monkeypatch, locked: threading.Event, release: threading.Event) -> None:
    """The first merge pauses inside its transaction, after saving "merged", before it commits."""
    from hub.services import merge

    real_event = merge.add_event

    def paused(disc, kind, author, data):
        event = real_event(disc, kind, author, data)
        if not locked.is_set():
            locked.set()
            assert release.wait(30)
        return event

    monkeypatch.setattr(merge, "add_event", paused)


def test_closing_a_pull_request_while_it_is_merged_leaves_it_merged(
    fs_store, alice, no_analysis, monkeypatch
):
    """The close had checked "not merged" before the merge committed, then saved "closed" over
    "merged": a pull request whose changes are on main showed as closed (merged is final)."""
    require_postgresql()
    from hub.models import Discussion
    from hub.services import merge
    from hub.services.discussions import change_status
    from hub.services.errors import Conflict

    disc = _pull_request(alice)
    stale = Discussion.objects.get(pk=disc.pk)  # the close request's read, before the merge
    locked, release = threading.Event(), threading.Event()
    _paused_merge(monkeypatch, locked, release)
    merger = start(lambda: merge.merge(Discussion.objects.get(pk=disc.pk), alice))
    assert locked.wait(30)
    closer = start(lambda: change_status(stale, "closed", alice))
    wait_for_lock_waiters(1)
    release.set()
    assert merger.outcome() is not None
    with pytest.raises(Conflict, match="merged"):
        closer.outcome()
    assert Discussion.objects.get(pk=disc.pk).status == Discussion.Status.MERGED


def test_a_pull_request_merged_twice_at_once_is_merged_once(fs_store, alice, no_analysis, monkeypatch):
    """The second merge read the pull request open; it then failed with the commit's "parentCommit
    … pull and retry" (412, for a pull request that needed nothing but was merged), or, when the
    target already held the changes, recorded a second "merged" event. Now it is the 409 "is
    merged" a merge after the first gets."""
    require_postgresql()
    from hub.models import Discussion, DiscussionEvent
    from hub.services import merge
    from hub.services.errors import Conflict

    disc = _pull_request(alice)
    stale = Discussion.objects.get(pk=disc.pk)
    locked, release = threading.Event(), threading.Event()
    _paused_merge(monkeypatch, locked, release)
    first = start(lambda: merge.merge(Discussion.objects.get(pk=disc.pk), alice))
    assert locked.wait(30)
    second = start(lambda: merge.merge(stale, alice))
    wait_for_lock_waiters(1)
    release.set()
    assert first.outcome() is not None
    with pytest.raises(Conflict, match="is merged"):
        second.outcome()
    merged_events = DiscussionEvent.objects.filter(discussion=disc, data__status="merged")
    assert merged_events.count() == 1


def test_a_push_to_a_pull_request_being_merged_is_refused(fs_store, alice, no_analysis, monkeypatch):
    """The push had checked "open" before the merge committed, then landed on ``refs/pr/N`` after
    it: the client was told its change was pushed to a pull request already merged without it."""
    require_postgresql()
    from hub.models import Discussion
    from hub.services import merge
    from hub.services.discussions import push_to_pull_request
    from hub.services.errors import Conflict

    disc = _pull_request(alice)
    stale = Discussion.objects.select_related("repository").get(pk=disc.pk)
    request = _add("late.txt", b"pushed while merging")
    locked, release = threading.Event(), threading.Event()
    _paused_merge(monkeypatch, locked, release)
    merger = start(lambda: merge.merge(Discussion.objects.get(pk=disc.pk), alice))
    assert locked.wait(30)
    pusher = start(lambda: push_to_pull_request(stale.repository, stale, request, alice))
    wait_for_lock_waiters(1)
    release.set()
    merger.outcome()
    with pytest.raises(Conflict, match="merged"):
        pusher.outcome()
    assert not RepoFile.objects.filter(path="late.txt").exists()


def test_two_visibility_changes_at_once_each_announce_theirs(fs_store, alice, no_analysis):
    """Made private, and public again by another request before the first committed: the second
    read the stored visibility unlocked (still public), saw no change and sent nothing. The
    descendants' re-evaluation ran only for the first (private), and they stayed judged as
    children of a model they could not see although it was public again."""
    require_postgresql()
    from hub.signals import visibility_changed

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    seen: list[bool] = []

    def record(sender, repository, **kwargs):
        seen.append(repository.private)

    visibility_changed.connect(record, dispatch_uid="test-visibility-record")
    try:
        ready, release = threading.Event(), threading.Event()

        def make_private():
            with transaction.atomic():
                private = Repository.objects.get(pk=repo.pk)
                private.private = True
                private.save(update_fields=["private"])
                ready.set()
                assert release.wait(30)

        first = start(make_private)
        assert ready.wait(30)
        public = Repository.objects.get(pk=repo.pk)  # read before the first commits: public
        public.private = False
        second = start(lambda: public.save(update_fields=["private"]))
        wait_for_lock_waiters(1)
        release.set()
        first.outcome()
        second.outcome()
    finally:
        visibility_changed.disconnect(dispatch_uid="test-visibility-record")
    assert seen == [True, False]
    assert Repository.objects.get(pk=repo.pk).private is False


@pytest.mark.parametrize("route", ["namespace", "namespaces", "queryset"])
def test_a_cascaded_or_bulk_deletion_while_a_commit_is_in_flight_does_not_deadlock(
    fs_store, alice, no_analysis, monkeypatch, route
):
    """As above, by the routes that never call ``Repository.delete``: the owner's namespace deleted
    (admin, or its user's deletion cascading) and the admin's bulk "delete selected" (a queryset
    delete). The collector took the branch and file rows first and the repository row last, and
    deadlocked with the commit holding it. Every route now takes the repository's lock first."""
    require_postgresql()
    from hub.services import commits

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    request = _add("a.txt", b"a")
    locked, release = threading.Event(), threading.Event()
    real_hold = commits._hold_named_content

    def paused(shas):  # runs inside the commit's transaction, right after the repository lock
        locked.set()
        assert release.wait(30)
        return real_hold(shas)

    def delete() -> None:
        if route == "namespace":
            Namespace.objects.get(pk=repo.namespace_id).delete()
        elif route == "namespaces":
            Namespace.objects.filter(pk=repo.namespace_id).delete()
        else:
            Repository.objects.filter(pk=repo.pk).delete()

    monkeypatch.setattr(commits, "_hold_named_content", paused)
    committer = start(lambda: create_commit(repo, "main", request, author=alice))
    assert locked.wait(30)
    deleter = start(delete)
    wait_for_lock_waiters(1)  # the deletion waits for the commit
    release.set()
    assert committer.outcome().sha
    deleter.outcome()
    assert not Repository.objects.filter(pk=repo.pk).exists()
    assert not Commit.objects.filter(repository_id=repo.pk).exists()


def test_a_users_deletion_while_a_commit_is_in_flight_does_not_deadlock(
    fs_store, alice, no_analysis, monkeypatch
):
    """A user's deletion cascades to its namespace and repositories without passing through their
    ``delete``: its collector has read what to delete before anything can be locked. It used to
    deadlock with the commit (PostgreSQL aborted one of the two at random). The collector now waits
    for the repository's row before its first write: the commit lands, and the deletion, which did
    not collect the new commit, fails cleanly (nothing deleted) rather than deadlock."""
    require_postgresql()
    from django.db import IntegrityError

    from hub.services import commits

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    request = _add("a.txt", b"a")
    locked, release = threading.Event(), threading.Event()
    real_hold = commits._hold_named_content

    def paused(shas):
        locked.set()
        assert release.wait(30)
        return real_hold(shas)

    monkeypatch.setattr(commits, "_hold_named_content", paused)
    committer = start(lambda: create_commit(repo, "main", request, author=alice))
    assert locked.wait(30)
    deleter = start(lambda: type(alice).objects.get(pk=alice.pk).delete())
    wait_for_lock_waiters(1)
    release.set()
    assert committer.outcome().sha
    try:
        deleter.outcome()
    except IntegrityError:  # the commit it did not collect: nothing was deleted
        assert Repository.objects.filter(pk=repo.pk).exists()
    type(alice).objects.get(pk=alice.pk).delete()  # again, now that nothing is in flight
    assert not Repository.objects.filter(pk=repo.pk).exists()
