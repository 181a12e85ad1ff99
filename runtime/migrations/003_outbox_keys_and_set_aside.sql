-- A dead letter repeats the rejected record's key byte for byte: it may hold NUL or bytes that are not UTF-8,
-- which a text column refuses (and a refused INSERT stalled the consumer on that record).
ALTER TABLE outbox ALTER COLUMN message_key TYPE bytea USING convert_to(message_key, 'UTF8');

-- A row the broker refuses for good (too large, invalid) is set aside with its error, so the rows behind it go on.
ALTER TABLE outbox ADD COLUMN failed_at timestamptz;
ALTER TABLE outbox ADD COLUMN last_error text;
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL AND failed_at IS NULL;
