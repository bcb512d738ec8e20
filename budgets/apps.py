from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Funding streams and personal budgets"

    def ready(self) -> None:
        # Personal budgets' admin is its own module (budgets/admin.py holds the streams' admin); admin's
        # autodiscovery has run by now (django.contrib.admin is installed first), so register it here.
        from budgets import admin_budgets  # noqa: F401
