-- Accounts and logins. IDs are canonical UUIDv7 strings (lower-case hex, so
-- text order is time order). Times are TEXT in one fixed-width UTC format,
-- 2006-01-02T15:04:05.000000Z, so that text order is time order too.
-- Booleans are INTEGER 0/1. STRICT tables refuse values of the wrong type.

-- +goose Up
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL,
    username        TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    bio             TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL DEFAULT 'user'
                    CONSTRAINT users_role_check CHECK (role IN ('user', 'moderator', 'admin')),
    is_active       INTEGER NOT NULL DEFAULT 1,
    token_version   INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    followers_count INTEGER NOT NULL DEFAULT 0,
    following_count INTEGER NOT NULL DEFAULT 0,
    blips_count     INTEGER NOT NULL DEFAULT 0
) STRICT;
-- Uniqueness is case-insensitive; lookups use the same expressions. SQLite's
-- lower() folds ASCII only (PostgreSQL's folds all of Unicode): usernames are
-- ASCII by rule and emails differ only in exotic local parts.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_jti  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    revoked_at   TEXT
) STRICT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
