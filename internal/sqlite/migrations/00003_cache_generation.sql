-- The cache generation: one counter, part of every versioned cache key. A
-- process that commits a change but cannot invalidate its cached copies
-- moves it before acknowledging the change; every process re-reads it
-- every 250 ms (see the PostgreSQL migration of the same name).

-- +goose Up
CREATE TABLE cache_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) STRICT;
INSERT INTO cache_generation (id, generation) VALUES (1, 0);

-- +goose Down
DROP TABLE cache_generation;
