"""Enqueue tasks only once the surrounding transaction has committed.

A request that rolls back must not leave a task behind that looks for rows that
never existed; ``transaction.on_commit`` runs the send after COMMIT, or at once when
no transaction is open.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs), using=using)
