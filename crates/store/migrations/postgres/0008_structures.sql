-- The structures of the territory as the CPTS keeps them (not imported: the Annuaire Santé
-- only names the structures of practice places), the professionals linked to them by hand,
-- the links between structures, and their membership of the CPTS association.
CREATE TABLE dir_structure (
    cpts_id        TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    finess         TEXT,
    siret          TEXT,
    -- The Annuaire Santé's technical id: links the imported practice places.
    technical_id   TEXT,
    address_line1  TEXT,
    postal_code    TEXT,
    commune_code   TEXT,
    phone          TEXT,
    email          TEXT,
    mssante        TEXT,
    note           TEXT,
    -- Lower-case, unaccented name: what the list filters on.
    search_key     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cpts_id, id)
);

-- One structure per identifier within a CPTS.
CREATE UNIQUE INDEX dir_structure_by_finess ON dir_structure (cpts_id, finess) WHERE finess IS NOT NULL;
CREATE UNIQUE INDEX dir_structure_by_siret ON dir_structure (cpts_id, siret) WHERE siret IS NOT NULL;
CREATE UNIQUE INDEX dir_structure_by_technical_id ON dir_structure (cpts_id, technical_id) WHERE technical_id IS NOT NULL;
CREATE INDEX dir_structure_by_name ON dir_structure (cpts_id, search_key);

-- Professionals linked by hand (those practising there per the extract need no row). Not tied
-- to dir_professional by a foreign key, like corrections: a link survives whatever an import does.
CREATE TABLE dir_structure_link (
    cpts_id       TEXT NOT NULL,
    structure_id  TEXT NOT NULL,
    national_id   TEXT NOT NULL,
    role          TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cpts_id, structure_id, national_id),
    FOREIGN KEY (cpts_id, structure_id) REFERENCES dir_structure (cpts_id, id) ON DELETE CASCADE
);

CREATE INDEX dir_structure_link_by_professional ON dir_structure_link (cpts_id, national_id);

CREATE TABLE dir_structure_relation (
    cpts_id  TEXT NOT NULL,
    from_id  TEXT NOT NULL,
    to_id    TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('convention', 'site_of', 'member_of', 'partner')),
    note     TEXT,
    PRIMARY KEY (cpts_id, from_id, to_id, kind),
    CHECK (from_id <> to_id),
    FOREIGN KEY (cpts_id, from_id) REFERENCES dir_structure (cpts_id, id) ON DELETE CASCADE,
    FOREIGN KEY (cpts_id, to_id) REFERENCES dir_structure (cpts_id, id) ON DELETE CASCADE
);

CREATE INDEX dir_structure_relation_by_to ON dir_structure_relation (cpts_id, to_id);

CREATE TABLE dir_structure_membership (
    cpts_id          TEXT NOT NULL,
    structure_id     TEXT NOT NULL,
    joined_on        DATE NOT NULL,
    left_on          DATE,
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'left')),
    dues_paid_until  DATE,
    -- Seat of the structure in the board ("collège des structures"), if any.
    board_role       TEXT,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cpts_id, structure_id),
    FOREIGN KEY (cpts_id, structure_id) REFERENCES dir_structure (cpts_id, id) ON DELETE CASCADE
);
