"""Log in (password, then a second factor for enrolled clinicians), log out, accept an
invitation, set up or reset the second factor, reset or change a password."""

import time
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from app import audit
from app.access import clinician_required
from app.auth import resets, sessions, two_factor
from app.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    LoginForm,
    LogoutForm,
    NewPasswordForm,
    ResetRequestForm,
    TwoFactorForm,
    TwoFactorResetForm,
    TwoFactorSetupForm,
)
from app.auth.models import User
from app.auth.passwords import min_password_length
from app.auth.services import (
    Acceptance,
    accept_invitation,
    authenticate,
    clear_login_failures,
    count_wrong_code,
    find_invitation,
    second_factor_allowed,
)
from app.db import utcnow
from app.enums import Role
from app.extensions import limiter
from app.forms import save
from app.i18n import browser_language
from app.inputs import has_control
from app.problems import problem
from app.qr import qr_svg
from app.transactions import after_commit, defer_write

bp = Blueprint("auth", __name__)

# Plain English (tests look for it in the page); the form shows `_()` of the same words.
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
            form.password.errors.append(_("Email or password is incorrect."))
            return render_template("auth/login.html", form=form), 200
        remember = bool(form.remember.data) and user.role is Role.PATIENT
        if two_factor.requires_second_factor(user):
            # The password was right; the login reaches nothing until the second step.
            session[PENDING_LOGIN] = sessions.start(user, remember=False, now=now, pending=True)
            session[PENDING_NEXT] = safe_next(form.next.data)
            audit.record(
                "auth.password_ok", actor=user, object_type="user", object_id=user.id, now=now
            )
            return redirect(url_for("auth.two_factor_step"))
        sessions.start(user, remember=remember, now=now)
        login_user(user, remember=remember)
        audit.record("auth.login", actor=user, object_type="user", object_id=user.id, now=now)
        return redirect(safe_next(form.next.data) or home_for(user))
    return render_template("auth/login.html", form=form)


PENDING_LOGIN = "pending_login"
PENDING_NEXT = "pending_next"


@bp.route("/2fa", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def two_factor_step():
    """The second step of a clinician's login: a TOTP code or a recovery code."""
    now = utcnow()
    token = session.get(PENDING_LOGIN)
    found = sessions.pending_login(token, now)
    if found is None:
        session.pop(PENDING_LOGIN, None)
        session.pop(PENDING_NEXT, None)
        flash("Please log in again.", "info")
        return redirect(url_for("auth.login"))
    login, user = found
    form = TwoFactorForm()
    if form.validate_on_submit():
        allowed = second_factor_allowed(user, request.remote_addr, now)
        verified = two_factor.verify_second_factor(user, form.code.data, now) if allowed else None
        if verified is not None:
            clear_login_failures(user)
            sessions.complete_second_factor(login, user, token, now)
            session.pop(PENDING_LOGIN, None)
            target = session.pop(PENDING_NEXT, None)
            login_user(user)
            audit.record("auth.login", actor=user, object_type="user", object_id=user.id, now=now)
            if verified.recovery_code:
                flash(
                    "You used a recovery code; it will not work again. If you lost your phone, "
                    "reset your second factor now.",
                    "info",
                )
            return redirect(safe_next(target) or home_for(user))
        count_wrong_code(user, request.remote_addr, now)
        if sessions.count_second_factor_failure(login, now):
            session.pop(PENDING_LOGIN, None)
            flash("Too many wrong codes. Log in again.", "error")
            return redirect(url_for("auth.login"))
        form.code.errors.append(two_factor.WRONG_CODE)
        # 200, so the commit path keeps the count of wrong codes.
        return render_template("auth/two_factor.html", form=form), 200
    return render_template("auth/two_factor.html", form=form)


def second_factor_gate():
    """Send a clinician who must enrol to setup before any page or call with patient data."""
    if not current_user.is_authenticated or not two_factor.must_enrol(current_user):
        return None
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.startswith(("auth.", "main.", "figures.")):
        return None
    if request.path.startswith("/api/"):
        return problem(
            403,
            "Second factor needed",
            "Your clinic requires a second factor: set it up at /auth/2fa/setup first.",
        )
    return redirect(url_for("auth.two_factor_setup"))


bp.before_app_request(second_factor_gate)
# Registered after the commit path, so it runs before it (Flask runs these in reverse order).
bp.after_app_request(audit.audit_request)


@bp.route("/2fa/setup", methods=["GET", "POST"])
@clinician_required
def two_factor_setup():
    """Show the secret as an otpauth:// URI and a QR code; a first code turns it on."""
    user = current_user._get_current_object()
    if user.totp_secret is not None:
        return render_template(
            "auth/two_factor_setup.html", enabled=True, left=two_factor.recovery_codes_left(user)
        )
    now = utcnow()
    form = TwoFactorSetupForm()
    codes: list[str] = []
    if form.validate_on_submit() and save(
        form,
        lambda: codes.extend(
            two_factor.confirm_enrolment(user, form.code.data, now, password=form.password.data)
        ),
        fallback="code",
    ):
        # Shown once, on this answer only (never stored in the clear, never in a cookie).
        return render_template("auth/two_factor_codes.html", codes=codes)
    secret = two_factor.pending_secret(user)
    if secret is None:
        secret = two_factor.new_secret()
        sealed = two_factor.seal_secret(secret)
        user_id = user.id
        defer_write(lambda: two_factor.store_pending_secret(user_id, sealed))
    uri = two_factor.provisioning_uri(user, secret)
    page = render_template(
        "auth/two_factor_setup.html",
        enabled=False,
        form=form,
        uri=uri,
        secret=secret,
        qr=qr_svg(uri, "QR code to add Homestretch to your authenticator app"),
    )
    return page, 422 if form.errors else 200


@bp.route("/2fa/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@clinician_required
def two_factor_reset():
    """Turn your own second factor off with your password and a recovery code."""
    user = current_user._get_current_object()
    form = TwoFactorResetForm()
    if form.validate_on_submit() and save(
        form,
        lambda: two_factor.reset_own_second_factor(
            user, form.password.data, form.recovery_code.data, utcnow()
        ),
        fallback="recovery_code",
    ):
        flash("Your second factor is off. Set up a new one now.", "success")
        return redirect(url_for("auth.two_factor_setup"))
    page = render_template(
        "auth/two_factor_reset.html", form=form, enabled=user.totp_secret is not None
    )
    return page, 422 if form.errors else 200


# The reset request answers after at least this long whatever happened, so the time taken does
# not tell whether an address has an account (the email itself goes out on its own thread).
RESET_ANSWER_SECONDS = 0.35
RESET_SENT = _l(
    "If an account uses that address, we have sent it a link to choose a new password. "
    "The link works once, for 1 hour."
)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def reset_request():
    """Ask for a password-reset link: the same answer, in the same time, for every address."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        started = time.monotonic()
        resets.request_reset(form.email.data, utcnow())
        wait = current_app.config.get("RESET_ANSWER_SECONDS", RESET_ANSWER_SECONDS)
        # The same answer time for every address, padded once the request's transaction has
        # committed: SQLite's write lock is never held while waiting.
        after_commit(lambda: time.sleep(max(0.0, wait - (time.monotonic() - started))))
        return render_template("auth/reset_sent.html", message=RESET_SENT)
    page = render_template("auth/reset_request.html", form=form)
    return page, 422 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with a reset link (once); every login of that user ends."""
    now = utcnow()
    reset = resets.find_reset(token, now)
    if reset is None:
        return render_template("auth/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit() and save(
        form, lambda: resets.reset_password(reset, form.password.data, now), fallback="password"
    ):
        if current_user.is_authenticated:
            logout_user()
        session.clear()
        flash(_("Your password is changed. Log in with the new one."), "success")
        return redirect(url_for("auth.login"))
    page = render_template(
        "auth/reset_password.html",
        form=form,
        minimum=min_password_length(reset.user.role is Role.PATIENT),
    )
    return page, 422 if form.errors else 200


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@login_required
def change_password():
    """Change your password (the current one is asked); your other logins end."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        now = utcnow()
        if save(
            form,
            lambda: resets.change_password(
                user, form.current_password.data, form.password.data, now
            ),
            fallback="password",
        ):
            # Every login ended, this one too; this device gets a fresh one.
            sessions.start(user, remember=False, now=now)
            login_user(user)
            flash(_("Your password is changed. You are logged out everywhere else."), "success")
            return redirect(home_for(user))
    page = render_template(
        "auth/change_password.html",
        form=form,
        minimum=min_password_length(user.role is Role.PATIENT),
    )
    return page, 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        sessions.revoke(current_user.get_id(), utcnow())
        audit.record(
            "auth.logout", actor=current_user, object_type="user", object_id=current_user.id
        )
    sessions.revoke(session.get(PENDING_LOGIN), utcnow())
    logout_user()
    session.clear()  # nothing of this login stays in the cookie (DESIGN §6)
    flash(_("You are logged out."), "info")
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
                    Acceptance(
                        password=form.password.data,
                        email=form.email.data,
                        language=browser_language(),
                    ),
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
            audit.record("auth.login", actor=user, object_type="user", object_id=user.id, now=now)
            flash(_("Welcome to Homestretch. Your password is set."), "success")
            return redirect(home_for(user))
    elif request.method == "GET" and needs_email:
        form.email.data = invitation.email
    page = render_template(
        "auth/invite.html",
        form=form,
        invitation=invitation,
        needs_email=needs_email,
        minimum=min_password_length(invitation.user.role is Role.PATIENT),
    )
    return page, 422 if form.errors else 200
