from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from backend.models import AuditEntry, StaffSecurity
from backend.staff.two_factor import confirmed_device


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Managers filter the log by user, patient and date; nobody changes it (the database refuses too)."""

    list_display = ["at", "action", "actor_kind", "actor", "patient", "appointment_id", "intake_id", "detail"]
    list_filter = ["action", "actor_kind", ("actor", admin.RelatedOnlyFieldListFilter), "at"]
    # A patient is found by name or email (or ?patient__id__exact=N from their page); a user by username.
    search_fields = ["actor__username", "patient__first_name", "patient__last_name", "patient__email"]
    date_hierarchy = "at"
    list_select_related = ["actor", "patient"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StaffSecurityInline(admin.StackedInline):
    """On each person's page: whether they must sign in with a code, and whether they have set their app up."""

    model = StaffSecurity
    can_delete = False
    fields = ["two_factor_required", "app_set_up"]
    readonly_fields = ["app_set_up"]
    verbose_name_plural = "sign-in security"

    @admin.display(description="authenticator app set up")
    def app_set_up(self, obj: StaffSecurity | None) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return "Yes" if confirmed_device(obj.user) else "Not yet"


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, StaffSecurityInline]
