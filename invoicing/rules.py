"""Invoicing's object permissions (found by rules' autodiscovery); ask with `people.access.may`.

These say who may *see*; the services check who may act and in which state.
"""

import rules

from invoicing.access import sees_invoice
from people.access import is_signed_in

rules.add_perm("invoicing.view_invoice", is_signed_in & sees_invoice)
