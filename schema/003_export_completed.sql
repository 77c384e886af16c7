-- madoguchi schema, version 3: `log export` records a batch (its rows get
-- export_batch) before writing it out, and marks it completed after the
-- output was written. A batch left uncompleted (a crash in between) is
-- handed out again by the next `log export --new`, under the same number,
-- so no acceptance is lost and none is repeated under another number
-- (docs/operations.md "log export").
ALTER TABLE export_batches ADD COLUMN completed_at TEXT;
CREATE INDEX acceptances_export_batch ON acceptances (export_batch)
	WHERE export_batch IS NOT NULL;
