"""factory_boy factories for the ledger. Transactions are made through the services, never by hand, so the
accounts' running totals always match their postings."""

from datetime import date

import factory

from ledger.models import Account, AccountType, Side, Transaction
from ledger.services import PostingSpec, transaction_post, transaction_reserve

EFFECTIVE_ON = date(2026, 4, 1)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    key = factory.Sequence(lambda n: f"test:account:{n}")
    name = factory.Sequence(lambda n: f"Test account {n}")
    type = AccountType.ASSET
    currency = "GBP"
    owner_type = "test"
    owner_id = factory.Sequence(lambda n: f"own_{n}")
    allow_negative = True


class TransferFactory(factory.Factory):
    """A two-posting transaction made by `transaction_post` (or `transaction_reserve` with reserve=True):
    `amount_minor` debited to `debit` and credited to `credit`."""

    class Meta:
        model = Transaction

    reserve = False
    currency = "GBP"
    debit = factory.SubFactory(AccountFactory, currency=factory.SelfAttribute("..currency"))
    credit = factory.SubFactory(AccountFactory, currency=factory.SelfAttribute("..currency"))
    amount_minor = 1000
    effective_on = EFFECTIVE_ON
    description = factory.Sequence(lambda n: f"Transfer {n}")
    idempotency_key = factory.Sequence(lambda n: f"test-transfer-{n}")
    metadata = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *, debit, credit, amount_minor, reserve, **kwargs):
        service = transaction_reserve if reserve else transaction_post
        return service(
            postings=[
                PostingSpec(account=debit, side=Side.DEBIT, amount_minor=amount_minor),
                PostingSpec(account=credit, side=Side.CREDIT, amount_minor=amount_minor),
            ],
            **kwargs,
        )

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("Ledger transactions exist only once posted: use create().")
