from pathlib import Path

import pytest

from ketaclinic.platform.settings import ConfigurationError, Settings


def test_production_mode_without_a_secret_is_an_error(tmp_path: Path) -> None:
    settings = Settings(mode="production", data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="KETACLINIC_SECRET_KEY"):
        _ = settings.effective_secret_key


def test_the_embedded_mode_keeps_one_generated_secret(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).effective_secret_key
    assert len(first) > 40
    assert Settings(data_dir=tmp_path).effective_secret_key == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).effective_database_url == (
        f"sqlite:///{tmp_path / 'ketaclinic.db'}"
    )


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(time_zone="Mars/Olympus")


def test_a_data_dir_with_url_characters_keeps_the_database_inside_it(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    from ketaclinic.platform.db import make_engine
    from ketaclinic.platform.migrate import upgrade

    data_dir = tmp_path / "clinic?site=2#east"
    url = Settings(data_dir=data_dir).effective_database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        assert "patients" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert (data_dir / "ketaclinic.db").stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["clinic?site=2#east"]


def test_production_mode_without_a_public_address_is_an_error(tmp_path: Path) -> None:
    settings = Settings(mode="production", data_dir=tmp_path, secret_key="s", audit_key="a")
    with pytest.raises(ConfigurationError, match="KETACLINIC_PUBLIC_URL must be set"):
        settings.check_messaging()
    given = Settings(mode="production", data_dir=tmp_path, public_url="https://clinic.example/")
    assert given.effective_public_url == "https://clinic.example"


def test_development_links_point_where_the_server_listens(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).effective_public_url == "http://127.0.0.1:8000"
    served = Settings(data_dir=tmp_path, served_at="http://10.0.0.5:9000")
    assert served.effective_public_url == "http://10.0.0.5:9000"
    both = Settings(data_dir=tmp_path, served_at="http://10.0.0.5:9000", public_url="https://a.b")
    assert both.effective_public_url == "https://a.b"


def test_a_public_address_must_be_a_web_address(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a web address"):
        Settings(data_dir=tmp_path, public_url="clinic.example")


def test_smtp_and_text_transports_need_their_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="KETACLINIC_SMTP_HOST"):
        Settings(data_dir=tmp_path, email_transport="smtp").check_messaging()
    with pytest.raises(ConfigurationError, match="KETACLINIC_TWILIO_ACCOUNT_SID"):
        Settings(data_dir=tmp_path, text_transport="twilio").check_messaging()
    Settings(
        data_dir=tmp_path, email_transport="smtp", smtp_host="mail", smtp_from="c@clinic.test"
    ).check_messaging()
