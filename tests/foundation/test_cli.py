"""The ``modelhub`` console command."""

from __future__ import annotations

import shutil
import subprocess
import sys

from modelhub import __version__
from modelhub.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"modelhub {__version__}"


def test_no_subcommand_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage: modelhub" in capsys.readouterr().err


def test_console_script_installed():
    exe = shutil.which("modelhub") or str(__import__("pathlib").Path(sys.executable).parent / "modelhub")
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.startswith("modelhub ")
