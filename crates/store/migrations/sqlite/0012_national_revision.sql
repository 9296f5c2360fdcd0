-- A counter bumped by every replacement of the national registry, in the same transaction:
-- servers keep what they derive from the registry (its coverage, maps) while the counter they
-- read is unchanged, and recompute it when another server imported a new registry.
CREATE TABLE national_registry_revision (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    revision   BIGINT NOT NULL
);

INSERT INTO national_registry_revision (singleton, revision) VALUES (1, 0);
