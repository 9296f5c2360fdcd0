use chrono::{DateTime, Utc};
use maillage_core::ids::InseeCode;
use serde::Serialize;

pub use maillage_core::access::CptsId;

/// A fresh random CPTS id.
pub fn new_cpts_id() -> CptsId {
    CptsId::from_random_bytes(*uuid::Uuid::new_v4().as_bytes())
}

#[derive(Debug, Clone)]
pub struct NewCpts {
    pub name: String,
    pub communes: Vec<InseeCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cpts {
    pub id: CptsId,
    pub name: String,
    /// Sorted by code.
    pub communes: Vec<InseeCode>,
    /// Its FINESS (category 604), once the coordination records it: the SAS names the CPTS's
    /// Organization by it (`1` + FINESS).
    pub finess: Option<maillage_core::ids::Finess>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CptsSummary {
    pub id: CptsId,
    pub name: String,
    pub commune_count: i64,
}

/// A person's account. The role decides what it may see (see `maillage_core::access`).
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: maillage_core::access::Role,
    pub oidc: Option<(String, String)>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// An account as login needs it: with its password hash (never leaves the auth code).
#[derive(Debug, Clone)]
pub struct AccountCredentials {
    pub account: Account,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: maillage_core::access::Role,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token_hash: String,
    pub account_id: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What must survive between the redirect to an OpenID provider and its callback.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingOidcLogin {
    pub state: String,
    pub issuer: String,
    /// Hash of the cookie that binds the login to the browser that started it.
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: DateTime<Utc>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// `None` for platform-level events.
    pub cpts_id: Option<CptsId>,
    pub id: String,
    pub at: DateTime<Utc>,
    pub account_id: Option<String>,
    /// Who, as shown in the log (name and e-mail at the time), kept even if the account goes.
    pub account_label: String,
    pub role: String,
    /// e.g. "read", "create", "update", "delete", "export", "login", "login_failed".
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub request_id: String,
    pub detail: String,
}

/// Which page of the audit log to read, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u32,
    pub limit: u32,
}

/// A CPTS's ACI contract as stored, with the revision that guards concurrent edits.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredContract {
    pub contract: maillage_core::aci::Contract,
    /// Starts at 1, one more at each write.
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
}

/// Which expenses to list: `from` inclusive, `until` exclusive (a contract year's period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateRange {
    pub from: Option<chrono::NaiveDate>,
    pub until: Option<chrono::NaiveDate>,
}

/// One import of the national extract, filtered to a CPTS's territory.
#[derive(Debug, Clone)]
pub struct AnnuaireImport<'a> {
    pub id: String,
    /// `annuaire` (the national extract) or `members` (a member list).
    pub source: &'static str,
    pub file_name: String,
    pub lines_read: u64,
    /// The professionals of the territory found in the file, each with all its places.
    pub professionals: &'a [maillage_core::directory::model::Professional],
    /// Professionals per département and profession over the whole file (national extract
    /// only): replaces the stored counts when given.
    pub departement_counts: Option<&'a maillage_core::directory::collect::DepartementCounts>,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Listed before, absent now: marked as having left (never deleted).
    pub marked_left: u64,
    /// Marked as left before, listed again.
    pub returned: u64,
}

/// A past import, for the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRecord {
    pub id: String,
    pub source: String,
    pub file_name: String,
    pub imported_at: DateTime<Utc>,
    pub lines_read: u64,
    pub kept: u64,
    pub outcome: ImportOutcome,
}

/// A professional of the directory with everything the CPTS keeps about them.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryEntry {
    pub professional: maillage_core::directory::model::Professional,
    pub first_seen_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    pub corrections: Vec<maillage_core::directory::model::Correction>,
    pub membership: Option<maillage_core::directory::model::Membership>,
}

impl DirectoryEntry {
    /// An active member of the CPTS (what searches call `member`).
    pub fn is_member(&self) -> bool {
        self.membership.as_ref().is_some_and(|m| m.status == maillage_core::directory::model::MembershipStatus::Active)
    }
}

/// A directory search: every criterion optional; text matches names, profession and communes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    pub text: Option<String>,
    pub profession: Option<String>,
    pub commune: Option<String>,
    /// `Some(true)`: active members only; `Some(false)`: non-members only.
    pub member: Option<bool>,
    /// `Some(true)`: those the CPTS recorded as taking part in same-day care (a local
    /// correction, the extract does not say); `Some(false)`: the others.
    pub snp: Option<bool>,
    pub include_left: bool,
    pub offset: u32,
    pub limit: u32,
}

/// One line of a directory search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryRow {
    pub national_id: String,
    pub civility: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub profession_code: String,
    pub profession_label: Option<String>,
    /// Communes of the places, by code.
    pub communes: Vec<String>,
    pub member: bool,
    /// Recorded as taking part in same-day care (soins non programmés).
    pub snp: bool,
    pub left: bool,
}
