//! All web integration tests in one binary (each test file would otherwise be a slow link).
//! Every test gets a fresh database: a temporary SQLite file, or a fresh PostgreSQL database
//! when `MAILLAGE_TEST_POSTGRES_URL` is set (scripts/test sets it).

mod access;
mod aci_api;
mod aci_contract;
mod aci_simulator;
mod api;
mod browser;
mod directory;
mod directory_export;
mod helpers;
mod import_upload;
mod login;
mod matching;
mod national;
mod oidc;
mod openapi;
mod pages;
mod patients;
mod snp;
mod snp_agenda;
mod snp_console;
mod snp_desk;
mod snp_fhir;
mod structures;
