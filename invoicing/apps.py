from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = "Providers' invoices and remittances"

    def ready(self) -> None:
        # Who sees which invoices and remittances: registered with people's visibility registry.
        from invoicing import access

        access.register()
