-- Webhook signing secrets leave the database: a contact point names the environment variable of the
-- notifications service that holds its secret, read at each send. A secret stored by the first version is not
-- kept: its contact point now names LHL_WEBHOOK_SECRET_<CONTACT POINT ID> (upper case, other characters as _),
-- which the operator sets to the same value, or the contact point is added again with --signing-secret-env.
-- Seeded contact points get their seed's variable back at the next start.
ALTER TABLE contact_points ADD COLUMN signing_secret_env text;
UPDATE contact_points
   SET signing_secret_env = 'LHL_WEBHOOK_SECRET_' || upper(regexp_replace(contact_point_id, '[^A-Za-z0-9]', '_', 'g'))
 WHERE channel = 'webhook';
ALTER TABLE contact_points DROP COLUMN signing_secret;
ALTER TABLE contact_points
    ADD CONSTRAINT contact_points_webhook_has_secret CHECK (channel = 'email' OR signing_secret_env IS NOT NULL),
    ADD CONSTRAINT contact_points_secret_env_is_a_name CHECK (signing_secret_env ~ '^[A-Z_][A-Z0-9_]*$');
