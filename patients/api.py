"""The intake API: staff read intakes as their role allows; a patient reads and updates their own through the
appointment's manage token. Every response here may carry health data, so none of them is cached anywhere."""

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.permissions import HasRole, reads_intake_answers, role_of
from backend.api.throttles import ManageThrottle
from backend.audit import audit_record
from patients import serializers as s
from patients.models import Intake
from patients.selectors import intake_current_readable_by, intakes_readable_by
from patients.services import intake_for_appointment, intake_submit
from scheduling.api import MANAGE_TOKEN_HEADER, appointment_from_manage_header
from scheduling.models import Appointment


@method_decorator(never_cache, name="dispatch")
class _HealthDataView(APIView):
    """Cache-Control: no-store on every response, errors included: simpler than deciding which ones carry answers."""


def _shaped(intake: Intake, request: Request) -> dict:
    full = reads_intake_answers(role_of(request.user))
    audit_record(
        request, "intake.read" if full else "intake.read_flags", patient_id=intake.patient_id, intake_id=intake.pk
    )
    return (s.IntakeSerializer if full else s.IntakeSafetySerializer)(intake).data


_INTAKE_FOR_ROLE = PolymorphicProxySerializer(
    component_name="IntakeForRole",
    serializers=[s.IntakeSerializer, s.IntakeSafetySerializer],
    resource_type_field_name=None,
)


class CurrentIntake(_HealthDataView):
    """A patient's current intake: in full for managers and the patient's own practitioners, safety flags for the
    front desk. Not found when the patient has none, or is another practitioner's."""

    permission_classes = [HasRole]

    @extend_schema(
        operation_id="v1_intakes_current_retrieve", parameters=[s.IntakeQuerySerializer], responses=_INTAKE_FOR_ROLE
    )
    def get(self, request: Request) -> Response:
        query = s.IntakeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        intake = intake_current_readable_by(request.user, query.validated_data["patient"])
        if intake is None:
            raise NotFound("No intake found for this patient.")
        return Response(_shaped(intake, request))


class IntakeDetail(_HealthDataView):
    """One intake, current or past, shaped as for the current one."""

    permission_classes = [HasRole]

    @extend_schema(responses=_INTAKE_FOR_ROLE)
    def get(self, request: Request, pk: int) -> Response:
        # Another practitioner's patient is "not found", not "forbidden": trying ids reveals nothing.
        return Response(_shaped(get_object_or_404(intakes_readable_by(request.user), pk=pk), request))


def _booked_for_token(request: Request, pk: int) -> Appointment:
    """The appointment this manage token opens, with its patient (a bare hold has none: the same 404)."""
    appointment = appointment_from_manage_header(request, pk)
    if appointment.patient is None:
        raise NotFound("No appointment matches this link; it may have expired.")
    return appointment


_TOKEN_PARAMETER = OpenApiParameter(
    MANAGE_TOKEN_HEADER, str, OpenApiParameter.HEADER, required=True, description="The appointment's manage token."
)


class AppointmentIntake(_HealthDataView):
    """The intake given through this appointment, to read or to update (each update is kept as a new submission).

    The manage token alone opens it, even for a signed-in user: staff read intakes at /api/v1/intakes/. It opens
    only what was given through its own appointment, never the rest of the patient's record: the patient was
    matched on email and birth date, which proves less than the link does.
    """

    throttle_classes = [ManageThrottle]

    @extend_schema(parameters=[_TOKEN_PARAMETER], responses=s.IntakeSerializer)
    def get(self, request: Request, pk: int) -> Response:
        intake = intake_for_appointment(_booked_for_token(request, pk))
        if intake is None:
            raise NotFound("There is no intake for this appointment yet.")
        audit_record(request, "intake.read", patient_id=intake.patient_id, appointment_id=pk, intake_id=intake.pk,
                     by_patient_link=True)  # fmt: skip
        return Response(s.IntakeSerializer(intake).data)

    @extend_schema(parameters=[_TOKEN_PARAMETER], request=s.IntakeSubmitSerializer, responses=s.IntakeSerializer)
    def put(self, request: Request, pk: int) -> Response:
        return Response(self._submit(request, pk))

    @extend_schema(parameters=[_TOKEN_PARAMETER], request=s.IntakeSubmitSerializer, responses={201: s.IntakeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        return Response(self._submit(request, pk), status=status.HTTP_201_CREATED)

    def _submit(self, request: Request, pk: int) -> dict:
        appointment = _booked_for_token(request, pk)  # first: a forged token learns nothing about the form
        form = s.IntakeSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        intake = intake_submit(patient=appointment.patient, appointment=appointment, **form.validated_data)
        audit_record(request, "intake.submit", patient_id=intake.patient_id, appointment_id=pk, intake_id=intake.pk,
                     by_patient_link=True)  # fmt: skip
        return s.IntakeSerializer(intake).data
