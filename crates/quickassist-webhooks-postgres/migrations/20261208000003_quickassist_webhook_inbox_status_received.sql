-- no-transaction
-- Listing by state, newest first (`Inbox::list`, `qa-webhooks inbox list --status dead`, the
-- console's pages, which follow the keyset (received_at, webhook_id, account)): without it,
-- finding a few dead rows among millions of processed ones reads the table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS quickassist_webhook_inbox_status_received
    ON quickassist_webhook_inbox (status, received_at, webhook_id, account);
