"""Organisation policies and the verdict they give a model: allow, warn or deny.

Why a separate, Django-free module: the same evaluation runs in ``modelhub audit`` (CI, no
server), in the compliance API and in the catalogue, and the three must never disagree. The
input is an analyze-JSON report (contract.md), so anything that can produce one — a local
folder, the registry, the bundled base-model table — can be judged.

Every conclusion is a ``Reason`` with a stable ``code`` (documented in docs/policies.md) and an
``effect``; the verdict is the strongest effect, unless a current exception waives it. Licence
conditions that do not block the use become ``obligations`` the user must honour (notices to
ship, display phrases, name prefixes, caps and how close the stated use comes to them).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema

from licenses.engine.frontmatter import load_yaml_document
from licenses.engine.obligations import burden, expression_text, upstream_licences
from licenses.engine.types import LicenseInfo

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "policy.schema.json"

Verdict = Literal["allow", "warn", "deny"]
Effect = Literal["deny", "warn", "info"]
_RANK = {"info": 0, "allow": 0, "warn": 1, "deny": 2}

#: Every reason code ``evaluate_model`` can give (stable; documented in docs/policies.md).
REASON_CODES: tuple[str, ...] = (
    "license-denied",
    "license-allowed",
    "license-class-denied",
    "license-class-not-allowed",
    "license-unknown",
    "license-expression",
    "license-expression-invalid",
    "noncommercial-license",
    "commercial-use-unclear",
    "upstream-license-denied",
    "mau-cap-exceeded",
    "revenue-cap-exceeded",
    "eu-carve-out",
    "eu-carve-out-review",
    "hosting-restricted",
    "transparency-below-minimum",
    "transparency-unknown",
    "disclosure-below-minimum",
    "disclosure-unknown",
    "unsafe-serialization",
    "pickle-weights",
    "license-violation",
    "license-warning",
    "unknown-model",
    "exception-applied",
    "exception-expired",
)

#: Keys that mean "no usable licence": they are judged by ``licenses.unknown``.
UNKNOWN_KEYS = frozenset({"", "unknown", "none", "other", "noassertion"})

#: EU carve-outs bind EU-domiciled licensees: the Union itself, the EEA label and the 27 members.
EU_REGIONS = frozenset(
    {"EU", "EEA", "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"}
    | {"IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
)

#: Pipeline tags / tags that make a model multimodal for the EU carve-outs (text-only models are exempt).
_MULTIMODAL_MARKERS = ("image", "vision", "video", "visual", "multimodal", "audio", "speech", "any-to-any")

#: Words in a model id that name a multimodal variant (``Llama-3.2-11B-Vision``, ``Qwen2.5-VL-7B``).
_MULTIMODAL_ID_WORDS = frozenset({"vision", "vl", "multimodal", "omni", "llava", "mm"})

#: Weight-file suffixes that are pickles (code can run on load).
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".dill")

#: Obligations triggered by handing the model (or a derivative) to someone else.
_REDISTRIBUTION_KINDS = frozenset(
    {"notice", "license-copy", "mark-modifications", "name-prefix", "share-alike", "attribution"}
    | {"same-license-required", "no-derivatives"}
)
#: Obligations triggered by handing the model to others *or* letting others use it as a service:
#: RAIL and vendor licences make the licensee bind "users who use the Model" (a hosted service's
#: users too) to the use restrictions, and AGPL §13 owes network users the source.
_OTHERS_USE_KINDS = frozenset({"use-restrictions-flow-down", "network-source-offer"})
#: Obligations triggered by any use beyond the organisation: a product, service or release must
#: display the phrase ("Built with Llama"); purely internal use displays nothing to anyone.
_PUBLIC_KINDS = frozenset({"display-phrase"})
_REDISTRIBUTING = frozenset({"on-device", "open-release"})


class PolicyError(ValueError):
    """A policy that cannot be used; ``field`` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"policy field '{field}': {message}" if field else f"policy: {message}")
        self.field = field


@dataclass(frozen=True)
class UseSpec:
    """How the organisation uses models (``use``): the facts licence conditions are checked against."""

    commercial: bool | None = None
    distribution: str | None = None
    monthly_active_users: int | None = None
    annual_revenue_usd: int | None = None
    regions: tuple[str, ...] = ()

    @property
    def in_eu(self) -> bool:
        return any(r.upper() in EU_REGIONS for r in self.regions)


@dataclass(frozen=True)
class LicenseRules:
    """``licenses``: class and key allow/deny lists and what to do with unknown licences."""

    allow_classes: tuple[str, ...] | None = None
    deny_classes: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    unknown: str = "deny"


@dataclass(frozen=True)
class PolicyException:
    """A model exempted by a person with a reason, until ``expires`` (inclusive)."""

    model: str
    reason: str
    expires: date | None = None

    def matches(self, model_id: str) -> bool:
        return fnmatch.fnmatchcase(model_id.lower(), self.model.lower())

    def active(self, today: date) -> bool:
        return self.expires is None or today <= self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "reason": self.reason,
            "expires": self.expires and self.expires.isoformat(),
        }


@dataclass(frozen=True)
class Policy:
    """A validated policy file (contract.md, "Policy file"). ``raw`` is the JSON-ready source."""

    name: str
    use: UseSpec = field(default_factory=UseSpec)
    licenses: LicenseRules = field(default_factory=LicenseRules)
    min_score: float = 0
    min_disclosure_level: int = 0
    allow_pickle: bool = False
    exceptions: tuple[PolicyException, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Reason:
    """Why a verdict is what it is. ``effect`` is what the reason does on its own."""

    code: str
    message: str
    clause: str = ""
    effect: Effect = "info"
    waived: bool = False  # a current exception overrides it

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "clause": self.clause,
            "effect": self.effect,
        }
        if self.waived:
            d["waived"] = True
        return d


@dataclass(frozen=True)
class ObligationNote:
    """A licence condition the user must honour; ``applies`` is false when the stated use does not trigger it."""

    code: str
    text: str
    clause: str = ""
    applies: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "clause": self.clause, "applies": self.applies}


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one model (the compliance API's ``results[]`` entry)."""

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    obligations: tuple[ObligationNote, ...] = ()
    exception: Mapping[str, Any] | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reasons": [r.to_dict() for r in self.reasons],
            "obligations": [o.to_dict() for o in self.obligations],
            "exception": dict(self.exception) if self.exception else None,
        }


# --------------------------------------------------------------------------- loading


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _jsonable(value: Any) -> Any:
    """YAML turns ``2027-06-30`` into a ``date``; the schema (and JSON) want the ISO string."""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _read_source(source: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    text: str
    if isinstance(source, Path) or ("\n" not in source and len(source) < 4096 and Path(source).is_file()):
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError("", f"cannot read {source}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise PolicyError("", f"{source} is not UTF-8 text (a policy is a YAML or JSON file)") from exc
    elif isinstance(source, str) and ("\n" in source or ":" in source or source.lstrip().startswith("{")):
        text = source
    else:
        raise PolicyError("", f"no such policy file: {source}")
    try:
        data = load_yaml_document(text)
    except ValueError as exc:
        raise PolicyError("", str(exc)) from exc
    if not isinstance(data, Mapping):
        raise PolicyError("", "must be a mapping with at least 'name'")
    return data


def load_policy(source: str | Path | Mapping[str, Any], *, known_licences: bool = True) -> Policy:
    """Load a policy from a file path, YAML/JSON text or a dict, validating it against the schema.

    Raises ``PolicyError`` whose ``field`` names the first offending field (``licenses.unknown``,
    ``exceptions[0].expires`` …), so a CI log points straight at the line to fix.

    ``known_licences=False`` (a document stored before ``licenses.allow``/``deny`` entries had to
    name a licence the knowledge base knows) keeps such an entry as the literal key it always was,
    instead of refusing the whole stored policy: every check naming it would fail.
    """
    data = _jsonable(_read_source(source))
    errors = sorted(_validator().iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        err = errors[0]
        path = ""
        for part in err.absolute_path:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = err.message
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            path = f"{path}.{missing}" if path else missing
            message = "is required"
        elif err.validator == "additionalProperties":
            extra = err.message.split("'")[1] if "'" in err.message else ""
            path = f"{path}.{extra}" if path else extra
            message = "is not a known field"
        raise PolicyError(path, message)
    for i, exc in enumerate(data.get("exceptions") or []):
        if exc.get("expires"):
            try:
                date.fromisoformat(exc["expires"])
            except ValueError as e:
                raise PolicyError(f"exceptions[{i}].expires", f"not a date: {exc['expires']!r}") from e
    lic = data.get("licenses") or {}
    for list_name in ("allow", "deny") if known_licences else ():
        for i, entry in enumerate(lic.get(list_name) or ()):
            if _licence_key(entry) is None:  # a typo on a deny list denied nothing, silently
                raise PolicyError(
                    f"licenses.{list_name}[{i}]",
                    f"{entry!r} is not a licence the knowledge base knows; use its key (apache-2.0, "
                    "llama3.1, cc-by-nc-4.0 …), SPDX id or name, or unknown / none",
                )
    return _build(data)


def _licence_key(entry: str) -> str | None:
    """The knowledge-base key a policy's ``licenses.allow``/``deny`` entry names, None if none.

    Entries are compared with the report's ``license.key``: an SPDX id (``GPL-3.0-only``) or a
    spelling (``llama-3.3``) that is not the key itself matched nothing, so it is resolved here.
    """
    from licenses.engine.kb import default_kb

    kb = default_kb()
    text = entry.strip()
    if text.casefold() in UNKNOWN_KEYS or kb.is_unresolved_id(text):
        return text.casefold()
    info = kb.lookup(text) or kb.lookup(text.casefold())
    return info.key if info is not None else None


def _build(data: Mapping[str, Any]) -> Policy:
    use = data.get("use") or {}
    lic = data.get("licenses") or {}
    tr = data.get("transparency") or {}
    ser = data.get("serialization") or {}
    allow_classes = lic.get("allow_classes")
    return Policy(
        name=data["name"],
        use=UseSpec(
            commercial=use.get("commercial"),
            distribution=use.get("distribution"),
            monthly_active_users=use.get("monthly_active_users"),
            annual_revenue_usd=use.get("annual_revenue_usd"),
            regions=tuple(r.upper() for r in use.get("regions") or ()),
        ),
        licenses=LicenseRules(
            allow_classes=tuple(allow_classes) if allow_classes is not None else None,
            deny_classes=tuple(lic.get("deny_classes") or ()),
            allow=tuple(_licence_key(k) or k.lower() for k in lic.get("allow") or ()),
            deny=tuple(_licence_key(k) or k.lower() for k in lic.get("deny") or ()),
            unknown=lic.get("unknown", "deny"),
        ),
        min_score=tr.get("min_score", 0),
        min_disclosure_level=tr.get("min_disclosure_level", 0),
        allow_pickle=bool(ser.get("allow_pickle", False)),
        exceptions=tuple(
            PolicyException(
                model=e["model"],
                reason=e["reason"],
                expires=date.fromisoformat(e["expires"]) if e.get("expires") else None,
            )
            for e in data.get("exceptions") or ()
        ),
        raw=dict(data),
    )


# --------------------------------------------------------------------------- evaluation


def _kb_default() -> Any:
    from licenses.engine.kb import default_kb

    return default_kb()


def _fmt(n: float) -> str:
    return f"{int(n):,}" if float(n).is_integer() else f"{n:,.2f}"


def _pct(part: float, whole: float) -> str:
    pct = 100.0 * part / whole if whole else 0.0
    return f"{pct:.1f}%" if pct >= 0.1 or pct == 0 else f"{pct:.2g}%"


@dataclass
class _LicenseFacts:
    """One licence as the report and the knowledge base describe it."""

    key: str
    license_class: str
    commercial_use: str
    info: LicenseInfo | None


def _facts_for_key(
    key: str, kb: Any, fallback_class: str = "unknown", fallback_cu: str = "unknown"
) -> _LicenseFacts:
    info = None
    if key and key not in UNKNOWN_KEYS and kb is not None:
        info = kb.get(key) or kb.lookup(key)
    if info is not None:
        return _LicenseFacts(info.key, info.license_class, info.commercial_use, info)
    return _LicenseFacts(key or "unknown", fallback_class, fallback_cu, None)


class _Evaluator:
    """Collects reasons and obligations for one model; one instance per ``evaluate_model`` call."""

    def __init__(self, policy: Policy, report: Mapping[str, Any], today: date, kb: Any):
        self.policy = policy
        self.report = report
        self.today = today
        self.kb = kb
        self.reasons: list[Reason] = []
        self.obligations: list[ObligationNote] = []
        self._seen_obligations: set[tuple[str, str]] = set()

    def add(self, code: str, effect: Effect, message: str, clause: str = "") -> None:
        self.reasons.append(Reason(code, message, clause, effect))

    # ---- licence rules --------------------------------------------------------------

    def license_reasons(self, facts: _LicenseFacts, prefix: str = "") -> list[Reason]:
        """Reasons the licence itself gives, without caps; an empty deny list means it passes."""
        rules = self.policy.licenses
        key = facts.key.lower()
        out: list[Reason] = []
        label = f"{prefix}licence {facts.key} ({facts.license_class})"
        if key in rules.deny:
            return [
                Reason("license-denied", f"{label} is on the policy's deny list", "licenses.deny", "deny")
            ]
        explicitly_allowed = key in rules.allow
        if explicitly_allowed:
            out.append(Reason("license-allowed", f"{label} is on the policy's allow list", "licenses.allow"))
        elif key in UNKNOWN_KEYS or facts.license_class == "unknown":
            effect: Effect = {"deny": "deny", "warn": "warn"}.get(rules.unknown, "info")  # type: ignore[assignment]
            out.append(
                Reason(
                    "license-unknown",
                    f"{prefix}licence {facts.key!r} cannot be resolved to known terms (unknown: {rules.unknown})",
                    "licenses.unknown",
                    effect,
                )
            )
        elif facts.license_class in rules.deny_classes:
            out.append(
                Reason("license-class-denied", f"{label}: class is denied", "licenses.deny_classes", "deny")
            )
        elif rules.allow_classes is not None and facts.license_class not in rules.allow_classes:
            out.append(
                Reason(
                    "license-class-not-allowed",
                    f"{label}: class is not in allow_classes {list(rules.allow_classes)}",
                    "licenses.allow_classes",
                    "deny",
                )
            )
        if self.policy.use.commercial and (
            facts.commercial_use == "no" or (facts.info is not None and facts.info.has("noncommercial"))
        ):
            ob = facts.info.obligation("noncommercial") if facts.info else None
            out.append(
                Reason(
                    "noncommercial-license",
                    f"{label} does not allow commercial use, and the policy states commercial use",
                    ob.clause if ob else "use.commercial",
                    "deny",
                )
            )
        elif (
            self.policy.use.commercial
            and facts.commercial_use == "unknown"
            and key not in UNKNOWN_KEYS
            and facts.license_class != "unknown"
        ):
            out.append(
                Reason(
                    "commercial-use-unclear",
                    f"{label}: whether commercial use is allowed is not known",
                    "use.commercial",
                    "warn",
                )
            )
        return out

    def licence_passes(self, facts: _LicenseFacts) -> bool:
        return not any(r.effect == "deny" for r in self.license_reasons(facts))

    def judge_license(self) -> list[_LicenseFacts]:
        """Judge the model's own licence (or expression); returns the licences whose terms are in force."""
        lic = self.report.get("license") or {}
        key = str(lic.get("key") or "unknown")
        expr_text = expression_text(lic)
        if expr_text:
            chosen = self._judge_expression(expr_text)
            if chosen is not None:
                return chosen
        facts = _facts_for_key(
            key, self.kb, str(lic.get("class") or "unknown"), str(lic.get("commercial_use") or "unknown")
        )
        if facts.info is None:
            # The report's own class/commercial_use are authoritative when the KB has no entry.
            facts.license_class = str(lic.get("class") or facts.license_class)
            facts.commercial_use = str(lic.get("commercial_use") or facts.commercial_use)
        elif lic.get("commercial_use") == "no":
            # A report may know more than the licence text (a dataset whose verified terms are NC).
            facts.commercial_use = "no"
        self.reasons.extend(self.license_reasons(facts))
        return [facts]

    def _judge_expression(self, text: str) -> list[_LicenseFacts] | None:
        """OR passes when any branch passes, AND when all do; obligations follow the branches in force."""
        from licenses.engine.expression import ExpressionError, evaluate, leaves, parse_expression

        try:
            node = parse_expression(text, self.kb)
        except ExpressionError as exc:  # an unparsable expression is judged as the plain key below
            self.add(
                "license-expression-invalid", "info", f"licence expression {text!r} cannot be parsed: {exc}"
            )
            return None

        def passes(info: LicenseInfo | None) -> bool:
            return self.licence_passes(_facts_for_info(info))

        def weight(branch: list[Any]) -> tuple[int, int, int, int]:
            use = self.policy.use
            return burden((leaf.license for leaf in branch), lambda kind: obligation_applies(kind, use))

        passed = evaluate(node, passes)
        every = [_facts_for_leaf(leaf) for leaf in leaves(node)]
        in_force = [_facts_for_leaf(leaf) for leaf in _branch_in_force(node, passes, weight)]
        if passed:
            names = " AND ".join(f.key for f in in_force)
            how = " (the lightest passing choice: fewest limits on use, then fewest obligations)"
            how = how if _has_or(node) else ""
            self.add(
                "license-expression", "info", f"licence expression {text!r} is satisfied by {names}{how}"
            )
            for facts in in_force:
                self.reasons.extend(r for r in self.license_reasons(facts) if r.effect != "deny")
            return in_force
        self.add("license-expression", "info", f"no branch of licence expression {text!r} passes this policy")
        for facts in every:
            self.reasons.extend(self.license_reasons(facts))
        return every

    def judge_upstream(self) -> list[_LicenseFacts]:
        """Parents' licences bind a derivative too, and so do their parents' however far up
        (``lineage.ancestors`` with a recorded licence): judge each such licence as well."""
        out: list[_LicenseFacts] = []
        own = str((self.report.get("license") or {}).get("key") or "").lower()
        judged: set[str] = set()
        for key, name, _ in upstream_licences(self.report.get("lineage") or {}):
            if not key or key.lower() == own or key.lower() in UNKNOWN_KEYS or key.lower() in judged:
                continue
            facts = _facts_for_key(key, self.kb)
            if facts.info is None:
                continue
            judged.add(key.lower())
            for r in self.license_reasons(facts, prefix=f"upstream {name}: "):
                if r.effect == "deny":
                    self.reasons.append(Reason("upstream-license-denied", r.message, r.clause, "deny"))
            out.append(facts)
        return out

    # ---- conditions of the licences in force ----------------------------------------

    def note(self, code: str, text: str, clause: str = "", applies: bool = True) -> None:
        if (code, text) not in self._seen_obligations:
            self._seen_obligations.add((code, text))
            self.obligations.append(ObligationNote(code, text, clause, applies))

    def conditions(self, facts: _LicenseFacts) -> None:
        info = facts.info
        if info is None:
            return
        use = self.policy.use
        for ob in info.obligations:
            kind = ob.kind
            if kind == "mau-cap" and isinstance(ob.value, int | float):
                self._cap("mau", ob, use.monthly_active_users, "monthly active users", facts.key)
            elif kind == "revenue-cap" and isinstance(ob.value, int | float):
                self._cap("revenue", ob, use.annual_revenue_usd, "USD annual revenue", facts.key)
            elif kind == "dau-cap" and isinstance(ob.value, int | float):
                self.note(
                    "dau-cap",
                    f"{facts.key}: at most {_fmt(ob.value)} daily active users. {ob.summary}",
                    ob.clause,
                )
            elif kind == "eu-carve-out":
                self._eu(ob, facts.key)
            else:
                if kind == "hosting-restricted" and use.distribution == "saas":
                    self.add("hosting-restricted", "warn", f"{facts.key}: {ob.summary}", ob.clause)
                # ``noncommercial`` is also judged in license_reasons (a deny under commercial use);
                # under a research policy it is the condition the user must keep to, so it is listed.
                text = ob.summary
                if ob.value is not None and str(ob.value) not in text:
                    text = f"{text} ({ob.value})" if text else str(ob.value)
                self.note(kind, f"{facts.key}: {text}", ob.clause, obligation_applies(kind, use))

    def _cap(self, what: str, ob: Any, stated: int | None, unit: str, key: str) -> None:
        cap = ob.value
        if stated is None:
            self.note(
                f"{what}-cap", f"{key}: cap of {_fmt(cap)} {unit}; the policy does not state them", ob.clause
            )
            return
        share = f"{_fmt(stated)} {unit} is {_pct(stated, cap)} of the {_fmt(cap)} cap"
        if stated > cap:
            self.add(f"{what}-cap-exceeded", "deny", f"{key}: {share}. {ob.summary}".strip(), ob.clause)
        self.note(f"{what}-cap", f"{key}: {share}", ob.clause)

    def _eu(self, ob: Any, key: str) -> None:
        text = f"{key}: {ob.summary or ob.value}"
        self.note("eu-carve-out", text, ob.clause, self.policy.use.in_eu)
        if not self.policy.use.in_eu:
            return
        scope = f"{ob.summary} {ob.value or ''}".lower()
        multimodal_only = "multimodal" in scope or "vision" in scope
        modality = _is_multimodal(self.report)
        if not multimodal_only or modality is True:
            self.add("eu-carve-out", "deny", f"{text}; the policy lists EU regions", ob.clause)
        elif modality is None:
            self.add(
                "eu-carve-out-review",
                "warn",
                f"{text}; the policy lists EU regions and the model's modality is not known",
                ob.clause,
            )

    # ---- everything else ------------------------------------------------------------

    def transparency(self) -> None:
        pol = self.policy
        if pol.min_score > 0:
            score = (self.report.get("transparency") or {}).get("score")
            if score is None:
                self.add(
                    "transparency-unknown", "warn", f"no transparency score; the policy wants {pol.min_score}"
                )
            elif score < pol.min_score:
                self.add(
                    "transparency-below-minimum",
                    "deny",
                    f"transparency score {score} is below the policy minimum {pol.min_score}",
                    "transparency.min_score",
                )
        if pol.min_disclosure_level > 0:
            level = (self.report.get("data") or {}).get("disclosure_level")
            if level is None:
                self.add(
                    "disclosure-unknown",
                    "warn",
                    f"training-data disclosure level unknown; the policy wants {pol.min_disclosure_level}",
                )
            elif level < pol.min_disclosure_level:
                self.add(
                    "disclosure-below-minimum",
                    "deny",
                    f"training-data disclosure level {level} is below the policy minimum {pol.min_disclosure_level}",
                    "transparency.min_disclosure_level",
                )

    def serialization_and_violations(self) -> None:
        for v in self.report.get("violations") or ():
            rule, severity = v.get("rule"), v.get("severity")
            message = f"{rule}: {v.get('message', '')}".strip()
            if rule == "unsafe-serialization":
                self.add("unsafe-serialization", "deny", message, v.get("clause") or "")
            elif v.get("status", "open") != "open":
                continue
            elif severity == "error":
                self.add("license-violation", "warn", message, v.get("clause") or "")
            else:
                self.add("license-warning", "info", message, v.get("clause") or "")
        for u in self.report.get("upstream_violations") or ():
            # a relicensed ancestor: the terms it dropped may still reach this model through it
            generations = "1 generation" if u.get("depth") == 1 else f"{u.get('depth')} generations"
            self.add(
                "upstream-violation",
                "warn",
                f"ancestor {u.get('model')} ({generations} up) has an open {u.get('rule')} finding: "
                f"{u.get('message', '')} The terms it should have kept may apply to this model too.",
                u.get("clause") or "",
            )
        pickles = _pickle_files(self.report)
        if pickles and not self.policy.allow_pickle:
            shown = ", ".join(pickles[:3]) + (" …" if len(pickles) > 3 else "")
            self.add(
                "pickle-weights",
                "deny",
                f"weights in pickle format can run code on load ({shown}); the policy does not allow pickle",
                "serialization.allow_pickle",
            )

    def decide(self, model_id: str) -> Decision:
        exception = None
        for exc in self.policy.exceptions:
            if not exc.matches(model_id):
                continue
            if exc.active(self.today):
                exception = exc
                break
            self.add(
                "exception-expired",
                "info",
                f"exception for {exc.model} expired on {exc.expires}; not applied ({exc.reason})",
                "exceptions",
            )
        reasons = self.reasons
        verdict: Verdict = "allow"
        for r in reasons:
            if _RANK[r.effect] > _RANK[verdict]:
                verdict = "deny" if r.effect == "deny" else "warn"
        exc_dict = None
        if exception is not None:
            exc_dict = exception.to_dict()
            reasons = [Reason(r.code, r.message, r.clause, r.effect, r.effect != "info") for r in reasons]
            until = f" until {exception.expires}" if exception.expires else ""
            reasons.append(
                Reason(
                    "exception-applied",
                    f"policy exception for {exception.model}{until}: {exception.reason}",
                    "exceptions",
                )
            )
            verdict = "allow"
        order = {"deny": 0, "warn": 1, "info": 2}
        reasons = sorted(reasons, key=lambda r: (r.waived, order[r.effect]))
        return Decision(verdict, tuple(reasons), tuple(self.obligations), exc_dict)


def unknown_model_decision(
    policy: Policy,
    model_id: str,
    today: date,
    detail: str = "",
    looked_in: str = "the registry or the bundled tables",
) -> Decision:
    """The verdict for a model nobody can describe (contract: ``unknown-model``, per ``licenses.unknown``).
    ``looked_in`` says where the caller looked (the audit: registry and bundled tables; the
    server's check: its own registry only, as the contract has it)."""
    ev = _Evaluator(policy, {}, today, None)
    effect: Effect = {"deny": "deny", "warn": "warn"}.get(policy.licenses.unknown, "info")  # type: ignore[assignment]
    msg = f"model {model_id} is not known to {looked_in}"
    ev.add("unknown-model", effect, f"{msg}{': ' + detail if detail else ''}", "licenses.unknown")
    return ev.decide(model_id)


def evaluate_model(
    policy: Policy, report: Mapping[str, Any] | None, today: date | None = None, kb: Any = None
) -> Decision:
    """Judge one analyze-JSON report against ``policy``; ``None`` means the model is unknown."""
    today = today or date.today()
    model_id = str((report or {}).get("id") or "")
    if not report or report.get("found") is False:
        return unknown_model_decision(policy, model_id or "?", today)
    kb = kb if kb is not None else _kb_default()
    ev = _Evaluator(policy, report, today, kb)
    in_force = ev.judge_license()
    in_force += ev.judge_upstream()
    for facts in in_force:
        ev.conditions(facts)
    ev.transparency()
    ev.serialization_and_violations()
    return ev.decide(model_id)


# --------------------------------------------------------------------------- helpers


def obligation_applies(kind: str, use: UseSpec) -> bool:
    """Whether the stated use triggers an obligation of ``kind`` (the note's ``applies``).

    No stated distribution is read as "may be handed on", so everything applies; ``internal``
    triggers only what binds any use (AUP, caps, non-commercial …); ``saas`` adds what binds
    letting others use the model (flow-down of use restrictions to the service's users, AGPL §13,
    hosting limits, display phrases); ``on-device`` / ``open-release`` hand the model over.
    """
    dist = use.distribution
    if dist is None:
        return True
    if kind in _REDISTRIBUTION_KINDS:
        return dist in _REDISTRIBUTING
    if kind == "hosting-restricted":  # running it as a service for others, not shipping it
        return dist == "saas"
    if kind in _OTHERS_USE_KINDS:
        return dist in _REDISTRIBUTING or dist == "saas"
    if kind in _PUBLIC_KINDS:
        return dist != "internal"
    return True


def _facts_for_info(info: LicenseInfo | None, symbol: str = "unknown") -> _LicenseFacts:
    if info is None:
        return _LicenseFacts(symbol or "unknown", "unknown", "unknown", None)
    return _LicenseFacts(info.key, info.license_class, info.commercial_use, info)


def _facts_for_leaf(leaf: Any) -> _LicenseFacts:
    return _facts_for_info(leaf.license, leaf.symbol)


def _branch_in_force(node: Any, passes: Any, weigh: Any = None) -> list[Any]:
    """The leaves whose terms apply: every leaf of an AND; of an OR, the passing branch the licensee
    would pick, the one whose obligations weigh least (``weigh``, ``obligations.burden``: commercial
    use barred, limits on use that apply, obligations that apply, then all; the first written wins
    a tie). The first passing branch was arbitrary: ``Apache-2.0 OR MIT`` told an
    open-release user to ship Apache's NOTICE, change marks and licence copy when MIT asks for
    the notice alone. No passing branch: every leaf (all their terms are shown with the denial)."""
    if node.op not in ("AND", "OR"):
        return [node]
    if node.op == "AND":
        return [leaf for kid in node.children for leaf in _branch_in_force(kid, passes, weigh)]
    candidates = []
    for kid in node.children:
        branch = _branch_in_force(kid, passes, weigh)
        if all(passes(leaf.license) for leaf in branch):
            candidates.append(branch)
    if candidates:
        return min(candidates, key=weigh) if weigh is not None else candidates[0]
    return [leaf for kid in node.children for leaf in _branch_in_force(kid, passes, weigh)]


def _has_or(node: Any) -> bool:
    return node.op == "OR" or any(_has_or(kid) for kid in getattr(node, "children", None) or ())


def _is_multimodal(report: Mapping[str, Any]) -> bool | None:
    """True/False from ``multimodal``, ``pipeline_tag`` or ``tags`` when the report has them (the
    analyze JSON keeps the pipeline tag under ``card``); else a modality word in the model id
    (``-Vision``, ``-VL``); else None (unknown, needs a human)."""
    if report.get("multimodal") is not None:
        return bool(report["multimodal"])
    card = report.get("card")
    tag = report.get("pipeline_tag") or (card.get("pipeline_tag") if isinstance(card, Mapping) else None)
    tags = [str(t).lower() for t in report.get("tags") or ()]
    if tag or tags:
        hay = " ".join([str(tag or "").lower(), *tags])
        return any(m in hay for m in _MULTIMODAL_MARKERS)
    words = set(re.split(r"[-_/.\s]+", str(report.get("id") or "").lower()))
    return True if words & _MULTIMODAL_ID_WORDS else None


def _pickle_files(report: Mapping[str, Any]) -> list[str]:
    """Pickle weight files named by the report (``scan.pickle_files``, ``scan.files`` or ``files``)."""
    scan = report.get("scan") or {}
    found: list[str] = [str(p) for p in scan.get("pickle_files") or ()]
    for entry in scan.get("files") or ():
        if isinstance(entry, Mapping) and str(entry.get("format", "")).lower() == "pickle":
            found.append(str(entry.get("path") or entry.get("name")))
    names = report.get("files") or ()
    for entry in names:
        name = (
            entry if isinstance(entry, str) else (entry.get("path") if isinstance(entry, Mapping) else None)
        )
        if name and str(name).lower().endswith(PICKLE_SUFFIXES):
            found.append(str(name))
    return sorted(set(found))
