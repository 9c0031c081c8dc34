"""A third-party notices file beside the repository's own licence is not a metadata/file conflict.

59bcca7 made an agreeing licence file no longer silence a disagreeing one, exempting only files
named for the code; a ``LICENSE-THIRD-PARTY`` carrying a bundled dependency's MIT text beside an
Apache ``LICENSE`` (card: apache-2.0) became a ``metadata-file-mismatch`` error."""

from __future__ import annotations

import pytest

from tests.engine.test_classify import APACHE_IDENTIFIERS, LLAMA31_IDENTIFIERS, card, run

MIT = "MIT License\n\nCopyright (c) 2024 Example\n"  # identifying lines only: no licence text in the project
NOTICES = "Third-party software notices\n\nThe tokenizer bundles code from project X:\n\n" + MIT


@pytest.mark.parametrize("name", ["LICENSE-THIRD-PARTY", "LICENSE_THIRD_PARTY.md", "LICENSE-3RDPARTY.txt"])
def test_a_third_party_notices_file_is_no_conflict(name):
    f = run(card("license: apache-2.0"), LICENSE=APACHE_IDENTIFIERS, **{name: NOTICES})
    assert (f.key, f.conflicts) == ("apache-2.0", ())


def test_the_weights_licence_still_conflicts_beside_a_third_party_file():
    f = run(
        card("license: apache-2.0"),
        LICENSE=LLAMA31_IDENTIFIERS,
        LICENSE_2=APACHE_IDENTIFIERS,
        **{"LICENSE-THIRD-PARTY": NOTICES},
    )
    assert [c["path"] for c in f.conflicts] == ["LICENSE"]


def test_the_other_half_of_a_dual_osi_licence_is_no_conflict():
    """``LICENSE-MIT`` beside ``LICENSE-APACHE`` offers either; a card saying ``mit`` chose one."""
    f = run(card("license: mit"), LICENSE_MIT=MIT, LICENSE_APACHE=APACHE_IDENTIFIERS)
    assert (f.key, f.conflicts) == ("mit", ())
    # a vendor licence is never such an alternative, whatever its file is called
    f = run(card("license: apache-2.0"), LICENSE_APACHE=APACHE_IDENTIFIERS, LICENSE_LLAMA=LLAMA31_IDENTIFIERS)
    assert [c["file"] for c in f.conflicts] == ["llama3.1"]
    # nor is an OSI licence in a file that does not name it
    f = run(card("license: mit"), LICENSE_MIT=MIT, LICENSE=APACHE_IDENTIFIERS)
    assert [c["file"] for c in f.conflicts] == ["apache-2.0"]
