-- Retention deletes the oldest rows first, in small batches: without these, each batch would scan the whole table.
CREATE INDEX inbox_processed_at ON inbox (processed_at);
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
