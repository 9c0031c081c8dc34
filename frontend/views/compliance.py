"""``/compliance``: paste or upload model ids, pick a policy, get verdicts and a downloadable report."""

from __future__ import annotations

import json

import yaml
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from frontend import reports
from frontend.forms import ComplianceForm
from licenses.engine.bom import MEDIA_TYPES, BomError
from licenses.engine.policy import PolicyError
from licenses.models import Policy
from licenses.services.compliance import ComplianceRequestError, ModelSpec, check_models, resolve_policy


def check(request: HttpRequest) -> HttpResponse:
    policies = list(Policy.objects.order_by("name").values_list("name", flat=True))
    form = ComplianceForm(request.POST or None, request.FILES or None, policies=policies)
    context: dict = {"form": form, "exporters": reports.AIBOM_FORMATS}
    if request.method == "POST" and form.is_valid():
        specs = [ModelSpec(model, revision) for model, revision in form.cleaned_data["specs"]]
        try:
            raw_policy = form.cleaned_data["policy"] or yaml.safe_load(form.cleaned_data["policy_text"])
            policy, label = resolve_policy(raw_policy)
        except (ComplianceRequestError, PolicyError, yaml.YAMLError) as exc:
            form.add_error("policy_text" if not form.cleaned_data["policy"] else "policy", str(exc))
            return render(request, "frontend/compliance.html", context, status=400)
        results = check_models(specs, policy, request.user)
        fmt = request.POST.get("download", "")
        if fmt == "markdown":
            body = reports.markdown_report(label, results, request.build_absolute_uri("/").rstrip("/"))
            return _attachment(body, "compliance-report.md", "text/markdown; charset=utf-8")
        if fmt in reports.AIBOM_FORMATS:
            user = request.user if request.user.is_authenticated else None
            try:
                document = reports.aibom(fmt, results, user, request.build_absolute_uri("/").rstrip("/"))
            except BomError as exc:
                form.add_error(None, f"The AI-BOM could not be built: {exc}")
                return render(request, "frontend/compliance.html", context, status=400)
            return _attachment(json.dumps(document, indent=2), f"ai-bom.{fmt}.json", MEDIA_TYPES[fmt])
        context.update(
            results=results,
            policy_label=label,
            counts={v: sum(1 for r in results if r["verdict"] == v) for v in ("allow", "warn", "deny")},
            models_text="\n".join(m + (f"=={r}" if r else "") for m, r in form.cleaned_data["specs"]),
        )
    return render(request, "frontend/compliance.html", context)


def _attachment(body: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
