"""``modelhub audit``: judge every model a code base pulls in against a policy (CI gate).

Exit status (contract.md): 0 every model allowed (warnings allowed), 1 a model denied or unknown
under ``unknown: deny``, 2 error (bad policy, unreadable path, bad baseline). ``--warn-only``
reports everything but exits 0, for rolling the gate out before enforcing it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_ERROR = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit",
        help="find the models a code base uses and judge them against a policy",
        description="Scan PATH (code, notebooks, configs, Dockerfiles, scripts) for model references "
        "without running anything, and judge each model against the policy file.",
    )
    p.add_argument("path", nargs="?", default=".", help="folder or file to scan (default: .)")
    p.add_argument("--policy", required=True, help="policy file (YAML or JSON, see docs/policies.md)")
    p.add_argument("--registry", help="Modelhub registry URL (token from $MODELHUB_TOKEN)")
    p.add_argument(
        "--offline", action="store_true", help="never call the registry; use cache and bundled tables"
    )
    p.add_argument("--format", choices=("text", "json", "sarif", "junit", "markdown"), default="text")
    p.add_argument("--output", help="write the report to this file instead of stdout")
    p.add_argument("--warn-only", action="store_true", help="report, but exit 0 even when a model is denied")
    p.add_argument("--baseline", help="JSON file of accepted findings; they are reported but do not fail")
    p.add_argument("--update-baseline", action="store_true", help="write every current finding to --baseline")
    p.add_argument("--cache-dir", help="cache folder for registry answers (default ~/.cache/modelhub/audit)")
    p.add_argument("--cache-ttl", type=float, default=None, help="seconds a cached answer stays fresh (3600)")
    p.set_defaults(func=run)


def _error(message: str) -> int:
    print(f"modelhub audit: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    from licenses.engine.audit import load_baseline, run_audit, write_baseline
    from licenses.engine.policy import PolicyError, load_policy
    from licenses.engine.report_formats import append_step_summary, render

    try:
        policy = load_policy(Path(args.policy))
    except PolicyError as exc:
        return _error(f"{args.policy}: {exc}")
    path = Path(args.path)
    if not path.exists():
        return _error(f"cannot read {args.path}: no such file or folder")
    try:  # the PATH itself must be readable: an audit that saw nothing must not pass
        if path.is_dir():
            os.listdir(path)
        else:
            path.open("rb").close()
    except OSError as exc:
        return _error(f"cannot read {args.path}: {exc.strerror or exc}")
    if args.update_baseline and not args.baseline:
        return _error("--update-baseline needs --baseline FILE")
    baseline: set[str] = set()
    if args.baseline and not args.update_baseline:
        try:
            baseline = load_baseline(Path(args.baseline))
        except (OSError, ValueError) as exc:
            return _error(f"baseline {args.baseline}: {exc}")
    try:
        result = run_audit(
            path,
            policy,
            registry=args.registry,
            offline=args.offline,
            cache_dir=Path(args.cache_dir) if args.cache_dir else None,
            cache_ttl=args.cache_ttl,
            baseline=baseline,
        )
    except OSError as exc:
        return _error(str(exc))
    if args.update_baseline:
        try:
            n = write_baseline(Path(args.baseline), result)
        except OSError as exc:
            return _error(f"cannot write baseline {args.baseline}: {exc.strerror or exc}")
        print(f"modelhub audit: wrote {n} accepted findings to {args.baseline}", file=sys.stderr)
        return 0
    text = render(result, args.format)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _error(f"cannot write {args.output}: {exc}")
        if args.format != "text":
            sys.stdout.write(render(result, "text"))
    else:
        sys.stdout.write(text)
    try:
        append_step_summary(result)
    except OSError as exc:  # the job summary is a courtesy: it must not change the gate's verdict
        print(
            f"modelhub audit: warning: cannot append to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}",
            file=sys.stderr,
        )
    return result.exit_code(args.warn_only)
