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
    cap integer;
    counted boolean;
    candidate integer;
    load bigint;
    chosen integer;
    chosen_load bigint;
    hold integer;
BEGIN
    SELECT * INTO rule FROM assignment_rules AS r WHERE r.id = p_rule FOR UPDATE;
    IF NOT FOUND OR NOT rule.is_active THEN
        RETURN;
    END IF;
    cap := rule.max_open_per_agent;
    -- Loads matter with a capacity or to pick the least loaded; round robin stops at the
    -- first agent in turn below the capacity, so only the agents before it are counted.
    counted := cap IS NOT NULL OR rule.strategy = 'least_loaded';
    FOR candidate IN
        WITH members AS (
            SELECT m.agent::integer AS agent, m.pos::integer AS pos
            FROM json_array_elements_text(rule.agent_ids) WITH ORDINALITY AS m(agent, pos)
        ),
        turn AS (
            -- The position after the last agent picked comes first (none: the list's order).
            SELECT coalesce(
                (SELECT members.pos FROM members WHERE members.agent = rule.last_agent_id), 0
            ) AS last, (SELECT count(*) FROM members)::integer AS n
        )
        SELECT members.agent
        FROM members
        CROSS JOIN turn
        JOIN users AS u ON u.id = members.agent
        WHERE u.is_active AND u.role IN ('agent', 'super_admin')
          AND (u.available OR NOT rule.only_available)
        ORDER BY (members.pos - turn.last - 1 + turn.n) % turn.n
    LOOP
        IF NOT counted THEN
            chosen := candidate;
            EXIT;
        END IF;
        -- Open work counted up to the capacity (exact below it), plus live holds. Each
        -- statement here sees what was committed before it began: every earlier pick's hold.
        SELECT (
            SELECT count(*) FROM (
                SELECT 1 FROM tickets AS t
                WHERE t.assigned_to_id = candidate AND t.status NOT IN ('resolved', 'closed')
                LIMIT coalesce(cap, 2147483647)
            ) AS open_work
        ) + (
            SELECT count(*) FROM assignment_holds AS h
            WHERE h.agent_id = candidate AND h.expires_at > p_now
        ) INTO load;
        CONTINUE WHEN cap IS NOT NULL AND load >= cap;
        IF rule.strategy <> 'least_loaded' THEN
            chosen := candidate;
            EXIT;
        END IF;
        -- Least loaded: ties go by turn, so only a smaller load replaces the one found.
        IF chosen IS NULL OR load < chosen_load THEN
            chosen := candidate;
            chosen_load := load;
        END IF;
    END LOOP;
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
