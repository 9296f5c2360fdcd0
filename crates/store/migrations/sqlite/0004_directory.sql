-- The territory's directory of a CPTS: professionals as imported from the Annuaire Santé
-- (replaced at each import), local corrections kept apart (never touched by an import),
-- membership, and the imports themselves. Every key starts with cpts_id.
CREATE TABLE dir_import (
    cpts_id        TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    source         TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    imported_at    TEXT NOT NULL,
    lines_read     BIGINT NOT NULL,
    kept           BIGINT NOT NULL,
    inserted       BIGINT NOT NULL,
    updated        BIGINT NOT NULL,
    unchanged      BIGINT NOT NULL,
    marked_left    BIGINT NOT NULL,
    returned       BIGINT NOT NULL,
    PRIMARY KEY (cpts_id, id)
);

CREATE TABLE dir_professional (
    cpts_id           TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    national_id       TEXT NOT NULL,
    civility          TEXT,
    family_name       TEXT NOT NULL,
    given_name        TEXT NOT NULL,
    profession_code   TEXT NOT NULL,
    profession_label  TEXT,
    -- Lower-case, unaccented "family given profession communes": what the search matches.
    search_key        TEXT NOT NULL,
    -- Fingerprint of the imported values: an import that brings the same values writes nothing.
    content_hash      TEXT NOT NULL,
    first_seen_at     TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    last_import_id    TEXT NOT NULL,
    -- Set when an import of the national extract no longer lists the professional.
    left_at           TEXT,
    PRIMARY KEY (cpts_id, national_id)
);

CREATE INDEX dir_professional_by_profession ON dir_professional (cpts_id, profession_code, national_id);
CREATE INDEX dir_professional_by_name ON dir_professional (cpts_id, search_key);

CREATE TABLE dir_specialty (
    cpts_id      TEXT NOT NULL,
    national_id  TEXT NOT NULL,
    position     BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    code         TEXT NOT NULL,
    label        TEXT NOT NULL,
    PRIMARY KEY (cpts_id, national_id, position),
    FOREIGN KEY (cpts_id, national_id) REFERENCES dir_professional (cpts_id, national_id) ON DELETE CASCADE
);

CREATE TABLE dir_place (
    cpts_id         TEXT NOT NULL,
    national_id     TEXT NOT NULL,
    place_key       TEXT NOT NULL,
    position        BIGINT NOT NULL,
    technical_id    TEXT,
    siret           TEXT,
    finess          TEXT,
    structure_name  TEXT,
    line1           TEXT,
    line2           TEXT,
    postal_code     TEXT,
    commune_code    TEXT,
    commune_label   TEXT,
    phone           TEXT,
    email           TEXT,
    exercise_mode   TEXT NOT NULL,
    role            TEXT,
    sector          TEXT,
    PRIMARY KEY (cpts_id, national_id, place_key),
    FOREIGN KEY (cpts_id, national_id) REFERENCES dir_professional (cpts_id, national_id) ON DELETE CASCADE
);

CREATE INDEX dir_place_by_commune ON dir_place (cpts_id, commune_code, national_id);

-- Local corrections: not tied to dir_professional by a foreign key, so that they survive
-- whatever an import does. place_key is '' for a professional-level field.
CREATE TABLE dir_correction (
    cpts_id       TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    national_id   TEXT NOT NULL,
    field         TEXT NOT NULL,
    place_key     TEXT NOT NULL,
    value         TEXT NOT NULL,
    corrected_by  TEXT NOT NULL,
    corrected_at  TEXT NOT NULL,
    PRIMARY KEY (cpts_id, national_id, field, place_key)
);

CREATE TABLE dir_membership (
    cpts_id              TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    national_id          TEXT NOT NULL,
    joined_on            TEXT NOT NULL,
    left_on              TEXT,
    status               TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'left')),
    dues_paid_until      TEXT,
    profession_referent  INTEGER NOT NULL,
    board_role           TEXT,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (cpts_id, national_id)
);

CREATE INDEX dir_membership_by_status ON dir_membership (cpts_id, status, national_id);
