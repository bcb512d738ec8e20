import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from people import services
from people.models import AuditAction, AuditEvent, ProviderApiKey, Role
from tests.people.factories import AgencyFactory, ProviderFactory, ProviderUserFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestProviderApiKeyIssue:
    def test_returns_the_raw_key_once_and_stores_only_its_hash(self):
        provider = ProviderFactory(slug="bright-care")
        issuer = ProviderUserFactory(organisation=provider)

        key, raw = services.provider_api_key_issue(provider=provider, name=" Rota system ", issued_by=issuer)

        assert raw.startswith(f"pk_live_{key.prefix}_")
        assert key.public_id.startswith("key_")
        assert key.name == "Rota system"
        assert key.created_by == issuer
        assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
        stored = ProviderApiKey.objects.filter(pk=key.pk).values().get()
        assert raw not in {str(value) for value in stored.values()}

    def test_the_first_key_makes_the_providers_service_account_and_later_keys_share_it(self):
        provider = ProviderFactory(slug="bright-care", name="Bright Care")

        first, _ = services.provider_api_key_issue(provider=provider, name="Rota", issued_by=None)
        second, _ = services.provider_api_key_issue(provider=provider, name="Invoices", issued_by=None)

        user = first.service_user
        assert second.service_user == user
        assert user.username == "bright-care-api"
        assert user.role == Role.PROVIDER_USER
        assert user.organisation == provider
        assert not user.has_usable_password()

    def test_writes_an_audit_row(self):
        provider = ProviderFactory()
        issuer = ProviderUserFactory(organisation=provider)

        key, _ = services.provider_api_key_issue(provider=provider, name="Rota", issued_by=issuer)

        event = AuditEvent.objects.get(object_id=key.public_id)
        assert event.action == AuditAction.PROVIDER_API_KEY_ISSUED
        assert event.actor == issuer
        assert event.detail == {"provider": provider.public_id, "name": "Rota", "prefix": key.prefix}

    def test_an_agency_gets_no_key(self):
        with pytest.raises(services.NotAProvider):
            services.provider_api_key_issue(provider=AgencyFactory(), name="Rota", issued_by=None)
        assert not ProviderApiKey.objects.exists()

    def test_a_service_username_taken_by_someone_else_is_refused(self):
        provider = ProviderFactory(slug="bright-care")
        UserFactory(username="bright-care-api")

        with pytest.raises(services.ProviderServiceUsernameTaken):
            services.provider_api_key_issue(provider=provider, name="Rota", issued_by=None)


class TestProviderApiKeyAuthenticate:
    def test_a_live_key_is_its_providers_service_account(self):
        provider = ProviderFactory()
        key, raw = services.provider_api_key_issue(provider=provider, name="Rota", issued_by=None)

        user, found = services.provider_api_key_authenticate(raw=raw)

        assert user == key.service_user and user.organisation == provider
        assert found == key

    @pytest.mark.parametrize("mangle", [lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"), str.upper])
    def test_a_wrong_key_is_refused(self, mangle):
        _, raw = services.provider_api_key_issue(provider=ProviderFactory(), name="Rota", issued_by=None)

        assert services.provider_api_key_authenticate(raw=mangle(raw)) is None

    @pytest.mark.parametrize("raw", ["", "pk_live_", "pat_0123456789_" + "a" * 43, "nonsense"])
    def test_malformed_keys_are_refused(self, raw):
        assert services.provider_api_key_authenticate(raw=raw) is None

    def test_a_personal_token_is_not_a_provider_key(self):
        user = ProviderUserFactory()
        _, raw = services.personal_token_issue(user=user, name="mine", issued_by=user)

        assert services.provider_api_key_authenticate(raw=raw) is None

    def test_refused_once_the_service_account_is_deactivated(self):
        key, raw = services.provider_api_key_issue(provider=ProviderFactory(), name="Rota", issued_by=None)
        key.service_user.is_active = False
        key.service_user.save(update_fields=["is_active"])

        assert services.provider_api_key_authenticate(raw=raw) is None

    def test_refused_when_the_service_account_no_longer_belongs_to_the_provider(self):
        key, raw = services.provider_api_key_issue(provider=ProviderFactory(), name="Rota", issued_by=None)
        services.user_role_change(
            user=key.service_user, role=Role.PROVIDER_USER, organisation=ProviderFactory(), changed_by=None
        )

        assert services.provider_api_key_authenticate(raw=raw) is None

    def test_notes_last_use_at_most_once_a_minute(self, monkeypatch):
        key, raw = services.provider_api_key_issue(provider=ProviderFactory(), name="Rota", issued_by=None)
        start = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: start)
        services.provider_api_key_authenticate(raw=raw)
        key.refresh_from_db()
        assert key.last_used_at == start

        monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=59))
        services.provider_api_key_authenticate(raw=raw)
        key.refresh_from_db()
        assert key.last_used_at == start

        monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=1))
        services.provider_api_key_authenticate(raw=raw)
        key.refresh_from_db()
        assert key.last_used_at == start + timedelta(minutes=1)


class TestProviderApiKeyRevoke:
    def test_a_revoked_key_is_refused_at_once_and_the_revocation_audited(self):
        provider = ProviderFactory()
        member = ProviderUserFactory(organisation=provider)
        key, raw = services.provider_api_key_issue(provider=provider, name="Rota", issued_by=member)

        services.provider_api_key_revoke(key=key, revoked_by=member)

        key.refresh_from_db()
        assert key.revoked_by == member and key.revoked_at is not None and not key.is_active
        assert services.provider_api_key_authenticate(raw=raw) is None
        event = AuditEvent.objects.get(action=AuditAction.PROVIDER_API_KEY_REVOKED)
        assert event.object_id == key.public_id and event.actor == member

    def test_revoking_one_key_leaves_the_others_working(self):
        provider = ProviderFactory()
        old, _ = services.provider_api_key_issue(provider=provider, name="Old", issued_by=None)
        _, raw = services.provider_api_key_issue(provider=provider, name="New", issued_by=None)

        services.provider_api_key_revoke(key=old, revoked_by=None)

        assert services.provider_api_key_authenticate(raw=raw) is not None

    def test_revoking_twice_is_refused(self):
        key, _ = services.provider_api_key_issue(provider=ProviderFactory(), name="Rota", issued_by=None)
        services.provider_api_key_revoke(key=key, revoked_by=None)

        with pytest.raises(services.ProviderApiKeyAlreadyRevoked):
            services.provider_api_key_revoke(key=key, revoked_by=None)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class TestIssueApiKeyCommand:
    def test_prints_the_key_once_and_it_works(self):
        provider = ProviderFactory(slug="bright-care")

        out, err = run("issue_api_key", "bright-care", "--name", "Rota system")

        raw = out.strip()
        user, key = services.provider_api_key_authenticate(raw=raw)
        assert user.organisation == provider
        assert key.name == "Rota system" and key.created_by is None
        assert raw not in err
        assert "will not be shown again" in err and "Bearer" in err

    def test_names_the_key_command_line_by_default(self):
        ProviderFactory(slug="bright-care")

        run("issue_api_key", "bright-care")

        assert ProviderApiKey.objects.get().name == "Command line"

    @pytest.mark.parametrize("slug", ["nobody", "an-agency"])
    def test_only_a_provider_gets_a_key(self, slug):
        AgencyFactory(slug="an-agency")

        with pytest.raises(CommandError, match="no care provider"):
            run("issue_api_key", slug)

    def test_a_blank_name_is_refused(self):
        ProviderFactory(slug="bright-care")

        with pytest.raises(CommandError, match="name"):
            run("issue_api_key", "bright-care", "--name", "  ")
