"""The task outbox (``workers.enqueue``): the row, the send after COMMIT, and the sweep.

Tasks go to kombu's in-memory broker (a send that succeeds, readable back) or to a port nobody
listens on (a send that fails with the broker's own error), not eagerly; in-process mode is
checked to write nothing, as before the outbox.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from tests.hardening.test_broker_outage_followups import take
from tests.services import free_port
from workers import enqueue
from workers.celery import app
from workers.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

ran: list[tuple] = []


@app.task(name="tests.outbox.noted")
def noted(*args, **kwargs) -> None:
    """A task that only notes that it ran (in-process mode runs it)."""
    ran.append((args, kwargs))


@pytest.fixture
def broker(broker_at):
    """Sends go to the in-memory broker; ``broker.down()`` points them at a closed port instead."""

    class Broker:
        def up(self) -> None:
            broker_at("memory://")
            app.conf.result_backend = None

        def down(self) -> None:
            broker_at(f"redis://127.0.0.1:{free_port()}/0")

        def messages(self) -> list[tuple[str, list, dict]]:
            return take(app)

    broker = Broker()
    broker.up()
    take(app)  # the in-memory queue is per process: start empty
    yield broker
    broker.up()
    take(app)


def old_row(*args, seconds: int = 3600, **kwargs) -> OutboxMessage:
    """A row whose send never happened (its process died after COMMIT), ``seconds`` ago."""
    return OutboxMessage.objects.create(
        task=noted.name, args=list(args), kwargs=kwargs, dedupe_key=enqueue.dedupe_key(noted.name, list(args), kwargs),
        created_at=timezone.now() - timedelta(seconds=seconds),
    )  # fmt: skip


def test_in_process_mode_writes_no_row_and_runs_the_task_after_commit():
    assert app.conf.task_always_eager  # the suite's (and the embedded default's) mode
    ran.clear()
    with transaction.atomic():
        enqueue.enqueue_on_commit(noted, 1, flag=True)
        assert ran == []  # not before COMMIT
        assert not OutboxMessage.objects.exists()
    assert ran == [((1,), {"flag": True})]
    assert not OutboxMessage.objects.exists()


def test_the_row_is_written_in_the_transaction_and_deleted_once_the_broker_took_the_task(broker):
    with transaction.atomic():
        enqueue.enqueue_on_commit(noted, 7, "x", flag=True)
        row = OutboxMessage.objects.get()  # in the same transaction as the change that needs it
        assert (row.task, row.args, row.kwargs, row.attempts) == (noted.name, [7, "x"], {"flag": True}, 0)
        assert broker.messages() == []  # nothing sent before COMMIT
    assert broker.messages() == [(noted.name, [7, "x"], {"flag": True})]
    assert not OutboxMessage.objects.exists()


def test_a_rolled_back_transaction_leaves_neither_row_nor_message(broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue.enqueue_on_commit(noted, 1)
        raise RuntimeError("the change failed")
    with transaction.atomic():
        enqueue.enqueue_on_commit(noted, 2)
        try:
            with transaction.atomic():  # a savepoint rolled back takes its row and its send along
                enqueue.enqueue_on_commit(noted, 3)
                raise RuntimeError
        except RuntimeError:
            pass
    assert broker.messages() == [(noted.name, [2], {})]
    assert not OutboxMessage.objects.exists()


def test_outside_a_transaction_the_row_is_committed_and_sent_at_once(broker):
    enqueue.enqueue_on_commit(noted, 5)
    assert broker.messages() == [(noted.name, [5], {})]
    assert not OutboxMessage.objects.exists()


def test_a_failed_send_keeps_the_row_with_its_error_and_does_not_fail_the_commit(broker, caplog):
    broker.down()
    with transaction.atomic():
        enqueue.enqueue_on_commit(noted, 9)  # the COMMIT succeeds: the data landed
    row = OutboxMessage.objects.get()
    assert row.args == [9] and row.attempts == 1
    assert "OperationalError" in row.last_error and "refused" in row.last_error
    assert "not sent" in caplog.text


def test_the_sweep_sends_failed_rows_at_once_and_unsent_rows_after_the_grace_period(broker):
    broker.down()
    enqueue.enqueue_on_commit(noted, "failed")  # its send failed a moment ago
    broker.up()
    old_row("died", seconds=3600)  # its process died before sending, an hour ago
    young = old_row("in flight", seconds=1)  # its process may be sending it right now
    assert enqueue.send_outbox(grace_seconds=60) == 2
    assert sorted(m[1][0] for m in broker.messages()) == ["died", "failed"]
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [young.pk]
    assert enqueue.send_outbox(grace_seconds=60) == 0  # nothing sent twice
    assert broker.messages() == []


def test_the_sweep_is_bounded_by_its_batch_oldest_first(broker):
    for i in range(7):
        old_row(i, seconds=3600 - i)
    assert enqueue.send_outbox(batch=3) == 3
    assert [m[1] for m in broker.messages()] == [[0], [1], [2]]
    assert sorted(OutboxMessage.objects.values_list("args", flat=True)) == [[3], [4], [5], [6]]
    assert enqueue.send_outbox(batch=3) == 3
    assert enqueue.send_outbox(batch=3) == 1
    assert enqueue.send_outbox(batch=3) == 0
    assert [m[1] for m in broker.messages()] == [[3], [4], [5], [6]]


def test_the_sweep_sends_one_run_for_rows_asking_for_the_same_one(broker):
    """Two changes each queued ``reevaluate_descendants`` of one repository: both committed, one run
    after them both does what the two would."""
    old_row("base/model")
    old_row("other/model")
    old_row("base/model")
    old_row("base/model", seconds=7200, depth=2)  # other arguments: another run
    assert enqueue.send_outbox() == 3
    assert sorted(((m[1][0], m[2]) for m in broker.messages()), key=repr) == [
        ("base/model", {"depth": 2}),
        ("base/model", {}),
        ("other/model", {}),
    ]
    assert not OutboxMessage.objects.exists()


def test_the_sweep_stops_at_the_first_failed_send_and_keeps_every_row(broker):
    rows = [old_row(i) for i in range(3)]
    broker.down()
    assert enqueue.send_outbox() == 0
    attempts = dict(OutboxMessage.objects.values_list("pk", "attempts"))
    assert attempts == {rows[0].pk: 1, rows[1].pk: 0, rows[2].pk: 0}  # one timeout per sweep, not per row
    broker.up()
    assert enqueue.send_outbox() == 3
    assert [m[1] for m in broker.messages()] == [[0], [1], [2]]
    assert not OutboxMessage.objects.exists()


def test_a_row_naming_an_unknown_task_is_kept_and_the_others_are_sent(broker, caplog):
    OutboxMessage.objects.create(
        task="tests.outbox.gone", args=[], kwargs={}, dedupe_key="gone",
        created_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    old_row("kept going")
    assert enqueue.send_outbox() == 1
    assert broker.messages() == [(noted.name, ["kept going"], {})]
    gone = OutboxMessage.objects.get()
    assert gone.task == "tests.outbox.gone" and gone.attempts == 1 and "no task named" in gone.last_error
    assert "unknown task" in caplog.text


def test_rows_naming_unknown_tasks_do_not_fill_the_sweeps_batch(broker, caplog):
    """Oldest first, rows no process can send would take every batch: nothing else sent, for good."""
    for i in range(3):
        OutboxMessage.objects.create(
            task="tests.outbox.gone", args=[i], kwargs={}, dedupe_key=f"gone{i}",
            created_at=timezone.now() - timedelta(hours=2),
        )  # fmt: skip
    old_row("behind them")
    assert enqueue.send_outbox(batch=2) == 1
    assert broker.messages() == [(noted.name, ["behind them"], {})]
    assert enqueue.send_outbox(batch=2) == 0
    assert sorted(OutboxMessage.objects.values_list("attempts", flat=True)) == [1, 1, 1]  # marked once
    assert caplog.text.count("unknown task") == 1


def test_the_sweep_sends_no_task_inside_a_database_transaction(broker, monkeypatch):
    """A broker round trip never holds a transaction (or the rows it locked) open."""
    inside: list[bool] = []
    real = enqueue.send

    def watched(task, args, kwargs, on_failure=None, **options):
        inside.append(transaction.get_connection().in_atomic_block)
        return real(task, args, kwargs, on_failure, **options)

    monkeypatch.setattr(enqueue, "send", watched)
    old_row("a")
    old_row("b")
    assert enqueue.send_outbox() == 2
    assert inside == [False, False]


def test_a_write_committed_while_the_sweep_sends_neither_fails_nor_makes_it_send_again(broker, monkeypatch):
    """Requests keep committing (outbox rows among their writes) while a sweep sends. On SQLite the
    sweep's transaction, held across its sends, made one of the two fail ("database is locked"): the
    other writer, or the sweep's final delete, which left every task it had sent to be sent again."""
    real = enqueue.send
    written: list[BaseException | None] = []

    def send_while_someone_commits(task, args, kwargs, on_failure=None, **options):
        ok = real(task, args, kwargs, on_failure, **options)

        def request() -> None:
            try:
                with transaction.atomic():
                    OutboxMessage.objects.create(task=noted.name, args=["new"], kwargs={}, dedupe_key="new")
                written.append(None)
            except BaseException as exc:
                written.append(exc)
            finally:
                connections.close_all()

        other = threading.Thread(target=request)
        other.start()
        other.join(30)
        return ok

    monkeypatch.setattr(enqueue, "send", send_while_someone_commits)
    old_row("sent once")
    assert enqueue.send_outbox() == 1
    assert written == [None]
    assert [m[1] for m in broker.messages()] == [["sent once"]]
    assert list(OutboxMessage.objects.values_list("args", flat=True)) == [["new"]]  # young: not due yet
    monkeypatch.setattr(enqueue, "send", real)
    assert enqueue.send_outbox() == 0
    assert broker.messages() == []


def test_the_beat_schedule_runs_the_sweep():
    from django.conf import settings

    entries = {e["task"]: e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["workers.send_outbox"]["schedule"] == 60.0
    app.loader.import_default_modules()
    assert "workers.send_outbox" in app.tasks


def test_a_receiver_failing_in_the_analysis_transaction_does_not_lose_the_analysis(caplog):
    """The receivers of ``revision_analysed`` run inside the transaction that stores the analysis,
    so their outbox rows commit with it; one that fails, even with a database error (which aborts a
    PostgreSQL transaction), has its writes undone in a savepoint and the analysis still commits."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from hub.auth import Caller
    from hub.models import RevisionAnalysis
    from hub.signals import revision_analysed
    from tests.licenses.test_reevaluation_batch import card, make

    def broken(sender, **kwargs) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    revision_analysed.connect(broken, dispatch_uid="tests.outbox.broken")
    try:
        caller = Caller(get_user_model().objects.create_user("owner", is_superuser=True))
        repo = make(caller, "org/receiver-fails", card("apache-2.0"))
    finally:
        revision_analysed.disconnect(dispatch_uid="tests.outbox.broken")
    repo.refresh_from_db()
    analysis = repo.latest_analysis
    assert analysis is not None and analysis.status == RevisionAnalysis.Status.DONE
    assert analysis.license_key == "apache-2.0"
    assert "revision_analysed receiver" in caplog.text and "no_such_table" in caplog.text


def test_a_visibility_change_commits_with_its_outbox_row_or_not_at_all(broker, monkeypatch):
    """Making a parent private needs its descendants re-judged: if that row cannot be written, the
    change must not land without it (before, the change committed and the work was then lost)."""
    from django.db import DatabaseError

    from hub.models import Repository
    from tests.licenses.factories import analysed_model

    repo = analysed_model("base/visible", "apache-2.0", "osi-permissive", "yes")

    def refuse(self, *args, **kwargs):
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(OutboxMessage, "save", refuse)
    repo.private = True
    with pytest.raises(DatabaseError):
        repo.save(update_fields=["private"])
    assert Repository.objects.get(pk=repo.pk).private is False
    assert broker.messages() == []


def test_staff_see_the_rows_waiting_in_the_admin(admin_client):
    old_row("base/model")
    page = admin_client.get("/admin/workers/outboxmessage/")
    assert page.status_code == 200
    assert b"tests.outbox.noted" in page.content
