-- Requests of people without a médecin traitant (accès aux soins): what the person gave, the
-- current state (status, doctor, since) with a revision for optimistic concurrency, and the
-- history of every change. Erasure (RGPD) deletes the request with its history.
CREATE TABLE mt_request (
    cpts_id          TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    family_name      TEXT NOT NULL,
    given_name       TEXT NOT NULL,
    birth_date       DATE NOT NULL,
    commune_code     TEXT NOT NULL,
    phone            TEXT,
    email            TEXT,
    ald              BOOLEAN NOT NULL,
    precarity_c2s    BOOLEAN NOT NULL,
    other_fragility  TEXT,
    note             TEXT,
    consent_at       TIMESTAMPTZ NOT NULL,
    source           TEXT NOT NULL,
    referred_by      TEXT,
    registered_at    TIMESTAMPTZ NOT NULL,
    -- Lower-case, unaccented "family given": what the list's search matches.
    search_key       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('waiting', 'proposed', 'accepted', 'declared', 'declined',
                                                     'withdrawn', 'moved_away', 'unreachable')),
    doctor           TEXT,
    since            TIMESTAMPTZ NOT NULL,
    revision         BIGINT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cpts_id, id)
);

CREATE INDEX mt_request_by_status ON mt_request (cpts_id, status, registered_at);
CREATE INDEX mt_request_by_doctor ON mt_request (cpts_id, doctor, status);
CREATE INDEX mt_request_by_birth_date ON mt_request (cpts_id, birth_date);

CREATE TABLE mt_request_history (
    cpts_id      TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    reason       TEXT,
    doctor       TEXT,
    by_whom      TEXT NOT NULL,
    PRIMARY KEY (cpts_id, request_id, seq),
    FOREIGN KEY (cpts_id, request_id) REFERENCES mt_request (cpts_id, id) ON DELETE CASCADE
);

-- What each participating GP declares she can take.
CREATE TABLE mt_capacity (
    cpts_id            TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    national_id        TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('total', 'per_month')),
    count              BIGINT NOT NULL CHECK (count >= 0),
    max_km             DOUBLE PRECISION,
    -- INSEE codes separated by spaces; NULL: any commune.
    accepted_communes  TEXT,
    note               TEXT,
    updated_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cpts_id, national_id)
);
