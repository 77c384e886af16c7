-- madoguchi schema, version 6: a CRL scope can be retired
-- (madoguchi-admin crl retire; docs/store.md "Schema version 6").
-- retired_at: Unix seconds of the retirement, NULL while the scope is in
-- force. A retired scope no longer counts for freshness (check 11),
-- /readyz or crl status, but its entries stay and still answer "revoked"
-- (check 8): a certificate once listed stays revoked. Importing a newer
-- CRL of the scope sets retired_at back to NULL.
ALTER TABLE crls ADD COLUMN retired_at INTEGER;
