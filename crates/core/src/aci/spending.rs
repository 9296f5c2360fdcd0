//! Spending per envelope: the expenses and allowances a CPTS records against its ACI funding,
//! what is left in each envelope, and the yearly cap on what one member professional receives.
//!
//! - [`Expense`]: one expense or allowance charged to one envelope, with its
//!   [`ExpenseCategory`] and [`PayeeKind`]; [`Expense::validate`] reports every problem at once.
//! - [`PassTable`]: the *plafond annuel de la sécurité sociale* (PASS) per calendar year, as data
//!   (`data/aci/pass.toml`, embedded); [`allowances_by_professional`] and [`pass_alerts`] apply
//!   the cap of décret n° 2022-375 (art. D. 1434-44 CSP): what a CPTS pays one member
//!   professional in a calendar year may not exceed the PASS of that year.
//! - [`envelope_balances`]: budget vs actual — the entitlement the contract computes for a
//!   contract year, envelope by envelope, against the spending recorded in that year
//!   ([`expenses_in_contract_year`]), with the spending by category.
//!
//! Money is [`Cents`], shares are [`Rate`]: no floating point. Nothing here reads the clock.

use super::MissionId;
use super::compute::{Period, YearFunding};
use super::contract::Contract;
use super::money::{Cents, Rate};
use crate::ids::{IdError, Rpps};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::sync::OnceLock;
use toml::Spanned;
use toml::value::Datetime;

/// One expense or allowance, charged to one envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Expense {
    /// Opaque, given by storage; empty before the expense is recorded.
    #[serde(default)]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub spent_on: NaiveDate,
    /// The envelope identifier: `fonctionnement`, `acces`, `parcours`, `prevention`, `crise`,
    /// `qualite`, `accompagnement`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "acces"))]
    pub envelope: MissionId,
    pub category: ExpenseCategory,
    pub payee_kind: PayeeKind,
    /// Who was paid, as written on the receipt.
    pub payee: String,
    /// The RPPS number of a professional payee, when known: the key of the yearly cap check.
    #[serde(default)]
    pub payee_rpps: Option<String>,
    /// Positive, in cents.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub amount: Cents,
    /// Receipt reference: invoice number, document name…
    #[serde(default)]
    pub receipt: String,
    #[serde(default)]
    pub note: String,
}

/// What the money was spent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExpenseCategory {
    /// Salaries and charges of the coordination team.
    Coordination,
    /// Allowances paid to health professionals for their time (indemnisation).
    Indemnisation,
    /// Services bought from providers (consultants, accountants, trainers…).
    Prestation,
    /// Premises, supplies, insurance, bank fees.
    Fonctionnement,
    /// Software and information systems.
    SystemeInformation,
    Communication,
    Formation,
    /// Travel costs.
    Deplacement,
    /// Meetings and events.
    Evenement,
    Autre,
}

/// Who was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PayeeKind {
    /// A member professional: allowances to one member are capped per calendar year (PASS).
    ProfessionnelMembre,
    ProfessionnelNonMembre,
    Salarie,
    Prestataire,
    Structure,
    Autre,
}

// ---------------------------------------------------------------------------------------------
// Names

impl ExpenseCategory {
    pub const ALL: [ExpenseCategory; 10] = [
        ExpenseCategory::Coordination,
        ExpenseCategory::Indemnisation,
        ExpenseCategory::Prestation,
        ExpenseCategory::Fonctionnement,
        ExpenseCategory::SystemeInformation,
        ExpenseCategory::Communication,
        ExpenseCategory::Formation,
        ExpenseCategory::Deplacement,
        ExpenseCategory::Evenement,
        ExpenseCategory::Autre,
    ];

    /// The identifier, as serialized: `coordination`, `indemnisation`, `prestation`,
    /// `fonctionnement`, `systeme_information`, `communication`, `formation`, `deplacement`,
    /// `evenement`, `autre`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coordination => "coordination",
            Self::Indemnisation => "indemnisation",
            Self::Prestation => "prestation",
            Self::Fonctionnement => "fonctionnement",
            Self::SystemeInformation => "systeme_information",
            Self::Communication => "communication",
            Self::Formation => "formation",
            Self::Deplacement => "deplacement",
            Self::Evenement => "evenement",
            Self::Autre => "autre",
        }
    }

    /// French label, as shown to users.
    pub fn fr(self) -> &'static str {
        match self {
            Self::Coordination => "Coordination (salaires et charges)",
            Self::Indemnisation => "Indemnisation des professionnels",
            Self::Prestation => "Prestations",
            Self::Fonctionnement => "Fonctionnement (locaux, fournitures, assurances)",
            Self::SystemeInformation => "Système d'information",
            Self::Communication => "Communication",
            Self::Formation => "Formation",
            Self::Deplacement => "Déplacements",
            Self::Evenement => "Réunions et événements",
            Self::Autre => "Autre",
        }
    }

    /// English label.
    pub fn en(self) -> &'static str {
        match self {
            Self::Coordination => "Coordination (salaries and charges)",
            Self::Indemnisation => "Allowances to professionals",
            Self::Prestation => "Services",
            Self::Fonctionnement => "Operations (premises, supplies, insurance)",
            Self::SystemeInformation => "Information systems",
            Self::Communication => "Communication",
            Self::Formation => "Training",
            Self::Deplacement => "Travel",
            Self::Evenement => "Meetings and events",
            Self::Autre => "Other",
        }
    }
}

impl PayeeKind {
    pub const ALL: [PayeeKind; 6] = [
        PayeeKind::ProfessionnelMembre,
        PayeeKind::ProfessionnelNonMembre,
        PayeeKind::Salarie,
        PayeeKind::Prestataire,
        PayeeKind::Structure,
        PayeeKind::Autre,
    ];

    /// The identifier, as serialized: `professionnel_membre`, `professionnel_non_membre`,
    /// `salarie`, `prestataire`, `structure`, `autre`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProfessionnelMembre => "professionnel_membre",
            Self::ProfessionnelNonMembre => "professionnel_non_membre",
            Self::Salarie => "salarie",
            Self::Prestataire => "prestataire",
            Self::Structure => "structure",
            Self::Autre => "autre",
        }
    }

    /// French label, as shown to users.
    pub fn fr(self) -> &'static str {
        match self {
            Self::ProfessionnelMembre => "Professionnel membre",
            Self::ProfessionnelNonMembre => "Professionnel non membre",
            Self::Salarie => "Salarié",
            Self::Prestataire => "Prestataire",
            Self::Structure => "Structure",
            Self::Autre => "Autre",
        }
    }

    /// English label.
    pub fn en(self) -> &'static str {
        match self {
            Self::ProfessionnelMembre => "Member professional",
            Self::ProfessionnelNonMembre => "Non-member professional",
            Self::Salarie => "Employee",
            Self::Prestataire => "Service provider",
            Self::Structure => "Organisation",
            Self::Autre => "Other",
        }
    }

    /// A health professional, member of the CPTS or not: the payees an allowance
    /// ([`ExpenseCategory::Indemnisation`]) can go to.
    pub fn is_professional(self) -> bool {
        matches!(self, Self::ProfessionnelMembre | Self::ProfessionnelNonMembre)
    }
}

impl fmt::Display for ExpenseCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PayeeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the expense categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownExpenseCategory(pub String);

/// A name that is not one of the payee kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPayeeKind(pub String);

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|x| name(*x)).collect::<Vec<_>>().join(", ")
}

impl UnknownExpenseCategory {
    /// The message in French.
    pub fn fr(&self) -> String {
        format!(
            "catégorie de dépense inconnue « {} » (valeurs possibles : {})",
            self.0,
            names(&ExpenseCategory::ALL, ExpenseCategory::as_str)
        )
    }
}

impl UnknownPayeeKind {
    /// The message in French.
    pub fn fr(&self) -> String {
        format!(
            "type de bénéficiaire inconnu « {} » (valeurs possibles : {})",
            self.0,
            names(&PayeeKind::ALL, PayeeKind::as_str)
        )
    }
}

impl fmt::Display for UnknownExpenseCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown expense category `{}` (expected one of: {})",
            self.0,
            names(&ExpenseCategory::ALL, ExpenseCategory::as_str)
        )
    }
}

impl fmt::Display for UnknownPayeeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown payee kind `{}` (expected one of: {})", self.0, names(&PayeeKind::ALL, PayeeKind::as_str))
    }
}

impl std::error::Error for UnknownExpenseCategory {}
impl std::error::Error for UnknownPayeeKind {}

impl FromStr for ExpenseCategory {
    type Err = UnknownExpenseCategory;
    /// The identifier of [`ExpenseCategory::as_str`], surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL.into_iter().find(|c| c.as_str() == t).ok_or_else(|| UnknownExpenseCategory(s.to_owned()))
    }
}

impl FromStr for PayeeKind {
    type Err = UnknownPayeeKind;
    /// The identifier of [`PayeeKind::as_str`], surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL.into_iter().find(|k| k.as_str() == t).ok_or_else(|| UnknownPayeeKind(s.to_owned()))
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

/// The largest amount of one expense: 10,000,000 € (a sanity bound against misplaced digits).
pub const MAX_AMOUNT: Cents = Cents::from_euros(10_000_000);
/// The longest payee, in characters (after trimming).
pub const MAX_PAYEE_CHARS: usize = 200;
/// The longest receipt reference, in characters.
pub const MAX_RECEIPT_CHARS: usize = 200;
/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// One problem with an [`Expense`]. [`Expense::validate`] returns all of them at once.
///
/// Each has a stable [`code`](Self::code), the [`field`](Self::field) it concerns (the field
/// name of [`Expense`]) and a message in English ([`en`](Self::en)) and French
/// ([`fr`](Self::fr)). Serialized as `{ "code", "field", "en", "fr" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpenseError {
    /// `amount` is zero or negative.
    AmountNotPositive { amount: Cents },
    /// `amount` is above [`MAX_AMOUNT`].
    AmountTooLarge { amount: Cents },
    /// `payee` is empty once trimmed.
    PayeeEmpty,
    /// `payee`, trimmed, is longer than [`MAX_PAYEE_CHARS`].
    PayeeTooLong { chars: usize },
    /// `receipt` is longer than [`MAX_RECEIPT_CHARS`].
    ReceiptTooLong { chars: usize },
    /// `note` is longer than [`MAX_NOTE_CHARS`].
    NoteTooLong { chars: usize },
    /// `payee_rpps` is given but is not an RPPS number.
    InvalidRpps(IdError),
    /// An allowance ([`ExpenseCategory::Indemnisation`]) paid to someone who is not a health
    /// professional.
    IndemnisationNotToProfessional { payee_kind: PayeeKind },
    /// A control character in a text field (`payee`, `receipt`, `note`; the note may hold line
    /// breaks and tabs). `position` is 1-based, in characters.
    ControlCharacter { field: &'static str, position: usize },
}

impl ExpenseError {
    /// Stable identifier of the rule: `amount_not_positive`, `amount_too_large`, `payee_empty`,
    /// `payee_too_long`, `receipt_too_long`, `note_too_long`, `payee_rpps_invalid`,
    /// `indemnisation_not_to_professional`, `control_character`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AmountNotPositive { .. } => "amount_not_positive",
            Self::AmountTooLarge { .. } => "amount_too_large",
            Self::PayeeEmpty => "payee_empty",
            Self::PayeeTooLong { .. } => "payee_too_long",
            Self::ReceiptTooLong { .. } => "receipt_too_long",
            Self::NoteTooLong { .. } => "note_too_long",
            Self::InvalidRpps(_) => "payee_rpps_invalid",
            Self::IndemnisationNotToProfessional { .. } => "indemnisation_not_to_professional",
            Self::ControlCharacter { .. } => "control_character",
        }
    }

    /// The field of [`Expense`] at fault: `amount`, `payee`, `payee_rpps`, `payee_kind`,
    /// `receipt` or `note`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::AmountNotPositive { .. } | Self::AmountTooLarge { .. } => "amount",
            Self::PayeeEmpty | Self::PayeeTooLong { .. } => "payee",
            Self::ReceiptTooLong { .. } => "receipt",
            Self::NoteTooLong { .. } => "note",
            Self::InvalidRpps(_) => "payee_rpps",
            Self::IndemnisationNotToProfessional { .. } => "payee_kind",
            Self::ControlCharacter { field, .. } => field,
        }
    }

    /// The message in English.
    pub fn en(&self) -> String {
        match self {
            Self::AmountNotPositive { amount } => {
                format!("the amount must be greater than zero (got {})", amount.en())
            }
            Self::AmountTooLarge { amount } => {
                format!("the amount must not exceed {} (got {})", MAX_AMOUNT.en(), amount.en())
            }
            Self::PayeeEmpty => "the payee is required".to_owned(),
            Self::PayeeTooLong { chars } => {
                format!("the payee is at most {MAX_PAYEE_CHARS} characters long (got {chars})")
            }
            Self::ReceiptTooLong { chars } => {
                format!("the receipt reference is at most {MAX_RECEIPT_CHARS} characters long (got {chars})")
            }
            Self::NoteTooLong { chars } => {
                format!("the note is at most {MAX_NOTE_CHARS} characters long (got {chars})")
            }
            Self::InvalidRpps(e) => format!("the payee's RPPS number is invalid: {}", e.en),
            Self::IndemnisationNotToProfessional { payee_kind } => format!(
                "an allowance (indemnisation) is paid to a health professional: the payee kind must be `{}` or `{}`, \
                 not `{}`",
                PayeeKind::ProfessionnelMembre.as_str(),
                PayeeKind::ProfessionnelNonMembre.as_str(),
                payee_kind.as_str()
            ),
            Self::ControlCharacter { field, position } => {
                format!("the {} contains a control character (position {position})", field_en(field))
            }
        }
    }

    /// The message in French, as shown to users.
    pub fn fr(&self) -> String {
        match self {
            Self::AmountNotPositive { amount } => {
                format!("le montant doit être supérieur à zéro (saisi : {})", amount.fr())
            }
            Self::AmountTooLarge { amount } => {
                format!("le montant ne peut dépasser {} (saisi : {})", MAX_AMOUNT.fr(), amount.fr())
            }
            Self::PayeeEmpty => "le bénéficiaire est obligatoire".to_owned(),
            Self::PayeeTooLong { chars } => {
                format!("le bénéficiaire ne peut dépasser {MAX_PAYEE_CHARS} caractères ({chars} saisis)")
            }
            Self::ReceiptTooLong { chars } => {
                format!("la référence du justificatif ne peut dépasser {MAX_RECEIPT_CHARS} caractères ({chars} saisis)")
            }
            Self::NoteTooLong { chars } => {
                format!("la note ne peut dépasser {MAX_NOTE_CHARS} caractères ({chars} saisis)")
            }
            Self::InvalidRpps(e) => format!("le numéro RPPS du bénéficiaire est invalide : {}", e.fr),
            Self::IndemnisationNotToProfessional { payee_kind } => format!(
                "une indemnisation est versée à un professionnel de santé : le type de bénéficiaire doit être « {} » \
                 ou « {} », pas « {} »",
                PayeeKind::ProfessionnelMembre.fr(),
                PayeeKind::ProfessionnelNonMembre.fr(),
                payee_kind.fr()
            ),
            Self::ControlCharacter { field, position } => {
                format!("le champ « {} » contient un caractère de contrôle (position {position})", field_fr(field))
            }
        }
    }
}

fn field_en(field: &str) -> &str {
    match field {
        "receipt" => "receipt reference",
        other => other,
    }
}

fn field_fr(field: &str) -> &str {
    match field {
        "payee" => "bénéficiaire",
        "receipt" => "justificatif",
        "note" => "note",
        other => other,
    }
}

impl fmt::Display for ExpenseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field(), self.en())
    }
}

impl std::error::Error for ExpenseError {}

impl Serialize for ExpenseError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            code: &'a str,
            field: &'a str,
            en: String,
            fr: String,
        }
        View { code: self.code(), field: self.field(), en: self.en(), fr: self.fr() }.serialize(serializer)
    }
}

/// 1-based position of the first control character of `text`, line breaks and tabs allowed
/// when `multiline`.
fn control_character(text: &str, multiline: bool) -> Option<usize> {
    text.chars().position(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))).map(|i| i + 1)
}

impl Expense {
    /// Checks the expense and reports every problem, in field order: the amount is in
    /// `0.01 ..= 10,000,000.00` €; the payee is given (trimmed) and at most 200 characters; the
    /// RPPS, when given, is an RPPS number ([`Rpps::parse`]); an allowance
    /// ([`ExpenseCategory::Indemnisation`]) goes to a professional, member or not; the receipt
    /// reference is at most 200 characters and the note at most 2,000; no control characters
    /// (the note may hold line breaks and tabs).
    pub fn validate(&self) -> Result<(), Vec<ExpenseError>> {
        let mut errors = Vec::new();
        if self.amount <= Cents::ZERO {
            errors.push(ExpenseError::AmountNotPositive { amount: self.amount });
        } else if self.amount > MAX_AMOUNT {
            errors.push(ExpenseError::AmountTooLarge { amount: self.amount });
        }

        let payee = self.payee.trim();
        if payee.is_empty() {
            errors.push(ExpenseError::PayeeEmpty);
        } else {
            let chars = payee.chars().count();
            if chars > MAX_PAYEE_CHARS {
                errors.push(ExpenseError::PayeeTooLong { chars });
            }
        }
        if let Some(position) = control_character(&self.payee, false) {
            errors.push(ExpenseError::ControlCharacter { field: "payee", position });
        }

        if let Some(rpps) = &self.payee_rpps
            && let Err(e) = Rpps::parse(rpps)
        {
            errors.push(ExpenseError::InvalidRpps(e));
        }

        if self.category == ExpenseCategory::Indemnisation && !self.payee_kind.is_professional() {
            errors.push(ExpenseError::IndemnisationNotToProfessional { payee_kind: self.payee_kind });
        }

        let chars = self.receipt.chars().count();
        if chars > MAX_RECEIPT_CHARS {
            errors.push(ExpenseError::ReceiptTooLong { chars });
        }
        if let Some(position) = control_character(&self.receipt, false) {
            errors.push(ExpenseError::ControlCharacter { field: "receipt", position });
        }

        let chars = self.note.chars().count();
        if chars > MAX_NOTE_CHARS {
            errors.push(ExpenseError::NoteTooLong { chars });
        }
        if let Some(position) = control_character(&self.note, true) {
            errors.push(ExpenseError::ControlCharacter { field: "note", position });
        }

        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Whether the expense counts towards the yearly cap of a member professional: an allowance
    /// ([`ExpenseCategory::Indemnisation`]) to a [`PayeeKind::ProfessionnelMembre`].
    pub fn counts_towards_pass(&self) -> bool {
        self.category == ExpenseCategory::Indemnisation && self.payee_kind == PayeeKind::ProfessionnelMembre
    }
}

// ---------------------------------------------------------------------------------------------
// The PASS table

/// The PASS table shipped in the binary: (path in the repository, contents).
pub const PASS_FILE: (&str, &str) = ("data/aci/pass.toml", include_str!("../../../../data/aci/pass.toml"));

/// The one format version of the PASS file this code reads.
pub const PASS_FORMAT: i64 = 1;

/// Upper bound of a yearly PASS in the file, in euros (sanity check against misplaced digits).
const MAX_PASS_EUROS: i64 = 1_000_000;

/// The *plafond annuel de la sécurité sociale* of one calendar year, with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassYear {
    pub year: i32,
    /// The annual value: twelve times the monthly one (art. D. 242-19 CSS).
    pub annual: Cents,
    /// The monthly value, the one the arrêté fixes.
    pub monthly: Cents,
    /// The text that fixes it: « Arrêté du … portant fixation du plafond de la sécurité sociale
    /// pour … ».
    pub source: String,
    /// Date of the text.
    pub signed_on: NaiveDate,
    /// Date of its publication in the Journal officiel.
    pub published_on: NaiveDate,
    /// Where the figure was read (URL or reference).
    pub checked_in: String,
    pub note: Option<String>,
    /// Set when the source does not state the figure exactly: the reason.
    pub unverified: Option<String>,
}

/// The PASS per calendar year, loaded from `data/aci/pass.toml` (format in
/// `data/aci/README.md`) and validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassTable {
    /// The file it was loaded from.
    pub file: String,
    /// The cap in words, as shown to users.
    pub rule: String,
    /// The text that sets the cap (décret n° 2022-375).
    pub rule_source: String,
    pub years: BTreeMap<i32, PassYear>,
}

impl PassTable {
    /// The embedded table (`data/aci/pass.toml`), validated once.
    pub fn embedded() -> Result<&'static PassTable, PassTableError> {
        static CELL: OnceLock<Result<PassTable, PassTableError>> = OnceLock::new();
        CELL.get_or_init(|| PassTable::from_toml(PASS_FILE.0, PASS_FILE.1)).as_ref().map_err(Clone::clone)
    }

    /// Loads and validates a PASS table. `file` names the file in error messages, which give
    /// the faulty entry as `file:line:column: key: reason`.
    pub fn from_toml(file: &str, text: &str) -> Result<PassTable, PassTableError> {
        let raw: RawPassTable = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unzip();
            PassTableError { file: file.to_owned(), line, column, key: None, reason: e.message().trim().to_owned() }
        })?;
        PassLoader { file, text }.build(raw)
    }

    /// The PASS of calendar year `year`: the most one member professional may receive from the
    /// CPTS that year. `None` when the table does not know the year.
    pub fn cap_for(&self, year: i32) -> Option<Cents> {
        self.years.get(&year).map(|y| y.annual)
    }

    /// The entry of `year`, with its source.
    pub fn year(&self, year: i32) -> Option<&PassYear> {
        self.years.get(&year)
    }

    /// Every UNVERIFIED entry: (year, reason).
    pub fn unverified(&self) -> Vec<(i32, String)> {
        self.years.values().filter_map(|y| y.unverified.clone().map(|r| (y.year, r))).collect()
    }
}

/// A faulty PASS file: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassTableError {
    pub file: String,
    /// 1-based line and column (in characters) of the faulty entry, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Key path of the faulty entry, e.g. `years[3].annual`.
    pub key: Option<String>,
    pub reason: String,
}

impl fmt::Display for PassTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for PassTableError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPassTable {
    format: Spanned<i64>,
    rule: Spanned<String>,
    rule_source: Spanned<String>,
    years: Spanned<Vec<Spanned<RawPassYear>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPassYear {
    year: Spanned<i64>,
    annual: Spanned<i64>,
    monthly: Spanned<i64>,
    source: Spanned<String>,
    signed_on: Spanned<Datetime>,
    published_on: Spanned<Datetime>,
    checked_in: Spanned<String>,
    note: Option<String>,
    unverified: Option<String>,
}

use super::rules::line_col;

struct PassLoader<'a> {
    file: &'a str,
    text: &'a str,
}

impl PassLoader<'_> {
    fn err(&self, span: Range<usize>, key: impl Into<String>, reason: impl Into<String>) -> PassTableError {
        let (line, column) = line_col(self.text, span.start);
        PassTableError {
            file: self.file.to_owned(),
            line: Some(line),
            column: Some(column),
            key: Some(key.into()),
            reason: reason.into(),
        }
    }

    fn text(&self, s: &Spanned<String>, key: &str) -> Result<String, PassTableError> {
        let t = s.get_ref().trim();
        if t.is_empty() {
            return Err(self.err(s.span(), key, "must not be empty"));
        }
        Ok(t.to_owned())
    }

    fn date(&self, d: &Spanned<Datetime>, key: &str) -> Result<NaiveDate, PassTableError> {
        let v = d.get_ref();
        match (&v.date, &v.time, &v.offset) {
            (Some(date), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
                    .ok_or_else(|| self.err(d.span(), key, "not a calendar date"))
            }
            _ => Err(self.err(d.span(), key, "expected a date without time, e.g. 2025-12-22")),
        }
    }

    fn euros(&self, v: &Spanned<i64>, key: &str) -> Result<Cents, PassTableError> {
        let e = *v.get_ref();
        if (1..=MAX_PASS_EUROS).contains(&e) {
            Ok(Cents::from_euros(e))
        } else {
            Err(self.err(v.span(), key, format!("{e} is outside 1..={MAX_PASS_EUROS} euros")))
        }
    }

    fn build(&self, raw: RawPassTable) -> Result<PassTable, PassTableError> {
        if *raw.format.get_ref() != PASS_FORMAT {
            return Err(self.err(
                raw.format.span(),
                "format",
                format!("format {} is not supported (this program reads format {PASS_FORMAT})", raw.format.get_ref()),
            ));
        }
        let rule = self.text(&raw.rule, "rule")?;
        let rule_source = self.text(&raw.rule_source, "rule_source")?;
        if raw.years.get_ref().is_empty() {
            return Err(self.err(raw.years.span(), "years", "at least one year is needed"));
        }
        let mut years = BTreeMap::new();
        let mut previous: Option<i32> = None;
        for (i, entry) in raw.years.get_ref().iter().enumerate() {
            let path = format!("years[{i}]");
            let y = entry.get_ref();
            let year = i32::try_from(*y.year.get_ref())
                .ok()
                .filter(|v| (1946..=2200).contains(v))
                .ok_or_else(|| self.err(y.year.span(), format!("{path}.year"), "expected a year in 1946..=2200"))?;
            if let Some(p) = previous
                && year <= p
            {
                return Err(self.err(
                    y.year.span(),
                    format!("{path}.year"),
                    format!("years are listed once each, in increasing order: {year} comes after {p}"),
                ));
            }
            previous = Some(year);
            let annual = self.euros(&y.annual, &format!("{path}.annual"))?;
            let monthly = self.euros(&y.monthly, &format!("{path}.monthly"))?;
            if annual.cents() != monthly.cents() * 12 {
                return Err(self.err(
                    y.annual.span(),
                    format!("{path}.annual"),
                    format!(
                        "the annual value is twelve times the monthly value (art. D. 242-19 CSS): 12 × {} = {}, \
                         not {}",
                        y.monthly.get_ref(),
                        y.monthly.get_ref() * 12,
                        y.annual.get_ref()
                    ),
                ));
            }
            let source = self.text(&y.source, &format!("{path}.source"))?;
            let signed_on = self.date(&y.signed_on, &format!("{path}.signed_on"))?;
            let published_on = self.date(&y.published_on, &format!("{path}.published_on"))?;
            if published_on < signed_on {
                return Err(self.err(
                    y.published_on.span(),
                    format!("{path}.published_on"),
                    format!("the text is published ({published_on}) before it is signed ({signed_on})"),
                ));
            }
            if published_on.year() > year {
                return Err(self.err(
                    y.published_on.span(),
                    format!("{path}.published_on"),
                    format!("the PASS of {year} cannot be published after that year ({published_on})"),
                ));
            }
            let checked_in = self.text(&y.checked_in, &format!("{path}.checked_in"))?;
            years.insert(
                year,
                PassYear {
                    year,
                    annual,
                    monthly,
                    source,
                    signed_on,
                    published_on,
                    checked_in,
                    note: y.note.clone(),
                    unverified: y.unverified.clone(),
                },
            );
        }
        Ok(PassTable { file: self.file.to_owned(), rule, rule_source, years })
    }
}

// ---------------------------------------------------------------------------------------------
// The yearly cap per member professional

/// A payee name reduced for comparison: trimmed, lowercase, accents removed (`é` → `e`,
/// `œ` → `oe`, combining marks dropped), runs of white space collapsed to one space.
/// `"Dr  MARTIN Élise"` and `"dr martin elise"` both give `"dr martin elise"`.
pub fn normalize_payee_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => out.push('a'),
            'ç' | 'ć' | 'č' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' | 'ī' => out.push('i'),
            'ñ' | 'ń' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'š' => out.push('s'),
            'ž' => out.push('z'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            other => out.push(other),
        }
    }
    out
}

/// Who a capped allowance went to: the RPPS number when the expense gives a valid one, else the
/// payee name as [`normalize_payee_name`] reduces it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum ProfessionalKey {
    /// The 11 digits, spaces removed.
    Rpps(String),
    Name(String),
}

impl ProfessionalKey {
    /// The key of an expense's payee. An RPPS that does not parse is ignored here (the name is
    /// used); [`Expense::validate`] reports it.
    pub fn of(expense: &Expense) -> ProfessionalKey {
        match expense.payee_rpps.as_deref().map(Rpps::parse) {
            Some(Ok(rpps)) => ProfessionalKey::Rpps(rpps.as_str().to_owned()),
            _ => ProfessionalKey::Name(normalize_payee_name(&expense.payee)),
        }
    }
}

/// What one member professional received in one calendar year, against that year's PASS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfessionalAllowance {
    pub year: i32,
    pub key: ProfessionalKey,
    /// The payee as written on the latest expense of the year (trimmed).
    pub payee: String,
    /// The RPPS number (11 digits) when the key is one.
    pub payee_rpps: Option<String>,
    /// Σ of the year's allowances to this professional.
    pub total: Cents,
    /// The PASS of the year; `None` when the table does not know the year.
    pub cap: Option<Cents>,
    /// `total / cap`, truncated to the billionth and clamped to 100 % (see `over` beyond);
    /// `None` without a cap.
    pub share_of_cap: Option<Rate>,
    /// What is left before the cap (zero when reached or exceeded); `None` without a cap.
    pub remaining: Option<Cents>,
    /// `total − cap` when the total exceeds the cap, else zero. Exactly the cap is allowed.
    pub over: Cents,
    /// The expenses added up, by date (then in the order given).
    pub expense_ids: Vec<String>,
}

impl ProfessionalAllowance {
    pub fn is_over(&self) -> bool {
        self.over > Cents::ZERO
    }
}

/// Every member professional's allowances per calendar year, against the PASS: the
/// expenses that [count towards the cap](Expense::counts_towards_pass), grouped by
/// `spent_on` year and [`ProfessionalKey`]. Ordered by year, then payee name.
pub fn allowances_by_professional(expenses: &[Expense], table: &PassTable) -> Vec<ProfessionalAllowance> {
    struct Group<'a> {
        total: Cents,
        latest: (NaiveDate, usize),
        payee: &'a str,
        items: Vec<(NaiveDate, usize, &'a str)>,
    }
    let mut groups: BTreeMap<(i32, ProfessionalKey), Group<'_>> = BTreeMap::new();
    for (i, e) in expenses.iter().enumerate().filter(|(_, e)| e.counts_towards_pass()) {
        let g = groups.entry((e.spent_on.year(), ProfessionalKey::of(e))).or_insert_with(|| Group {
            total: Cents::ZERO,
            latest: (e.spent_on, i),
            payee: e.payee.trim(),
            items: Vec::new(),
        });
        g.total += e.amount;
        if (e.spent_on, i) >= g.latest {
            g.latest = (e.spent_on, i);
            g.payee = e.payee.trim();
        }
        g.items.push((e.spent_on, i, e.id.as_str()));
    }
    let mut out: Vec<ProfessionalAllowance> = groups
        .into_iter()
        .map(|((year, key), mut g)| {
            g.items.sort();
            let cap = table.cap_for(year);
            let over = cap.filter(|c| g.total > *c).map_or(Cents::ZERO, |c| g.total - c);
            ProfessionalAllowance {
                year,
                payee_rpps: match &key {
                    ProfessionalKey::Rpps(r) => Some(r.clone()),
                    ProfessionalKey::Name(_) => None,
                },
                key,
                payee: g.payee.to_owned(),
                total: g.total,
                cap,
                share_of_cap: cap.map(|c| Rate::ratio(i128::from(g.total.cents()), i128::from(c.cents()))),
                remaining: cap.map(|c| if g.total < c { c - g.total } else { Cents::ZERO }),
                over,
                expense_ids: g.items.into_iter().map(|(_, _, id)| id.to_owned()).collect(),
            }
        })
        .collect();
    out.sort_by_cached_key(|a| (a.year, normalize_payee_name(&a.payee), a.key.clone()));
    out
}

/// Why a [`PassAlert`] is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PassAlertKind {
    /// The professional received more than the PASS of the year.
    OverCap,
    /// The PASS table has no value for the year: the total cannot be checked.
    NoCapForYear,
}

/// A member professional whose allowances of a calendar year exceed the PASS, or cannot be
/// checked against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassAlert {
    pub kind: PassAlertKind,
    pub year: i32,
    /// The payee as written on the latest expense of the year.
    pub payee: String,
    pub payee_rpps: Option<String>,
    pub total: Cents,
    pub cap: Option<Cents>,
    /// `total − cap` (zero for [`PassAlertKind::NoCapForYear`]).
    pub over: Cents,
    pub expense_ids: Vec<String>,
}

impl PassAlert {
    /// `pass_exceeded` or `pass_unknown_year`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            PassAlertKind::OverCap => "pass_exceeded",
            PassAlertKind::NoCapForYear => "pass_unknown_year",
        }
    }

    /// The alert in English.
    pub fn en(&self) -> String {
        match (self.kind, self.cap) {
            (PassAlertKind::OverCap, Some(cap)) => format!(
                "{} received {} in {} as a member professional, {} above the annual cap (PASS {}, décret 2022-375)",
                self.payee,
                self.total.en(),
                self.year,
                self.over.en(),
                cap.en()
            ),
            _ => format!(
                "no PASS value is known for {}: the {} paid to {} cannot be checked against the annual cap \
                 (add the year to data/aci/pass.toml)",
                self.year,
                self.total.en(),
                self.payee
            ),
        }
    }

    /// The alert in French, as shown to users.
    pub fn fr(&self) -> String {
        match (self.kind, self.cap) {
            (PassAlertKind::OverCap, Some(cap)) => format!(
                "{} a perçu {} en {} en tant que professionnel membre, soit {} au-delà du plafond annuel \
                 (PASS {}, décret n° 2022-375)",
                self.payee,
                self.total.fr(),
                self.year,
                self.over.fr(),
                cap.fr()
            ),
            _ => format!(
                "aucune valeur du PASS n'est connue pour {} : les {} versés à {} ne peuvent pas être comparés au \
                 plafond annuel",
                self.year,
                self.total.fr(),
                self.payee
            ),
        }
    }
}

/// The member professionals whose allowances of a calendar year exceed that year's PASS
/// (exactly the PASS is allowed), and those paid in a year the table does not know
/// ([`PassAlertKind::NoCapForYear`]). Same grouping and order as [`allowances_by_professional`].
pub fn pass_alerts(expenses: &[Expense], table: &PassTable) -> Vec<PassAlert> {
    allowances_by_professional(expenses, table)
        .into_iter()
        .filter_map(|a| {
            let kind = match a.cap {
                None => PassAlertKind::NoCapForYear,
                Some(_) if a.is_over() => PassAlertKind::OverCap,
                Some(_) => return None,
            };
            Some(PassAlert {
                kind,
                year: a.year,
                payee: a.payee,
                payee_rpps: a.payee_rpps,
                total: a.total,
                cap: a.cap,
                over: a.over,
                expense_ids: a.expense_ids,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Budget vs actual

/// An amount spent in one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CategoryAmount {
    pub category: ExpenseCategory,
    pub amount: Cents,
}

/// One envelope of a contract year: what the contract brings against what was spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeBalance {
    pub mission: MissionId,
    /// What the contract computes for the envelope that year (its total); zero for an envelope
    /// that has spending but no funding.
    pub entitlement: Cents,
    /// Σ of the expenses charged to the envelope.
    pub spent: Cents,
    /// `entitlement − spent`; negative when overspent.
    pub left: Cents,
    /// `spent / entitlement`, truncated to the billionth and clamped to 100 % (see `over`
    /// beyond); `None` when the entitlement is zero.
    pub consumed: Option<Rate>,
    /// Spent more than the entitlement.
    pub over: bool,
    /// How many expenses.
    pub expenses: usize,
    /// Spending per category, in [`ExpenseCategory::ALL`] order, categories without spending
    /// left out.
    pub by_category: Vec<CategoryAmount>,
}

/// Budget vs actual for a contract year: each envelope, then the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeBalances {
    pub contract_year: u8,
    /// The contract year's dates, as the funding gives them.
    pub period: Option<Period>,
    /// The envelopes of the funding, plus those with spending but no funding, in
    /// [`MissionId`] order (operating funding first).
    pub envelopes: Vec<EnvelopeBalance>,
    pub entitlement: Cents,
    pub spent: Cents,
    pub left: Cents,
    pub consumed: Option<Rate>,
    /// Spent more than the whole year brings.
    pub over: bool,
    /// Spending per category over all envelopes.
    pub by_category: Vec<CategoryAmount>,
}

impl EnvelopeBalances {
    pub fn envelope(&self, mission: MissionId) -> Option<&EnvelopeBalance> {
        self.envelopes.iter().find(|e| e.mission == mission)
    }

    /// The envelopes spent beyond their entitlement.
    pub fn overspent(&self) -> impl Iterator<Item = &EnvelopeBalance> {
        self.envelopes.iter().filter(|e| e.over)
    }
}

fn consumed(spent: Cents, entitlement: Cents) -> Option<Rate> {
    (entitlement > Cents::ZERO).then(|| Rate::ratio(i128::from(spent.cents()), i128::from(entitlement.cents())))
}

fn category_amounts(totals: &BTreeMap<ExpenseCategory, Cents>) -> Vec<CategoryAmount> {
    ExpenseCategory::ALL
        .into_iter()
        .filter_map(|category| totals.get(&category).map(|&amount| CategoryAmount { category, amount }))
        .collect()
}

/// Budget vs actual: for each envelope of `funding` (entitlement = its total) and each envelope
/// that has expenses but no funding, the entitlement, the spending, what is left, the share
/// consumed, whether it is overspent and the spending by category; then the totals.
///
/// `expenses_in_year` are the expenses of that contract year (see
/// [`expenses_in_contract_year`]); they are not filtered by date here.
pub fn envelope_balances(funding: &YearFunding, expenses_in_year: &[Expense]) -> EnvelopeBalances {
    #[derive(Default)]
    struct Acc {
        entitlement: Cents,
        spent: Cents,
        expenses: usize,
        by_category: BTreeMap<ExpenseCategory, Cents>,
    }
    let mut acc: BTreeMap<MissionId, Acc> = BTreeMap::new();
    for e in &funding.envelopes {
        acc.entry(e.mission).or_default().entitlement += e.total;
    }
    let mut all_categories: BTreeMap<ExpenseCategory, Cents> = BTreeMap::new();
    for e in expenses_in_year {
        let a = acc.entry(e.envelope).or_default();
        a.spent += e.amount;
        a.expenses += 1;
        *a.by_category.entry(e.category).or_default() += e.amount;
        *all_categories.entry(e.category).or_default() += e.amount;
    }
    let envelopes: Vec<EnvelopeBalance> = acc
        .into_iter()
        .map(|(mission, a)| EnvelopeBalance {
            mission,
            entitlement: a.entitlement,
            spent: a.spent,
            left: a.entitlement - a.spent,
            consumed: consumed(a.spent, a.entitlement),
            over: a.spent > a.entitlement,
            expenses: a.expenses,
            by_category: category_amounts(&a.by_category),
        })
        .collect();
    let entitlement: Cents = envelopes.iter().map(|e| e.entitlement).sum();
    let spent: Cents = envelopes.iter().map(|e| e.spent).sum();
    EnvelopeBalances {
        contract_year: funding.contract_year,
        period: funding.period,
        envelopes,
        entitlement,
        spent,
        left: entitlement - spent,
        consumed: consumed(spent, entitlement),
        over: spent > entitlement,
        by_category: category_amounts(&all_categories),
    }
}

/// The expenses whose `spent_on` falls in contract year `year` (1-based): from the (year-1)th
/// anniversary of the signature, inclusive, to the year-th, exclusive ([`Contract::period`]).
/// Empty when the year does not exist (0). Order kept.
pub fn expenses_in_contract_year(contract: &Contract, year: u8, expenses: &[Expense]) -> Vec<Expense> {
    match contract.period(year) {
        Some((start, end)) => expenses.iter().filter(|e| start <= e.spent_on && e.spent_on < end).cloned().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A valid expense: 150 € of allowance to a member professional.
    fn expense() -> Expense {
        Expense {
            id: "e1".into(),
            spent_on: d("2025-03-14"),
            envelope: MissionId::Parcours,
            category: ExpenseCategory::Indemnisation,
            payee_kind: PayeeKind::ProfessionnelMembre,
            payee: "Dr Élise Martin".into(),
            payee_rpps: Some("10003456789".into()),
            amount: Cents(15_000),
            receipt: "NDF-2025-014".into(),
            note: "Réunion du groupe parcours\nsoirée du 14 mars".into(),
        }
    }

    fn codes(e: &Expense) -> Vec<(&'static str, &'static str)> {
        match e.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(|x| (x.code(), x.field())).collect(),
        }
    }

    #[test]
    fn names_match_serde() {
        for c in ExpenseCategory::ALL {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.as_str()));
            assert_eq!(c.as_str().parse::<ExpenseCategory>().unwrap(), c);
            assert!(!c.fr().is_empty() && !c.en().is_empty());
        }
        for k in PayeeKind::ALL {
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
            assert_eq!(k.as_str().parse::<PayeeKind>().unwrap(), k);
            assert!(!k.fr().is_empty() && !k.en().is_empty());
        }
        assert_eq!(ExpenseCategory::SystemeInformation.as_str(), "systeme_information");
        assert_eq!(ExpenseCategory::Coordination.fr(), "Coordination (salaires et charges)");
        assert_eq!(ExpenseCategory::Fonctionnement.fr(), "Fonctionnement (locaux, fournitures, assurances)");
        assert_eq!(ExpenseCategory::Evenement.fr(), "Réunions et événements");
        assert_eq!(PayeeKind::ProfessionnelNonMembre.as_str(), "professionnel_non_membre");
        assert_eq!(PayeeKind::Salarie.fr(), "Salarié");
        assert_eq!(" formation ".parse::<ExpenseCategory>().unwrap(), ExpenseCategory::Formation);
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = "Formation".parse::<ExpenseCategory>().unwrap_err();
        assert_eq!(e, UnknownExpenseCategory("Formation".into()));
        let msg = e.to_string();
        assert!(msg.contains("`Formation`"), "{msg}");
        for c in ExpenseCategory::ALL {
            assert!(msg.contains(c.as_str()), "{msg}");
        }
        assert!(e.fr().contains("systeme_information"));
        let e = "membre".parse::<PayeeKind>().unwrap_err();
        for k in PayeeKind::ALL {
            assert!(e.to_string().contains(k.as_str()));
        }
        assert!(e.fr().starts_with("type de bénéficiaire inconnu « membre »"));
    }

    #[test]
    fn a_valid_expense_passes() {
        assert_eq!(expense().validate(), Ok(()));
        let mut e = expense();
        e.payee_rpps = None;
        e.receipt = String::new();
        e.note = String::new();
        e.category = ExpenseCategory::Prestation;
        e.payee_kind = PayeeKind::Prestataire;
        assert_eq!(e.validate(), Ok(()));
        // Spaces inside an RPPS are accepted, as by `Rpps::parse`.
        e.payee_rpps = Some("100 0345 6789".into());
        assert_eq!(e.validate(), Ok(()));
    }

    #[test]
    fn amount_bounds() {
        let mut e = expense();
        for bad in [0, -1, -15_000] {
            e.amount = Cents(bad);
            assert_eq!(codes(&e), [("amount_not_positive", "amount")], "{bad}");
        }
        e.amount = Cents(1);
        assert_eq!(e.validate(), Ok(()));
        e.amount = MAX_AMOUNT;
        assert_eq!(e.validate(), Ok(()));
        e.amount = Cents(MAX_AMOUNT.cents() + 1);
        assert_eq!(codes(&e), [("amount_too_large", "amount")]);
        let err = &e.validate().unwrap_err()[0];
        assert!(err.en().contains("€10,000,000.00"), "{}", err.en());
        assert!(err.fr().contains("10\u{202f}000\u{202f}000,00\u{a0}€"), "{}", err.fr());
    }

    #[test]
    fn payee_rules() {
        let mut e = expense();
        for blank in ["", "   ", "\u{a0}"] {
            e.payee = blank.into();
            assert_eq!(codes(&e), [("payee_empty", "payee")], "{blank:?}");
        }
        e.payee = "é".repeat(MAX_PAYEE_CHARS);
        assert_eq!(e.validate(), Ok(()), "200 characters, 400 bytes: allowed");
        e.payee = format!("  {}  ", "a".repeat(MAX_PAYEE_CHARS));
        assert_eq!(e.validate(), Ok(()), "surrounding spaces are not counted");
        e.payee = "a".repeat(MAX_PAYEE_CHARS + 1);
        assert_eq!(codes(&e), [("payee_too_long", "payee")]);
        assert_eq!(e.validate().unwrap_err()[0], ExpenseError::PayeeTooLong { chars: 201 });
    }

    #[test]
    fn receipt_and_note_lengths() {
        let mut e = expense();
        e.receipt = "r".repeat(MAX_RECEIPT_CHARS);
        e.note = "n".repeat(MAX_NOTE_CHARS);
        assert_eq!(e.validate(), Ok(()));
        e.receipt.push('r');
        e.note.push('n');
        assert_eq!(codes(&e), [("receipt_too_long", "receipt"), ("note_too_long", "note")]);
    }

    #[test]
    fn rpps_is_checked_when_given() {
        let mut e = expense();
        for bad in ["", "1234", "1000345678X", "810003456789"] {
            e.payee_rpps = Some(bad.into());
            assert_eq!(codes(&e), [("payee_rpps_invalid", "payee_rpps")], "{bad}");
        }
        e.payee_rpps = Some("810003456789".into());
        let err = &e.validate().unwrap_err()[0];
        assert!(err.fr().starts_with("le numéro RPPS du bénéficiaire est invalide : "), "{}", err.fr());
        assert!(err.fr().contains("identifiant national"), "the RPPS parser's hint is kept: {}", err.fr());
        // A Luhn mismatch is only a warning of the RPPS parser: accepted.
        e.payee_rpps = Some("10003456788".into());
        assert_eq!(e.validate(), Ok(()));
    }

    #[test]
    fn an_allowance_goes_to_a_professional() {
        let mut e = expense();
        e.payee_kind = PayeeKind::ProfessionnelNonMembre;
        assert_eq!(e.validate(), Ok(()));
        for kind in [PayeeKind::Salarie, PayeeKind::Prestataire, PayeeKind::Structure, PayeeKind::Autre] {
            e.payee_kind = kind;
            assert_eq!(codes(&e), [("indemnisation_not_to_professional", "payee_kind")], "{kind}");
        }
        e.payee_kind = PayeeKind::Salarie;
        let err = &e.validate().unwrap_err()[0];
        assert_eq!(
            err.fr(),
            "une indemnisation est versée à un professionnel de santé : le type de bénéficiaire doit être \
             « Professionnel membre » ou « Professionnel non membre », pas « Salarié »"
        );
        // Other categories may go to anyone.
        e.category = ExpenseCategory::Coordination;
        assert_eq!(e.validate(), Ok(()));
    }

    #[test]
    fn control_characters() {
        let mut e = expense();
        e.payee = "Dr\u{7}Martin".into();
        e.receipt = "NDF\n14".into();
        e.note = "ligne 1\r\nligne 2\tsuite\u{0}".into();
        assert_eq!(
            e.validate().unwrap_err(),
            [
                ExpenseError::ControlCharacter { field: "payee", position: 3 },
                ExpenseError::ControlCharacter { field: "receipt", position: 4 },
                ExpenseError::ControlCharacter { field: "note", position: 23 },
            ]
        );
        e.payee = "Dr Martin\u{85}".into();
        e.receipt = String::new();
        e.note = "ligne 1\r\nligne 2\tsuite".into();
        assert_eq!(codes(&e), [("control_character", "payee")], "C1 controls too");
        assert_eq!(
            e.validate().unwrap_err()[0].fr(),
            "le champ « bénéficiaire » contient un caractère de contrôle (position 10)"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = Expense {
            id: String::new(),
            spent_on: d("2025-01-01"),
            envelope: MissionId::Acces,
            category: ExpenseCategory::Indemnisation,
            payee_kind: PayeeKind::Structure,
            payee: " ".into(),
            payee_rpps: Some("12".into()),
            amount: Cents::ZERO,
            receipt: "x".repeat(201),
            note: "y".repeat(2001),
        };
        assert_eq!(
            codes(&e),
            [
                ("amount_not_positive", "amount"),
                ("payee_empty", "payee"),
                ("payee_rpps_invalid", "payee_rpps"),
                ("indemnisation_not_to_professional", "payee_kind"),
                ("receipt_too_long", "receipt"),
                ("note_too_long", "note"),
            ]
        );
        for err in e.validate().unwrap_err() {
            assert!(!err.en().is_empty() && !err.fr().is_empty());
            assert!(err.to_string().starts_with(err.field()));
        }
    }

    #[test]
    fn errors_serialize_with_code_field_and_messages() {
        let json = serde_json::to_value(ExpenseError::PayeeEmpty).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "payee_empty",
                "field": "payee",
                "en": "the payee is required",
                "fr": "le bénéficiaire est obligatoire",
            })
        );
    }

    #[test]
    fn expense_json_keeps_its_names() {
        let json = serde_json::to_value(expense()).unwrap();
        assert_eq!(json["envelope"], "parcours");
        assert_eq!(json["category"], "indemnisation");
        assert_eq!(json["payee_kind"], "professionnel_membre");
        assert_eq!(json["amount"], 15_000);
        let back: Expense = serde_json::from_value(json).unwrap();
        assert_eq!(back, expense());
        // Optional fields may be left out.
        let minimal: Expense = serde_json::from_str(
            r#"{"spent_on":"2025-01-02","envelope":"acces","category":"autre","payee_kind":"autre","payee":"x","amount":1}"#,
        )
        .unwrap();
        assert_eq!((minimal.id.as_str(), minimal.payee_rpps, minimal.note.as_str()), ("", None, ""));
    }

    #[test]
    fn name_normalisation() {
        assert_eq!(normalize_payee_name("Dr  MARTIN Élise"), "dr martin elise");
        assert_eq!(normalize_payee_name("  dr martin elise "), "dr martin elise");
        assert_eq!(normalize_payee_name("Dr\u{a0}Martin\tÉlise"), "dr martin elise");
        // Decomposed accents (e + combining acute).
        assert_eq!(normalize_payee_name("E\u{301}lise"), "elise");
        assert_eq!(normalize_payee_name("Cœur ÇA Forêt Noël Ærø"), "coeur ca foret noel aero");
        assert_eq!(normalize_payee_name(""), "");
        assert_ne!(normalize_payee_name("Martin-Élise"), normalize_payee_name("Martin Élise"));
    }

    #[test]
    fn professional_key() {
        let mut e = expense();
        assert_eq!(ProfessionalKey::of(&e), ProfessionalKey::Rpps("10003456789".into()));
        e.payee_rpps = Some(" 1000 3456 789 ".into());
        assert_eq!(ProfessionalKey::of(&e), ProfessionalKey::Rpps("10003456789".into()));
        e.payee_rpps = Some("invalid".into());
        assert_eq!(ProfessionalKey::of(&e), ProfessionalKey::Name("dr elise martin".into()));
        e.payee_rpps = None;
        assert_eq!(ProfessionalKey::of(&e), ProfessionalKey::Name("dr elise martin".into()));
        assert_eq!(
            serde_json::to_value(ProfessionalKey::Rpps("10003456789".into())).unwrap(),
            serde_json::json!({"by": "rpps", "value": "10003456789"})
        );
    }

    const MINIMAL: &str = r#"format = 1
rule = "cap"
rule_source = "décret"

[[years]]
year = 2024
annual = 46_368
monthly = 3_864
source = "arrêté"
signed_on = 2023-12-19
published_on = 2023-12-29
checked_in = "somewhere"
"#;

    fn load_err(text: &str) -> String {
        PassTable::from_toml("pass.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn pass_file_loads() {
        let t = PassTable::from_toml("pass.toml", MINIMAL).unwrap();
        assert_eq!(t.cap_for(2024), Some(Cents::from_euros(46_368)));
        assert_eq!(t.cap_for(2023), None);
        assert_eq!(t.year(2024).unwrap().monthly, Cents::from_euros(3_864));
        assert!(t.unverified().is_empty());
    }

    #[test]
    fn pass_file_errors_point_at_the_entry() {
        let e = load_err(&MINIMAL.replace("annual = 46_368", "annual = 46_369"));
        assert_eq!(
            e,
            "pass.toml:7:10: years[0].annual: the annual value is twelve times the monthly value \
             (art. D. 242-19 CSS): 12 × 3864 = 46368, not 46369"
        );
        let e = load_err(&MINIMAL.replace("monthly = 3_864", "monthly = 0"));
        assert!(e.starts_with("pass.toml:8:11: years[0].monthly: 0 is outside"), "{e}");
        let e = load_err(&MINIMAL.replace("format = 1", "format = 2"));
        assert!(e.starts_with("pass.toml:1:10: format: format 2 is not supported"), "{e}");
        let e = load_err(&MINIMAL.replace("checked_in", "checkd_in"));
        assert!(e.starts_with("pass.toml:12:1: unknown field `checkd_in`"), "{e}");
        let e = load_err(&MINIMAL.replace("2023-12-29", "2023-12-29T10:00:00"));
        assert!(e.starts_with("pass.toml:11:16: years[0].published_on: expected a date without time"), "{e}");
        let e = load_err(&MINIMAL.replace("published_on = 2023-12-29", "published_on = 2023-12-01"));
        assert!(e.contains("years[0].published_on: the text is published (2023-12-01) before it is signed"), "{e}");
        let e = load_err(&MINIMAL.replace("published_on = 2023-12-29", "published_on = 2025-01-02"));
        assert!(e.contains("cannot be published after that year"), "{e}");
        let e = load_err(&MINIMAL.replace("source = \"arrêté\"", "source = \"  \""));
        assert!(e.starts_with("pass.toml:9:10: years[0].source: must not be empty"), "{e}");
        let e = load_err(&MINIMAL.replace("year = 2024", "year = 24"));
        assert!(e.contains("years[0].year: expected a year in 1946..=2200"), "{e}");
        let e = load_err("format = 1\nrule = \"r\"\nrule_source = \"s\"\nyears = []\n");
        assert_eq!(e, "pass.toml:4:9: years: at least one year is needed");
        let e = load_err("format = 1\nrule = \"r\"\n");
        assert!(e.contains("missing field `rule_source`"), "{e}");
    }

    #[test]
    fn pass_years_are_increasing_and_unique() {
        let second = MINIMAL.split_once("[[years]]").unwrap().1;
        let twice = format!("{MINIMAL}\n[[years]]{second}");
        let e = load_err(&twice);
        assert!(e.starts_with("pass.toml:15:8: years[1].year: years are listed once each"), "{e}");
        assert!(e.ends_with("2024 comes after 2024"), "{e}");
        let earlier = second.replace("year = 2024", "year = 2023").replace("2023-12", "2022-12");
        let e = load_err(&format!("{MINIMAL}\n[[years]]{earlier}"));
        assert!(e.ends_with("2023 comes after 2024"), "{e}");
    }

    #[test]
    fn line_col_counts_characters() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
    }
}
