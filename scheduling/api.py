"""The scheduling API: HTTP in, one service or selector call, HTTP out."""

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.permissions import is_staff
from backend.api.throttles import BookingThrottle, ManageThrottle
from backend.audit import actor_of
from notifications.calendar import appointment_calendar_download
from patients.services import PatientDetails
from scheduling import serializers as s
from scheduling.manage_tokens import appointment_for_manage_token
from scheduling.models import Appointment, Clinic, Location, Practitioner, Service
from scheduling.selectors import appointments_visible_to, bookable_slots
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule

MANAGE_TOKEN_HEADER = "X-Manage-Token"  # noqa: S105 - a header name, not a secret


class ServiceList(generics.ListAPIView):
    """Treatments: all active ones for staff, the ones bookable online for everyone else."""

    serializer_class = s.ServiceSerializer
    pagination_class = None

    def get_queryset(self):
        services = Service.objects.filter(active=True).prefetch_related("practitioners")
        return services if is_staff(self.request) else services.filter(bookable_online=True)


class PractitionerList(generics.ListAPIView):
    serializer_class = s.PractitionerSerializer
    pagination_class = None
    queryset = Practitioner.objects.filter(active=True).prefetch_related(
        Prefetch("services", queryset=Service.objects.filter(active=True))
    )


class LocationList(generics.ListAPIView):
    serializer_class = s.LocationSerializer
    pagination_class = None
    queryset = Location.objects.prefetch_related("rooms")


class AvailabilityView(APIView):
    """Bookable start times; `start` and `end` are calendar dates in `tz`, both inclusive."""

    @extend_schema(
        parameters=[s.AvailabilityQuerySerializer],
        responses=inline_serializer(
            "Availability", {"timezone": serializers.CharField(), "slots": s.SlotSerializer(many=True)}
        ),
    )
    def get(self, request: Request) -> Response:
        staff = is_staff(request)
        query = s.AvailabilityQuerySerializer(data=request.query_params, context={"staff": staff})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        found = bookable_slots(
            service=data["service"],
            start_date=data["start"],
            end_date=data["end"],
            tz=data.get("tz"),
            practitioner_id=data["practitioner"].id if data.get("practitioner") else None,
            location_id=data["location"].id if data.get("location") else None,
            source=Appointment.Source.STAFF if staff else Appointment.Source.ONLINE,
        )
        slots = s.SlotSerializer(found.slots, many=True, context={"zone": found.zone}).data
        return Response({"timezone": str(found.zone), "slots": slots})


class AppointmentCreate(APIView):
    """Book an appointment. Patients need no account; staff bookings are recorded as such."""

    throttle_classes = [BookingThrottle]

    @extend_schema(request=s.BookingSerializer, responses={201: s.BookedAppointmentSerializer})
    def post(self, request: Request) -> Response:
        booking = s.BookingSerializer(data=request.data)
        booking.is_valid(raise_exception=True)
        data = booking.validated_data
        appointment = appointment_book(
            service=data["service"],
            practitioner=data.get("practitioner"),
            start=data["start"],
            patient=PatientDetails(**data["patient"]),
            source=Appointment.Source.STAFF if is_staff(request) else Appointment.Source.ONLINE,
            outside_hours=data["outside_hours"],
            actor=actor_of(request),
        )
        return Response(s.BookedAppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


def _appointment_for(request: Request, pk: int) -> Appointment:
    """Staff open the appointments their role shows them (another practitioner's is "not found"); a patient
    opens only the one their manage token belongs to."""
    if is_staff(request):
        visible = appointments_visible_to(request.user).select_related("location", "service", "practitioner")
        return get_object_or_404(visible, pk=pk)
    return appointment_from_manage_header(request, pk)


def appointment_from_manage_header(request: Request, pk: int) -> Appointment:
    """The appointment `pk`, if the request's manage token opens exactly that one; the API's errors otherwise."""
    token = request.headers.get(MANAGE_TOKEN_HEADER)
    if not token:
        message = f"Send the appointment's manage token in the {MANAGE_TOKEN_HEADER} header."
        raise PermissionDenied(message) if request.user.is_authenticated else NotAuthenticated(message)
    appointment = appointment_for_manage_token(token)
    if appointment is None or appointment.pk != pk:
        # The same answer for a forged token, an expired one and somebody else's appointment.
        raise NotFound("No appointment matches this link; it may have expired.")
    return appointment


_TOKEN_PARAMETER = OpenApiParameter(
    MANAGE_TOKEN_HEADER, str, OpenApiParameter.HEADER, required=False, description="The manage token (patients)."
)


class AppointmentDetail(APIView):
    throttle_classes = [ManageThrottle]

    @extend_schema(parameters=[_TOKEN_PARAMETER], responses=s.AppointmentSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.AppointmentSerializer(_appointment_for(request, pk)).data)


class AppointmentCancel(APIView):
    throttle_classes = [ManageThrottle]

    @extend_schema(parameters=[_TOKEN_PARAMETER], request=s.CancelSerializer, responses=s.AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        appointment = _appointment_for(request, pk)
        form = s.CancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        appointment = appointment_cancel(
            appointment=appointment,
            by_staff=is_staff(request),
            reason=form.validated_data["reason"],
            actor=actor_of(request, by_patient_link=not is_staff(request)),
        )
        return Response(s.AppointmentSerializer(appointment).data)


class AppointmentReschedule(APIView):
    throttle_classes = [ManageThrottle]

    @extend_schema(parameters=[_TOKEN_PARAMETER], request=s.RescheduleSerializer, responses=s.AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        appointment = _appointment_for(request, pk)
        form = s.RescheduleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        appointment = appointment_reschedule(
            appointment=appointment,
            start=form.validated_data["start"],
            practitioner=form.validated_data.get("practitioner"),
            outside_hours=form.validated_data["outside_hours"],
            by_staff=is_staff(request),
            actor=actor_of(request, by_patient_link=not is_staff(request)),
        )
        return Response(s.AppointmentSerializer(appointment).data)


class _JsonForErrors(BaseContentNegotiation):
    """A calendar app asks for text/calendar; the file is a plain HttpResponse, errors stay JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AppointmentCalendar(APIView):
    """The appointment as an .ics file for the patient's calendar."""

    throttle_classes = [ManageThrottle]
    content_negotiation_class = _JsonForErrors

    @extend_schema(parameters=[_TOKEN_PARAMETER], responses={(200, "text/calendar"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        return appointment_calendar_download(_appointment_for(request, pk), Clinic.load())
