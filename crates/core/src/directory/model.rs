//! The territory's directory as the CPTS keeps it: professionals and their practice places
//! (imported from the Annuaire Santé), structures, membership, and local corrections.
//!
//! Imported values and local corrections are kept apart: a re-import replaces the imported
//! [`Professional`] wholesale and never touches the [`Correction`]s, and [`effective`] overlays
//! the corrections on the imported values to give what users see, each value saying where it
//! comes from. The storage layer maps these types to tables; nothing here does I/O.

use crate::ids::{Adeli, Finess, IdError, IdWarning, InseeCode, Rpps, Siret};
use chrono::NaiveDate;
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The national professional identifier (IDNPS): an RPPS number or, for professions that were
/// not yet in the RPPS, an ADELI number. Serialized and displayed in its national form
/// (`8` + RPPS, `0` + ADELI), which is unique across both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NationalId {
    Rpps(Rpps),
    Adeli(Adeli),
}

impl NationalId {
    /// Parses the national form: `8` + 11-digit RPPS (12 characters) or `0` + ADELI (10).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let t = input.trim();
        if t.starts_with('0') {
            Adeli::parse_national_id(t).map(Self::Adeli)
        } else {
            Rpps::parse_national_id(t).map(Self::Rpps)
        }
    }

    /// `8` + RPPS or `0` + ADELI.
    pub fn national(&self) -> String {
        match self {
            Self::Rpps(r) => r.national_id(),
            Self::Adeli(a) => a.national_id(),
        }
    }

    /// The bare number (11-digit RPPS or 9-character ADELI).
    pub fn number(&self) -> &str {
        match self {
            Self::Rpps(r) => r.as_str(),
            Self::Adeli(a) => a.as_str(),
        }
    }

    /// Check-digit doubts (never a rejection, see docs/identifiers.md).
    pub fn warnings(&self) -> Vec<IdWarning> {
        match self {
            Self::Rpps(r) => r.warnings(),
            Self::Adeli(a) => a.warnings(),
        }
    }

    /// FHIR `Identifier` (system, value).
    pub fn fhir_identifier(&self) -> (&'static str, String) {
        match self {
            Self::Rpps(r) => r.fhir_identifier(),
            Self::Adeli(a) => a.fhir_identifier(),
        }
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self {
            Self::Rpps(_) => '8',
            Self::Adeli(_) => '0',
        };
        write!(f, "{prefix}{}", self.number())
    }
}

impl FromStr for NationalId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for NationalId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for NationalId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How a professional practises at a place (ANS TRE_R23 "ModeExercice": `L`, `S`, `B`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseMode {
    /// `L`: libéral (independent).
    Liberal,
    /// `S`: salarié (employed).
    Salarie,
    /// `B`: bénévole (volunteer).
    Benevole,
    /// Empty or another code.
    Unknown,
}

impl ExerciseMode {
    pub fn from_code(code: &str) -> Self {
        match code.trim() {
            "L" | "l" => Self::Liberal,
            "S" | "s" => Self::Salarie,
            "B" | "b" => Self::Benevole,
            _ => Self::Unknown,
        }
    }

    /// `L`, `S`, `B`, or empty.
    pub fn code(self) -> &'static str {
        match self {
            Self::Liberal => "L",
            Self::Salarie => "S",
            Self::Benevole => "B",
            Self::Unknown => "",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::Liberal => "libéral",
            Self::Salarie => "salarié",
            Self::Benevole => "bénévole",
            Self::Unknown => "non renseigné",
        }
    }
}

/// A specialty ("savoir-faire") of a professional.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Specialty {
    /// Kind of savoir-faire: `S` specialty, `CAPA` capacity… (may be empty).
    pub kind: String,
    /// `SM54`…
    pub code: String,
    /// "Médecine générale"…
    pub label: String,
}

/// The structure a practice place belongs to, as the Annuaire Santé names it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StructureRef {
    /// ANS technical id of the structure ("Identifiant technique de la structure"), stable from
    /// one extract to the next; a liberal practice without SIRET gets one too.
    pub technical_id: Option<String>,
    /// Present for companies and for employers outside FINESS (not for most individual
    /// practices, per the ANS FAQ).
    pub siret: Option<Siret>,
    /// FINESS number of the site (établissement).
    pub finess: Option<Finess>,
    /// Trade name if any, else company name.
    pub name: Option<String>,
}

/// A postal address of a practice place.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Address {
    /// Street: number, repetition index, street type and name ("6 Rue du Général de Gaulle").
    pub line1: Option<String>,
    /// Complement: building, lieu-dit, distribution mention.
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub commune_code: Option<InseeCode>,
    pub commune_label: Option<String>,
}

/// One place where a professional practises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PracticePlace {
    /// Stable key of the place within the professional (the structure's technical id when the
    /// extract gives one, else derived from SIRET/FINESS/address): corrections point at it.
    pub key: String,
    pub structure: StructureRef,
    pub address: Address,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub exercise_mode: ExerciseMode,
    /// Role at the place ("Code rôle"/"Libellé rôle"), label preferred.
    pub role: Option<String>,
    /// ANS sector of activity code ("SA07" cabinet individuel…), useful to classify structures.
    pub sector: Option<String>,
}

/// A health professional of the directory, as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Professional {
    pub national_id: NationalId,
    /// Civility to show: the exercise civility (`DR`, `PR`) when there is one, else `M`/`MME`.
    pub civility: Option<String>,
    pub family_name: String,
    pub given_name: String,
    /// Profession code (see [`super::professions::profession`]).
    pub profession_code: String,
    /// Label as written in the extract.
    pub profession_label: Option<String>,
    /// Specialties, without duplicates, in the order first seen.
    pub specialties: Vec<Specialty>,
    pub places: Vec<PracticePlace>,
}

impl Professional {
    pub fn place(&self, key: &str) -> Option<&PracticePlace> {
        self.places.iter().find(|p| p.key == key)
    }
}

/// Kinds of structure a CPTS deals with (members, partners, places of practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructureKind {
    /// Maison de santé pluriprofessionnelle.
    Msp,
    CentreSante,
    /// Équipe de soins primaires.
    Esp,
    Hopital,
    Clinique,
    Ehpad,
    /// SSIAD, SAAD, SPASAD, HAD: care and help at home.
    SoinsDomicile,
    Pharmacie,
    Laboratoire,
    MedicoSocial,
    Social,
    AssociationPatients,
    CollectiviteTerritoriale,
    Autre,
}

impl StructureKind {
    pub const ALL: [StructureKind; 14] = [
        Self::Msp,
        Self::CentreSante,
        Self::Esp,
        Self::Hopital,
        Self::Clinique,
        Self::Ehpad,
        Self::SoinsDomicile,
        Self::Pharmacie,
        Self::Laboratoire,
        Self::MedicoSocial,
        Self::Social,
        Self::AssociationPatients,
        Self::CollectiviteTerritoriale,
        Self::Autre,
    ];

    /// Stable code (storage, API): the serde name.
    pub fn code(self) -> &'static str {
        match self {
            Self::Msp => "msp",
            Self::CentreSante => "centre_sante",
            Self::Esp => "esp",
            Self::Hopital => "hopital",
            Self::Clinique => "clinique",
            Self::Ehpad => "ehpad",
            Self::SoinsDomicile => "soins_domicile",
            Self::Pharmacie => "pharmacie",
            Self::Laboratoire => "laboratoire",
            Self::MedicoSocial => "medico_social",
            Self::Social => "social",
            Self::AssociationPatients => "association_patients",
            Self::CollectiviteTerritoriale => "collectivite_territoriale",
            Self::Autre => "autre",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::Msp => "Maison de santé pluriprofessionnelle (MSP)",
            Self::CentreSante => "Centre de santé",
            Self::Esp => "Équipe de soins primaires (ESP)",
            Self::Hopital => "Hôpital",
            Self::Clinique => "Clinique",
            Self::Ehpad => "EHPAD",
            Self::SoinsDomicile => "Soins et aide à domicile (SSIAD, SAAD, HAD)",
            Self::Pharmacie => "Pharmacie",
            Self::Laboratoire => "Laboratoire de biologie médicale",
            Self::MedicoSocial => "Établissement ou service médico-social",
            Self::Social => "Structure sociale",
            Self::AssociationPatients => "Association de patients ou d'usagers",
            Self::CollectiviteTerritoriale => "Collectivité territoriale",
            Self::Autre => "Autre",
        }
    }
}

impl FromStr for StructureKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim()).ok_or_else(|| format!("unknown structure kind {s:?}"))
    }
}

/// Where a membership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    Active,
    /// Temporarily not a member (unpaid dues, decision of the board…).
    Suspended,
    Left,
}

/// Membership of a professional or a structure in the CPTS association (which one is the
/// storage layer's business).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub joined_on: NaiveDate,
    /// Set exactly when `status` is `Left`.
    pub left_on: Option<NaiveDate>,
    pub status: MembershipStatus,
    /// Last day covered by paid dues (dues are usually yearly: 31 December of the year paid).
    pub dues_paid_until: Option<NaiveDate>,
    /// Référent of their profession within the CPTS.
    pub profession_referent: bool,
    /// Role in the board ("président", "trésorière"…), if any.
    pub board_role: Option<String>,
}

/// An inconsistent [`Membership`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct MembershipError {
    pub en: String,
    pub fr: String,
}

impl Membership {
    /// Checks that dates and status agree.
    pub fn check(&self) -> Result<(), MembershipError> {
        let err = |en: &str, fr: &str| Err(MembershipError { en: en.into(), fr: fr.into() });
        match (self.status, self.left_on) {
            (MembershipStatus::Left, None) => {
                return err("a member who left has a leaving date", "une adhésion terminée a une date de fin");
            }
            (MembershipStatus::Active | MembershipStatus::Suspended, Some(_)) => {
                return err(
                    "only a member who left has a leaving date",
                    "seule une adhésion terminée a une date de fin",
                );
            }
            (_, Some(left)) if left < self.joined_on => {
                return err("leaving date before joining date", "date de fin antérieure à la date d'adhésion");
            }
            _ => {}
        }
        if self.board_role.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return err("board role is empty", "rôle au bureau vide");
        }
        Ok(())
    }

    /// Whether this was a member on `date`: joined by then and not yet left (the leaving day
    /// included). A suspended membership counts for no date (suspensions carry no dates).
    pub fn is_member_on(&self, date: NaiveDate) -> bool {
        self.status != MembershipStatus::Suspended && self.joined_on <= date && self.left_on.is_none_or(|l| date <= l)
    }

    /// Whether dues cover `date`.
    pub fn dues_paid_on(&self, date: NaiveDate) -> bool {
        self.dues_paid_until.is_some_and(|d| date <= d)
    }
}

/// What a coordinator may correct locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectableField {
    // Per practice place:
    Phone,
    Email,
    AddressLine1,
    AddressLine2,
    PostalCode,
    CommuneCode,
    ExerciseMode,
    // Per professional:
    /// MSSanté secure-messaging address (not in the open extract).
    Mssante,
    /// Takes part in same-day care (soins non programmés).
    SnpParticipant,
    /// Accepts new patients as médecin traitant (or, for others, new patients).
    AcceptsNewPatients,
}

impl CorrectableField {
    pub const ALL: [CorrectableField; 10] = [
        Self::Phone,
        Self::Email,
        Self::AddressLine1,
        Self::AddressLine2,
        Self::PostalCode,
        Self::CommuneCode,
        Self::ExerciseMode,
        Self::Mssante,
        Self::SnpParticipant,
        Self::AcceptsNewPatients,
    ];

    /// Whether the field belongs to a practice place (else to the professional).
    pub fn per_place(self) -> bool {
        !matches!(self, Self::Mssante | Self::SnpParticipant | Self::AcceptsNewPatients)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::AddressLine1 => "address_line1",
            Self::AddressLine2 => "address_line2",
            Self::PostalCode => "postal_code",
            Self::CommuneCode => "commune_code",
            Self::ExerciseMode => "exercise_mode",
            Self::Mssante => "mssante",
            Self::SnpParticipant => "snp_participant",
            Self::AcceptsNewPatients => "accepts_new_patients",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::Phone => "téléphone",
            Self::Email => "courriel",
            Self::AddressLine1 => "adresse",
            Self::AddressLine2 => "complément d'adresse",
            Self::PostalCode => "code postal",
            Self::CommuneCode => "commune",
            Self::ExerciseMode => "mode d'exercice",
            Self::Mssante => "adresse MSSanté",
            Self::SnpParticipant => "participe aux soins non programmés",
            Self::AcceptsNewPatients => "accepte de nouveaux patients",
        }
    }
}

impl FromStr for CorrectableField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|f| f.code() == s.trim()).ok_or_else(|| format!("unknown field {s:?}"))
    }
}

/// A local correction of one value, kept apart from the imported data.
///
/// Build it with [`Correction::new`], which checks and normalizes the value. An empty value
/// clears the imported one (for phone, e-mail, address complement and MSSanté only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    pub field: CorrectableField,
    /// The [`PracticePlace::key`] for per-place fields; `None` for per-professional ones.
    pub place: Option<String>,
    pub value: String,
}

/// A correction value that does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field:?}: {en}")]
pub struct CorrectionError {
    pub field: CorrectableField,
    pub en: String,
    pub fr: String,
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "true" | "oui" | "yes" | "1" | "o" => Some(true),
        "false" | "non" | "no" | "0" | "n" => Some(false),
        _ => None,
    }
}

fn plausible_email(v: &str) -> bool {
    let mut parts = v.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v.chars().any(char::is_whitespace)
}

impl Correction {
    /// Checks and normalizes a value: phone numbers keep digits (and a leading `+`); e-mails
    /// are lower-cased; an MSSanté address must be on a `mssante.fr` domain; postal codes are 5
    /// digits; communes are INSEE codes; exercise modes are `L`, `S` or `B`; yes/no fields take
    /// `oui`/`non` (or `true`/`false`) and are stored as `true`/`false`.
    pub fn new(field: CorrectableField, place: Option<&str>, value: &str) -> Result<Self, CorrectionError> {
        let err = |en: String, fr: String| CorrectionError { field, en, fr };
        let place = place.map(str::trim).filter(|p| !p.is_empty());
        match (field.per_place(), place) {
            (true, None) => {
                return Err(err(
                    "this field belongs to a practice place: name it".into(),
                    format!("le champ « {} » concerne un lieu d'exercice : précisez lequel", field.fr()),
                ));
            }
            (false, Some(_)) => {
                return Err(err(
                    "this field belongs to the professional, not to a place".into(),
                    format!("le champ « {} » concerne le professionnel, pas un lieu", field.fr()),
                ));
            }
            _ => {}
        }
        let v = value.trim();
        let clearable = matches!(
            field,
            CorrectableField::Phone
                | CorrectableField::Email
                | CorrectableField::AddressLine2
                | CorrectableField::Mssante
        );
        let value = if v.is_empty() {
            if !clearable {
                return Err(err(
                    "a value is required".into(),
                    format!("le champ « {} » ne peut être vide", field.fr()),
                ));
            }
            String::new()
        } else {
            match field {
                CorrectableField::Phone => {
                    let plus = v.starts_with('+');
                    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
                    let allowed = v.chars().all(|c| c.is_ascii_digit() || " .-()+".contains(c));
                    if !allowed || !(4..=15).contains(&digits.len()) {
                        return Err(err(
                            format!("{v:?} is not a phone number"),
                            format!("« {v} » n'est pas un numéro de téléphone"),
                        ));
                    }
                    if plus { format!("+{digits}") } else { digits }
                }
                CorrectableField::Email | CorrectableField::Mssante => {
                    let lower = v.to_lowercase();
                    if !plausible_email(&lower) {
                        return Err(err(
                            format!("{v:?} is not an e-mail address"),
                            format!("« {v} » n'est pas une adresse électronique"),
                        ));
                    }
                    if field == CorrectableField::Mssante && !lower.ends_with("mssante.fr") {
                        return Err(err(
                            format!("{v:?} is not an MSSanté address (domain …mssante.fr)"),
                            format!("« {v} » n'est pas une adresse MSSanté (domaine …mssante.fr)"),
                        ));
                    }
                    lower
                }
                CorrectableField::AddressLine1 | CorrectableField::AddressLine2 => {
                    if v.chars().count() > 200 || v.contains(['\n', '\r', '|']) {
                        return Err(err(
                            "an address line has at most 200 characters, on one line".into(),
                            "une ligne d'adresse compte au plus 200 caractères, sur une ligne".into(),
                        ));
                    }
                    v.to_owned()
                }
                CorrectableField::PostalCode => {
                    if v.len() != 5 || !v.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(err(
                            format!("{v:?} is not a postal code (5 digits)"),
                            format!("« {v} » n'est pas un code postal (5 chiffres)"),
                        ));
                    }
                    v.to_owned()
                }
                CorrectableField::CommuneCode => InseeCode::parse(v).map_err(|e| err(e.en, e.fr))?.as_str().to_owned(),
                CorrectableField::ExerciseMode => match ExerciseMode::from_code(v) {
                    ExerciseMode::Unknown => {
                        return Err(err(
                            format!("{v:?} is not an exercise mode (L, S or B)"),
                            format!("« {v} » n'est pas un mode d'exercice (L, S ou B)"),
                        ));
                    }
                    m => m.code().to_owned(),
                },
                CorrectableField::SnpParticipant | CorrectableField::AcceptsNewPatients => match parse_bool(v) {
                    Some(b) => b.to_string(),
                    None => {
                        return Err(err(format!("{v:?} is not yes or no"), format!("« {v} » n'est ni oui ni non")));
                    }
                },
            }
        };
        Ok(Self { field, place: place.map(str::to_owned), value })
    }
}

/// A value and whether a local correction set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub corrected: bool,
}

impl<T> Sourced<T> {
    fn imported(value: T) -> Self {
        Self { value, corrected: false }
    }
}

/// A practice place as users see it: imported values with corrections applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectivePlace {
    pub key: String,
    pub structure: StructureRef,
    pub address_line1: Sourced<Option<String>>,
    pub address_line2: Sourced<Option<String>>,
    pub postal_code: Sourced<Option<String>>,
    pub commune_code: Sourced<Option<InseeCode>>,
    pub commune_label: Option<String>,
    pub phone: Sourced<Option<String>>,
    pub email: Sourced<Option<String>>,
    pub exercise_mode: Sourced<ExerciseMode>,
    pub role: Option<String>,
}

/// A professional as users see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveProfessional {
    pub national_id: NationalId,
    pub civility: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub profession_code: String,
    pub profession_label: Option<String>,
    pub specialties: Vec<Specialty>,
    pub places: Vec<EffectivePlace>,
    pub mssante: Sourced<Option<String>>,
    pub snp_participant: Sourced<Option<bool>>,
    pub accepts_new_patients: Sourced<Option<bool>>,
    /// Corrections whose place no longer exists in the imported data (the place closed or its
    /// key changed): kept, not applied, shown for review.
    pub orphaned: Vec<Correction>,
}

fn opt_value(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_owned())
}

/// Overlays corrections on the imported professional. When several corrections target the
/// same value, the last one in `corrections` wins (keep them in chronological order).
pub fn effective(imported: &Professional, corrections: &[Correction]) -> EffectiveProfessional {
    let mut places: Vec<EffectivePlace> = imported
        .places
        .iter()
        .map(|p| EffectivePlace {
            key: p.key.clone(),
            structure: p.structure.clone(),
            address_line1: Sourced::imported(p.address.line1.clone()),
            address_line2: Sourced::imported(p.address.line2.clone()),
            postal_code: Sourced::imported(p.address.postal_code.clone()),
            commune_code: Sourced::imported(p.address.commune_code),
            commune_label: p.address.commune_label.clone(),
            phone: Sourced::imported(p.phone.clone()),
            email: Sourced::imported(p.email.clone()),
            exercise_mode: Sourced::imported(p.exercise_mode),
            role: p.role.clone(),
        })
        .collect();
    let mut mssante = Sourced::imported(None);
    let mut snp = Sourced::imported(None);
    let mut accepts = Sourced::imported(None);
    let mut orphaned = Vec::new();
    for c in corrections {
        let v = c.value.as_str();
        let set = |slot: &mut Sourced<Option<String>>| *slot = Sourced { value: opt_value(v), corrected: true };
        match c.field {
            CorrectableField::Mssante => set(&mut mssante),
            CorrectableField::SnpParticipant => snp = Sourced { value: parse_bool(v), corrected: true },
            CorrectableField::AcceptsNewPatients => accepts = Sourced { value: parse_bool(v), corrected: true },
            field => {
                let Some(place) = places.iter_mut().find(|p| Some(&p.key) == c.place.as_ref()) else {
                    orphaned.push(c.clone());
                    continue;
                };
                match field {
                    CorrectableField::Phone => set(&mut place.phone),
                    CorrectableField::Email => set(&mut place.email),
                    CorrectableField::AddressLine1 => set(&mut place.address_line1),
                    CorrectableField::AddressLine2 => set(&mut place.address_line2),
                    CorrectableField::PostalCode => set(&mut place.postal_code),
                    CorrectableField::CommuneCode => {
                        place.commune_code = Sourced { value: InseeCode::parse(v).ok(), corrected: true };
                        // The imported label names the imported commune: no longer true.
                        place.commune_label = None;
                    }
                    CorrectableField::ExerciseMode => {
                        place.exercise_mode = Sourced { value: ExerciseMode::from_code(v), corrected: true };
                    }
                    CorrectableField::Mssante
                    | CorrectableField::SnpParticipant
                    | CorrectableField::AcceptsNewPatients => {}
                }
            }
        }
    }
    EffectiveProfessional {
        national_id: imported.national_id,
        civility: imported.civility.clone(),
        family_name: imported.family_name.clone(),
        given_name: imported.given_name.clone(),
        profession_code: imported.profession_code.clone(),
        profession_label: imported.profession_label.clone(),
        specialties: imported.specialties.clone(),
        places,
        mssante,
        snp_participant: snp,
        accepts_new_patients: accepts,
        orphaned,
    }
}
