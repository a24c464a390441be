-- Managed keys (only a hash of each secret), per-minute request and token windows, spend per
-- budget period, and one row per request (never its contents). Times are Unix milliseconds;
-- money is in nano-USD (1e-9 USD), so sums are exact.
CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    models TEXT NOT NULL,
    rpm BIGINT,
    tpm BIGINT,
    budget_nanos BIGINT,
    period TEXT,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX keys_live_name ON keys (name) WHERE revoked_at IS NULL;

CREATE TABLE rate_windows (
    key_id TEXT NOT NULL,
    minute BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    PRIMARY KEY (key_id, minute)
);

CREATE TABLE budget_spend (
    key_id TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    nanos BIGINT NOT NULL,
    PRIMARY KEY (key_id, period_start)
);

CREATE TABLE requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    key_id TEXT,
    caller TEXT NOT NULL,
    model TEXT NOT NULL,
    door TEXT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    cost_nanos BIGINT,
    latency_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT NOT NULL,
    request_id TEXT
);
CREATE INDEX requests_at ON requests (at);
CREATE INDEX requests_key_at ON requests (key_id, at);
