-- Fair claiming walks the due deliveries account by account (one probe per account with
-- due deliveries, then each account's oldest due first), and `Inbox::lag` groups them by
-- account: both read this index of pending rows.
CREATE INDEX quickassist_webhook_inbox_account_due
    ON quickassist_webhook_inbox (account, next_attempt_at, webhook_id) WHERE status = 'pending';
