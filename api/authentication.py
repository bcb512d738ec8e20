"""How API callers prove who they are: a personal token, a provider's API key, or a web session (with a
second factor for staff)."""

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from people import services as people_services
from people.models import ProviderApiKey, User


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>`: a person's or staff member's own token, carrying their permissions."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Token' followed by one space and your token."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("That token is not valid.") from exc
        user = people_services.personal_token_authenticate(raw=raw)
        if user is None:
            raise exceptions.AuthenticationFailed("That token is not valid, or it has been revoked.")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ProviderKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`: a provider's API key, acting as that provider's service account.

    `request.auth` is the key, so that requests can be rate limited per key (api.throttling).
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ProviderApiKey] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer' followed by one space and your API key."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("That API key is not valid.") from exc
        result = people_services.provider_api_key_authenticate(raw=raw)
        if result is None:
            raise exceptions.AuthenticationFailed("That API key is not valid, or it has been revoked.")
        return result

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The web session, refused for staff who have not passed their second factor in this session."""

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        django_user = request._request.user
        if user.needs_second_factor and not django_user.is_verified():
            return None
        return result
