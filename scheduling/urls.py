from django.urls import path

from scheduling import api

urlpatterns = [
    path("services/", api.ServiceList.as_view(), name="service-list"),
    path("practitioners/", api.PractitionerList.as_view(), name="practitioner-list"),
    path("locations/", api.LocationList.as_view(), name="location-list"),
    path("availability/", api.AvailabilityView.as_view(), name="availability"),
    path("appointments/", api.AppointmentCreate.as_view(), name="appointment-create"),
    path("appointments/<int:pk>/", api.AppointmentDetail.as_view(), name="appointment-detail"),
    path("appointments/<int:pk>/calendar.ics", api.AppointmentCalendar.as_view(), name="appointment-calendar"),
    path("appointments/<int:pk>/cancel/", api.AppointmentCancel.as_view(), name="appointment-cancel"),
    path("appointments/<int:pk>/reschedule/", api.AppointmentReschedule.as_view(), name="appointment-reschedule"),
]
