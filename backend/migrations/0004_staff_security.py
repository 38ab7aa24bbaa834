"""Who must sign in with a code (StaffSecurity), and what the Manager group may do about it in the admin.

Managers tick "must sign in with a code" on a person's page, and remove the authenticator app of someone who lost
their phone (the TOTP device list; its secrets are hidden from the admin).
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

MANAGER_PERMISSIONS = [
    ("backend", "add_staffsecurity"),
    ("backend", "change_staffsecurity"),
    ("backend", "view_staffsecurity"),
    ("otp_totp", "view_totpdevice"),
    ("otp_totp", "delete_totpdevice"),
]


def grant_manager_permissions(apps, schema_editor):
    # As in 0003: permissions are normally created after every migration has run; create them now to grant them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Manager")
    wanted = models.Q(pk__in=[])
    for app_label, codename in MANAGER_PERMISSIONS:
        wanted |= models.Q(content_type__app_label=app_label, codename=codename)
    group.permissions.add(*apps.get_model("auth", "Permission").objects.filter(wanted))


def revoke_manager_permissions(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Manager").first()
    if group is not None:
        codenames = [codename for _, codename in MANAGER_PERMISSIONS]
        group.permissions.remove(*group.permissions.filter(codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("backend", "0003_audit_detail_and_manager_permissions"),
        ("otp_totp", "0003_add_timestamps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffSecurity",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "two_factor_required",
                    models.BooleanField(
                        default=False,
                        help_text="After their password, this person types a six-digit code from an authenticator "
                        "app on their phone. If they have not set one up yet, they are asked to before any desk or "
                        "admin page opens.",
                        verbose_name="must sign in with a code from an app",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="staff_security",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "sign-in security", "verbose_name_plural": "sign-in security"},
        ),
        migrations.RunPython(grant_manager_permissions, revoke_manager_permissions),
    ]
