"""``manage.py check --deploy``: the production shape, not only Django's security settings.

``MODELHUB_MODE=production`` falls back quietly to the embedded engines when a variable is forgotten:
SQLite under ``MODELHUB_VAR`` without ``DATABASE_URL``, tasks inside the web process and a per-process
cache without ``REDIS_URL``. Each works, so nothing fails until the second web host, the first big
mirror run or the first rate limit; the deployment's own check names the variable instead.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def production_engines(app_configs=None, **kwargs) -> list[Warning]:
    if not getattr(settings, "PRODUCTION", False):
        return []
    found = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        found.append(
            Warning(
                "MODELHUB_MODE=production is using SQLite "
                f"({settings.DATABASES['default']['NAME']}): DATABASE_URL is unset or points at SQLite.",
                hint="Set DATABASE_URL=postgresql://user:pass@host:5432/modelhub (README, Deployment).",
                id="modelhub.W001",
            )
        )
    if not settings.REDIS_URL:
        found.append(
            Warning(
                "MODELHUB_MODE=production without REDIS_URL: analyses and mirror runs execute inside the web "
                "workers, and the cache and API rate limits are per process.",
                hint="Set REDIS_URL=redis://host:6379/0 and run `celery -A workers worker` and `celery -A workers beat`.",
                id="modelhub.W002",
            )
        )
    elif settings.CELERY_TASK_ALWAYS_EAGER:
        found.append(
            Warning(
                "MODELHUB_TASKS_EAGER is on although REDIS_URL is set: tasks run inside the web workers and the "
                "Celery workers receive nothing.",
                hint="Unset MODELHUB_TASKS_EAGER (it defaults to off with REDIS_URL).",
                id="modelhub.W003",
            )
        )
    if "ALLOWED_HOSTS" not in os.environ:
        found.append(
            Warning(
                "MODELHUB_MODE=production without ALLOWED_HOSTS: only 127.0.0.1, localhost and testserver "
                "are answered; every other Host gets 400.",
                hint="Set ALLOWED_HOSTS to the host names the hub is served under, e.g. hub.example.org.",
                id="modelhub.W004",
            )
        )
    found.extend(_recovery_sweeps_off())
    return found


# The beat entries that re-send what a broker outage lost; without them the work stays undone for good.
RECOVERY_SWEEPS = {
    "requeue-pending-analyses": (
        "MODELHUB_REQUEUE_EVERY",
        "an analysis whose message was lost while the broker was down stays pending",
    ),
    "send-outbox": (
        "MODELHUB_OUTBOX_EVERY",
        "follow-up work whose send failed (re-judging a relicensed model's descendants, new-error "
        "notifications, re-analysing a dataset's users) is never sent",
    ),
}


def _recovery_sweeps_off() -> list[Warning]:
    """``0`` turns any beat interval off; for these two that silently loses work after an outage."""
    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        return []  # in-process tasks: nothing is queued, nothing to re-send (W002/W003 say the rest)
    found = []
    for entry, (variable, lost) in RECOVERY_SWEEPS.items():
        if entry not in settings.CELERY_BEAT_SCHEDULE:
            found.append(
                Warning(
                    f"{variable} turns beat's {entry} sweep off: {lost}.",
                    hint=f"Unset {variable} (or give it a number of seconds above 0); README, Configuration.",
                    id="modelhub.W005",
                )
            )
    return found
