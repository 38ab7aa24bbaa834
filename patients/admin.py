from django.contrib import admin

from patients.models import Patient

# Intakes are deliberately not registered: every staff login reaches the admin, and health data is to be shown
# only to the roles that need it, with each read audited. They come back with roles, not before.


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = [
        "last_name",
        "first_name",
        "email",
        "phone",
        "date_of_birth",
        "reminders_opt_in",
        "education_opt_in",
    ]
    list_filter = ["reminders_opt_in", "education_opt_in"]
    search_fields = ["last_name", "first_name", "email", "phone"]
