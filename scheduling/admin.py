"""The Django admin for managers: clinic set-up is editable; appointments are read-only here.

Appointments change only through the booking services (scheduling/services.py), so the admin shows
them but never writes them: a save here would skip the rules and the locks. A set-up change that would
strand booked appointments (hours that no longer cover them, a closure on their day, a retired room,
service or practitioner) is refused with the list of them (scheduling/schedule_changes.py); the manager
moves or cancels those from the desk first.
"""

from collections.abc import Sequence

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse

from scheduling.availability import Busy
from scheduling.models import Appointment, Clinic, Closure, Location, Practitioner, Room, Service, TimeOff, WorkingHours
from scheduling.schedule_changes import (
    listing,
    schedule_lock,
    stranded_by_closures,
    stranded_by_hours,
    stranded_by_practitioner_leaving,
    stranded_by_rooms,
    stranded_by_service,
    stranded_by_services_withdrawn,
    stranded_by_time_off,
    weekly_hours_of,
)
from scheduling.services import practitioner_feed_renew, practitioner_feed_revoke


def refuse_if_stranded(appointments: Sequence[Appointment], change: str) -> None:
    """`change` says what the manager asked for, in words that finish "... would leave N booked appointments"."""
    if not appointments:
        return
    count = f"{len(appointments)} booked appointment{'s' if len(appointments) != 1 else ''}"
    headline = f"{change} would leave {count} stranded. Move or cancel these first from the desk, then save again:"
    raise ValidationError([headline, *listing(appointments)])


class LabelledInlineForm(forms.ModelForm):
    """A tabular inline's inputs sit under column headings that no screen reader ties to them: each gets a
    name of its own ("Start time, row 2"), so every input in the table is labelled."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            label_widget(field, row_name(self.prefix))


def row_name(prefix: str) -> str:
    """ "hours-1" is the second row; "hours-__prefix__" is the blank row the "Add another" button copies."""
    row = prefix.rsplit("-", 1)[-1]
    return f"row {int(row) + 1}" if row.isdigit() else "new row"


def label_widget(field: forms.Field, row_name: str = "") -> None:
    """Name the input(s) of `field` for screen readers: "Start date, row 2" and "Start time, row 2"."""
    # The admin wraps a foreign key's select (to add the "+" and pencil links); the wrapper's own attrs are
    # those of the form class's widget, shared by every row, so the name goes on the select inside.
    widget = getattr(field.widget, "widget", field.widget)
    if widget.is_hidden:
        return
    where = f", {row_name}" if row_name else ""
    if isinstance(field, forms.SplitDateTimeField):
        # Django's split date and time inputs have no label of their own: the field's label points at neither.
        date_input, time_input = widget.widgets
        date_input.attrs["aria-label"] = f"{field.label} date{where}"
        time_input.attrs["aria-label"] = f"{field.label} time{where}"
    else:
        widget.attrs["aria-label"] = f"{field.label}{where}"


class LabelledInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Delete"
            label_widget(form.fields["DELETE"], row_name(form.prefix))

    def kept_instances(self) -> list:
        """The rows as they will be after the save: every filled-in row not marked for deletion."""
        return [
            form.instance for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "slot_step_minutes", "min_notice_hours", "horizon_days", "late_cancel_hours"]
    fieldsets = [
        (None, {"fields": ["name", "phone", "email"]}),
        (
            "Booking policy",
            {"fields": ["slot_step_minutes", "min_notice_hours", "horizon_days", "late_cancel_hours", "hold_minutes"]},
        ),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["labels"] = {
            "slot_step_minutes": "Time step (minutes)",
            "min_notice_hours": "Minimum notice online (hours)",
            "horizon_days": "Book up to (days ahead)",
            "late_cancel_hours": "Late cancellation window (hours)",
            "hold_minutes": "Hold a chosen time for (minutes)",
        }
        kwargs["help_texts"] = {
            "slot_step_minutes": "Online start times are offered every this many minutes from the start of a shift.",
            "min_notice_hours": "Patients booking online can't book sooner than this; the front desk can.",
            "horizon_days": "How far ahead patients can book online.",
            "late_cancel_hours": "Inside this many hours before a visit, patients can't cancel or move it online.",
            "hold_minutes": "How long a time stays held for a patient filling in the booking form.",
        }
        return super().get_form(request, obj, change, **kwargs)

    def has_add_permission(self, request) -> bool:
        return not Clinic.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RoomFormSet(LabelledInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        # A room with any appointment, past ones too, cannot be deleted at all: the appointments protect it, and
        # Django refuses, naming them. Deactivating is how a room is retired, and coming visits must move first.
        retiring = [
            form.instance.pk
            for form in self.initial_forms
            if "active" in form.changed_data and not form.cleaned_data["active"]
        ]
        if retiring:
            schedule_lock(location_ids=[self.instance.pk])
            refuse_if_stranded(stranded_by_rooms(retiring), "Retiring these rooms")


class RoomInline(admin.TabularInline):
    model = Room
    form = LabelledInlineForm
    formset = RoomFormSet
    fields = ["name", "slug", "active"]
    prepopulated_fields = {"slug": ["name"]}
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "phone"]
    search_fields = ["name", "slug", "address"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["help_texts"] = {
            "timezone": "The IANA zone the location's clocks show, such as America/New_York. Working hours are "
            "read in it.",
        }
        return super().get_form(request, obj, change, **kwargs)


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "name",
            "slug",
            "description",
            "duration_minutes",
            "buffer_minutes",
            "price",
            "bookable_online",
            "new_patients_only",
            "active",
            "display_order",
        ]
        labels = {
            "duration_minutes": "Duration (minutes)",
            "buffer_minutes": "Buffer after (minutes)",
            "bookable_online": "Patients can book it online",
            "new_patients_only": "For new patients only",
        }
        help_texts = {
            "buffer_minutes": "Time kept free after each visit for the practitioner and the room.",
            "bookable_online": "Untick for treatments booked only by phone or at the desk.",
            "active": "Untick to stop offering it; booked visits must be moved or cancelled first.",
            "display_order": "Lower numbers are listed first.",
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk and "active" in self.changed_data and not cleaned.get("active"):
            schedule_lock(practitioner_ids=self.instance.practitioners.values_list("pk", flat=True))
            refuse_if_stranded(stranded_by_service(self.instance), f"Deactivating {self.instance.name}")
        return cleaned


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceForm
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
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class WorkingHoursFormSet(LabelledInlineFormSet):
    """Rows saved together are checked against each other too; each row's clean() sees only saved rows.

    The whole new set of hours is judged at once: moving Monday from 09:00-17:00 to 10:00-18:00 in one save
    strands only what 10:00-18:00 leaves out, whatever order the rows come in.
    """

    def clean(self) -> None:
        super().clean()
        rows = [row for row in self.kept_instances() if row.start_time]
        for index, row in enumerate(rows):
            for other in rows[index + 1 :]:
                if row.overlaps(other):
                    raise ValidationError(f"Two rows overlap: {row} and {other}.")
        if any(self.errors) or self.instance.pk is None:
            return
        schedule_lock(practitioner_ids=[self.instance.pk])
        stranded = stranded_by_hours(self.instance, [weekly_hours_of(row) for row in rows])
        refuse_if_stranded(stranded, "These working hours")


class WorkingHoursForm(LabelledInlineForm):
    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The end must be after the start; a shift can't run past midnight.")
        return cleaned

    def _post_clean(self) -> None:
        # WorkingHours.clean() compares the row with the saved rows, some of which this same save moves or
        # deletes: shifting 09:00-13:00 and 13:00-17:00 an hour later would clash with the old 13:00-17:00.
        # Every saved row is in the formset, which compares the whole new set instead; so only the row's own
        # check (above) runs here.
        self.instance.clean = lambda: None
        try:
            super()._post_clean()
        finally:
            del self.instance.clean


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    form = WorkingHoursForm
    formset = WorkingHoursFormSet
    fields = ["location", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["labels"] = {"weekday": "Day", "start_time": "From", "end_time": "Until"}
        kwargs["help_texts"] = {
            "start_time": "Local time of the location.",
            "valid_from": "First day these hours apply; empty for no limit.",
            "valid_until": "Last day these hours apply; empty for no limit.",
        }
        return super().get_formset(request, obj, **kwargs)


class TimeOffFormSet(LabelledInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        periods = [Busy(row.start, row.end) for row in self.kept_instances() if row.start and row.end]
        schedule_lock(practitioner_ids=[self.instance.pk])
        refuse_if_stranded(stranded_by_time_off(self.instance, periods), "This time off")


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    form = LabelledInlineForm
    formset = TimeOffFormSet
    fields = ["start", "end", "reason"]
    extra = 0


class PractitionerForm(forms.ModelForm):
    class Meta:
        model = Practitioner
        fields = ["name", "slug", "credentials", "bio", "color", "user", "services", "active", "display_order"]
        labels = {"user": "Staff login", "display_order": "Display order"}
        # Checkboxes rather than the admin's two-box picker, whose search icons carry ARIA that axe-core
        # rightly refuses; a clinic has a handful of services, which a list of checkboxes shows at a glance.
        widgets = {"services": forms.CheckboxSelectMultiple}
        help_texts = {
            "user": "The login the practitioner uses to see their own day.",
            "color": "Their colour on the desk's calendar, such as #2f6f5e.",
            "active": "Untick when they stop seeing patients; their booked visits must be moved or cancelled first.",
            "display_order": "Lower numbers are listed first.",
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        practitioner = self.instance
        if practitioner.pk is None:
            return cleaned
        if "active" in self.changed_data and not cleaned.get("active"):
            schedule_lock(practitioner_ids=[practitioner.pk])
            refuse_if_stranded(stranded_by_practitioner_leaving(practitioner), f"Deactivating {practitioner.name}")
        elif "services" in cleaned:
            offered = set(practitioner.services.values_list("pk", flat=True))
            withdrawn = offered - {service.pk for service in cleaned["services"]}
            schedule_lock(practitioner_ids=[practitioner.pk])
            stranded = stranded_by_services_withdrawn(practitioner, withdrawn)
            refuse_if_stranded(stranded, f"Taking those services off {practitioner.name}'s list")
        return cleaned


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    form = PractitionerForm
    list_display = ["name", "credentials", "active", "display_order"]
    list_filter = ["active", "services"]
    search_fields = ["name", "slug", "credentials"]
    prepopulated_fields = {"slug": ["name"]}
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


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ["practitioner", "start", "end", "reason"]
        help_texts = {"start": "In the clinic's local time.", "end": "In the clinic's local time."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_widget(self.fields["start"])
        label_widget(self.fields["end"])

    def clean(self) -> dict:
        cleaned = super().clean()
        practitioner, start, end = cleaned.get("practitioner"), cleaned.get("start"), cleaned.get("end")
        if practitioner and start and end:
            schedule_lock(practitioner_ids=[practitioner.pk])
            refuse_if_stranded(stranded_by_time_off(practitioner, [Busy(start, end)]), "This time off")
        return cleaned


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    form = TimeOffForm
    list_display = ["practitioner", "start", "end", "reason"]
    list_filter = ["practitioner"]
    list_select_related = ["practitioner"]
    search_fields = ["practitioner__name", "reason"]
    date_hierarchy = "start"
    ordering = ["-start"]


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["location", "date", "reason"]
        help_texts = {"date": "The location is closed all of this local day.", "reason": "For example: New Year's Day"}

    def clean(self) -> dict:
        cleaned = super().clean()
        location, day = cleaned.get("location"), cleaned.get("date")
        if location and day:
            schedule_lock(location_ids=[location.pk])
            change = f"Closing {location} on {day:%a} {day.day} {day:%b %Y}"
            refuse_if_stranded(stranded_by_closures(location, [day]), change)
        return cleaned


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    form = ClosureForm
    list_display = ["date", "location", "reason"]
    list_filter = ["location"]
    list_select_related = ["location"]
    search_fields = ["reason"]
    date_hierarchy = "date"
    ordering = ["-date"]


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
