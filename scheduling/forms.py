"""Forms of the booking pages: they parse what a patient typed; the rules live in the services."""

from django import forms

from patients.services import PatientDetails
from patients.validators import validate_date_of_birth, validate_phone


class PatientDetailsForm(forms.Form):
    first_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(
        max_length=40, validators=[validate_phone], widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"})
    )
    date_of_birth = forms.DateField(
        validators=[validate_date_of_birth],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        help_text="We use it with your email to find your record if you have been before.",
    )

    def details(self) -> PatientDetails:
        return PatientDetails(**self.cleaned_data)
