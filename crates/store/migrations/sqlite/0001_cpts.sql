-- A CPTS (the tenant) and the communes of its territory.
-- Every tenant-owned table has cpts_id at the head of its key, so a national instance can
-- later shard by CPTS.
CREATE TABLE cpts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE UNIQUE INDEX cpts_name_unique ON cpts (lower(name));

CREATE TABLE cpts_commune (
    cpts_id       TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    commune_code  TEXT NOT NULL CHECK (length(commune_code) = 5),
    PRIMARY KEY (cpts_id, commune_code)
);

CREATE INDEX cpts_commune_by_code ON cpts_commune (commune_code, cpts_id);
