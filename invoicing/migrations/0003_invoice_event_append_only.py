"""PostgreSQL-only: invoice history (InvoiceEvent) is append-only. Ordinary (ENABLE ORIGIN) triggers refuse UPDATE, DELETE
and TRUNCATE on invoicing_invoiceevent (no-op on SQLite, where the model and queryset guards hold)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION invoicing_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoicing: % on % refused: invoice history is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER invoicing_invoiceevent_no_change BEFORE UPDATE OR DELETE ON invoicing_invoiceevent
    FOR EACH ROW EXECUTE FUNCTION invoicing_event_refuse_change();
CREATE TRIGGER invoicing_invoiceevent_no_truncate BEFORE TRUNCATE ON invoicing_invoiceevent
    FOR EACH STATEMENT EXECUTE FUNCTION invoicing_event_refuse_change();
"""

BACKWARD = """
DROP TRIGGER invoicing_invoiceevent_no_truncate ON invoicing_invoiceevent;
DROP TRIGGER invoicing_invoiceevent_no_change ON invoicing_invoiceevent;
DROP FUNCTION invoicing_event_refuse_change();
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
    dependencies = [("invoicing", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
