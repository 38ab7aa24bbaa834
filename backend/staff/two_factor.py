"""Who must type a code after their password, and their authenticator-app device (one TOTP device per person).

A device is saved unconfirmed while its QR code is on screen and becomes the person's device only once they have
typed a right code from it: a half-finished set-up never locks anyone out.
"""

import base64

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from backend.models import StaffSecurity

DEVICE_NAME = "Authenticator app"


def two_factor_required(user: AbstractBaseUser) -> bool:
    """The clinic-wide switch, or the manager's tick on this person's admin page."""
    if settings.STAFF_TWO_FACTOR_REQUIRED:
        return True
    return StaffSecurity.objects.filter(user=user, two_factor_required=True).exists()


def confirmed_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def device_to_confirm(user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed device whose QR code the set-up page shows; the same one on every reload."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def device_confirm(device: TOTPDevice, code: str) -> bool:
    """Make `device` the person's own once `code` from it is right (throttled by django-otp on wrong codes)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(code):
            return False
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return True


def code_is_right(device: TOTPDevice, code: str) -> bool:
    """Checked under a row lock, so one code cannot be used twice by two requests at once."""
    with transaction.atomic():
        return TOTPDevice.objects.select_for_update().get(pk=device.pk).verify_token(code)


def devices_remove(user: AbstractBaseUser) -> None:
    TOTPDevice.objects.filter(user=user).delete()


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app expects it typed: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// link as an inline SVG QR code: drawn here, no script, nothing fetched."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")
