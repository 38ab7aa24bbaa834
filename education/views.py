"""The public library: every published article by topic, one topic's articles, one article. No login, no cookies
needed: these pages are linked from emails and shared freely."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from education.models import Topic
from education.selectors import published_articles, topics_with_articles


@require_GET
def library(request: HttpRequest) -> HttpResponse:
    context = {"topics": topics_with_articles(), "articles": published_articles().order_by("title")}
    return render(request, "education/library.html", context)


@require_GET
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug)
    articles = published_articles().filter(topics=topic).order_by("title")
    context = {"topic": topic, "articles": articles, "topics": topics_with_articles()}
    return render(request, "education/topic.html", context)


@require_GET
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(published_articles(), slug=slug)
    return render(request, "education/article.html", {"article": article})
