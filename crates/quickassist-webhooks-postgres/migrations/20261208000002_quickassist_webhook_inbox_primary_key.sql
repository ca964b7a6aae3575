-- The primary key moves to the index built by the previous migration (a brief lock, no
-- rebuild); the old key's index goes with its constraint.
ALTER TABLE quickassist_webhook_inbox
    DROP CONSTRAINT quickassist_webhook_inbox_pkey,
    ADD CONSTRAINT quickassist_webhook_inbox_pkey PRIMARY KEY USING INDEX quickassist_webhook_inbox_key;
