-- madoguchi PostgreSQL schema, version 3: CRL entries in generations
-- (docs/store.md "CRL import"). crl_entries keeps its rows and meaning
-- (crl id, serial, revocation date, reason; (crl id, serial) unique among a
-- scope's current entries) with one more column, gen: every import of a
-- scope writes a fresh generation and switches the crls row to it
-- (crls.gen) in the import's transaction, so a look-up (which joins on
-- crls.gen) sees the old generation or the new one, never a mix. The
-- replaced generation is recorded in crl_gens_retired by that transaction
-- and removed after its COMMIT (mdg_crl_gen_sweep), instead of a DELETE of
-- a million rows, and unique checks against them, inside the import.
--
-- crl_entries is partitioned by RANGE (gen). A large generation (at least
-- madoguchi.crl_partition_min entries, default 10000) gets a partition of
-- its own, crl_entries_<gen>: filled by COPY without an index, its primary
-- key built afterwards, dropped when replaced. The small ones (negative
-- gen) share crl_entries_shared, indexed as rows come, their rows deleted
-- when replaced: a look-up's plan opens every partition, so there is one
-- per large scope, not one per scope.

CREATE SEQUENCE crl_entries_gen;
ALTER TABLE crls ADD COLUMN gen BIGINT;

ALTER TABLE crl_entries RENAME TO crl_entries_v1;
ALTER INDEX crl_entries_pkey RENAME TO crl_entries_v1_pkey;
CREATE TABLE crl_entries (
	crl_id     BIGINT   NOT NULL,
	gen        BIGINT   NOT NULL,
	serial     BYTEA    NOT NULL,
	revoked_at BIGINT   NOT NULL,
	reason     SMALLINT
) PARTITION BY RANGE (gen);
CREATE TABLE crl_entries_shared PARTITION OF crl_entries FOR VALUES FROM (MINVALUE) TO (0);
ALTER TABLE crl_entries_shared ADD PRIMARY KEY (crl_id, gen, serial);

-- Generations no crls row names any more, written in the transaction that
-- replaced them; removed by the sweep.
CREATE TABLE crl_gens_retired (
	gen BIGINT PRIMARY KEY
);

-- A new generation for n entries. A large one: its partition, empty,
-- attached (ATTACH takes only a SHARE UPDATE EXCLUSIVE lock on
-- crl_entries, so look-ups go on; CREATE TABLE ... PARTITION OF would
-- block them until the COMMIT) and without an index until
-- mdg_crl_gen_seal. A small one: a negative number, in the shared
-- partition.
CREATE FUNCTION mdg_crl_gen_new(n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	g bigint := nextval('crl_entries_gen');
	t text := 'crl_entries_' || g;
BEGIN
	IF n < coalesce(nullif(current_setting('madoguchi.crl_partition_min', true), '')::bigint, 10000) THEN
		RETURN -g;
	END IF;
	EXECUTE format('CREATE TABLE %I (LIKE crl_entries)', t);
	EXECUTE format('ALTER TABLE crl_entries ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', t, g, g + 1);
	RETURN g;
END$$;

-- A large generation's primary key (crl_id, serial), built once its rows
-- are in (one sort of sorted input: far cheaper than a B-tree insert per
-- row). Nothing for a small one.
CREATE FUNCTION mdg_crl_gen_seal(g bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF g > 0 THEN
		PERFORM set_config('maintenance_work_mem', '256MB', true);
		EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (crl_id, serial)', 'crl_entries_' || g);
	END IF;
END$$;

-- Removes the retired generations: a large one's partition dropped, a
-- small one's rows deleted. DROP of a partition locks crl_entries
-- exclusively for a moment: a short lock_timeout keeps look-ups from
-- queueing behind a long reader; what is not removed now stays retired
-- for the next sweep. Returns the number removed.
CREATE FUNCTION mdg_crl_gen_sweep() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	r record;
	n integer := 0;
BEGIN
	PERFORM set_config('lock_timeout', '200ms', true);
	FOR r IN SELECT gen FROM crl_gens_retired ORDER BY gen LOOP
		BEGIN
			IF r.gen < 0 THEN
				DELETE FROM crl_entries_shared WHERE gen = r.gen;
			ELSE
				EXECUTE format('DROP TABLE IF EXISTS %I', 'crl_entries_' || r.gen);
			END IF;
			DELETE FROM crl_gens_retired WHERE gen = r.gen;
			n := n + 1;
		EXCEPTION WHEN lock_not_available THEN
			NULL;
		END;
	END LOOP;
	RETURN n;
END$$;

-- The entries held so far: one small generation per scope.
UPDATE crls SET gen = -nextval('crl_entries_gen') WHERE id IN (SELECT DISTINCT crl_id FROM crl_entries_v1);
INSERT INTO crl_entries (crl_id, gen, serial, revoked_at, reason)
	SELECT e.crl_id, c.gen, e.serial, e.revoked_at, e.reason
	FROM crl_entries_v1 e JOIN crls c ON c.id = e.crl_id ORDER BY e.crl_id, e.serial;
DROP TABLE crl_entries_v1;
