-- Cancelling timers by key prefix (an action item's reminders, a level's watch of its meetings) reads the pending
-- timers whose key starts with the prefix. In the primary key's order, which follows the database's collation, such
-- keys need not be adjacent; in byte order (collation "C") they are, so runtime.timers asks for them as a range.
CREATE INDEX timers_pending_by_key ON timers (timer_key COLLATE "C") WHERE fired_at IS NULL AND cancelled_at IS NULL;
