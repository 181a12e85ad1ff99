-- The record's Kafka key as it came, hashed with the record when present (records before this have none): the key
-- orders a region's events, and a binary-mode event's partitionkey is its key, so its signature needs it.
ALTER TABLE audit_log ADD COLUMN message_key bytea;
