-- The console (quickassist-webhooks-console) lists deliveries newest first, filtered by
-- state, account, event, webhookId or messageId, a page at a time by keyset
-- (received_at, webhook_id, account): each filter reads an index in that order, never the
-- whole table. (A time range alone reads quickassist_webhook_inbox_received.)
CREATE INDEX quickassist_webhook_inbox_console_status
    ON quickassist_webhook_inbox (status, received_at, webhook_id, account);
CREATE INDEX quickassist_webhook_inbox_console_account
    ON quickassist_webhook_inbox (account, received_at, webhook_id);
CREATE INDEX quickassist_webhook_inbox_console_event
    ON quickassist_webhook_inbox (event, received_at, webhook_id, account);
CREATE INDEX quickassist_webhook_inbox_console_webhook
    ON quickassist_webhook_inbox (webhook_id);

-- The envelope's data.messageId. The intake stores only bodies that parsed as JSON
-- envelopes (UTF-8), so the conversion cannot fail for a stored row; IMMUTABLE because
-- the conversion of these bytes does not depend on settings (convert_from is marked
-- STABLE only for encodings in general). `json`, not `jsonb`: the field is read by a
-- streaming parse, without building the document (each insert computes it).
CREATE FUNCTION quickassist_webhook_message_id(body bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT convert_from(body, 'UTF8')::json -> 'data' ->> 'messageId' $$;

CREATE INDEX quickassist_webhook_inbox_console_message
    ON quickassist_webhook_inbox (quickassist_webhook_message_id(body), signed_at)
    WHERE quickassist_webhook_message_id(body) IS NOT NULL;
