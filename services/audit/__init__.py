"""The audit service: one tamper-evident, hash-chained trail of every event, verifiable and queryable."""
