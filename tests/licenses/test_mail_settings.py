"""The notification e-mails go through the organisation's relay: its credentials and TLS are settings."""

from __future__ import annotations

import importlib


def test_smtp_credentials_and_tls_are_read_from_the_environment(monkeypatch, tmp_path):
    import hub.settings

    env = {
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "modelhub",
        "EMAIL_HOST_PASSWORD": "app-password",
        "EMAIL_USE_TLS": "1",
        "EMAIL_FILE_PATH": str(tmp_path),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        s = importlib.reload(hub.settings)
        assert (s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD) == (
            "smtp.example.org", 587, "modelhub", "app-password",
        )  # fmt: skip
        read = {name: getattr(s, name) for name in ("EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_FILE_PATH")}
        assert read == {"EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False, "EMAIL_FILE_PATH": str(tmp_path)}
    finally:
        for name in env:
            monkeypatch.delenv(name)
        importlib.reload(hub.settings)
