-- Contact meetings and their action items, as the meetings service has accepted them.
CREATE TABLE meetings (
    agreement_id   text        NOT NULL,
    meeting_id     text        NOT NULL,
    kind           text        NOT NULL,
    region         text,
    status         text        NOT NULL CHECK (status IN ('scheduled', 'held', 'cancelled')),
    scheduled_for  timestamptz,
    held_on        date,
    minutes        jsonb,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (agreement_id, meeting_id)
);

CREATE TABLE action_items (
    agreement_id   text        NOT NULL,
    action_item_id text        NOT NULL,
    meeting_id     text        NOT NULL,
    region         text,
    owner          text        NOT NULL,
    text           text        NOT NULL,
    due_on         date        NOT NULL,
    completed_on   date,
    assigned_at    timestamptz NOT NULL,
    PRIMARY KEY (agreement_id, action_item_id)
);
CREATE INDEX action_items_open ON action_items (agreement_id, due_on) WHERE completed_on IS NULL;
