"""``/violations``: the triage queue, bulk triage with a required reason, and each violation's history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from frontend import triage as triage_service
from frontend.exports import csv_download, token_or_session
from frontend.forms import TRIAGE_ACTIONS, TriageForm
from licenses.engine.types import Severity
from licenses.models import Violation
from licenses.services.violations import TriageError, triageable

RULES = (
    "missing-license", "unresolved-license", "metadata-file-mismatch", "relicensed-derivative",
    "use-restrictions-dropped", "no-derivatives", "naming-requirement", "incompatible-parents",
    "output-use-restricted", "guardrail-removal", "noncommercial-upstream-data", "missing-notice",
    "version-mismatch", "unsafe-serialization",
)  # fmt: skip


def queue(request: HttpRequest) -> HttpResponse:
    filters = triage_service.QueueFilters.from_query(request.GET)
    qs = triage_service.queue(request.user, filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    writable_ids = set(
        triageable(request.user, qs.filter(pk__in=[v.pk for v in page])).values_list("pk", flat=True)
    )
    context = {
        "page": page,
        "f": filters,
        "rules": RULES,
        "severities": Severity.__args__,  # type: ignore[attr-defined]
        "statuses": Violation.Status.choices,
        "orgs": triage_service.organisations_with_violations(request.user),
        "writable_ids": writable_ids,
        "actions": [(k, label) for k, (_, label) in TRIAGE_ACTIONS.items()],
        "querystring": request.GET.urlencode(),
    }
    return render(request, "frontend/violations.html", context)


@token_or_session
def queue_csv(request: HttpRequest) -> HttpResponse:
    """``/violations.csv``: the queue with the same filters, every row (the page shows 50)."""
    filters = triage_service.QueueFilters.from_query(request.GET)
    header = (
        "model", "rule", "severity", "status", "parent", "message", "clause", "reason",
        "first seen", "last seen", "url",
    )  # fmt: skip
    return csv_download(
        request, "violations.csv", header, triage_service.queue(request.user, filters), _violation_row
    )


def _violation_row(v: Violation, base: str) -> tuple:
    return (
        v.repository.repo_id, v.rule, v.severity, v.status, v.parent_ref, v.message, v.clause, v.status_reason,
        v.first_seen_at.isoformat(), v.last_seen_at.isoformat(), f"{base}/violations/{v.pk}",
    )  # fmt: skip


@login_required
@require_POST
def triage(request: HttpRequest) -> HttpResponse:
    # isdecimal, not isdigit: "²" is a digit that int() refuses
    ids = list(dict.fromkeys(int(i) for i in request.POST.getlist("ids") if i.isdecimal() and len(i) < 19))
    data = request.POST.copy()
    data.setlist("ids", [str(i) for i in ids])  # odd ids dropped rather than failing the whole form
    form = TriageForm(data, choices=ids)
    back = request.POST.get("next", "")
    target = f"/violations?{back}" if back and not back.startswith(("/", "http")) else "/violations"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        if "ids" in form.errors:
            messages.error(request, "Select at least one violation.")
        return redirect(target)
    status, label = TRIAGE_ACTIONS[form.cleaned_data["action"]]
    try:
        changed, refused = triage_service.triage(
            request.user, form.cleaned_data["ids"], status, form.cleaned_data["reason"]
        )
    except TriageError as exc:
        messages.error(request, str(exc))
        return redirect(target)
    messages.success(request, f"{label}: {len(changed)} violation(s) updated.")
    if refused:
        messages.warning(
            request, f"{refused} violation(s) skipped: you cannot change violations of those models."
        )
    return redirect(target)


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    violation = triage_service.visible_violations(request.user).filter(pk=pk).first()
    if violation is None:
        raise Http404("No such violation")
    can_triage = triageable(request.user, Violation.objects.filter(pk=pk)).exists()
    events = violation.events.select_related("actor").order_by("at", "pk")
    return render(
        request,
        "frontend/violation.html",
        {"v": violation, "events": events, "can_triage": can_triage,
         "actions": [(k, label) for k, (_, label) in TRIAGE_ACTIONS.items()]},
    )  # fmt: skip
