"""The ``ketaclinic`` command line: importing the command modules registers them."""

from ketaclinic.cli import (  # noqa: F401
    admin,
    audit,
    backup,
    fhir,
    hl7,
    jobs,
    reports,
    simulate,
    summaries,
    users,
)
from ketaclinic.cli.main import app

__all__ = ["app"]
