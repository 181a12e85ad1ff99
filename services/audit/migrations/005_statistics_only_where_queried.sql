-- ANALYZE samples up to 30,000 rows and, for every column, sorts the sample to find its common values and its
-- histogram: for the wide columns (the record's bytes, its envelope, data and headers as jsonb, the hashes and the
-- signature material) that is most of its work, for statistics no query uses, since every lookup of the log is by
-- seq, identity, correlation, type, agreement, region or time. On a log of 37,000 benchmark records an ANALYZE took
-- 1.0-1.4 s of the server's CPU, and 0.44-0.47 s without them; autovacuum runs one whenever a tenth of the log is
-- new, which on a 2-core machine under load is a pause every consumer shares.
ALTER TABLE audit_log
    ALTER COLUMN payload SET STATISTICS 0,
    ALTER COLUMN envelope SET STATISTICS 0,
    ALTER COLUMN data SET STATISTICS 0,
    ALTER COLUMN headers SET STATISTICS 0,
    ALTER COLUMN prev_hash SET STATISTICS 0,
    ALTER COLUMN hash SET STATISTICS 0,
    ALTER COLUMN dssematerial SET STATISTICS 0,
    ALTER COLUMN message_key SET STATISTICS 0,
    ALTER COLUMN reason_message SET STATISTICS 0;
