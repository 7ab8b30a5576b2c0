from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from ketaclinic.platform.settings import Settings, get_settings


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner whose commands use the test database."""
    monkeypatch.setenv("KETACLINIC_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
