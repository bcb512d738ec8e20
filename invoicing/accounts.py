"""The invoicing part of the chart of accounts.

* `provider:<pro_id>:payable` (liability, never below zero): what Purse owes the provider for approved
  invoices. Approval reserves from the person's funds to it; payment posts that reservation and, later,
  pays it out (payments).
"""

from ledger import services as ledger_services
from ledger.models import Account, AccountType

OWNER_PROVIDER = "provider"


def provider_payable_key(*, provider_public_id: str, currency: str) -> str:
    return f"provider:{provider_public_id}:payable:{currency}"


def provider_payable_account(*, provider_public_id: str, provider_name: str, currency: str) -> Account:
    """A provider's payable in a currency, created on first use."""
    return ledger_services.account_get_or_create(
        key=provider_payable_key(provider_public_id=provider_public_id, currency=currency),
        name=f"{provider_name}: owed for approved invoices",
        type=AccountType.LIABILITY,
        currency=currency,
        allow_negative=False,
        owner_type=OWNER_PROVIDER,
        owner_id=provider_public_id,
    )
