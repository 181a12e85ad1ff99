-- The outbox holds what is still to be published (and the rows set aside): the relay deletes a row once the broker
-- has it, where it used to set `published_at` and retention deleted the row eight days later. Marking copied each
-- row whole (the column is indexed, so no update was HOT: about 75 us of the server's time per held meeting's five
-- rows, its largest statement), and the published rows were a second copy of what the audit keeps for good, signed
-- and chained. The rows already published go now, with the column and its index.
DELETE FROM outbox WHERE published_at IS NOT NULL;
DROP INDEX outbox_published_at;
DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;
CREATE INDEX outbox_unpublished ON outbox (id) WHERE failed_at IS NULL;
