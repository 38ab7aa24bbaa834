"""The library in the admin: managers edit and withdraw articles; what was shared with whom is read-only history.

Slugs are fixed where something else depends on them: a topic's slug is one of the matcher's vocabulary
(education/vocabulary.py), chosen when the topic is added; an article's slug is in links already emailed to
patients, so it is set once, when the article is created.
"""

from django import forms
from django.contrib import admin

from education.models import Article, ArticleShare, Topic
from education.vocabulary import CONCEPTS


class TopicAddForm(forms.ModelForm):
    slug = forms.ChoiceField(
        choices=[(concept.slug, f"{concept.slug} ({concept.name})") for concept in CONCEPTS],
        help_text="The matcher's topics (education/vocabulary.py); a new topic starts there.",
    )

    class Meta:
        model = Topic
        fields = ("slug", "name")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TopicAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        return ("slug",) if obj is not None else ()


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "published", "reading_minutes", "updated_at")
    list_filter = ("published", "topics")
    search_fields = ("title", "summary")
    filter_horizontal = ("topics",)

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        fixed = ("source", "created_at", "updated_at")
        return ("slug", *fixed) if obj is not None else fixed

    def get_prepopulated_fields(self, request, obj=None) -> dict:
        return {"slug": ("title",)} if obj is None else {}


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
