"""The plan page's form: agreeing a version (a confirmation, with nothing to fill in)."""

from web.forms.govuk import GovukForm


class PlanAgreeForm(GovukForm):
    """Agree a plan version: no fields; a refusal from the service shows at the top of the page."""
