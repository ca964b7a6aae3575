-- The console (quickassist-webhooks-console) lists deliveries newest first, filtered by
-- state, account, event, webhookId or messageId, a page at a time by keyset
-- (received_at, webhook_id, account): each filter reads an index in that order, never the
-- whole table. State and webhookId use the indexes of 20261208000001 and ...03; a time range
-- alone reads quickassist_webhook_inbox_received; the next migrations add the others,
-- each with CREATE INDEX CONCURRENTLY so that the intake of a populated inbox goes on.

-- The envelope's data.messageId. The intake stores only bodies that parsed as JSON
-- envelopes (UTF-8), so the conversion cannot fail for a stored row; IMMUTABLE because
-- the conversion of these bytes does not depend on settings (convert_from is marked
-- STABLE only for encodings in general).
CREATE FUNCTION quickassist_webhook_message_id(body bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT convert_from(body, 'UTF8')::json -> 'data' ->> 'messageId' $$;
