-- Status timelines (PostgresStatusTracker): per message and per template, the greatest
-- state seen under the precedence of quickassist_webhooks::status::merge.
CREATE TABLE quickassist_webhook_status (
    kind       text        NOT NULL CHECK (kind IN ('message', 'template')),
    id         text        NOT NULL,
    status     text        NOT NULL,
    -- the status's rank (status::Status::rank), computed by the library
    rank       smallint    NOT NULL,
    -- the event's time, in milliseconds since the Unix epoch
    at_millis  bigint      NOT NULL,
    -- the last event, applied or stale (retention counts from here)
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, id)
);

CREATE INDEX quickassist_webhook_status_updated ON quickassist_webhook_status (updated_at);

-- Merges one status event into its subject's timeline in one statement (atomic in the
-- caller's transaction, or on its own): applied when (rank, time, name byte by byte) is
-- greater than the current state's; answers the state it replaced, or the one that stays.
CREATE FUNCTION quickassist_webhook_status_apply(
    p_kind text, p_id text, p_status text, p_rank smallint, p_at bigint,
    OUT applied boolean, OUT previous_status text, OUT previous_at bigint)
LANGUAGE plpgsql AS $$
DECLARE
    current_rank smallint;
BEGIN
    LOOP
        INSERT INTO quickassist_webhook_status (kind, id, status, rank, at_millis)
        VALUES (p_kind, p_id, p_status, p_rank, p_at)
        ON CONFLICT (kind, id) DO NOTHING;
        IF FOUND THEN
            applied := true;
            RETURN;
        END IF;
        SELECT s.status, s.rank, s.at_millis INTO previous_status, current_rank, previous_at
        FROM quickassist_webhook_status s
        WHERE s.kind = p_kind AND s.id = p_id
        FOR UPDATE;
        -- Deleted (by retention) between the two: insert again.
        EXIT WHEN FOUND;
    END LOOP;
    applied := (p_rank, p_at, p_status COLLATE "C")
             > (current_rank, previous_at, previous_status COLLATE "C");
    IF applied THEN
        UPDATE quickassist_webhook_status
        SET status = p_status, rank = p_rank, at_millis = p_at, updated_at = now()
        WHERE kind = p_kind AND id = p_id;
    ELSE
        UPDATE quickassist_webhook_status SET updated_at = now()
        WHERE kind = p_kind AND id = p_id;
    END IF;
END
$$;
