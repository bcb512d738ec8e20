from rest_framework import exceptions, serializers

from api.problems import PROBLEM_CONTENT_TYPE, exception_handler, flatten_validation_errors
from ledger.errors import DomainError


class _LineSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)


class _InvoiceSerializer(serializers.Serializer):
    invoice_number = serializers.CharField()
    lines = _LineSerializer(many=True)


class TestFlattenValidationErrors:
    def test_nested_errors_become_json_pointers(self):
        serializer = _InvoiceSerializer(data={"lines": [{"quantity": "1.00"}, {"quantity": "x"}]})
        assert not serializer.is_valid()

        errors = flatten_validation_errors(serializer.errors)

        assert {
            "code": "required",
            "pointer": "/invoice_number",
            "detail": "This field is required.",
        } in errors
        assert {
            "code": "invalid",
            "pointer": "/lines/1/quantity",
            "detail": "A valid number is required.",
        } in errors
        assert len(errors) == 2

    def test_non_field_errors_point_at_the_document(self):
        errors = flatten_validation_errors({"non_field_errors": ["Dates are the wrong way round."]})

        assert errors == [{"code": "invalid", "pointer": "", "detail": "Dates are the wrong way round."}]

    def test_pointer_escapes_slash_and_tilde(self):
        errors = flatten_validation_errors({"a/b": {"c~d": ["bad"]}})

        assert errors[0]["pointer"] == "/a~1b/c~0d"


class TestExceptionHandler:
    def test_validation_error_is_a_400_problem(self):
        response = exception_handler(exceptions.ValidationError({"name": ["This field is required."]}), {})

        assert response.status_code == 400
        assert response.content_type == PROBLEM_CONTENT_TYPE
        assert response.data["status"] == 400
        assert response.data["type"].endswith("/invalid_request")
        assert response.data["errors"][0]["pointer"] == "/name"

    def test_domain_error_keeps_its_code_and_message(self):
        class TooMuch(DomainError):
            code = "too_much"

        response = exception_handler(TooMuch("That is more than the budget holds."), {})

        assert response.status_code == 422
        assert response.data["detail"] == "That is more than the budget holds."
        assert response.data["errors"] == [
            {"code": "too_much", "pointer": "", "detail": "That is more than the budget holds."}
        ]

    def test_throttled_says_when_to_retry(self):
        response = exception_handler(exceptions.Throttled(wait=2.5), {})

        assert response.status_code == 429
        assert response["Retry-After"] == "3"

    def test_unknown_exceptions_are_left_for_django(self):
        assert exception_handler(ValueError("bug"), {}) is None
