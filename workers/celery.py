"""The Celery application.

With ``REDIS_URL`` set, tasks go through Redis to ``celery -A workers worker``; without
it they run in-process (``task_always_eager``) so the embedded default needs no broker.
Tasks are autodiscovered from every installed app's ``tasks`` module.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("modelhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
