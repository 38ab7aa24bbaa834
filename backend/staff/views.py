"""The sign-in pages: password, then (when two-factor is on) a code; setting two-factor up and turning it off."""

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from backend.audit import audit_record
from backend.staff import two_factor
from backend.staff.forms import CodeForm, StaffLoginForm


def _next_url(request: HttpRequest) -> str:
    """Where to go once signed in: the page asked for if it is on this site, else the desk."""
    wanted = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    safe = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure())
    return wanted if safe else settings.LOGIN_REDIRECT_URL


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


class StaffLoginView(LoginView):
    """Step one, the password. Someone with an authenticator app goes on to the code step, signed in but not
    verified (`user.is_verified()` is false) until the code is right; TwoFactorMiddleware keeps them there."""

    template_name = "staff/login.html"
    form_class = StaffLoginForm

    def get_success_url(self) -> str:
        url = super().get_success_url()
        if two_factor.confirmed_device(self.request.user) is not None:
            return _with_next("staff:two_factor_verify", url)
        return url


class StaffLogoutView(LogoutView):
    """Signing out is a POST (a link could be followed by anything); it ends the session, verified or not."""

    next_page = "staff:login"

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You have signed out.")
        return response


def _code_form_page(request: HttpRequest, template: str, form: CodeForm, **context) -> HttpResponse:
    context = {"form": form, "next": _next_url(request), **context}
    return render(request, template, context, status=400 if form.errors else 200)


def _refuse_code(form: CodeForm, device) -> None:
    allowed, _reason = device.verify_is_allowed()
    if not allowed:
        form.add_error("code", "Too many wrong codes in a row. Please wait a minute, then type the newest code.")
    else:
        form.add_error("code", "That code is not right. Please type the code your app shows now.")


@never_cache
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Step two: the code from the app. Right, and the session is verified (with a new session key)."""
    device = two_factor.confirmed_device(request.user)
    if device is None or request.user.is_verified():
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.code_is_right(device, form.cleaned_data["code"]):
            request.session.cycle_key()
            django_otp.login(request, device)
            audit_record(request, "staff.two_factor_verified", detail=request.user.get_username())
            return redirect(_next_url(request))
        audit_record(request, "staff.two_factor_failed", detail=request.user.get_username())
        _refuse_code(form, device)
    return _code_form_page(request, "staff/code.html", form)


@never_cache
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """The app's QR code and its secret as text; the device counts only once a code from it has been typed."""
    confirmed = two_factor.confirmed_device(request.user)
    if confirmed is not None:
        context = {"required": two_factor.two_factor_required(request.user)}
        return _code_form_page(request, "staff/two_factor_on.html", CodeForm(), **context)
    device = two_factor.device_to_confirm(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.device_confirm(device, form.cleaned_data["code"]):
            request.session.cycle_key()
            django_otp.login(request, two_factor.confirmed_device(request.user))
            audit_record(request, "staff.two_factor_enabled", detail=request.user.get_username())
            messages.success(request, "Two-factor sign-in is on. Next time, you will be asked for a code.")
            return redirect(_next_url(request))
        _refuse_code(form, device)
    context = {
        "qr_code": two_factor.qr_code_svg(device),
        "secret": two_factor.secret_text(device),
        "required": two_factor.two_factor_required(request.user),
    }
    return _code_form_page(request, "staff/two_factor_setup.html", form, **context)


@never_cache
@require_POST
@login_required
def two_factor_turn_off(request: HttpRequest) -> HttpResponse:
    """Turning it off takes a current code: a session left open on a shared computer cannot do it alone."""
    device = two_factor.confirmed_device(request.user)
    if device is None:
        return redirect("staff:two_factor")
    form = CodeForm(request.POST)
    if form.is_valid() and two_factor.code_is_right(device, form.cleaned_data["code"]):
        two_factor.devices_remove(request.user)
        audit_record(request, "staff.two_factor_disabled", detail=request.user.get_username())
        messages.success(request, "Two-factor sign-in is off. Your app's Meridian entry can be deleted.")
        return redirect("staff:two_factor")
    if form.is_valid():
        _refuse_code(form, device)
    context = {"required": two_factor.two_factor_required(request.user)}
    return _code_form_page(request, "staff/two_factor_on.html", form, **context)
