//! Storage for Maillage: the ports (capability traits) and one adapter per engine.
//!
//! The same SQL (with `$1` placeholders) runs on SQLite and PostgreSQL wherever the engines
//! agree; each engine has its own migration folder. The engine is chosen by URL scheme
//! (`sqlite:` or `postgres://`), and one conformance story (`tests/conformance.rs`) runs
//! against both.

// Library code returns errors; tests may unwrap (clippy.toml allows it in tests).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adapters;
pub mod backup;
mod migrate;
mod model;
mod national;
mod patients;
mod snp;
mod structures;

pub use adapters::{Store, connect};
pub use model::{
    Account, AccountCredentials, AnnuaireImport, ApiToken, AuditEvent, Cpts, CptsId, CptsSummary, DateRange,
    DirectoryEntry, DirectoryQuery, DirectoryRow, ImportOutcome, ImportRecord, NewAccount, NewCpts, Page,
    PendingOidcLogin, Session, StoredContract,
};

pub use national::{NationalStore, StoredTaskForce};
pub use patients::{CapacityRecord, PatientStore, RequestChange, RequestQuery, RequestRecord, RequestRow};
pub use snp::{Booking, NewBooking, NewRequest, RequestRef, SnpRequest, SnpStore, StoredAvailability};
pub use structures::{
    LinkedProfessional, MemberRef, RelatedStructure, RollEntry, StructureEntry, StructureRow, StructureStore,
};

use chrono::{DateTime, Utc};
use maillage_core::access::Role;
use serde::Serialize;
use std::future::Future;

/// What can go wrong in storage, as callers need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write (e.g. two CPTS with the same name).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The object changed since the caller read it (optimistic concurrency): read it again.
    #[error("stale revision: expected {expected}, found {found}")]
    Stale { expected: i64, found: i64 },
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: i64, name: &'static str, source: sqlx::Error },
    /// A stored value that the domain refuses (should never happen: writes go through the domain).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What [`DirectoryStore::apply_memberships`] did. When `unknown` is not empty the import was
/// refused and nothing was written (the counts are then zero).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MembershipOutcome {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// National ids of the list that the directory of the CPTS does not have, in list order.
    pub unknown: Vec<String>,
}

impl MembershipOutcome {
    /// Whether the memberships were written (no unknown professional).
    pub fn applied(&self) -> bool {
        self.unknown.is_empty()
    }
}

/// The registry of CPTS (tenants) and their territories.
pub trait CptsStore {
    /// Creates a CPTS with its territory, in one transaction.
    fn create_cpts(
        &self,
        new: &NewCpts,
        now: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = StoreResult<Cpts>> + Send;
    fn get_cpts(&self, id: &CptsId) -> impl Future<Output = StoreResult<Cpts>> + Send;
    /// All CPTS, by name.
    fn list_cpts(&self) -> impl Future<Output = StoreResult<Vec<CptsSummary>>> + Send;
    /// All CPTS with their communes, by name, in two queries.
    fn list_cpts_full(&self) -> impl Future<Output = StoreResult<Vec<Cpts>>> + Send;
    /// Replaces the territory's communes atomically: on error the old territory stays whole.
    fn replace_territory(
        &self,
        id: &CptsId,
        communes: &[maillage_core::ids::InseeCode],
        now: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = StoreResult<Cpts>> + Send;
    /// Records (or clears) the CPTS's FINESS, with its audit event.
    fn set_finess(
        &self,
        id: &CptsId,
        finess: Option<&maillage_core::ids::Finess>,
        now: chrono::DateTime<chrono::Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<Cpts>> + Send;
    /// CPTS whose territory includes the commune (overlaps are possible while projects form).
    fn cpts_of_commune(
        &self,
        code: &maillage_core::ids::InseeCode,
    ) -> impl Future<Output = StoreResult<Vec<CptsId>>> + Send;
}

/// Accounts and what authenticates them: passwords, sessions, API tokens, OpenID Connect.
pub trait AccountStore {
    fn create_account(&self, new: &NewAccount, now: DateTime<Utc>)
    -> impl Future<Output = StoreResult<Account>> + Send;
    fn get_account(&self, id: &str) -> impl Future<Output = StoreResult<Account>> + Send;
    /// Case-insensitive e-mail lookup, with the password hash, for login.
    fn account_credentials(&self, email: &str) -> impl Future<Output = StoreResult<Option<AccountCredentials>>> + Send;
    fn account_by_oidc(&self, issuer: &str, subject: &str)
    -> impl Future<Output = StoreResult<Option<Account>>> + Send;
    /// Links an OpenID identity to an account (first login through the provider).
    fn link_oidc(&self, account_id: &str, issuer: &str, subject: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// All accounts, or those of one CPTS; by e-mail.
    fn list_accounts(&self, cpts: Option<&CptsId>) -> impl Future<Output = StoreResult<Vec<Account>>> + Send;
    fn set_role(&self, account_id: &str, role: &Role) -> impl Future<Output = StoreResult<()>> + Send;
    fn set_password_hash(&self, account_id: &str, hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Disables (or re-enables with `None`) an account; disabling ends its sessions.
    fn set_disabled(&self, account_id: &str, at: Option<DateTime<Utc>>)
    -> impl Future<Output = StoreResult<()>> + Send;

    fn create_session(&self, session: &Session, now: DateTime<Utc>) -> impl Future<Output = StoreResult<()>> + Send;
    /// The live session with this token hash and its (enabled) account; refreshes last-seen.
    fn live_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Option<(Session, Account)>>> + Send;
    fn delete_session(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Removes expired sessions and pending logins; returns how many sessions went.
    fn purge_expired(
        &self,
        now: DateTime<Utc>,
        pending_before: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Counts a failed login for `key` within a window starting at the first failure; returns
    /// the failures in the current window.
    fn record_login_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> impl Future<Output = StoreResult<u32>> + Send;
    fn login_failures(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> impl Future<Output = StoreResult<u32>> + Send;
    fn clear_login_failures(&self, key: &str) -> impl Future<Output = StoreResult<()>> + Send;

    fn create_api_token(&self, token: &ApiToken, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// The account behind a live (not revoked) API token; records its use.
    fn account_by_api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Option<Account>>> + Send;
    fn list_api_tokens(&self, account_id: &str) -> impl Future<Output = StoreResult<Vec<ApiToken>>> + Send;
    fn revoke_api_token(
        &self,
        account_id: &str,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    fn put_pending_oidc(&self, pending: &PendingOidcLogin) -> impl Future<Output = StoreResult<()>> + Send;
    /// Takes (reads and deletes) a pending login: a state is usable once.
    fn take_pending_oidc(&self, state: &str) -> impl Future<Output = StoreResult<Option<PendingOidcLogin>>> + Send;
}

/// The append-only audit log.
pub trait AuditStore {
    fn append_audit(&self, event: &AuditEvent) -> impl Future<Output = StoreResult<()>> + Send;
    /// Newest first; one CPTS's log, or the platform's whole log with `None`.
    fn audit_page(
        &self,
        cpts: Option<&CptsId>,
        page: Page,
    ) -> impl Future<Output = StoreResult<Vec<AuditEvent>>> + Send;
    fn audit_count(&self, cpts: Option<&CptsId>) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// The ACI contract of each CPTS and the spending recorded against it. Every write takes the
/// audit event that records it and commits both in one transaction.
pub trait AciStore {
    fn get_contract(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Option<StoredContract>>> + Send;
    /// Writes the whole contract. `expected_revision`: `None` to create it (`Conflict` if the
    /// CPTS has one), `Some(r)` to replace revision `r` (`Stale` if someone wrote since).
    /// Returns the new revision.
    fn put_contract(
        &self,
        cpts: &CptsId,
        contract: &maillage_core::aci::Contract,
        expected_revision: Option<i64>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Records an expense; returns it with its new id.
    fn add_expense(
        &self,
        cpts: &CptsId,
        expense: &maillage_core::aci::spending::Expense,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<maillage_core::aci::spending::Expense>> + Send;
    /// Replaces the expense with the same id (`NotFound` if there is none in this CPTS).
    fn update_expense(
        &self,
        cpts: &CptsId,
        expense: &maillage_core::aci::spending::Expense,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_expense(
        &self,
        cpts: &CptsId,
        id: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_expense(
        &self,
        cpts: &CptsId,
        id: &str,
    ) -> impl Future<Output = StoreResult<maillage_core::aci::spending::Expense>> + Send;
    /// By date, then id.
    fn list_expenses(
        &self,
        cpts: &CptsId,
        range: DateRange,
    ) -> impl Future<Output = StoreResult<Vec<maillage_core::aci::spending::Expense>>> + Send;
}

/// The territory's directory: professionals imported from the Annuaire Santé, local
/// corrections kept apart, membership. Every write commits its audit event with it.
pub trait DirectoryStore {
    /// Applies an import atomically: inserts the new professionals, replaces the imported
    /// values of those that changed (corrections untouched), writes nothing for the unchanged,
    /// marks as left those of the national extract no longer listed. Re-applying the same
    /// import changes nothing.
    fn apply_import(
        &self,
        cpts: &CptsId,
        import: &AnnuaireImport<'_>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<ImportOutcome>> + Send;
    fn list_imports(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<ImportRecord>>> + Send;
    /// Professionals per département and profession, from the last national import.
    fn departement_counts(
        &self,
        cpts: &CptsId,
    ) -> impl Future<Output = StoreResult<maillage_core::directory::collect::DepartementCounts>> + Send;
    /// What the statistics need of every professional still listed: profession, specialties,
    /// communes of the places, active membership.
    fn stat_inputs(
        &self,
        cpts: &CptsId,
    ) -> impl Future<Output = StoreResult<Vec<maillage_core::directory::stats::StatInput>>> + Send;
    fn directory_entry(
        &self,
        cpts: &CptsId,
        national_id: &str,
    ) -> impl Future<Output = StoreResult<DirectoryEntry>> + Send;
    /// Every professional of the directory (those marked as left too when `include_left`), by
    /// family then given name, each exactly as [`DirectoryStore::directory_entry`] gives it, in
    /// a constant number of queries (for exports).
    fn directory_export(
        &self,
        cpts: &CptsId,
        include_left: bool,
    ) -> impl Future<Output = StoreResult<Vec<DirectoryEntry>>> + Send;
    /// A page of the search, by family then given name, and the total count.
    fn search_directory(
        &self,
        cpts: &CptsId,
        query: &DirectoryQuery,
    ) -> impl Future<Output = StoreResult<(Vec<DirectoryRow>, u64)>> + Send;
    /// Sets (or replaces) one local correction.
    fn put_correction(
        &self,
        cpts: &CptsId,
        national_id: &str,
        correction: &maillage_core::directory::model::Correction,
        by: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Removes a local correction: the imported value shows again.
    fn delete_correction(
        &self,
        cpts: &CptsId,
        national_id: &str,
        field: maillage_core::directory::model::CorrectableField,
        place: Option<&str>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn put_membership(
        &self,
        cpts: &CptsId,
        national_id: &str,
        membership: &maillage_core::directory::model::Membership,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Applies a member list (national id in its national form, membership) in one
    /// transaction: creates the missing memberships, replaces those that differ, leaves the
    /// equal ones alone, and records `audit` once. Every professional must be in the directory
    /// of `cpts` (those marked as left included): otherwise nothing is written and the outcome
    /// lists them in `unknown` (an `Ok`, so that callers can point at the lines of the file).
    /// `Conflict` if a national id is listed twice. Memberships absent from the list stay.
    fn apply_memberships(
        &self,
        cpts: &CptsId,
        memberships: &[(String, maillage_core::directory::model::Membership)],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<MembershipOutcome>> + Send;
    /// The profession codes of the professionals still listed (not marked as left), each with
    /// its count, by code: what a search can filter on.
    fn directory_professions(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<(String, u64)>>> + Send;
    /// Links an account of the CPTS to a professional of its directory (the account's previous
    /// link, if any, is replaced). `NotFound` unless the account belongs to this CPTS and the
    /// directory has the professional; `Conflict` if another account is linked to them.
    fn link_account_professional(
        &self,
        cpts: &CptsId,
        account_id: &str,
        national_id: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Removes an account's link (`NotFound` if it has none).
    fn unlink_account_professional(
        &self,
        cpts: &CptsId,
        account_id: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The national id of the professional an account is linked to, in this CPTS.
    fn professional_of_account(
        &self,
        cpts: &CptsId,
        account_id: &str,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// The account linked to a professional, in this CPTS.
    fn account_of_professional(
        &self,
        cpts: &CptsId,
        national_id: &str,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
}

/// Where an import started from the browser stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportJobState {
    Running,
    /// Applied: `report` holds the outcome.
    Done,
    /// Broken lines in the territory: nothing written, `report` holds the rejects.
    Refused,
    /// Could not run to its end (unreadable file, database error): nothing written.
    Failed,
}

impl ImportJobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Running, Self::Done, Self::Refused, Self::Failed].into_iter().find(|v| v.as_str() == s)
    }
}

/// How far an import job has read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportProgress {
    pub bytes_read: u64,
    pub lines_read: u64,
    pub kept: u64,
    pub rejected: u64,
}

/// An import of the national extract started from the browser, and its progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportJob {
    pub cpts_id: CptsId,
    pub id: String,
    pub file_name: String,
    pub state: ImportJobState,
    pub bytes_total: u64,
    pub progress: ImportProgress,
    /// A sentence for people (French); empty while running.
    pub message: String,
    /// JSON: the rejects when refused, the outcome when done; empty otherwise.
    pub report: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How the audit log names who started it.
    pub started_by: String,
}

/// Import jobs started from the browser. Progress lives in the database so that any server of
/// the instance can show it.
pub trait ImportJobStore {
    /// Records a new running job with the audit event of its start, in one transaction
    /// (`Conflict` if the id is taken).
    fn create_job(&self, job: &ImportJob, audit: &AuditEvent) -> impl Future<Output = StoreResult<()>> + Send;
    /// Records the progress of a running job (`NotFound` unless it exists and is running).
    fn update_progress(
        &self,
        cpts: &CptsId,
        id: &str,
        progress: &ImportProgress,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Ends a running job (`NotFound` unless it exists and is running).
    #[allow(clippy::too_many_arguments)]
    fn finish_job(
        &self,
        cpts: &CptsId,
        id: &str,
        state: ImportJobState,
        progress: &ImportProgress,
        message: &str,
        report: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_job(&self, cpts: &CptsId, id: &str) -> impl Future<Output = StoreResult<ImportJob>> + Send;
}
