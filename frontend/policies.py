"""``?policy=`` in the catalogue: a policy's licence rules turned into one SQL condition.

Why not run the policy engine per row: at a million models that is a million evaluations
per page. The licence-level part of a policy (allow/deny lists of classes and keys, the
``unknown`` rule, commercial use, minimum transparency and disclosure, pickle files) maps
onto the repository's indexed copies of its analysis columns and mirrors ``licenses.engine.policy``'s order of precedence
(deny list, then allow list, then unknown, then classes). Conditions that depend on the
use (user caps, regions) and upstream licences are not in this filter; the compliance
check page gives the full verdict, so the catalogue says "passes the licence rules of".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import Q

from licenses.engine.policy import UNKNOWN_KEYS, PolicyError, load_policy


def policy_filter(document: Mapping[str, Any]) -> tuple[Q | None, str]:
    """The condition a model's latest analysis must meet, or ``(None, error)`` for a broken policy.

    ``document`` is a stored version: loaded under the rules it was stored by."""
    try:
        policy = load_policy(document, known_licences=False)
    except PolicyError as exc:
        return None, str(exc)
    rules = policy.licenses
    key = "license_key"
    cls = "license_class"
    unknown = (
        Q(**{f"{key}__in": list(UNKNOWN_KEYS)}) | Q(**{cls: "unknown"}) | Q(latest_analysis__isnull=True)
    )

    passes_classes = ~Q(**{f"{cls}__in": list(rules.deny_classes)}) if rules.deny_classes else Q()
    if rules.allow_classes is not None:
        passes_classes &= Q(**{f"{cls}__in": list(rules.allow_classes)})
    passes = passes_classes & ~unknown
    if rules.unknown in {"warn", "allow"}:
        passes |= unknown
    if rules.allow:
        passes |= Q(**{f"{key}__in": list(rules.allow)})
    if rules.deny:
        passes &= ~Q(**{f"{key}__in": list(rules.deny)})
    if policy.use.commercial:
        passes &= ~Q(commercial_use="no")
    if policy.min_score:
        passes &= Q(transparency_score__gte=policy.min_score)
    if policy.min_disclosure_level:
        passes &= Q(disclosure_level__gte=policy.min_disclosure_level)
    if not policy.allow_pickle:
        passes &= Q(unsafe_files=0)
    today = date.today()
    exempt = [
        e.model
        for e in policy.exceptions
        if e.active(today) and "/" in e.model and not any(c in e.model for c in "*?[")
    ]
    for model_id in exempt:
        owner, _, name = model_id.partition("/")
        passes |= Q(namespace__name__iexact=owner, name__iexact=name)
    return passes, ""
