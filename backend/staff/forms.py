from django import forms
from django.contrib.auth.forms import AuthenticationForm


class StaffLoginForm(AuthenticationForm):
    """Django's login form (it passes the request to `authenticate`, which django-axes needs)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Please check both (they are case-sensitive).",
    }


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code",
        help_text="The code your authenticator app shows for Meridian now. It changes every 30 seconds.",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Please type the six digits your app shows, for example 123456.")
        return code
