"""Organizations: the super_admin's CRUD, their mail domains, and who belongs to which."""

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.errors import Conflict, Invalid, NotFound
from ticketdesk.organizations.models import Organization, OrganizationDomain
from ticketdesk.organizations.schemas import (
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
)
from ticketdesk.tickets.models import Ticket


async def create_organization(
    session: AsyncSession, actor: User, data: OrganizationCreate
) -> OrganizationRead:
    policy.require_super_admin(actor)
    now = clock.now()
    organization = Organization(
        name=data.name, shared_tickets=data.shared_tickets, created_at=now, updated_at=now
    )
    session.add(organization)
    await _flush_unique(session, organization.name)
    await _set_domains(session, organization.id, data.domains)
    return _read(organization, data.domains)


async def list_organizations(session: AsyncSession, actor: User) -> list[OrganizationRead]:
    policy.require_super_admin(actor)
    organizations = list(await session.scalars(select(Organization).order_by(Organization.id)))
    rows = await session.execute(
        select(OrganizationDomain.organization_id, OrganizationDomain.domain).order_by(
            OrganizationDomain.domain
        )
    )
    domains: dict[int, list[str]] = {}
    for organization_id, domain in rows:
        domains.setdefault(organization_id, []).append(domain)
    return [_read(o, domains.get(o.id, [])) for o in organizations]


async def get_organization(
    session: AsyncSession, actor: User, organization_id: int
) -> OrganizationRead:
    policy.require_super_admin(actor)
    organization = await _get(session, organization_id)
    return _read(organization, await _domains_of(session, organization.id))


async def update_organization(
    session: AsyncSession, actor: User, organization_id: int, data: OrganizationUpdate
) -> OrganizationRead:
    """Switching `shared_tickets` takes effect on the members' very next request."""
    policy.require_super_admin(actor)
    organization = await _get(session, organization_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        organization.name = changes["name"]
    if "shared_tickets" in changes:
        organization.shared_tickets = changes["shared_tickets"]
    organization.updated_at = clock.now()
    await _flush_unique(session, organization.name)
    if data.domains is not None:
        await _set_domains(session, organization.id, data.domains)
    return _read(organization, await _domains_of(session, organization.id))


async def delete_organization(session: AsyncSession, actor: User, organization_id: int) -> None:
    """Members leave it and its tickets stop being shared; nothing else is deleted."""
    policy.require_super_admin(actor)
    organization = await _get(session, organization_id, for_update=True)
    await session.execute(
        update(User).where(User.organization_id == organization.id).values(organization_id=None)
    )
    await session.execute(
        update(Ticket).where(Ticket.organization_id == organization.id).values(organization_id=None)
    )
    await session.execute(
        delete(OrganizationDomain).where(OrganizationDomain.organization_id == organization.id)
    )
    await session.delete(organization)
    await session.flush()


async def organization_for_email(session: AsyncSession, email: str) -> Organization | None:
    """The organization whose domain the address is at, if any."""
    domain = email.rsplit("@", 1)[-1].lower()
    query = select(Organization).join(
        OrganizationDomain, OrganizationDomain.organization_id == Organization.id
    )
    return await session.scalar(query.where(OrganizationDomain.domain == domain))


async def require_organization(session: AsyncSession, organization_id: int) -> Organization:
    """For a user's `organization_id`: a missing organization is a 422 on that field."""
    organization = await session.get(Organization, organization_id)
    if organization is None:
        raise Invalid("no organization with this id", field="organization_id")
    return organization


async def _get(
    session: AsyncSession, organization_id: int, *, for_update: bool = False
) -> Organization:
    query = select(Organization).where(Organization.id == organization_id)
    if for_update:
        query = query.with_for_update()
    organization = await session.scalar(query)
    if organization is None:
        raise NotFound("organization not found")
    return organization


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"an organization named {name!r} already exists") from None


async def _set_domains(session: AsyncSession, organization_id: int, domains: list[str]) -> None:
    """A domain belongs to one organization at most (409 names the one that has it)."""
    if domains:
        taken = await session.scalar(
            select(OrganizationDomain.domain).where(
                OrganizationDomain.domain.in_(domains),
                OrganizationDomain.organization_id != organization_id,
            )
        )
        if taken is not None:
            raise Conflict(f"the domain {taken} already belongs to another organization")
    await session.execute(
        delete(OrganizationDomain).where(OrganizationDomain.organization_id == organization_id)
    )
    session.add_all(OrganizationDomain(domain=d, organization_id=organization_id) for d in domains)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("one of these domains already belongs to another organization") from None


async def _domains_of(session: AsyncSession, organization_id: int) -> list[str]:
    query = select(OrganizationDomain.domain).where(
        OrganizationDomain.organization_id == organization_id
    )
    return sorted(await session.scalars(query))


def _read(organization: Organization, domains: list[str]) -> OrganizationRead:
    return OrganizationRead(
        id=organization.id,
        name=organization.name,
        domains=sorted(domains),
        shared_tickets=organization.shared_tickets,
        created_at=organization.created_at,
        updated_at=organization.updated_at,
    )
