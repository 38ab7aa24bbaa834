"""The patient record. Intake (health data, encrypted) arrives with the booking pages."""

from django.db import models
from django.db.models.functions import Lower


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=40)
    date_of_birth = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            # A returning patient is recognised by email and date of birth; one record each.
            models.UniqueConstraint(Lower("email"), "date_of_birth", name="one_patient_per_email_and_birth_date"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
