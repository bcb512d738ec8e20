"""Who is who in the page tests' world, for the tests of who may see a person's pages."""

# Alex's side and the staff who see every person: they see Alex's pages.
SEE = ("holder", "rep_approve", "rep_view", "navigator", "finance", "admin")
# Everyone else gets 404, as if Alex did not exist.
NOT_SEE = (
    "other_holder",
    "rep_revoked",
    "other_navigator",
    "officer_asc",
    "officer_unrelated",
    "provider_engaged",
    "provider_not_engaged",
)
# Who signs in with a second factor.
STAFF = frozenset(
    {"navigator", "other_navigator", "officer_asc", "officer_atw", "officer_unrelated", "finance", "admin"}
)


def sign_in_role(client, sign_in_verified, user, role: str):
    """Sign the test client in as `user`, who plays `role` (staff with their second factor passed)."""
    if role in STAFF:
        sign_in_verified(client, user)
    else:
        client.force_login(user)
    return user
