-- Which professional of the directory an account is (a member professional who logs in edits
-- her own contact details). One professional per account and one account per professional,
-- within a CPTS. No foreign key to dir_professional: like corrections, the link survives
-- whatever an import does (professionals are never deleted, only marked as having left).
CREATE TABLE account_professional (
    cpts_id      TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    national_id  TEXT NOT NULL,
    PRIMARY KEY (cpts_id, account_id)
);

CREATE UNIQUE INDEX account_professional_by_professional ON account_professional (cpts_id, national_id);
