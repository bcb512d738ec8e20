"""A generic double-entry ledger: accounts, transactions, postings, balances and period close.

See the module docstring of `ledger.models` for the design. The ledger imports no other app of ours.
"""
