"""The budgets part of the chart of accounts: which ledger account holds what, by a stable key.

* `stream:<CODE>:receivable` (asset): what the stream's agency owes Purse for instalments that fell due.
* `person:<per_id>:stream:<CODE>:funds` (liability, never below zero): the person's money from that stream,
  held for them; spending reserves and posts from it.
"""

from ledger import services as ledger_services
from ledger.models import Account, AccountType

OWNER_STREAM = "funding_stream"
OWNER_BUDGET_HOLDER = "budget_holder"


def stream_receivable_key(*, stream_code: str) -> str:
    return f"stream:{stream_code}:receivable"


def person_funds_key(*, budget_holder_public_id: str, stream_code: str) -> str:
    return f"person:{budget_holder_public_id}:stream:{stream_code}:funds"


def stream_receivable_account(*, stream_code: str, stream_name: str, currency: str) -> Account:
    """The agency receivable of a stream, created on first use."""
    return ledger_services.account_get_or_create(
        key=stream_receivable_key(stream_code=stream_code),
        name=f"{stream_name}: due from the agency",
        type=AccountType.ASSET,
        currency=currency,
        allow_negative=True,
        owner_type=OWNER_STREAM,
        owner_id=stream_code,
    )


def person_funds_account(*, budget_holder_public_id: str, stream_code: str, currency: str) -> Account:
    """A person's funds held for one stream, created on first use; it may never go below zero."""
    return ledger_services.account_get_or_create(
        key=person_funds_key(budget_holder_public_id=budget_holder_public_id, stream_code=stream_code),
        name=f"{budget_holder_public_id}: {stream_code} funds held",
        type=AccountType.LIABILITY,
        currency=currency,
        allow_negative=False,
        owner_type=OWNER_BUDGET_HOLDER,
        owner_id=budget_holder_public_id,
    )
