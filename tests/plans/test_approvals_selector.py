"""What waits for an agency's decision, what it has decided, and what of a part's explanation it may read."""

from datetime import UTC, datetime

import pytest

from plans.models import PlanVersionStatus, StreamApprovalStatus
from plans.selectors import approvals
from plans.selectors.plans import plan_version_get
from plans.services import workflow
from tests.api.plans_world import build_world, install_clock
from tests.people.factories import NavigatorFactory
from tests.plans.factories import StreamApprovalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(monkeypatch):
    """The plans world with Alex's version 2 agreed: its ASC, ILF and ATW parts wait."""
    install_clock(monkeypatch)
    world = build_world()
    workflow.plan_version_agree(version=world.v2, agreed_by=world.alex.user)
    return world


class TestWaiting:
    def test_the_agencys_pending_parts_of_agreed_versions(self, world):
        waiting = list(approvals.stream_approvals_waiting(officer=world.officers["ASC"]))
        assert [(part.version, part.stream.code) for part in waiting] == [(world.v2, "ASC")]

    def test_oldest_agreement_first(self, world):
        officer = world.officers["ASC"]
        stream = officer.organisation.funding_streams.get(code="ASC")
        older = StreamApprovalFactory(stream=stream, version__agreed_at=datetime(2025, 1, 1, tzinfo=UTC))
        assert approvals.stream_approvals_waiting(officer=officer).first().pk == older.pk

    def test_not_once_decided_or_for_other_agencies(self, world):
        workflow.plan_stream_approve(version=world.v2, stream_code="ASC", approved_by=world.officers["ASC"])
        assert not approvals.stream_approvals_waiting(officer=world.officers["ASC"]).exists()
        assert not approvals.stream_approvals_waiting(officer=world.officers["SP"]).exists()
        assert approvals.stream_approvals_waiting(officer=world.officers["ATW"]).count() == 1

    def test_nothing_for_anyone_but_an_officer(self, world):
        assert not approvals.stream_approvals_waiting(officer=NavigatorFactory()).exists()
        assert not approvals.stream_approvals_decided(officer=world.alex.user).exists()


class TestDecided:
    def test_approved_and_returned_latest_first_not_cancelled(self, world):
        workflow.plan_stream_return(
            version=world.v2, stream_code="ATW", returned_by=world.officers["ATW"], reason="Fix it."
        )
        atw = list(approvals.stream_approvals_decided(officer=world.officers["ATW"]))
        assert [(part.version, part.status) for part in atw] == [
            (world.v2, StreamApprovalStatus.RETURNED),
            (world.v1, StreamApprovalStatus.APPROVED),
        ]
        # ASC's part of the round ended when ATW returned it: ASC did not decide it.
        asc = list(approvals.stream_approvals_decided(officer=world.officers["ASC"]))
        assert [part.version for part in asc] == [world.v1]


class TestOneStreamsParts:
    def test_latest_round_first_and_whether_it_waits(self, world):
        workflow.plan_stream_return(
            version=world.v2, stream_code="ASC", returned_by=world.officers["ASC"], reason="Fix it."
        )
        workflow.plan_version_agree(version=world.v2, agreed_by=world.alex.user)
        version = plan_version_get(public_id=world.v2.public_id)

        parts = approvals.stream_approvals_of_stream(version=version, stream_code="ASC")

        assert [part.round for part in parts] == [2, 1]
        assert approvals.stream_approval_is_waiting(version=version, approval=parts[0])
        assert not approvals.stream_approval_is_waiting(version=version, approval=parts[1])

    def test_a_decided_part_does_not_wait(self, world):
        version = plan_version_get(public_id=world.v1.public_id)
        [part] = approvals.stream_approvals_of_stream(version=version, stream_code="ASC")
        assert version.status == PlanVersionStatus.ACTIVE
        assert not approvals.stream_approval_is_waiting(version=version, approval=part)
        assert not approvals.stream_approval_is_waiting(version=version, approval=None)


class TestExplanationSteps:
    def _steps(self, world, code: str):
        version = plan_version_get(public_id=world.v2.public_id)
        [part, *_] = approvals.stream_approvals_of_stream(version=version, stream_code=code)
        return approvals.stream_explanation_steps(approval=part)

    def test_no_steps_about_other_agencies_items(self, world):
        steps = self._steps(world, "ATW")
        assert not any("ASC" in text or "ILF" in text for text in steps)
        assert not any(world.items["care"].description in text for text in steps)
        assert any(text.startswith("ATW: subtotal") for text in steps)
        assert any(world.items["work"].description in text for text in steps)

    def test_the_split_item_for_the_agencies_that_share_it(self, world):
        steps = self._steps(world, "ASC")
        assert any(world.items["care"].description in text for text in steps)
        assert any("divided by a cap" in text for text in steps)
        assert not any(world.items["work"].description in text for text in steps)
