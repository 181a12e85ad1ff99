-- No query reads these two indexes: the listings filter on coalesce(region, 'national') and optional parameters,
-- which they cannot serve. They did mislead the consumer's generic plans (prepared while the tables were empty)
-- into looking a meeting or item up by agreement alone and filtering every row of it, which with one agreement is
-- every row: the load before held minutes grew with the table, to 2.5 ms at 1,600 meetings. Without them the
-- primary key is the only index that fits, whatever the statistics say.
DROP INDEX IF EXISTS meetings_by_region;
DROP INDEX IF EXISTS action_items_by_region;
