"""OpenAPI descriptions of Purse's authentication schemes (drf-spectacular extensions)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A person's or staff member's own token: `Authorization: Token <token>`.",
        }


class ProviderKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ProviderKeyAuthentication"
    name = "providerKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A care provider's API key, for its own systems: `Authorization: Bearer <key>`. "
            "Each key is rate limited; a 429 answer says in Retry-After how many seconds to wait.",
        }


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.VerifiedSessionAuthentication"
    name = "session"
    priority = 1

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The Purse web session; staff must have passed their second factor.",
        }
