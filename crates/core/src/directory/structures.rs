//! The structures of the territory (MSP, centres de santé, hospitals, EHPAD, pharmacies,
//! patient associations, local authorities…) as the CPTS keeps them, the links of professionals
//! to them and between them.
//!
//! The Annuaire Santé names the structure of each practice place (technical id, FINESS, SIRET,
//! name) but says nothing of EHPAD without physicians, associations or local authorities, and
//! nothing of what kind a structure is for a CPTS. So structures are kept locally: created by the
//! coordination (possibly from a structure seen in the extract, see [`imported_structures`]) and
//! matched to the imported practice places by identifier, which links the professionals who
//! practise there without anyone typing it; other links are recorded by hand.

use super::model::{CorrectableField, Correction, PracticePlace, StructureKind, StructureRef};
use crate::ids::{Finess, InseeCode, Siret};
use serde::Serialize;
use std::collections::BTreeMap;

/// A structure of the CPTS's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Structure {
    /// Opaque, stable id given at creation.
    pub id: String,
    pub kind: StructureKind,
    pub name: String,
    /// FINESS number of the site (établissement), when it has one.
    pub finess: Option<Finess>,
    pub siret: Option<Siret>,
    /// The Annuaire Santé's technical id of the structure: links the imported practice places
    /// even when they carry neither FINESS nor SIRET.
    pub technical_id: Option<String>,
    pub address_line1: Option<String>,
    pub postal_code: Option<String>,
    pub commune_code: Option<InseeCode>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// MSSanté secure-messaging address of the structure.
    pub mssante: Option<String>,
    /// Free note of the coordination (what the structure does for the CPTS, contact person…).
    pub note: Option<String>,
}

impl Structure {
    /// Whether an imported practice place belongs to this structure: same technical id, FINESS
    /// or SIRET.
    pub fn holds(&self, place: &StructureRef) -> bool {
        (self.technical_id.is_some() && self.technical_id == place.technical_id)
            || (self.finess.is_some() && self.finess == place.finess)
            || (self.siret.is_some() && self.siret == place.siret)
    }
}

/// The fields of a structure as typed in a form (or a CSV line), before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct StructureForm {
    pub kind: String,
    pub name: String,
    pub finess: String,
    pub siret: String,
    pub technical_id: String,
    pub address_line1: String,
    pub postal_code: String,
    pub commune_code: String,
    pub phone: String,
    pub email: String,
    pub mssante: String,
    pub note: String,
}

/// One field of a [`StructureForm`] that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {en}")]
pub struct StructureFieldError {
    /// The form field's name (`finess`, `commune_code`…).
    pub field: &'static str,
    pub en: String,
    pub fr: String,
}

fn opt(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty()).then_some(v)
}

/// A single line of free text of at most `max` characters.
fn line(field: &'static str, v: &str, max: usize, errors: &mut Vec<StructureFieldError>) -> Option<String> {
    let v = opt(v)?;
    if v.chars().count() > max || v.contains(['\n', '\r']) {
        errors.push(StructureFieldError {
            field,
            en: format!("at most {max} characters, on one line"),
            fr: format!("au plus {max} caractères, sur une ligne"),
        });
        return None;
    }
    Some(v.to_owned())
}

/// An optional identifier: parsed when given, its error recorded otherwise.
fn identifier<T>(
    field: &'static str,
    v: &str,
    parse: fn(&str) -> Result<T, crate::ids::IdError>,
    errors: &mut Vec<StructureFieldError>,
) -> Option<T> {
    match parse(opt(v)?) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(StructureFieldError { field, en: e.en, fr: e.fr });
            None
        }
    }
}

/// Checks a value with the same rules as a professional's correction of `as_field`.
fn like_correction(
    field: &'static str,
    as_field: CorrectableField,
    v: &str,
    errors: &mut Vec<StructureFieldError>,
) -> Option<String> {
    let v = opt(v)?;
    let place = as_field.per_place().then_some("-");
    match Correction::new(as_field, place, v) {
        Ok(c) => Some(c.value),
        Err(e) => {
            errors.push(StructureFieldError { field, en: e.en, fr: e.fr });
            None
        }
    }
}

impl StructureForm {
    /// Checks every field and gives the structure, or every problem at once.
    pub fn parse(&self, id: &str) -> Result<Structure, Vec<StructureFieldError>> {
        let mut errors = Vec::new();
        let kind = match self.kind.trim().parse::<StructureKind>() {
            Ok(k) => Some(k),
            Err(_) => {
                errors.push(StructureFieldError {
                    field: "kind",
                    en: format!("unknown structure kind {:?}", self.kind.trim()),
                    fr: "choisissez le type de structure".into(),
                });
                None
            }
        };
        let name = line("name", &self.name, 200, &mut errors);
        if opt(&self.name).is_none() {
            errors.push(StructureFieldError {
                field: "name",
                en: "a name is required".into(),
                fr: "le nom est obligatoire".into(),
            });
        }
        let finess = identifier("finess", &self.finess, Finess::parse, &mut errors);
        let siret = identifier("siret", &self.siret, Siret::parse, &mut errors);
        let technical_id = line("technical_id", &self.technical_id, 40, &mut errors);
        let address_line1 =
            like_correction("address_line1", CorrectableField::AddressLine1, &self.address_line1, &mut errors);
        let postal_code = like_correction("postal_code", CorrectableField::PostalCode, &self.postal_code, &mut errors);
        let commune_code = identifier("commune_code", &self.commune_code, InseeCode::parse, &mut errors);
        let phone = like_correction("phone", CorrectableField::Phone, &self.phone, &mut errors);
        let email = like_correction("email", CorrectableField::Email, &self.email, &mut errors);
        let mssante = like_correction("mssante", CorrectableField::Mssante, &self.mssante, &mut errors);
        let note = match opt(&self.note) {
            Some(n) if n.chars().count() > 2000 => {
                errors.push(StructureFieldError {
                    field: "note",
                    en: "at most 2000 characters".into(),
                    fr: "au plus 2 000 caractères".into(),
                });
                None
            }
            n => n.map(str::to_owned),
        };
        match (kind, name) {
            (Some(kind), Some(name)) if errors.is_empty() => Ok(Structure {
                id: id.to_owned(),
                kind,
                name,
                finess,
                siret,
                technical_id,
                address_line1,
                postal_code,
                commune_code,
                phone,
                email,
                mssante,
                note,
            }),
            _ => Err(errors),
        }
    }

    /// The form showing a structure (to edit it).
    pub fn of(s: &Structure) -> Self {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            kind: s.kind.code().to_owned(),
            name: s.name.clone(),
            finess: s.finess.map(|f| f.as_str().to_owned()).unwrap_or_default(),
            siret: s.siret.map(|f| f.as_str().to_owned()).unwrap_or_default(),
            technical_id: o(&s.technical_id),
            address_line1: o(&s.address_line1),
            postal_code: o(&s.postal_code),
            commune_code: s.commune_code.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            phone: o(&s.phone),
            email: o(&s.email),
            mssante: o(&s.mssante),
            note: o(&s.note),
        }
    }
}

/// How two structures of the territory are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// A written agreement (convention) between the two: e.g. an EHPAD and an MSP for
    /// on-call visits, a hospital and the CPTS's pharmacies for discharges.
    Convention,
    /// The first is a site (antenne) of the second.
    SiteOf,
    /// The first belongs to the second (an MSP to a group, an hospital to a GHT…).
    MemberOf,
    /// Works together without a written agreement.
    Partner,
}

impl RelationKind {
    pub const ALL: [RelationKind; 4] = [Self::Convention, Self::SiteOf, Self::MemberOf, Self::Partner];

    pub fn code(self) -> &'static str {
        match self {
            Self::Convention => "convention",
            Self::SiteOf => "site_of",
            Self::MemberOf => "member_of",
            Self::Partner => "partner",
        }
    }

    /// How the relation reads from the first structure ("… est un site de …").
    pub fn fr(self) -> &'static str {
        match self {
            Self::Convention => "a signé une convention avec",
            Self::SiteOf => "est un site de",
            Self::MemberOf => "fait partie de",
            Self::Partner => "travaille avec",
        }
    }

    /// How the relation reads from the second structure.
    pub fn fr_reverse(self) -> &'static str {
        match self {
            Self::Convention => "a signé une convention avec",
            Self::SiteOf => "a pour site",
            Self::MemberOf => "regroupe",
            Self::Partner => "travaille avec",
        }
    }
}

impl std::str::FromStr for RelationKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim()).ok_or_else(|| format!("unknown relation {s:?}"))
    }
}

/// A link between two structures, read from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructureRelation {
    pub from: String,
    pub to: String,
    pub kind: RelationKind,
    pub note: Option<String>,
}

/// A professional's link to a structure recorded by hand (the links found through the imported
/// practice places need none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfessionalLink {
    pub structure_id: String,
    pub national_id: String,
    /// Role in the structure ("médecin coordonnateur", "pharmacien titulaire", "référent
    /// CPTS"…), if any.
    pub role: Option<String>,
}

/// Checks a role typed in a form: optional, one line, at most 100 characters.
pub fn parse_role(role: &str) -> Result<Option<String>, StructureFieldError> {
    let mut errors = Vec::new();
    let role = line("role", role, 100, &mut errors);
    match errors.pop() {
        Some(e) => Err(e),
        None => Ok(role),
    }
}

/// A structure as the imported practice places name it, with how many professionals practise
/// there: what a coordinator can add to the directory in one click.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedStructure {
    pub structure: StructureRef,
    pub commune_code: Option<InseeCode>,
    pub commune_label: Option<String>,
    pub address_line1: Option<String>,
    pub postal_code: Option<String>,
    pub professionals: u32,
    /// A guess from the ANS sector code and the name; the coordinator confirms.
    pub suggested_kind: Option<StructureKind>,
}

/// The key that identifies a structure of the extract: technical id, else FINESS, else SIRET.
fn structure_key(s: &StructureRef) -> Option<String> {
    s.technical_id
        .clone()
        .or_else(|| s.finess.map(|f| format!("finess:{}", f.as_str())))
        .or_else(|| s.siret.map(|f| format!("siret:{}", f.as_str())))
}

/// A kind suggested by words of the name or, failing that, by the ANS sector of activity
/// (TRE_R02, `SA01`–`SA05`): the name goes first because the sector says who pays, not what
/// the place is (a public EHPAD's physicians are in `SA01`, like a hospital's).
pub fn suggest_kind(sector: Option<&str>, name: Option<&str>) -> Option<StructureKind> {
    let name = name.map(crate::text::fold_for_search).unwrap_or_default();
    let has = |w: &str| name.split(|c: char| !c.is_alphanumeric()).any(|t| t == w);
    let guesses = [
        ("maison de sante", StructureKind::Msp),
        ("msp", StructureKind::Msp),
        ("pole de sante", StructureKind::Msp),
        ("centre de sante", StructureKind::CentreSante),
        ("ehpad", StructureKind::Ehpad),
        ("ssiad", StructureKind::SoinsDomicile),
        ("hospitalisation a domicile", StructureKind::SoinsDomicile),
        ("pharmacie", StructureKind::Pharmacie),
        ("laboratoire", StructureKind::Laboratoire),
        ("biologie", StructureKind::Laboratoire),
        ("centre hospitalier", StructureKind::Hopital),
        ("hopital", StructureKind::Hopital),
        ("clinique", StructureKind::Clinique),
    ];
    let by_name = guesses.into_iter().find(|(w, _)| if w.contains(' ') { name.contains(w) } else { has(w) });
    if let Some((_, kind)) = by_name {
        return Some(kind);
    }
    match sector.map(str::trim) {
        Some("SA01" | "SA02" | "SA03") => Some(StructureKind::Hopital),
        Some("SA04") => Some(StructureKind::Clinique),
        Some("SA05") => Some(StructureKind::CentreSante),
        _ => None,
    }
}

/// The distinct structures named by the practice places of the professionals, with the number
/// of professionals at each, most staffed first, then by name. Kept: places shared by several
/// professionals, and single-professional places whose kind can be guessed (a hospital, an EHPAD
/// where one physician of the territory works) unless they are an individual practice (`SA07`).
/// Left out: places without any structure identifier, and one-person practices — they are the
/// professional, not a structure.
pub fn imported_structures<'a>(
    places: impl IntoIterator<Item = (&'a str, &'a PracticePlace)>,
) -> Vec<ImportedStructure> {
    let mut by_key: BTreeMap<String, (ImportedStructure, Vec<&'a str>, bool)> = BTreeMap::new();
    for (national_id, place) in places {
        let Some(key) = structure_key(&place.structure) else { continue };
        let individual = place.sector.as_deref() == Some("SA07");
        let entry = by_key.entry(key).or_insert_with(|| {
            (
                ImportedStructure {
                    structure: place.structure.clone(),
                    commune_code: place.address.commune_code,
                    commune_label: place.address.commune_label.clone(),
                    address_line1: place.address.line1.clone(),
                    postal_code: place.address.postal_code.clone(),
                    professionals: 0,
                    suggested_kind: suggest_kind(place.sector.as_deref(), place.structure.name.as_deref()),
                },
                Vec::new(),
                individual,
            )
        });
        if !entry.1.contains(&national_id) {
            entry.1.push(national_id);
            entry.0.professionals += 1;
        }
    }
    let mut out: Vec<ImportedStructure> = by_key
        .into_values()
        .filter(|(s, _, individual)| s.professionals >= 2 || (s.suggested_kind.is_some() && !individual))
        .map(|(s, _, _)| s)
        .collect();
    out.sort_by(|a, b| b.professionals.cmp(&a.professionals).then_with(|| a.structure.name.cmp(&b.structure.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::model::{Address, ExerciseMode};

    fn form() -> StructureForm {
        StructureForm {
            kind: "msp".into(),
            name: "MSP du Blaisois".into(),
            finess: "410009278".into(),
            commune_code: "41018".into(),
            phone: "02 54 00 00 00".into(),
            mssante: "msp@blaisois.mssante.fr".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_form_gives_a_normalised_structure() {
        let s = form().parse("s1").unwrap();
        assert_eq!(s.kind, StructureKind::Msp);
        assert_eq!(s.phone.as_deref(), Some("0254000000"));
        assert_eq!(s.commune_code.unwrap().as_str(), "41018");
        assert_eq!(StructureForm::of(&s).parse("s1").unwrap(), s);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let f = StructureForm {
            kind: "garage".into(),
            name: " ".into(),
            finess: "41000927".into(),
            siret: "123".into(),
            commune_code: "4101".into(),
            phone: "abc".into(),
            mssante: "x@gmail.com".into(),
            ..Default::default()
        };
        let fields: Vec<&str> = f.parse("s").unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["kind", "name", "finess", "siret", "commune_code", "phone", "mssante"]);
    }

    fn place(tid: Option<&str>, finess: Option<&str>, name: &str, sector: &str) -> PracticePlace {
        PracticePlace {
            key: "k".into(),
            structure: StructureRef {
                technical_id: tid.map(str::to_owned),
                siret: None,
                finess: finess.map(|f| Finess::parse(f).unwrap()),
                name: Some(name.into()),
            },
            address: Address::default(),
            phone: None,
            email: None,
            exercise_mode: ExerciseMode::Liberal,
            role: None,
            sector: Some(sector.into()),
        }
    }

    #[test]
    fn structures_of_the_extract_are_grouped_counted_and_guessed() {
        let msp = place(Some("T1"), None, "MAISON DE SANTE DE VINEUIL", "SA08");
        let ch = place(Some("T2"), Some("410000087"), "CENTRE HOSPITALIER SIMONE VEIL", "SA01");
        let solo = place(Some("T3"), None, "CABINET DR X", "SA07");
        let alone_in_group = place(Some("T4"), None, "CABINET DE SANTE Y", "SA08");
        let pharmacist = place(Some("T5"), None, "PHARMACIE DU CENTRE", "SA07");
        let list = imported_structures([
            ("a", &msp),
            ("b", &msp),
            ("b", &msp),
            ("c", &ch),
            ("d", &solo),
            ("e", &alone_in_group),
            ("f", &pharmacist),
        ]);
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!(list[0].professionals, 2);
        assert_eq!(list[0].suggested_kind, Some(StructureKind::Msp));
        assert_eq!(list[1].suggested_kind, Some(StructureKind::Hopital));
        let s = Structure {
            technical_id: None,
            finess: Some(Finess::parse("410000087").unwrap()),
            ..form().parse("x").unwrap()
        };
        assert!(s.holds(&ch.structure));
        assert!(!s.holds(&msp.structure));
    }

    #[test]
    fn kinds_are_guessed_from_whole_words() {
        assert_eq!(suggest_kind(None, Some("Pharmacie du Centre")), Some(StructureKind::Pharmacie));
        assert_eq!(suggest_kind(None, Some("EHPAD Les Tilleuls")), Some(StructureKind::Ehpad));
        assert_eq!(suggest_kind(None, Some("SELARL MSPHERE")), None, "not the word msp");
        assert_eq!(suggest_kind(Some("SA04"), Some("Polyclinique")), Some(StructureKind::Clinique));
        assert_eq!(suggest_kind(Some("SA01"), Some("EHPAD Les Tilleuls")), Some(StructureKind::Ehpad), "name first");
        assert_eq!(suggest_kind(Some("SA07"), None), None);
    }

    #[test]
    fn relation_kinds_round_trip() {
        for k in RelationKind::ALL {
            assert_eq!(k.code().parse::<RelationKind>().unwrap(), k);
        }
        assert!(parse_role(&"x".repeat(101)).is_err());
        assert_eq!(parse_role("  ").unwrap(), None);
    }
}
