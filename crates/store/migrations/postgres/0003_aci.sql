-- The ACI contract of a CPTS (one per CPTS) and the spending recorded against it.
-- The contract is written whole, in one transaction, and carries a revision so that two
-- people editing it at once cannot silently overwrite each other.
CREATE TABLE aci_contract (
    cpts_id                  TEXT PRIMARY KEY REFERENCES cpts (id) ON DELETE CASCADE,
    signed_on                DATE NOT NULL,
    rule_set                 TEXT NOT NULL CHECK (length(rule_set) > 0),
    population_at_signature  BIGINT NOT NULL CHECK (population_at_signature >= 0),
    revision                 BIGINT NOT NULL CHECK (revision > 0),
    updated_at               TIMESTAMPTZ NOT NULL
);

CREATE TABLE aci_population_update (
    cpts_id     TEXT NOT NULL REFERENCES aci_contract (cpts_id) ON DELETE CASCADE,
    known_on    DATE NOT NULL,
    population  BIGINT NOT NULL CHECK (population >= 0),
    PRIMARY KEY (cpts_id, known_on)
);

CREATE TABLE aci_mission (
    cpts_id      TEXT NOT NULL REFERENCES aci_contract (cpts_id) ON DELETE CASCADE,
    mission      TEXT NOT NULL,
    started_on   DATE,
    deployed_on  DATE,
    PRIMARY KEY (cpts_id, mission)
);

-- Indicators keep the order they were entered in (position).
CREATE TABLE aci_indicator (
    cpts_id   TEXT NOT NULL,
    mission   TEXT NOT NULL,
    position  BIGINT NOT NULL CHECK (position >= 0),
    name      TEXT NOT NULL CHECK (length(trim(name)) > 0),
    kind      TEXT NOT NULL CHECK (kind IN ('action', 'result')),
    baseline  BIGINT NOT NULL,
    weight    BIGINT NOT NULL CHECK (weight >= 0),
    PRIMARY KEY (cpts_id, mission, position),
    FOREIGN KEY (cpts_id, mission) REFERENCES aci_mission (cpts_id, mission) ON DELETE CASCADE
);

-- Per contract year: the target negotiated and the value achieved.
CREATE TABLE aci_indicator_year (
    cpts_id   TEXT NOT NULL,
    mission   TEXT NOT NULL,
    position  BIGINT NOT NULL,
    year      BIGINT NOT NULL CHECK (year BETWEEN 1 AND 99),
    target    BIGINT,
    achieved  BIGINT,
    PRIMARY KEY (cpts_id, mission, position, year),
    FOREIGN KEY (cpts_id, mission, position) REFERENCES aci_indicator (cpts_id, mission, position) ON DELETE CASCADE
);

-- The evidence of a result: document names or comments, in order.
CREATE TABLE aci_evidence (
    cpts_id    TEXT NOT NULL,
    mission    TEXT NOT NULL,
    position   BIGINT NOT NULL,
    year       BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    reference  TEXT NOT NULL,
    PRIMARY KEY (cpts_id, mission, position, year, seq),
    FOREIGN KEY (cpts_id, mission, position, year)
        REFERENCES aci_indicator_year (cpts_id, mission, position, year) ON DELETE CASCADE
);

CREATE TABLE aci_crisis (
    cpts_id      TEXT NOT NULL,
    mission      TEXT NOT NULL,
    position     BIGINT NOT NULL,
    declared_on  DATE NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (cpts_id, mission, position),
    FOREIGN KEY (cpts_id, mission) REFERENCES aci_mission (cpts_id, mission) ON DELETE CASCADE
);

-- Expenses and allowances, each charged to one envelope. Independent of the contract row:
-- spending recorded before the contract is entered is kept.
CREATE TABLE aci_expense (
    cpts_id       TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    spent_on      DATE NOT NULL,
    envelope      TEXT NOT NULL,
    category      TEXT NOT NULL,
    payee_kind    TEXT NOT NULL,
    payee         TEXT NOT NULL CHECK (length(trim(payee)) > 0),
    payee_rpps    TEXT,
    amount_cents  BIGINT NOT NULL CHECK (amount_cents > 0),
    receipt       TEXT NOT NULL,
    note          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cpts_id, id)
);

CREATE INDEX aci_expense_by_date ON aci_expense (cpts_id, spent_on, id);
