-- no-transaction
-- The console's deliveries of one event, newest first.
CREATE INDEX CONCURRENTLY IF NOT EXISTS quickassist_webhook_inbox_console_event
    ON quickassist_webhook_inbox (event, received_at, webhook_id, account);
