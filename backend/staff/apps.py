from django.apps import AppConfig


class StaffSignInConfig(AppConfig):
    name = "backend.staff"
    label = "staff_sign_in"
    verbose_name = "Staff sign-in"

    def ready(self) -> None:
        from backend.staff import signals  # noqa: F401 - connects the audit receivers
