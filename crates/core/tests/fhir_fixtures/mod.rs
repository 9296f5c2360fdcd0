//! Professionals for the FHIR export tests (`tests/fhir.rs`, `tests/fhir_validate.rs`): the
//! awkward cases of real directories. All people are fictitious; the identifiers are valid
//! numbers used in `docs/identifiers.md` and the ids tests.

// Each test binary uses part of these helpers.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use maillage_core::directory::*;
use maillage_core::ids::{Adeli, Finess, InseeCode, Rpps, Siret};

pub const BASE: &str = "https://cpts-blois.example/fhir";

pub fn generated_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 9, 26, 53).unwrap()
}

fn place(
    key: &str,
    structure: StructureRef,
    address: Address,
    phone: &str,
    email: &str,
    mode: ExerciseMode,
) -> PracticePlace {
    let opt = |v: &str| Some(v.to_owned());
    PracticePlace {
        key: key.into(),
        structure,
        address,
        phone: opt(phone),
        email: if email.is_empty() { None } else { opt(email) },
        exercise_mode: mode,
        role: None,
        sector: None,
    }
}

fn address(line1: &str, line2: Option<&str>, postal: &str, commune: &str, label: Option<&str>) -> Address {
    Address {
        line1: Some(line1.into()),
        line2: line2.map(Into::into),
        postal_code: Some(postal.into()),
        commune_code: Some(InseeCode::parse(commune).unwrap()),
        commune_label: label.map(Into::into),
    }
}

pub const HOSPITAL_FINESS: &str = "060016219";
pub const SEL_SIRET: &str = "73282932000074";

/// A GP with two places: her own practice (technical id, no SIRET, a phone) and a hospital
/// (FINESS, an empty phone).
pub fn gp() -> Professional {
    Professional {
        national_id: NationalId::Rpps(Rpps::parse("10002909371").unwrap()),
        civility: Some("DR".into()),
        family_name: "LEFÈVRE-N'DIAYE".into(),
        given_name: "Anaïs".into(),
        profession_code: "10".into(),
        profession_label: Some("Médecin".into()),
        specialties: vec![Specialty { kind: "S".into(), code: "SM54".into(), label: "Médecine générale".into() }],
        places: vec![
            PracticePlace {
                role: Some("Titulaire de cabinet".into()),
                ..place(
                    "R10002909371001",
                    StructureRef {
                        technical_id: Some("R10002909371001".into()),
                        siret: None,
                        finess: None,
                        name: Some("CABINET DU DR LEFÈVRE-N'DIAYE".into()),
                    },
                    address("6 B Rue du Général de Gaulle", None, "41000", "41018", Some("Blois")),
                    "02 54 00 00 00",
                    "cabinet.lefevre@example.org",
                    ExerciseMode::Liberal,
                )
            },
            place(
                "F060016219",
                StructureRef {
                    technical_id: Some("F060016219".into()),
                    siret: None,
                    finess: Some(Finess::parse(HOSPITAL_FINESS).unwrap()),
                    name: Some("CENTRE HOSPITALIER DE L'ÎLE".into()),
                },
                address("1 Avenue de l'Hôpital", Some("Bâtiment C, BP 12"), "06000", "06088", Some("Nice")),
                "",
                "",
                ExerciseMode::Salarie,
            ),
        ],
    }
}

/// A psychologist known by an ADELI number, in a company (SIRET) at the GP's address, written
/// with other case and spacing.
pub fn psychologist() -> Professional {
    Professional {
        national_id: NationalId::Adeli(Adeli::parse("789310596").unwrap()),
        civility: Some("MME".into()),
        family_name: "Élisabeth-Ørsted".into(),
        given_name: "Zoé".into(),
        profession_code: "93".into(),
        profession_label: Some("Psychologue".into()),
        specialties: vec![],
        places: vec![place(
            "siret:73282932000074",
            StructureRef {
                technical_id: None,
                siret: Some(Siret::parse(SEL_SIRET).unwrap()),
                finess: None,
                name: Some("SELARL PSY & CO".into()),
            },
            address("6 b  rue du général de gaulle", None, "41000", "41018", Some("BLOIS")),
            "+33 2 54 11 22 33",
            "",
            ExerciseMode::Liberal,
        )],
    }
}

/// A nurse at the same hospital (FINESS only, no technical id), whose place and MSSanté
/// address were corrected locally.
pub fn nurse() -> Professional {
    Professional {
        national_id: NationalId::Rpps(Rpps::parse("10003456789").unwrap()),
        civility: Some("M".into()),
        family_name: "MARTIN".into(),
        given_name: "Jean-Noël".into(),
        profession_code: "60".into(),
        profession_label: Some("Infirmier".into()),
        specialties: vec![],
        places: vec![place(
            "finess:060016219",
            StructureRef {
                technical_id: None,
                siret: None,
                finess: Some(Finess::parse(HOSPITAL_FINESS).unwrap()),
                name: None,
            },
            address("3 Rue des Lilas", None, "06000", "06088", Some("Nice")),
            "04 93 00 00 00",
            "j.martin@example.org",
            ExerciseMode::Salarie,
        )],
    }
}

pub fn nurse_corrections() -> Vec<Correction> {
    let c = |field, place: Option<&str>, value: &str| Correction::new(field, place, value).unwrap();
    let key = Some("finess:060016219");
    vec![
        c(CorrectableField::Phone, key, "06 12 34 56 78"),
        c(CorrectableField::Email, key, ""),
        c(CorrectableField::AddressLine1, key, "12 Rue Porte Chartraine"),
        c(CorrectableField::PostalCode, key, "41000"),
        c(CorrectableField::CommuneCode, key, "41018"),
        c(CorrectableField::ExerciseMode, key, "L"),
        c(CorrectableField::Mssante, None, "Jean.Martin@infirmier.mssante.fr"),
    ]
}

/// Someone with an unknown profession code, a non-ordinal savoir-faire, no given name, and a
/// place with no address and a structure known only by its name.
pub fn oddity() -> Professional {
    Professional {
        national_id: NationalId::Rpps(Rpps::parse("10000000008").unwrap()),
        civility: None,
        family_name: "  O'BRIEN  ".into(),
        given_name: "".into(),
        profession_code: "99".into(),
        profession_label: Some("Profession à venir".into()),
        specialties: vec![Specialty { kind: "CAPA".into(), code: "CAPA12".into(), label: "Gérontologie".into() }],
        places: vec![PracticePlace {
            key: "addr:||".into(),
            structure: StructureRef {
                technical_id: None,
                siret: None,
                finess: None,
                name: Some("Équipe mobile".into()),
            },
            address: Address::default(),
            phone: None,
            email: Some("   ".into()),
            exercise_mode: ExerciseMode::Unknown,
            role: None,
            sector: None,
        }],
    }
}

/// The four, as users see them (the nurse's corrections applied).
pub fn directory() -> Vec<EffectiveProfessional> {
    vec![
        effective(&gp(), &[]),
        effective(&psychologist(), &[]),
        effective(&nurse(), &nurse_corrections()),
        effective(&oddity(), &[]),
    ]
}
