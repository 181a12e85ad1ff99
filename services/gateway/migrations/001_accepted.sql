-- What the gateway has put on the broker, by the event's source and id: a retried POST of the same event is answered
-- from here (same digest: the same 202, nothing published again; another digest: 409). Kept, not pruned: a row is
-- small, and a publisher may retry long after (the services' inboxes forget after their retention).
CREATE TABLE accepted (
    event_source    text        NOT NULL,
    event_id        text        NOT NULL,
    digest          text        NOT NULL,
    event_type      text        NOT NULL,
    organisation    text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    accepted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_source, event_id)
);
