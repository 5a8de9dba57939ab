"""Agents' loads kept by the database: auto-assignment reads a row instead of counting tickets.

`agent_loads` holds, per agent, the tickets assigned to them that are not resolved or closed.
Triggers on `tickets` keep it, in the transaction of every insert, update of the assignee or
status, and delete, whatever writes it (the ORM, a bulk update, a raw statement). The pick
(`ticketdesk_pick_agent` on PostgreSQL, `assignment_rules.autoassign._pick` on SQLite) adds the
live holds to it. Before, the pick counted each candidate's open tickets: an index scan whose
every entry was a heap visit for tickets newer than the last vacuum, so each pick cost more as
the agents' queues grew.

The partial index that served the count (`ix_tickets_assigned_to_id_open`) has no reader left
and goes: one index fewer for every ticket write.

On SQLite, a migration that rebuilds `tickets` (Alembic's batch mode with a table copy) drops
its triggers, and must create them again (`SQLITE_TRIGGERS`); the tests that compare the loads
with a count fail if it does not.

Revision ID: features_0011_agent_loads
Revises: features_0010_pick_function
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "features_0011_agent_loads"
down_revision: str | None = "features_0010_pick_function"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A ticket its assignee still works on (the same words as `tickets.models.OPEN_WORK_SQL`).
OPEN = "status NOT IN ('resolved', 'closed')"

BACKFILL = f"""
INSERT INTO agent_loads (agent_id, open_tickets)
SELECT assigned_to_id, count(*) FROM tickets
WHERE assigned_to_id IS NOT NULL AND {OPEN}
GROUP BY assigned_to_id
"""

POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION ticketdesk_count_agent_load() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_agent integer;
    new_agent integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.assigned_to_id IS NOT NULL AND OLD.{OPEN} THEN
            old_agent := OLD.assigned_to_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.assigned_to_id IS NOT NULL AND NEW.{OPEN} THEN
            new_agent := NEW.assigned_to_id;
        END IF;
    END IF;
    IF old_agent IS NOT DISTINCT FROM new_agent THEN
        RETURN NULL;
    END IF;
    -- Both agents' rows in one statement, in agent order: two transactions that move tickets
    -- between the same agents lock their rows in the same order.
    INSERT INTO agent_loads AS l (agent_id, open_tickets)
    SELECT d.agent, d.delta
    FROM (VALUES (old_agent, -1), (new_agent, 1)) AS d(agent, delta)
    WHERE d.agent IS NOT NULL
    ORDER BY d.agent
    ON CONFLICT (agent_id) DO UPDATE SET open_tickets = l.open_tickets + excluded.open_tickets;
    RETURN NULL;
END
$$
"""

POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER tickets_agent_load_insert AFTER INSERT ON tickets FOR EACH ROW"
    " WHEN (NEW.assigned_to_id IS NOT NULL)"
    " EXECUTE FUNCTION ticketdesk_count_agent_load()",
    "CREATE TRIGGER tickets_agent_load_update AFTER UPDATE OF assigned_to_id, status ON tickets"
    " FOR EACH ROW WHEN (OLD.assigned_to_id IS DISTINCT FROM NEW.assigned_to_id"
    " OR OLD.status IS DISTINCT FROM NEW.status)"
    " EXECUTE FUNCTION ticketdesk_count_agent_load()",
    "CREATE TRIGGER tickets_agent_load_delete AFTER DELETE ON tickets FOR EACH ROW"
    " WHEN (OLD.assigned_to_id IS NOT NULL)"
    " EXECUTE FUNCTION ticketdesk_count_agent_load()",
]


def _sqlite_add(row: str) -> str:
    """SQLite trigger steps: one more open ticket for `row`'s assignee, if it counts."""
    counts = f"{row}.assigned_to_id IS NOT NULL AND {row}.{OPEN}"
    return (
        f"INSERT OR IGNORE INTO agent_loads (agent_id, open_tickets)"
        f" SELECT {row}.assigned_to_id, 0 WHERE {counts};"
        f" UPDATE agent_loads SET open_tickets = open_tickets + 1"
        f" WHERE agent_id = {row}.assigned_to_id AND {counts};"
    )


def _sqlite_remove(row: str) -> str:
    counts = f"{row}.assigned_to_id IS NOT NULL AND {row}.{OPEN}"
    return (
        f"UPDATE agent_loads SET open_tickets = open_tickets - 1"
        f" WHERE agent_id = {row}.assigned_to_id AND {counts};"
    )


# SQLite has one writer at a time: no lock order to keep.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER tickets_agent_load_insert AFTER INSERT ON tickets FOR EACH ROW"
    f" WHEN NEW.assigned_to_id IS NOT NULL BEGIN {_sqlite_add('NEW')} END",
    "CREATE TRIGGER tickets_agent_load_update AFTER UPDATE OF assigned_to_id, status ON tickets"
    " FOR EACH ROW WHEN OLD.assigned_to_id IS NOT NEW.assigned_to_id"
    " OR OLD.status IS NOT NEW.status"
    f" BEGIN {_sqlite_remove('OLD')} {_sqlite_add('NEW')} END",
    "CREATE TRIGGER tickets_agent_load_delete AFTER DELETE ON tickets FOR EACH ROW"
    f" WHEN OLD.assigned_to_id IS NOT NULL BEGIN {_sqlite_remove('OLD')} END",
]

# The pick of migration features_0010, with each load read from agent_loads instead of counted.
# The loads are cheap now, so every candidate's is read in one statement and the choice is
# its ORDER BY: round robin takes the first in turn below the capacity, least loaded the
# smallest load below it (ties in turn), as `choosing.choose` does. `ROWS 1` lets the caller's
# join to `users` use the primary key. Every pick's hold is deleted a moment later, and the
# agent's holds are counted through their index: a bitmap scan would visit every dead hold
# in the table until vacuum comes, where a plain index scan marks the dead entries as it
# passes and skips them from then on.
PICK = """
CREATE OR REPLACE FUNCTION ticketdesk_pick_agent(
    p_rule integer, p_now timestamptz, p_expires_at timestamptz
) RETURNS TABLE (picked_agent_id integer, picked_rule_name varchar, picked_hold_id integer)
LANGUAGE plpgsql VOLATILE ROWS 1 SET enable_bitmapscan = off AS $$
DECLARE
    rule assignment_rules%ROWTYPE;
    chosen integer;
    hold integer;
BEGIN
    SELECT * INTO rule FROM assignment_rules AS r WHERE r.id = p_rule FOR UPDATE;
    IF NOT FOUND OR NOT rule.is_active THEN
        RETURN;
    END IF;
    -- A statement of its own, begun after the lock was granted: it sees what every earlier
    -- pick committed (its hold, or the ticket that replaced the hold).
    WITH members AS (
        SELECT m.agent::integer AS agent, m.pos::integer AS pos
        FROM json_array_elements_text(rule.agent_ids) WITH ORDINALITY AS m(agent, pos)
    ),
    turn AS (
        -- The position after the last agent picked comes first (none: the list's order).
        SELECT coalesce(
            (SELECT members.pos FROM members WHERE members.agent = rule.last_agent_id), 0
        ) AS last, (SELECT count(*) FROM members)::integer AS n
    ),
    candidates AS (
        SELECT
            members.agent,
            (members.pos - turn.last - 1 + turn.n) % turn.n AS place,
            -- Open tickets plus live holds; unread when neither capacity nor choice needs it.
            CASE WHEN rule.max_open_per_agent IS NULL AND rule.strategy <> 'least_loaded'
                THEN 0
                ELSE coalesce(
                    (SELECT l.open_tickets FROM agent_loads AS l WHERE l.agent_id = members.agent),
                    0
                ) + (
                    SELECT count(*) FROM assignment_holds AS h
                    WHERE h.agent_id = members.agent AND h.expires_at > p_now
                )
            END AS load
        FROM members
        CROSS JOIN turn
        JOIN users AS u ON u.id = members.agent
        WHERE u.is_active AND u.role IN ('agent', 'super_admin')
          AND (u.available OR NOT rule.only_available)
    )
    SELECT candidates.agent INTO chosen
    FROM candidates
    WHERE rule.max_open_per_agent IS NULL OR candidates.load < rule.max_open_per_agent
    ORDER BY
        CASE WHEN rule.strategy = 'least_loaded' THEN candidates.load ELSE 0 END,
        candidates.place
    LIMIT 1;
    IF chosen IS NULL THEN
        RETURN;
    END IF;
    WITH turn AS (
        UPDATE assignment_rules AS r SET last_agent_id = chosen WHERE r.id = p_rule
    )
    INSERT INTO assignment_holds AS h (rule_id, agent_id, created_at, expires_at)
    VALUES (p_rule, chosen, p_now, p_expires_at)
    RETURNING h.id INTO hold;
    picked_agent_id := chosen;
    picked_rule_name := rule.name;
    picked_hold_id := hold;
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "agent_loads",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("open_tickets", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_agent_loads_agent_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_loads")),
    )
    if postgresql:
        # No ticket changes between the count and the triggers.
        op.execute("LOCK TABLE tickets IN SHARE MODE")
    op.execute(BACKFILL)
    if postgresql:
        op.execute(POSTGRESQL_FUNCTION)
        for trigger in POSTGRESQL_TRIGGERS:
            op.execute(trigger)
        op.execute(PICK)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.drop_index("ix_tickets_assigned_to_id_open", table_name="tickets")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_index(
        "ix_tickets_assigned_to_id_open",
        "tickets",
        ["assigned_to_id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    for name in ("insert", "update", "delete"):
        on_table = " ON tickets" if postgresql else ""
        op.execute(f"DROP TRIGGER tickets_agent_load_{name}{on_table}")
    if postgresql:
        op.execute("DROP FUNCTION ticketdesk_count_agent_load()")
        # The pick that counts, as migration features_0010 wrote it.
        counting = context.script.get_revision("features_0010_pick_function").module.PICK
        op.execute(counting.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.drop_table("agent_loads")
