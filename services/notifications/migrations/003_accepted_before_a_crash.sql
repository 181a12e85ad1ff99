-- When the recipient accepted a message but the worker crashed before recording it, the parked row remembers
-- the acceptance, so its retry records the delivery instead of sending the message a second time.
ALTER TABLE deliveries ADD COLUMN accepted_at timestamptz;
