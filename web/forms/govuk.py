"""GOV.UK Frontend's classes on Django's form widgets, so every page form looks and reads the same.

Render a field with `{% include "web/includes/field.html" with field=form.name %}`: it picks the GOV.UK
pattern for the widget (text input, textarea, select, radios or checkboxes in a fieldset).
"""

from django import forms

_WIDGET_CLASSES = (
    (forms.Textarea, "govuk-textarea"),
    (forms.Select, "govuk-select"),
    (forms.RadioSelect, ""),
    (forms.CheckboxSelectMultiple, ""),
    (forms.CheckboxInput, ""),
    (forms.widgets.Input, "govuk-input"),
)
_ERROR_CLASSES = {
    "govuk-input": "govuk-input--error",
    "govuk-textarea": "govuk-textarea--error",
    "govuk-select": "govuk-select--error",
}


def _base_class(widget: forms.Widget) -> str:
    for widget_type, css_class in _WIDGET_CLASSES:
        if isinstance(widget, widget_type):
            return css_class
    return ""


class GovukErrorClassMixin:
    """Give each widget GOV.UK's class, and mark each input that has an error with the error class too."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css_class = _base_class(field.widget)
            classes = field.widget.attrs.get("class", "").split()
            if css_class and css_class not in classes:
                field.widget.attrs["class"] = " ".join([css_class, *classes])

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                error_class = _ERROR_CLASSES.get(_base_class(widget))
                classes = widget.attrs.get("class", "").split()
                if error_class and error_class not in classes:
                    widget.attrs["class"] = " ".join([*classes, error_class])


class GovukForm(GovukErrorClassMixin, forms.Form):
    """A page form with GOV.UK's classes on every widget."""
