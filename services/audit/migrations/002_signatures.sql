-- Non-repudiation: what each event was signed with (the CloudEvents verifiability extension's dssematerial, as
-- received) and the registered key that verified it. Both are projections of the hashed payload, like envelope:
-- `audit verify` derives them again, offline, and fails a record whose columns or signature disagree.
ALTER TABLE audit_log ADD COLUMN dssematerial text;
ALTER TABLE audit_log ADD COLUMN signed_by_key text;
-- An event that does not verify is recorded as a kind of its own, so that it never takes the (source, id, kind) key
-- of the genuine event it imitates.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_kind_check
    CHECK (kind IN ('event', 'dead_letter', 'not_cloudevent', 'unauthenticated'));
CREATE INDEX audit_log_signed_by_key ON audit_log (signed_by_key, seq);
