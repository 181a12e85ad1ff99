-- First-start initialisation for the postgres image (/docker-entrypoint-initdb.d): runs once, as the superuser,
-- on an empty data volume. Mirrors what deploy/stack.py provisions in the local cluster.
-- CREATEROLE because the audit service creates its own restricted read-only role at start-up.
CREATE ROLE lhl WITH LOGIN CREATEROLE PASSWORD 'lhl';
-- POSTGRES_DB is left at its default on purpose: the image would create `lhl` owned by the superuser.
CREATE DATABASE lhl OWNER lhl;
