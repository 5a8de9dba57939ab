"""What an API token may be used for: its scopes, and which roles may hold each.

A login (JWT) holds every scope its role allows, so only API tokens are ever refused for a
scope; what a role may do is still decided by `policy`, whatever the scopes say.
"""

from enum import StrEnum

from ticketdesk.auth.models import Role


class Scope(StrEnum):
    TICKETS_READ = "tickets:read"
    TICKETS_WRITE = "tickets:write"
    EVENTS_READ = "events:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    USERS_READ = "users:read"
    MAIL_INBOUND = "mail:inbound"
    # Everything: user management, settings, jobs, and every other scope.
    ADMIN = "admin"


_CUSTOMER = frozenset({Scope.TICKETS_READ, Scope.TICKETS_WRITE})
_AGENT = _CUSTOMER | {Scope.EVENTS_READ, Scope.USERS_READ}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.INDIVIDUAL: _CUSTOMER,
    Role.ENTERPRISE: _CUSTOMER,
    Role.SUB_USER: _CUSTOMER,
    Role.AGENT: _AGENT,
    Role.SUPER_ADMIN: frozenset(Scope),
}


def effective(held: frozenset[Scope], role: Role) -> frozenset[Scope]:
    """A token is never wider than its owner's role today (a demoted owner narrows it)."""
    return held & ROLE_SCOPES[role]


def grants(held: frozenset[Scope], needed: Scope) -> bool:
    return needed in held or Scope.ADMIN in held
