"""The library's public pages, under /learn/."""

from django.urls import path

from education import views

app_name = "education"

urlpatterns = [
    path("", views.library, name="library"),
    path("topic/<slug:slug>/", views.topic_detail, name="topic"),
    path("<slug:slug>/", views.article_detail, name="article"),
]
