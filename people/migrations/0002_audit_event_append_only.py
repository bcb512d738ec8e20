"""PostgreSQL-only: audit rows are append-only. Ordinary (ENABLE ORIGIN) triggers refuse UPDATE, DELETE and
TRUNCATE on people_auditevent (no-op on SQLite, where only the services and the read-only admin guard it)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION people_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'people: % on % refused: audit events are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER people_auditevent_no_change BEFORE UPDATE OR DELETE ON people_auditevent
    FOR EACH ROW EXECUTE FUNCTION people_audit_refuse_change();
CREATE TRIGGER people_auditevent_no_truncate BEFORE TRUNCATE ON people_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION people_audit_refuse_change();
"""

BACKWARD = """
DROP TRIGGER people_auditevent_no_truncate ON people_auditevent;
DROP TRIGGER people_auditevent_no_change ON people_auditevent;
DROP FUNCTION people_audit_refuse_change();
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
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
