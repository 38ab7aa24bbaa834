"""The intake form as data: its questions and choices, the consent and privacy texts, and the check of a submission.

Pages render from these questions and `answers_clean` checks a submission against the same list, so a question
is added in one place. No ORM here: this module is tested alone.

The consent and privacy texts are what a patient agrees to. Changing either one means a new version string,
because each intake records the versions its patient saw. A clinic adapts them to the law where it practises.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from django.core.exceptions import ValidationError

from backend.errors import ServiceError
from patients.validators import validate_phone

CONSENT_VERSION = "2026-11"
CONSENT_TEXT = """\
I consent to assessment and treatment with acupuncture, and with related techniques such as cupping, \
moxibustion or electro-acupuncture when my practitioner explains them to me first.

Acupuncture uses fine, sterile, single-use needles. Common effects are usually mild and short-lived: slight \
bleeding or bruising where a needle was placed, soreness, tiredness or light-headedness. Fainting is uncommon. \
Rare risks include infection, a broken needle and, with needles over the chest or upper back, a punctured lung.

Results vary from person to person, and no particular result is promised. Acupuncture does not replace seeing \
a doctor for diagnosis or treatment, and I will not stop or change a prescribed treatment without talking to \
my doctor.

I have answered the intake questions truthfully, as far as I know, and I will tell my practitioner if my \
health, my medications or a pregnancy change. I may ask questions at any time, and I may decline or stop any \
treatment at any time."""

PRIVACY_NOTICE_VERSION = "2026-11"
PRIVACY_NOTICE_TEXT = """\
The clinic keeps your answers to this form, your contact details and your appointments, to treat you safely, \
to book your visits and remind you of them and, only if you ask for them, to send you educational articles.

Your answers are encrypted when they are stored, and they are never put in emails or web addresses. Only \
clinic staff who need them for your care see them. The clinic does not sell your information or use it for \
advertising.

You may ask the clinic to show you what it holds about you and to correct it. The clinic keeps health records \
for as long as the law where it practises requires."""

Kind = Literal["text", "phone", "scale", "choice", "choices", "yes_no"]


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    kind: Kind
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (stored value, label)
    max_length: int = 2000

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.choices)


PAIN_AREAS = (
    ("head", "Head"),
    ("jaw", "Jaw"),
    ("neck", "Neck"),
    ("shoulders", "Shoulders"),
    ("upper_back", "Upper back"),
    ("lower_back", "Lower back"),
    ("hips", "Hips"),
    ("knees", "Knees"),
    ("feet", "Feet"),
    ("abdomen", "Abdomen"),
    ("other", "Other"),
)
PAIN_DURATIONS = (
    ("under_6_weeks", "Less than 6 weeks"),
    ("6_weeks_to_3_months", "6 weeks to 3 months"),
    ("3_to_12_months", "3 to 12 months"),
    ("over_a_year", "More than a year"),
)
SLEEP_QUALITIES = (("good", "Good"), ("fair", "Fair"), ("poor", "Poor"), ("very_poor", "Very poor"))

# The screening a practitioner needs before placing a needle. Each one must be answered, yes or no: a missing
# answer is not a "no". Front-desk staff will see which ones are set (`safety_flags`), never the other answers.
SAFETY_QUESTIONS = tuple(
    Question(key, label, "yes_no", required=True)
    for key, label in (
        ("pregnant", "Are you pregnant, or could you be?"),
        ("anticoagulants", "Do you take blood thinners (anticoagulants) or have a bleeding disorder?"),
        ("pacemaker", "Do you have a pacemaker or another implanted electrical device?"),
        ("epilepsy", "Do you have epilepsy or seizures?"),
        ("needle_fainting", "Have you fainted with needles, or do needles make you anxious?"),
        ("diabetes", "Do you have diabetes?"),
        ("weakened_immunity", "Is your immune system weakened (by an illness or a medication)?"),
        ("skin_conditions", "Do you have a skin condition?"),
    )
)
SAFETY_FLAGS = tuple(question.key for question in SAFETY_QUESTIONS)
# The flags the front desk needs before a needle goes in; the others (diabetes, immunity, skin) are clinical.
FRONT_DESK_FLAGS = ("pregnant", "anticoagulants", "pacemaker", "epilepsy", "needle_fainting")
# How a badge on the calendar names each one: short enough for a card, plain enough to act on.
FLAG_LABELS = {
    "pregnant": "Pregnant",
    "anticoagulants": "Blood thinners",
    "pacemaker": "Pacemaker",
    "epilepsy": "Epilepsy",
    "needle_fainting": "Faints with needles",
    "diabetes": "Diabetes",
    "weakened_immunity": "Weakened immunity",
    "skin_conditions": "Skin condition",
}

QUESTIONS = (
    Question("reason", "What brings you in?", "text", required=True),
    Question("pain_areas", "Where does it hurt?", "choices", choices=PAIN_AREAS),
    Question("pain_areas_other", "Where else does it hurt?", "text", max_length=200),
    Question("pain_intensity", "How strong is the pain, from 0 (none) to 10 (the worst imaginable)?", "scale"),
    Question("pain_duration", "How long has it lasted?", "choice", choices=PAIN_DURATIONS),
    Question("stress_level", "How stressed have you felt lately, from 0 (not at all) to 10 (extremely)?", "scale"),
    Question("sleep_quality", "How well do you sleep?", "choice", choices=SLEEP_QUALITIES),
    Question("goals", "What would you like treatment to help with?", "text"),
    *SAFETY_QUESTIONS,
    Question("medications", "Which medications or supplements do you take?", "text"),
    Question("allergies", "Do you have allergies (for example to latex, adhesive tape or medicines)?", "text"),
    Question("acupuncture_before", "Have you had acupuncture before?", "yes_no", required=True),
    Question("emergency_contact_name", "Emergency contact: name", "text", required=True, max_length=200),
    Question("emergency_contact_phone", "Emergency contact: phone", "phone", required=True),
)
QUESTIONS_BY_KEY = {question.key: question for question in QUESTIONS}

_REQUIRED = {"yes_no": "Answer yes or no.", "phone": "Enter a phone number."}
_SCALE = re.compile(r"[0-9]{1,2}")


class IntakeInvalid(ServiceError):
    """Every bad answer at once, under its question's key, so a page can show each message beside its field."""

    def __init__(self, errors: dict[str, str]):
        field, detail = next(iter(errors.items()))
        super().__init__(detail, field=field)
        self.errors = errors

    @property
    def fields(self) -> dict[str, list[str]]:
        return {field: [message] for field, message in self.errors.items()}


class _BadAnswer(ValueError):
    pass


def answers_clean(answers: Mapping[str, object]) -> dict[str, object]:
    """Every question's answer in its stored form (None or [] when not answered), or IntakeInvalid.

    The messages never repeat what was typed: they end up in logs and API responses.
    """
    cleaned: dict[str, object] = {}
    errors: dict[str, str] = {}
    for question in QUESTIONS:
        try:
            cleaned[question.key] = _answer_clean(question, answers.get(question.key))
        except _BadAnswer as error:
            errors[question.key] = str(error)
    for key, message in _follow_up_errors(cleaned).items():
        errors.setdefault(key, message)
    errors = {question.key: errors[question.key] for question in QUESTIONS if question.key in errors}
    errors |= {key: "The intake has no such question." for key in answers if key not in QUESTIONS_BY_KEY}
    if errors:
        raise IntakeInvalid(errors)
    return cleaned


def safety_flags(answers: Mapping[str, object]) -> tuple[str, ...]:
    """The keys of the safety questions answered "yes", in the form's order."""
    return tuple(key for key in SAFETY_FLAGS if answers.get(key) is True)


def names_match(typed: str, full_name: str) -> bool:
    """Loosely: case, spacing and accents aside ("  alice  MOREAU" is Alice Moreau, "Zoe" is Zoé)."""
    return _name_key(typed) == _name_key(full_name)


def _name_key(name: str) -> str:
    letters = unicodedata.normalize("NFKD", name)
    letters = "".join(character for character in letters if not unicodedata.combining(character))
    return " ".join(letters.casefold().split())


def _answer_clean(question: Question, raw: object) -> object:
    value = _CLEANERS[question.kind](question, raw)
    if question.required and value is None:
        raise _BadAnswer(_REQUIRED.get(question.kind, "Please answer this question."))
    return value


def _follow_up_errors(cleaned: Mapping[str, object]) -> dict[str, str]:
    """Questions that become required by another answer: where it hurts asks how much and for how long."""
    areas = cleaned.get("pain_areas") or []
    errors: dict[str, str] = {}
    if areas and cleaned.get("pain_intensity") is None:
        errors["pain_intensity"] = "Rate the pain from 0 (none) to 10 (the worst imaginable)."
    if areas and cleaned.get("pain_duration") is None:
        errors["pain_duration"] = "Choose how long the pain has lasted."
    if "other" in areas and not cleaned.get("pain_areas_other"):
        errors["pain_areas_other"] = "Tell us where else it hurts."
    return errors


def _text(question: Question, raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _BadAnswer("Enter text.")
    text = raw.strip()
    if len(text) > question.max_length:
        raise _BadAnswer(f"Please shorten this to {question.max_length} characters or fewer.")
    return text or None


def _phone(question: Question, raw: object) -> str | None:
    phone = _text(question, raw)
    if phone is not None:
        try:
            validate_phone(phone)  # the booking form's rule for the patient's own phone
        except ValidationError as error:
            raise _BadAnswer(error.messages[0]) from None
    return phone


def _scale(question: Question, raw: object) -> int | None:
    # A form sends "7", a JSON body sends 7; True is not a number here, and neither is 7.5.
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and _SCALE.fullmatch(raw.strip()):
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 10:
        raise _BadAnswer("Choose a whole number from 0 to 10.")
    return raw


def _choice(question: Question, raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or raw not in question.values:
        raise _BadAnswer("Choose one of the listed options.")
    return raw


def _choices(question: Question, raw: object) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) and item in question.values for item in raw):
        raise _BadAnswer("Choose only from the listed options.")
    return [value for value in question.values if value in raw]  # the form's order, each once


def _yes_no(question: Question, raw: object) -> bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"yes", "no"}:
        return raw.strip().lower() == "yes"
    raise _BadAnswer("Answer yes or no.")


_CLEANERS: dict[Kind, Callable[[Question, object], object]] = {
    "text": _text,
    "phone": _phone,
    "scale": _scale,
    "choice": _choice,
    "choices": _choices,
    "yes_no": _yes_no,
}


def answers_readable(answers: Mapping[str, object]) -> list[tuple[str, str]]:
    """(question, answer) in the form's order, as a practitioner reads them: labels for choices, "Yes"/"No"."""
    shown = []
    for question in QUESTIONS:
        value = answers.get(question.key)
        if value is None or value == "" or value == []:
            continue
        labels = dict(question.choices)
        if question.kind == "yes_no":
            text = "Yes" if value else "No"
        elif question.kind == "choices":
            text = ", ".join(labels.get(item, item) for item in value)
        elif question.kind == "choice":
            text = labels.get(value, value)
        else:
            text = str(value)
        shown.append((question.label, text))
    return shown
