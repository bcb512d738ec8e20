import io

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from people import demo, services
from people.models import (
    AuditEvent,
    BudgetHolder,
    Organisation,
    PersonalToken,
    Representative,
    RepresentativePower,
    Role,
    User,
)
from tests.people.factories import TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


class TestIssueToken:
    def test_prints_the_token_once_and_it_works(self):
        user = UserFactory(username="alex")

        out, err = run("issue_token", "alex", "--name", "Budgeting app")

        raw = out.strip()
        assert services.personal_token_authenticate(raw=raw) == user
        token = PersonalToken.objects.get(user=user)
        assert token.name == "Budgeting app"
        assert raw not in err
        assert "will not be shown again" in err

    def test_default_name(self):
        UserFactory(username="alex")

        run("issue_token", "alex")

        assert PersonalToken.objects.get().name == "Command line"

    def test_unknown_user(self):
        with pytest.raises(CommandError, match="no user called"):
            run("issue_token", "nobody")

    def test_inactive_user(self):
        UserFactory(username="gone", is_active=False)

        with pytest.raises(CommandError, match="not active"):
            run("issue_token", "gone")

    def test_blank_name(self):
        UserFactory(username="alex")

        with pytest.raises(CommandError):
            run("issue_token", "alex", "--name", "  ")


def world_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Organisation, BudgetHolder, Representative, TOTPDevice, AuditEvent)
    }


class TestSeedDemo:
    def test_creates_the_demo_people(self):
        out, _ = run("seed_demo")

        users = {user.username: user for user in User.objects.select_related("organisation")}
        assert set(users) == {
            "holder",
            "rep",
            "holder2",
            "navigator",
            "officer-asc",
            "officer-atw",
            "finance",
            "admin",
            # The other agencies' officers, made with the demo plans (plans/demo.py).
            "officer-ilf",
            "officer-wch",
            "officer-dfg",
            "officer-sp",
            # The providers' own sign-ins, made with the demo invoices (invoicing/demo.py).
            "bright-care",
            "able-assist",
            "dales-adaptations",
        }
        assert all(user.check_password(demo.DEMO_PASSWORD) for user in users.values())
        holder = BudgetHolder.objects.get(user=users["holder"])
        assert holder.full_name == "Alex Morgan"
        assert holder.navigator == users["navigator"]
        assert BudgetHolder.objects.filter(user=users["holder2"]).exists()
        grant = Representative.objects.active().get(user=users["rep"])
        assert (grant.budget_holder, grant.power) == (holder, RepresentativePower.APPROVE)
        assert users["officer-asc"].organisation.slug == "northshire-asc"
        assert users["officer-atw"].organisation.name == "Access to Work - Jobcentre Plus"
        assert users["admin"].role == Role.ADMINISTRATOR
        assert users["admin"].is_superuser and users["admin"].is_staff
        assert set(Organisation.objects.filter(kind="provider").values_list("slug", flat=True)) == {
            "bright-care",
            "able-assist",
            "dales-adaptations",
        }
        assert "purse-demo" in out
        assert "demo_code" in out

    def test_staff_get_the_demo_authenticator_and_others_none(self):
        run("seed_demo")

        with_device = set(
            TOTPDevice.objects.filter(confirmed=True, key=demo.DEMO_TOTP_KEY_HEX).values_list(
                "user__username", flat=True
            )
        )
        assert with_device == {
            "navigator",
            "officer-asc",
            "officer-atw",
            "officer-ilf",
            "officer-wch",
            "officer-dfg",
            "officer-sp",
            "finance",
            "admin",
        }

    def test_running_twice_changes_nothing(self):
        run("seed_demo")
        first = world_counts()
        hashes = dict(User.objects.values_list("username", "password"))

        run("seed_demo")

        assert world_counts() == first
        assert dict(User.objects.values_list("username", "password")) == hashes

    def test_demo_secret_is_documented_consistently(self):
        assert demo.DEMO_TOTP_SECRET_BASE32 == "OB2XE43FFVSGK3LPFV2G65DQFVVWK6JB"
        assert demo.DEMO_TOTP_SECRET_BASE32 in demo.__doc__


class TestDemoCode:
    def test_refuses_without_debug(self, settings):
        settings.DEBUG = False
        run("seed_demo")

        with pytest.raises(CommandError, match="DEBUG"):
            run("demo_code", "navigator")

    def test_prints_a_code_that_signs_in(self, settings):
        settings.DEBUG = True
        run("seed_demo")

        out, _ = run("demo_code", "navigator")

        navigator = User.objects.get(username="navigator")
        code = out.strip()
        assert len(code) == 6 and code.isdigit()
        assert services.second_factor_verify(user=navigator, code=code).user_id == navigator.pk

    def test_refuses_a_user_without_the_demo_secret(self, settings):
        settings.DEBUG = True
        TOTPDeviceFactory(user=UserFactory(username="real", role=Role.NAVIGATOR))

        with pytest.raises(CommandError, match="demo secret"):
            run("demo_code", "real")

    def test_refuses_an_unknown_user(self, settings):
        settings.DEBUG = True

        with pytest.raises(CommandError):
            run("demo_code", "nobody")
