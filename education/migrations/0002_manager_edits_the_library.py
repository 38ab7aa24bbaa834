"""Managers edit and withdraw articles and topics in the admin, and see what was shared (read-only history)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

MANAGER_EDITS = ("article", "topic")
MANAGER_VIEWS = ("articleshare",)


def grant_library(apps, schema_editor):
    # Permissions are normally created after every migration has run; create this app's now so they can be granted.
    app_config = apps.get_app_config("education")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Manager")
    wanted = models.Q(content_type__app_label="education", content_type__model__in=MANAGER_EDITS) | models.Q(
        content_type__app_label="education", content_type__model__in=MANAGER_VIEWS, codename__startswith="view_"
    )
    group.permissions.add(*permission.objects.filter(wanted))


def revoke_library(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Manager").first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="education"))


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0001_initial"),
        ("backend", "0003_audit_detail_and_manager_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_library, revoke_library)]
