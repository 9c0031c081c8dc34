"""The catalogue's fixed vocabulary: licence classes with their colours, sorts, page sizes.

Kept in one place so the filter form, the badges, the lineage graph and the charts
colour a licence class the same way everywhere; the class names themselves come from the
engine (the contract's vocabulary), never retyped here.
"""

from __future__ import annotations

from licenses.engine.types import COMMERCIAL_USE_VALUES, LICENSE_CLASSES

#: Human labels for the contract's licence classes.
CLASS_LABELS: dict[str, str] = {
    "osi-permissive": "OSI permissive",
    "osi-copyleft": "OSI copyleft",
    "open-content": "Open content",
    "open-content-sharealike": "Open content, share-alike",
    "no-derivatives": "No derivatives",
    "rail": "RAIL (use restrictions)",
    "vendor-community": "Vendor community",
    "noncommercial": "Non-commercial",
    "unknown": "Unknown",
}

#: One colour per class, chosen to stay distinguishable for the common colour-vision deficiencies
#: (Okabe–Ito palette plus greys); every use also prints the class name, never colour alone.
CLASS_COLOURS: dict[str, str] = {
    "osi-permissive": "#009E73",
    "osi-copyleft": "#0072B2",
    "open-content": "#56B4E9",
    "open-content-sharealike": "#7a5fb5",
    "no-derivatives": "#CC79A7",
    "rail": "#E69F00",
    "vendor-community": "#b8860b",
    "noncommercial": "#D55E00",
    "unknown": "#7f7f7f",
}

COMMERCIAL_LABELS: dict[str, str] = {
    "yes": "Commercial use allowed",
    "no": "No commercial use",
    "conditional": "Commercial use with conditions",
    "unknown": "Commercial use unknown",
}

DISCLOSURE_LABELS: dict[int, str] = {
    0: "0 — nothing disclosed",
    1: "1 — data identified",
    2: "2 — data described",
    3: "3 — data licences known",
    4: "4 — open data",
}

#: ``?sort=`` values, as on the Hub where one exists, with what they order by.
SORTS: dict[str, str] = {
    "downloads": "Most downloads",
    "likes": "Most likes",
    "lastModified": "Recently updated",
    "createdAt": "Recently created",
    "transparency": "Most transparent",
}
#: With a search term the default order is relevance; ``trending`` (the Hub's default) maps to downloads.
SORT_ALIASES = {"trending": "downloads", "modified": "lastModified", "created": "createdAt"}

PAGE_SIZE = 30

assert set(CLASS_LABELS) == set(LICENSE_CLASSES) == set(CLASS_COLOURS), "class vocabulary drifted"
assert set(COMMERCIAL_LABELS) == set(COMMERCIAL_USE_VALUES)


def class_label(license_class: str | None) -> str:
    return CLASS_LABELS.get(license_class or "unknown", license_class or "Unknown")


def class_colour(license_class: str | None) -> str:
    return CLASS_COLOURS.get(license_class or "unknown", CLASS_COLOURS["unknown"])
