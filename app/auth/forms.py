from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)]
    )
    remember = BooleanField(_l("Keep me logged in on this phone"))
    next = HiddenField()


class AcceptInvitationForm(FlaskForm):
    email = EmailField(
        _l("Your email"),
        validators=[Optional(), Email(_l("Enter a valid email address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Choose a password"),
        # The length and common-password rules depend on the role: the service checks them.
        validators=[DataRequired(_l("Choose a password.")), Length(max=200)],
    )


class LogoutForm(FlaskForm):
    """Logout is a POST with a CSRF token, so another site cannot log people out."""


class TwoFactorForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Enter the code from your app."), Length(max=40)],
    )


class TwoFactorSetupForm(TwoFactorForm):
    """Turning the second factor on asks for the password again: a session left open on a
    shared computer cannot tie the account to someone else's phone."""

    password = PasswordField(
        "Your password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )


class TwoFactorResetForm(FlaskForm):
    password = PasswordField(
        "Your password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )
    recovery_code = StringField(
        "A recovery code",
        validators=[DataRequired("Enter one of your recovery codes."), Length(max=40)],
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Choose a password.")), Length(max=200)]
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the new password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=200)],
    )
