"""``modelhub audit`` end to end: exit codes, JSON contract fields, baseline, registry + cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from modelhub.cli import main

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_DENIED = {
    ("app/images.py", 15, "DeepFloyd/IF-I-XL-v1.0"),
    ("app/images.py", 24, "Gustavosta/Stable-Diffusion-Prompts"),
    ("app/inference.py", 13, "meta-llama/Llama-3.1-8B-Instruct"),
    ("app/inference.py", 14, "meta-llama/Llama-3.1-8B-Instruct"),
    ("configs/serve.json", 4, "meta-llama/Llama-3.2-11B-Vision-Instruct"),
    ("configs/train.yaml", 5, "tatsu-lab/alpaca"),
    ("notebooks/explore.ipynb", 39, "facebook/opt-125m"),
    ("scripts/fetch.sh", 7, "HuggingFaceH4/ultrachat_200k"),
}


def audit_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["audit", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_passing_policy_exits_0(capsys, codebase, pass_policy):
    code, data = audit_json(capsys, str(codebase), "--policy", str(pass_policy), "--offline")
    assert code == 0
    assert data["summary"]["deny"] == 0
    warned = {f["model"]: [r["code"] for r in f["reasons"] if r["effect"] == "warn"] for f in data["findings"]
              if f["verdict"] == "warn"}  # fmt: skip
    # The local support bot is labelled apache-2.0 but trained on a non-commercial dataset.
    assert warned == {
        "Gustavosta/Stable-Diffusion-Prompts": ["license-unknown"],
        "acme/support-bot": ["license-violation"],
    }
    assert len(data["findings"]) == 29


def test_failing_policy_exits_1_with_exact_denials(capsys, codebase, fail_policy):
    code, data = audit_json(capsys, str(codebase), "--policy", str(fail_policy), "--offline")
    assert code == 1
    denied = {(f["file"], f["line"], f["model"]) for f in data["findings"] if f["verdict"] == "deny"}
    assert denied == EXPECTED_DENIED
    for f in data["findings"]:  # contract fields
        assert {"model", "file", "line", "verdict", "reasons"} <= set(f)
        for r in f["reasons"]:
            assert {"code", "message", "clause"} <= set(r)
    by_model = {f["model"]: f for f in data["findings"]}
    assert [r["code"] for r in by_model["meta-llama/Llama-3.2-11B-Vision-Instruct"]["reasons"]] == [
        "mau-cap-exceeded",
        "eu-carve-out",
    ]
    qwen = by_model["Qwen/Qwen2.5-72B-Instruct"]
    assert qwen["verdict"] == "allow" and qwen["exception"]["expires"] == "2099-12-31"
    assert "exception-expired" in [r["code"] for r in by_model["DeepFloyd/IF-I-XL-v1.0"]["reasons"]]
    local = by_model["acme/support-bot"]
    assert (local["source"], local["local_path"], local["license"]["key"]) == (
        "local",
        "./models/acme__support-bot",
        "apache-2.0",
    )
    assert [(u["file"], u["line"]) for u in data["unresolved"]] == [
        ("app/inference.py", 28),
        ("scripts/fetch.sh", 8),
    ]


def test_warn_only_exits_0_but_reports(capsys, codebase, fail_policy):
    code = main(["audit", str(codebase), "--policy", str(fail_policy), "--offline", "--warn-only"])
    assert code == 0
    assert "DENY meta-llama/Llama-3.1-8B-Instruct" in capsys.readouterr().out


def test_unknown_model_under_unknown_deny(capsys, tmp_path):
    (tmp_path / "x.py").write_text("AutoModel.from_pretrained('nobody-knows/this-model')\n")
    policy = tmp_path / "p.yaml"
    policy.write_text("name: strict\n")
    code, data = audit_json(capsys, str(tmp_path), "--policy", str(policy), "--offline")
    assert code == 1
    assert [r["code"] for r in data["findings"][0]["reasons"]] == ["unknown-model"]
    policy.write_text("name: lenient\nlicenses: {unknown: warn}\n")
    code, data = audit_json(capsys, str(tmp_path), "--policy", str(policy), "--offline")
    assert code == 0 and data["findings"][0]["verdict"] == "warn"


@pytest.mark.parametrize(
    ("policy_text", "needle"),
    [("use: {commercial: yes-please}\nname: x\n", "use.commercial"), ("licenses: {}\n", "name")],
)
def test_bad_policy_exits_2_naming_the_field(capsys, tmp_path, codebase, policy_text, needle):
    policy = tmp_path / "bad.yaml"
    policy.write_text(policy_text)
    assert main(["audit", str(codebase), "--policy", str(policy)]) == 2
    assert needle in capsys.readouterr().err


def test_unreadable_path_exits_2(capsys, pass_policy):
    assert main(["audit", "/nonexistent/code", "--policy", str(pass_policy)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_output_file_and_console_script(tmp_path, codebase, pass_policy):
    out = tmp_path / "report.sarif"
    cli = [sys.executable, "-m", "modelhub.cli", "audit", str(codebase), "--policy", str(pass_policy)]
    proc = subprocess.run(
        [*cli, "--offline", "--format", "sarif", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert "PASSED" in proc.stdout  # a human summary still goes to the console


def test_step_summary_is_appended(monkeypatch, capsys, tmp_path, codebase, fail_policy):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    main(["audit", str(codebase), "--policy", str(fail_policy), "--offline"])
    text = summary.read_text()
    assert text.startswith("# earlier step\n") and "Model licence audit: ❌ failed" in text


# --------------------------------------------------------------------------- baseline


def test_baseline_accepts_findings_and_survives_moved_code(capsys, tmp_path, codebase, fail_policy):
    work = tmp_path / "code"
    shutil.copytree(codebase, work)
    baseline = tmp_path / "baseline.json"
    assert (
        main(
            [
                "audit",
                str(work),
                "--policy",
                str(fail_policy),
                "--offline",
                "--baseline",
                str(baseline),
                "--update-baseline",
            ]
        )
        == 0
    )
    stored = json.loads(baseline.read_text())
    assert {f["model"] for f in stored["findings"]} >= {
        "meta-llama/Llama-3.1-8B-Instruct",
        "tatsu-lab/alpaca",
    }
    assert all("line" not in f for f in stored["findings"])
    capsys.readouterr()

    # Moving code down does not invalidate the baseline.
    src = work / "app" / "inference.py"
    src.write_text("# moved\n# down\n" + src.read_text())
    code, data = audit_json(
        capsys, str(work), "--policy", str(fail_policy), "--offline", "--baseline", str(baseline)
    )
    assert code == 0
    llama = [f for f in data["findings"] if f["model"] == "meta-llama/Llama-3.1-8B-Instruct"]
    assert [f["line"] for f in llama] == [15, 16] and all(f["baselined"] for f in llama)

    # A new denied model is not covered.
    (work / "app" / "new.py").write_text("AutoModel.from_pretrained('facebook/opt-350m')\n")
    code, data = audit_json(
        capsys, str(work), "--policy", str(fail_policy), "--offline", "--baseline", str(baseline)
    )
    assert code == 1
    assert [f["model"] for f in data["findings"] if f["verdict"] == "deny" and not f["baselined"]] == [
        "facebook/opt-350m"
    ]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_a_baseline_and_reports_kept_inside_the_tree_are_not_read_as_code(
    capsys, tmp_path, codebase, fail_policy, fmt
):
    """The usual layout: the baseline committed at the repository's root, a report written there by
    a previous run. Both list the denied models; read as configuration, they failed the next run."""
    work = tmp_path / "code"
    shutil.copytree(codebase, work)
    args = ["audit", str(work), "--policy", str(fail_policy), "--offline"]
    baseline = work / "modelhub-baseline.json"
    assert main([*args, "--baseline", str(baseline), "--update-baseline"]) == 0
    assert main([*args, "--format", fmt, "--output", str(work / f"audit-report.{fmt}.json")]) == 1
    capsys.readouterr()
    code, data = audit_json(capsys, *args[1:], "--baseline", str(baseline))
    assert code == 0, [f for f in data["findings"] if not f["baselined"] and f["verdict"] == "deny"]
    assert not {f["file"] for f in data["findings"]} & {baseline.name, f"audit-report.{fmt}.json"}


def test_bad_baseline_exits_2(capsys, tmp_path, codebase, pass_policy):
    bad = tmp_path / "b.json"
    bad.write_text("[1, 2]")
    assert main(["audit", str(codebase), "--policy", str(pass_policy), "--baseline", str(bad)]) == 2


# --------------------------------------------------------------------------- registry and cache


class _Registry:
    """A fake registry on loopback: compliance check (or 404 for it) and model reports."""

    def __init__(
        self,
        compliance: bool = True,
        tamper: dict | None = None,
        private_needs: str | None = None,
        held_as: dict | None = None,
    ):
        self.requests: list[tuple[str, str, str | None, dict | None]] = []
        self.not_yet: set[str] = set()  # models answered as not held (not uploaded yet)
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, payload, error_code=None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                if error_code:
                    self.send_header("X-Error-Code", error_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                registry.requests.append(("POST", self.path, self.headers.get("Authorization"), body))
                if not compliance:
                    return self._send(404, {"detail": "not found"})
                results = []
                for requested in body["models"]:
                    m = (held_as or {}).get(
                        requested.casefold(), requested
                    )  # the id as the registry holds it
                    visible = private_needs is None or self.headers.get("Authorization") == private_needs
                    if m == "acme/private-model" and visible and m not in registry.not_yet:
                        reasons = [
                            {"code": "license-class-denied", "message": "server says no", "clause": "x"}
                        ]
                        results.append({"model": m, "verdict": "deny", "reasons": reasons, "obligations": [],
                                        "license": {"key": "cc-by-nc-4.0", "class": "noncommercial"}})  # fmt: skip
                    else:
                        unknown = [{"code": "unknown-model", "message": "not held", "clause": ""}]
                        results.append({"model": m, "verdict": "deny", "reasons": unknown, "obligations": []})
                results = [{**r, **(tamper or {})} for r in results]  # a registry answering off-contract
                self._send(200, {"policy": body["policy"]["name"], "results": results})

            def do_GET(self):
                registry.requests.append(("GET", self.path, self.headers.get("Authorization"), None))
                if self.path == "/api/models/acme/private-model":
                    lic = {"key": "mit", "class": "osi-permissive", "spdx": "MIT", "commercial_use": "yes"}
                    return self._send(200, {"id": "acme/private-model", "license": lic, "violations": []})
                self._send(404, {"error": "Repository not found"}, "RepoNotFound")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_registry_compliance_check_then_cache(monkeypatch, capsys, tmp_path, private_code, pass_policy):
    monkeypatch.setenv("MODELHUB_TOKEN", "secret-token")
    cache = tmp_path / "cache"
    args = [str(private_code), "--policy", str(pass_policy), "--cache-dir", str(cache)]
    with _Registry() as reg:
        code, data = audit_json(capsys, *args, "--registry", reg.url)
        assert [r[:3] for r in reg.requests] == [("POST", "/api/v1/compliance/check", "Bearer secret-token")]
        assert reg.requests[0][3]["policy"]["name"] == "research-internal"
        assert set(reg.requests[0][3]["models"]) == {"acme/private-model", "microsoft/phi-2"}
    assert code == 1
    verdicts = {f["model"]: (f["verdict"], f["source"]) for f in data["findings"]}
    # The server judged the private model; it does not hold phi-2, so the bundled table answers.
    assert verdicts == {"acme/private-model": ("deny", "registry"), "microsoft/phi-2": ("allow", "bundled")}

    # Server gone: the fresh cache answers, no network needed.
    code, data = audit_json(capsys, *args, "--registry", reg.url)
    assert {f["model"]: f["source"] for f in data["findings"]}["acme/private-model"] == "registry-cache"
    assert data["registry_errors"] == []

    # Stale cache (TTL 0) and --offline: still answered from the cache, marked stale.
    code, data = audit_json(capsys, *args, "--registry", reg.url, "--offline", "--cache-ttl", "0")
    private = next(f for f in data["findings"] if f["model"] == "acme/private-model")
    assert (private["verdict"], private["source"]) == ("deny", "registry-cache (stale)")


def test_the_cache_never_serves_one_tokens_answers_to_another(
    monkeypatch, capsys, tmp_path, private_code, pass_policy
):
    """A CI cache shared by pipelines with different tokens (or none): what the registry told the
    token that may read a private model (its licence, its verdict) went to every later caller."""
    cache = tmp_path / "cache"
    args = [str(private_code), "--policy", str(pass_policy), "--cache-dir", str(cache)]
    with _Registry(private_needs="Bearer owner-token") as reg:
        reg_args = [*args, "--registry", reg.url]
        monkeypatch.setenv("MODELHUB_TOKEN", "owner-token")
        _, data = audit_json(capsys, *reg_args)
        private = next(f for f in data["findings"] if f["model"] == "acme/private-model")
        assert (private["license"]["key"], private["source"]) == ("cc-by-nc-4.0", "registry")
        for token in ("", "someone-else"):
            monkeypatch.setenv("MODELHUB_TOKEN", token)
            _, data = audit_json(capsys, *reg_args)
            private = next(f for f in data["findings"] if f["model"] == "acme/private-model")
            assert private["source"] != "registry-cache", token
            assert private["license"] is None
            assert [r["code"] for r in private["reasons"]] == ["unknown-model"]
        # and each caller's own answers are still cached for it
        monkeypatch.setenv("MODELHUB_TOKEN", "owner-token")
        _, data = audit_json(capsys, *reg_args)
        private = next(f for f in data["findings"] if f["model"] == "acme/private-model")
        assert (private["license"]["key"], private["source"]) == ("cc-by-nc-4.0", "registry-cache")


def test_an_id_spelled_in_another_case_gets_the_registrys_answer(capsys, tmp_path, pass_policy):
    """The registry (like the Hub) finds `ACME/Private-Model` and answers as `acme/private-model`;
    the audit looked the answer up under the code's spelling, found none and denied it as unknown."""
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "app.py").write_text(
        'from transformers import AutoModel\nAutoModel.from_pretrained("ACME/Private-Model")\n'
    )
    with _Registry(held_as={"acme/private-model": "acme/private-model"}) as reg:
        code, data = audit_json(
            capsys, str(code_dir), "--policy", str(pass_policy), "--registry", reg.url,
            "--cache-dir", str(tmp_path / "c"),
        )  # fmt: skip
    assert code == 1  # the registry's deny, no longer an unknown model's
    (finding,) = data["findings"]
    assert finding["model"] == "ACME/Private-Model"
    assert (finding["source"], finding["license"]["key"]) == ("registry", "cc-by-nc-4.0")
    assert [r["code"] for r in finding["reasons"]] == ["license-class-denied"]


def test_not_held_is_asked_again_soon_not_cached_for_a_day(
    monkeypatch, capsys, tmp_path, private_code, pass_policy
):
    """CI ran before the model reached the registry (or before its analysis finished): the
    `unknown-model` answer was cached for the whole TTL, and every build for a day was red."""
    from licenses.engine import audit_registry

    args = [str(private_code), "--policy", str(pass_policy), "--cache-dir", str(tmp_path / "c")]
    with _Registry() as reg:
        reg.not_yet.add("acme/private-model")
        _, data = audit_json(capsys, *args, "--registry", reg.url)
        private = next(f for f in data["findings"] if f["model"] == "acme/private-model")
        assert [r["code"] for r in private["reasons"]] == ["unknown-model"]

        reg.not_yet.clear()  # uploaded and analysed
        # within a few minutes the cached answer still saves the request (a pipeline's second run)
        _, data = audit_json(capsys, *args, "--registry", reg.url)
        assert (
            next(f for f in data["findings"] if f["model"] == "acme/private-model")["source"]
            == "registry-cache"
        )
        # later it is asked again, long before the TTL (1 h) is over
        for entry in (tmp_path / "c").rglob("*.json"):  # the cached answers grow older
            cached = json.loads(entry.read_text())
            cached["stored"] -= audit_registry.NEGATIVE_TTL + 1
            entry.write_text(json.dumps(cached))
        _, data = audit_json(capsys, *args, "--registry", reg.url)
    private = next(f for f in data["findings"] if f["model"] == "acme/private-model")
    assert (private["source"], private["license"]["key"]) == ("registry", "cc-by-nc-4.0")


def test_registry_without_compliance_endpoint_uses_model_reports(capsys, tmp_path, private_code, pass_policy):
    with _Registry(compliance=False) as reg:
        code, data = audit_json(
            capsys, str(private_code), "--policy", str(pass_policy), "--registry", reg.url,
            "--cache-dir", str(tmp_path / "c"),
        )  # fmt: skip
        assert ("GET", "/api/models/acme/private-model", None, None) in reg.requests
    assert code == 0
    private = next(f for f in data["findings"] if f["model"] == "acme/private-model")
    assert (private["verdict"], private["license"]["key"], private["source"]) == ("allow", "mit", "registry")


def test_unreachable_registry_is_reported_not_fatal(capsys, tmp_path, private_code, pass_policy):
    code, data = audit_json(
        capsys, str(private_code), "--policy", str(pass_policy), "--registry", "http://127.0.0.1:9",
        "--cache-dir", str(tmp_path / "c"),
    )  # fmt: skip
    assert data["registry_errors"] and "compliance/check" in data["registry_errors"][0]
    assert {f["model"]: f["verdict"] for f in data["findings"]} == {
        "acme/private-model": "warn",
        "microsoft/phi-2": "allow",
    }
    assert code == 0


def test_a_server_that_is_not_a_registry_is_a_registry_error_and_caches_nothing(
    capsys, tmp_path, private_code, pass_policy
):
    """``python -m http.server`` at the --registry address: POST 501, GET 404 with an HTML page. Every
    model used to read as "not held by the registry", and that was cached for a day."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_error(404, "File not found")

        def do_POST(self):
            self.send_error(501, "Unsupported method")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cache = tmp_path / "c"
        code, data = audit_json(
            capsys,
            str(private_code),
            "--policy",
            str(pass_policy),
            "--registry",
            url,
            "--cache-dir",
            str(cache),
        )
    finally:
        server.shutdown()
    assert code == 0  # as with an unreachable registry: reported, and the tables judge
    assert any("without the Hub's RepoNotFound" in e for e in data["registry_errors"])
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_a_pass_says_how_many_files_it_could_not_read(capsys, tmp_path, pass_policy):
    (tmp_path / "ok.py").write_text("AutoModel.from_pretrained('org/m')\n")
    (tmp_path / "new_syntax.py").write_text('m = AutoModel.from_pretrained(f"{cfg["m"]}"\n')
    assert main(["audit", str(tmp_path), "--policy", str(pass_policy), "--offline"]) == 0
    out = capsys.readouterr().out
    assert "PASSED, but 1 file could not be read (see the scan errors)" in out
    assert "scan error: new_syntax.py" in out


def test_a_refused_token_is_named_as_the_registry_error(
    capsys, tmp_path, private_code, pass_policy, monkeypatch
):
    """A wrong MODELHUB_TOKEN read as "compliance check answered HTTP 401", beside every model
    reported "not known to the registry": the error now says the token was refused."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.dumps({"error": {"code": "not-authenticated", "message": "Invalid token."}}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MODELHUB_TOKEN", "mh_not-a-real-token")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        _, data = audit_json(
            capsys, str(private_code), "--policy", str(pass_policy), "--registry", url,
            "--cache-dir", str(tmp_path / "c"),
        )  # fmt: skip
    finally:
        server.shutdown()
    (error,) = data["registry_errors"]
    assert "refused the token in MODELHUB_TOKEN (Invalid token.)" in error
    assert "mh_not-a-real-token" not in json.dumps(data)


def test_a_cached_answer_is_asked_again_after_an_hour_by_default(tmp_path, monkeypatch):
    """It stayed fresh for a day: a model relicensed on the registry kept passing a cached gate."""
    import time as clock

    from licenses.engine.audit_registry import JsonCache

    cache = JsonCache(tmp_path)
    cache.put("k", {"type": "result"})
    now = clock.time()
    monkeypatch.setattr(clock, "time", lambda: now + 50 * 60)
    assert cache.get("k").fresh
    monkeypatch.setattr(clock, "time", lambda: now + 70 * 60)
    assert not cache.get("k").fresh
