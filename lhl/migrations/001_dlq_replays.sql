-- The dead-letter replay ledger: each dead letter is replayed at most once. Installations from before this
-- migration have the table already (the CLI created it), hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS dlq_replays (
    dlq_topic text NOT NULL,
    dlq_partition integer NOT NULL,
    dlq_offset bigint NOT NULL,
    target_topic text NOT NULL,
    replayed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);
