from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.auth.passwords import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )
    remember = BooleanField("Keep me logged in on this phone")
    next = HiddenField()


class AcceptInvitationForm(FlaskForm):
    email = EmailField(
        "Your email",
        validators=[Optional(), Email("Enter a valid email address."), Length(max=254)],
    )
    password = PasswordField(
        "Choose a password",
        validators=[
            DataRequired("Choose a password."),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message="Use at least 10 characters."),
        ],
    )


class LogoutForm(FlaskForm):
    """Logout is a POST with a CSRF token, so another site cannot log people out."""
