"""A third-party notices file beside the repository's own licence is not a metadata/file conflict.

59bcca7 made an agreeing licence file no longer silence a disagreeing one, exempting only files
named for the code; a ``LICENSE-THIRD-PARTY`` carrying a bundled dependency's MIT text beside an
Apache ``LICENSE`` (card: apache-2.0) became a ``metadata-file-mismatch`` error."""

from __future__ import annotations

import pytest

from tests.engine.test_classify import APACHE_IDENTIFIERS, LLAMA31_IDENTIFIERS, card, run

MIT = (
    "MIT License\n\nCopyright (c) 2024 Example\n\n"
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and "
    'associated documentation files (the "Software"), to deal in the Software without restriction, including '
    "without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell "
    "copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the "
    "following conditions:\n\nThe above copyright notice and this permission notice shall be included in all "
    "copies or substantial portions of the Software.\n\n"
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT '
    "LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO "
    "EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER "
    "IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE "
    "USE OR OTHER DEALINGS IN THE SOFTWARE.\n"
)
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
