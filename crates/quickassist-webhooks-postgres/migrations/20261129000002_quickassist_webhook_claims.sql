-- The idempotency store (PostgresStore): one row per claimed key.
CREATE TABLE quickassist_webhook_claims (
    key        bytea       PRIMARY KEY,
    -- the claim token while in flight; NULL once done
    token      bytea,
    -- in flight: the end of the lease; done: the end of the done-TTL
    expires_at timestamptz NOT NULL
);

CREATE INDEX quickassist_webhook_claims_expiry ON quickassist_webhook_claims (expires_at);
