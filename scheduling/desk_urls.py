"""The staff's workspace at /desk/: the calendar, appointments, patients and undelivered messages (views in
scheduling/desk_views.py, patients/views.py and notifications/views.py). Signed-in staff only; what each role
may open is decided in those views' selectors."""

from django.urls import path

from notifications import views as message_views
from patients import views as patient_views
from scheduling import desk_views as views

app_name = "desk"

urlpatterns = [
    path("", views.day, name="day"),
    path("changes/", views.changes, name="changes"),
    path("week/<slug:slug>/", views.week, name="week"),
    path("sheet/<slug:slug>/", views.day_sheet, name="day-sheet"),
    path("book/", views.book, name="book"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="appointment-status"),
    path("appointments/<int:pk>/cancel/", views.cancel, name="appointment-cancel"),
    path("appointments/<int:pk>/move/", views.appointment_move, name="appointment-move"),
    path("time-off/", views.time_off, name="time-off"),
    path("time-off/<int:pk>/delete/", views.time_off_delete, name="time-off-delete"),
    path("patients/", patient_views.patient_list, name="patients"),
    path("patients/<int:pk>/", patient_views.patient_detail, name="patient"),
    path("patients/<int:pk>/notes/", patient_views.note_add, name="patient-note"),
    path("patients/<int:pk>/preferences/", patient_views.preferences, name="patient-preferences"),
    path("my-day/", patient_views.my_day, name="my-day"),
    path("messages/", message_views.failed_list, name="messages"),
    path("messages/<int:pk>/retry/", message_views.failed_retry, name="message-retry"),
]
