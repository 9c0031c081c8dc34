"""Loaded with ``-p tests._env`` before pytest-django configures Django.

It pins the environment the suite runs in: its own throw-away ``MODELHUB_VAR`` (so
tests never touch a developer's ``var/``) and in-process Celery tasks (so code that
enqueues on commit runs the task in the test; the broker tests start a real worker
and talk to it explicitly).
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("MODELHUB_VAR", tempfile.mkdtemp(prefix="modelhub-test-var-"))
os.environ["MODELHUB_TASKS_EAGER"] = "1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
