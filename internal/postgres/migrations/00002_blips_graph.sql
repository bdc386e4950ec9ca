-- Blips, likes, follows and idempotency keys. Deleted blips stay as rows
-- (soft delete) so that idempotent replays can still find them; every read
-- filters deleted_at IS NULL, and the partial indexes match those reads.

-- +goose Up
CREATE TABLE blips (
    id          uuid PRIMARY KEY,
    author_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text        text NOT NULL,
    reply_to    uuid REFERENCES blips (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    like_count  bigint NOT NULL DEFAULT 0,
    reply_count bigint NOT NULL DEFAULT 0
);
-- A user's blips and the timeline, newest first (id < cursor ORDER BY id DESC).
CREATE INDEX blips_author_id_id_idx ON blips (author_id, id DESC) WHERE deleted_at IS NULL;
-- A blip's replies, oldest first (id > cursor ORDER BY id).
CREATE INDEX blips_reply_to_id_idx ON blips (reply_to, id) WHERE deleted_at IS NULL;

CREATE TABLE likes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blip_id    uuid NOT NULL REFERENCES blips (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, blip_id)
);
CREATE INDEX likes_blip_id_idx ON likes (blip_id);

CREATE TABLE follows (
    id          uuid PRIMARY KEY,
    follower_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    CONSTRAINT follows_pair_key UNIQUE (follower_id, followee_id),
    CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
-- Followers and following lists, newest edge first.
CREATE INDEX follows_followee_id_id_idx ON follows (followee_id, id DESC);
CREATE INDEX follows_follower_id_id_idx ON follows (follower_id, id DESC);

-- blip_id is deliberately not a foreign key: the key row is written before
-- the blip in the same transaction, so a concurrent duplicate waits on it.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash text NOT NULL,
    blip_id      uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE follows;
DROP TABLE likes;
DROP TABLE blips;
