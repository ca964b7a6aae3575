-- no-transaction
-- The console's deliveries of one account, newest first.
CREATE INDEX CONCURRENTLY IF NOT EXISTS quickassist_webhook_inbox_console_account
    ON quickassist_webhook_inbox (account, received_at, webhook_id);
