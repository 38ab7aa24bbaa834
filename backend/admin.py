from django.contrib import admin

from backend.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Managers filter the log by user, patient and date; nobody changes it (the database refuses too)."""

    list_display = ["at", "action", "actor_kind", "actor", "patient", "appointment_id", "intake_id"]
    list_filter = ["action", "actor_kind", "at"]
    search_fields = ["actor__username", "patient__last_name", "patient__email"]
    date_hierarchy = "at"
    list_select_related = ["actor", "patient"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
