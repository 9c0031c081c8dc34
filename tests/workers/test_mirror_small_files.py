"""``small`` mode copies exactly the files the licence engine reads, so a mirrored model is judged
as ``modelhub analyze`` judges the same folder.

The mirror used to keep its own list of names (``LICENSE*``, ``NOTICE*``, a few configs): a licence
in ``MODEL_LICENSE.txt``, ``weights-license.md`` or ``ACCEPTABLE_USE_POLICY.md`` was read by the
engine on disk and never copied by the mirror, so the mirrored model was analysed without it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from hub.models import RepoFile, Repository, RevisionAnalysis
from licenses.engine.analyze import analyze_paths
from licenses.engine.snapshot import text_cap
from tests.fixtures.upstream.server import UpstreamServer
from tests.services import free_port
from workers.mirror.files import CopyOptions, UpstreamFile, choose
from workers.models import MirrorRun

#: Top-level names the engine reads that the mirror's own list skipped, beside names it copied.
ENGINE_READS = [
    "LICENSE",
    "LICENSE-MODEL",
    "LICENSE.txt",
    "licence.md",
    "MODEL_LICENSE.txt",
    "MODEL_LICENCE",
    "weights-license.md",
    "Model-Licence.txt",
    "NOTICE",
    "USE_POLICY.md",
    "ACCEPTABLE_USE_POLICY.md",
    "acceptable-use.txt",
    "COPYING",
    "config.json",
    "tokenizer_config.json",
    "generation_config.json",
    "adapter_config.json",
    "quantize_config.json",
    "manifest.yaml",
    "mergekit_config.yml",
    "mergekit_moe_config.yml",
    "model_index.json",
    "model.safetensors.index.json",
    "diffusion_pytorch_model.safetensors.index.json",
]
#: Names it does not read: nested licence files, configs it never opens, weights, look-alikes.
ENGINE_SKIPS = [
    "sub/LICENSE",
    "meta/USE_POLICY.md",
    "unet/diffusion_pytorch_model.safetensors.index.json",
    "pytorch_model.bin.index.json",
    "special_tokens_map.json",
    "preprocessor_config.json",
    "params.json",
    ".gitattributes",
    "responsible_ai_license.pdf",
    "Config.JSON",
    "tokenizer.json",
    "model.safetensors",
]


def upstream_file(path: str, size: int = 100, lfs: bool = False) -> UpstreamFile:
    return UpstreamFile(path, size, f"oid-{path}", ("a" * 64) if lfs else None)


def test_the_names_are_what_the_engine_says():
    """The lists above are not a second copy of the rule: the engine's own predicate decides them."""
    assert all(text_cap(name) for name in ENGINE_READS)
    assert not any(text_cap(name) for name in ENGINE_SKIPS)


def test_small_copies_exactly_what_the_engine_reads():
    files = [upstream_file(p) for p in ["README.md", *ENGINE_READS, *ENGINE_SKIPS]]
    chosen = [f.path for f in choose(files, CopyOptions(files="small"))]
    assert chosen == ["README.md", *sorted(ENGINE_READS)]
    # ``all`` adds what its patterns match on top of the same files
    chosen = [f.path for f in choose(files, CopyOptions(files="all", patterns=("*.safetensors",)))]
    assert chosen == ["README.md", *sorted([*ENGINE_READS, "model.safetensors"])]
    # ``none`` stays the card alone
    assert [f.path for f in choose(files, CopyOptions(files="none"))] == ["README.md"]


def test_small_keeps_its_size_cap_and_takes_a_licence_stored_in_lfs():
    options = CopyOptions(files="small", small_max=1000)
    files = [
        upstream_file("README.md"),
        upstream_file("LICENSE", size=1001),  # over the cap: listed, not copied
        upstream_file("MODEL_LICENSE.txt", size=1000, lfs=True),  # the engine reads it from the store alike
        upstream_file("NOTICE", size=None),  # size unknown: small only because the engine reads it
        upstream_file("pytorch_model.bin", size=10, lfs=True),
        upstream_file("data.csv", size=None),
    ]
    assert [f.path for f in choose(files, options)] == ["README.md", "MODEL_LICENSE.txt", "NOTICE"]


def test_small_copies_the_file_a_relative_license_link_names():
    """The classifier reads the file a relative ``license_link`` names, in a sub-folder too."""
    files = [
        upstream_file(p) for p in ["README.md", "meta-license/LICENSE.txt", "meta-license/NOTICE", "x/y.md"]
    ]
    small = CopyOptions(files="small")

    def chosen(card):
        return [f.path for f in choose(files, small, card)]

    assert chosen({"license": "other", "license_link": "meta-license/LICENSE.txt"}) == [
        "README.md",
        "meta-license/LICENSE.txt",
    ]
    # as the classifier finds it: ``./`` and a leading ``/`` dropped, any case, the last relative link
    assert chosen({"license_link": "./Meta-License/license.TXT"}) == ["README.md", "meta-license/LICENSE.txt"]
    assert chosen({"license_link": ["https://example.org/terms", "/meta-license/NOTICE"]}) == [
        "README.md",
        "meta-license/NOTICE",
    ]
    # a URL, a file the repository does not hold, or no card: nothing beyond the card
    assert chosen({"license_link": "https://example.org/meta-license/LICENSE.txt"}) == ["README.md"]
    assert chosen({"license_link": "meta-license/MISSING"}) == ["README.md"]
    assert chosen(None) == chosen({}) == ["README.md"]
    assert [f.path for f in choose(files, CopyOptions(files="none"), {"license_link": "x/y.md"})] == [
        "README.md"
    ]


# -- the mirrored model against ``modelhub analyze`` of the same folder --------------------------------


def _licence_text(corpus_dir: Path, key: str) -> bytes:
    path = corpus_dir / "license-texts" / f"{key}.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path.read_bytes()


@pytest.fixture
def repos(corpus_dir: Path) -> dict[str, dict[str, bytes]]:
    """Repositories whose terms live in files the mirror's old list skipped."""
    return {
        # the card says apache-2.0, the licence file is a non-commercial licence: a conflict
        "lab-test/relabelled": {
            "README.md": b"---\nlicense: apache-2.0\n---\n# A model\n",
            "MODEL_LICENSE.txt": _licence_text(corpus_dir, "llama-1"),
            "config.json": b'{"model_type": "llama"}',
        },
        # the card names no licence: a text file named for it decides
        "lab-test/file-licensed": {
            "README.md": b"---\ntags: [text-generation]\n---\n# Another model\n",
            "weights-license.md": _licence_text(corpus_dir, "llama2"),
            "ACCEPTABLE_USE_POLICY.md": _licence_text(corpus_dir, "llama2-use-policy"),
        },
        # ``license: other`` resolved through a licence file in a sub-folder the card links to
        "lab-test/linked": {
            "README.md": b"---\nlicense: other\nlicense_link: terms/LICENSE.txt\n---\n# A third model\n",
            "terms/LICENSE.txt": _licence_text(corpus_dir, "llama-1"),
        },
    }


def _verdict(result: dict) -> dict:
    """What a licence review reads: the licence answer, the obligations in force and the violations.

    ``modelhub analyze`` writes ``license.obligations``; the server derives them from the stored
    analysis when it shows them (model page), with the same function: both must agree."""
    from licenses.engine.obligations import obligations_in_force

    licence = {k: v for k, v in result["license"].items() if k != "obligations"}
    derived = obligations_in_force(result)
    assert result["license"].get("obligations", derived) == derived
    return {
        "license": licence,
        "obligations": derived,
        "violations": sorted((v["rule"], v["severity"], v.get("parent") or "") for v in result["violations"]),
    }


@pytest.mark.django_db(transaction=True)
def test_a_mirrored_model_is_judged_as_analyze_judges_its_folder(repos, tmp_path):
    with UpstreamServer(free_port()) as upstream:
        for repo_id, files in repos.items():  # a use policy kept in LFS is copied like any other
            upstream.state.put(repo_id, files, lfs=[n for n in files if n == "ACCEPTABLE_USE_POLICY.md"])
        out, err = io.StringIO(), io.StringIO()
        call_command(
            "mirror", "--upstream", upstream.url, "--no-progress", "--files", "small", stdout=out, stderr=err
        )
        assert " done: " in out.getvalue(), out.getvalue() + err.getvalue()
    run = MirrorRun.objects.get()
    assert (run.changed, run.failed) == (len(repos), 0)

    for repo_id, files in repos.items():
        folder = tmp_path / repo_id.replace("/", "__")
        for name, content in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
    on_disk = {r["id"]: r for r in analyze_paths([tmp_path])}

    for repo_id, files in repos.items():
        owner, name = repo_id.split("/")
        local = Repository.objects.get(namespace__name=owner, name=name)
        assert set(RepoFile.objects.filter(commit=local.head).values_list("path", flat=True)) == set(files)
        mirrored = RevisionAnalysis.objects.get(commit=local.head)
        assert mirrored.status == "done"
        assert _verdict(mirrored.result) == _verdict(on_disk[repo_id]), repo_id
    # and the verdicts are the ones the files carry
    assert ("metadata-file-mismatch", "error", "") in _verdict(on_disk["lab-test/relabelled"])["violations"]
    assert on_disk["lab-test/file-licensed"]["license"]["key"] == "llama2"
    assert on_disk["lab-test/linked"]["license"]["class"] == "noncommercial"


@pytest.mark.django_db(transaction=True)
def test_repositories_mirrored_under_older_read_rules_are_completed(repos, monkeypatch):
    """The copy options' key carries the engine's read rules: when they change, an unchanged
    upstream revision is fetched again and completed, not left judged without the new file."""
    import workers.mirror.files as files_module

    repo_id, files = "lab-test/relabelled", repos["lab-test/relabelled"]
    with UpstreamServer(free_port()) as upstream:
        upstream.state.put(repo_id, files)

        def mirror() -> MirrorRun:
            out = io.StringIO()
            call_command(
                "mirror", "--upstream", upstream.url, "--no-progress", "--files", "small",
                stdout=out, stderr=io.StringIO(),
            )  # fmt: skip
            assert " done: " in out.getvalue(), out.getvalue()
            return MirrorRun.objects.order_by("-pk").first()

        def copied() -> set[str]:
            local = Repository.objects.get(namespace__name="lab-test", name="relabelled")
            return set(RepoFile.objects.filter(commit=local.head).values_list("path", flat=True))

        with monkeypatch.context() as older:  # an engine that did not read MODEL_LICENSE.txt yet
            older.setattr(
                files_module, "text_cap", lambda name: 0 if name.startswith("MODEL_") else text_cap(name)
            )
            older.setattr(files_module, "text_read_rules", lambda: "older")
            mirror()
        assert copied() == set(files) - {"MODEL_LICENSE.txt"}
        again = mirror()
        assert (again.changed, again.failed) == (1, 0)
        assert copied() == set(files)
        local = Repository.objects.get(namespace__name="lab-test", name="relabelled")
        assert local.commits.count() == 1  # the same revision, completed
        found = {v["rule"] for v in RevisionAnalysis.objects.get(commit=local.head).result["violations"]}
        assert "metadata-file-mismatch" in found
        assert mirror().changed == 0  # and then unchanged again
