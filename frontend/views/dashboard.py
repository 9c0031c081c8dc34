"""``/dashboard``: charts of the registry, and mirror runs with live progress."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from frontend import dashboard as figures


def _runs_context() -> dict:
    runs = figures.mirror_runs()
    return {
        "runs": runs,
        "runs_chart": figures.mirror_runs_chart(runs) if runs else "",
        "running": any(r.status in {"running", "queued"} for r in runs),
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/dashboard.html", {**figures.figures(request.user), **_runs_context()})


def mirror_runs(request: HttpRequest) -> HttpResponse:
    """The mirror-run chart and table alone; the dashboard's script polls it while a run is going."""
    response = render(request, "frontend/_mirror_runs.html", _runs_context())
    response["Cache-Control"] = "no-store"
    return response
