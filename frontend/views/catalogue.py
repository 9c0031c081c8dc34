"""``/`` and ``/models``: the searchable, filterable catalogue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from frontend import catalogue
from frontend.vocab import CLASS_LABELS, COMMERCIAL_LABELS, DISCLOSURE_LABELS, SORTS
from licenses.engine.kb import default_kb
from licenses.models import Policy


def home(request: HttpRequest) -> HttpResponse:
    return redirect("frontend:models")


def models_list(request: HttpRequest) -> HttpResponse:
    filters = catalogue.CatalogueFilters.from_query(request.GET)
    result = catalogue.run(request.user, filters)
    context = {
        "result": result,
        "f": filters,
        "classes": CLASS_LABELS,
        "commercial_values": COMMERCIAL_LABELS,
        "disclosure_levels": DISCLOSURE_LABELS,
        "sorts": SORTS,
        "licences": sorted(default_kb().all(), key=lambda i: i.key),
        "policies": list(Policy.objects.order_by("name").values_list("name", flat=True)),
        "tasks": catalogue.facet_values("pipeline_tag"),
        "libraries": catalogue.facet_values("library_name"),
    }
    template = (
        "frontend/_model_results.html"
        if request.headers.get("X-Partial") == "results"
        else "frontend/models.html"
    )
    return render(request, template, context)
