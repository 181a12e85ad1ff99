-- First-start initialisation for the postgres image (/docker-entrypoint-initdb.d): runs once, as the superuser,
-- on an empty data volume. Mirrors what deploy/stack.py provisions in the local cluster.
-- The services' role owns the database and nothing more; the audit service's restricted writer role is created
-- by the superuser (ADMIN_DATABASE_URL) when the audit service starts.
CREATE ROLE lhl WITH LOGIN PASSWORD 'lhl';
-- POSTGRES_DB is left at its default on purpose: the image would create `lhl` owned by the superuser.
CREATE DATABASE lhl OWNER lhl;
