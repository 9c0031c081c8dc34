"""Licence classification rules, on in-memory snapshots and a few real licence files."""

from __future__ import annotations

from pathlib import Path

import pytest

from licenses.engine.classify import classify
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.kb import default_kb
from licenses.engine.types import RepoSnapshot

REPOS = Path(__file__).resolve().parents[1] / "fixtures" / "repos"
LLAMA31_IDENTIFIERS = (REPOS / "acme__llama-mismatch" / "LICENSE").read_text()


def run(readme: str, **files: str):
    """Classify a repo whose README is ``readme`` and whose other files are ``files``
    (keyword names use ``__`` for ``.``: ``LICENSE__md`` is ``LICENSE.md``)."""
    texts = {"README.md": readme, **{k.replace("__", "."): v for k, v in files.items()}}
    snapshot = RepoSnapshot(id="t/t", files={k: len(v) for k, v in texts.items()}, texts=texts)
    return classify(snapshot, parse_front_matter(readme), default_kb())


def card(meta: str, body: str = "# Card\n") -> str:
    return f"---\n{meta}\n---\n{body}"


def test_exact_hub_id():
    f = run(card("license: apache-2.0"))
    assert (f.key, f.license_class, f.commercial_use, f.spdx) == (
        "apache-2.0",
        "osi-permissive",
        "yes",
        "Apache-2.0",
    )
    assert f.evidence[0].source == "metadata"
    assert f.confidence >= 0.85
    assert f.conflicts == ()


def test_list_means_and_most_restrictive_part_governs():
    f = run(card("license: [mit, cc-by-nc-4.0]"))
    assert f.key == "cc-by-nc-4.0"
    assert f.commercial_use == "no"
    assert f.spdx == "MIT AND CC-BY-NC-4.0"


def test_placeholder_in_list_is_dropped():
    f = run(card("license: [llama4, other]"))
    assert f.key == "llama4"
    assert f.spdx == default_kb().get("llama4").spdx


def test_spdx_or_expression_takes_the_least_restrictive_alternative():
    f = run(card("license: Apache-2.0 OR CC-BY-NC-4.0"))
    assert f.key == "apache-2.0"
    assert f.commercial_use == "yes"
    assert f.spdx == "Apache-2.0 OR CC-BY-NC-4.0"


def test_other_resolved_through_license_name():
    f = run(card("license: other\nlicense_name: deepseek-license"))
    assert (f.key, f.license_class) == ("deepseek", "rail")
    assert "license_name" in f.evidence[0].detail


def test_other_resolved_through_license_link_url():
    f = run(card("license: other\nlicense_link: https://mistral.ai/licences/MRL-0.1.md"))
    assert (f.key, f.commercial_use) == ("mrl", "no")


def test_other_resolved_through_linked_repo_file():
    f = run(card("license: other\nlicense_link: LICENSE.md"), LICENSE__md=LLAMA31_IDENTIFIERS)
    assert f.key == "llama3.1"
    assert any(e.source == "file:LICENSE.md" for e in f.evidence)


@pytest.mark.parametrize(
    ("meta", "reason_part"),
    [
        ("license: other", "license: other names no terms"),
        ("license: unknown", "license: unknown names no terms"),
        ("license: my-own-terms-v9", "'my-own-terms-v9' is not a known licence id"),
        ("license: other\nlicense_name: acme-secret-licence", "license_name 'acme-secret-licence'"),
    ],
)
def test_unresolvable_declarations_are_unknown_with_reason(meta, reason_part):
    f = run(card(meta))
    assert (f.key, f.license_class, f.commercial_use) == ("unknown", "unknown", "unknown")
    assert reason_part in f.reason


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        ("MIT AND", "AND requires two or more"),
        ("AND MIT", "invalid licence expression 'AND MIT'"),
        ("(MIT", "invalid licence expression '(MIT'"),
        ("apache-2.0 or", "OR requires two or more"),
    ],
)
def test_a_cut_expression_is_unresolved_and_says_why(declared, problem):
    """A card whose expression lost a licence must not pass as the licence left over."""
    f = run(card(f"license: {declared}"))
    assert (f.key, f.license_class) == ("unknown", "unknown")
    assert problem in f.reason


def test_a_cut_expression_beside_a_known_id_is_a_note():
    f = run(card("license:\n  - mit\n  - apache-2.0 AND"))
    assert f.key == "mit"
    assert any("AND requires two or more" in e.detail for e in f.evidence)


def test_unresolvable_license_name_is_not_overridden_by_body():
    f = run(
        card(
            "license: other\nlicense_name: acme-secret-licence",
            "## License\nBased on a model under the MIT license.\n",
        )
    )
    assert f.key == "unknown"


def test_family_id_is_rail_but_flagged():
    f = run(card("license: openrail"))
    assert (f.key, f.license_class) == ("openrail", "rail")
    assert any("family" in e.detail for e in f.evidence)
    assert f.confidence <= 0.6


def test_family_id_refined_by_licence_file_without_conflict(corpus_dir):
    text = (corpus_dir / "model-cards" / "CompVis__stable-diffusion-v1-4" / "LICENSE").read_text()
    f = run(card("license: openrail"), LICENSE=text)
    assert f.key == "creativeml-openrail-m"
    assert f.conflicts == ()


def test_family_id_is_not_refined_by_a_licence_of_another_family(corpus_dir):
    """``openrail`` names the OpenRAIL family; the DeepSeek licence is a RAIL licence of its own
    family, so it does not tell which OpenRAIL licence was meant: a conflict, not a refinement
    (it used to be taken silently because the classes matched)."""
    text = (corpus_dir / "license-texts" / "deepseek.txt").read_text()
    f = run(card("license: openrail"), LICENSE=text)
    assert f.key == "openrail"
    assert [c["file"] for c in f.conflicts] == ["deepseek"]


@pytest.mark.parametrize(
    ("declared", "key", "commercial"),
    [
        ("mit AND (apache-2.0 OR cc-by-nc-4.0)", "mit", "yes"),  # the licensee picks MIT AND Apache
        ("cc-by-nc-4.0 AND (mit OR apache-2.0)", "cc-by-nc-4.0", "no"),  # NC binds either way
        ("(mit AND cc-by-nc-4.0) OR apache-2.0", "apache-2.0", "yes"),
    ],
)
def test_a_mixed_expression_is_read_as_the_licensees_least_restrictive_choice(declared, key, commercial):
    f = run(card(f"license: {declared}"))
    assert (f.key, f.commercial_use) == (key, commercial)
    assert "(" in f.spdx  # the expression itself is kept as written


@pytest.mark.parametrize(
    ("declared", "key", "spdx"),
    [
        ("GPL-3.0-or-later", "gpl-3.0", "GPL-3.0-or-later"),
        ("gpl-3.0-or-later", "gpl-3.0", "GPL-3.0-or-later"),  # written canonically
        ("GPLv2+", "gpl-2.0", "GPL-2.0-or-later"),
        ("GPL-2.0+", "gpl-2.0", "GPL-2.0-or-later"),
        ("openrail++", "openrail++", "LicenseRef-scancode-bigscience-open-rail-m2"),  # a name, not "or later"
        ("openrail++ AND mit", "openrail++", "LicenseRef-scancode-bigscience-open-rail-m2 AND MIT"),
        (
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "gpl-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
        ("Apache-2.0 WITH LLVM-exception", "apache-2.0", "Apache-2.0 WITH LLVM-exception"),
        ("gpl-3.0", "gpl-3.0", "GPL-3.0-only"),
    ],
)
def test_the_spdx_form_keeps_or_later_and_exceptions(declared, key, spdx):
    """The knowledge base files GPL-3.0-only and -or-later under one key; the finding's SPDX form
    must still say which was declared (it used to turn every one into -only and drop WITH)."""
    f = run(card(f"license: {declared}"))
    assert (f.key, f.spdx) == (key, spdx)


def test_other_in_a_list_is_the_licence_its_license_name_names():
    """``[mit, other]`` with ``license_name``: the named licence is the other part of the AND
    (it used to be dropped as a placeholder, leaving plain MIT); unrecognised, it is noted."""
    f = run(card("license: [mit, other]\nlicense_name: llama3.1"))
    assert f.key == "llama3.1" and f.spdx.startswith("MIT AND ")
    g = run(card("license: [mit, other]\nlicense_name: acme-house-licence"))
    assert g.key == "mit" and any(
        "acme-house-licence" in e.detail and "only mit" in e.detail for e in g.evidence
    )


def test_license_none_is_no_licence():
    """``license: none`` says there is no licence (contract: key ``none``), not an unknown id."""
    f = run(card("license: none"))
    assert (f.key, f.spdx) == ("none", "NONE") and f.reason is None
    assert any("license: none" in e.detail for e in f.evidence)
    assert run(card("license: none"), LICENSE=LLAMA31_IDENTIFIERS).key == "llama3.1"  # a file still decides


def test_same_family_file_wins_and_conflict_is_recorded():
    f = run(card("license: llama3"), LICENSE=LLAMA31_IDENTIFIERS)
    assert f.key == "llama3.1"
    assert f.conflicts == (
        {
            "metadata": "llama3",
            "file": "llama3.1",
            "path": "LICENSE",
            "detail": "card metadata declares llama3 but LICENSE is the "
            f"{default_kb().get('llama3.1').name} text",
        },
    )


def test_other_family_file_keeps_metadata_and_records_conflict():
    f = run(card("license: mit"), LICENSE=LLAMA31_IDENTIFIERS)
    assert f.key == "mit"
    assert len(f.conflicts) == 1 and f.conflicts[0]["file"] == "llama3.1"
    assert f.confidence < 0.9


def test_agreeing_file_raises_confidence():
    alone = run(card("license: llama3.1"))
    agreed = run(card("license: llama3.1"), LICENSE=LLAMA31_IDENTIFIERS)
    assert agreed.key == alone.key == "llama3.1"
    assert agreed.confidence > alone.confidence
    assert agreed.conflicts == ()


def test_licence_file_alone_decides():
    f = run("# No front matter\n", LICENSE=LLAMA31_IDENTIFIERS)
    assert f.key == "llama3.1"
    assert f.evidence[-1].source == "file:LICENSE"


def test_use_policy_alone_does_not_decide(corpus_dir):
    aup = (corpus_dir / "model-cards" / "meta-llama__Llama-3.1-8B" / "USE_POLICY.md").read_text()
    f = run("# Card\n", USE_POLICY__md=aup)
    assert f.key == "unknown"
    assert "llama" in f.reason
    assert any(e.source == "file:USE_POLICY.md" for e in f.evidence)


def test_real_llama_licence_files(corpus_dir):
    for folder, key in [
        ("meta-llama__Meta-Llama-3-8B", "llama3"),
        ("meta-llama__Llama-3.3-70B-Instruct", "llama3.3"),
    ]:
        text = (corpus_dir / "model-cards" / folder / "LICENSE").read_text()
        assert run("# Card\n", LICENSE=text).key == key


def test_nothing_anywhere_is_none():
    f = run(card("tags: [x]", "# A card\nNo terms are mentioned.\n"))
    assert (f.key, f.license_class, f.commercial_use, f.spdx) == ("none", "unknown", "unknown", "NONE")


def test_template_placeholder_is_not_a_licence():
    f = run("# Model\n- **License:** [More Information Needed]\n")
    assert f.key == "none"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("This model is released under the Apache 2.0 license.\n", "apache-2.0"),
        ("## License\n\nCC BY-NC 4.0\n", "cc-by-nc-4.0"),
        ("[![License](https://img.shields.io/badge/License-MIT-yellow.svg)](LICENSE)\n", "mit"),
        ("- **License:** cc-by-sa-4.0\n", "cc-by-sa-4.0"),
        ("## Licence\nAvailable under Creative Commons (CC0) terms.\n", "cc0-1.0"),
    ],
)
def test_body_statements(body, key):
    f = run("# Model\n\n" + body)
    assert f.key == key
    assert f.evidence[-1].source == "body"
    assert f.confidence <= 0.6


def test_body_licence_section_naming_unknown_terms_is_unknown():
    f = run("# Model\n## License\nThe Acme Bespoke Research Terms apply.\n")
    assert f.key == "unknown"
    assert "Acme Bespoke" in f.reason


def test_non_string_metadata_values_do_not_crash():
    for meta in (
        "license: 42",
        "license: {a: b}",
        "license: [null, [x]]",
        "license: ''",
        "license_name: [1, 2]",
    ):
        assert run(card(meta)).key in {"none", "unknown"}


def test_compound_declaration_contradicted_by_file():
    f = run(card("license: [mit, apache-2.0]"), LICENSE=LLAMA31_IDENTIFIERS)
    assert f.key in {"mit", "apache-2.0"}
    assert [c["file"] for c in f.conflicts] == ["llama3.1"]
    assert f.conflicts[0]["metadata"] == "MIT AND Apache-2.0"


APACHE_IDENTIFIERS = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n"


def test_an_agreeing_file_does_not_silence_another_licence_file():
    # card apache-2.0; the weights' LICENSE is Llama 3.1, a short Apache file agrees with the card
    f = run(card("license: apache-2.0"), LICENSE=LLAMA31_IDENTIFIERS, LICENSE_2=APACHE_IDENTIFIERS)
    assert f.key == "apache-2.0"
    assert [c["file"] for c in f.conflicts] == ["llama3.1"]
    # same when the agreeing file is named for the code and the other for the model
    f = run(card("license: apache-2.0"), LICENSE_MODEL=LLAMA31_IDENTIFIERS, LICENSE_CODE=APACHE_IDENTIFIERS)
    assert [c["path"] for c in f.conflicts] == ["LICENSE_MODEL"]


def test_a_code_licence_beside_the_declared_weights_licence_is_no_conflict():
    f = run(card("license: llama3.1"), LICENSE=LLAMA31_IDENTIFIERS, LICENSE_CODE=APACHE_IDENTIFIERS)
    assert (f.key, f.conflicts) == ("llama3.1", ())
    # and with no metadata the weights' licence decides, not the code's
    assert (
        run("# No front matter\n", LICENSE_CODE=APACHE_IDENTIFIERS, LICENSE=LLAMA31_IDENTIFIERS).key
        == "llama3.1"
    )


def test_a_linked_licence_file_in_a_subfolder_is_read(tmp_path):
    from licenses.engine.snapshot import snapshot_from_dir

    readme = card("license: other\nlicense_link: terms/LICENSE.txt")
    (tmp_path / "README.md").write_text(readme)
    (tmp_path / "terms").mkdir()
    (tmp_path / "terms" / "LICENSE.txt").write_text(LLAMA31_IDENTIFIERS)
    snapshot = snapshot_from_dir(tmp_path, "t/t")
    f = classify(snapshot, parse_front_matter(readme), default_kb())
    assert f.key == "llama3.1"
    assert any(e.source == "file:terms/LICENSE.txt" for e in f.evidence)


@pytest.mark.parametrize(
    ("name", "code_only"),
    [("LICENSE-CODE", True), ("code_license.txt", True), ("LICENSE.CODE.md", True),
     ("LICENSE-CODELLAMA", False), ("LICENSE_DECODER", False), ("LICENSE", False)],
)  # fmt: skip
def test_only_a_file_named_for_code_counts_as_a_code_licence(name, code_only):
    from licenses.engine.classify import _code_only

    assert _code_only(f"sub/{name}") is code_only
