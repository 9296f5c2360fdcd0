//! A generator of realistic, entirely fictitious Annuaire Santé extracts, for tests and
//! benchmarks (no registry ships the real file, and it holds personal data).
//!
//! [`write_extract`] writes the real header and column layout (56 columns, trailing `|`),
//! then `lines` activity lines: fictitious people (names from small lists, with accents),
//! valid 11-digit RPPS numbers (Luhn key; about 1 % ADELI numbers instead), professions in
//! roughly national proportions (many nurses and doctors, few orthoptists), specialties for
//! doctors, communes drawn from the given list weighted by population (so a territory of
//! 60,000 inhabitants keeps about 0.1 % of the lines), about 5 % of people with 2–3 lines
//! (a second place or a second specialty), and a little of the real file's mess: about 1.5 % of
//! lines without commune code (postal code only) and 0.3 % abroad. Codes and labels other
//! than professions, specialties and exercise modes are illustrative. The same seed gives the
//! same bytes.

use super::annuaire::published_header;
use crate::refdata::{CommuneKind, Reference};
use std::io::{self, BufWriter, Write};

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; 0 gives 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift: negligible bias for test data.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// A uniformly chosen item. Panics on an empty slice (callers pass constant lists).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Current communes and municipal arrondissements, without the three cities that have
/// arrondissements (the extract codes Paris, Lyon and Marseille practices by arrondissement).
pub fn france_communes(reference: &Reference) -> Vec<&str> {
    let all = reference.communes();
    let cities: Vec<&str> = all.iter().filter_map(|c| c.parent.as_ref()).map(|p| p.as_str()).collect();
    all.iter()
        .filter(|c| c.kind == CommuneKind::MunicipalArrondissement || !cities.contains(&c.code.as_str()))
        .map(|c| c.code.as_str())
        .collect()
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthSummary {
    /// Data lines (the header excluded).
    pub lines: u64,
    pub people: u64,
}

const FAMILY: &[&str] = &[
    "MARTIN",
    "BERNARD",
    "DUBOIS",
    "THOMAS",
    "ROBERT",
    "RICHARD",
    "PETIT",
    "DURAND",
    "LEROY",
    "MOREAU",
    "SIMON",
    "LAURENT",
    "LEFÈVRE",
    "MICHEL",
    "GARCIA",
    "DAVID",
    "BERTRAND",
    "ROUX",
    "VINCENT",
    "FOURNIER",
    "MOREL",
    "GÉRARD",
    "ANDRÉ",
    "MERCIER",
    "BLANC",
    "GUÉRIN",
    "BOYER",
    "FRANÇOIS",
    "LE GOFF",
    "D'ALMEIDA",
    "NGUYEN",
    "DA SILVA",
    "HAMIDI",
    "MÜLLER",
    "BOUCHER-MÉNARD",
    "CHÂTEAU",
    "N'DIAYE",
    "O'NEILL",
    "PÉREZ",
    "KOWALSKI",
];
const GIVEN: &[&str] = &[
    "Marie",
    "Jean-Pierre",
    "Hélène",
    "Jérôme",
    "Chloé",
    "François",
    "Zoé",
    "Anaïs",
    "Noël",
    "Maëlle",
    "Thibault",
    "Inès",
    "Léa",
    "Mathéo",
    "Yasmine",
    "Ève",
    "Camille",
    "Nicolas",
    "Sophie",
    "Karim",
    "Aurélie",
    "Céline",
    "Loïc",
    "Bénédicte",
    "Joël",
    "Agnès",
    "Théo",
    "Gaëlle",
    "Hugo",
    "Manon",
];
/// (code, label, weight per 1000, RPPS since 2012 = no ADELI, liberal per 1000).
const PROFESSIONS: &[(&str, &str, u64, bool, u64)] = &[
    ("60", "Infirmier", 330, false, 250),
    ("10", "Médecin", 165, true, 550),
    ("70", "Masseur-Kinésithérapeute", 75, false, 800),
    ("21", "Pharmacien", 52, true, 350),
    ("93", "Psychologue", 45, false, 450),
    ("40", "Chirurgien-Dentiste", 30, true, 850),
    ("31", "Assistant dentaire", 28, false, 0),
    ("41", "Assistant de service social", 25, false, 20),
    ("28", "Opticien-Lunetier", 25, false, 200),
    ("98", "Manipulateur ERM", 22, false, 10),
    ("71", "Ostéopathe", 20, false, 900),
    ("50", "Sage-Femme", 16, true, 350),
    ("91", "Orthophoniste", 16, false, 850),
    ("86", "Technicien de laboratoire médical", 15, false, 5),
    ("80", "Pédicure-Podologue", 9, false, 950),
    ("94", "Ergothérapeute", 9, false, 150),
    ("96", "Psychomotricien", 8, false, 300),
    ("95", "Diététicien", 8, false, 400),
    ("92", "Orthoptiste", 4, false, 600),
    ("26", "Audioprothésiste", 3, false, 300),
];
/// A specialty: TRE_R01 code, label, weight per 1000.
type SpecialtyRow = (&'static str, &'static str, u64);

/// Doctors' specialties.
const SPECIALTIES: &[SpecialtyRow] = &[
    ("SM54", "Médecine générale", 430),
    ("SM53", "Spécialiste en Médecine générale", 120),
    ("SM04", "Cardiologie et maladies vasculaires", 50),
    ("SM40", "Pédiatrie", 50),
    ("SM42", "Psychiatrie", 60),
    ("SM38", "Ophtalmologie", 40),
    ("SM15", "Dermatologie et vénéréologie", 30),
    ("SM20", "Gynécologie-obstétrique", 40),
    ("SM02", "Anesthésie-réanimation", 60),
    ("SM44", "Radio-diagnostic", 50),
    ("SM32", "Neurologie", 30),
    ("SM48", "Rhumatologie", 40),
];
const STREET_TYPES: &[(&str, &str)] = &[
    ("R", "Rue"),
    ("AV", "Avenue"),
    ("BD", "Boulevard"),
    ("PL", "Place"),
    ("CHE", "Chemin"),
    ("RTE", "Route"),
    ("ALL", "Allée"),
    ("IMP", "Impasse"),
];
const STREETS: &[&str] = &[
    "DE LA RÉPUBLIQUE",
    "VICTOR HUGO",
    "PASTEUR",
    "DE LA GARE",
    "JEAN JAURÈS",
    "DU GÉNÉRAL DE GAULLE",
    "DES ÉCOLES",
    "DU MOULIN",
    "GAMBETTA",
    "DE L'ÉGLISE",
    "DES TILLEULS",
    "SAINT-MARTIN",
    "DU 8 MAI 1945",
    "JULES FERRY",
    "DE LA MAIRIE",
    "DU CHÂTEAU",
];

struct Place {
    commune: usize,
    structure_id: String,
    siret: String,
    finess: String,
    company: String,
    trade: String,
    street_number: String,
    street: usize,
    street_type: usize,
    phone: String,
    email: String,
    liberal: bool,
    sector: (&'static str, &'static str),
    blank_commune: bool,
    abroad: bool,
}

struct CommuneInfo {
    code: String,
    name: String,
    postal: String,
    departement: String,
    departement_name: String,
}

fn digits_of(s: &str) -> Vec<u8> {
    s.bytes().map(|b| b.wrapping_sub(b'0')).collect()
}

fn with_luhn(payload: String) -> String {
    let d = crate::ids::luhn_check_digit(&digits_of(&payload));
    format!("{payload}{d}")
}

/// Writes a synthetic extract: the header, then `lines` data lines. `communes` are the INSEE
/// codes to draw practice places from (see [`france_communes`]); codes found in the embedded
/// reference get their name, postal code, département and population weight, others a
/// placeholder name and weight 1. The writer is buffered internally.
pub fn write_extract<W: Write>(w: W, lines: u64, seed: u64, communes: &[&str]) -> io::Result<SynthSummary> {
    let reference = Reference::embedded();
    let mut info: Vec<CommuneInfo> = Vec::with_capacity(communes.len());
    let mut cumulative: Vec<u64> = Vec::with_capacity(communes.len());
    let mut total = 0u64;
    for &code in communes {
        let (name, postal, dep, weight) = match reference.commune(code) {
            Some(c) => (
                c.name.clone(),
                c.postal_codes.first().cloned().unwrap_or_else(|| code.to_owned()),
                c.departement.clone(),
                u64::from(c.population).max(1),
            ),
            None => (format!("Commune {code}"), code.to_owned(), code.get(..2).unwrap_or("").to_owned(), 1),
        };
        let departement_name = reference.departement(&dep).map(|d| d.name.clone()).unwrap_or_default();
        total += weight;
        cumulative.push(total);
        info.push(CommuneInfo { code: code.to_owned(), name, postal, departement: dep, departement_name });
    }
    if info.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no commune to draw from"));
    }
    let mut rng = SplitMix64::new(seed);
    let profession_total: u64 = PROFESSIONS.iter().map(|p| p.2).sum();
    let specialty_total: u64 = SPECIALTIES.iter().map(|s| s.2).sum();
    let mut out = BufWriter::with_capacity(1 << 16, w);
    out.write_all(published_header().as_bytes())?;
    out.write_all(b"\n")?;

    let mut written = 0u64;
    let mut people = 0u64;
    let mut rpps_counter = 1_000_000 + rng.below(1_000_000);
    let mut line = String::with_capacity(1024);
    while written < lines {
        people += 1;
        rpps_counter += 1 + rng.below(40);
        // Profession.
        let mut r = rng.below(profession_total);
        let mut prof = &PROFESSIONS[0];
        for p in PROFESSIONS {
            if r < p.2 {
                prof = p;
                break;
            }
            r -= p.2;
        }
        let (pcode, plabel, _, rpps_2012, liberal_rate) = *prof;
        let draw_commune = |rng: &mut SplitMix64| -> usize {
            let x = rng.below(total);
            cumulative.partition_point(|&c| c <= x).min(info.len() - 1)
        };
        let adeli = !rpps_2012 && rng.chance(10);
        let commune0 = draw_commune(&mut rng);
        let (id_type, id) = if adeli {
            let dep = &info[commune0].departement;
            let dep = if dep.len() == 2 && dep.bytes().all(|b| b.is_ascii_digit()) { dep.clone() } else { "75".into() };
            ("0", with_luhn(format!("{dep}{pcode}{:04}", rng.below(10_000))))
        } else {
            ("8", with_luhn(format!("10{rpps_counter:08}")))
        };
        let national = format!("{id_type}{id}");
        let family = *rng.pick(FAMILY);
        let given = *rng.pick(GIVEN);
        let female = rng.chance(600);
        let (civ_code, civ_label) = if female { ("MME", "Madame") } else { ("M", "Monsieur") };
        let doctor_title = matches!(pcode, "10" | "40" | "21") && rng.chance(700);
        let pick_specialty = |rng: &mut SplitMix64| {
            let mut r = rng.below(specialty_total);
            for s in SPECIALTIES {
                if r < s.2 {
                    return s;
                }
                r -= s.2;
            }
            &SPECIALTIES[0]
        };
        let specialty = (pcode == "10").then(|| pick_specialty(&mut rng));
        let section = (pcode == "21").then(|| {
            *rng.pick(&[
                ("A", "Pharmacien titulaire d'officine"),
                ("D", "Pharmacien adjoint"),
                ("G", "Pharmacien biologiste"),
                ("H", "Pharmacien d'établissement de santé"),
            ])
        });
        let military = rng.chance(5);
        let make_place = |rng: &mut SplitMix64, commune: usize| -> Place {
            let liberal = rng.below(1000) < liberal_rate;
            let dep = &info[commune].departement;
            let finess_dep =
                if dep.len() == 2 && dep.bytes().all(|b| b.is_ascii_digit()) { dep.as_str() } else { "75" };
            let (structure_id, siret, finess, company, trade, sector) = if liberal {
                let group = rng.chance(400);
                let siret = if rng.chance(120) {
                    let siren = with_luhn(format!("{:08}", 10_000_000 + rng.below(89_999_999)));
                    with_luhn(format!("{siren}{:04}", 1 + rng.below(50)))
                } else {
                    String::new()
                };
                let name = if group {
                    format!("CABINET {} {}", rng.pick(&["MÉDICAL", "PARAMÉDICAL", "DE SANTÉ", "INFIRMIER"]), family)
                } else {
                    format!("CABINET {} {}", if female { "MME" } else { "M." }, family)
                };
                let sector = if group { ("SA08", "Cabinet de groupe") } else { ("SA07", "Cabinet individuel") };
                let id = if siret.is_empty() { format!("R{id}{:03}", rng.below(1000)) } else { format!("C{siret}") };
                (id, siret, String::new(), name, String::new(), sector)
            } else {
                let finess = with_luhn(format!("{finess_dep}{:06}", rng.below(1_000_000)));
                let (company, sector) = *rng.pick(&[
                    ("CENTRE HOSPITALIER", ("SA01", "Etablissement public de santé")),
                    ("CENTRE DE SANTÉ", ("SA05", "Centre de santé")),
                    ("EHPAD LES TILLEULS", ("SA01", "Etablissement public de santé")),
                    ("CLINIQUE DU PARC", ("SA05", "Centre de santé")),
                ]);
                let company = format!("{company} {}", info[commune].name.to_uppercase());
                (format!("F{finess}"), String::new(), finess, company.clone(), company, sector)
            };
            let phone = if rng.chance(300) {
                format!("0{}{:08}", 1 + rng.below(5), rng.below(100_000_000))
            } else {
                String::new()
            };
            let email =
                if rng.chance(100) { format!("contact{}@exemple-sante.fr", rng.below(100_000)) } else { String::new() };
            let street_number = if rng.chance(900) { (1 + rng.below(180)).to_string() } else { String::new() };
            Place {
                commune,
                structure_id,
                siret,
                finess,
                company,
                trade,
                street_number,
                street: rng.below(STREETS.len() as u64) as usize,
                street_type: rng.below(STREET_TYPES.len() as u64) as usize,
                phone,
                email,
                liberal,
                sector,
                blank_commune: rng.chance(15),
                abroad: rng.chance(3),
            }
        };
        let first_place = make_place(&mut rng, commune0);
        let extra = if rng.chance(50) { 1 + rng.below(2) } else { 0 };
        let mut activity: Vec<(Option<&SpecialtyRow>, Place)> = vec![(specialty, first_place)];
        for _ in 0..extra {
            if pcode == "10" && rng.chance(500) {
                // Same place, second specialty.
                let p = &activity[0].1;
                let again = Place {
                    commune: p.commune,
                    structure_id: p.structure_id.clone(),
                    siret: p.siret.clone(),
                    finess: p.finess.clone(),
                    company: p.company.clone(),
                    trade: p.trade.clone(),
                    street_number: p.street_number.clone(),
                    street: p.street,
                    street_type: p.street_type,
                    phone: p.phone.clone(),
                    email: p.email.clone(),
                    liberal: p.liberal,
                    sector: p.sector,
                    blank_commune: p.blank_commune,
                    abroad: p.abroad,
                };
                activity.push((Some(pick_specialty(&mut rng)), again));
            } else {
                let c = if rng.chance(700) { commune0 } else { draw_commune(&mut rng) };
                let place = make_place(&mut rng, c);
                activity.push((specialty, place));
            }
        }
        for (spec, place) in &activity {
            if written == lines {
                break;
            }
            written += 1;
            let c = &info[place.commune];
            let (st_code, st_label) = STREET_TYPES[place.street_type];
            let (postal, commune_code, commune_label, country, country_label, dep, dep_label) = if place.abroad {
                ("", "", "", "99131", "Belgique", "", "")
            } else if place.blank_commune {
                (c.postal.as_str(), "", "", "", "", c.departement.as_str(), c.departement_name.as_str())
            } else {
                (
                    c.postal.as_str(),
                    c.code.as_str(),
                    c.name.as_str(),
                    "",
                    "",
                    c.departement.as_str(),
                    c.departement_name.as_str(),
                )
            };
            let (mode_code, mode_label) = if place.liberal {
                ("L", "Libéral")
            } else if rng.chance(20) {
                ("B", "Bénévole")
            } else {
                ("S", "Salarié")
            };
            let authority = match pcode {
                "10" => "CNOM/CNOM/CNOM",
                "21" => "CNOP/CNOP/CNOP",
                "40" => "CNOCD/CNOCD/CNOCD",
                "50" => "CNOSF/CNOSF/CNOSF",
                "70" => "CNOMK/CNOMK/CNOMK",
                "80" => "CNOPP/CNOPP/CNOPP",
                "60" => "ONI/ONI/ONI",
                _ => "ARS/ARS/ARS",
            };
            let (genre_code, genre_label) = if rng.chance(30) {
                ("GENR02", "Activité de soins ou de pharmacien en tant que remplaçant")
            } else {
                ("GENR01", "Activité de soin et de pharmacie")
            };
            let (sf_type, sf_type_label, sf_code, sf_label) = match spec {
                Some((code, label, _)) => ("S", "Spécialité ordinale", *code, *label),
                None => ("", "", "", ""),
            };
            let (section_code, section_label) = section.unwrap_or(("", ""));
            let (cat_code, cat_label) = if military { ("M", "Militaire") } else { ("C", "Civil") };
            let cedex = if postal.is_empty() { String::new() } else { format!("{postal} {}", c.name.to_uppercase()) };
            let fields: [&str; 56] = [
                id_type,
                &id,
                &national,
                if doctor_title { "DR" } else { "" },
                if doctor_title { "Docteur" } else { "" },
                civ_code,
                civ_label,
                family,
                given,
                pcode,
                plabel,
                cat_code,
                cat_label,
                sf_type,
                sf_type_label,
                sf_code,
                sf_label,
                mode_code,
                mode_label,
                &place.siret,
                place.siret.get(..9).unwrap_or(""),
                &place.finess,
                "",
                &place.structure_id,
                &place.company,
                &place.trade,
                &place.company,
                "",
                &place.street_number,
                "",
                st_code,
                st_label,
                STREETS[place.street],
                "",
                &cedex,
                postal,
                commune_code,
                commune_label,
                country,
                country_label,
                &place.phone,
                "",
                "",
                &place.email,
                dep,
                dep_label,
                "",
                authority,
                place.sector.0,
                place.sector.1,
                section_code,
                section_label,
                "",
                "",
                genre_code,
                genre_label,
            ];
            line.clear();
            for f in fields {
                line.push_str(f);
                line.push('|');
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(SynthSummary { lines: written, people })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_deterministic_and_spread() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        // Reference value of SplitMix64 with seed 0 (first output).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut r = SplitMix64::new(7);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[r.below(10) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
    }

    #[test]
    fn luhn_matches_known_numbers() {
        // 10002909371: Luhn-valid RPPS from ANS examples (docs/identifiers.md).
        assert_eq!(with_luhn("1000290937".into()), "10002909371");
        assert_eq!(with_luhn("78931059".into()), "789310596");
    }
}
