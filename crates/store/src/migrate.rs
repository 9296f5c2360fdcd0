//! Schema migrations: one ordered list per engine, applied at connect, each in its own
//! transaction together with its bookkeeping row, so a failed migration leaves nothing behind.

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($engine:literal: $($version:literal => $file:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $file,
            sql: include_str!(concat!("../migrations/", $engine, "/", $file, ".sql")),
        }),*]
    };
}

// File names are `NNNN_name.sql`, NNNN being the version (checked by a test).
pub(crate) const SQLITE: &[Migration] = migrations!("sqlite":
    1 => "0001_cpts", 2 => "0002_accounts", 3 => "0003_aci", 4 => "0004_directory", 5 => "0005_account_professional", 6 => "0006_directory_counts", 7 => "0007_import_jobs", 8 => "0008_structures", 9 => "0009_patients", 10 => "0010_registry_settings", 11 => "0011_national", 12 => "0012_national_revision", 13 => "0013_snp", 14 => "0014_snp_requests");
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres":
    1 => "0001_cpts", 2 => "0002_accounts", 3 => "0003_aci", 4 => "0004_directory", 5 => "0005_account_professional", 6 => "0006_directory_counts", 7 => "0007_import_jobs", 8 => "0008_structures", 9 => "0009_patients", 10 => "0010_registry_settings", 11 => "0011_national", 12 => "0012_national_revision", 13 => "0013_snp", 14 => "0014_snp_requests");

pub(crate) const CREATE_BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

#[cfg(test)]
mod tests {
    use super::*;

    /// A migration file that is not in the list would never run: the lists must match the folders.
    #[test]
    fn lists_match_folders() {
        for (engine, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/");
            let mut files: Vec<String> = std::fs::read_dir(format!("{dir}{engine}"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let listed: Vec<String> = list.iter().map(|m| format!("{}.sql", m.name)).collect();
            for m in list {
                assert!(m.name.starts_with(&format!("{:04}_", m.version)), "{engine} {}", m.name);
            }
            assert_eq!(files, listed, "{engine}");
        }
        let names = |l: &[Migration]| l.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES), "both engines have the same migrations");
    }
}
