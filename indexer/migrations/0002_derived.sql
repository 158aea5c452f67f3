-- Derived tables: a pure function of the rows above, updated in the same database transaction as
-- the events they come from, and only for events that were new. Amounts are base units of the
-- market's mints; times are unix seconds of block time; booleans are 0/1 integers (portable).

CREATE TABLE markets (
    market TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    authority TEXT NOT NULL,
    payment_mint TEXT NOT NULL,
    stake_mint TEXT NOT NULL,
    fee_bps BIGINT NOT NULL,
    heartbeat_interval_secs BIGINT NOT NULL,
    verifier_quorum BIGINT NOT NULL,
    paused BIGINT NOT NULL DEFAULT 0,
    verifiers BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE providers (
    provider TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    market TEXT NOT NULL,
    authority TEXT NOT NULL,
    gpu_model TEXT NOT NULL,
    gpu_count BIGINT NOT NULL,
    vram_gb BIGINT NOT NULL,
    cpu_cores BIGINT NOT NULL,
    ram_gb BIGINT NOT NULL,
    bandwidth_up_mbps BIGINT NOT NULL,
    bandwidth_down_mbps BIGINT NOT NULL,
    region TEXT NOT NULL,
    price_per_gpu_hour BIGINT NOT NULL,
    endpoint TEXT NOT NULL,
    -- active | inactive | jailed | closed
    status TEXT NOT NULL,
    heartbeat_interval_secs BIGINT NOT NULL,
    registered_at BIGINT NOT NULL,
    last_heartbeat_at BIGINT NOT NULL,
    gpus_in_use BIGINT NOT NULL DEFAULT 0,
    staked BIGINT NOT NULL DEFAULT 0,
    unbonding BIGINT NOT NULL DEFAULT 0,
    jobs_completed BIGINT NOT NULL DEFAULT 0,
    jobs_failed BIGINT NOT NULL DEFAULT 0,
    total_earned BIGINT NOT NULL DEFAULT 0,
    total_claimed BIGINT NOT NULL DEFAULT 0,
    total_slashed BIGINT NOT NULL DEFAULT 0,
    -- Reputation score in basis points (components in `reputation`).
    score BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX providers_by_score ON providers (score, seq);
CREATE INDEX providers_by_price ON providers (price_per_gpu_hour, seq);
CREATE INDEX providers_by_model ON providers (gpu_model, score, seq);

-- One row per provider: the score and every component it is made of (docs/reputation.md).
CREATE TABLE reputation (
    provider TEXT PRIMARY KEY,
    as_of BIGINT NOT NULL,
    score BIGINT NOT NULL,
    completed_milli BIGINT NOT NULL,
    failed_milli BIGINT NOT NULL,
    completion_bps BIGINT,
    verified_pass_milli BIGINT NOT NULL,
    verified_fail_milli BIGINT NOT NULL,
    verification_bps BIGINT NOT NULL,
    uptime_7d_bps BIGINT,
    uptime_30d_bps BIGINT,
    tenure_days BIGINT NOT NULL,
    no_shows BIGINT NOT NULL,
    abandons BIGINT NOT NULL,
    frauds BIGINT NOT NULL,
    slashes BIGINT NOT NULL,
    penalty_bps BIGINT NOT NULL
);

-- Every job; an address is reused when a client reuses a nonce, so the row's id is the chain
-- position of its JobCreated event and `current` marks the address's latest one.
CREATE TABLE jobs (
    seq BIGINT PRIMARY KEY,
    job TEXT NOT NULL,
    current BIGINT NOT NULL,
    market TEXT NOT NULL,
    client TEXT NOT NULL,
    -- The client's u64, in decimal (it may exceed a signed 64-bit integer).
    nonce TEXT NOT NULL,
    named_provider TEXT,
    provider TEXT,
    workload TEXT NOT NULL,
    gpu_count BIGINT NOT NULL,
    min_vram_gb BIGINT NOT NULL,
    max_price_per_gpu_hour BIGINT NOT NULL,
    max_duration_secs BIGINT NOT NULL,
    deposit BIGINT NOT NULL,
    -- open | running | submitted | disputed | completed | failed | cancelled
    state TEXT NOT NULL,
    outcome TEXT,
    price_per_gpu_hour BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    deadline BIGINT,
    submitted_at BIGINT,
    challenge_ends_at BIGINT,
    ended_at BIGINT,
    metered_secs BIGINT,
    billed_secs BIGINT,
    provider_share BIGINT,
    fee BIGINT,
    refund BIGINT,
    closed BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_address ON jobs (job, current);
CREATE INDEX jobs_by_client ON jobs (client, seq);
CREATE INDEX jobs_by_provider ON jobs (provider, seq);
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_by_created ON jobs (created_at, seq);

-- Per provider and hour: GPU-seconds reserved by running jobs, GPU-seconds and seconds online
-- (covered by heartbeats).
CREATE TABLE utilization (
    provider TEXT NOT NULL,
    hour BIGINT NOT NULL,
    busy_gpu_secs BIGINT NOT NULL DEFAULT 0,
    online_gpu_secs BIGINT NOT NULL DEFAULT 0,
    online_secs BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, hour)
);
CREATE INDEX utilization_by_hour ON utilization (hour);

-- Per provider and day (UTC): outcomes (reputation's inputs) and earnings.
CREATE TABLE provider_days (
    provider TEXT NOT NULL,
    day BIGINT NOT NULL,
    completed BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    verified_pass BIGINT NOT NULL DEFAULT 0,
    verified_fail BIGINT NOT NULL DEFAULT 0,
    no_shows BIGINT NOT NULL DEFAULT 0,
    abandons BIGINT NOT NULL DEFAULT 0,
    frauds BIGINT NOT NULL DEFAULT 0,
    slashes BIGINT NOT NULL DEFAULT 0,
    slashed BIGINT NOT NULL DEFAULT 0,
    earned BIGINT NOT NULL DEFAULT 0,
    fees BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, day)
);

-- Per client and day (UTC): what it escrowed, paid and got back.
CREATE TABLE client_days (
    client TEXT NOT NULL,
    day BIGINT NOT NULL,
    jobs_created BIGINT NOT NULL DEFAULT 0,
    escrowed BIGINT NOT NULL DEFAULT 0,
    spent BIGINT NOT NULL DEFAULT 0,
    fees BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (client, day)
);
