"""The Django admin for managers: clinic set-up is editable; appointments are read-only here.

Appointments change only through the booking services (scheduling/services.py), so the admin shows
them but never writes them: a save here would skip the rules and the locks.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse

from scheduling.models import Appointment, Clinic, Closure, Location, Practitioner, Room, Service, TimeOff, WorkingHours
from scheduling.services import practitioner_feed_renew, practitioner_feed_revoke


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "slot_step_minutes", "min_notice_hours", "horizon_days", "late_cancel_hours"]

    def has_add_permission(self, request) -> bool:
        return not Clinic.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "duration_minutes",
        "buffer_minutes",
        "price",
        "bookable_online",
        "new_patients_only",
        "active",
    ]
    list_filter = ["active", "bookable_online", "new_patients_only"]
    prepopulated_fields = {"slug": ["name"]}


class WorkingHoursFormSet(BaseInlineFormSet):
    """Rows saved together are checked against each other too; each row's clean() sees only saved rows."""

    def clean(self) -> None:
        super().clean()
        rows = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.instance.start_time
        ]
        for index, row in enumerate(rows):
            for other in rows[index + 1 :]:
                if row.overlaps(other):
                    raise ValidationError(f"Two rows overlap: {row} and {other}.")


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["name", "credentials", "active"]
    list_filter = ["active"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["services"]
    inlines = [WorkingHoursInline, TimeOffInline]
    actions = ["renew_calendar_feed", "revoke_calendar_feed"]

    @admin.action(description="Give a new private calendar-feed address (the old one stops working)")
    def renew_calendar_feed(self, request, queryset) -> None:
        for practitioner in queryset:
            key = practitioner_feed_renew(practitioner=practitioner)
            url = request.build_absolute_uri(reverse("booking:practitioner-feed", args=[key]))
            self.message_user(request, f"{practitioner.name}: subscribe to {url}")

    @admin.action(description="Turn off the calendar feed")
    def revoke_calendar_feed(self, request, queryset) -> None:
        for practitioner in queryset:
            practitioner_feed_revoke(practitioner=practitioner)
        self.message_user(request, "Those calendar feeds are turned off.")


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["date", "location", "reason"]
    list_filter = ["location"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start", "practitioner", "service", "patient", "room", "status", "source", "review_reason"]
    list_filter = ["status", "source", "practitioner", "location", ("review_reason", admin.EmptyFieldListFilter)]
    date_hierarchy = "start"
    list_select_related = ["practitioner", "service", "patient", "room"]
    exclude = ["manage_key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
