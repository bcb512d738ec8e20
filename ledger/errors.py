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


class DomainErrors(DomainError):
    """Several broken rules at once: `errors` lists each as {code, pointer, detail}.

    One problem names the error itself (its code and detail become the error's); several are summed up in
    `summary`. The API's exception handler returns `errors` as they are.
    """

    summary = "This cannot be done"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = list(errors)
        if len(self.errors) == 1:
            self.code = self.errors[0]["code"]
            super().__init__(self.errors[0]["detail"])
        else:
            super().__init__(f"{self.summary}: {len(self.errors)} problems, see errors for each one.")
