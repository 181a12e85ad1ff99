-- A timer whose handler fails on a bug is parked with its error instead of being retried on every poll.
ALTER TABLE timers ADD COLUMN failed_at timestamptz;
ALTER TABLE timers ADD COLUMN last_error text;
DROP INDEX timers_pending;
CREATE INDEX timers_pending ON timers (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL;
