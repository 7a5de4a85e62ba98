"""The front door and the health check."""

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user

from app.auth.views import home_for
from app.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/healthz")
def healthz():
    """Answer 200 when the app can reach its database, 503 when it cannot."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
