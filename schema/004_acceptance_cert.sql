-- madoguchi schema, version 4: what `log export --format index` needs of
-- the holder's certificate, stored with the acceptance so that the export
-- never has to parse the evidence again (docs/store.md "Schema version 4").
-- cert_not_after: the certificate's notAfter, Unix seconds; cert_subject:
-- its subject name, DER. Both are written by the daemon when it accepts,
-- from the certificate it has just verified; neither is in the hash chain
-- (like holder_name). Rows accepted before this migration keep NULL here:
-- the export then reads both from the stored request, and names the row
-- (and goes on) if it cannot.
ALTER TABLE acceptances ADD COLUMN cert_not_after INTEGER;
ALTER TABLE acceptances ADD COLUMN cert_subject BLOB;
