-- The whole meeting lifecycle (plan, cancellation), action item state, early completions and meeting levels.
ALTER TABLE meetings
    ADD COLUMN title             text,
    ADD COLUMN organiser         text,
    ADD COLUMN county            text,
    ADD COLUMN plan_stated_at    timestamptz,
    ADD COLUMN plan_rescheduling boolean,
    ADD COLUMN cancel_reason     text;
CREATE INDEX meetings_by_region ON meetings (agreement_id, region);

ALTER TABLE action_items
    ADD COLUMN completed_by      text,
    ADD COLUMN closed_late       boolean,
    ADD COLUMN overdue_at        timestamptz;
CREATE INDEX action_items_by_region ON action_items (agreement_id, region, due_on);

-- A completion that arrived before the held event that assigns its item; consumed when the item is assigned.
CREATE TABLE early_completions (
    agreement_id   text        NOT NULL,
    action_item_id text        NOT NULL,
    completion     jsonb       NOT NULL,
    received_at    timestamptz NOT NULL,
    PRIMARY KEY (agreement_id, action_item_id)
);

-- One row per level (national, or a county governor office) watched for overdue contact meetings.
CREATE TABLE meeting_levels (
    agreement_id   text        NOT NULL,
    level_key      text        NOT NULL,
    region         text,
    last_held_on   date,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (agreement_id, level_key)
);
