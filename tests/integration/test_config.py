"""Configuration: production refuses unsafe settings; overrides apply after the class."""

import pytest

import config
from app import create_app


def test_production_refuses_to_start_without_secret_key_and_database(monkeypatch):
    monkeypatch.setenv("HOMESTRETCH_ENV", "production")
    # config.py reads the environment at import; the PostgreSQL test run has DATABASE_URL set.
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    monkeypatch.setattr(config.ProductionConfig, "SQLALCHEMY_DATABASE_URI", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        create_app()


def test_production_starts_with_both_and_sets_secure_cookies_and_hsts(monkeypatch, tmp_path):
    monkeypatch.setenv("HOMESTRETCH_ENV", "production")
    app = create_app(
        {"SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/auth/login")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_unknown_environment_name_is_an_error(monkeypatch):
    monkeypatch.setenv("HOMESTRETCH_ENV", "staging-typo")
    with pytest.raises(RuntimeError, match="HOMESTRETCH_ENV"):
        create_app()


def test_overrides_apply_after_the_config_class(tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'o.db'}", "INVITATION_HOURS": 5}
    )
    assert app.config["INVITATION_HOURS"] == 5


def test_development_default_is_a_sqlite_file_in_the_instance_folder(monkeypatch):
    # config.py reads DATABASE_URL at import; the PostgreSQL test run has it set.
    monkeypatch.setattr(config.DevelopmentConfig, "SQLALCHEMY_DATABASE_URI", None)
    monkeypatch.setenv("HOMESTRETCH_ENV", "development")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/homestretch.sqlite3")
    assert app.config["SECRET_KEY"]
