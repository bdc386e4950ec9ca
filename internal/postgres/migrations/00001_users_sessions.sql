-- Accounts and logins. IDs are UUIDv7 (time-ordered); times are timestamptz
-- at microsecond precision. Counts are maintained by the stores in the same
-- transaction as the rows they count.

-- +goose Up
CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL,
    username        text NOT NULL,
    name            text NOT NULL DEFAULT '',
    bio             text NOT NULL DEFAULT '',
    password_hash   text NOT NULL,
    role            text NOT NULL DEFAULT 'user'
                    CONSTRAINT users_role_check CHECK (role IN ('user', 'moderator', 'admin')),
    is_active       boolean NOT NULL DEFAULT true,
    token_version   bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    followers_count bigint NOT NULL DEFAULT 0,
    following_count bigint NOT NULL DEFAULT 0,
    blips_count     bigint NOT NULL DEFAULT 0
);
-- Uniqueness is case-insensitive; lookups use the same expressions.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
-- The admin list pages by creation.
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_jti  text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    revoked_at   timestamptz
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- Cleanup deletes by expiry or revocation time.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
