"""Reading a person's timeline: who sees which entries, in whose words, newest first, in one query."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.models import TimelineEntry
from plans.selectors.timeline import (
    TimelineAudience,
    TimelineNotVisible,
    timeline_audience,
    timeline_entry_get,
    timeline_for_person,
)
from plans.services.timeline import timeline_record
from tests.plans.timeline_world import EVERY_ENTRY, SHARED_ENTRIES, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def seen(world, viewer_name):
    entries = timeline_for_person(budget_holder=world.holder, viewer=world.users[viewer_name])
    return {entry.public_id for entry in entries}


class TestWhoSeesWhat:
    @pytest.mark.parametrize("viewer", ["holder", "rep", "view_rep"])
    def test_the_person_and_their_representatives_see_the_shared_entries(self, world, viewer):
        assert seen(world, viewer) == world.ids(*SHARED_ENTRIES)
        assert timeline_audience(budget_holder=world.holder, viewer=world.users[viewer]) == "person"

    @pytest.mark.parametrize("viewer", ["navigator", "finance", "admin"])
    def test_the_navigator_finance_and_administrators_see_everything(self, world, viewer):
        assert seen(world, viewer) == world.ids(*EVERY_ENTRY)
        assert timeline_audience(budget_holder=world.holder, viewer=world.users[viewer]) == "staff"

    def test_an_agency_officer_sees_only_their_own_streams_entries(self, world):
        assert seen(world, "officer_asc") == world.ids("asc_shared", "asc_staff")
        assert seen(world, "officer_atw") == world.ids("atw_shared")
        assert timeline_audience(budget_holder=world.holder, viewer=world.users["officer_asc"]) == "agency"

    def test_an_agency_officer_never_sees_messages_notes_or_plan_wide_entries(self, world):
        kinds = {
            entry.kind
            for entry in timeline_for_person(budget_holder=world.holder, viewer=world.users["officer_asc"])
        }
        assert kinds == {"plan.stream_approved", "plan.stream_note"}

    @pytest.mark.parametrize(
        "viewer",
        ["other_holder", "other_navigator", "officer_dfg", "provider", "revoked_rep"],
    )
    def test_everyone_else_is_told_it_is_not_there(self, world, viewer):
        assert timeline_audience(budget_holder=world.holder, viewer=world.users[viewer]) is None
        with pytest.raises(TimelineNotVisible) as raised:
            timeline_for_person(budget_holder=world.holder, viewer=world.users[viewer])
        assert raised.value.http_status == 404

    def test_a_provider_engaged_by_the_person_sees_the_person_but_not_their_timeline(self, world):
        from people.access import budget_holders_visible_to

        provider = world.users["provider"]
        assert budget_holders_visible_to(provider).filter(pk=world.holder.pk).exists()
        assert timeline_audience(budget_holder=world.holder, viewer=provider) is None

    def test_nobody_signed_out_or_inactive_sees_it(self, world):
        navigator = world.users["navigator"]
        navigator.is_active = False
        assert timeline_audience(budget_holder=world.holder, viewer=navigator) is None
        assert timeline_audience(budget_holder=world.holder, viewer=AnonymousUser()) is None
        assert timeline_audience(budget_holder=world.holder, viewer=None) is None


class TestTheWords:
    def test_the_person_reads_the_plain_english(self, world):
        entry = timeline_entry_get(
            budget_holder=world.holder,
            viewer=world.users["rep"],
            public_id=world.entries["message"].public_id,
        )
        assert entry.text == "You wrote to Priya Shah"
        assert entry.body == "Can we move Thursday's visit?"
        assert entry.shows_staff_detail is False

    def test_staff_read_the_detail_or_the_plain_english_when_there_is_none(self, world):
        entries = {
            entry.public_id: entry
            for entry in timeline_for_person(budget_holder=world.holder, viewer=world.users["officer_asc"])
        }
        assert entries[world.entries["asc_staff"].public_id].text == "ASC panel minutes"
        assert entries[world.entries["asc_shared"].public_id].text == "Adult Social Care approved"
        assert all(entry.shows_staff_detail for entry in entries.values())

    def test_newest_first(self, world):
        entries = list(timeline_for_person(budget_holder=world.holder, viewer=world.users["navigator"]))
        assert [entry.public_id for entry in entries] == [
            world.entries[name].public_id for name in reversed(EVERY_ENTRY)
        ]

    def test_corrections_point_both_ways(self, world):
        original = world.entries["plan_shared"]
        correction = timeline_record(
            budget_holder=world.holder,
            kind="note",
            for_person="Correction",
            actor=world.users["navigator"],
            corrects=original,
        )
        entries = {
            entry.public_id: entry
            for entry in timeline_for_person(budget_holder=world.holder, viewer=world.users["holder"])
        }
        assert entries[original.public_id].corrected_by_public_id == correction.public_id
        assert entries[correction.public_id].corrects_public_id == original.public_id
        assert entries[original.public_id].corrects_public_id is None

    def test_one_entry_that_is_not_the_viewers_is_not_there(self, world):
        with pytest.raises(TimelineNotVisible):
            timeline_entry_get(
                budget_holder=world.holder,
                viewer=world.users["holder"],
                public_id=world.entries["plan_staff"].public_id,
            )


class TestBoundedQueries:
    @pytest.mark.parametrize(("viewer", "audience"), [("rep", "person"), ("officer_asc", "agency")])
    def test_reading_a_long_timeline_is_a_fixed_number_of_queries(self, world, viewer, audience):
        for index in range(60):
            timeline_record(
                budget_holder=world.holder,
                kind="plan.stream_approved",
                for_person=f"Entry {index}",
                stream=world.streams["ASC"],
            )
        user = world.users[viewer]
        assert timeline_audience(budget_holder=world.holder, viewer=user) == TimelineAudience(audience)

        with CaptureQueriesContext(connection) as queries:
            entries = list(timeline_for_person(budget_holder=world.holder, viewer=user))
            rendered = [
                (
                    entry.actor,
                    entry.stream,
                    entry.text,
                    entry.corrects_public_id,
                    entry.corrected_by_public_id,
                )
                for entry in entries
            ]

        assert len(rendered) > 60
        # The audience (one query for a representative's grant or an officer's sight) and the entries.
        assert len(queries) == 2

    def test_the_entries_are_the_persons_own(self, world):
        assert TimelineEntry.objects.count() == len(EVERY_ENTRY) + 1
        assert world.entries["other"].public_id not in seen(world, "finance")
