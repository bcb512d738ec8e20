"""The payments part of the chart of accounts.

* `payments:clearing:<rail>:<CUR>` (liability): money sent to providers that the bank or Stripe has not yet
  confirmed leaving. Paying an invoice moves the provider's payable here; the settlement moves it to cash.
* `payments:cash:<rail>:<CUR>` (asset): Purse's money at the bank (`bank`, which Bacs pays from and agencies
  pay into) and on Stripe (`stripe`, which transfers pay from; payouts move it to the bank).
"""

from ledger import services as ledger_services
from ledger.models import Account, AccountType

OWNER = "payments"
BANK = "bank"
NAMES = {"stripe": "Stripe", "bacs": "Bacs", "bank": "the bank"}


def clearing_account(*, rail: str, currency: str) -> Account:
    return ledger_services.account_get_or_create(
        key=f"payments:clearing:{rail}:{currency}",
        name=f"Payments to providers on their way ({NAMES[rail]}, {currency})",
        type=AccountType.LIABILITY,
        currency=currency,
        allow_negative=True,
        owner_type=OWNER,
        owner_id=rail,
    )


def cash_account(*, where: str, currency: str) -> Account:
    """`where` is "bank" or "stripe"."""
    return ledger_services.account_get_or_create(
        key=f"payments:cash:{where}:{currency}",
        name=f"Money held at {NAMES[where]} ({currency})",
        type=AccountType.ASSET,
        currency=currency,
        allow_negative=True,
        owner_type=OWNER,
        owner_id=where,
    )


def reclaim_account(*, stream_code: str, agency_name: str, currency: str) -> Account:
    """`payments:reclaim:<STREAM>:<CUR>` (liability): surplus reclaimed from people, owed to the agency."""
    return ledger_services.account_get_or_create(
        key=f"payments:reclaim:{stream_code}:{currency}",
        name=f"Surplus reclaimed, owed back to {agency_name} ({stream_code}, {currency})",
        type=AccountType.LIABILITY,
        currency=currency,
        allow_negative=True,
        owner_type=OWNER,
        owner_id=f"reclaim:{stream_code}",
    )
