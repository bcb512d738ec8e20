"""Fixtures of the page tests: the invoicing world (tests/invoicing/world.py), built for each test."""

import pytest

from tests.invoicing.world import build_invoicing_world


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


@pytest.fixture
def as_role(client, sign_in_verified, world):
    """`as_role(role)` signs the test client in as that user of the world (staff with their second factor
    passed; "anonymous" stays signed out) and returns the client."""
    from tests.web.roles import sign_in_role

    def _as(role: str):
        if role != "anonymous":
            sign_in_role(client, sign_in_verified, world.users[role], role)
        return client

    return _as
