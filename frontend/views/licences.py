"""``/licenses`` and ``/licenses/{key}``: the knowledge base, one page per licence."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from frontend import catalogue
from frontend.pagination import keyset_page
from frontend.vocab import CLASS_LABELS, PAGE_SIZE
from licenses.engine.kb import default_kb


def licence_list(request: HttpRequest) -> HttpResponse:
    by_class: dict[str, list] = {c: [] for c in CLASS_LABELS}
    for info in sorted(default_kb().all(), key=lambda i: i.name.lower()):
        by_class.setdefault(info.license_class, []).append(info)
    return render(
        request, "frontend/licences.html", {"by_class": [(c, by_class[c]) for c in by_class if by_class[c]]}
    )


def licence_detail(request: HttpRequest, key: str) -> HttpResponse:
    info = default_kb().get(key.lower())
    if info is None:
        raise Http404("No such licence in the knowledge base")
    qs = catalogue.base_queryset(request.user).filter(license_key=info.key)
    qs = qs.select_related("namespace", "latest_analysis")
    page = keyset_page(qs, "downloads", request.GET.get("cursor", ""), PAGE_SIZE)
    tally = catalogue.capped_count(qs)
    return render(request, "frontend/licence.html", {"info": info, "page": page, "tally": tally})
