"""Database helpers shared by the apps."""

from django.db import migrations


class AddConstraintOnPostgreSQL(migrations.AddConstraint):
    """AddConstraint that only touches a PostgreSQL database.

    The model state always carries the constraint, so the autodetector stays quiet; on SQLite (the
    zero-setup demo) the table simply goes without it.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
