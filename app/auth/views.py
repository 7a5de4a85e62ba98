"""Log in, log out, accept an invitation."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from app.auth import sessions
from app.auth.forms import AcceptInvitationForm, LoginForm, LogoutForm
from app.auth.models import User
from app.auth.services import Acceptance, accept_invitation, authenticate, find_invitation
from app.db import utcnow
from app.enums import Role
from app.extensions import limiter
from app.forms import save
from app.inputs import has_control

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Email or password is incorrect."


def home_for(user: User) -> str:
    if user.role is Role.PATIENT:
        return url_for("patient.today")
    if user.role is Role.ADMIN:
        return url_for("admin.index")
    return url_for("caseload.index")


def safe_next(target: str | None) -> str | None:
    """Accept only a plain local path, so a link cannot send people to another site (nor put
    a line break into the Location header)."""
    if not target or has_control(target) or any(c.isspace() for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        now = utcnow()
        user = authenticate(form.email.data, form.password.data, now, request.remote_addr)
        if user is None:
            # 200, so the commit path keeps the failure count for the back-off.
            form.password.errors.append(LOGIN_FAILED)
            return render_template("auth/login.html", form=form), 200
        remember = bool(form.remember.data) and user.role is Role.PATIENT
        sessions.start(user, remember=remember, now=now)
        login_user(user, remember=remember)
        return redirect(safe_next(form.next.data) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        sessions.revoke(current_user.get_id(), utcnow())
    logout_user()
    session.clear()  # nothing of this login stays in the cookie (DESIGN §6)
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):
    now = utcnow()
    invitation = find_invitation(token, now)
    if invitation is None:
        return render_template("auth/invite_invalid.html"), 404
    form = AcceptInvitationForm()
    needs_email = invitation.user.email is None
    if form.validate_on_submit():
        accepted = []
        if save(
            form,
            lambda: accepted.append(
                accept_invitation(
                    invitation,
                    Acceptance(password=form.password.data, email=form.email.data),
                    now,
                )
            ),
            fallback="password",
        ):
            user = accepted[0]
            if current_user.is_authenticated:
                logout_user()
            sessions.start(user, remember=False, now=now)
            login_user(user)
            flash("Welcome to Homestretch. Your password is set.", "success")
            return redirect(home_for(user))
    elif request.method == "GET" and needs_email:
        form.email.data = invitation.email
    page = render_template(
        "auth/invite.html", form=form, invitation=invitation, needs_email=needs_email
    )
    return page, 422 if form.errors else 200
