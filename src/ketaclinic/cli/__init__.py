"""The ``ketaclinic`` command line."""

from ketaclinic.cli.main import app

__all__ = ["app"]
