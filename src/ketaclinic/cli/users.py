"""Managing accounts from the command line: ketaclinic user add|list|deactivate|token."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaclinic.cli.common import database, one_line_errors
from ketaclinic.cli.main import app
from ketaclinic.platform.actors import Actor

user_app = typer.Typer(
    help="Add, list and deactivate accounts; issue API tokens.", no_args_is_help=True
)
app.add_typer(user_app, name="user")
CLI_ACTOR = Actor(user_id=None, username="cli")


@user_app.command("add")
def add(
    username: str,
    full_name: Annotated[str, typer.Option("--name", help="the person's full name")],
    role: Annotated[list[str], typer.Option("--role", help="a role; repeat for several")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    email: Annotated[str | None, typer.Option(help="where the person's alerts go")] = None,
    patient_id: Annotated[int | None, typer.Option(help="for a patient account")] = None,
) -> None:
    """Create an account."""
    from ketaclinic.platform.accounts import service as accounts

    with database() as db, one_line_errors():
        user = accounts.create_user(
            db,
            actor=CLI_ACTOR,
            username=username,
            full_name=full_name,
            password=password,
            roles=role,
            email=email,
            patient_id=patient_id,
        )
    typer.echo(f"user {user.username!r} created with roles {', '.join(sorted(user.role_names))}")


@user_app.command("list")
def list_users() -> None:
    """List every account with its roles and status."""
    from rich.console import Console
    from rich.table import Table

    from ketaclinic.platform.accounts import service as accounts

    with database() as db:
        table = Table("username", "name", "e-mail", "alerts", "roles", "status")
        for user in accounts.list_users(db):
            table.add_row(
                user.username,
                user.full_name,
                user.email or "-",
                user.alert_preference,
                ", ".join(sorted(user.role_names)),
                "active" if user.active else "deactivated",
            )
    Console().print(table)


@user_app.command("contact")
def contact(
    username: str,
    email: Annotated[
        str | None, typer.Option(help="the person's e-mail address ('' to remove it)")
    ] = None,
    alerts: Annotated[
        str | None, typer.Option(help="email: alerts by e-mail; none: on the pages only")
    ] = None,
) -> None:
    """Set a staff member's e-mail address and whether their alerts go there."""
    from ketaclinic.platform.accounts import service as accounts

    with database() as db, one_line_errors():
        user = accounts.get_user(db, username=username.lower())
        accounts.set_alert_preference(
            db,
            actor=CLI_ACTOR,
            user_id=user.id,
            email=user.email if email is None else email,
            preference=alerts or user.alert_preference,
        )
        shown = f"alerts {user.alert_preference}, e-mail {user.email or 'none'}"
    typer.echo(f"user {username!r}: {shown}")


@user_app.command("deactivate")
def deactivate(username: str) -> None:
    """Deactivate an account (it is kept, with its history, but can no longer log in)."""
    from ketaclinic.platform.accounts import service as accounts

    with database() as db, one_line_errors():
        user = accounts.get_user(db, username=username.lower())
        accounts.deactivate_user(db, actor=CLI_ACTOR, user_id=user.id)
    typer.echo(f"user {username!r} deactivated")


@user_app.command("token")
def token(
    username: str,
    name: Annotated[str, typer.Option(help="what the token is for")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="limit the token: fhir.read, fhir.write, fhir.export (repeatable)"),
    ] = None,
    patient: Annotated[
        str | None, typer.Option(help="bind the token to this patient's MRN (needs --scope)")
    ] = None,
) -> None:
    """Issue an API token for a machine client; it is shown once and stored hashed."""
    from ketaclinic.patients import service as patients
    from ketaclinic.platform.accounts import service as accounts
    from ketaclinic.platform.errors import NotFound

    with database() as db, one_line_errors():
        user = accounts.get_user(db, username=username.lower())
        patient_id = None
        if patient is not None:
            patient_id = patients.patient_id_for_mrn(db, patient)
            if patient_id is None:
                raise NotFound(f"no patient with MRN {patient!r}")
        value = accounts.create_api_token(
            db,
            actor=CLI_ACTOR,
            user_id=user.id,
            name=name,
            scopes=scope or None,
            patient_id=patient_id,
        )
    typer.echo(value)
