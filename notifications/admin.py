"""The outbox in the admin: read-only (rows change only through notifications/services.py), with one action for
managers: try failed messages again."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications.models import Message
from notifications.services import message_retry


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["kind", "appointment", "status", "due_at", "sent_at", "attempts", "last_error"]
    list_filter = ["status", "kind", "channel"]
    date_hierarchy = "due_at"
    list_select_related = ["appointment"]
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    @admin.action(description="Try the selected failed messages again", permissions=["view"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        retried = sum(message_retry(message=message) for message in queryset.filter(status=Message.Status.FAILED))
        self.message_user(request, f"{retried} message(s) will be sent again within a minute.", messages.SUCCESS)
