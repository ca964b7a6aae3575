-- no-transaction
-- The console's deliveries of one message (its status timeline), in signed order.
CREATE INDEX CONCURRENTLY IF NOT EXISTS quickassist_webhook_inbox_console_message
    ON quickassist_webhook_inbox (quickassist_webhook_message_id(body), signed_at)
    WHERE quickassist_webhook_message_id(body) IS NOT NULL;
