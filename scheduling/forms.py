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


class DeskBookingForm(forms.Form):
    """The front desk books a phone or walk-in patient: a patient found by search, or a new one typed in."""

    patient = forms.IntegerField(required=False, widget=forms.HiddenInput)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False, validators=[validate_phone])
    date_of_birth = forms.DateField(
        required=False, validators=[validate_date_of_birth], widget=forms.DateInput(attrs={"type": "date"})
    )
    service = forms.ModelChoiceField(queryset=None, empty_label="Choose a treatment")
    practitioner = forms.ModelChoiceField(queryset=None, empty_label="Choose a practitioner")
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.CharField(required=False)  # one of the free times offered, as an ISO instant
    outside_hours = forms.BooleanField(
        required=False, label="Book outside working hours (recorded; never over another appointment)"
    )
    outside_time = forms.TimeField(required=False, label="Time", widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, services, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["practitioner"].queryset = practitioners

    def new_patient(self) -> PatientDetails | None:
        """The patient typed in, when no record was chosen; every field is then required."""
        data = self.cleaned_data
        if data.get("patient"):
            return None
        missing = [name for name in PatientDetails.__dataclass_fields__ if not data.get(name)]
        for name in missing:
            self.add_error(name, "Needed for a new patient (or find the patient above).")
        if missing:
            return None
        return PatientDetails(**{name: data[name] for name in PatientDetails.__dataclass_fields__})


class DeskMoveForm(forms.Form):
    practitioner = forms.ModelChoiceField(queryset=None, empty_label=None)
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 300}))
    outside_hours = forms.BooleanField(required=False, label="Outside working hours (recorded)")

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners


class DeskCancelForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.TextInput, label="Reason")


class TimeOffForm(forms.Form):
    """Time away in the practitioner's local time (the zone of their first location)."""

    start = forms.DateTimeField(label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200, required=False, help_text="Shown on the calendar, e.g. Holiday.")
