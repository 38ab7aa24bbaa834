"""The intake as a web form. Fields come from the questions in patients/intake.py; `answers_clean` decides.

Every field is optional here on purpose: which answers are required (and when) is the intake's rule, checked
once by `answers_clean`, whose messages land beside their fields.
"""

from django import forms

from patients.intake import (
    CONSENT_TEXT,
    PRIVACY_NOTICE_TEXT,
    QUESTIONS,
    IntakeInvalid,
    Question,
    answers_clean,
    names_match,
)

_YES_NO = [("yes", "Yes"), ("no", "No")]
_LONG_TEXT = {"reason", "goals", "medications", "allergies"}


def _field_for(question: Question) -> forms.Field:
    label = f"{question.label} (required)" if question.required else question.label
    if question.kind == "scale":
        return forms.IntegerField(label=label, required=False, widget=forms.NumberInput(attrs={"min": 0, "max": 10}))
    if question.kind == "choice":
        return forms.ChoiceField(label=label, required=False, choices=question.choices, widget=forms.RadioSelect)
    if question.kind == "choices":
        return forms.MultipleChoiceField(
            label=label, required=False, choices=question.choices, widget=forms.CheckboxSelectMultiple
        )
    if question.kind == "yes_no":
        return forms.ChoiceField(label=label, required=False, choices=_YES_NO, widget=forms.RadioSelect)
    widget = forms.Textarea(attrs={"rows": 3}) if question.key in _LONG_TEXT else forms.TextInput()
    if question.kind == "phone":
        widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
    return forms.CharField(label=label, required=False, max_length=question.max_length, widget=widget)


class IntakeForm(forms.Form):
    """The health questions, consent and communication preferences of a first visit."""

    consent_text = CONSENT_TEXT
    privacy_notice_text = PRIVACY_NOTICE_TEXT

    def __init__(self, *args, patient_name: str = "", with_preferences: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient_name = patient_name
        for question in QUESTIONS:
            self.fields[question.key] = _field_for(question)
        self.fields["consent_name"] = forms.CharField(
            label="Type your full name to consent to treatment", max_length=200, required=True
        )
        self.fields["privacy_read"] = forms.BooleanField(label="I have read the privacy notice", required=True)
        if with_preferences:
            self.fields["reminders_opt_in"] = forms.BooleanField(
                label="Send me appointment reminders", required=False, initial=True
            )
            self.fields["education_opt_in"] = forms.BooleanField(
                label="Send me short articles that fit why I came (now and then; stop any time)", required=False
            )

    @staticmethod
    def initial_from(answers: dict) -> dict:
        """A stored intake as this form shows it: yes/no for booleans, the rest as stored."""
        return {key: ("yes" if value else "no") if isinstance(value, bool) else value for key, value in answers.items()}

    @property
    def questions(self) -> list[forms.BoundField]:
        return [self[question.key] for question in QUESTIONS]

    @property
    def consent_fields(self) -> list[forms.BoundField]:
        names = ("consent_name", "privacy_read", "reminders_opt_in", "education_opt_in")
        return [self[name] for name in names if name in self.fields]

    def clean(self) -> dict:
        cleaned = super().clean()
        try:
            self.answers = answers_clean({question.key: cleaned.get(question.key) for question in QUESTIONS})
        except IntakeInvalid as invalid:
            for key, message in invalid.errors.items():
                self.add_error(key, message)
        typed = cleaned.get("consent_name") or ""
        if typed and self.patient_name and not names_match(typed, self.patient_name):
            self.add_error("consent_name", "Type your full name, first and last, as you gave it above.")
        return cleaned
