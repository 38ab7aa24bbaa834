"""The audit log says what changed; the Manager group gets the admin permissions for running the clinic.

Front desk and practitioners work in the desk pages (/desk/), whose access is decided by role in code
(backend/api/permissions.py); the admin is the manager's, so only that group holds model permissions.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# (app label, model) pairs a manager edits; plus read-only history.
MANAGER_EDITS = [
    ("scheduling", "clinic"),
    ("scheduling", "location"),
    ("scheduling", "room"),
    ("scheduling", "service"),
    ("scheduling", "practitioner"),
    ("scheduling", "workinghours"),
    ("scheduling", "timeoff"),
    ("scheduling", "closure"),
    ("patients", "patient"),
    ("auth", "user"),
    ("auth", "group"),
]
MANAGER_VIEWS = [("scheduling", "appointment"), ("backend", "auditentry")]


def grant_manager_permissions(apps, schema_editor):
    # Permissions are normally created after every migration has run; create them now so they can be granted.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Manager")
    wanted = models.Q()
    for app_label, model in MANAGER_EDITS:
        wanted |= models.Q(content_type__app_label=app_label, content_type__model=model)
    for app_label, model in MANAGER_VIEWS:
        wanted |= models.Q(content_type__app_label=app_label, content_type__model=model, codename__startswith="view_")
    group.permissions.add(*permission.objects.filter(wanted))


def revoke_manager_permissions(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Manager").first()
    if group is not None:
        group.permissions.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("backend", "0002_roles"),
        ("scheduling", "0001_initial"),
        ("patients", "0002_intake_and_communication_preferences"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="actor_kind",
            field=models.CharField(
                choices=[("staff", "Staff"), ("patient_link", "Patient Link"), ("online", "Online"), ("system", "System")],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="detail",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.RunPython(grant_manager_permissions, revoke_manager_permissions),
    ]
