import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from people import services
from people.models import AuditAction, AuditEvent, OrganisationKind, PersonalToken, Representative, Role
from tests.people.factories import (
    AdministratorFactory,
    AgencyFactory,
    BudgetHolderFactory,
    FinanceOfficerFactory,
    NavigatorFactory,
    ProviderFactory,
    RepresentativeFactory,
    RepresentativeUserFactory,
    TOTPDeviceFactory,
    UserFactory,
    totp_code,
)

pytestmark = pytest.mark.django_db


def audit_actions(obj) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=obj.public_id)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


class TestAuditEventRecord:
    def test_writes_who_what_which_and_when(self):
        actor = NavigatorFactory()
        holder = BudgetHolderFactory()

        event = services.audit_event_record(actor=actor, action="x.done", obj=holder, detail={"why": "test"})

        assert event.actor == actor
        assert event.object_type == "people.budgetholder"
        assert event.object_id == holder.public_id
        assert event.detail == {"why": "test"}
        assert event.at is not None
        assert event.public_id.startswith("aud_")


class TestOrganisationCreate:
    @pytest.mark.parametrize(("kind", "prefix"), [("agency", "agy_"), ("provider", "pro_")])
    def test_public_id_says_the_kind(self, kind, prefix):
        organisation = services.organisation_create(kind=kind, name="Bright Care", slug="bright-care")

        assert organisation.public_id.startswith(prefix)
        assert audit_actions(organisation) == [AuditAction.ORGANISATION_CREATED]


class TestUserCreate:
    def test_creates_with_role_password_and_audit(self):
        admin = AdministratorFactory()

        user = services.user_create(
            username="nav", password="a-long-password-9", role=Role.NAVIGATOR, created_by=admin
        )

        assert user.check_password("a-long-password-9")
        assert user.role == Role.NAVIGATOR
        event = AuditEvent.objects.get(object_id=user.public_id)
        assert (event.action, event.actor) == (AuditAction.USER_CREATED, admin)

    def test_without_password_cannot_sign_in_with_one(self):
        user = services.user_create(username="pat", password=None, role=Role.BUDGET_HOLDER)

        assert not user.has_usable_password()

    @pytest.mark.parametrize(
        ("role", "kind"),
        [
            (Role.AGENCY_OFFICER, None),
            (Role.AGENCY_OFFICER, OrganisationKind.PROVIDER),
            (Role.PROVIDER_USER, OrganisationKind.AGENCY),
            (Role.NAVIGATOR, OrganisationKind.AGENCY),
        ],
    )
    def test_refuses_an_organisation_that_does_not_fit_the_role(self, role, kind):
        organisation = {None: None, "agency": AgencyFactory, "provider": ProviderFactory}[kind]
        organisation = organisation() if organisation else None

        with pytest.raises(services.OrganisationMismatch):
            services.user_create(username="x", password=None, role=role, organisation=organisation)

    def test_role_change_is_audited_with_before_and_after(self):
        admin = AdministratorFactory()
        user = UserFactory(role=Role.BUDGET_HOLDER)
        agency = AgencyFactory()

        services.user_role_change(user=user, role=Role.AGENCY_OFFICER, organisation=agency, changed_by=admin)

        user.refresh_from_db()
        assert (user.role, user.organisation) == (Role.AGENCY_OFFICER, agency)
        event = AuditEvent.objects.get(object_id=user.public_id, action=AuditAction.USER_ROLE_CHANGED)
        assert event.detail["from"]["role"] == Role.BUDGET_HOLDER
        assert event.detail["to"] == {"role": Role.AGENCY_OFFICER, "organisation": agency.public_id}


class TestBudgetHolder:
    def test_create_with_navigator(self):
        navigator = NavigatorFactory()

        holder = services.budget_holder_create(full_name="Alex Morgan", navigator=navigator)

        assert holder.navigator == navigator
        assert audit_actions(holder) == [AuditAction.BUDGET_HOLDER_CREATED]

    def test_navigator_must_be_a_navigator(self):
        with pytest.raises(services.NotANavigator):
            services.budget_holder_create(full_name="Alex Morgan", navigator=FinanceOfficerFactory())

    def test_assign_navigator_is_audited(self):
        holder = BudgetHolderFactory()
        before = holder.navigator
        after = NavigatorFactory()

        services.budget_holder_assign_navigator(budget_holder=holder, navigator=after, assigned_by=before)

        holder.refresh_from_db()
        assert holder.navigator == after
        event = AuditEvent.objects.get(object_id=holder.public_id, action=AuditAction.NAVIGATOR_ASSIGNED)
        assert event.detail == {"from": before.public_id, "to": after.public_id}


class TestRepresentativeGrant:
    def test_budget_holder_grants_approve_power(self):
        holder = BudgetHolderFactory()
        rep = RepresentativeUserFactory()

        grant = services.representative_grant(
            budget_holder=holder, user=rep, power="approve", granted_by=holder.user
        )

        assert grant.is_active and grant.may_approve
        assert grant.granted_by == holder.user
        event = AuditEvent.objects.get(object_id=grant.public_id)
        assert event.action == AuditAction.REPRESENTATIVE_GRANTED
        assert event.detail == {"budget_holder": holder.public_id, "user": rep.public_id, "power": "approve"}

    def test_their_navigator_may_grant(self):
        holder = BudgetHolderFactory()

        grant = services.representative_grant(
            budget_holder=holder, user=RepresentativeUserFactory(), power="view", granted_by=holder.navigator
        )

        assert grant.power == "view"

    @pytest.mark.parametrize("who", ["other_holder", "other_navigator", "finance", "representative"])
    def test_others_may_not_grant(self, who):
        holder = BudgetHolderFactory()
        granted_by = {
            "other_holder": lambda: BudgetHolderFactory().user,
            "other_navigator": NavigatorFactory,
            "finance": FinanceOfficerFactory,
            "representative": lambda: RepresentativeFactory(budget_holder=holder).user,
        }[who]()

        with pytest.raises(services.NotAllowedToGrant):
            services.representative_grant(
                budget_holder=holder, user=RepresentativeUserFactory(), power="view", granted_by=granted_by
            )

    def test_only_representatives_can_be_granted(self):
        holder = BudgetHolderFactory()

        with pytest.raises(services.NotARepresentative):
            services.representative_grant(
                budget_holder=holder, user=UserFactory(role=Role.BUDGET_HOLDER), power="view", granted_by=None
            )

    def test_one_active_grant_per_pair(self):
        grant = RepresentativeFactory()

        with pytest.raises(services.RepresentativeAlreadyActive):
            services.representative_grant(
                budget_holder=grant.budget_holder, user=grant.user, power="view", granted_by=None
            )

    def test_unknown_power_is_refused(self):
        with pytest.raises(ValueError):
            services.representative_grant(
                budget_holder=BudgetHolderFactory(),
                user=RepresentativeUserFactory(),
                power="own",
                granted_by=None,
            )


class TestRepresentativeRevoke:
    def test_revoke_keeps_the_row_with_who_and_when(self):
        grant = RepresentativeFactory()
        holder_user = grant.budget_holder.user

        services.representative_revoke(representative=grant, revoked_by=holder_user)

        grant.refresh_from_db()
        assert grant.revoked_by == holder_user
        assert grant.revoked_at is not None
        assert not grant.is_active
        assert Representative.objects.filter(pk=grant.pk).exists()
        assert audit_actions(grant) == [AuditAction.REPRESENTATIVE_REVOKED]

    def test_revoking_twice_is_refused(self):
        grant = RepresentativeFactory(revoked_at=timezone.now())

        with pytest.raises(services.RepresentativeAlreadyRevoked):
            services.representative_revoke(representative=grant, revoked_by=None)

    def test_the_representative_cannot_revoke_someone_else(self):
        grant = RepresentativeFactory()
        other = RepresentativeFactory(budget_holder=grant.budget_holder)

        with pytest.raises(services.NotAllowedToGrant):
            services.representative_revoke(representative=other, revoked_by=grant.user)

    def test_after_revoking_a_new_grant_may_be_made(self):
        grant = RepresentativeFactory(power="approve")
        services.representative_revoke(representative=grant, revoked_by=None)

        again = services.representative_grant(
            budget_holder=grant.budget_holder, user=grant.user, power="view", granted_by=None
        )

        assert again.pk != grant.pk
        assert Representative.objects.filter(budget_holder=grant.budget_holder).count() == 2


class TestPersonalTokens:
    def test_issue_returns_a_raw_token_stored_only_as_its_hash(self):
        user = UserFactory()

        token, raw = services.personal_token_issue(user=user, name="My app", issued_by=user)

        assert raw.startswith(f"pat_{token.prefix}_")
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        stored = PersonalToken.objects.filter(pk=token.pk).values()[0]
        assert raw not in {str(value) for value in stored.values()}
        assert not AuditEvent.objects.filter(detail__icontains=raw).exists()
        assert audit_actions(token) == [AuditAction.TOKEN_ISSUED]

    def test_two_tokens_differ(self):
        user = UserFactory()

        _, first = services.personal_token_issue(user=user, name="a", issued_by=None)
        _, second = services.personal_token_issue(user=user, name="b", issued_by=None)

        assert first != second

    def test_authenticate_returns_the_user_and_notes_the_use(self):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="My app", issued_by=user)

        assert services.personal_token_authenticate(raw=raw) == user

        token.refresh_from_db()
        assert token.last_used_at is not None

    def test_last_used_is_written_at_most_once_a_minute(self, django_assert_num_queries):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="My app", issued_by=user)
        services.personal_token_authenticate(raw=raw)
        token.refresh_from_db()
        first_use = token.last_used_at

        with django_assert_num_queries(1):
            services.personal_token_authenticate(raw=raw)

        token.refresh_from_db()
        assert token.last_used_at == first_use

    def test_last_used_moves_on_after_a_minute(self):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="My app", issued_by=user)
        old = timezone.now() - timedelta(minutes=5)
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=old)

        services.personal_token_authenticate(raw=raw)

        token.refresh_from_db()
        assert token.last_used_at > old

    def test_revoked_token_is_refused(self):
        user = UserFactory()
        token, raw = services.personal_token_issue(user=user, name="My app", issued_by=user)

        services.personal_token_revoke(token=token, revoked_by=user)

        assert services.personal_token_authenticate(raw=raw) is None
        token.refresh_from_db()
        assert token.revoked_by == user
        assert audit_actions(token) == [AuditAction.TOKEN_ISSUED, AuditAction.TOKEN_REVOKED]

    def test_revoking_twice_is_refused(self):
        user = UserFactory()
        token, _ = services.personal_token_issue(user=user, name="My app", issued_by=user)
        services.personal_token_revoke(token=token, revoked_by=user)

        with pytest.raises(services.PersonalTokenAlreadyRevoked):
            services.personal_token_revoke(token=token, revoked_by=user)

    def test_inactive_users_token_is_refused(self):
        user = UserFactory()
        _, raw = services.personal_token_issue(user=user, name="My app", issued_by=user)
        user.is_active = False
        user.save()

        assert services.personal_token_authenticate(raw=raw) is None

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "pat_",
            "nonsense",
            "pat_0123456789_" + "A" * 43,
            "pat_zzzzzzzzzz_" + "A" * 43,
            "é" * 58,
            "\x00",
        ],
    )
    def test_malformed_or_unknown_tokens_are_refused(self, raw):
        UserFactory()

        assert services.personal_token_authenticate(raw=raw) is None

    def test_right_prefix_wrong_secret_is_refused(self):
        user = UserFactory()
        _, raw = services.personal_token_issue(user=user, name="My app", issued_by=user)
        forged = raw[:-1] + ("A" if raw[-1] != "A" else "B")

        assert services.personal_token_authenticate(raw=forged) is None


class TestSecondFactorSetUp:
    def test_start_makes_one_unconfirmed_device_and_reuses_it(self):
        user = NavigatorFactory()

        first = services.totp_device_start(user=user)
        second = services.totp_device_start(user=user)

        assert first.pk == second.pk
        assert not first.confirmed

    def test_start_refuses_when_one_is_already_set_up(self):
        device = TOTPDeviceFactory()

        with pytest.raises(services.SecondFactorAlreadySetUp):
            services.totp_device_start(user=device.user)

    def test_confirm_with_the_right_code_confirms_and_issues_backup_codes(self):
        user = NavigatorFactory()
        device = services.totp_device_start(user=user)

        confirmed, codes = services.totp_device_confirm(user=user, code=totp_code(device))

        assert confirmed.pk == device.pk and TOTPDevice.objects.get(pk=device.pk).confirmed
        assert len(codes) == services.BACKUP_CODE_COUNT == len(set(codes))
        assert StaticToken.objects.filter(device__user=user).count() == services.BACKUP_CODE_COUNT
        assert audit_actions(user) == [AuditAction.SECOND_FACTOR_ENROLLED, AuditAction.BACKUP_CODES_ISSUED]

    def test_confirm_with_a_wrong_code_is_refused_and_counted(self):
        user = NavigatorFactory()
        device = services.totp_device_start(user=user)
        wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

        with pytest.raises(services.SecondFactorCodeWrong):
            services.totp_device_confirm(user=user, code=wrong)

        device.refresh_from_db()
        assert not device.confirmed
        assert device.throttling_failure_count == 1

    def test_confirm_without_starting_is_refused(self):
        with pytest.raises(services.SecondFactorNotSetUp):
            services.totp_device_confirm(user=NavigatorFactory(), code="123456")


class TestSecondFactorVerify:
    def test_the_current_code_verifies_and_is_audited(self):
        device = TOTPDeviceFactory()

        assert services.second_factor_verify(user=device.user, code=totp_code(device)) == device

        assert audit_actions(device.user) == [AuditAction.SECOND_FACTOR_VERIFIED]

    def test_spaces_in_the_code_are_ignored(self):
        device = TOTPDeviceFactory()
        code = totp_code(device)

        assert services.second_factor_verify(user=device.user, code=f" {code[:3]} {code[3:]} ") == device

    def test_a_code_works_once(self):
        device = TOTPDeviceFactory()
        code = totp_code(device)
        services.second_factor_verify(user=device.user, code=code)
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)

        with pytest.raises(services.SecondFactorCodeWrong):
            services.second_factor_verify(user=device.user, code=code)

    def test_a_wrong_code_is_refused_counted_and_audited(self):
        device = TOTPDeviceFactory()
        wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

        with pytest.raises(services.SecondFactorCodeWrong):
            services.second_factor_verify(user=device.user, code=wrong)

        device.refresh_from_db()
        assert device.throttling_failure_count == 1
        assert audit_actions(device.user) == [AuditAction.SECOND_FACTOR_FAILED]

    def test_repeated_wrong_codes_are_throttled_even_the_right_one(self):
        device = TOTPDeviceFactory()
        wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
        with pytest.raises(services.SecondFactorCodeWrong):
            services.second_factor_verify(user=device.user, code=wrong)

        with pytest.raises(services.SecondFactorThrottled) as excinfo:
            services.second_factor_verify(user=device.user, code=totp_code(device))

        assert excinfo.value.wait_seconds >= 1
        assert "Wait" in excinfo.value.message

    def test_the_throttle_ends_after_the_wait(self):
        device = TOTPDeviceFactory(
            throttling_failure_count=3, throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
        )

        assert services.second_factor_verify(user=device.user, code=totp_code(device)) == device

    def test_a_backup_code_works_once_and_leaves_the_app_unthrottled(self):
        device = TOTPDeviceFactory()
        codes = services.backup_codes_regenerate(user=device.user)

        verified = services.second_factor_verify(user=device.user, code=codes[0].upper())

        assert isinstance(verified, StaticDevice)
        with pytest.raises(services.SecondFactorCodeWrong):
            services.second_factor_verify(user=device.user, code=codes[0])
        device.refresh_from_db()
        assert device.throttling_failure_count == 0
        assert StaticToken.objects.filter(device__user=device.user).count() == len(codes) - 1

    def test_a_backup_code_of_another_user_is_refused(self):
        device = TOTPDeviceFactory()
        services.backup_codes_regenerate(user=device.user)
        other_codes = services.backup_codes_regenerate(user=TOTPDeviceFactory().user)

        with pytest.raises(services.SecondFactorCodeWrong):
            services.second_factor_verify(user=device.user, code=other_codes[0])

    def test_without_a_device_it_is_not_set_up(self):
        with pytest.raises(services.SecondFactorNotSetUp):
            services.second_factor_verify(user=NavigatorFactory(), code="123456")

    def test_a_backup_code_when_none_were_issued_is_refused(self):
        device = TOTPDeviceFactory()

        with pytest.raises(services.SecondFactorCodeWrong, match="backup code"):
            services.second_factor_verify(user=device.user, code="abcdefgh")
