-- madoguchi schema, version 5: a partition CRL's scope is its distribution
-- point *name*, compared as RFC 5280 7.1 compares names (as X509_NAME_cmp
-- does: OpenSSL's canonical encoding), not byte for byte
-- (docs/store.md "Schema version 5").
-- dp stays the directoryName DER as the CRL wrote it (for display);
-- dp_key is the canonical form of that name (a DER Name whose string
-- values are UTF8String, ASCII lowercased, spaces trimmed and collapsed),
-- NULL for a full CRL. Lookups and the scope's identity use dp_key.
-- madoguchi-admin db migrate fills dp_key for the rows already held, in the
-- same transaction as this script (server/store_sqlite.c, post_migrate).
ALTER TABLE crls ADD COLUMN dp_key BLOB;
CREATE UNIQUE INDEX crls_dp_scope ON crls (issuer, dp_key) WHERE dp_key IS NOT NULL;
