-- The runtime's own tables, created in every service's schema.

-- Inbox: one row per event a consumer handled, written in the same transaction as the effects.
CREATE TABLE inbox (
    event_source  text        NOT NULL,
    event_id      text        NOT NULL,
    event_type    text,
    topic         text        NOT NULL,
    kafka_partition integer   NOT NULL,
    kafka_offset  bigint      NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('processed', 'dead_lettered')),
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_source, event_id)
);

-- Outbox: events to publish, written in the state's transaction, published by the relay.
CREATE TABLE outbox (
    id            bigserial   PRIMARY KEY,
    topic         text        NOT NULL,
    message_key   text,
    headers       jsonb       NOT NULL,
    payload       bytea       NOT NULL,
    event_id      text,
    event_type    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Durable timers: an absolute UTC instant and a business key; each key fires at most once.
CREATE TABLE timers (
    timer_key     text        PRIMARY KEY,
    kind          text        NOT NULL,
    due_at        timestamptz NOT NULL,
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    fired_at      timestamptz,
    cancelled_at  timestamptz
);
CREATE INDEX timers_pending ON timers (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
