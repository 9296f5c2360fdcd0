-- Same-day care: every request the orientation desk takes, booked or not (what the indicators
-- count), the booking's link to its request, the professionals' secret calendar-feed tokens,
-- and the CPTS's FINESS (its SAS Organization identifier).

CREATE TABLE snp_request (
    cpts_id         TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    reason          TEXT NOT NULL,
    commune         TEXT NOT NULL,
    contact_phone   TEXT,
    contact_email   TEXT,
    referrer        TEXT NOT NULL,
    note            TEXT,
    created_by      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('en_attente', 'orientee', 'reorientee', 'abandonnee')),
    destination     TEXT CHECK (destination IN ('urgences', 'regulation', 'medecin_traitant', 'pharmacie', 'garde', 'conseil', 'autre')),
    -- The booking that orients it (status 'orientee'), its slot's start and its professional's
    -- profession: what "within 24 hours" and "by profession" are computed from.
    booking_id      TEXT,
    appointment_at  TIMESTAMPTZ,
    profession      TEXT,
    closed_at       TIMESTAMPTZ,
    PRIMARY KEY (cpts_id, id),
    CHECK ((status = 'orientee') = (booking_id IS NOT NULL AND appointment_at IS NOT NULL)),
    CHECK ((status = 'reorientee') = (destination IS NOT NULL))
);

CREATE INDEX snp_request_by_received ON snp_request (cpts_id, received_at);
CREATE INDEX snp_request_by_booking ON snp_request (cpts_id, booking_id);

ALTER TABLE snp_booking ADD COLUMN request_id TEXT;

-- The token is secret (it opens a calendar without a login): only its SHA-256 is kept.
CREATE TABLE snp_feed_token (
    cpts_id          TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    professional_id  BIGINT NOT NULL,
    token_sha256     TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cpts_id, professional_id)
);

ALTER TABLE cpts ADD COLUMN finess TEXT;
