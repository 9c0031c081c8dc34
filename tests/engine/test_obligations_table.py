"""Table-driven check of "may we use this model, and what must we do?" over the knowledge base.

``FACTS`` carries over the facts of ``../shared/docs/licenses.md`` §2 (class, commercial use, the
conditions a user must honour as obligation kinds, caps, name prefixes, display phrases and notice
sentences), in the knowledge base's vocabulary; no licence prose. Each licence is then put through
``evaluate_model`` (what the compliance API, the audit and the catalogue answer) under the three
uses docs/policies.md describes — internal research, a commercial SaaS, an open release — to check
that every obligation reaches the user, once, marked as applying exactly when the stated use
triggers it; through an ``AND`` expression and through a base model (D-rules: a relabelled
derivative still carries its parent's terms). Notice sentences are compared with the licence texts
in ``../shared/corpus/license-texts`` when the corpus is there.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest

from licenses.engine.kb import default_kb
from licenses.engine.policy import evaluate_model, load_policy

TODAY = date(2026, 11, 25)

P, C, OC, SA, ND = (
    "osi-permissive",
    "osi-copyleft",
    "open-content",
    "open-content-sharealike",
    "no-derivatives",
)
R, V, NC = "rail", "vendor-community", "noncommercial"
COPY, MARK, NOTICE, ATTR, AUP = (
    "license-copy",
    "mark-modifications",
    "notice",
    "attribution",
    "acceptable-use-policy",
)
FLOW, SAME, OUTDERIV, NOOUT = (
    "use-restrictions-flow-down",
    "same-license-required",
    "outputs-are-derivatives",
    "no-output-training",
)
LLAMA_31 = {COPY, NOTICE, AUP, "mau-cap", "display-phrase", "name-prefix"}

#: key -> (class, commercial_use, obligation kinds the user must be told, values, kinds that must be absent).
#: Values: "mau-cap"/"dau-cap"/"revenue-cap" numbers, "name-prefix" exact, "display-phrase" and
#: "notice" words that must occur in the knowledge base's value.
FACTS: dict[str, tuple[str, str, set[str], dict[str, object], set[str]]] = {
    # §2.1 OSI and open content
    "apache-2.0": (P, "yes", {COPY, MARK, ATTR, NOTICE}, {}, set()),
    "mit": (P, "yes", {COPY}, {}, set()),
    "bsd-3-clause": (P, "yes", {COPY}, {}, set()),
    "openmdw-1.0": (OC, "yes", {NOTICE}, {}, set()),
    "gpl-3.0": (C, "yes", {SAME, COPY}, {}, set()),
    "agpl-3.0": (C, "yes", {SAME, COPY, "network-source-offer"}, {}, set()),
    "cc-by-4.0": (OC, "yes", {ATTR}, {}, {"noncommercial"}),
    "cc0-1.0": (OC, "yes", set(), {}, {ATTR}),
    "cdla-permissive-2.0": (OC, "yes", {COPY}, {}, {"share-alike"}),
    "odc-by": (OC, "yes", {ATTR}, {}, set()),
    "cc-by-sa-4.0": (SA, "yes", {ATTR, "share-alike"}, {}, set()),
    "cdla-sharing-1.0": (SA, "yes", {"share-alike"}, {}, set()),
    "odbl": (SA, "yes", {"share-alike", ATTR}, {}, set()),
    "cc-by-nd-4.0": (ND, "yes", {"no-derivatives", ATTR}, {}, set()),
    # §2.2 RAIL
    "openrail": (R, "yes", {FLOW}, {}, set()),
    "creativeml-openrail-m": (R, "yes", {FLOW, COPY, MARK, AUP, OUTDERIV}, {}, set()),
    "openrail++": (R, "yes", {FLOW, COPY, MARK, AUP, OUTDERIV}, {}, set()),
    "bigscience-openrail-m": (R, "yes", {FLOW, COPY, MARK, AUP}, {}, set()),
    "bigscience-bloom-rail-1.0": (R, "yes", {FLOW, COPY, MARK}, {}, set()),
    "bigcode-openrail-m": (R, "yes", {FLOW, AUP}, {}, set()),
    "deepseek": (R, "yes", {FLOW, COPY, AUP}, {}, {"mau-cap"}),
    # §2.3 vendor community
    "llama2": (V, "conditional", {COPY, NOTICE, AUP, NOOUT, "mau-cap"},
               {"mau-cap": 700_000_000, NOTICE: "Llama 2 is licensed under the LLAMA 2 Community License"},
               {"name-prefix", "display-phrase"}),
    "llama3": (V, "conditional", LLAMA_31 | {NOOUT},
               {"mau-cap": 700_000_000, "name-prefix": "Llama 3", "display-phrase": "Built with Meta Llama 3",
                NOTICE: "Meta Llama 3 is licensed under the Meta Llama 3 Community License"}, {"eu-carve-out"}),
    "llama3.1": (V, "conditional", LLAMA_31,
                 {"mau-cap": 700_000_000, "name-prefix": "Llama", "display-phrase": "Built with Llama",
                  NOTICE: "Llama 3.1 is licensed under"}, {NOOUT, "eu-carve-out"}),
    "llama3.2": (V, "conditional", LLAMA_31 | {"eu-carve-out"},
                 {"mau-cap": 700_000_000, "name-prefix": "Llama", "display-phrase": "Built with Llama",
                  NOTICE: "Llama 3.2 is licensed under"}, {NOOUT}),
    "llama3.3": (V, "conditional", LLAMA_31 | {"eu-carve-out"},
                 {"mau-cap": 700_000_000, "name-prefix": "Llama", "display-phrase": "Built with Llama",
                  NOTICE: "Llama 3.3 is licensed under"}, {NOOUT}),
    "llama4": (V, "conditional", LLAMA_31 | {"eu-carve-out"},
               {"mau-cap": 700_000_000, "name-prefix": "Llama", "display-phrase": "Built with Llama",
                NOTICE: "Llama 4 is licensed under"}, {NOOUT}),
    "gemma": (V, "yes", {FLOW, COPY, MARK, NOTICE, AUP, OUTDERIV},
              {NOTICE: "Gemma is provided under and subject to the Gemma Terms of Use"}, {"mau-cap"}),
    "tongyi-qianwen": (V, "conditional", {COPY, MARK, NOTICE, "mau-cap", NOOUT},
                       {"mau-cap": 100_000_000, NOTICE: "Tongyi Qianwen is licensed under the Tongyi Qianwen LICENSE AGREEMENT"},
                       set()),
    "qwen": (V, "conditional", {COPY, MARK, NOTICE, "mau-cap", "display-phrase"},
             {"mau-cap": 100_000_000, "display-phrase": "Built with Qwen", NOTICE: "Qwen is licensed under the Qwen LICENSE AGREEMENT"},
             {NOOUT}),
    "yi-license": (V, "conditional", {"registration-required", ATTR, COPY, MARK}, {}, set()),
    "baichuan2": (V, "conditional", {"dau-cap", "registration-required", COPY}, {"dau-cap": 1_000_000}, set()),
    "chatglm-6b": (V, "conditional", {"registration-required", COPY}, {}, set()),
    "dbrx": (V, "conditional", {COPY, NOTICE, MARK, NOOUT, AUP, "mau-cap"},
             {"mau-cap": 700_000_000, NOTICE: "DBRX is provided under and subject to the Databricks Open Model License"},
             set()),
    "stabilityai-ai-community": (V, "conditional",
                                 {"registration-required", "revenue-cap", COPY, NOTICE, "display-phrase", AUP, NOOUT},
                                 {"revenue-cap": 1_000_000, "display-phrase": "Powered by Stability AI",
                                  NOTICE: "This Stability AI Model is licensed under the Stability AI Community License"},
                                 set()),
    "nvidia-open-model-license": (V, "yes", {"guardrail-termination", COPY, NOTICE},
                                  {NOTICE: "Licensed by NVIDIA Corporation under the NVIDIA Open Model License"},
                                  {"mau-cap", "revenue-cap"}),
    "falcon-180b": (V, "conditional", {"hosting-restricted", AUP, FLOW, COPY, MARK, "display-phrase"},
                    {"display-phrase": "built using Falcon LLM technology from the Technology Innovation Institute"},
                    set()),
    "falcon-2-11b": (V, "yes", {AUP, FLOW, "display-phrase"},
                     {"display-phrase": "built using Falcon LLM technology from the Technology Innovation Institute"},
                     {"royalty"}),
    "falcon-llm": (V, "unknown", set(), {}, set()),
    "tii-falcon-llm-1.0": (V, "conditional", {"royalty"}, {}, set()),
    "apple-ascl": (V, "yes", {NOTICE}, {}, set()),
    # §2.4 non-commercial / research-only
    "cc-by-nc-4.0": (NC, "no", {"noncommercial", ATTR}, {}, set()),
    "cc-by-nc-sa-4.0": (NC, "no", {"noncommercial", "share-alike", ATTR}, {}, set()),
    "cc-by-nc-nd-4.0": (NC, "no", {"noncommercial", "no-derivatives", ATTR}, {}, set()),
    "llama-1": (NC, "no", {"noncommercial", SAME, COPY, NOTICE},
                {NOTICE: "LLaMA is licensed under the LLaMA license"}, set()),
    "opt-175b": (NC, "no", {"noncommercial", SAME, COPY, NOTICE},
                 {NOTICE: "OPT-175B is licensed under the OPT-175B license"}, set()),
    "sdxl-0.9": (NC, "no", {"noncommercial", SAME, COPY}, {}, set()),
    "deepfloyd-if-license": (NC, "no", {"noncommercial", SAME}, {}, set()),
    "sai-nc-community": (NC, "no", {"noncommercial", "hosting-restricted", AUP, SAME, COPY, NOTICE}, {}, set()),
    "stability-svd-nc-community": (NC, "no", {"noncommercial", AUP, SAME, COPY, NOTICE}, {}, set()),
    "stability-nc-community": (NC, "no", {"noncommercial", AUP, SAME, COPY, NOTICE}, {}, set()),
    "tongyi-qianwen-research": (NC, "no", {"noncommercial", COPY, MARK, NOTICE, NOOUT},
                                {NOTICE: "Tongyi Qianwen RESEARCH LICENSE AGREEMENT"}, set()),
    "qwen-research": (NC, "no", {"noncommercial"}, {}, set()),
    "mrl": (NC, "no", {"noncommercial", COPY, NOTICE, SAME},
            {NOTICE: "Licensed by Mistral AI under the Mistral AI Research License"}, set()),
    "mnpl": (NC, "no", {"noncommercial"}, {}, set()),
    "apple-amlr": (NC, "no", {"noncommercial", COPY, NOTICE, MARK},
                   {NOTICE: "Apple Machine Learning Research Model is licensed under the Apple Machine Learning Research Model License Agreement"},
                   set()),
    "fair-noncommercial-research-license": (NC, "no", {"noncommercial"}, {}, set()),
    "chameleon-research": (NC, "no", {"noncommercial", NOTICE},
                           {NOTICE: "Chameleon is licensed under the Chameleon Research License"}, set()),
}  # fmt: skip

#: The uses of docs/policies.md, with no class or key rules: only the licences' own terms decide.
POLICIES = {
    "research-internal": {"use": {"commercial": False, "distribution": "internal"}},
    "commercial-saas": {
        "use": {"commercial": True, "distribution": "saas", "monthly_active_users": 5_000_000}
    },
    "open-release": {"use": {"commercial": True, "distribution": "open-release"}},
}

#: Obligation kinds a use does not trigger (everything else applies). Handing the model over
#: triggers notices, copies, marks, naming and copyleft; offering it as a service binds the
#: service's users to the use restrictions (RAIL ¶5, Gemma §3.2, Llama AUP "allow others to
#: use"), owes them the source (AGPL §13), meets hosting limits and the display phrase; purely
#: internal use meets neither. No EU region is stated, so the EU carve-out never applies here.
HANDED_OVER = {NOTICE, COPY, MARK, ATTR, "name-prefix", "share-alike", SAME, "no-derivatives"}
NOT_TRIGGERED = {
    "research-internal": HANDED_OVER | {FLOW, "network-source-offer", "hosting-restricted", "display-phrase"},
    "commercial-saas": HANDED_OVER,
    "open-release": {"hosting-restricted"},
}


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def _report(key: str, kb, **lic) -> dict:
    info = kb.get(key)
    base = {"key": key, "class": info.license_class, "spdx": info.spdx, "commercial_use": info.commercial_use}
    return {"id": "acme/model", "license": {**base, **lic}, "violations": []}


def _judge(policy: str, report: dict, kb):
    return evaluate_model(load_policy({"name": policy, **POLICIES[policy]}), report, TODAY, kb)


def test_every_table_row_is_in_the_knowledge_base(kb):
    missing = [key for key in FACTS if kb.get(key) is None]
    assert not missing


@pytest.mark.parametrize("key", sorted(FACTS))
def test_knowledge_base_carries_the_facts_of_licenses_md(key, kb):
    cls, commercial, kinds, values, absent = FACTS[key]
    info = kb.get(key)
    assert (info.license_class, info.commercial_use) == (cls, commercial)
    have = {ob.kind for ob in info.obligations}
    assert kinds <= have, f"{key} lacks {sorted(kinds - have)}"
    assert not absent & have, f"{key} wrongly carries {sorted(absent & have)}"
    for kind, want in values.items():
        got = info.obligation(kind).value
        if isinstance(want, int) or kind == "name-prefix":
            assert got == want, (kind, got)
        else:
            assert str(want).casefold() in str(got).casefold(), (kind, got)


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("key", sorted(FACTS))
def test_compliance_answer_lists_every_obligation_once_and_when_it_applies(key, policy, kb):
    info = kb.get(key)
    decision = _judge(policy, _report(key, kb), kb)
    notes = [o for o in decision.obligations if o.text.startswith(f"{key}:")]
    by_kind = {o.code: o for o in notes}
    assert len(by_kind) == len(notes), f"duplicated obligations: {[o.code for o in notes]}"
    for ob in info.obligations:
        note = by_kind.get(ob.kind)
        assert note is not None, f"{key} under {policy}: {ob.kind} ({ob.clause}) not told to the user"
        assert note.clause == ob.clause
        expected = ob.kind not in NOT_TRIGGERED[policy] and ob.kind != "eu-carve-out"
        assert note.applies is expected, f"{key} under {policy}: {ob.kind} applies={note.applies}"
    commercial = POLICIES[policy]["use"]["commercial"]
    barred = commercial and info.commercial_use == "no"
    assert (decision.verdict == "deny") is barred, decision.to_dict()


@pytest.mark.parametrize("key", sorted(k for k, f in FACTS.items() if "noncommercial" in f[2]))
def test_research_use_of_a_noncommercial_licence_is_told_to_stay_noncommercial(key, kb):
    """Allowed for research, but the answer must say the use has to stay non-commercial."""
    decision = _judge("research-internal", _report(key, kb), kb)
    assert decision.verdict == "allow"
    note = next((o for o in decision.obligations if o.code == "noncommercial"), None)
    assert note is not None and note.applies and note.clause == kb.get(key).obligation("noncommercial").clause


def test_agpl_network_clause_applies_to_a_hosted_service(kb):
    decision = _judge("commercial-saas", _report("agpl-3.0", kb), kb)
    note = next(o for o in decision.obligations if o.code == "network-source-offer")
    assert note.applies and note.clause == "§13"
    assert not next(o for o in decision.obligations if o.code == "same-license-required").applies


def test_display_phrase_and_flow_down_follow_the_use(kb):
    internal = {o.code: o for o in _judge("research-internal", _report("llama3.1", kb), kb).obligations}
    saas = {o.code: o for o in _judge("commercial-saas", _report("llama3.1", kb), kb).obligations}
    assert not internal["display-phrase"].applies and saas["display-phrase"].applies
    assert not saas["name-prefix"].applies and not saas["notice"].applies
    rail = {
        o.code: o for o in _judge("commercial-saas", _report("creativeml-openrail-m", kb), kb).obligations
    }
    assert rail[FLOW].applies and rail[AUP].applies


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize("key", sorted(k for k, f in FACTS.items() if f[2] and f[1] != "no"))
def test_and_expression_carries_both_sets_of_obligations(key, kb):
    report = _report("apache-2.0", kb, spdx=f"Apache-2.0 AND {kb.get(key).spdx}")
    decision = _judge("open-release", report, kb)
    codes = {(o.text.split(":", 1)[0], o.code) for o in decision.obligations}
    for ob in kb.get("apache-2.0").obligations + kb.get(key).obligations:
        owner = "apache-2.0" if ob in kb.get("apache-2.0").obligations else key
        assert (owner, ob.kind) in codes, (owner, ob.kind)


@pytest.mark.parametrize("spdx", ["Apache-2.0 OR MIT", "MIT OR Apache-2.0", "apache-2.0 OR mit"])
def test_or_expression_takes_the_alternative_with_fewest_obligations_and_says_so(spdx, kb):
    decision = _judge("open-release", _report("apache-2.0", kb, spdx=spdx), kb)
    owners = {o.text.split(":", 1)[0] for o in decision.obligations}
    assert owners == {"mit"}
    said = next(r.message for r in decision.reasons if r.code == "license-expression")
    assert "satisfied by mit" in said and "fewest obligations" in said


def test_or_expression_skips_a_branch_the_policy_bars(kb):
    report = _report("apache-2.0", kb, spdx="CC-BY-NC-4.0 OR Apache-2.0")
    decision = _judge("commercial-saas", report, kb)
    assert decision.verdict == "allow"
    assert {o.text.split(":", 1)[0] for o in decision.obligations} == {"apache-2.0"}


def test_research_or_prefers_no_use_restriction_over_copyleft_never_shipped(kb):
    """Internal research: GPL's terms bind only what is handed over, NC binds the use itself."""
    report = _report("cc-by-nc-4.0", kb, spdx="CC-BY-NC-4.0 OR GPL-3.0-only")
    decision = _judge("research-internal", report, kb)
    assert {o.text.split(":", 1)[0] for o in decision.obligations} == {"gpl-3.0"}
    assert not any(o.applies for o in decision.obligations)


@pytest.mark.parametrize(
    ("spdx", "use", "chosen"),
    [
        # a research release may take either; CC-BY-NC's two obligations include "non-commercial
        # use only", Apache's four are notices and copies: the licensee takes Apache
        ("Apache-2.0 OR CC-BY-NC-4.0", {"commercial": False, "distribution": "open-release"}, "apache-2.0"),
        ("CC-BY-NC-4.0 OR Apache-2.0", {"commercial": False, "distribution": "open-release"}, "apache-2.0"),
        # one use-restriction flow-down is heavier than Apache's paperwork
        ("Apache-2.0 OR OpenRAIL", {"commercial": True, "distribution": "open-release"}, "apache-2.0"),
        ("CC-BY-ND-4.0 OR Apache-2.0", {"commercial": True, "distribution": "open-release"}, "apache-2.0"),
        # among alternatives that limit nothing, fewer obligations still wins
        ("Apache-2.0 OR CC-BY-4.0", {"commercial": True, "distribution": "open-release"}, "cc-by-4.0"),
    ],
)
def test_or_expression_never_picks_a_limit_on_use_to_save_paperwork(spdx, use, chosen, kb):
    decision = evaluate_model(
        load_policy({"name": "p", "use": use}), _report("apache-2.0", kb, spdx=spdx), TODAY, kb
    )
    assert decision.verdict == "allow"
    assert {o.text.split(":", 1)[0] for o in decision.obligations} == {chosen}


@pytest.mark.parametrize(
    ("spdx", "chosen"),
    [
        ("Apache-2.0 OR CC-BY-NC-4.0", "apache-2.0"),
        ("Apache-2.0 OR OpenRAIL", "apache-2.0"),
        ("CC-BY-ND-4.0 OR Apache-2.0", "apache-2.0"),
        ("Apache-2.0 OR CC-BY-4.0", "cc-by-4.0"),
        ("MIT OR Apache-2.0", "mit"),
    ],
)
def test_analyze_obligations_of_an_or_are_the_lightest_alternatives(spdx, chosen, kb):
    """``modelhub analyze``'s license.obligations (no policy): the same choice a licensee makes."""
    from licenses.engine.obligations import obligations_in_force

    report = _report("apache-2.0", kb, spdx=spdx)
    assert {o["license"] for o in obligations_in_force(report, kb)} == {chosen}


def test_with_exception_keeps_the_licence_obligations(kb):
    report = _report("apache-2.0", kb, spdx="Apache-2.0 WITH LLVM-exception")
    codes = {o.code for o in _judge("open-release", report, kb).obligations}
    assert {COPY, MARK, ATTR, NOTICE} <= codes


# --------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize("key", sorted(k for k, f in FACTS.items() if f[2]))
def test_relabelled_derivative_still_carries_its_parents_obligations(key, kb):
    """D1/D4/D6/D17: a fine-tune relabelled apache-2.0 is still bound by its base model's terms."""
    report = _report("apache-2.0", kb)
    report["lineage"] = {"base_models": [{"id": "up/base", "relation": "finetune", "license_key": key}]}
    decision = _judge("open-release", report, kb)
    codes = {o.code for o in decision.obligations if o.text.startswith(f"{key}:")}
    missing = {ob.kind for ob in kb.get(key).obligations} - codes
    assert not missing, f"parent {key}: {sorted(missing)} not passed on"
    if FACTS[key][1] == "no":
        assert decision.verdict == "deny"
        assert "upstream-license-denied" in decision.codes


# --------------------------------------------------------------------------- licence texts


#: knowledge-base key -> file in ../shared/corpus/license-texts (where the names differ).
CORPUS_FILES = {
    "falcon-180b": "falcon-180b-tii",
    "falcon-2-11b": "falcon-2-11b-tii",
    "stabilityai-ai-community": "stability-ai-community",
    "sai-nc-community": "stability-ai-nc-research-community",
    "stability-nc-community": "stability-ai-nc-community",
    "stability-svd-nc-community": "stability-ai-svd-nc-community",
    "sdxl-0.9": "sdxl-0.9-research",
}


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _phrase_cases() -> list[tuple[str, str, str]]:
    out = []
    for info in default_kb().all():
        for ob in info.obligations:
            if ob.kind in (NOTICE, "display-phrase", "name-prefix") and ob.value:
                out += [(info.key, ob.kind, v) for v in str(ob.value).split(" | ")]
    return out


@pytest.mark.parametrize(("key", "kind", "phrase"), _phrase_cases())
def test_required_phrases_are_the_licence_texts_own(key, kind, phrase, corpus_dir):
    """A notice sentence, display phrase or name prefix the user is told to use must be the one
    the licence text asks for (a wrong one fails the missing-notice check of a compliant child)."""
    path = corpus_dir / "license-texts" / f"{CORPUS_FILES.get(key, key)}.txt"
    if not path.is_file():
        pytest.skip(f"no licence text for {key} in the corpus")
    assert _fold(phrase) in _fold(path.read_text(encoding="utf-8", errors="replace"))
