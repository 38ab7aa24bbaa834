from django.contrib import admin

from patients.models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "email", "phone", "date_of_birth"]
    search_fields = ["last_name", "first_name", "email", "phone"]
