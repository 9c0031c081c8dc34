"""Licences of training datasets, for data-disclosure levels and the non-commercial-data rule.

A model card names its datasets (``datasets:`` metadata, dataset links) but not their
licences. Two audited sources say what those are: Hugging Face dataset-card metadata
(the declared ``license:``) and the Data Provenance Initiative, whose annotators
verified the licences of ~2,000 fine-tuning datasets and found the declared ones wrong
or missing in a large share of cases. Both live outside the checkout, so
``scripts/build_dataset_licenses.py`` condenses them into the bundled
``licenses/data/dataset_licenses.json`` (ids and licence names only); dataset cards
mirrored at runtime can be layered on top with :meth:`DatasetLicenses.with_card`.

When a verified licence exists it decides ``commercial`` and ``open``: the point of the
audit is that declared licences are often more permissive than the data's real terms.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "dataset_licenses.json"

#: Hub licence ids (and families) whose terms let anyone use, modify and redistribute the data,
#: commercial use included: OSI-approved software licences and open-content/data licences.
OPEN_HF_LICENSES = frozenset(
    {"apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "isc", "zlib",
     "unlicense", "wtfpl", "afl-3.0", "artistic-2.0", "bsl-1.0", "ecl-2.0", "epl-1.0", "epl-2.0", "eupl-1.1",
     "eupl-1.2", "gpl", "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "agpl-3.0", "mpl-2.0", "ms-pl",
     "osl-3.0", "postgresql", "ncsa", "ofl-1.1", "lppl-1.3c", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0",
     "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0", "cdla-permissive-1.0", "cdla-permissive-2.0",
     "cdla-sharing-1.0", "odc-by", "odbl", "pddl", "gfdl", "etalab-2.0", "openmdw-1.0", "openmdw-1.1",
     "lgpl-lr"}
)  # fmt: skip
#: Commercial use allowed, but not "open": use restrictions, vendor terms, no-derivatives.
COMMERCIAL_NOT_OPEN_HF = frozenset(
    {"openrail", "openrail++", "creativeml-openrail-m", "bigscience-openrail-m", "bigscience-bloom-rail-1.0",
     "bigcode-openrail-m", "cc-by-nd-4.0", "c-uda", "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3",
     "llama4", "gemma"}
)  # fmt: skip
_NC_MARK = re.compile(r"(^|[-_ ])nc([-_ ]|$)|non.?commercial|research|academic|deepfloyd|apple-amlr", re.I)

#: Data Provenance Initiative licence names that are open in the sense above.
_OPEN_DPI = re.compile(
    r"^(cc by(-sa)?( \d\.\d)?|cc by sa|cc by|cc0( 1\.0)?|apache( license)? 2\.0|mit( license)?|bsd .*|isc license"
    r"|(gnu )?(lesser )?general public license.*|lgpl.*|mpl 2\.0|epl 1\.0|odc by 1\.0|cdla .*|artistic license 2\.0"
    r"|academic free license v3\.0|public domain|ogl 3\.0|all uses-attribution)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DatasetLicense:
    """What is known about one dataset's licence."""

    id: str
    license: str | None  # declared on the dataset card (Hub id, or the name the source gives)
    verified: tuple[str, ...] = ()  # human-verified licence names (Data Provenance Initiative)
    commercial: str = "unknown"  # yes | no | unknown
    open: bool | None = None  # openly licensed (None: cannot tell)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "license": self.license, "commercial": self.commercial,
                             "open": self.open, "source": self.source}  # fmt: skip
        if self.verified:
            d["verified"] = list(self.verified)
        return d


def hf_license_terms(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Split a declared value ('a|b', list) into normalised Hub ids."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.extend(p.strip().lower() for p in item.split("|") if p.strip())
    return tuple(out)


def classify_declared(terms: Iterable[str]) -> tuple[str, bool | None]:
    """``(commercial, open)`` from declared Hub licence ids; any NC term makes it ``no``."""
    terms = [t for t in terms if t not in ("", "none")]
    if not terms:
        return "unknown", None
    if any(_NC_MARK.search(t) for t in terms):
        return "no", False
    if all(t in OPEN_HF_LICENSES for t in terms):
        return "yes", True
    if all(t in OPEN_HF_LICENSES or t in COMMERCIAL_NOT_OPEN_HF for t in terms):
        return "yes", False
    return "unknown", None


def classify_verified(names: Iterable[str], categories: Mapping[str, str]) -> tuple[str, bool | None]:
    """``(commercial, open)`` from DPI-verified names and their DPI use categories."""
    names = [n for n in names if n]
    if not names:
        return "unknown", None
    cats = [categories.get(n, "Unspecified") for n in names]
    if any(c in ("NC", "Acad") for c in cats):
        return "no", False
    if all(c == "All" for c in cats):
        return "yes", all(_OPEN_DPI.match(n) is not None for n in names)
    return "unknown", None


def normalise_dataset_id(dataset_id: str) -> str:
    ds = dataset_id.strip().strip("/")
    for prefix in ("https://huggingface.co/datasets/", "http://huggingface.co/datasets/", "huggingface.co/datasets/",
                   "hf.co/datasets/", "datasets/"):  # fmt: skip
        if ds.lower().startswith(prefix):
            ds = ds[len(prefix) :]
    return ds.lower()


class DatasetLicenses:
    """Lookup table dataset id → :class:`DatasetLicense` (ids compared case-insensitively)."""

    def __init__(self, entries: Mapping[str, DatasetLicense] | Iterable[DatasetLicense] = ()):
        values = entries.values() if isinstance(entries, Mapping) else entries
        self._entries: dict[str, DatasetLicense] = {normalise_dataset_id(e.id): e for e in values}

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[DatasetLicense]:
        return iter(self._entries.values())

    def lookup(self, dataset_id: str) -> DatasetLicense | None:
        if not isinstance(dataset_id, str) or not dataset_id.strip():
            return None
        key = normalise_dataset_id(dataset_id)
        hit = self._entries.get(key)
        if hit is None and "/" not in key and "_" in key:
            # the 2023 dataset-card dump encodes "owner/name" as "owner_name" in file names
            hit = self._entries.get(key.replace("_", "/", 1))
        return hit

    def with_card(self, dataset_id: str, metadata: Mapping[str, Any]) -> DatasetLicenses:
        """A copy that also knows a dataset card's declared licence (verified terms still win)."""
        terms = hf_license_terms(metadata.get("license") if isinstance(metadata, Mapping) else None)
        if metadata.get("license_name") and terms == ("other",):
            terms = (str(metadata["license_name"]).lower(),)
        commercial, is_open = classify_declared(terms)
        old = self.lookup(dataset_id)
        new = DatasetLicense(dataset_id, "|".join(terms) or None, (), commercial, is_open, "dataset-card")
        if old is not None and old.verified:
            new = replace(old, license=new.license, source=f"dataset-card+{old.source}")
        copy = DatasetLicenses()
        copy._entries = dict(self._entries)
        copy._entries[normalise_dataset_id(dataset_id)] = new
        return copy

    def with_cards(self, cards: Mapping[str, Mapping[str, Any]]) -> DatasetLicenses:
        """``with_card`` for every (dataset id, card metadata) pair; ``self`` when there is none."""
        table = self
        for dataset_id, metadata in cards.items():
            if isinstance(metadata, Mapping) and metadata.get("license"):
                table = table.with_card(dataset_id, metadata)
        return table

    @classmethod
    def from_json(cls, path: Path) -> DatasetLicenses:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = []
        for row in data.get("datasets", []):
            entries.append(
                DatasetLicense(
                    id=row["id"],
                    license=row.get("license"),
                    verified=tuple(row.get("verified", ())),
                    commercial=row.get("commercial", "unknown"),
                    open=row.get("open"),
                    source=row.get("source", ""),
                )
            )
        return cls(entries)


@functools.cache
def bundled() -> DatasetLicenses:
    """The table shipped with the engine (empty when the data file is missing)."""
    if not DATA_FILE.is_file():
        return DatasetLicenses()
    return DatasetLicenses.from_json(DATA_FILE)
