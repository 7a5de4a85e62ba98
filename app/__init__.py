"""Homestretch: a guided home exercise program for low back pain."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config_class

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Create the application; `overrides` apply after the config class (DESIGN §4)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config_class())
    if overrides:
        app.config.update(overrides)
    finalise_config(app)

    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def finalise_config(app: Flask) -> None:
    """Fill the development defaults and refuse an unsafe production setup."""
    if app.config.get("ENV_NAME") == "production" or app.config.get("HSTS"):
        required = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "PUBLIC_BASE_URL")
        missing = [name for name in required if not app.config.get(name)]
        if missing:
            names = ", ".join("DATABASE_URL" if m.startswith("SQLALCHEMY") else m for m in missing)
            raise RuntimeError(f"Production needs {names} set in the environment.")
    if not app.config.get("PUBLIC_BASE_URL"):
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    if app.config.get("TRUSTED_PROXIES"):
        # Behind a TLS proxy the client address is the proxy's unless its header is trusted.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'homestretch.sqlite3'}"
        )
    if not app.config.get("SECRET_KEY"):
        # Development only: a random key kept in the instance folder, never a fixed fallback.
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        options.setdefault("connect_args", {}).setdefault("timeout", 5)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every model registered on the metadata)
    from app.db import configure_sqlite
    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    from app import i18n
    from app.auth import sessions

    sessions.init_login_manager(login_manager)
    i18n.init_app(app)
    # Trans blocks are whitespace-trimmed, as babel.cfg extracts them (one msgid per sentence).
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def register_security(app: Flask) -> None:
    from app import compression, inputs, security, transactions

    inputs.init_app(app)  # before the blueprints: their routes use its bounded converter
    security.init_app(app)
    compression.init_app(app)
    transactions.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.admin.views import bp as admin_bp
    from app.alerts.views import bp as alerts_bp
    from app.api import PREFIX as API_PREFIX
    from app.api import bp as api_bp
    from app.auth.views import bp as auth_bp
    from app.caseload.views import bp as caseload_bp
    from app.figures.views import bp as figures_bp
    from app.main.views import bp as main_bp
    from app.measures.views import bp as measures_bp
    from app.patient.views import bp as patient_bp
    from app.programs.views import bp as programs_bp
    from app.reminders.views import register_blueprints as register_reminders_and_messages

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(caseload_bp, url_prefix="/caseload")
    app.register_blueprint(programs_bp, url_prefix="/programs")
    app.register_blueprint(patient_bp)
    app.register_blueprint(alerts_bp, url_prefix="/alerts")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix=API_PREFIX)
    app.register_blueprint(figures_bp)
    app.register_blueprint(measures_bp)
    register_reminders_and_messages(app)


def register_errorhandlers(app: Flask) -> None:
    from app.main import errors

    errors.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from app import formatting

    formatting.init_app(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)
