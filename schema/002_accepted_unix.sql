-- madoguchi schema, version 2: acceptance times as Unix seconds, for
-- `madoguchi-admin log --since/--until` (docs/store.md).
-- accepted_at stays the RFC 3339 text that the hash chain covers; this
-- column is computed from it by SQLite (so it exists for every old row and
-- can never disagree with it) and, being VIRTUAL, is stored only in its
-- index. strftime('%s') honours the "+09:00" / "Z" suffix.
ALTER TABLE acceptances ADD COLUMN accepted_unix INTEGER
	GENERATED ALWAYS AS (CAST(strftime('%s', accepted_at) AS INTEGER)) VIRTUAL;
CREATE INDEX acceptances_accepted_unix ON acceptances (accepted_unix);
-- `log --serial` and a holder's question by serial, without a table scan.
CREATE INDEX acceptances_serial ON acceptances (serial);
