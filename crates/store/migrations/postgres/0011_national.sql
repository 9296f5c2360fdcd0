-- The national observatory (issue 8): the registry of every CPTS of the country and the task
-- forces of the zones blanches. National data, not tenant-owned: no cpts_id.

-- The registry as last imported, replaced whole at each import. `position` keeps the order of
-- the file; `communes` holds INSEE codes separated by single spaces, in the registry's order.
CREATE TABLE national_cpts (
    id        TEXT PRIMARY KEY,
    position  BIGINT NOT NULL,
    name      TEXT NOT NULL,
    finess    TEXT,
    siren     TEXT,
    communes  TEXT NOT NULL
);

-- Each CPTS's dated states, oldest first (`seq`).
CREATE TABLE national_cpts_state (
    cpts_id  TEXT NOT NULL REFERENCES national_cpts (id) ON DELETE CASCADE,
    seq      BIGINT NOT NULL,
    on_date  DATE NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('debut_projet', 'lettre_intention', 'projet_en_construction',
                                            'projet_valide', 'aci_signe')),
    PRIMARY KEY (cpts_id, seq)
);

-- The task force of a zone blanche, keyed by the zone's smallest INSEE code when it was opened;
-- `region` (the key commune's) lets a regional observer list its own. `revision` guards
-- concurrent edits. Not tied to the registry: a new import leaves task forces alone.
CREATE TABLE task_force (
    zone_key    TEXT PRIMARY KEY,
    region      TEXT NOT NULL,
    owner       TEXT NOT NULL CHECK (owner IN ('ars', 'cpam')),
    status      TEXT NOT NULL CHECK (status IN ('a_constituer', 'en_cours', 'proposition_faite', 'resolu')),
    revision    BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX task_force_by_region ON task_force (region, zone_key);

-- Its dated actions, oldest first (`seq`), replaced whole at each edit.
CREATE TABLE task_force_action (
    zone_key   TEXT NOT NULL REFERENCES task_force (zone_key) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    on_date    DATE NOT NULL,
    text       TEXT NOT NULL,
    next_step  TEXT,
    next_on    DATE,
    PRIMARY KEY (zone_key, seq)
);
