"""The ``ketaclinic`` command line: importing the command modules registers them."""

from ketaclinic.cli import admin, audit, backup, fhir, hl7, jobs, simulate, users  # noqa: F401
from ketaclinic.cli.main import app

__all__ = ["app"]
