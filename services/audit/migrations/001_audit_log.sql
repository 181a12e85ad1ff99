-- The audit log: one append-only, hash-chained row per event, dead letter or non-CloudEvent record.
-- seq is assigned by the writer under a lock, so it has no gaps: a missing number is a deleted record.
CREATE TABLE audit_log (
    seq             bigint      PRIMARY KEY CHECK (seq > 0),
    recorded_at     timestamptz NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('event', 'dead_letter', 'not_cloudevent')),
    event_source    text        NOT NULL,
    event_id        text        NOT NULL,
    event_type      text,
    event_time      timestamptz,
    correlation_id  text,
    agreement_id    text,
    region          text,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    reason          text,
    reason_message  text,
    headers         jsonb       NOT NULL,
    payload         bytea       NOT NULL,
    envelope        jsonb,
    -- Derived, so it can never disagree with the envelope; the envelope is checked against the hashed payload.
    data            jsonb GENERATED ALWAYS AS (envelope -> 'data') STORED,
    prev_hash       text        NOT NULL,
    hash            text        NOT NULL UNIQUE,
    -- Exactly once: a redelivered event has the same source and id; a rejection is a record of its own kind.
    UNIQUE (event_source, event_id, kind)
);
CREATE INDEX audit_log_correlation ON audit_log (correlation_id);
CREATE INDEX audit_log_agreement ON audit_log (agreement_id, seq);
CREATE INDEX audit_log_region ON audit_log (region, seq);
CREATE INDEX audit_log_event_type ON audit_log (event_type, seq);
CREATE INDEX audit_log_time ON audit_log (coalesce(event_time, recorded_at));

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
