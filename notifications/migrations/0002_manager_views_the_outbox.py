"""Managers see the outbox in the admin (read-only; its one action retries failed messages)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_view(apps, schema_editor):
    # Permissions are normally created after every migration has run; create this app's now so it can be granted.
    app_config = apps.get_app_config("notifications")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Manager")
    group.permissions.add(*permission.objects.filter(content_type__app_label="notifications", codename="view_message"))


def revoke_view(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Manager").first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="notifications"))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("backend", "0003_audit_detail_and_manager_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_view, revoke_view)]
