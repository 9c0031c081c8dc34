"""Long schemathesis run against the native API's OpenAPI schema (figures for docs/RELIABILITY.md).

The same kit as ``tests/hardening/test_api_fuzz.py`` (tests/hardening/fuzzkit.py), run for
longer: every operation of ``/api/v1/schema`` × three identities (anonymous, a read token, a
staff write token) × both generation modes (positive: schema-valid requests; negative:
requests the schema forbids), ``--examples`` cases each; operations with path parameters run
twice, once with generated values (mostly 404s) and once with the path naming seeded rows. Checks: no 5xx; 2xx bodies, content
types and headers as documented.

    .venv/bin/python benchmarks/fuzz_api.py [--examples 200] [--seed 1] [--json out.json]

Runs in process on a throw-away test database (SQLite under a temp MODELHUB_VAR, or the
PostgreSQL of DATABASE_URL, where Django creates and drops ``test_<name>``). Prints one
line per operation and a summary; exits 1 when any failure was found.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MODELHUB_VAR", tempfile.mkdtemp(prefix="modelhub-fuzz-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
os.environ["MODELHUB_TASKS_EAGER"] = "1"
os.environ.setdefault("MODELHUB_API_RATE", "1000000/min")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="cases per operation, identity and mode")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--modes", default="positive,negative")
    parser.add_argument("--identities", default="anonymous,read-token,admin-write-token")
    parser.add_argument("--only", default="", help="substring of the operations to run")
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # 4xx are expected; 5xx are counted
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from tests.hardening import fuzzkit

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    runs: list[fuzzkit.OperationRun] = []
    started = time.perf_counter()
    try:
        identities = fuzzkit.seed_registry()
        schema_dict = fuzzkit.native_schema_dict()
        labels = [label for label in fuzzkit.operation_labels(schema_dict) if args.only in label]
        with fuzzkit.wsgi_app() as app:
            schema = fuzzkit.load_schema(app, schema_dict)
            for mode in args.modes.split(","):
                for identity in args.identities.split(","):
                    plan = [(label, None) for label in labels] + [
                        (label, fuzzkit.seeded_path_parameters(label))
                        for label in labels
                        if fuzzkit.seeded_path_parameters(label) is not None
                    ]
                    for label, path_parameters in plan:
                        run = fuzzkit.fuzz_operation(
                            schema,
                            label,
                            max_examples=args.examples,
                            mode=mode,
                            identity=identity,
                            auth_header=identities[identity],
                            seed=args.seed,
                            derandomize=False,
                            path_parameters=path_parameters,
                        )
                        runs.append(run)
                        statuses = ",".join(f"{k}:{v}" for k, v in sorted(run.statuses.items()))
                        where = "seeded" if path_parameters else "random"
                        print(
                            f"{mode:8} {identity:18} {where:6} {label:55} cases={run.cases:4} "
                            f"failures={len(run.failures)} {run.seconds:6.1f}s  [{statuses}]",
                            flush=True,
                        )
                        for failure in run.failures:
                            print("    FAIL", failure.line()[:600], flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()

    elapsed = time.perf_counter() - started
    cases = sum(r.cases for r in runs)
    failures = [f for r in runs for f in r.failures]
    five_xx = sum(n for r in runs for status, n in r.statuses.items() if status >= 500)
    summary = {
        "operations": len({r.operation for r in runs}),
        "runs": len(runs),
        "cases": cases,
        "responses_5xx": five_xx,
        "distinct_failures": len(failures),
        "failing_operations": sorted({f.operation for f in failures}),
        "seconds": round(elapsed, 1),
        "examples_per_run": args.examples,
        "seed": args.seed,
        "database": connection.vendor,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "summary": summary,
                    "runs": [
                        {
                            "operation": r.operation,
                            "mode": r.mode,
                            "identity": r.identity,
                            "seeded_path": r.seeded,
                            "cases": r.cases,
                            "statuses": r.statuses,
                            "failures": [f.__dict__ for f in r.failures],
                        }
                        for r in runs
                    ],
                },
                indent=2,
            )
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
