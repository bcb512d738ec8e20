"""PostgreSQL-only: timeline entries are append-only. Ordinary (ENABLE ORIGIN) triggers refuse UPDATE, DELETE
and TRUNCATE on plans_timelineentry (no-op on SQLite, where the model and queryset guards hold)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION plans_timeline_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'plans: % on % refused: timeline entries are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER plans_timelineentry_no_change BEFORE UPDATE OR DELETE ON plans_timelineentry
    FOR EACH ROW EXECUTE FUNCTION plans_timeline_refuse_change();
CREATE TRIGGER plans_timelineentry_no_truncate BEFORE TRUNCATE ON plans_timelineentry
    FOR EACH STATEMENT EXECUTE FUNCTION plans_timeline_refuse_change();
"""

BACKWARD = """
DROP TRIGGER plans_timelineentry_no_truncate ON plans_timelineentry;
DROP TRIGGER plans_timelineentry_no_change ON plans_timelineentry;
DROP FUNCTION plans_timeline_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FORWARD, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
