"""Configuration from the environment: parsing rules, the generated secret, production mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import ConfigError, env_bool, env_int, env_interval, env_list, secret_key, var_dir

ROOT = Path(__file__).resolve().parents[2]


def test_env_bool_words():
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {"X": "0"}) is False
    assert env_bool("X", True, {}) is True
    with pytest.raises(ConfigError, match="not a boolean"):
        env_bool("X", False, {"X": "maybe"})


def test_env_list_and_int():
    assert env_list("H", ["a"], {"H": "a.example, b.example,,"}) == ["a.example", "b.example"]
    assert env_list("H", ["a"], {}) == ["a"]
    assert env_int("N", 3, {"N": "10_000"}) == 10000
    with pytest.raises(ConfigError):
        env_int("N", 3, {"N": "ten"})


def test_env_interval_zero_is_off_and_garbage_is_named():
    assert env_interval("E", 60, {}) == 60.0
    assert env_interval("E", 60, {"E": "30"}) == 30.0
    assert env_interval("E", 60, {"E": "0"}) is None
    assert env_interval("E", 60, {"E": "-5"}) is None
    for bad in ("soon", "nan", "inf"):
        with pytest.raises(ConfigError, match="E="):
            env_interval("E", 60, {"E": bad})


BEAT_INTERVALS = {
    "MODELHUB_REQUEUE_EVERY": "requeue-pending-analyses",
    "MODELHUB_OUTBOX_EVERY": "send-outbox",
    "MODELHUB_REANALYSE_EVERY": "reanalyse-stale",
    "MODELHUB_GC_EVERY": "collect-garbage",
    "MIRROR_DISPATCH_EVERY": "mirror-dispatch",
}


def beat_schedule(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return settings_value(
        tmp_path,
        "json.dumps({k: v['schedule'] for k, v in settings.CELERY_BEAT_SCHEDULE.items()})",
        **env,
    )


@pytest.mark.parametrize("variable", sorted(BEAT_INTERVALS))
def test_a_beat_interval_of_zero_turns_its_entry_off_instead_of_sending_it_without_pause(tmp_path, variable):
    """Beat takes a 0 s interval literally: ``MODELHUB_OUTBOX_EVERY=0`` put ~1,300 sweeps a second
    on the queue. Every interval the README lists means off at 0, none is ever scheduled at 0."""
    import json

    proc = beat_schedule(tmp_path, **{variable: "0"})
    assert proc.returncode == 0, proc.stderr
    schedule = json.loads(proc.stdout.strip().splitlines()[-1])
    assert BEAT_INTERVALS[variable] not in schedule
    assert all(seconds > 0 for seconds in schedule.values()), schedule


def test_a_beat_interval_that_is_no_number_names_its_variable(tmp_path):
    proc = beat_schedule(tmp_path, MODELHUB_OUTBOX_EVERY="1m")
    assert proc.returncode != 0
    assert "MODELHUB_OUTBOX_EVERY='1m' is not a number of seconds" in proc.stderr


def test_a_negative_reanalyse_batch_is_refused_at_start(tmp_path):
    proc = beat_schedule(tmp_path, MODELHUB_REANALYSE_BATCH="-1")
    assert proc.returncode != 0
    assert "MODELHUB_REANALYSE_BATCH=-1 must be 0 or more" in proc.stderr


def test_var_dir_is_created(tmp_path):
    target = tmp_path / "state"
    assert var_dir({"MODELHUB_VAR": str(target)}) == target.resolve()
    assert target.is_dir()


def test_secret_key_generated_once_and_private(tmp_path):
    first = secret_key(tmp_path, production=False, environ={})
    assert len(first) >= 50
    assert secret_key(tmp_path, production=False, environ={}) == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert secret_key(tmp_path, production=False, environ={"SECRET_KEY": "given"}) == "given"


def test_production_requires_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        secret_key(tmp_path, production=True, environ={})


def run_manage(args: list[str], **env: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE may be left in this process by the browser tests' Playwright set-up;
    # a production check must see a production environment.
    dropped = {
        "SECRET_KEY",
        "DEBUG",
        "DATABASE_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "MODELHUB_TASKS_EAGER",
        "REDIS_URL",
    }
    full_env = {k: v for k, v in os.environ.items() if k not in dropped}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_refuse_to_start_without_secret(tmp_path):
    proc = run_manage(["check"], MODELHUB_MODE="production", MODELHUB_VAR=str(tmp_path))
    assert proc.returncode != 0
    assert "SECRET_KEY must be set" in proc.stderr


def test_check_deploy_passes_with_production_settings(tmp_path):
    proc = run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        MODELHUB_MODE="production",
        MODELHUB_VAR=str(tmp_path),
        SECRET_KEY="k" * 20 + "-production-secret-with-enough-entropy-9f8e7d6c5b4a",
        ALLOWED_HOSTS="hub.example.org",
        DEBUG="0",
        DATABASE_URL="postgresql://modelhub@db.invalid/modelhub",  # the documented shape; not connected to
        REDIS_URL="redis://redis.invalid:6379/0",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


PRODUCTION = {
    "MODELHUB_MODE": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-with-enough-entropy-9f8e7d6c5b4a",
    "ALLOWED_HOSTS": "hub.example.org",
    "DATABASE_URL": "postgresql://modelhub@db.invalid/modelhub",
    "REDIS_URL": "redis://redis.invalid:6379/0",
}


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"DATABASE_URL": ""}, "modelhub.W001"),  # SQLite under MODELHUB_VAR, silently
        ({"REDIS_URL": ""}, "modelhub.W002"),  # tasks in the web process, cache per process
        ({"MODELHUB_TASKS_EAGER": "1"}, "modelhub.W003"),
        ({"ALLOWED_HOSTS": None}, "modelhub.W004"),
        ({"MODELHUB_OUTBOX_EVERY": "0"}, "MODELHUB_OUTBOX_EVERY turns beat's send-outbox sweep off"),
        ({"MODELHUB_REQUEUE_EVERY": "0"}, "modelhub.W005"),
    ],
)
def test_check_deploy_names_a_production_setting_left_to_its_embedded_default(tmp_path, change, expected):
    env = {**PRODUCTION, "MODELHUB_VAR": str(tmp_path)} | change
    proc = run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"], **{k: v for k, v in env.items() if v is not None}
    )
    assert proc.returncode != 0
    assert expected in proc.stderr + proc.stdout


def test_two_instances_keep_separate_state(tmp_path):
    code = (
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'], settings.BLOB_ROOT)"
    )
    outs = []
    for name in ("a", "b"):
        proc = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env={**os.environ, "MODELHUB_VAR": str(tmp_path / name), "DJANGO_SETTINGS_MODULE": "hub.settings"}
            | {"DATABASE_URL": ""},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout.strip())
    assert str(tmp_path / "a") in outs[0] and str(tmp_path / "b") in outs[1]
    assert (tmp_path / "a" / "secret_key").read_text() != (tmp_path / "b" / "secret_key").read_text()


def test_blob_fs_sync_setting_reaches_the_store_and_refuses_unknown_modes(tmp_path):
    show = "from hub.blobstore import get_blob_store; print(get_blob_store().sync_mode)"
    proc = run_manage(["shell", "-c", show], MODELHUB_VAR=str(tmp_path), BLOB_FS_SYNC="fsync")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "fsync"  # shell may print auto-imports first
    proc = run_manage(["check"], MODELHUB_VAR=str(tmp_path), BLOB_FS_SYNC="sometimes")
    assert proc.returncode != 0
    assert "BLOB_FS_SYNC='sometimes'" in proc.stderr


def test_a_database_that_never_answers_fails_within_the_connect_timeout(tmp_path):
    """A black-holed PostgreSQL (accepts the TCP connection, never answers) must not hang a request."""
    import socket
    import time

    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)  # the kernel completes the handshake; nobody ever answers
    port = hole.getsockname()[1]
    code = (
        "import django; django.setup()\n"
        "from django.db import connection, OperationalError\n"
        "try:\n    connection.ensure_connection()\n"
        "except OperationalError as exc:\n    print('refused', type(exc).__name__)\n"
    )
    started = time.monotonic()
    try:
        proc = run_manage(
            ["shell", "-c", code],
            MODELHUB_VAR=str(tmp_path),
            DATABASE_URL=f"postgresql://nobody@127.0.0.1:{port}/nothing",
            DATABASE_CONNECT_TIMEOUT="2",
        )
    except subprocess.TimeoutExpired:
        pytest.fail("connecting to a database that never answers hung")
    finally:
        hole.close()
    assert "refused OperationalError" in proc.stdout, proc.stdout + proc.stderr
    assert time.monotonic() - started < 30


def test_debug_logging_never_writes_presigned_signatures_or_aws_keys(tmp_path):
    """LOG_LEVEL=DEBUG turned on botocore's own DEBUG output: the Authorization header of every S3 call
    and the canonical request + signature of every presigned URL (enough to rebuild the link to a private
    file from the log), and urllib3's URLs with their query strings."""
    code = (
        "import logging, boto3\nfrom botocore.config import Config\n"
        "logging.getLogger('hub').debug('our own debug line')\n"
        "s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:9', region_name='us-east-1',"
        " aws_access_key_id='AKIATESTLOGLEAK00001', aws_secret_access_key='secret-of-the-test',"
        " config=Config(signature_version='s3v4'))\n"
        "url = s3.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': 'private'}, ExpiresIn=60)\n"
        "print(url.split('X-Amz-Signature=')[1])\n"
    )
    proc = run_manage(["shell", "-c", code], MODELHUB_VAR=str(tmp_path), LOG_LEVEL="DEBUG")
    assert proc.returncode == 0, proc.stderr
    signature = proc.stdout.strip().splitlines()[-1]
    assert "our own debug line" in proc.stderr  # DEBUG still works for the project's code
    assert signature not in proc.stderr
    assert "AKIATESTLOGLEAK00001" not in proc.stderr


@pytest.mark.parametrize("given, ok", [("debug", True), ("Warning", True), ("verbose", False)])
def test_log_level_is_case_insensitive_and_a_wrong_one_is_named(tmp_path, given, ok):
    proc = run_manage(["check"], MODELHUB_VAR=str(tmp_path), LOG_LEVEL=given)
    if ok:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0
        assert "LOG_LEVEL='verbose'" in proc.stderr


def test_beat_keeps_its_schedule_under_modelhub_var(tmp_path):
    """`celery -A workers beat` wrote celerybeat-schedule into its working directory (the checkout)."""
    show = "from workers.celery import app; print(app.conf.beat_schedule_filename)"
    proc = run_manage(["shell", "-c", show], MODELHUB_VAR=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(tmp_path.resolve() / "celerybeat-schedule")


def settings_value(tmp_path, expression: str, **env: str) -> subprocess.CompletedProcess:
    code = f"import django, json; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "MODELHUB_VAR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "hub.settings"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_trusted_proxies_reach_drf_and_bad_sign_in_limits_are_refused_at_start(tmp_path):
    """``MODELHUB_TRUSTED_PROXIES`` is what DRF's throttles (and the sign-in throttle) read as
    NUM_PROXIES; unset, it is 0 (the connection's address), not DRF's None (the whole header)."""
    assert settings_value(tmp_path, "settings.REST_FRAMEWORK['NUM_PROXIES']").stdout.strip() == "0"
    proc = settings_value(tmp_path, "settings.REST_FRAMEWORK['NUM_PROXIES']", MODELHUB_TRUSTED_PROXIES="2")
    assert proc.stdout.strip() == "2", proc.stderr
    for variable, value, message in [
        ("MODELHUB_TRUSTED_PROXIES", "-1", "must be 0 or more"),
        ("MODELHUB_LOGIN_ACCOUNT_FAILURES", "-3", "must be 0 (no limit) or more"),
        ("MODELHUB_LOGIN_WINDOW", "0", "must be at least 1 second"),
    ]:
        proc = settings_value(tmp_path, "1", **{variable: value})
        assert proc.returncode != 0 and f"{variable}={value} {message}" in proc.stderr
