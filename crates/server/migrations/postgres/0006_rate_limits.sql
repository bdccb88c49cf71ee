CREATE TABLE rate_limits (
    key text PRIMARY KEY,
    count integer NOT NULL,
    since bigint NOT NULL,
    next_at bigint NOT NULL,
    until bigint NOT NULL
);
CREATE INDEX rate_limits_until ON rate_limits (until);
