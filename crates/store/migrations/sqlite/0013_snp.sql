-- Same-day care (SNP): what each professional publishes (the core's `Availability`, as JSON,
-- with a revision for optimistic concurrency), the places taken per slot, and the bookings.

CREATE TABLE snp_availability (
    cpts_id          TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    professional_id  BIGINT NOT NULL,
    document         TEXT NOT NULL,
    revision         BIGINT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (cpts_id, professional_id)
);

-- One row per slot ever booked: the guard against double booking. A booking takes a place with
-- one atomic upsert that refuses to go past the capacity; the CHECK is the last line of defence.
CREATE TABLE snp_slot_load (
    cpts_id    TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    slot_id    TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    capacity   BIGINT NOT NULL CHECK (capacity >= 1),
    booked     BIGINT NOT NULL CHECK (booked >= 0 AND booked <= capacity),
    PRIMARY KEY (cpts_id, slot_id)
);

CREATE INDEX snp_slot_load_by_start ON snp_slot_load (cpts_id, starts_at);

CREATE TABLE snp_booking (
    cpts_id          TEXT NOT NULL,
    id               TEXT NOT NULL,
    slot_id          TEXT NOT NULL,
    professional_id  BIGINT NOT NULL,
    starts_at        TEXT NOT NULL,
    ends_at          TEXT NOT NULL,
    place            TEXT NOT NULL CHECK (place IN ('cabinet', 'domicile', 'teleconsultation')),
    reason           TEXT NOT NULL,
    commune          TEXT NOT NULL,
    contact_phone    TEXT,
    contact_email    TEXT,
    referrer         TEXT NOT NULL,
    note             TEXT,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    cancelled_at     TEXT,
    outcome          TEXT CHECK (outcome IN ('vu', 'absent', 'reoriente_urgences', 'autre')),
    outcome_note     TEXT,
    outcome_at       TEXT,
    PRIMARY KEY (cpts_id, id),
    FOREIGN KEY (cpts_id, professional_id) REFERENCES snp_availability (cpts_id, professional_id) ON DELETE CASCADE,
    FOREIGN KEY (cpts_id, slot_id) REFERENCES snp_slot_load (cpts_id, slot_id) ON DELETE CASCADE
);

CREATE INDEX snp_booking_by_professional ON snp_booking (cpts_id, professional_id, starts_at);
CREATE INDEX snp_booking_by_start ON snp_booking (cpts_id, starts_at);
