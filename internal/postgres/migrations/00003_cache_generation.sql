-- The cache generation: one counter, part of every versioned cache key. A
-- replica that commits a change but cannot invalidate its cached copies
-- (Redis unreachable) moves it before acknowledging the change; every
-- replica re-reads it every 250 ms and stops using entries cached under the
-- old value. Held here, not in the replica's memory, so that it survives
-- that replica's death.

-- +goose Up
CREATE TABLE cache_generation (
    id         smallint PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL
);
INSERT INTO cache_generation (id, generation) VALUES (1, 0);

-- +goose Down
DROP TABLE cache_generation;
