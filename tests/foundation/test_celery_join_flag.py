"""The suite's guard against Celery's process-wide "inside a task" flag leaking between tests."""

from __future__ import annotations

import threading

from celery import Celery
from celery._state import task_join_will_block


def _eager_app() -> Celery:
    app = Celery("join-flag-test", set_as_current=False)
    app.conf.task_always_eager = True
    return app


def test_overlapping_eager_tasks_in_threads_can_leave_the_flag_set():
    """Why tests/conftest.py clears the flag: Celery restores it per call, not per thread, so a
    call that started second and finished last puts back the ``True`` the first one had set."""
    app = _eager_app()
    first_running, second_started = threading.Event(), threading.Event()
    threads: dict[str, threading.Thread] = {}

    @app.task
    def hold(role: str) -> None:
        if role == "first":
            first_running.set()
            second_started.wait(5)
        else:
            second_started.set()
            threads["first"].join(5)  # the first call has returned and restored the flag

    threads["first"] = threading.Thread(target=hold.delay, args=("first",))
    threads["first"].start()
    first_running.wait(5)
    second = threading.Thread(target=hold.delay, args=("second",))
    second.start()
    second.join(10)
    assert task_join_will_block() is True  # the leak the fixture clears after this test


def test_the_flag_is_clear_when_a_test_starts():
    assert task_join_will_block() is False
