//! FHIR R4 export of the directory: one `Bundle` of type `collection` holding a `Practitioner`
//! per professional, a `PractitionerRole` per practice place, an `Organization` per structure
//! (deduplicated across professionals) and a `Location` per distinct address.
//!
//! The input is the effective view ([`EffectiveProfessional`]: imported values with the local
//! corrections applied), so the export shows what users see; for imported data alone, pass
//! `effective(&professional, &[])`.
//!
//! Everything stays within base FHIR R4 (4.0.1), so a generic validator accepts it; the French
//! national identifier systems, type codes, terminologies and the two extensions used are
//! those of the French profiles (FR Core, Interop'Santé; Annuaire Santé, ANS). Each constant
//! below names its source; `docs/directory.md` ("FHIR export") gives the table.
//!
//! The types here are a small typed subset of FHIR R4, serialized with serde to FHIR JSON
//! (`resourceType` first, empty lists and absent values left out). The caller serializes
//! (e.g. `serde_json::to_string(&bundle)`); nothing here does I/O, and the time is a parameter.
//! The output is deterministic: the same professionals, in any order, give the same bundle.

use super::model::{EffectivePlace, EffectiveProfessional, ExerciseMode, NationalId, Specialty, StructureRef};
use super::professions::{Nomenclature, profession};
use crate::ids::IDNST_SYSTEM;
use crate::refdata::Reference as RefData;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

/// National identifier of health professionals (IDNPS: `8` + RPPS, `0` + ADELI), FR Core
/// `fr-core-practitioner` slice `idNatPs` (also [`crate::ids::IDNPS_SYSTEM`]).
pub const IDNPS_SYSTEM: &str = crate::ids::IDNPS_SYSTEM;
/// Bare RPPS number (11 digits), FR Core `fr-core-practitioner` slice `rpps`.
pub const RPPS_SYSTEM: &str = "https://rpps.esante.gouv.fr";
/// National structure identifier (IDNST: `1` + FINESS, `3` + SIRET…), FR Core
/// `fr-core-organization` slice `idNatSt` (also [`crate::ids::IDNST_SYSTEM`]).
pub const IDNST: &str = IDNST_SYSTEM;
/// SIRET (and SIREN) numbers, FR Core `fr-core-organization` slices `siret`/`siren`.
pub const SIRENE_SYSTEM: &str = "https://sirene.fr";
/// FINESS numbers (EG or EJ), FR Core `fr-core-organization` slice `finess`.
pub const FINESS_SYSTEM: &str = "https://finess.esante.gouv.fr";
/// The extract's "Identifiant technique de la structure", under the system ANS `as-organization`
/// gives for "l'identifiant technique de la structure". Not verified to be the same identifier
/// (it may be FR Core's `rppsRang`, `https://rppsrang.esante.gouv.fr`): see docs/directory.md.
pub const ANS_STRUCTURE_SYSTEM: &str = "https://annuaire.sante.fr";
/// Identifier type codes (`IDNPS`, `RPPS`, `IDNST`, `FINEG`, `SIRET`, `INTRN`): FR Core 2.x
/// CodeSystem `fr-core-cs-v2-0203` (FR Core 1.x named it `http://interopsante.org/fhir/CodeSystem/fr-v2-0203`).
pub const IDENTIFIER_TYPE_SYSTEM: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
/// Health professions (TRE_G15), ANS terminology.
pub const TRE_G15_PROFESSION_SANTE: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";
/// Protected titles (ostéopathe, psychologue…), ANS TRE_R95.
pub const TRE_R95_USAGER_TITRE: &str = "https://mos.esante.gouv.fr/NOS/TRE_R95-UsagerTitre/FHIR/TRE-R95-UsagerTitre";
/// Social professions (assistant de service social), ANS TRE_R94.
pub const TRE_R94_PROFESSION_SOCIAL: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R94-ProfessionSocial/FHIR/TRE-R94-ProfessionSocial";
/// Kinds of savoir-faire (`S` spécialité ordinale, `CAPA`, `C`…), ANS TRE_R04.
pub const TRE_R04_TYPE_SAVOIR_FAIRE: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R04-TypeSavoirFaire/FHIR/TRE-R04-TypeSavoirFaire";
/// Ordinal specialties (`SM54` médecine générale…), ANS TRE_R38: the savoir-faire of kind `S`.
pub const TRE_R38_SPECIALITE_ORDINALE: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale";
/// Exercise mode (`L`, `S`, `B`), ANS TRE_R23, as in the ANS `as-practitionerrole` examples.
pub const TRE_R23_MODE_EXERCICE: &str = "https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice";
/// INSEE commune codes (COG, overseas included), ANS TRE_R13, the code system of FR Core's
/// value set `fr-core-vs-insee-code`.
pub const TRE_R13_COMMUNE_OM: &str = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM";
/// Kind of e-mail (`MSSANTE`), ANS TRE_R256, bound to the FR Core e-mail type extension.
pub const TRE_R256_TYPE_MESSAGERIE: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie";
/// FR Core extension on `ContactPoint` telling the kind of e-mail (MSSanté…).
pub const EXT_EMAIL_TYPE: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type";
/// FR Core extension on `Address` carrying the INSEE commune code.
pub const EXT_ADDRESS_INSEE_CODE: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code";

/// TRE_R04 codes (version 2025-10-16): a savoir-faire kind outside this list gets no coding.
const TRE_R04_CODES: [&str; 12] = ["C", "CAPA", "CEX", "CM", "DEC", "DNQ", "FQ", "OP", "PAC", "S", "SH", "SST"];

/// A FHIR R4 `Bundle` (only the elements the export uses).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bundle {
    #[serde(rename = "resourceType")]
    pub resource_type: &'static str,
    /// `collection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When the export was made (FHIR `instant`, UTC, to the second).
    pub timestamp: String,
    pub entry: Vec<BundleEntry>,
}

/// One resource of the bundle and its absolute URL (`{base}/{type}/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleEntry {
    #[serde(rename = "fullUrl")]
    pub full_url: String,
    pub resource: Resource,
}

/// The resources of the export. Serialized with `resourceType` as the tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resourceType")]
pub enum Resource {
    Practitioner(Practitioner),
    PractitionerRole(PractitionerRole),
    Organization(Organization),
    Location(Location),
}

impl Resource {
    pub fn resource_type(&self) -> &'static str {
        match self {
            Self::Practitioner(_) => "Practitioner",
            Self::PractitionerRole(_) => "PractitionerRole",
            Self::Organization(_) => "Organization",
            Self::Location(_) => "Location",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Self::Practitioner(r) => &r.id,
            Self::PractitionerRole(r) => &r.id,
            Self::Organization(r) => &r.id,
            Self::Location(r) => &r.id,
        }
    }
}

/// A professional: national identifiers, name, profession and savoir-faire, MSSanté address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Practitioner {
    /// The national id (`810002909371`, `0789310596`).
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    pub active: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub qualification: Vec<Qualification>,
}

/// `Practitioner.qualification`: the profession, or one savoir-faire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Qualification {
    pub code: CodeableConcept,
}

/// A professional at one practice place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PractitionerRole {
    /// National id, `-`, 16 hex digits of the place key.
    pub id: String,
    pub active: bool,
    pub practitioner: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Reference>,
    /// Profession, exercise mode (TRE_R23), role at the place (text).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub specialty: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
}

/// A structure (company, establishment, practice) named by the extract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    /// `finess-…`, else `siret-…`, else `ans-…` (technical id).
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A practice address, shared by every place at the same address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    /// `loc-` and 16 hex digits of the normalized address.
    pub id: String,
    /// `active`.
    pub status: &'static str,
    /// `instance`.
    pub mode: &'static str,
    pub address: Address,
}

/// FHIR `Identifier`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identifier {
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<&'static str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<CodeableConcept>,
    pub system: String,
    pub value: String,
}

/// FHIR `CodeableConcept`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeableConcept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// FHIR `Coding`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    pub system: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// FHIR `HumanName`: exercise civility (`DR`, `PR`) as suffix and civility (`M`, `MME`) as
/// prefix, as FR Core and the ANS examples do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HumanName {
    #[serde(rename = "use")]
    pub use_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suffix: Vec<String>,
}

/// FHIR `ContactPoint`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactPoint {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// `phone` or `email`.
    pub system: &'static str,
    pub value: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// A FHIR `Extension` whose value is a `Coding` (the only kind the export uses).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub url: &'static str,
    #[serde(rename = "valueCoding")]
    pub value_coding: Coding,
}

/// FHIR `Address`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Address {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(rename = "use")]
    pub use_: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(rename = "postalCode", skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// FHIR `Reference`: a relative reference (`Practitioner/810002909371`), resolved against the
/// entries' `fullUrl`s, and/or a display text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Bundle {
    /// The resources of one type, in bundle order.
    pub fn resources<'a>(&'a self, resource_type: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.entry.iter().map(|e| &e.resource).filter(move |r| r.resource_type() == resource_type)
    }
}

/// The base URL given for the `fullUrl`s is not an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct FhirExportError {
    pub en: String,
    pub fr: String,
}

/// Builds the bundle.
///
/// - `generated_at` becomes `Bundle.timestamp`.
/// - `base_url` (`https://cpts.example/fhir`, a trailing `/` is dropped) names the resources:
///   each entry's `fullUrl` is `{base_url}/{type}/{id}`, and references between resources are
///   relative (`Organization/siret-…`), as FHIR resolves them inside a bundle. Nothing needs to
///   be served at that address.
///
/// Resource ids are derived from the data, so two exports of the same directory name the same
/// things the same way. National ids are unique in a directory; should one appear twice, the
/// first in national-id order (then input order) is exported.
pub fn directory_bundle(
    professionals: &[EffectiveProfessional],
    generated_at: DateTime<Utc>,
    base_url: &str,
) -> Result<Bundle, FhirExportError> {
    let base = check_base_url(base_url)?;
    let mut sorted: Vec<&EffectiveProfessional> = professionals.iter().collect();
    sorted.sort_by_key(|p| p.national_id);

    let mut practitioners: BTreeMap<String, Practitioner> = BTreeMap::new();
    let mut roles: BTreeMap<String, PractitionerRole> = BTreeMap::new();
    let mut organizations = Organizations::default();
    let mut locations = Locations::default();

    for p in sorted {
        let practitioner = practitioner(p);
        let MapEntry::Vacant(slot) = practitioners.entry(practitioner.id.clone()) else { continue };
        let practitioner = slot.insert(practitioner);
        let display = practitioner.name.first().and_then(display_name);
        for place in &p.places {
            let organization = organizations.add(&place.structure);
            let location = locations.add(place);
            let role = practitioner_role(p, place, &practitioner.id, display.clone(), organization, location);
            roles.insert(role.id.clone(), role);
        }
    }

    // Name the organizations in the roles' references, from everything seen.
    for role in roles.values_mut() {
        if let Some(reference) = &mut role.organization
            && let Some(id) = reference.reference.as_deref().and_then(|r| r.strip_prefix("Organization/"))
        {
            reference.display = organizations.by_id.get(id).and_then(|o| o.name.clone());
        }
    }

    let mut entry = Vec::new();
    let mut push = |resource: Resource| {
        let full_url = format!("{base}/{}/{}", resource.resource_type(), resource.id());
        entry.push(BundleEntry { full_url, resource });
    };
    practitioners.into_values().map(Resource::Practitioner).for_each(&mut push);
    roles.into_values().map(Resource::PractitionerRole).for_each(&mut push);
    organizations.by_id.into_values().map(Resource::Organization).for_each(&mut push);
    locations.by_id.into_values().map(|(_, l)| Resource::Location(l)).for_each(&mut push);

    Ok(Bundle {
        resource_type: "Bundle",
        kind: "collection",
        timestamp: generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        entry,
    })
}

fn check_base_url(base_url: &str) -> Result<&str, FhirExportError> {
    let base = base_url.trim().trim_end_matches('/');
    let rest = base.strip_prefix("https://").or_else(|| base.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && !r.chars().any(|c| c.is_whitespace() || c.is_control() || "?#".contains(c))
    });
    if ok {
        Ok(base)
    } else {
        Err(FhirExportError {
            en: format!("{base_url:?} is not an absolute http(s) URL without query or fragment"),
            fr: format!("« {base_url} » n'est pas une URL http(s) absolue sans requête ni fragment"),
        })
    }
}

/// A trimmed, non-empty copy (FHIR strings are never empty).
fn text(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn coding(system: &str, code: &str, display: Option<&str>) -> Coding {
    Coding { system: system.to_owned(), code: code.to_owned(), display: text(display) }
}

fn identifier(kind: &str, system: &str, value: String) -> Identifier {
    Identifier {
        use_: Some("official"),
        kind: Some(CodeableConcept { coding: vec![coding(IDENTIFIER_TYPE_SYSTEM, kind, None)], text: None }),
        system: system.to_owned(),
        value,
    }
}

/// 64-bit FNV-1a over the parts (separated by a unit separator): stable across builds and
/// platforms, unlike `std`'s hasher.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Whether `id` is a valid FHIR id (`[A-Za-z0-9\-\.]{1,64}`).
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn practitioner(p: &EffectiveProfessional) -> Practitioner {
    let (system, national) = p.national_id.fhir_identifier();
    let mut identifiers = vec![identifier("IDNPS", system, national.clone())];
    if let NationalId::Rpps(rpps) = p.national_id {
        identifiers.push(identifier("RPPS", RPPS_SYSTEM, rpps.as_str().to_owned()));
    }
    let (prefix, suffix) = match text(p.civility.as_deref()) {
        None => (vec![], vec![]),
        Some(c) if matches!(c.to_uppercase().as_str(), "M" | "MME" | "MLLE") => (vec![c], vec![]),
        Some(c) => (vec![], vec![c]),
    };
    let name = HumanName {
        use_: "usual",
        family: text(Some(&p.family_name)),
        given: text(Some(&p.given_name)).into_iter().collect(),
        prefix,
        suffix,
    };
    let telecom = text(p.mssante.value.as_deref())
        .map(|address| ContactPoint {
            extension: vec![Extension {
                url: EXT_EMAIL_TYPE,
                value_coding: coding(TRE_R256_TYPE_MESSAGERIE, "MSSANTE", None),
            }],
            system: "email",
            value: address,
            use_: "work",
        })
        .into_iter()
        .collect();
    let mut qualification = vec![Qualification { code: profession_concept(p) }];
    qualification.extend(p.specialties.iter().filter_map(specialty_concept).map(|code| Qualification { code }));
    Practitioner { id: national, identifier: identifiers, active: true, name: vec![name], telecom, qualification }
}

fn display_name(name: &HumanName) -> Option<String> {
    let words: Vec<&str> = name.given.iter().chain(&name.family).map(String::as_str).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The profession in its ANS terminology (TRE_G15, or TRE_R95/TRE_R94 for the few codes of
/// those); a code missing from the embedded table keeps only its text.
fn profession_concept(p: &EffectiveProfessional) -> CodeableConcept {
    match profession(&p.profession_code) {
        Some(known) => {
            let system = match known.nomenclature {
                Nomenclature::TreG15 => TRE_G15_PROFESSION_SANTE,
                Nomenclature::TreR95 => TRE_R95_USAGER_TITRE,
                Nomenclature::TreR94 => TRE_R94_PROFESSION_SOCIAL,
            };
            CodeableConcept { coding: vec![coding(system, &known.code, Some(&known.label))], text: None }
        }
        None => {
            let code = p.profession_code.trim();
            let label = text(p.profession_label.as_deref());
            let text = match label {
                Some(l) if !code.is_empty() => format!("{l} ({code})"),
                Some(l) => l,
                None => format!("profession {code}"),
            };
            CodeableConcept { coding: vec![], text: Some(text) }
        }
    }
}

/// A savoir-faire: its kind in TRE_R04 and, for ordinal specialties (kind `S`), its code in
/// TRE_R38. The codes of other kinds belong to terminologies the extract does not name: they
/// are kept as text.
fn specialty_concept(s: &Specialty) -> Option<CodeableConcept> {
    let code = s.code.trim();
    let kind = s.kind.trim();
    let label = text(Some(&s.label));
    if code.is_empty() && label.is_none() {
        return None;
    }
    let mut coding_list = Vec::new();
    if TRE_R04_CODES.contains(&kind) {
        coding_list.push(coding(TRE_R04_TYPE_SAVOIR_FAIRE, kind, None));
    }
    let text = if kind == "S" && !code.is_empty() {
        coding_list.push(coding(TRE_R38_SPECIALITE_ORDINALE, code, label.as_deref()));
        None
    } else {
        Some(match (label, code) {
            (Some(l), "") => l,
            (Some(l), c) => format!("{l} ({c})"),
            (None, c) => c.to_owned(),
        })
    };
    Some(CodeableConcept { coding: coding_list, text })
}

fn practitioner_role(
    p: &EffectiveProfessional,
    place: &EffectivePlace,
    practitioner_id: &str,
    display: Option<String>,
    organization: Option<Reference>,
    location: Option<String>,
) -> PractitionerRole {
    let mut code = vec![profession_concept(p)];
    if let mode @ (ExerciseMode::Liberal | ExerciseMode::Salarie | ExerciseMode::Benevole) = place.exercise_mode.value {
        code.push(CodeableConcept { coding: vec![coding(TRE_R23_MODE_EXERCICE, mode.code(), None)], text: None });
    }
    if let Some(role) = text(place.role.as_deref()) {
        code.push(CodeableConcept { coding: vec![], text: Some(role) });
    }
    let mut telecom = Vec::new();
    for (system, value) in [("phone", &place.phone.value), ("email", &place.email.value)] {
        if let Some(value) = text(value.as_deref()) {
            telecom.push(ContactPoint { extension: vec![], system, value, use_: "work" });
        }
    }
    PractitionerRole {
        id: format!("{practitioner_id}-{:016x}", fnv1a(&[&place.key])),
        active: true,
        practitioner: Reference { reference: Some(format!("Practitioner/{practitioner_id}")), display },
        organization,
        code,
        specialty: p.specialties.iter().filter_map(specialty_concept).collect(),
        location: location
            .map(|id| Reference { reference: Some(format!("Location/{id}")), display: None })
            .into_iter()
            .collect(),
        telecom,
    }
}

/// Organizations met so far, deduplicated: two structures are the same when they share the
/// technical id, the SIRET or the FINESS number.
#[derive(Default)]
struct Organizations {
    by_id: BTreeMap<String, Organization>,
    /// `ans:…`, `siret:…`, `finess:…` → organization id.
    keys: BTreeMap<String, String>,
}

impl Organizations {
    /// The reference to the structure's organization (created or completed), a display-only
    /// reference when the structure has a name but no identifier, or nothing.
    fn add(&mut self, s: &StructureRef) -> Option<Reference> {
        let technical = text(s.technical_id.as_deref());
        // National numbers first: the id comes from the first key, so a structure is named
        // the same whichever of its lines (with or without technical id) is exported.
        let keys: Vec<(&str, String)> = [
            s.finess.map(|v| ("finess", v.as_str().to_owned())),
            s.siret.map(|v| ("siret", v.as_str().to_owned())),
            technical.clone().map(|t| ("ans", t)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let name = text(s.name.as_deref());
        let Some((kind, value)) = keys.first() else {
            return name.map(|n| Reference { reference: None, display: Some(n) });
        };
        let id = match keys.iter().find_map(|(k, v)| self.keys.get(&format!("{k}:{v}"))) {
            Some(id) => id.clone(),
            None => {
                let candidate = format!("{kind}-{value}");
                if valid_id(&candidate) { candidate } else { format!("{kind}-{:016x}", fnv1a(&[value])) }
            }
        };
        for (k, v) in &keys {
            self.keys.entry(format!("{k}:{v}")).or_insert_with(|| id.clone());
        }
        let org = self.by_id.entry(id.clone()).or_insert_with(|| Organization {
            id: id.clone(),
            identifier: vec![],
            active: true,
            name: None,
        });
        if org.name.is_none() {
            org.name.clone_from(&name);
        }
        let mut wanted = Vec::new();
        // One national structure id (IDNST): FINESS (`1` + FINESS) when there is one, else
        // SIRET (`3` + SIRET), per FR Core's idNatSt prefixes.
        if let Some(f) = s.finess {
            let (system, value) = f.fhir_identifier();
            wanted.push(identifier("IDNST", system, value));
            wanted.push(identifier("FINEG", FINESS_SYSTEM, f.as_str().to_owned()));
        } else if let Some(siret) = s.siret {
            wanted.push(identifier("IDNST", IDNST, format!("3{}", siret.as_str())));
        }
        if let Some(siret) = s.siret {
            wanted.push(identifier("SIRET", SIRENE_SYSTEM, siret.as_str().to_owned()));
        }
        if let Some(t) = technical {
            wanted.push(identifier("INTRN", ANS_STRUCTURE_SYSTEM, t));
        }
        for w in wanted {
            // Keep the first identifier of each kind: a structure seen again with another
            // value (inconsistent data) does not get two IDNSTs.
            let kind = w.kind.as_ref().and_then(|k| k.coding.first()).map(|c| c.code.clone());
            let known = org.identifier.iter().any(|i| {
                i.system == w.system && i.kind.as_ref().and_then(|k| k.coding.first()).map(|c| c.code.clone()) == kind
            });
            if !known {
                org.identifier.push(w);
            }
        }
        org.identifier.sort_by_key(identifier_rank);
        // The display is set once every structure is known (see `directory_bundle`).
        Some(Reference { reference: Some(format!("Organization/{id}")), display: None })
    }
}

fn identifier_rank(i: &Identifier) -> usize {
    let code = i.kind.as_ref().and_then(|k| k.coding.first()).map(|c| c.code.as_str()).unwrap_or_default();
    ["IDNST", "FINEG", "SIRET", "INTRN"].iter().position(|c| *c == code).unwrap_or(usize::MAX)
}

/// Locations met so far, one per distinct address (compared ignoring case and spacing).
#[derive(Default)]
struct Locations {
    /// id → (normalized key, location).
    by_id: BTreeMap<String, (String, Location)>,
}

impl Locations {
    /// The id of the place's location, or nothing when the place has no address at all.
    fn add(&mut self, place: &EffectivePlace) -> Option<String> {
        let line: Vec<String> = [place.address_line1.value.as_deref(), place.address_line2.value.as_deref()]
            .into_iter()
            .filter_map(text)
            .collect();
        let postal_code = text(place.postal_code.value.as_deref());
        let insee = place.commune_code.value;
        let city = text(place.commune_label.as_deref()).or_else(|| {
            // A corrected commune has no imported label: name it from the reference communes.
            let code = insee?;
            RefData::try_embedded().ok()?.commune(code.as_str()).map(|c| c.name.clone())
        });
        if line.is_empty() && postal_code.is_none() && insee.is_none() && city.is_none() {
            return None;
        }
        let normalize = |v: &str| v.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
        let key_parts = [
            line.first().map(|l| normalize(l)).unwrap_or_default(),
            line.get(1).map(|l| normalize(l)).unwrap_or_default(),
            postal_code.clone().unwrap_or_default(),
            insee.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            city.as_deref().map(normalize).unwrap_or_default(),
        ];
        let key = key_parts.join("\u{1f}");
        // Resolve a (very unlikely) hash collision between different addresses by rehashing.
        let mut salt = 0u32;
        let id = loop {
            let salt_text = salt.to_string();
            let mut parts: Vec<&str> = key_parts.iter().map(String::as_str).collect();
            if salt > 0 {
                parts.push(&salt_text);
            }
            let id = format!("loc-{:016x}", fnv1a(&parts));
            match self.by_id.get(&id) {
                Some((existing, _)) if *existing != key => salt += 1,
                _ => break id,
            }
        };
        self.by_id.entry(id.clone()).or_insert_with(|| {
            let extension = insee
                .map(|c| Extension {
                    url: EXT_ADDRESS_INSEE_CODE,
                    value_coding: coding(TRE_R13_COMMUNE_OM, c.as_str(), None),
                })
                .into_iter()
                .collect();
            let address = Address { extension, use_: "work", line, city, postal_code };
            (key, Location { id: id.clone(), status: "active", mode: "instance", address })
        });
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_must_be_absolute_http() {
        assert_eq!(check_base_url("https://cpts.example/fhir/").unwrap(), "https://cpts.example/fhir");
        assert_eq!(check_base_url(" http://localhost:8080 ").unwrap(), "http://localhost:8080");
        for bad in ["", "cpts.example/fhir", "https://", "https:///x", "https://a b", "https://x/?q=1", "ftp://x"] {
            let e = check_base_url(bad).unwrap_err();
            assert!(e.en.contains("absolute") && e.fr.contains("absolue"), "{bad:?}: {e:?}");
        }
    }

    #[test]
    fn fnv1a_is_the_reference_function() {
        // FNV-1a 64 of "a" is af63dc4c8601ec8c; ours appends a unit separator to each part.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        h ^= u64::from(b'a');
        h = h.wrapping_mul(0x0100_0000_01b3);
        assert_eq!(h, 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a(&["a", "b"]), fnv1a(&["ab"]));
        assert_ne!(fnv1a(&["a", ""]), fnv1a(&["", "a"]));
    }

    #[test]
    fn ids_follow_the_fhir_id_rule() {
        assert!(valid_id("810002909371") && valid_id("ans-R10002909371001") && valid_id("a.b-c"));
        assert!(!valid_id("") && !valid_id("a b") && !valid_id("a/b") && !valid_id("é") && !valid_id(&"x".repeat(65)));
    }

    #[test]
    fn specialties_get_codes_only_where_the_terminology_is_known() {
        let s = |kind: &str, code: &str, label: &str| Specialty {
            kind: kind.into(),
            code: code.into(),
            label: label.into(),
        };
        let gp = specialty_concept(&s("S", "SM54", "Médecine générale")).unwrap();
        assert_eq!(gp.coding.len(), 2);
        assert_eq!((gp.coding[1].system.as_str(), gp.coding[1].code.as_str()), (TRE_R38_SPECIALITE_ORDINALE, "SM54"));
        assert_eq!(gp.text, None);
        let capa = specialty_concept(&s("CAPA", "CAPA12", "Gérontologie")).unwrap();
        assert_eq!(capa.coding.len(), 1);
        assert_eq!(capa.coding[0].code, "CAPA");
        assert_eq!(capa.text.as_deref(), Some("Gérontologie (CAPA12)"));
        let odd = specialty_concept(&s("ZZ", "X1", "")).unwrap();
        assert!(odd.coding.is_empty());
        assert_eq!(odd.text.as_deref(), Some("X1"));
        assert_eq!(specialty_concept(&s("S", " ", " ")), None);
    }
}
