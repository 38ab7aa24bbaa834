"""The patient's pages: /book/ to choose and hold a time, /booking/ to say who you are, /manage/ afterwards."""

from django.urls import path
from django.views.generic import RedirectView

from scheduling import views

app_name = "booking"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="booking:services"), name="home"),
    path("book/", views.service_list, name="services"),
    path("book/<slug:service_slug>/", views.practitioner_list, name="practitioners"),
    path("book/<slug:service_slug>/<slug:who>/", views.time_list, name="times"),
    path("book/<slug:service_slug>/<slug:who>/hold/", views.hold, name="hold"),
    path("booking/details/", views.details, name="details"),
    path("booking/confirm/", views.confirm, name="confirm"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/cancel/", views.manage_cancel, name="manage-cancel"),
    path("manage/<str:token>/reschedule/", views.manage_reschedule, name="manage-reschedule"),
    path("manage/<str:token>/intake/", views.manage_intake, name="manage-intake"),
    path("manage/<str:token>/calendar.ics", views.manage_calendar, name="manage-calendar"),
    path("feeds/<str:key>.ics", views.practitioner_calendar_feed, name="practitioner-feed"),
]
