-- Subscriptions (recipients, their contact points and filters) and one delivery row per (event, recipient,
-- contact point). Removal is soft, so a removal made with the CLI survives the seed upsert at the next start.

CREATE TABLE recipients (
    recipient_id  text        PRIMARY KEY,
    name          text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('organisation', 'system')),
    organisation  text,
    sources       text[]      NOT NULL DEFAULT '{}',
    agreements    text[]      NOT NULL DEFAULT '{}',
    removed_at    timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contact_points (
    contact_point_id text     PRIMARY KEY,
    recipient_id  text        NOT NULL REFERENCES recipients (recipient_id),
    channel       text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    address       text        NOT NULL,
    signing_secret text,
    removed_at    timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (channel = 'email' OR signing_secret IS NOT NULL)
);
CREATE INDEX contact_points_of_recipient ON contact_points (recipient_id);

-- A filter opts a recipient in to events beyond the defaults; an empty array means "any".
CREATE TABLE filters (
    filter_id     text        PRIMARY KEY,
    recipient_id  text        NOT NULL REFERENCES recipients (recipient_id),
    event_types   text[]      NOT NULL DEFAULT '{}',
    regions       text[]      NOT NULL DEFAULT '{}',
    agreements    text[]      NOT NULL DEFAULT '{}',
    removed_at    timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deliveries (
    notification_id    text        PRIMARY KEY,
    about_event_source text        NOT NULL,
    about_event_id     text        NOT NULL,
    about_event_type   text        NOT NULL,
    recipient_id       text        NOT NULL,
    contact_point_id   text        NOT NULL,
    channel            text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    agreement_id       text,
    region             text,
    correlation_id     text        NOT NULL,
    traceparent        text,
    subject            text        NOT NULL,
    body               text        NOT NULL,
    payload            bytea       NOT NULL,
    status             text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts           integer     NOT NULL DEFAULT 0,
    first_attempt_at   timestamptz,
    next_attempt_at    timestamptz NOT NULL,
    last_error         text,
    permanent          boolean     NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL,
    finished_at        timestamptz,
    UNIQUE (about_event_source, about_event_id, recipient_id, contact_point_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';

-- Dead letters already turned into notifications, so a redelivered dead letter tells nobody twice.
CREATE TABLE dead_letters_seen (
    event_source  text        NOT NULL,
    event_id      text        NOT NULL,
    error_class   text        NOT NULL,
    seen_at       timestamptz NOT NULL,
    PRIMARY KEY (event_source, event_id)
);
