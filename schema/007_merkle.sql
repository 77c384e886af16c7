-- madoguchi schema, version 7: the log's Merkle tree and its checkpoints
-- (DESIGN.md "Receipts and the log's Merkle tree", docs/receipts.md).
-- merkle_nodes: the hash of every complete subtree (level, idx) of the RFC
-- 9162 tree over the receipt contents in seq order (leaf idx = seq - 1,
-- level 0 the leaf hashes); written in the transaction that appends the
-- acceptance, never changed. The migration fills it for the rows already
-- held (store_sqlite_merkle.c: the content follows from the row alone).
-- checkpoints: the signed checkpoints, one sequence for the deployment;
-- tree_size only grows (a checkpoint not bigger than the latest is not
-- inserted). made_at_ms: Unix milliseconds.
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL UNIQUE,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    made_at_ms INTEGER NOT NULL
);
