"""Openness ratings: European Open Source AI Index dimensions and the Model Openness Framework class.

The European Open Source AI Index (osai-index.eu, Liesenfeld & Dingemanse, CC BY 4.0)
rates models open / partial / closed on twelve dimensions; ``openness_pct`` is its own
formula (open 1, partial ½, closed 0, mean × 100). We rate the same dimensions from what
one repository shows, so the numbers can be compared with the index. Several dimensions
are about things outside the repository (a base model's data, peer review); those
ratings carry ``observable: false`` so nobody mistakes a default for a finding.

The Model Openness Framework (LF AI & Data) classes a release by which of its components
are present *and* under an open licence: Class III (open model) needs architecture code,
final weights, model card, data card, technical report (or research paper) and
evaluation results; Class II adds training, inference and evaluation code and evaluation
data; Class I adds the datasets, data-preprocessing code, intermediate checkpoints and a
research paper. Licences resolve like the Model Openness Tool: the component's own
licence, then the licence given for its content type (code / data / document), then the
distribution licence (the repository's ``license``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from licenses.engine.cardfacts import EVALUATION_SECTIONS, CardFacts, Link, Probe
from licenses.engine.datasets import OPEN_HF_LICENSES
from licenses.engine.disclosure import assess_disclosure
from licenses.engine.disclosure import filled_sections as _filled_sections
from licenses.engine.quoting import listed, quote
from licenses.engine.transparency import EVIDENCE_MAX, assess_transparency, load_indicators

OPEN_CLASSES = frozenset({"osi-permissive", "osi-copyleft", "open-content", "open-content-sharealike"})
RATING_VALUE = {"closed": 0.0, "partial": 0.5, "open": 1.0}

#: (dimension id, index's name, category), in the index's order (osai_index_criteria.csv).
DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("datasources_basemodel", "Base Model Data", "Availability"),
    ("datasources_endmodel", "End User Model Data", "Availability"),
    ("weights_basemodel", "Base Model Weights", "Availability"),
    ("weights_endmodel", "End User Model Weights", "Availability"),
    ("trainingcode", "Training Code", "Availability"),
    ("code", "Code Documentation", "Documentation"),
    ("hardware_architecture", "Hardware Architecture", "Documentation"),
    ("preprint", "Preprint", "Documentation"),
    ("paper", "Paper", "Documentation"),
    ("modelcard", "Modelcard", "Documentation"),
    ("datasheet", "Datasheet", "Documentation"),
    ("licenses", "Licenses", "Access"),
)

#: MOF components: (name, content type, class that first requires it).
MOF_COMPONENTS: tuple[tuple[str, str, int], ...] = (
    ("Model architecture", "code", 3),
    ("Model parameters (Final)", "data", 3),
    ("Model card", "document", 3),
    ("Data card", "document", 3),
    ("Technical report", "document", 3),
    ("Evaluation results", "document", 3),
    ("Training code", "code", 2),
    ("Inference code", "code", 2),
    ("Evaluation code", "code", 2),
    ("Evaluation data", "data", 2),
    ("Datasets", "data", 1),
    ("Data preprocessing code", "code", 1),
    ("Model parameters (Intermediate)", "data", 1),
    ("Research paper", "document", 1),
)
MOF_LABELS = {
    1: "Class I - Open Science Model",
    2: "Class II - Open Tooling Model",
    3: "Class III - Open Model",
}

_VENUE_BIBTEX = ("inproceedings", "article", "conference", "incollection")
_DATASHEET = Probe(r"datasheet|data card|dataset card", ("datasheet", "data card", "dataset card"))
_EVAL_CODE = Probe(
    r"lm-evaluation-harness|lm_eval|evaluation (?:code|script|harness)|bigcode-evaluation",
    (
        "lm-evaluation",
        "lm_eval",
        "evaluation code",
        "evaluation script",
        "evaluation harness",
        "bigcode-evaluation",
    ),
)
_PREPROC = Probe(
    r"data pre-?processing (?:code|script|pipeline)|pre-?processing (?:code|script|pipeline)"
    r"|data (?:processing|curation) (?:code|pipeline)"
    r"|dedup\w* (?:code|script)",
    (
        "processing code",
        "processing script",
        "processing pipeline",
        "curation code",
        "curation pipeline",
        "dedup",
    ),
)
_INTERMEDIATE = Probe(
    r"intermediate checkpoints?|revision=[\"']?step\d+|training checkpoints",
    ("intermediate checkpoint", "revision=", "training checkpoints"),
)
_MODELING_FILE = re.compile(r"(^|/)modeling_[^/]*\.py$")
_CHECKPOINT_FILE = re.compile(r"(^|/)(checkpoint[-_]\d+|step[-_]?\d+)/", re.IGNORECASE)


def is_open_license(value: str | None) -> bool:
    """Open per MOT's rule of thumb: OSI/FSF software licences and open-data licences."""
    if not value:
        return False
    key = value.strip().lower().removesuffix("-only").removesuffix("-or-later").removesuffix("+")
    return key in OPEN_HF_LICENSES or key in {"cc-by-sa-2.0", "odc-by-1.0", "odbl-1.0", "pddl-1.0", "0bsd"}


_DIMENSION_IDS = tuple(dim for dim, _, _ in DIMENSIONS)
_NOT_VENUE = ("https://huggingface.co/papers", "https://arxiv")
#: dimension id -> (index's name, category)
_DIMENSION_INFO: dict[str, tuple[str, str]] = {dim: (name, category) for dim, name, category in DIMENSIONS}


#: Longest evidence kept per dimension and MOF component (transparency's bound): a dataset id of
#: 250,000 characters was quoted in three dimensions, 750 kB of one analysis.
EVIDENCE_CHARS = EVIDENCE_MAX


def _bounded(evidence: str) -> str:
    """``evidence`` (it quotes the card: dataset ids, library names) cut at ``EVIDENCE_CHARS``."""
    return evidence if len(evidence) <= EVIDENCE_CHARS else quote(evidence, EVIDENCE_CHARS)


def _rating(dim: str, rating: str, evidence: str | None, observable: bool = True) -> dict[str, Any]:
    """A dimension's entry as it appears in the output (the MOF class reads rating and evidence)."""
    name, category = _DIMENSION_INFO[dim]
    if evidence is not None:
        evidence = _bounded(evidence)
    return {"dimension": dim, "name": name, "category": category, "rating": rating, "evidence": evidence,
            "observable": observable}  # fmt: skip


#: The transparency indicators the ratings and the MOF class read.
_READ_INDICATORS = ("model-components", "access-protocol", "training-code", "model-architecture",
                    "compute-hardware", "compute-usage", "capabilities-evaluation", "limitations-description",
                    "open-weights", "centralized-documentation")  # fmt: skip


@functools.cache
def _indicator_positions() -> tuple[int, tuple[tuple[str, int], ...]]:
    """The table's length and where each read indicator sits in ``assess_transparency``'s list."""
    ids = [row["id"] for row in load_indicators()]
    return len(ids), tuple((i, ids.index(i)) for i in _READ_INDICATORS)


def _indicators_read(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The read indicators by id: taken from their table positions when the list is in table
    order (as ``assess_transparency`` makes it), instead of indexing all ~36; else by id."""
    size, positions = _indicator_positions()
    if len(items) == size:
        found = {}
        for key, n in positions:
            item = items[n]
            if item["id"] != key:
                break
            found[key] = item
        else:
            return found
    return {i["id"]: i for i in items}


def assess_openness(
    facts: CardFacts,
    license_key: str | None = None,
    license_class: str | None = None,
    component_licenses: dict[str, str] | None = None,
    disclosure: dict[str, Any] | None = None,
    transparency: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Index-dimension ratings, ``openness_pct`` and the MOF class; see the module docstring.

    ``disclosure`` / ``transparency`` are the results of :func:`assess_disclosure` and
    :func:`assess_transparency` when the caller has them (they are recomputed otherwise).
    ``component_licenses`` maps MOF component names, or ``code`` / ``data`` / ``document`` /
    ``distribution``, to licence ids.
    """
    dis = disclosure if disclosure is not None else assess_disclosure(facts)
    tr = transparency or assess_transparency(facts, license_key, license_class, disclosure=dis)
    ind = _indicators_read(tr["indicators"])
    # a derivative declares base_model, or says "fine-tuned from [model]" in prose
    components = ind["model-components"]
    derivative = bool(facts.base_models) or (
        components["met"] and not str(components["evidence"]).startswith("pipeline config")
    )
    ratings: dict[str, dict[str, Any]] = {}

    # data
    hub = [*facts.datasets, *facts.linked_datasets]
    level = dis["disclosure_level"]
    if level == 4:
        end_data = _rating(
            "datasources_endmodel", "open", "all named datasets are openly licensed (disclosure 4)"
        )
    elif hub or level >= 3:
        end_data = _rating("datasources_endmodel", "partial", "datasets shared: " + listed(hub[:6]))
    else:
        note = "training data described but not shared" if level else None
        end_data = _rating("datasources_endmodel", "closed", note)
    ratings["datasources_endmodel"] = end_data
    if derivative:
        ratings["datasources_basemodel"] = _rating(
            "datasources_basemodel", "closed", "base model's data is not visible in this repository", False
        )
    else:
        ratings["datasources_basemodel"] = _rating(
            "datasources_basemodel", end_data["rating"], end_data["evidence"], end_data["observable"]
        )

    # weights
    weights = facts.weights
    if weights.files:
        rating = "partial" if facts.gated else "open"
        end_w = _rating("weights_endmodel", rating, f"{len(weights.files)} weight file(s)" + (", gated" if facts.gated
                                                                                               else ""))  # fmt: skip
    elif facts.gated:
        end_w = _rating("weights_endmodel", "partial", "gated repository (weight files not listed)", False)
    elif ind["access-protocol"]["met"]:
        end_w = _rating(
            "weights_endmodel", "open", "card shows how to load the weights (files not listed)", False
        )
    else:
        end_w = _rating("weights_endmodel", "closed", None)
    ratings["weights_endmodel"] = end_w
    ratings["weights_basemodel"] = _rating(
        "weights_basemodel",
        end_w["rating"],
        ("assumed like the end model; base: " + (", ".join(facts.base_models[:3]) or "named in the card"))
        if derivative
        else end_w["evidence"],
        end_w["observable"] and not derivative,
    )

    # code
    tcode = ind["training-code"]
    section = _filled_sections(facts).get
    procedure = section("Training Procedure") or section("Training Details")
    if tcode["met"] and procedure is not None:
        ratings["trainingcode"] = _rating(
            "trainingcode", "open", f"{tcode['evidence']}; training procedure documented"
        )
    elif tcode["met"]:
        ratings["trainingcode"] = _rating("trainingcode", "partial", tcode["evidence"])
    else:
        ratings["trainingcode"] = _rating("trainingcode", "closed", None)
    start = section("How to Get Started")
    docs = [e for e in (tcode["met"] and "training code linked", procedure and "training procedure section",
                        start and "usage section") if e]  # fmt: skip
    ratings["code"] = _rating("code", "open" if len(docs) == 3 else "partial" if docs else "closed",
                              ", ".join(docs) or None)  # fmt: skip

    # documentation
    arch, hw = ind["model-architecture"], ind["compute-hardware"]
    parts = [i["evidence"] for i in (arch, hw) if i["met"]]
    if arch["met"] and hw["met"] and (ind["compute-usage"]["met"] or procedure is not None):
        ratings["hardware_architecture"] = _rating("hardware_architecture", "open", "; ".join(parts))
    else:
        ratings["hardware_architecture"] = _rating("hardware_architecture", "partial" if parts else "closed",
                                                   "; ".join(parts) or None)  # fmt: skip
    # the links by kind, in one pass (as ``links_of`` gives them), and every URL for the datasheet search
    arxiv: list[Link] = []
    venue: list[Link] = []
    urls = []
    for link in facts.links:
        urls.append(link.url)
        kind = link.kind
        if kind == "arxiv":
            arxiv.append(link)
        elif (kind == "paper" or kind == "doi") and not link.url.lower().startswith(_NOT_VENUE):
            venue.append(link)
    cited = [link for link in arxiv if link.section in ("Citation", "Model Sources", "Model Details",
                                                        "Model Description")]  # fmt: skip
    if cited or (arxiv and section("Citation")):
        link = (cited or arxiv)[0]
        ratings["preprint"] = _rating("preprint", "open", f"arXiv {link.target} (line {link.line})")
    elif arxiv:
        ratings["preprint"] = _rating(
            "preprint", "partial", f"arXiv {arxiv[0].target} linked (line {arxiv[0].line})"
        )
    else:
        ratings["preprint"] = _rating("preprint", "closed", None)
    bib = [t for t in facts.bibtex_types if t in _VENUE_BIBTEX]
    if bib or [link for link in venue if link.section in ("Citation", "Model Sources")]:
        ev = f"BibTeX @{bib[0]}" if bib else f"{venue[0].url} (line {venue[0].line})"
        ratings["paper"] = _rating("paper", "open", ev, False)
    elif venue:
        ratings["paper"] = _rating("paper", "partial", f"{venue[0].url} (line {venue[0].line})", False)
    else:
        ratings["paper"] = _rating("paper", "closed", None, False)
    areas = {
        "architecture": arch["met"],
        "training": section("Training Data") or procedure,
        "evaluation": ind["capabilities-evaluation"]["met"],
        "uses": section("Uses") or section("Direct Use"),
        "limitations": ind["limitations-description"]["met"],
    }
    covered = [k for k, v in areas.items() if v]
    card_rating = "open" if len(covered) >= 4 else "partial" if covered else "closed"
    ratings["modelcard"] = _rating(
        "modelcard", card_rating, ("covers " + ", ".join(covered)) if covered else None
    )
    sheet = _DATASHEET.search((" ".join(urls) + " " + " ".join(facts.headings)).lower())
    if sheet:
        ratings["datasheet"] = _rating("datasheet", "open", f"datasheet referenced ({sheet.group(0)})", False)
    elif hub:
        ratings["datasheet"] = _rating("datasheet", "partial", "Hub dataset cards of " + listed(hub[:4]), False)  # fmt: skip
    else:
        ratings["datasheet"] = _rating("datasheet", "closed", None, False)

    # licences
    comp = component_licenses or {}
    code_open = is_open_license(comp.get("Training code") or comp.get("code"))
    data_open = is_open_license(comp.get("Datasets") or comp.get("data")) or level == 4
    if license_class in OPEN_CLASSES:
        full = code_open and data_open
        note = f"{license_key} ({license_class})" + ("; code and data openly licensed" if full else
                                                      "; code/data licences not shown")  # fmt: skip
        ratings["licenses"] = _rating("licenses", "open" if full else "partial", note)
    else:
        ratings["licenses"] = _rating(
            "licenses", "closed", f"{license_key or 'no licence'} ({license_class or 'unknown'})"
        )

    dims = [ratings[dim] for dim in _DIMENSION_IDS]  # entries are built in output form
    # the sum of RATING_VALUE over the dimensions, counted (0, ½ and 1 add exactly in any order)
    rated = [d["rating"] for d in dims]
    value = RATING_VALUE["open"] * rated.count("open") + RATING_VALUE["partial"] * rated.count("partial")
    pct = round(100 * value / len(dims), 1)
    return {
        "dimensions": dims,
        "openness_pct": pct,
        "mof": mof_class(facts, ind, ratings, dis, license_key, component_licenses),
    }


def _mof_included(
    facts: CardFacts, ind: dict[str, dict], ratings: dict[str, dict], dis: dict
) -> dict[str, str | None]:
    """Evidence that each MOF component is part of the release (``None``: not shown)."""
    cfg = facts.config
    modeling = next((f for f in facts.files if _MODELING_FILE.search(f)), None)
    # the links read in one pass: is a dataset linked from an evaluation section, and the first
    # GitHub repository whose URL mentions "eval"
    eval_links = False
    github_eval = None
    for link in facts.links:
        kind = link.kind
        if kind == "hf-dataset":
            if not eval_links and link.section in EVALUATION_SECTIONS:
                eval_links = True
        elif kind == "github" and github_eval is None and "eval" in link.url.lower():
            github_eval = link.url
    paper = ratings["paper"]
    report = ratings["preprint"]["rating"] != "closed" or paper["rating"] != "closed"
    return {
        "Model architecture": (modeling and f"file: {modeling}") or (cfg.get("architectures") and "config.json")
        or (facts.library_name and f"library_name: {facts.library_name}") or None,
        "Model parameters (Final)": ind["open-weights"]["evidence"],
        "Model card": ind["centralized-documentation"]["evidence"] or (ratings["modelcard"]["rating"] != "closed"
                                                                      and ratings["modelcard"]["evidence"]) or None,
        "Data card": ratings["datasheet"]["evidence"] if ratings["datasheet"]["rating"] != "closed" else None,
        "Technical report": (ratings["preprint"]["evidence"] or paper["evidence"]) if report else None,
        "Evaluation results": ind["capabilities-evaluation"]["evidence"],
        "Training code": ind["training-code"]["evidence"],
        "Inference code": ind["access-protocol"]["evidence"] if not facts.gating_fields else (
            _filled_sections(facts).get("How to Get Started") and "usage section") or None,
        "Evaluation code": github_eval or (_body_search(facts, _EVAL_CODE) and "evaluation code referenced") or None,
        "Evaluation data": (facts.eval_results and "model-index datasets")
        or (eval_links and "dataset links in evaluation sections") or None,
        "Datasets": (dis["disclosure_level"] == 4 and "all training datasets openly licensed") or None,
        "Data preprocessing code": (_body_search(facts, _PREPROC) and "preprocessing code referenced") or None,
        "Model parameters (Intermediate)": next((f"file: {f}" for f in facts.files if _CHECKPOINT_FILE.search(f)),
                                                None) or (_body_search(facts, _INTERMEDIATE)
                                                          and "intermediate checkpoints referenced") or None,
        "Research paper": paper["evidence"] if paper["rating"] == "open" else None,
    }  # fmt: skip


def _body_search(facts: CardFacts, probe: Probe) -> re.Match[str] | None:
    """``probe.search`` over the card body, answered ``None`` by the keyword index when none of
    the probe's keywords occurs (most cards, for the three MOF probes) without entering it."""
    index = facts.body_index
    if index is not None and probe.absent_in(index):
        return None
    return probe.search(facts.body_lower, index)


#: Component names each class adds, in ``MOF_COMPONENTS`` order.
_CLASS_NAMES: dict[int, tuple[str, ...]] = {
    c: tuple(n for n, _, cls in MOF_COMPONENTS if cls == c) for c in (3, 2, 1)
}
_CLASS_III_WITH_PAPER = tuple("Research paper" if n == "Technical report" else n for n in _CLASS_NAMES[3])


def mof_class(
    facts: CardFacts,
    indicators: dict[str, dict],
    ratings: dict[str, dict],
    disclosure: dict,
    license_key: str | None,
    component_licenses: dict[str, str] | None,
) -> dict[str, Any]:
    """The MOF class as the Model Openness Tool would compute it from this repository."""
    comp = component_licenses or {}
    if not comp and license_key in (None, "none", "unknown"):
        return {"class": None, "label": "Unclassified", "reason": "no licence known for any component",
                "progress": {"class3": 0.0, "class2": 0.0, "class1": 0.0}, "components": []}  # fmt: skip
    included = _mof_included(facts, indicators, ratings, disclosure)
    rows = []
    counts: dict[str, bool] = {}
    open_memo: dict[str | None, bool] = {}  # most components share the distribution licence
    lic, source = license_key, "distribution"  # every component's, without component licences
    lic_open = is_open_license(lic)
    for name, ctype, cls in MOF_COMPONENTS:
        if comp:
            lic = comp.get(name) or comp.get(ctype) or comp.get("distribution") or license_key
            source = "component" if comp.get(name) else ctype if comp.get(ctype) else "distribution"
            known = open_memo.get(lic)
            if known is None:
                known = open_memo[lic] = is_open_license(lic)
            lic_open = known
        evidence = included[name]
        ok = bool(evidence) and lic_open
        counts[name] = ok
        rows.append({"component": name, "content_type": ctype, "class": cls, "included": bool(evidence),
                     "evidence": _bounded(evidence) if evidence else None, "license": lic, "license_from": source,
                     "license_open": lic_open, "counts": ok})  # fmt: skip

    # a research paper stands in for a missing technical report in Class III
    required = {
        3: _CLASS_III_WITH_PAPER
        if not counts["Technical report"] and counts["Research paper"]
        else _CLASS_NAMES[3],
        2: _CLASS_NAMES[2],
        1: _CLASS_NAMES[1],
    }
    # a class is reached when it and every higher one are complete; below an incomplete class
    # the progress shown is 0
    progress: dict[str, float] = {}
    achieved = None
    blocked = False
    for cls, key in ((3, "class3"), (2, "class2"), (1, "class1")):
        names = required[cls]
        have = 0
        for name in names:
            if counts[name]:
                have += 1
        progress[key] = 0.0 if blocked else round(100 * have / len(names), 1)
        if have == len(names) and not blocked:
            achieved = cls
        else:
            blocked = True
    return {
        "class": {3: "Class III", 2: "Class II", 1: "Class I"}.get(achieved) if achieved else None,
        "label": MOF_LABELS[achieved] if achieved else "Unclassified",
        "progress": progress,
        "components": rows,
        "license_source": "component licences" if comp else "distribution licence",
    }
