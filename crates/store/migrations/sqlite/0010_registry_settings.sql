-- A CPTS's settings of its registry of patients without a médecin traitant: the matching's
-- distance limit, its priority rule (JSON, `maillage_core::matching::PriorityRule`), and how
-- many days ended requests are kept. No row: the defaults of `RegistrySettings`.
CREATE TABLE mt_settings (
    cpts_id         TEXT NOT NULL PRIMARY KEY REFERENCES cpts (id) ON DELETE CASCADE,
    max_km          REAL NOT NULL,
    priority_rule   TEXT NOT NULL,
    retention_days  BIGINT NOT NULL,
    updated_at      TEXT NOT NULL
);
