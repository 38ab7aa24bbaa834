"""Appointments record a booking made outside working hours on purpose.

On SQLite (the `make run` demo) Django adds a NOT NULL column by rebuilding the whole table, and the rebuilt
table would carry the PostgreSQL-only exclusion constraints, which SQLite cannot parse. There the column is
added with a plain ALTER TABLE instead; PostgreSQL gets Django's own AddField.
"""

from django.db import migrations, models

FIELD = models.BooleanField(default=False)


def add_column(apps, schema_editor):
    appointment = apps.get_model("scheduling", "Appointment")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute('ALTER TABLE "scheduling_appointment" ADD COLUMN "outside_hours" bool NOT NULL DEFAULT 0')
        return
    field = FIELD.clone()
    field.set_attributes_from_name("outside_hours")
    schema_editor.add_field(appointment, field)


def drop_column(apps, schema_editor):
    schema_editor.execute('ALTER TABLE "scheduling_appointment" DROP COLUMN "outside_hours"')


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(model_name="appointment", name="outside_hours", field=FIELD)],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
    ]
