"""One error shape for the whole API: {"error": code, "detail": text, "fields": {name: [messages]}}.

Services raise `backend.errors.ServiceError` subclasses with a code, a message a person can read and,
when one field is to blame, its name; DRF's own exceptions are folded into the same shape here.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from backend.errors import ServiceError


def error_response(code: str, detail: str, fields: dict | None = None, *, status_code: int) -> Response:
    return Response({"error": code, "detail": detail, "fields": fields or {}}, status=status_code)


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, list[str]]:
    """DRF's nested validation errors, flattened to dotted field names: {"patient.email": [...]}."""
    if not isinstance(detail, dict):
        return {"non_field_errors": _flatten(detail)}
    fields: dict[str, list[str]] = {}
    for name, value in detail.items():
        if isinstance(value, dict):
            for sub_name, messages in _fields(value).items():
                fields[f"{name}.{sub_name}"] = messages
        else:
            fields[name] = _flatten(value)
    return fields


_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ServiceError):
        return error_response(exc.code, exc.detail, exc.fields, status_code=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        first = next(iter(fields.values()), ["Invalid input."])[0]
        return error_response("validation_error", first, fields, status_code=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((code for cls, code in _CODES.items() if isinstance(exc, cls)), "error")
    detail = " ".join(_flatten(getattr(exc, "detail", str(exc))))
    response.data = {"error": code, "detail": detail, "fields": {}}
    return response


def _api_or_default(request, default_view, code: str, detail: str, status_code: int, **kwargs):
    if request.path.startswith("/api/"):
        body = {"error": code, "detail": detail, "fields": {}}
        return JsonResponse(body, status=status_code)
    return default_view(request, **kwargs)


def not_found(request, exception=None):
    """Django's 404 for pages; the API's error shape for an unknown /api/ URL."""
    return _api_or_default(request, defaults.page_not_found, "not_found", "Not found.", 404, exception=exception)


def server_error(request):
    """Django's 500 page for pages; the API's error shape (and nothing internal) for /api/ URLs."""
    return _api_or_default(
        request, defaults.server_error, "server_error", "Something went wrong on our side; please try again.", 500
    )
