-- Portable SQL: the same migration runs on SQLite and PostgreSQL.

-- The newest transaction that every row below covers; written in the same database transaction as
-- the rows, so a restart resumes exactly after it.
CREATE TABLE checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    slot BIGINT NOT NULL,
    signature TEXT NOT NULL
);

-- Every program transaction seen at the indexed commitment. Failed ones are kept as evidence
-- (`error` set) and never counted as activity.
CREATE TABLE transactions (
    signature TEXT PRIMARY KEY,
    slot BIGINT NOT NULL,
    block_time BIGINT,
    error TEXT
);

-- The program's events, one row per emit_cpi! event; `data` is the event's discriminator and Borsh
-- fields, base64, so derived tables can be rebuilt without the chain.
CREATE TABLE events (
    signature TEXT NOT NULL,
    event_index INTEGER NOT NULL,
    slot BIGINT NOT NULL,
    block_time BIGINT,
    kind TEXT NOT NULL,
    market TEXT,
    job TEXT,
    provider TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (signature, event_index)
);
CREATE INDEX events_by_job ON events (job, slot);
CREATE INDEX events_by_provider ON events (provider, slot);
CREATE INDEX events_by_kind ON events (kind, slot);

-- Transactions that could not be decoded, with the reason; the pipeline goes on past them.
CREATE TABLE undecodable (
    signature TEXT PRIMARY KEY,
    slot BIGINT NOT NULL,
    error TEXT NOT NULL
);
