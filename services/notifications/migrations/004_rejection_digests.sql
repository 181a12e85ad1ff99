-- Rejections are told to a publisher's e-mail contact in one message per source and window, not one per event:
-- a careless publisher's burst of 2,272 rejections sent 2,272 e-mails at once. The first rejection of a source
-- opens a window; those that follow join it; when it closes (a timer) one e-mail lists them, and the next
-- rejection opens the next window.
CREATE TABLE rejection_windows (
    window_id     text        PRIMARY KEY,
    event_source  text        NOT NULL,
    opened_at     timestamptz NOT NULL,
    closes_at     timestamptz NOT NULL,
    told_at       timestamptz
);
CREATE UNIQUE INDEX rejection_windows_open ON rejection_windows (event_source) WHERE told_at IS NULL;

CREATE TABLE rejections_to_tell (
    window_id     text        NOT NULL REFERENCES rejection_windows (window_id),
    event_source  text        NOT NULL,
    event_id      text        NOT NULL,
    event_type    text,
    reason        text        NOT NULL,
    message       text        NOT NULL,
    topic         text        NOT NULL,
    failed_at     text        NOT NULL,
    noted_at      timestamptz NOT NULL,
    PRIMARY KEY (event_source, event_id)
);
CREATE INDEX rejections_to_tell_window ON rejections_to_tell (window_id, noted_at);
