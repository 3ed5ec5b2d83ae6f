-- lscgate registry on PostgreSQL: roles and schema, run once by the DBA.
--
-- Creates, in the database you run it in (typically the `radius` database that
-- rlm_sql already uses), the schema `lscgate` and two least-privilege login roles:
--
--   lscgate_issuer  owns the schema and everything in it: the CAPF server
--                   (`lscgate serve`) and the CLI connect as this role, and its
--                   migrations (`lscgate init --database URI`) create the tables.
--   lscgate_radius  the FreeRADIUS nodes (rlm_lscgate): USAGE on the schema,
--                   SELECT on the tables a RADIUS decision reads (certificates,
--                   CAPF certificates, schema version, change counter)
--                   and SELECT/INSERT/UPDATE on last_seen. Nothing else: no
--                   DELETE anywhere, no write to the registry, no read of the
--                   operations (hashed CAPF authentication strings) or the audit.
--
-- How to run (as a superuser, e.g. `sudo -u postgres`):
--
--   psql -X -v ON_ERROR_STOP=1 -d radius \
--        -v issuer_password='…' -v radius_password='…' \
--        -f policy/postgresql/setup.sql
--
-- then, as the issuer:
--
--   lscgate init --database 'postgresql://lscgate_issuer:…@db.example/radius'
--
-- Safe to re-run: existing roles keep their objects and get the given passwords.
-- The password statements run with statement logging off for this session, so they
-- do not end up in the server log even when log_statement = 'all'. PostgreSQL
-- stores them hashed (password_encryption, scram-sha-256 by default since 14).
--
-- Table privileges are granted by the issuer's migrations (lscgate.grant_radius_privileges(),
-- created by migration 1 and redefined by any migration that adds a table), table
-- by table: a blanket ALTER DEFAULT PRIVILEGES ... GRANT SELECT ON TABLES would
-- also let every RADIUS node read the hashed CAPF authentication strings of
-- pending operations. Default privileges are used the other way round below: no
-- function the issuer creates later is executable by PUBLIC.
--
-- pg_hba.conf: allow both roles by password over TLS, e.g.
--   hostssl radius lscgate_issuer 10.0.0.5/32  scram-sha-256
--   hostssl radius lscgate_radius 10.0.1.0/24  scram-sha-256

\set ON_ERROR_STOP on

\if :{?issuer_password}
\else
  -- An error, not \quit: psql then exits non-zero (3) and a script running it stops.
  DO $$ BEGIN RAISE EXCEPTION 'setup.sql: pass -v issuer_password=... (the password of role lscgate_issuer)'; END $$;
\endif
\if :{?radius_password}
\else
  -- An error, not \quit: psql then exits non-zero (3) and a script running it stops.
  DO $$ BEGIN RAISE EXCEPTION 'setup.sql: pass -v radius_password=... (the password of role lscgate_radius)'; END $$;
\endif

SET client_min_messages = warning;
-- Keep the passwords out of the server log (superuser-only settings: this is the DBA's session).
SET log_statement = 'none';
SET log_min_duration_statement = -1;

BEGIN;

SELECT format('CREATE ROLE %I', r)
  FROM unnest(ARRAY['lscgate_issuer', 'lscgate_radius']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
\gexec

ALTER ROLE lscgate_issuer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'issuer_password';
ALTER ROLE lscgate_radius LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'radius_password';

-- The schema belongs to the issuer, so its migrations can create and alter tables
-- without a superuser.
CREATE SCHEMA IF NOT EXISTS lscgate AUTHORIZATION lscgate_issuer;
ALTER SCHEMA lscgate OWNER TO lscgate_issuer;
REVOKE ALL ON SCHEMA lscgate FROM PUBLIC;
GRANT USAGE ON SCHEMA lscgate TO lscgate_radius;

SELECT format('GRANT CONNECT ON DATABASE %I TO lscgate_issuer, lscgate_radius', current_database())
\gexec

-- Functions the issuer creates (trigger functions, grant_radius_privileges) are not
-- callable by others. Not schema-scoped: `IN SCHEMA` defaults can only add to the
-- built-in EXECUTE of PUBLIC on functions, never take it away (PostgreSQL docs,
-- ALTER DEFAULT PRIVILEGES, Notes). Migration 2 also revokes it on existing functions.
ALTER DEFAULT PRIVILEGES FOR ROLE lscgate_issuer REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- Nothing the issuer creates later is readable by default; the migration grants per table.
ALTER DEFAULT PRIVILEGES FOR ROLE lscgate_issuer IN SCHEMA lscgate REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE lscgate_issuer IN SCHEMA lscgate REVOKE ALL ON SEQUENCES FROM PUBLIC;

-- Nobody but the database owner creates objects in `public` (the default before
-- PostgreSQL 15, and kept by databases upgraded from 14 or older). lscgate pins
-- its sessions' search_path to pg_catalog, pg_temp, but rlm_sql and other users
-- of this database may not: an object planted in `public` by any login role (the
-- RADIUS role included) would run with the rights of whoever calls it
-- (CVE-2018-1058). If some application of yours needs to create there, grant
-- CREATE on `public` to its role alone.
SELECT 'REVOKE CREATE ON SCHEMA public FROM PUBLIC'
 WHERE EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')
\gexec

-- Run after the issuer already migrated (setup.sql re-run, or run late): the
-- RADIUS role gets its table privileges now rather than at the next migration.
-- As the issuer, not as the superuser running this script: the function belongs
-- to the issuer, who could have redefined it, and whatever it does must not run
-- with superuser rights. The owner of the tables may grant on them.
SET ROLE lscgate_issuer;
SELECT 'SELECT lscgate.grant_radius_privileges()'
 WHERE to_regprocedure('lscgate.grant_radius_privileges()') IS NOT NULL
\gexec
RESET ROLE;

COMMIT;
