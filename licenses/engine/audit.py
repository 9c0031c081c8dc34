"""``modelhub audit``: every model a code base pulls in, judged by a policy, with file and line.

Pipeline: ``references.scan_paths`` finds the references statically → each distinct model is
resolved once → ``policy.evaluate_model`` judges it → one ``Finding`` per reference, so the same
model used in three files is reported at all three places.

Resolution order for a model id (first hit wins):

1. a local folder (``from_pretrained("./models/x")``) holding a README.md → ``analyze_paths``;
2. the registry (``--registry URL``, not ``--offline``): server-side compliance check, or the
   model's report judged locally; answers are cached on disk (see ``audit_registry``);
3. the cache, even stale, when the registry is unreachable or ``--offline`` is given;
4. the bundled base-model table (models) / bundled dataset-licence table (datasets);
5. otherwise the model is unknown: ``unknown-model`` / ``unknown-dataset``, judged by the
   policy's ``licenses.unknown``.

A baseline file holds fingerprints of accepted findings (kind, model, file, verdict and reason
codes — no line numbers, so moving code does not invalidate it); baselined findings are still
reported but do not fail the run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from licenses.engine.audit_registry import NEGATIVE_TTL, JsonCache, RegistryClient, RegistryError
from licenses.engine.policy import Policy, evaluate_model, unknown_model_decision
from licenses.engine.references import Reference, ScanError, scan_paths

BASELINE_VERSION = 1


@dataclass
class Finding:
    """One reference with the verdict its model gets."""

    model: str
    kind: str
    file: str
    line: int
    column: int
    call: str
    verdict: str
    reasons: list[dict[str, Any]]
    obligations: list[dict[str, Any]] = field(default_factory=list)
    license: dict[str, Any] | None = None
    source: str = ""
    exception: dict[str, Any] | None = None
    local_path: str | None = None
    cell: int | None = None
    cell_line: int | None = None
    baselined: bool = False

    @property
    def rules(self) -> list[str]:
        """Reason codes that moved the verdict (info reasons excluded), sorted."""
        return sorted(
            {r["code"] for r in self.reasons if r.get("effect", "deny") != "info" and not r.get("waived")}
        )

    @property
    def fingerprint(self) -> str:
        raw = "|".join([self.kind, self.model, self.file, self.verdict, ",".join(self.rules)])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "model": self.model,
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "call": self.call,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "obligations": self.obligations,
            "license": self.license,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "baselined": self.baselined,
        }
        for key in ("exception", "local_path", "cell", "cell_line"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d


@dataclass
class AuditResult:
    root: str
    policy: str
    findings: list[Finding] = field(default_factory=list)
    unresolved: list[Reference] = field(default_factory=list)
    local_paths: list[Reference] = field(default_factory=list)
    scan_errors: list[ScanError] = field(default_factory=list)
    registry_errors: list[str] = field(default_factory=list)
    files_scanned: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        c = {"allow": 0, "warn": 0, "deny": 0, "baselined": 0}
        for f in self.findings:
            c["baselined" if f.baselined and f.verdict != "allow" else f.verdict] += 1
        return c

    @property
    def failed(self) -> bool:
        return any(f.verdict == "deny" and not f.baselined for f in self.findings)

    def exit_code(self, warn_only: bool = False) -> int:
        return 0 if warn_only or not self.failed else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": "modelhub-audit",
            "root": self.root,
            "policy": self.policy,
            "summary": {
                **self.counts(),
                "findings": len(self.findings),
                "unresolved": len(self.unresolved),
                "files_scanned": self.files_scanned,
                "seconds": round(self.seconds, 3),
                "failed": self.failed,
            },
            "findings": [f.to_dict() for f in self.findings],
            "unresolved": [_unresolved_dict(r) for r in self.unresolved],
            "local_paths": [r.to_dict() for r in self.local_paths],
            "scan_errors": [e.to_dict() for e in self.scan_errors],
            "registry_errors": self.registry_errors,
        }


def _unresolved_dict(ref: Reference) -> dict[str, Any]:
    d = {
        "kind": ref.kind,
        "file": ref.file,
        "line": ref.line,
        "column": ref.column,
        "call": ref.call,
        "expression": ref.expression,
        "reason": ref.note or "the model id is not a static value",
    }
    if ref.cell is not None:
        d["cell"], d["cell_line"] = ref.cell, ref.cell_line
    return d


# --------------------------------------------------------------------------- reports from offline tables


def bundled_model_report(model_id: str, kb: Any) -> dict[str, Any] | None:
    """An analyze-shaped report from the bundled base-model table (licence only: no files, no score)."""
    from licenses.engine.basemodels import BundledBaseModels

    rec = BundledBaseModels.load().resolve(model_id, None)
    if rec is None:
        return None
    info = kb.get(rec.license_key) if kb is not None else None
    return {
        "id": rec.id,
        "license": {
            "key": rec.license_key,
            "class": info.license_class if info else (rec.license_class or "unknown"),
            "spdx": info.spdx if info else None,
            "commercial_use": info.commercial_use if info else "unknown",
            "evidence": [{"source": "bundled", "detail": "bundled base-model table"}],
        },
        "lineage": {"base_models": []},
        "violations": [],
    }


def bundled_dataset_report(dataset_id: str, kb: Any) -> dict[str, Any] | None:
    """A report for a dataset from the bundled dataset-licence table; verified licences win."""
    from licenses.engine.datasets import bundled

    entry = bundled().lookup(dataset_id)
    if entry is None:
        return None
    names = list(entry.verified) or [p for p in (entry.license or "").split("|") if p]
    info = next((i for i in (kb.lookup(n) for n in names) if i is not None), None) if kb is not None else None
    return {
        "id": entry.id,
        "license": {
            "key": info.key if info else "unknown",
            "class": info.license_class if info else "unknown",
            "spdx": info.spdx if info else None,
            "commercial_use": entry.commercial
            if entry.commercial != "unknown" or not info
            else info.commercial_use,
            "evidence": [
                {"source": entry.source or "dataset-table", "detail": ", ".join(names) or "no licence"}
            ],
        },
        "violations": [],
    }


# --------------------------------------------------------------------------- resolution


@dataclass
class _Resolved:
    decision: dict[str, Any]  # verdict, reasons, obligations, exception
    license: dict[str, Any] | None
    source: str
    model_id: str


class Auditor:
    """Resolves and judges models for one run; each distinct (kind, id) is resolved once."""

    def __init__(
        self,
        policy: Policy,
        *,
        registry: str | None = None,
        offline: bool = False,
        token: str | None = None,
        cache_dir: Path | None = None,
        cache_ttl: float | None = None,
        today: date | None = None,
        kb: Any = None,
    ):
        from licenses.engine.kb import default_kb

        self.policy = policy
        self.today = today or date.today()
        self.kb = kb if kb is not None else default_kb()
        self.offline = offline
        self.client = RegistryClient(registry, token) if registry else None
        self.cache = JsonCache(cache_dir, cache_ttl) if cache_ttl is not None else JsonCache(cache_dir)
        self.errors: list[str] = []
        self._policy_key = hashlib.sha256(
            json.dumps(policy.raw, sort_keys=True, default=str).encode()
        ).hexdigest()
        # Whose answers these are: a registry answers each token (and anonymous callers) with what
        # that caller may see, so one token's cached answers must never serve another.
        token = self.client.token if self.client else None
        self._caller_key = hashlib.sha256(token.encode()).hexdigest()[:32] if token else "anonymous"

    def judge(self, report: Mapping[str, Any] | None, model_id: str, kind: str, source: str) -> _Resolved:
        if report is None:
            decision = unknown_model_decision(self.policy, model_id, self.today)
            if kind == "dataset":
                decision = _renamed(
                    decision.to_dict(), "unknown-model", "unknown-dataset", "model", "dataset"
                )
            else:
                decision = decision.to_dict()
            return _Resolved(decision, None, "unknown", model_id)
        d = evaluate_model(self.policy, report, self.today, self.kb).to_dict()
        lic = report.get("license") or {}
        return _Resolved(
            d, {"key": lic.get("key"), "class": lic.get("class")}, source, str(report.get("id") or model_id)
        )

    def resolve_all(self, refs: Iterable[Reference]) -> dict[tuple[str, str], _Resolved]:
        wanted: dict[tuple[str, str], Reference] = {}
        for r in refs:
            wanted.setdefault((r.kind, r.local_path or r.model or ""), r)
        out: dict[tuple[str, str], _Resolved] = {}
        hub_models: list[str] = []
        for (kind, key), ref in wanted.items():
            if ref.local_path:
                out[(kind, key)] = self._local(ref)
            elif kind == "model":
                hub_models.append(key)
        registry_answers = self._registry(hub_models) if self.client else {}
        for kind, key in wanted:
            if (kind, key) in out:
                continue
            answer = registry_answers.get(key)
            if answer is not None and not _is_unknown(answer):
                out[(kind, key)] = answer
                continue
            report = (
                bundled_model_report(key, self.kb)
                if kind == "model"
                else bundled_dataset_report(key, self.kb)
            )
            if report is not None:
                out[(kind, key)] = self.judge(
                    report, key, kind, "bundled" if kind == "model" else "dataset-table"
                )
            elif answer is not None:
                out[(kind, key)] = answer
            else:
                out[(kind, key)] = self.judge(None, key, kind, "unknown")
        return out

    def _local(self, ref: Reference) -> _Resolved:
        from licenses.engine.analyze import analyze_paths

        folder = Path(ref.local_path or "")
        reports = analyze_paths([folder], self.kb)  # the folder itself is the repository: the first one
        return self.judge(reports[0] if reports else None, ref.model or str(folder), ref.kind, "local")

    def _cache_key(self, model_id: str, what: str) -> str:
        assert self.client is not None
        policy_part = self._policy_key if what == "result" else ""
        return f"{self.client.base}|{self._caller_key}|{what}|{policy_part}|{model_id}"

    def _registry(self, models: list[str]) -> dict[str, _Resolved]:
        """Registry answers for ``models``: fresh cache, then the network, then stale cache."""
        out: dict[str, _Resolved] = {}
        stale: dict[str, Any] = {}
        ask: list[str] = []
        for m in models:
            hit = self.cache.get(self._cache_key(m, "result")) or self.cache.get(self._cache_key(m, "report"))
            if (
                hit is not None
                and hit.fresh
                and _not_held(hit.value)
                and hit.age >= min(NEGATIVE_TTL, self.cache.ttl)
            ):
                hit.fresh = False  # "not held" is asked again soon: the model may have been uploaded since
            if hit is not None and hit.fresh:
                out[m] = self._from_cached(m, hit.value, "registry-cache")
            else:
                ask.append(m)
                if hit is not None:
                    stale[m] = hit.value
        if ask and not self.offline:
            try:
                self._ask(ask, out)
            except RegistryError as exc:
                self.errors.append(str(exc))
        for m in ask:
            if m not in out and m in stale:
                out[m] = self._from_cached(m, stale[m], "registry-cache (stale)")
        return out

    def _ask(self, models: list[str], out: dict[str, _Resolved]) -> None:
        assert self.client is not None
        results = self.client.compliance_check(models, self.policy.raw)
        if results is not None:
            for m in models:
                result = results.get(m)
                if result is None:
                    continue
                value = {"type": "result", "result": result}
                self.cache.put(self._cache_key(m, "result"), value)
                out[m] = self._from_cached(m, value, "registry")
            return
        for m in models:
            report = self.client.model_report(m)
            value = {"type": "report", "report": report}
            self.cache.put(self._cache_key(m, "report"), value)
            out[m] = self._from_cached(m, value, "registry")

    def _from_cached(self, model_id: str, value: Mapping[str, Any], source: str) -> _Resolved:
        if value.get("type") == "result":
            r = value["result"]
            decision = {
                "verdict": r.get("verdict", "deny"),
                "reasons": list(r.get("reasons") or ()),
                "obligations": list(r.get("obligations") or ()),
                "exception": r.get("exception"),
            }
            lic = r.get("license") or None
            license_summary = (
                {"key": lic.get("key"), "class": lic.get("class")} if isinstance(lic, Mapping) else None
            )
            return _Resolved(decision, license_summary, source, model_id)
        return self.judge(value.get("report"), model_id, "model", source)


def _not_held(value: Mapping[str, Any]) -> bool:
    """A cached registry answer saying it does not hold the model (or cannot judge it yet)."""
    if value.get("type") == "report":
        return value.get("report") is None
    reasons = (value.get("result") or {}).get("reasons") or ()
    return any(isinstance(r, Mapping) and r.get("code") == "unknown-model" for r in reasons)


def _is_unknown(answer: _Resolved) -> bool:
    return any(r.get("code") == "unknown-model" for r in answer.decision.get("reasons") or ())


def _renamed(decision: dict[str, Any], old: str, new: str, word: str, replacement: str) -> dict[str, Any]:
    for r in decision["reasons"]:
        if r["code"] == old:
            r["code"] = new
            r["message"] = r["message"].replace(word, replacement, 1)
    return decision


# --------------------------------------------------------------------------- baseline


def load_baseline(path: Path) -> set[str]:
    """Fingerprints from a baseline file; a missing file is an empty baseline."""
    if not path.exists():
        return set()
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or not isinstance(data.get("findings"), list):
        raise ValueError(f"{path}: not a modelhub audit baseline (expected an object with 'findings')")
    return {str(f["fingerprint"]) for f in data["findings"] if isinstance(f, Mapping) and "fingerprint" in f}


def write_baseline(path: Path, result: AuditResult) -> int:
    """Accept every current non-allow finding; returns how many were written."""
    rows = sorted(
        (
            {"fingerprint": f.fingerprint, "kind": f.kind, "model": f.model, "file": f.file}
            | {"verdict": f.verdict, "rules": f.rules}
            for f in result.findings
            if f.verdict != "allow"
        ),
        key=lambda r: (r["file"], r["model"], r["fingerprint"]),
    )
    unique = list({r["fingerprint"]: r for r in rows}.values())
    payload = {
        "version": BASELINE_VERSION,
        "tool": "modelhub-audit",
        "policy": result.policy,
        "findings": unique,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return len(unique)


# --------------------------------------------------------------------------- entry point


def run_audit(
    path: str | Path,
    policy: Policy,
    *,
    registry: str | None = None,
    offline: bool = False,
    token: str | None = None,
    cache_dir: Path | None = None,
    cache_ttl: float | None = None,
    baseline: set[str] | None = None,
    today: date | None = None,
    kb: Any = None,
) -> AuditResult:
    """Scan ``path`` and judge every model reference under ``policy``."""
    started = time.perf_counter()
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"no such file or folder: {root}")
    scan = scan_paths([root])
    result = AuditResult(
        root=str(root), policy=policy.name, scan_errors=scan.errors, files_scanned=scan.files_scanned
    )
    judged: list[Reference] = []
    for ref in scan.references:
        if not ref.resolved or ref.model is None:
            result.unresolved.append(ref)
        elif ref.local_path and not (Path(ref.local_path) / "README.md").is_file():
            result.local_paths.append(ref)
        else:
            judged.append(ref)
    auditor = Auditor(
        policy, registry=registry, offline=offline, token=token, cache_dir=cache_dir,
        cache_ttl=cache_ttl, today=today, kb=kb,
    )  # fmt: skip
    resolved = auditor.resolve_all(judged)
    baseline = baseline or set()
    for ref in judged:
        res = resolved[(ref.kind, ref.local_path or ref.model or "")]
        finding = Finding(
            model=res.model_id if ref.local_path else (ref.model or ""),
            kind=ref.kind,
            file=ref.file,
            line=ref.line,
            column=ref.column,
            call=ref.call,
            verdict=str(res.decision.get("verdict", "deny")),
            reasons=list(res.decision.get("reasons") or ()),
            obligations=list(res.decision.get("obligations") or ()),
            license=res.license,
            source=res.source,
            exception=res.decision.get("exception"),
            local_path=ref.model if ref.local_path else None,
            cell=ref.cell,
            cell_line=ref.cell_line,
        )
        finding.baselined = finding.fingerprint in baseline
        result.findings.append(finding)
    result.findings.sort(key=lambda f: (f.file, f.line, f.column, f.model))
    result.registry_errors = auditor.errors
    result.seconds = time.perf_counter() - started
    return result
