-- The durable inbox: one row per verified delivery, keyed by its webhookId.
CREATE TABLE quickassist_webhook_inbox (
    webhook_id      text        PRIMARY KEY,
    event           text        NOT NULL,
    -- the verified body, exactly as received
    body            bytea       NOT NULL,
    -- which form of the body the signature matched: 'raw' or 'canonical'
    signed_form     text        NOT NULL CHECK (signed_form IN ('raw', 'canonical')),
    -- the envelope's signed `timestamp`
    signed_at       timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- deliveries with the same key are processed in signed order when workers are ordered
    ordering_key    text,
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'processed', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    processed_at    timestamptz
);

CREATE INDEX quickassist_webhook_inbox_due
    ON quickassist_webhook_inbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX quickassist_webhook_inbox_order
    ON quickassist_webhook_inbox (ordering_key, signed_at, webhook_id) WHERE status = 'pending';
CREATE INDEX quickassist_webhook_inbox_processed
    ON quickassist_webhook_inbox (processed_at) WHERE status = 'processed';
CREATE INDEX quickassist_webhook_inbox_received
    ON quickassist_webhook_inbox (received_at);
