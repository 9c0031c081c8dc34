"""Modelhub: a self-hosted model hub and licensing/transparency registry."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("modelhub")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.1.0"
