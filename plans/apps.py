from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Support plans and the case timeline"

    def ready(self) -> None:
        # Who sees which budget holders, plan versions and support items through plans (agencies that fund
        # a plan, providers engaged by one): registered with people's visibility registry.
        from plans import access

        access.register()
