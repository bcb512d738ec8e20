import pytest
from django.urls import reverse

from people import services
from tests.people.factories import AdministratorFactory, RepresentativeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, sign_in_verified):
    sign_in_verified(client, AdministratorFactory(is_staff=True, is_superuser=True))
    return client


class TestPeopleAdmin:
    @pytest.mark.parametrize(
        "model", ["user", "organisation", "budgetholder", "representative", "personaltoken", "auditevent"]
    )
    def test_changelists_render(self, admin_client, model):
        RepresentativeFactory()
        user = UserFactory()
        services.personal_token_issue(user=user, name="x", issued_by=None)

        assert admin_client.get(reverse(f"admin:people_{model}_changelist")).status_code == 200

    def test_user_pages_render(self, admin_client):
        user = UserFactory()

        assert admin_client.get(reverse("admin:people_user_change", args=[user.pk])).status_code == 200
        assert admin_client.get(reverse("admin:people_user_add")).status_code == 200

    def test_audit_events_cannot_be_changed_or_added(self, admin_client):
        event = services.audit_event_record(actor=None, action="x", obj=UserFactory())

        assert admin_client.get(reverse("admin:people_auditevent_add")).status_code == 403
        response = admin_client.post(
            reverse("admin:people_auditevent_delete", args=[event.pk]), {"post": "yes"}
        )
        assert response.status_code == 403

    def test_role_change_in_admin_is_audited(self, admin_client):
        from people.models import AuditAction, AuditEvent

        user = UserFactory(role="budget_holder")
        data = {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "role": "navigator",
            "organisation": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }

        response = admin_client.post(reverse("admin:people_user_change", args=[user.pk]), data)

        assert response.status_code == 302, response.content.decode()[:2000]
        event = AuditEvent.objects.get(object_id=user.public_id, action=AuditAction.USER_ROLE_CHANGED)
        assert event.detail["from"] == {"role": "budget_holder"}
        assert event.detail["to"] == {"role": "navigator", "organisation": None}
