"""Real threads and commits on PostgreSQL: races the database must settle."""

import threading

import pytest
from django.db import connection

from people import services
from people.models import Representative
from tests.people.factories import BudgetHolderFactory, RepresentativeUserFactory, UserFactory


def run_together(count: int, work) -> list[object]:
    """Run `work()` in `count` threads released at once; return each result or exception."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    lock = threading.Lock()

    def target():
        try:
            barrier.wait()
            result = work()
        except Exception as exc:
            result = exc
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentChanges:
    def test_two_grants_for_the_same_pair_at_once_make_one(self):
        holder = BudgetHolderFactory()
        rep = RepresentativeUserFactory()

        results = run_together(
            4,
            lambda: services.representative_grant(
                budget_holder=holder, user=rep, power="approve", granted_by=holder.user
            ),
        )

        assert sum(isinstance(r, Representative) for r in results) == 1
        assert sum(isinstance(r, services.RepresentativeAlreadyActive) for r in results) == 3
        assert Representative.objects.active().filter(user=rep, budget_holder=holder).count() == 1

    def test_two_revocations_at_once_revoke_once(self):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="x", issued_by=user)

        results = run_together(4, lambda: services.personal_token_revoke(token=token, revoked_by=user))

        assert sum(isinstance(r, services.PersonalTokenAlreadyRevoked) for r in results) == 3
        assert services.personal_token_authenticate(raw=raw) is None
