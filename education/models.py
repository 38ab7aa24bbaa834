"""The article library (topics, articles) and the record of which articles were shown or sent to which patient."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from education.html import html_sanitize


class Topic(models.Model):
    """One topic of the vocabulary (education/vocabulary.py), as a row so that articles can be listed by it."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    title = models.CharField(max_length=200)
    # Kept when an import updates the article: links to it have gone out in emails.
    slug = models.SlugField(max_length=80, unique=True)
    summary = models.TextField(blank=True)
    body_html = models.TextField(help_text="Sanitized HTML: anything outside the allow-list is removed on save.")
    topics = models.ManyToManyField(Topic, blank=True, related_name="articles")
    reading_minutes = models.PositiveSmallIntegerField(default=1)
    published = models.BooleanField(default=True)
    # What an import recognises the post by (its address, else "slug:<slug>": education/importing.py); empty for
    # an article written in the admin.
    source = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=~Q(source=""), name="article_one_per_source"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # The invariant behind `|safe` on the article page: every write path (import, admin, shell) sanitizes.
        self.body_html = html_sanitize(self.body_html)
        super().save(*args, **kwargs)


class ArticleShare(models.Model):
    """An article shown or sent to a patient, with the reason it was picked (topics only, never intake text)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        MANAGE_PAGE = "manage_page", "Appointment page"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="article_shares")
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="article_shares"
    )
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="shares")
    rank = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # The notifications outbox message that carried it. A plain number, not a foreign key: the library does not
    # depend on the outbox's tables.
    message_id = models.PositiveBigIntegerField(null=True, blank=True)
    shared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-shared_at", "rank"]
        constraints = [
            # A message sent again (a retry, a redelivered task) records nothing twice.
            models.UniqueConstraint(
                fields=["message_id", "article"],
                condition=Q(message_id__isnull=False),
                name="article_share_once_per_message",
            ),
            # The appointment page is opened many times; it records each article once.
            models.UniqueConstraint(
                fields=["appointment", "article"],
                condition=Q(channel="manage_page"),
                name="article_share_once_per_appointment_page",
            ),
        ]
        indexes = [models.Index(fields=["patient", "-shared_at"], name="article_share_patient_latest")]

    def __str__(self) -> str:
        return f"Article {self.article_id} to patient {self.patient_id} ({self.channel})"
