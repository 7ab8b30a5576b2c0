from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.platform.settings import Settings, get_settings


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner whose commands use the test database."""
    monkeypatch.setenv("KETACLINIC_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def served_clinic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[pytest.MonkeyPatch, list[dict[str, object]]]]:
    """A new clinic in a data directory of its own, whose ``serve`` records what it would
    have served instead of serving it."""
    import uvicorn

    from ketaclinic.platform.settings import get_settings

    for name in ("KETACLINIC_DATABASE_URL", "KETACLINIC_PUBLIC_URL", "KETACLINIC_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KETACLINIC_SECRET_KEY", "test-secret")
    monkeypatch.setenv("KETACLINIC_SERVED_AT", "")  # serve sets it; restored after the test
    get_settings.cache_clear()
    made = CliRunner().invoke(
        app,
        [
            "init",
            "--admin-username",
            "ada",
            "--admin-name",
            "Ada",
            "--admin-password",
            "pw-long-12",
        ],
    )
    assert made.exit_code == 0, made.output
    served: list[dict[str, object]] = []

    def run(application: object, **options: object) -> None:
        served.append({"links": get_settings().effective_public_url, **options})

    monkeypatch.setattr(uvicorn, "run", run)
    yield monkeypatch, served
    get_settings.cache_clear()
