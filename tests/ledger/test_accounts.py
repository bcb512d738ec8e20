import re

import pytest

from ledger.models import Account, AccountType
from ledger.money import UnknownCurrency
from ledger.selectors import AccountNotFound, account_get, account_get_by_key, account_list
from ledger.services import AccountKeyConflict, InvalidAccount, account_get_or_create

pytestmark = pytest.mark.django_db


def _funds_held(**overrides):
    arguments = {
        "key": "person:per_1:stream:ASC:funds-held",
        "name": "Funds held for Alex, Adult Social Care",
        "type": AccountType.LIABILITY,
        "currency": "GBP",
        "owner_type": "person",
        "owner_id": "per_1",
        "allow_negative": False,
    }
    return account_get_or_create(**(arguments | overrides))


class TestAccountGetOrCreate:
    def test_creates_an_account_with_an_opaque_public_id(self):
        account = _funds_held()

        assert re.fullmatch(r"acc_[0-9a-z]{24}", account.public_id)
        assert (account.type, account.currency, account.allow_negative) == ("liability", "GBP", False)
        assert (account.owner_type, account.owner_id) == ("person", "per_1")
        assert account.posted_minor == account.available_minor == 0

    def test_returns_the_same_account_for_the_same_key(self):
        first = _funds_held()
        second = _funds_held(name="A new display name")

        assert second.pk == first.pk
        assert Account.objects.count() == 1

    @pytest.mark.parametrize(
        "change",
        [
            {"type": AccountType.ASSET},
            {"currency": "EUR"},
            {"owner_id": "per_2"},
            {"allow_negative": True},
        ],
    )
    def test_refuses_the_same_key_with_different_details(self, change):
        _funds_held()

        with pytest.raises(AccountKeyConflict) as caught:
            _funds_held(**change)

        assert caught.value.code == "account_key_conflict"
        assert Account.objects.count() == 1

    def test_refuses_an_unknown_currency(self):
        with pytest.raises(UnknownCurrency):
            _funds_held(currency="XYZ")

    @pytest.mark.parametrize("change", [{"type": "bucket"}, {"key": ""}, {"key": "k" * 201}, {"name": " "}])
    def test_refuses_a_bad_type_key_or_name(self, change):
        with pytest.raises(InvalidAccount) as caught:
            _funds_held(**change)
        assert caught.value.code == "invalid_account"

    def test_public_ids_differ(self):
        first = _funds_held()
        second = _funds_held(key="another")
        assert first.public_id != second.public_id


class TestAccountSelectors:
    def test_gets_by_public_id_and_key(self):
        account = _funds_held()

        assert account_get(public_id=account.public_id) == account
        assert account_get_by_key(key=account.key) == account

    def test_raises_not_found(self):
        with pytest.raises(AccountNotFound) as caught:
            account_get(public_id="acc_missing")
        assert caught.value.http_status == 404
        with pytest.raises(AccountNotFound):
            account_get_by_key(key="missing")

    def test_lists_an_owners_accounts(self):
        held = _funds_held()
        _funds_held(key="someone-else", owner_id="per_2")

        assert list(account_list(owner_type="person", owner_id="per_1")) == [held]
