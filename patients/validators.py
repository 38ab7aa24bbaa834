"""What a patient's contact details must look like: one set of rules for the API and the booking pages."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone

validate_phone = RegexValidator(
    r"^\+?[0-9 ()./-]{6,30}$", "Enter a phone number with digits, spaces or dashes, e.g. +1 555 010 0199."
)


def validate_date_of_birth(value: date) -> None:
    today = timezone.localdate()
    if value > today:
        raise ValidationError("The date of birth is in the future.")
    if value.year < today.year - 130:
        raise ValidationError("Please check the year of birth.")
