"""Policy loading and evaluation against the real knowledge base (no Django)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from licenses.engine.kb import default_kb
from licenses.engine.policy import REASON_CODES, Decision, PolicyError, evaluate_model, load_policy

TODAY = date(2026, 11, 23)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def report(key: str, model_id: str = "org/model", **extra) -> dict:
    """A minimal analyze-JSON report whose licence facts come from the knowledge base."""
    info = default_kb().get(key)
    lic = {
        "key": key,
        "class": info.license_class if info else "unknown",
        "spdx": info.spdx if info else None,
        "commercial_use": info.commercial_use if info else "unknown",
    }
    lic.update(extra.pop("license", {}))
    return {"id": model_id, "license": lic, "violations": [], **extra}


def judge(policy: dict | str, rep: dict | None, kb) -> Decision:
    pol = load_policy(policy if isinstance(policy, str) else {"name": "t", **policy})
    return evaluate_model(pol, rep, TODAY, kb)


# --------------------------------------------------------------------------- loading


def test_minimal_policy_defaults():
    pol = load_policy({"name": "minimal"})
    assert pol.licenses.unknown == "deny"
    assert pol.licenses.allow_classes is None
    assert pol.allow_pickle is False
    assert pol.min_score == 0


def test_load_from_file_and_text(tmp_path):
    text = "name: from-text\nuse:\n  regions: [eu, US]\nexceptions:\n  - model: a/b\n    reason: ok\n    expires: 2027-06-30\n"
    f = tmp_path / "p.yaml"
    f.write_text(text)
    for source in (f, str(f), text):
        pol = load_policy(source)
        assert pol.name == "from-text"
        assert pol.use.regions == ("EU", "US")
        assert pol.exceptions[0].expires == date(2027, 6, 30)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"use": {}}, "name"),
        ({"name": "x", "licenses": {"unknown": "maybe"}}, "licenses.unknown"),
        ({"name": "x", "use": {"distribution": "cloud"}}, "use.distribution"),
        ({"name": "x", "use": {"colour": "red"}}, "use.colour"),
        ({"name": "x", "licenses": {"allow_classes": ["permissive"]}}, "licenses.allow_classes[0]"),
        ({"name": "x", "use": {"monthly_active_users": -1}}, "use.monthly_active_users"),
        ({"name": "x", "exceptions": [{"model": "a/b"}]}, "exceptions[0].reason"),
        (
            {"name": "x", "exceptions": [{"model": "a/b", "reason": "r", "expires": "2027-02-30"}]},
            "exceptions[0].expires",
        ),
        ({"name": "x", "serialization": {"allow_pickle": "yes"}}, "serialization.allow_pickle"),
    ],
)
def test_invalid_policy_names_the_field(data, field):
    with pytest.raises(PolicyError) as err:
        load_policy(data)
    assert err.value.field == field
    assert field in str(err.value)


def test_unreadable_policy_file():
    with pytest.raises(PolicyError):
        load_policy(Path("/nonexistent/policy.yaml"))


# --------------------------------------------------------------------------- licence lists


def test_allow_classes_denies_everything_else(kb):
    pol = {"licenses": {"allow_classes": ["osi-permissive"]}}
    assert judge(pol, report("mit"), kb).verdict == "allow"
    d = judge(pol, report("gemma"), kb)
    assert d.verdict == "deny"
    assert "license-class-not-allowed" in d.codes


def test_deny_classes(kb):
    d = judge({"licenses": {"deny_classes": ["rail"]}}, report("openrail++"), kb)
    assert d.verdict == "deny" and d.codes[0] == "license-class-denied"
    assert judge({"licenses": {"deny_classes": ["rail"]}}, report("mit"), kb).verdict == "allow"


def test_allow_key_overrides_denied_class(kb):
    pol = {"licenses": {"deny_classes": ["vendor-community"], "allow": ["llama3.1"]}}
    assert judge(pol, report("llama3.1"), kb).verdict == "allow"
    assert judge(pol, report("gemma"), kb).verdict == "deny"


def test_allow_key_overrides_allow_classes(kb):
    pol = {"licenses": {"allow_classes": ["osi-permissive"], "allow": ["gemma"]}}
    assert judge(pol, report("gemma"), kb).verdict == "allow"


def test_deny_key_overrides_everything(kb):
    pol = {"licenses": {"allow_classes": ["osi-copyleft"], "allow": ["agpl-3.0"], "deny": ["agpl-3.0"]}}
    d = judge(pol, report("agpl-3.0"), kb)
    assert d.verdict == "deny" and d.codes == ("license-denied",)


@pytest.mark.parametrize(
    ("licenses", "field"),
    [
        ({"deny": ["mit", "agpl-3.O"]}, "licenses.deny[1]"),  # a typo denied nothing, silently
        ({"allow": ["llama9"]}, "licenses.allow[0]"),
        ({"deny": ["relicensed-derivative"]}, "licenses.deny[0]"),  # a rule id is not a licence
    ],
)
def test_a_licence_no_one_knows_on_a_list_is_named(licenses, field):
    with pytest.raises(PolicyError) as err:
        load_policy({"name": "x", "licenses": licenses})
    assert err.value.field == field


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("GPL-3.0-only", "gpl-3.0"),
        ("AGPL-3.0-or-later", "agpl-3.0"),
        ("llama-3.3", "llama3.3"),
        ("Apache 2.0", "apache-2.0"),
    ],
)
def test_spdx_ids_and_spellings_on_a_deny_list_deny_the_licence(kb, entry, key):
    """The deny list was compared with the report's key as written: `GPL-3.0-only` denied nothing."""
    d = judge({"licenses": {"deny": [entry]}}, report(key), kb)
    assert d.verdict == "deny" and d.codes == ("license-denied",)
    allowed = judge({"licenses": {"allow_classes": [], "allow": [entry]}}, report(key), kb)
    assert "license-allowed" in allowed.codes


def test_unknown_and_none_stay_usable_on_the_lists(kb):
    pol = load_policy({"name": "x", "licenses": {"deny": ["none", "unknown", "other"]}})
    assert set(pol.licenses.deny) == {"none", "unknown", "other"}


# --------------------------------------------------------------------------- expressions


def test_or_expression_passes_when_any_branch_passes(kb):
    pol = {"use": {"commercial": True}, "licenses": {"deny_classes": ["noncommercial"]}}
    rep = report("mit", license={"key": "other", "spdx": "MIT OR cc-by-nc-4.0"})
    d = judge(pol, rep, kb)
    assert d.verdict == "allow", d.reasons
    assert any(r.code == "license-expression" and "mit" in r.message for r in d.reasons)


def test_and_expression_needs_every_branch(kb):
    pol = {"use": {"commercial": True}, "licenses": {"deny_classes": ["noncommercial"]}}
    rep = report("mit", license={"key": "other", "spdx": "MIT AND cc-by-nc-4.0"})
    d = judge(pol, rep, kb)
    assert d.verdict == "deny"
    assert "noncommercial-license" in d.codes


def test_and_expression_collects_obligations_of_every_branch(kb):
    rep = report("apache-2.0", license={"spdx": "Apache-2.0 AND llama3.1"})
    d = judge({"use": {"monthly_active_users": 1000}}, rep, kb)
    assert d.verdict == "allow"
    assert any(o.code == "mau-cap" and "llama3.1" in o.text for o in d.obligations)
    assert any(o.text.startswith("apache-2.0") for o in d.obligations)


def test_or_expression_with_denied_key(kb):
    pol = {"licenses": {"deny": ["gpl-3.0"]}}
    assert judge(pol, report("mit", license={"spdx": "Apache-2.0 OR GPL-3.0"}), kb).verdict == "allow"
    assert judge(pol, report("mit", license={"spdx": "Apache-2.0 AND GPL-3.0"}), kb).verdict == "deny"


# --------------------------------------------------------------------------- commercial use and caps


def test_noncommercial_licence_vs_commercial_use(kb):
    assert "noncommercial-license" in judge({"use": {"commercial": True}}, report("cc-by-nc-4.0"), kb).codes
    assert judge({"use": {"commercial": False}}, report("cc-by-nc-4.0"), kb).verdict == "allow"


def test_report_commercial_no_wins_over_licence(kb):
    rep = report("cc-by-sa-3.0", license={"commercial_use": "no"})
    assert judge({"use": {"commercial": True}}, rep, kb).verdict == "deny"


def test_llama_700m_mau_cap(kb):
    d = judge({"use": {"monthly_active_users": 5_000_000}}, report("llama3.1"), kb)
    assert d.verdict == "allow"
    cap = next(o for o in d.obligations if o.code == "mau-cap")
    assert "5,000,000 monthly active users is 0.7% of the 700,000,000 cap" in cap.text
    d = judge({"use": {"monthly_active_users": 800_000_000}}, report("llama3.1"), kb)
    assert d.verdict == "deny" and "mau-cap-exceeded" in d.codes
    assert any(r.clause == "§2" for r in d.reasons)


def test_qwen_100m_mau_cap(kb):
    assert judge({"use": {"monthly_active_users": 99_000_000}}, report("qwen"), kb).verdict == "allow"
    d = judge({"use": {"monthly_active_users": 150_000_000}}, report("qwen"), kb)
    assert d.verdict == "deny"
    assert "150.0% of the 100,000,000 cap" in next(
        r.message for r in d.reasons if r.code == "mau-cap-exceeded"
    )


def test_cap_without_stated_use_is_an_obligation(kb):
    d = judge({}, report("llama3.1"), kb)
    assert d.verdict == "allow"
    assert "does not state" in next(o.text for o in d.obligations if o.code == "mau-cap")


def test_revenue_cap(kb):
    assert (
        judge({"use": {"annual_revenue_usd": 500_000}}, report("stabilityai-ai-community"), kb).verdict
        == "allow"
    )
    d = judge({"use": {"annual_revenue_usd": 20_000_000}}, report("stabilityai-ai-community"), kb)
    assert "revenue-cap-exceeded" in d.codes and d.verdict == "deny"


def test_obligations_show_display_phrase_and_notice(kb):
    d = judge({"use": {"distribution": "open-release"}}, report("llama3.1"), kb)
    codes = {o.code: o for o in d.obligations}
    assert "Built with Llama" in codes["display-phrase"].text
    assert codes["notice"].applies and codes["name-prefix"].applies
    d = judge({"use": {"distribution": "internal"}}, report("llama3.1"), kb)
    assert not {o.code: o for o in d.obligations}["notice"].applies


# --------------------------------------------------------------------------- EU carve-out


def test_eu_carve_out_denies_multimodal_model(kb):
    rep = report("llama3.2", "meta-llama/Llama-3.2-11B-Vision-Instruct")
    d = judge({"use": {"regions": ["EU", "US"]}}, rep, kb)
    assert d.verdict == "deny" and "eu-carve-out" in d.codes
    assert judge({"use": {"regions": ["US"]}}, rep, kb).verdict == "allow"
    assert judge({"use": {"regions": ["DE"]}}, rep, kb).verdict == "deny"


def test_eu_carve_out_text_only_model(kb):
    text_model = report("llama3.2", "meta-llama/Llama-3.2-1B", pipeline_tag="text-generation")
    assert judge({"use": {"regions": ["EU"]}}, text_model, kb).verdict == "allow"
    unknown_modality = report("llama3.2", "meta-llama/Llama-3.2-1B")
    d = judge({"use": {"regions": ["EU"]}}, unknown_modality, kb)
    assert d.verdict == "warn" and "eu-carve-out-review" in d.codes


@pytest.mark.parametrize(("tag", "verdict"), [("image-text-to-text", "deny"), ("text-generation", "allow")])
def test_eu_carve_out_reads_the_pipeline_tag_where_analyze_puts_it(kb, tag, verdict):
    """The analyze JSON keeps the pipeline tag under ``card``; the check used to look for it at
    the top level only, so every card-declared modality was 'unknown' (a warning, not a denial)."""
    from licenses.engine.analyze import analyze_snapshot
    from licenses.engine.types import RepoSnapshot

    card = f"---\nlicense: llama3.2\npipeline_tag: {tag}\n---\n# A model\n"
    rep = analyze_snapshot(
        RepoSnapshot(id="acme/model-a", files={"README.md": len(card)}, texts={"README.md": card})
    )
    assert rep["card"]["pipeline_tag"] == tag and "pipeline_tag" not in rep
    assert judge({"use": {"regions": ["DE"]}}, rep, kb).verdict == verdict


# --------------------------------------------------------------------------- unknown


@pytest.mark.parametrize(("setting", "verdict"), [("deny", "deny"), ("warn", "warn"), ("allow", "allow")])
def test_unknown_licence(kb, setting, verdict):
    d = judge({"licenses": {"unknown": setting}}, report("unknown"), kb)
    assert d.verdict == verdict and "license-unknown" in d.codes


@pytest.mark.parametrize(("setting", "verdict"), [("deny", "deny"), ("warn", "warn"), ("allow", "allow")])
def test_unknown_model(kb, setting, verdict):
    d = judge({"licenses": {"unknown": setting}}, None, kb)
    assert d.verdict == verdict and d.codes == ("unknown-model",)


def test_unknown_is_denied_by_default(kb):
    assert judge({}, report("other"), kb).verdict == "deny"


# --------------------------------------------------------------------------- serialization, transparency, violations


def test_pickle_weights(kb):
    rep = report("mit", files=["pytorch_model.bin", "config.json"])
    d = judge({}, rep, kb)
    assert d.verdict == "deny" and "pickle-weights" in d.codes
    assert judge({"serialization": {"allow_pickle": True}}, rep, kb).verdict == "allow"
    assert judge({}, report("mit", files=["model.safetensors"]), kb).verdict == "allow"


def test_unsafe_serialization_always_denied(kb):
    rep = report(
        "mit", violations=[{"rule": "unsafe-serialization", "severity": "error", "message": "os.system"}]
    )
    d = judge({"serialization": {"allow_pickle": True}}, rep, kb)
    assert d.verdict == "deny" and "unsafe-serialization" in d.codes


def test_transparency_minimums(kb):
    pol = {"transparency": {"min_score": 50, "min_disclosure_level": 2}}
    low = report("mit", transparency={"score": 20}, data={"disclosure_level": 1})
    d = judge(pol, low, kb)
    assert {"transparency-below-minimum", "disclosure-below-minimum"} <= set(d.codes) and d.verdict == "deny"
    ok = report("mit", transparency={"score": 80}, data={"disclosure_level": 3})
    assert judge(pol, ok, kb).verdict == "allow"
    d = judge(pol, report("mit"), kb)
    assert d.verdict == "warn" and {"transparency-unknown", "disclosure-unknown"} <= set(d.codes)


def test_open_error_violations_warn(kb):
    v = [
        {"rule": "relicensed-derivative", "severity": "error", "message": "NC parent"},
        {"rule": "missing-notice", "severity": "warning", "message": "no NOTICE"},
    ]
    d = judge({}, report("mit", violations=v), kb)
    assert d.verdict == "warn"
    assert "license-violation" in d.codes and "license-warning" in d.codes


def test_upstream_licence_is_judged(kb):
    rep = report(
        "apache-2.0", lineage={"base_models": [{"id": "meta-llama/Llama-3.1-8B", "license_key": "llama3.1"}]}
    )
    d = judge({"licenses": {"deny_classes": ["vendor-community"]}}, rep, kb)
    assert d.verdict == "deny" and "upstream-license-denied" in d.codes
    d = judge({"use": {"monthly_active_users": 1}}, rep, kb)
    assert any(o.code == "mau-cap" and o.text.startswith("llama3.1") for o in d.obligations)


# --------------------------------------------------------------------------- exceptions


def test_active_exception_allows_and_says_so(kb):
    pol = {
        "use": {"commercial": True},
        "exceptions": [{"model": "org/*", "reason": "legal ok, ticket 1", "expires": "2027-06-30"}],
    }
    d = judge(pol, report("cc-by-nc-4.0", "org/model"), kb)
    assert d.verdict == "allow"
    assert d.exception == {"model": "org/*", "reason": "legal ok, ticket 1", "expires": "2027-06-30"}
    assert d.codes[0] == "exception-applied"
    assert any(r.code == "noncommercial-license" and r.waived for r in d.reasons)


def test_expired_exception_does_not_apply(kb):
    pol = {
        "use": {"commercial": True},
        "exceptions": [{"model": "org/model", "reason": "x", "expires": "2026-11-22"}],
    }
    d = judge(pol, report("cc-by-nc-4.0", "org/model"), kb)
    assert d.verdict == "deny" and d.exception is None
    assert "exception-expired" in d.codes
    pol["exceptions"][0]["expires"] = "2026-11-23"  # the expiry day itself still counts
    assert judge(pol, report("cc-by-nc-4.0", "org/model"), kb).verdict == "allow"


def test_exception_for_other_model_is_ignored(kb):
    pol = {"use": {"commercial": True}, "exceptions": [{"model": "other/model", "reason": "x"}]}
    assert judge(pol, report("cc-by-nc-4.0", "org/model"), kb).verdict == "deny"


# --------------------------------------------------------------------------- documentation


def test_every_reason_code_is_documented():
    doc = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9-]+)`", doc))
    missing = [c for c in REASON_CODES if c not in documented]
    assert not missing, f"reason codes missing from docs/policies.md: {missing}"
