"""``/licenses`` and ``/licenses/{key}``: the knowledge base, one page per licence."""

from __future__ import annotations

from types import SimpleNamespace

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from frontend import catalogue
from frontend.pagination import keyset_page
from frontend.vocab import CLASS_LABELS, PAGE_SIZE
from licenses.engine.kb import default_kb

#: The contract's two keys that name no licence text: every model page links its key, so they need
#: pages too (listing the models a licensing engineer has to chase). SPDX's words for the same.
NO_LICENCE = {
    "none": SimpleNamespace(
        key="none", name="No licence declared", license_class="unknown", commercial_use="unknown",
        spdx="NONE", osi_approved=False, url="", obligations=[],
        summary="The card declares no licence and no licence file was found. Without a licence nobody "
        "may use, copy or modify the weights: ask the publisher to add one.",
    ),
    "unknown": SimpleNamespace(
        key="unknown", name="Licence not resolved", license_class="unknown", commercial_use="unknown",
        spdx="NOASSERTION", osi_approved=False, url="", obligations=[],
        summary="A licence is named (\"other\", \"unknown\", a family name, a custom file) but its terms "
        "could not be matched to a known licence. Read the licence file in the repository before use.",
    ),
}  # fmt: skip


def licence_list(request: HttpRequest) -> HttpResponse:
    by_class: dict[str, list] = {c: [] for c in CLASS_LABELS}
    for info in sorted(default_kb().all(), key=lambda i: i.name.lower()):
        by_class.setdefault(info.license_class, []).append(info)
    return render(
        request, "frontend/licences.html", {"by_class": [(c, by_class[c]) for c in by_class if by_class[c]]}
    )


def licence_detail(request: HttpRequest, key: str) -> HttpResponse:
    info = default_kb().get(key.lower()) or NO_LICENCE.get(key.lower())
    if info is None:
        raise Http404("No such licence in the knowledge base")
    qs = catalogue.base_queryset(request.user).filter(license_key=info.key)
    qs = qs.select_related("namespace", "latest_analysis")
    page = keyset_page(qs, "downloads", request.GET.get("cursor", ""), PAGE_SIZE)
    tally = catalogue.capped_count(qs)
    return render(request, "frontend/licence.html", {"info": info, "page": page, "tally": tally})
