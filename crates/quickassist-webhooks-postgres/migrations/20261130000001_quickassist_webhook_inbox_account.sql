-- The account a delivery was verified for, for receivers of many accounts ('' for a
-- receiver of one secret). Accounts are separate senders: the same webhookId from two
-- accounts is two deliveries, so the key becomes (account, webhook_id).
ALTER TABLE quickassist_webhook_inbox ADD COLUMN account text NOT NULL DEFAULT '';
ALTER TABLE quickassist_webhook_inbox DROP CONSTRAINT quickassist_webhook_inbox_pkey;
ALTER TABLE quickassist_webhook_inbox ADD PRIMARY KEY (account, webhook_id);
