/** The SQLite schema of the log tables (see types.ts). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS tlog_logs (
  name TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  checkpoint TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_entries (
  log TEXT NOT NULL,
  idx INTEGER NOT NULL,
  leaf BLOB NOT NULL,
  leaf_hash BLOB NOT NULL,
  dedupe BLOB NOT NULL,
  itime INTEGER NOT NULL,
  extra BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS tlog_entries_idx ON tlog_entries (log, idx);
CREATE UNIQUE INDEX IF NOT EXISTS tlog_entries_dedupe ON tlog_entries (log, dedupe);
CREATE INDEX IF NOT EXISTS tlog_entries_leaf_hash ON tlog_entries (log, leaf_hash);
CREATE TABLE IF NOT EXISTS tlog_search (
  log TEXT NOT NULL,
  skey TEXT NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (log, skey, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tlog_tiles (
  log TEXT NOT NULL,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (log, level, idx)
) WITHOUT ROWID;
`;
