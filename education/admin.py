"""The library in the admin: managers edit and withdraw articles; what was shared with whom is read-only history."""

from django.contrib import admin

from education.models import Article, ArticleShare, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "published", "reading_minutes", "updated_at")
    list_filter = ("published", "topics")
    search_fields = ("title", "summary")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("topics",)
    readonly_fields = ("source", "created_at", "updated_at")


@admin.register(ArticleShare)
class ArticleShareAdmin(admin.ModelAdmin):
    list_display = ("shared_at", "article", "patient", "channel", "rank", "reason")
    list_filter = ("channel",)
    list_select_related = ("article", "patient")
    readonly_fields = ("patient", "appointment", "article", "rank", "reason", "channel", "message_id", "shared_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
