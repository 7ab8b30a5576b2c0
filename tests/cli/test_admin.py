from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.platform.settings import Settings


def test_init_creates_the_first_administrator_once(cli: CliRunner) -> None:
    args = [
        "init",
        "--admin-username",
        "ada",
        "--admin-name",
        "Ada Admin",
        "--admin-password",
        "a-long-password",
    ]
    first = cli.invoke(app, args)
    assert first.exit_code == 0, first.output
    again = cli.invoke(app, args)
    assert again.exit_code == 1
    assert "already has users" in again.output


def test_user_add_list_and_deactivate(cli: CliRunner) -> None:
    added = cli.invoke(
        app,
        [
            "user",
            "add",
            "ada",
            "--name",
            "Ada Okafor",
            "--role",
            "nurse",
            "--role",
            "prescriber",
            "--password",
            "a-long-password",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "nurse, prescriber" in added.output
    assert "Ada Okafor" in cli.invoke(app, ["user", "list"]).output
    gone = cli.invoke(app, ["user", "deactivate", "ada"])
    assert gone.exit_code == 0
    assert "deactivated" in cli.invoke(app, ["user", "list"]).output


def test_a_bad_role_is_one_clear_line_and_a_non_zero_exit(cli: CliRunner) -> None:
    result = cli.invoke(
        app,
        [
            "user",
            "add",
            "ada",
            "--name",
            "Ada",
            "--role",
            "surgeon",
            "--password",
            "a-long-password",
        ],
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: unknown role 'surgeon' (known: admin, prescriber, nurse, front_desk, "
        "researcher, therapist, patient)"
    ]


def test_deactivating_an_unknown_user_says_so(cli: CliRunner) -> None:
    result = cli.invoke(app, ["user", "deactivate", "nobody"])
    assert result.exit_code == 1
    assert "no user 'nobody'" in result.output


def test_a_token_is_printed_once(cli: CliRunner) -> None:
    cli.invoke(
        app,
        [
            "user",
            "add",
            "bridge",
            "--name",
            "Monitor bridge",
            "--role",
            "nurse",
            "--password",
            "a-long-password",
        ],
    )
    result = cli.invoke(app, ["user", "token", "bridge", "--name", "bay 1 monitor"])
    assert result.exit_code == 0
    assert result.output.startswith("kc_")


def test_every_command_has_help(cli: CliRunner) -> None:
    for command in (
        ["init"],
        ["serve"],
        ["demo"],
        ["migrate"],
        ["user", "add"],
        ["user", "list"],
        ["user", "deactivate"],
        ["audit", "verify"],
        ["jobs", "run"],
        ["jobs", "list"],
        ["worker"],
        ["backup"],
        ["backup", "verify"],
        ["backup", "new-key"],
        ["restore"],
        ["doctor"],
    ):
        result = cli.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_demo_builds_a_clinic_once_and_then_leaves_it_alone(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command's own behaviour, with the staff alone: the areas' part of the demo
    # clinic takes most of a minute to build and is checked once per run on the shared
    # build (tests/demo, tests/browser).
    monkeypatch.setattr("ketaclinic.demo.area_modules", lambda name: [])
    first = cli.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "demo clinic created" in first.output and "nurse.okafor" in first.output
    second = cli.invoke(app, ["demo"])
    assert "left as it is" in second.output
    verify = cli.invoke(app, ["audit", "verify"])
    assert verify.exit_code == 0 and "intact" in verify.output


def test_a_demo_reset_starts_a_new_trail_and_keeps_the_old_checkpoint_aside(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setattr("ketaclinic.demo.area_modules", lambda name: [])
    assert cli.invoke(app, ["demo"]).exit_code == 0
    assert cli.invoke(app, ["audit", "seal"]).exit_code == 0
    assert (settings.data_dir / "audit-checkpoint.json").exists()
    reset = cli.invoke(app, ["demo", "--reset"])
    assert reset.exit_code == 0, reset.output
    kept = list(settings.data_dir.glob("audit-checkpoint.json.before-reset-*"))
    assert len(kept) == 1
    verify = cli.invoke(app, ["audit", "verify", "--no-progress"])
    assert verify.exit_code == 0 and "intact" in verify.output, verify.output


def test_a_demo_reset_into_a_data_folder_not_made_yet_builds_the_clinic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.platform.settings import get_settings

    monkeypatch.delenv("KETACLINIC_DATABASE_URL", raising=False)
    folder = tmp_path / "new" / "clinic"
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(folder))
    monkeypatch.setattr("ketaclinic.demo.area_modules", lambda name: [])
    get_settings.cache_clear()
    try:
        made = CliRunner().invoke(app, ["demo", "--reset"])
        assert made.exit_code == 0, made.output
        assert "demo clinic created" in made.output
        assert (folder / "ketaclinic.db").exists()
    finally:
        get_settings.cache_clear()


def test_serve_makes_development_links_point_where_it_listens(
    served_clinic: tuple[pytest.MonkeyPatch, list[dict[str, object]]],
) -> None:
    _, served = served_clinic
    result = CliRunner().invoke(
        app, ["serve", "--host", "127.0.0.2", "--port", "8123", "--jobs-every", "0"]
    )
    assert result.exit_code == 0, result.output
    assert served == [
        {
            "links": "http://127.0.0.2:8123",
            "host": "127.0.0.2",
            "port": 8123,
            "log_level": "info",
            "access_log": False,
        }
    ]


def test_production_without_a_public_address_refuses_to_start_with_one_line(
    served_clinic: tuple[pytest.MonkeyPatch, list[dict[str, object]]],
) -> None:
    env, served = served_clinic
    from ketaclinic.platform.settings import get_settings

    env.setenv("KETACLINIC_MODE", "production")
    env.setenv("KETACLINIC_AUDIT_KEY", "test-audit-key")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["serve", "--jobs-every", "0"])
    assert result.exit_code == 1 and served == []
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: KETACLINIC_PUBLIC_URL must be set")


def test_user_contact_sets_the_address_alerts_go_to(cli: CliRunner) -> None:
    added = cli.invoke(
        app,
        ["user", "add", "bo", "--name", "Bo", "--role", "nurse", "--password", "a-long-pw12"],
    )
    assert added.exit_code == 0, added.output
    refused = cli.invoke(app, ["user", "contact", "bo", "--email", "not-an-address"])
    assert refused.exit_code == 1 and "not an e-mail address" in refused.output
    done = cli.invoke(app, ["user", "contact", "bo", "--email", "bo@clinic.test"])
    assert done.exit_code == 0, done.output
    assert "alerts email, e-mail bo@clinic.test" in done.output
    quiet = cli.invoke(app, ["user", "contact", "bo", "--alerts", "none"])
    assert "alerts none" in quiet.output
    listed = cli.invoke(app, ["user", "list"])
    assert "bo@clinic.test" in listed.output and "none" in listed.output
