"""PostgreSQL-only integrity for the ledger (no-op on SQLite, where the services and models guard alone).

1. Append-only: ordinary (ENABLE ORIGIN) triggers refuse UPDATE and DELETE of any row, and TRUNCATE, on
   transactions, postings, pending resolutions and period closes.
2. Balanced: a DEFERRABLE INITIALLY DEFERRED constraint trigger checks, at commit, every transaction that
   got a row or a posting: at least two postings, debits equal credits, every account in the
   transaction's currency, and each posting carrying its transaction's effective date and kind.
"""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "ledger_transaction",
    "ledger_posting",
    "ledger_pendingresolution",
    "ledger_periodclose",
]

FORWARD = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % on % refused: ledger rows are append-only; correct with a reversing transaction',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE FUNCTION ledger_check_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_id bigint;
    txn record;
    posting_count bigint;
    net bigint;
    wrong_currency bigint;
    wrong_copy bigint;
BEGIN
    IF TG_TABLE_NAME = 'ledger_transaction' THEN
        checked_id := NEW.id;
    ELSE
        checked_id := NEW.transaction_id;
    END IF;
    SELECT id, currency, effective_on, kind INTO txn FROM ledger_transaction WHERE id = checked_id;
    SELECT count(*),
           coalesce(sum(CASE WHEN p.side = 'debit' THEN p.amount_minor ELSE -p.amount_minor END), 0),
           count(*) FILTER (WHERE a.currency <> txn.currency),
           count(*) FILTER (WHERE p.effective_on <> txn.effective_on OR p.kind <> txn.kind)
      INTO posting_count, net, wrong_currency, wrong_copy
      FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
     WHERE p.transaction_id = checked_id;
    IF posting_count < 2 THEN
        RAISE EXCEPTION 'ledger: transaction % has % posting(s); it needs at least two', checked_id, posting_count
            USING ERRCODE = 'check_violation';
    END IF;
    IF net <> 0 THEN
        RAISE EXCEPTION 'ledger: transaction % is unbalanced: debits minus credits is %', checked_id, net
            USING ERRCODE = 'check_violation';
    END IF;
    IF wrong_currency > 0 THEN
        RAISE EXCEPTION 'ledger: transaction % posts to accounts not in %', checked_id, txn.currency
            USING ERRCODE = 'check_violation';
    END IF;
    IF wrong_copy > 0 THEN
        RAISE EXCEPTION 'ledger: postings of transaction % do not carry its effective date and kind', checked_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_transaction_balanced
    AFTER INSERT ON ledger_transaction DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transaction();
CREATE CONSTRAINT TRIGGER ledger_posting_balanced
    AFTER INSERT ON ledger_posting DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transaction();
"""

APPEND_ONLY = """
CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
"""

BACKWARD = """
DROP TRIGGER ledger_posting_balanced ON ledger_posting;
DROP TRIGGER ledger_transaction_balanced ON ledger_transaction;
""" + "".join(
    f"DROP TRIGGER {table}_no_change ON {table}; DROP TRIGGER {table}_no_truncate ON {table};\n"
    for table in APPEND_ONLY_TABLES
) + """
DROP FUNCTION ledger_check_transaction();
DROP FUNCTION ledger_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FORWARD, params=None)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(APPEND_ONLY.format(table=table), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
