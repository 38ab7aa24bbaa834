"""Forms of the booking pages: they parse what a patient typed; the rules live in the services."""

from datetime import date, datetime

from django import forms
from django.utils.dateparse import parse_date, parse_datetime

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


# Far enough for any booking, near enough that date arithmetic never leaves the calendar.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2199, 12, 31)


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD date inside the calendar's range, or None for anything else (30 February included)."""
    try:
        day = parse_date(text[:10]) if len(text) == 10 else None
    except ValueError:
        return None
    return day if day and EARLIEST_DATE <= day <= LATEST_DATE else None


def parse_slot_choice(text: str) -> tuple[datetime, int | None] | None:
    """A time button's value: an ISO instant with its offset, and with "no preference" "|<practitioner id>"."""
    instant, _, practitioner = text[:64].partition("|")
    try:
        start = parse_datetime(instant)
    except ValueError:
        return None
    if start is None or start.tzinfo is None or not EARLIEST_DATE <= start.date() <= LATEST_DATE:
        return None
    if practitioner and not practitioner.isdigit():
        return None
    return start, int(practitioner) if practitioner else None
