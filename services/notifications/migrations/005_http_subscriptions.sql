-- Webhook subscriptions that organisations make themselves over the gateway's HTTP API. The gateway may insert a
-- request and mark it removed, and read what it shows its caller (column grants made at start, since the schema's
-- name varies); everything else is this service's: the endpoint validation handshake, activation (a recipient,
-- contact point and filter named `http-<id>` in the tables above) and, after a removal, their soft removal.
CREATE TABLE http_subscriptions (
    subscription_id text        PRIMARY KEY,
    organisation    text        NOT NULL,
    endpoint        text        NOT NULL,
    event_types     text[]      NOT NULL DEFAULT '{}',
    regions         text[]      NOT NULL DEFAULT '{}',
    sources         text[]      NOT NULL DEFAULT '{}',
    agreements      text[]      NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    removed_at      timestamptz,
    -- Until the endpoint has echoed the handshake's challenge nothing is delivered to it.
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'failed')),
    reason          text,
    attempts        integer     NOT NULL DEFAULT 0,
    next_check_at   timestamptz NOT NULL DEFAULT now(),
    validated_at    timestamptz,
    retired_at      timestamptz
);
CREATE INDEX http_subscriptions_of_organisation ON http_subscriptions (organisation) WHERE removed_at IS NULL;
CREATE INDEX http_subscriptions_to_check ON http_subscriptions (next_check_at) WHERE status = 'pending';
CREATE INDEX http_subscriptions_to_retire ON http_subscriptions (removed_at)
    WHERE removed_at IS NOT NULL AND retired_at IS NULL;

-- A subscription may pick events by their source too (a county governor's case system, say).
ALTER TABLE filters ADD COLUMN sources text[] NOT NULL DEFAULT '{}';
