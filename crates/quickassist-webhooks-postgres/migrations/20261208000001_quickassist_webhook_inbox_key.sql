-- no-transaction
-- The key's columns the other way round, built without blocking the intake: looked up by
-- webhookId alone (retry and replay by id, the console), it still arbitrates the intake's
-- ON CONFLICT (account, webhook_id). The next migration makes it the primary key.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS quickassist_webhook_inbox_key
    ON quickassist_webhook_inbox (webhook_id, account);
