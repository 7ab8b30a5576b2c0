from __future__ import annotations

from pathlib import Path

import pytest

from tests import demo_clinic
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh copy of the demo clinic that the whole run shares (built once)."""
    return demo_clinic.copy(request, request.param, tmp_path)
