"""Real threads and commits on PostgreSQL: races the database must settle."""

import pytest

from people import services
from people.models import Representative
from tests.concurrency import run_in_threads
from tests.people.factories import BudgetHolderFactory, RepresentativeUserFactory, UserFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentChanges:
    def test_two_grants_for_the_same_pair_at_once_make_one(self):
        holder = BudgetHolderFactory()
        rep = RepresentativeUserFactory()

        results = run_in_threads(
            4,
            lambda _index: services.representative_grant(
                budget_holder=holder, user=rep, power="approve", granted_by=holder.user
            ),
        )

        assert sum(isinstance(r, Representative) for r in results) == 1
        assert sum(isinstance(r, services.RepresentativeAlreadyActive) for r in results) == 3
        assert Representative.objects.active().filter(user=rep, budget_holder=holder).count() == 1

    def test_two_revocations_at_once_revoke_once(self):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="x", issued_by=user)

        results = run_in_threads(
            4, lambda _index: services.personal_token_revoke(token=token, revoked_by=user)
        )

        assert sum(isinstance(r, services.PersonalTokenAlreadyRevoked) for r in results) == 3
        assert services.personal_token_authenticate(raw=raw) is None
