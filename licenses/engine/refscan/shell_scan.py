"""Model references in shell scripts, Dockerfiles and CI ``run:`` blocks.

Why: weights are often fetched outside Python — ``huggingface-cli download`` / ``hf download`` in a
Dockerfile, ``git clone https://huggingface.co/…``, ``vllm serve org/name``, or a training script
called with ``--model_name_or_path org/name``. Variables assigned in the same file (``MODEL=…``,
``ENV``/``ARG``) are expanded; a variable the file never sets makes the reference unresolved.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from licenses.engine.refscan.ids import Reference, make_reference

#: ``--flag value`` options that name a model (True: bare single-segment ids allowed) or a dataset.
MODEL_FLAGS = {
    "model_name_or_path": True,
    "pretrained_model_name_or_path": True,
    "base_model": True,
    "tokenizer_name": True,
    "model": False,
    "model_id": False,
    "model_name": False,
    "tokenizer": False,
    "base_model_name_or_path": True,
    "adapter_name_or_path": False,
}
DATASET_FLAGS = {"dataset_name": True, "dataset": False, "dataset_id": False}
#: Options of ``huggingface-cli download`` / ``hf download`` that take a value (``--include`` and
#: ``--exclude`` take every value up to the next option, as argparse's ``nargs="*"`` does), so the
#: repository is the first argument that is neither an option nor an option's value. Other options
#: are switches (``--force-download``, ``--quiet``, ``--dry-run`` …).
_DOWNLOAD_VALUE_OPTIONS = {
    "--repo-type", "--revision", "--cache-dir", "--local-dir", "--token", "--max-workers",
    "--format", "--local-dir-use-symlinks", "--resume-download-from", "--etag-timeout",
}  # fmt: skip
_DOWNLOAD_LIST_OPTIONS = {"--include", "--exclude"}

_VAR = re.compile(
    r"\$(?:\{(?P<b>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<d>[^}]*))?\}|(?P<n>[A-Za-z_][A-Za-z0-9_]*))"
)
_ASSIGN = re.compile(
    r"^(?:export\s+|readonly\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$"
)
#: A CI template expression (GitHub Actions ``${{ env.BASE }}``), filled in before the shell runs.
_CI_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_DOCKER_VAR = re.compile(r"^(ENV|ARG)\s+(.+)$", re.IGNORECASE)
_DOCKER_CMD = re.compile(r"^(RUN|CMD|ENTRYPOINT)\s+(.*)$", re.IGNORECASE)
_HF_URL = re.compile(r"^(?:https?://)?(?:www\.)?huggingface\.co/(?P<ds>datasets/)?(?P<id>[^/\s]+/[^/\s#?]+)")


def _logical_lines(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(first line number, joined text, physical lines) with backslash continuations joined."""
    buf: list[str] = []
    start = 0
    for no, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = no
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            buf.append(stripped[:-1])
            continue
        buf.append(raw)
        yield start, " ".join(b.strip() for b in buf), buf
        buf = []
    if buf:
        yield start, " ".join(b.strip() for b in buf), buf


def _tokens(line: str) -> list[str]:
    stripped = line.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
            if isinstance(value, list):
                return [str(v) for v in value]
        except ValueError:
            pass
    try:
        return shlex.split(line, comments=True, posix=True)
    except ValueError:
        return line.split()


class _Vars:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def expand(self, token: str) -> tuple[str | None, str]:
        """The token with variables substituted, or (None, missing variable) when one is unknown."""
        missing = [f"${{{{ {e} }}}} (filled in by the CI system)" for e in _CI_EXPR.findall(token)]

        def sub(m: re.Match[str]) -> str:
            name = m.group("b") or m.group("n")
            if name in self.values:
                return self.values[name]
            if m.group("d") is not None:
                return m.group("d")
            missing.append(name)
            return ""

        out = _VAR.sub(sub, token)
        return (
            (None, ", ".join(m if m.startswith("${{") else f"${m}" for m in missing))
            if missing
            else (out, "")
        )


def _find_line(token: str, start: int, physical: list[str]) -> tuple[int, int]:
    # a CI expression lost its spaces on the way: look for what comes before it, or for its start
    needle = (token.split("${{")[0] or "${{") if "${{" in token else token
    for i, raw in enumerate(physical):
        col = raw.find(needle)
        if col >= 0:
            return start + i, col + 1
    return start, 1


def scan_shell_text(
    text: str,
    file: str,
    file_dir: Path,
    root: Path,
    *,
    dockerfile: bool = False,
    line_offset: int = 0,
    cell: int | None = None,
) -> list[Reference]:
    """References in shell-like text; ``line_offset`` shifts lines for text embedded in another file."""
    refs: list[Reference] = []
    env = _Vars()
    for start, line, physical in _logical_lines(text):
        # one token per CI expression, whatever spaces it holds, so that it is reported, not split
        body = _CI_EXPR.sub(lambda m: "${{" + re.sub(r"\s+", "", m.group(1)) + "}}", line.strip())
        if not body or body.startswith("#"):
            continue
        if dockerfile:
            m = _DOCKER_VAR.match(body)
            if m:
                _docker_assign(m.group(2), env)
                continue
            m = _DOCKER_CMD.match(body)
            if not m:
                continue
            body = m.group(2)
        for segment in re.split(r"\s*(?:&&|\|\||;|\|)\s*", body):
            m = _ASSIGN.match(segment.strip())
            if m and " " not in m.group(2).strip().strip("\"'"):
                val = m.group(2).strip().strip("\"'")
                expanded, _ = env.expand(val)
                env.values[m.group(1)] = expanded if expanded is not None else val
                continue
            tokens = _tokens(segment)
            for value_tok, kind, allow_single, call in _candidates(tokens):
                value, missing = env.expand(value_tok)
                line_no, col = _find_line(value_tok, start, physical)
                where = {
                    "file": file,
                    "line": line_no + line_offset,
                    "column": col,
                    "call": call,
                    "cell": cell,
                }
                if value is None:
                    refs.append(
                        Reference(
                            None,
                            kind,
                            resolved=False,
                            expression=value_tok,
                            note=f"not set in this file: {missing}",
                            **where,
                        )
                    )
                    continue
                m_url = _HF_URL.match(value)
                if m_url:
                    kind = "dataset" if m_url.group("ds") else kind
                    value = m_url.group("id").removesuffix(".git")
                ref = make_reference(
                    value, kind, file_dir=file_dir, root=root, allow_single=allow_single,
                    expression=value_tok if value_tok != value else "", **where,
                )  # fmt: skip
                if ref is not None:
                    refs.append(ref)
    return refs


def _docker_assign(rest: str, env: _Vars) -> None:
    rest = rest.strip()
    if "=" in rest.split(None, 1)[0]:
        for tok in _tokens(rest):
            if "=" in tok:
                k, v = tok.split("=", 1)
                expanded, _ = env.expand(v)
                env.values[k] = expanded if expanded is not None else v
    else:
        parts = rest.split(None, 1)
        if len(parts) == 2:
            expanded, _ = env.expand(parts[1].strip().strip("\"'"))
            env.values[parts[0]] = expanded or parts[1]


def _download_repo(args: list[str]) -> str | None:
    """The repository argument of a ``download`` command: its first positional argument."""
    consuming: str | None = None  # the option whose values the next tokens are
    for tok in args:
        if tok.startswith("-"):
            name = tok.split("=", 1)[0]
            consuming = (
                name if "=" not in tok and name in _DOWNLOAD_VALUE_OPTIONS | _DOWNLOAD_LIST_OPTIONS else None
            )
            continue
        if consuming in _DOWNLOAD_VALUE_OPTIONS:
            consuming = None
            continue
        if consuming in _DOWNLOAD_LIST_OPTIONS:
            continue
        return tok
    return None


def _candidates(tokens: list[str]) -> Iterator[tuple[str, str, bool, str]]:
    """(token, kind, allow_single, call) for every token that names a model or dataset."""
    n = len(tokens)
    for i, tok in enumerate(tokens):
        base = tok.rsplit("/", 1)[-1]
        if base in {"huggingface-cli", "hf"} and i + 1 < n and tokens[i + 1] == "download":
            kind = "model"
            for j in range(i + 2, n):
                if tokens[j] == "--repo-type" and j + 1 < n:
                    kind = (
                        "dataset"
                        if tokens[j + 1] == "dataset"
                        else ("space" if tokens[j + 1] == "space" else kind)
                    )
                elif tokens[j].startswith("--repo-type="):
                    kind = tokens[j].split("=", 1)[1]
            repo = _download_repo(tokens[i + 2 :])
            if repo and kind in {"model", "dataset"}:
                yield repo, kind, True, f"{base} download"
        elif base == "vllm" and i + 2 < n and tokens[i + 1] == "serve" and not tokens[i + 2].startswith("-"):
            yield tokens[i + 2], "model", False, "vllm serve"
        elif base == "git" and i + 1 < n and tokens[i + 1] == "clone":
            url = next((t for t in tokens[i + 2 :] if _HF_URL.match(t)), None)
            if url:
                yield url, "model", False, "git clone"
        elif tok.startswith("--"):
            name, eq, inline = tok[2:].partition("=")
            key = name.replace("-", "_")
            value = (
                inline if eq else (tokens[i + 1] if i + 1 < n and not tokens[i + 1].startswith("-") else None)
            )
            if value is None:
                continue
            if key in MODEL_FLAGS:
                yield value, "model", MODEL_FLAGS[key], f"--{name}"
            elif key in DATASET_FLAGS:
                yield value, "dataset", DATASET_FLAGS[key], f"--{name}"
