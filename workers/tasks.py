"""Generic tasks; domain tasks live in their apps' ``tasks`` modules."""

from __future__ import annotations

from workers.celery import app


@app.task(name="workers.ping")
def ping(payload: str = "pong") -> str:
    """Round-trip probe used by readiness checks and the broker tests."""
    return payload
