-- Professionals per département of the territory and profession, counted over the whole
-- national extract at the last import: the reference of the directory's densities.
CREATE TABLE dir_departement_count (
    cpts_id          TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    departement      TEXT NOT NULL,
    profession_code  TEXT NOT NULL,
    professionals    BIGINT NOT NULL CHECK (professionals >= 0),
    import_id        TEXT NOT NULL,
    PRIMARY KEY (cpts_id, departement, profession_code)
);
