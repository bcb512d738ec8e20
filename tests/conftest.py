"""Suite-wide fixtures: database vendor markers and the PostgreSQL ledger-trigger handling."""

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` are skipped, with the reason stated, when the suite runs on SQLite."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (row locks, triggers, real concurrency): set DATABASE_URL to run it"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _ledger_triggers_on_between_tests(request):
    """The ledger's append-only triggers refuse TRUNCATE, which is how Django empties the database after a
    transactional test. Triggers stay on for the whole test; only the teardown flush of a transactional
    test runs with them off (superuser-only `session_replication_role`), and the next test turns them on."""
    if connection.vendor != "postgresql" or not _uses_database(request):
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = origin")
    yield
    if "transactional_db" in request.fixturenames or _is_transactional(request):
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")


def _uses_database(request) -> bool:
    database_fixtures = {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
    }
    return request.node.get_closest_marker("django_db") is not None or bool(
        database_fixtures & set(request.fixturenames)
    )


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Argon2 is deliberately slow; tests that make many users use a fast hasher instead."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sign_in_verified():
    """Sign a client in as `user` with a second factor already passed (for staff)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from tests.people.factories import TOTPDeviceFactory

    def _sign_in(client, user):
        client.force_login(user)
        device = TOTPDeviceFactory(user=user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return device

    return _sign_in
