-- A record is its bytes, its envelope as jsonb and the data drawn from it: about 4-5 kB for a typical event. Over
-- PostgreSQL's default target (2 kB) each row was first offered to pglz and then cut into TOAST chunks, written to
-- a second table and its index: 45 % of the insert's time in the server. Up to a page's worth a row now stays whole;
-- a record larger than that is still TOASTed.
ALTER TABLE audit_log SET (toast_tuple_target = 8160);
