"""The one base class of Purse's domain errors.

The ledger is the lowest layer, so the base lives here and every app may import it. Specific errors are
defined in the module that raises them. An interface (API exception handler, page, command) turns any
`DomainError` into problem details or an error summary using `code`, `message` and `http_status`.
"""


class DomainError(Exception):
    """A broken business rule: a stable machine `code` and a plain-English `message` a person can act on."""

    code = "rule_broken"
    message = "That is not allowed."
    http_status = 422

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"
