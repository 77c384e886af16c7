-- madoguchi schema, version 1 (DESIGN.md "Store"; docs/store.md explains it).
-- Applied by madoguchi-admin db init / db migrate inside one transaction,
-- which also sets PRAGMA user_version = 1.

-- One row per CRL scope held: (issuer, distribution point or none).
-- issuer: the subject DER of the first anchor (load order) of the CRL
-- issuer's name. dp: DER of the issuingDistributionPoint directoryName,
-- NULL for a full CRL. number: cRLNumber as big-endian magnitude without
-- leading zeros. Times are Unix seconds.
CREATE TABLE crls (
	id          INTEGER PRIMARY KEY,
	issuer      BLOB    NOT NULL,
	dp          BLOB,
	number      BLOB    NOT NULL,
	this_update INTEGER NOT NULL,
	next_update INTEGER NOT NULL,
	imported_at INTEGER NOT NULL,
	sha256      BLOB    NOT NULL CHECK (length(sha256) = 32),
	entries     INTEGER NOT NULL DEFAULT 0,
	UNIQUE (issuer, dp)
);
-- SQLite treats NULLs as distinct in UNIQUE: one full CRL per issuer.
CREATE UNIQUE INDEX crls_full_scope ON crls (issuer) WHERE dp IS NULL;

-- serial: big-endian magnitude without leading zeros (as in acceptances).
-- reason: RFC 5280 CRLReason code, NULL when the entry has none.
CREATE TABLE crl_entries (
	crl_id     INTEGER NOT NULL REFERENCES crls (id) ON DELETE CASCADE,
	serial     BLOB    NOT NULL,
	revoked_at INTEGER NOT NULL,
	reason     INTEGER,
	PRIMARY KEY (crl_id, serial)
) WITHOUT ROWID;

-- Batches handed to the CA by "log export": rows first_seq..last_seq,
-- and the chain hash of last_seq at export time.
CREATE TABLE export_batches (
	id          INTEGER PRIMARY KEY,
	created_at  TEXT    NOT NULL,
	first_seq   INTEGER NOT NULL,
	last_seq    INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	head_hash   BLOB    NOT NULL CHECK (length(head_hash) = 32),
	file        TEXT
);

-- The acceptance log: an append-only hash chain (docs/store.md).
CREATE TABLE acceptances (
	seq            INTEGER PRIMARY KEY,
	receipt_id     TEXT    NOT NULL UNIQUE,
	issuer         BLOB    NOT NULL,
	serial         BLOB    NOT NULL,
	cert_sha256    BLOB    NOT NULL CHECK (length(cert_sha256) = 32),
	accepted_at    TEXT    NOT NULL,
	reason         TEXT    NOT NULL,
	holder_name    TEXT    NOT NULL,
	request        BLOB    NOT NULL,
	request_sha256 BLOB    NOT NULL CHECK (length(request_sha256) = 32),
	client_addr    TEXT    NOT NULL,
	effective_from TEXT    NOT NULL,
	export_batch   INTEGER REFERENCES export_batches (id),
	prev_hash      BLOB    NOT NULL CHECK (length(prev_hash) = 32),
	hash           BLOB    NOT NULL CHECK (length(hash) = 32),
	UNIQUE (issuer, serial)
);
CREATE INDEX acceptances_unexported ON acceptances (seq) WHERE export_batch IS NULL;
CREATE INDEX acceptances_accepted_at ON acceptances (accepted_at);
