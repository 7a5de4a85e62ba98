"""Configuration: production refuses unsafe settings; overrides apply after the class."""

import pytest

import config
from app import create_app


def test_production_refuses_to_start_without_secret_key_database_and_public_url(monkeypatch):
    monkeypatch.setenv("HOMESTRETCH_ENV", "production")
    # config.py reads the environment at import; the PostgreSQL test run has DATABASE_URL set.
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    monkeypatch.setattr(config.ProductionConfig, "SQLALCHEMY_DATABASE_URI", None)
    monkeypatch.setattr(config.ProductionConfig, "PUBLIC_BASE_URL", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL, PUBLIC_BASE_URL"):
        create_app()


def test_production_starts_with_all_three_and_sets_secure_cookies_and_hsts(monkeypatch, tmp_path):
    monkeypatch.setenv("HOMESTRETCH_ENV", "production")
    app = create_app(
        {
            "SECRET_KEY": "s" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
            "PUBLIC_BASE_URL": "https://clinic.example.org",
        }
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


def test_links_never_take_the_requests_host(tmp_path, monkeypatch):
    monkeypatch.setattr(config.DevelopmentConfig, "PUBLIC_BASE_URL", "https://clinic.example.org")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}"})
    from app.links import invitation_url

    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert invitation_url("t0ken") == "https://clinic.example.org/auth/invite/t0ken"


def test_development_links_default_to_the_make_run_address(tmp_path, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.db'}"})
    assert app.config["PUBLIC_BASE_URL"].startswith("http://127.0.0.1:")


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}", "TRUSTED_PROXIES": 1}
    )

    @app.route("/_ip")
    def _ip():  # type: ignore[no-untyped-def]
        from flask import request

        return request.remote_addr or ""

    client = app.test_client()
    seen = client.get(
        "/_ip", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert seen.get_data(as_text=True) == "203.0.113.9"
    plain = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'q.db'}"})
    plain.add_url_rule("/_ip", "_ip", lambda: __import__("flask").request.remote_addr or "")
    direct = plain.test_client().get(
        "/_ip", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert direct.get_data(as_text=True) == "10.0.0.2"  # no proxy trusted: headers ignored
