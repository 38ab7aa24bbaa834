from django.urls import path

from patients import api

urlpatterns = [
    path("intakes/", api.CurrentIntake.as_view(), name="intake-current"),
    path("intakes/<int:pk>/", api.IntakeDetail.as_view(), name="intake-detail"),
    path("appointments/<int:pk>/intake/", api.AppointmentIntake.as_view(), name="appointment-intake"),
]
