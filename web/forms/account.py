"""Page forms: they shape and check what people type; the services decide."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from web.forms.govuk import GovukErrorClassMixin

WRONG_USERNAME_OR_PASSWORD = (
    "The username or password is not right. Check them and try again. Both are case-sensitive."
)


class SignInForm(GovukErrorClassMixin, AuthenticationForm):
    """Username and password. A wrong pair gets one message that does not say which of the two was wrong."""

    error_messages = {
        "invalid_login": WRONG_USERNAME_OR_PASSWORD,
        "inactive": WRONG_USERNAME_OR_PASSWORD,
    }

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        # No autofocus: after an error, focus belongs to the error summary; screen readers start at the top.
        username.widget.attrs.pop("autofocus", None)
        username.label = "Username"
        username.error_messages["required"] = "Enter your username"
        username.widget.attrs.update(
            {
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "class": "govuk-input",
            }
        )
        password = self.fields["password"]
        password.label = "Password"
        password.error_messages["required"] = "Enter your password"
        password.widget.attrs.update({"autocomplete": "current-password", "class": "govuk-input"})


class OneTimeCodeForm(GovukErrorClassMixin, forms.Form):
    """The 6-digit code from an authenticator app."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
                "class": "govuk-input govuk-input--width-10",
            }
        ),
    )


class BackupCodeForm(GovukErrorClassMixin, forms.Form):
    """One of the backup codes shown when the authenticator app was set up."""

    code = forms.CharField(
        label="Backup code",
        max_length=40,
        error_messages={"required": "Enter one of your backup codes"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "class": "govuk-input govuk-input--width-10",
            }
        ),
    )


class PersonalTokenIssueForm(GovukErrorClassMixin, forms.Form):
    name = forms.CharField(
        label="Name",
        help_text="What the token is for, so you can tell your tokens apart. For example: my budgeting app.",
        max_length=100,
        error_messages={
            "required": "Enter a name for the token",
            "max_length": "Name must be 100 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "govuk-input"}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name for the token", code="required")
        return name


class ProviderApiKeyIssueForm(GovukErrorClassMixin, forms.Form):
    name = forms.CharField(
        label="Name",
        help_text=(
            "Which of your systems will use the key, so you can tell your keys apart. For example: rota."
        ),
        max_length=100,
        error_messages={
            "required": "Enter a name for the key",
            "max_length": "Name must be 100 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "govuk-input"}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name for the key", code="required")
        return name


class PasswordResetRequestForm(GovukErrorClassMixin, PasswordResetForm):
    """The e-mail address to send a password reset link to."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = "Email address"
        email.help_text = "The address your Purse account uses. We will send a link to choose a new password."
        email.error_messages["required"] = "Enter your email address"
        email.error_messages["invalid"] = "Enter an email address in the right format, like name@example.com"
        email.widget.attrs.update({"class": "govuk-input", "autocomplete": "email", "spellcheck": "false"})


class NewPasswordForm(GovukErrorClassMixin, SetPasswordForm):
    """A new password, typed twice; Django's password validators say what is wrong with a weak one."""

    error_messages = {
        "password_mismatch": "The two passwords are not the same. Type the same password twice."
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        first, second = self.fields["new_password1"], self.fields["new_password2"]
        first.label, second.label = "New password", "Type the new password again"
        first.help_text = (
            "At least 8 characters, not only numbers. Avoid common words and anything about you."
        )
        first.error_messages["required"] = "Enter a new password"
        second.error_messages["required"] = "Type the new password again"
        for field in (first, second):
            field.widget.attrs.update({"class": "govuk-input", "autocomplete": "new-password"})
