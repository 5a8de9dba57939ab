"""Auto-assignment's pick as one function (PostgreSQL): one round trip instead of five.

`ticketdesk_pick_agent(rule, now, expires_at)` does what `assignment_rules.autoassign._pick`
and `choosing.choose` do on SQLite: under the rule's row lock, the next qualifying agent in turn
(round robin) or the least loaded one (ties by turn), below the rule's capacity; then it
records the turn and writes the hold. Called alone, outside any transaction, it is a transaction
of its own: the lock lasts until the call returns. Each statement in it sees what was committed
before it began (READ COMMITTED), so the loads, counted after the lock is granted, include every
earlier pick's hold.

Revision ID: features_0010_pick_function
Revises: features_0009_cf_fastupdate
Create Date: 2026-11-30 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "features_0010_pick_function"
down_revision: str | None = "features_0009_cf_fastupdate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PICK = """
CREATE FUNCTION ticketdesk_pick_agent(
    p_rule integer, p_now timestamptz, p_expires_at timestamptz
) RETURNS TABLE (picked_agent_id integer, picked_rule_name varchar, picked_hold_id integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    rule assignment_rules%ROWTYPE;
    chosen integer;
    hold integer;
BEGIN
    SELECT * INTO rule FROM assignment_rules AS r WHERE r.id = p_rule FOR UPDATE;
    IF NOT FOUND OR NOT rule.is_active THEN
        RETURN;
    END IF;
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
    qualifying AS (
        SELECT members.agent, (members.pos - turn.last - 1 + turn.n) % turn.n AS turn_order
        FROM members
        CROSS JOIN turn
        JOIN users AS u ON u.id = members.agent
        WHERE u.is_active AND u.role IN ('agent', 'super_admin')
          AND (u.available OR NOT rule.only_available)
    ),
    loads AS (
        -- Open work counted up to the capacity (exact below it), plus live holds; only when
        -- the rule has a capacity or picks the least loaded.
        SELECT q.agent, q.turn_order,
            CASE WHEN rule.max_open_per_agent IS NULL AND rule.strategy <> 'least_loaded'
            THEN 0
            ELSE (
                SELECT count(*) FROM (
                    SELECT 1 FROM tickets AS t
                    WHERE t.assigned_to_id = q.agent
                      AND t.status NOT IN ('resolved', 'closed')
                    LIMIT coalesce(rule.max_open_per_agent, 2147483647)
                ) AS open_work
            ) + (
                SELECT count(*) FROM assignment_holds AS h
                WHERE h.agent_id = q.agent AND h.expires_at > p_now
            )
            END AS open
        FROM qualifying AS q
    )
    SELECT loads.agent INTO chosen
    FROM loads
    WHERE rule.max_open_per_agent IS NULL OR loads.open < rule.max_open_per_agent
    ORDER BY CASE WHEN rule.strategy = 'least_loaded' THEN loads.open ELSE 0 END,
        loads.turn_order
    LIMIT 1;
    IF chosen IS NULL THEN
        RETURN;
    END IF;
    UPDATE assignment_rules AS r SET last_agent_id = chosen WHERE r.id = p_rule;
    INSERT INTO assignment_holds AS h (rule_id, agent_id, created_at, expires_at)
    VALUES (p_rule, chosen, p_now, p_expires_at)
    RETURNING h.id INTO hold;
    RETURN QUERY SELECT chosen, rule.name, hold;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PICK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ticketdesk_pick_agent(integer, timestamptz, timestamptz)")
