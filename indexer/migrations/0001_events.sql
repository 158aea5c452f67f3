-- Portable SQL: the same migration runs on SQLite and PostgreSQL.

-- The newest transaction that every row below covers; written in the same database transaction as
-- the rows, so a restart resumes exactly after it.
CREATE TABLE checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    slot BIGINT NOT NULL,
    signature TEXT NOT NULL,
    -- The newest block time indexed: the clock of every derived table (never the wall clock).
    block_time BIGINT,
    -- The hour (unix seconds) reputation was last computed against; see docs/reputation.md.
    reputation_as_of BIGINT
);

-- Every program transaction seen at the indexed commitment. Failed ones are kept as evidence
-- (`error` set) and never counted as activity.
-- `seq` is the chain position: slot << 24 | position in the slot << 10 (| event index for events).
-- Integers order the same on every database, so it is every table's tie-breaker and cursor.
CREATE TABLE transactions (
    signature TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    slot BIGINT NOT NULL,
    block_time BIGINT,
    error TEXT
);

-- The program's events, one row per emit_cpi! event; `data` is the event's discriminator and Borsh
-- fields, base64, so derived tables can be rebuilt without the chain.
CREATE TABLE events (
    signature TEXT NOT NULL,
    event_index BIGINT NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    slot BIGINT NOT NULL,
    block_time BIGINT,
    kind TEXT NOT NULL,
    market TEXT,
    job TEXT,
    provider TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (signature, event_index)
);
CREATE INDEX events_by_job ON events (job, seq);
CREATE INDEX events_by_provider ON events (provider, seq);
CREATE INDEX events_by_kind ON events (kind, seq);

-- Transactions that could not be decoded, with the reason; the pipeline goes on past them.
CREATE TABLE undecodable (
    signature TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    slot BIGINT NOT NULL,
    error TEXT NOT NULL
);
