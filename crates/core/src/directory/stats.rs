//! Statistics of a territory's directory: members by profession (count and share, as in the
//! national figures of the CPTS), the share of the territory's professionals who are members,
//! by commune, and densities per 10,000 inhabitants against the département.

use super::collect::DepartementCounts;
use super::professions::profession;
use crate::aci::Rate;
use crate::ids::InseeCode;
use crate::refdata::Reference;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the statistics need of one professional of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatInput {
    pub profession_code: String,
    /// Specialty codes (savoir-faire): splits physicians into general practice and others.
    pub specialties: Vec<String>,
    /// Communes of the practice places (a professional counts once per commune).
    pub communes: Vec<InseeCode>,
    /// Active member of the CPTS.
    pub member: bool,
}

/// Specialty code of general practice (TRE_R38 `SM54`, "Médecine générale").
pub const GENERAL_PRACTICE: &str = "SM54";

/// The group a professional is counted in: the profession, physicians split in two.
pub fn category_of(input: &StatInput) -> (String, String) {
    if input.profession_code == "10" {
        return if input.specialties.iter().any(|s| s == GENERAL_PRACTICE) {
            ("10-mg".into(), "Médecins généralistes".into())
        } else {
            ("10-spe".into(), "Médecins spécialistes (hors médecine générale)".into())
        };
    }
    let label = profession(&input.profession_code)
        .map_or_else(|| format!("Profession {}", input.profession_code), |p| p.label_plural.clone());
    (input.profession_code.clone(), label)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryStat {
    pub code: String,
    pub label: String,
    pub professionals: u64,
    pub members: u64,
    /// Members of this category among all members (the "poids dans les adhérents").
    pub share_of_members: Option<Rate>,
    /// Members among the category's professionals of the territory.
    pub member_rate: Option<Rate>,
    /// Professionals per 10,000 inhabitants of the territory, in tenths (`123` = 12.3).
    pub density_tenths: Option<u64>,
    /// Same over the territory's département(s), from the national extract's counts (None for
    /// the physicians' split, which the counts do not carry, and without counts).
    pub departement_density_tenths: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommuneStat {
    pub code: String,
    pub name: String,
    pub population: u64,
    pub professionals: u64,
    pub members: u64,
    pub member_rate: Option<Rate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryStats {
    pub professionals: u64,
    pub members: u64,
    pub member_rate: Option<Rate>,
    pub population: u64,
    /// Départements of the territory and their population (the reference of densities).
    pub departements: Vec<String>,
    pub departement_population: u64,
    /// Most professionals first.
    pub by_category: Vec<CategoryStat>,
    /// By commune name.
    pub by_commune: Vec<CommuneStat>,
}

fn rate(num: u64, den: u64) -> Option<Rate> {
    (den > 0).then(|| Rate::ratio(i128::from(num), i128::from(den)))
}

/// `count` per 10,000 of `population`, in tenths, rounded half up.
fn density_tenths(count: u64, population: u64) -> Option<u64> {
    (population > 0).then(|| (count * 100_000 + population / 2) / population)
}

/// The statistics of a directory over a territory (`communes`).
pub fn directory_stats(
    reference: &Reference,
    communes: &[InseeCode],
    entries: &[StatInput],
    departement_counts: &DepartementCounts,
) -> DirectoryStats {
    let population: u64 =
        communes.iter().filter_map(|c| reference.commune(c.as_str())).map(|c| u64::from(c.population)).sum();
    let mut departements: Vec<String> =
        communes.iter().filter_map(|c| reference.commune(c.as_str())).map(|c| c.departement.clone()).collect();
    departements.sort();
    departements.dedup();
    let departement_population: u64 = reference
        .communes()
        .iter()
        .filter(|c| c.parent.is_none() && departements.contains(&c.departement))
        .map(|c| u64::from(c.population))
        .sum();

    let members = entries.iter().filter(|e| e.member).count() as u64;
    let mut categories: BTreeMap<String, (String, u64, u64)> = BTreeMap::new();
    for e in entries {
        let (code, label) = category_of(e);
        let slot = categories.entry(code).or_insert((label, 0, 0));
        slot.1 += 1;
        slot.2 += u64::from(e.member);
    }
    let mut by_category: Vec<CategoryStat> = categories
        .into_iter()
        .map(|(code, (label, professionals, m))| {
            let national: Option<u64> = (!code.starts_with("10-") && !departement_counts.is_empty()).then(|| {
                departements.iter().filter_map(|d| departement_counts.get(d)).filter_map(|p| p.get(&code)).sum()
            });
            CategoryStat {
                share_of_members: rate(m, members),
                member_rate: rate(m, professionals),
                density_tenths: density_tenths(professionals, population),
                departement_density_tenths: national.and_then(|n| density_tenths(n, departement_population)),
                code,
                label,
                professionals,
                members: m,
            }
        })
        .collect();
    by_category.sort_by(|a, b| b.professionals.cmp(&a.professionals).then(a.label.cmp(&b.label)));

    let mut by_commune: Vec<CommuneStat> = communes
        .iter()
        .filter_map(|c| reference.commune(c.as_str()))
        .map(|c| {
            let here: Vec<&StatInput> =
                entries.iter().filter(|e| e.communes.iter().any(|x| x.as_str() == c.code.as_str())).collect();
            let professionals = here.len() as u64;
            let m = here.iter().filter(|e| e.member).count() as u64;
            CommuneStat {
                code: c.code.as_str().to_owned(),
                name: c.name.clone(),
                population: u64::from(c.population),
                professionals,
                members: m,
                member_rate: rate(m, professionals),
            }
        })
        .collect();
    by_commune.sort_by(|a, b| a.name.cmp(&b.name));

    DirectoryStats {
        professionals: entries.len() as u64,
        members,
        member_rate: rate(members, entries.len() as u64),
        population,
        departements,
        departement_population,
        by_category,
        by_commune,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> InseeCode {
        InseeCode::parse(c).unwrap()
    }

    fn input(profession: &str, specialty: &str, communes: &[&str], member: bool) -> StatInput {
        StatInput {
            profession_code: profession.into(),
            specialties: vec![specialty.into()],
            communes: communes.iter().map(|c| code(c)).collect(),
            member,
        }
    }

    #[test]
    fn members_by_category_densities_and_communes() {
        let reference = Reference::embedded();
        let territory = [code("41018"), code("41295")];
        let entries = [
            input("10", "SM54", &["41018"], true),
            input("10", "SM54", &["41018", "41295"], false),
            input("10", "SM03", &["41018"], true),
            input("60", "", &["41295"], true),
            input("60", "", &["41295"], true),
        ];
        let mut counts = DepartementCounts::new();
        counts.entry("41".into()).or_default().insert("60".into(), 2_000);
        let s = directory_stats(reference, &territory, &entries, &counts);
        assert_eq!((s.professionals, s.members), (5, 4));
        assert_eq!(s.departements, ["41"]);
        let blois = u64::from(reference.commune("41018").unwrap().population);
        let vineuil = u64::from(reference.commune("41295").unwrap().population);
        assert_eq!(s.population, blois + vineuil);
        let nurses = s.by_category.iter().find(|c| c.code == "60").unwrap();
        assert_eq!((nurses.professionals, nurses.members), (2, 2));
        assert_eq!(nurses.share_of_members, Some(Rate::ratio(2, 4)));
        assert_eq!(nurses.density_tenths, Some((2 * 100_000 + s.population / 2) / s.population));
        let dep = (2_000 * 100_000 + s.departement_population / 2) / s.departement_population;
        assert_eq!(nurses.departement_density_tenths, Some(dep));
        let gp = s.by_category.iter().find(|c| c.code == "10-mg").unwrap();
        assert_eq!((gp.professionals, gp.members, gp.label.as_str()), (2, 1, "Médecins généralistes"));
        assert_eq!(gp.departement_density_tenths, None);
        assert_eq!(s.by_category[0].professionals, 2, "largest first");
        let vineuil_row = s.by_commune.iter().find(|c| c.code == "41295").unwrap();
        assert_eq!((vineuil_row.professionals, vineuil_row.members), (3, 2), "a professional counts in each commune");
    }

    #[test]
    fn empty_directory_has_no_rates() {
        let s = directory_stats(Reference::embedded(), &[code("41018")], &[], &DepartementCounts::new());
        assert_eq!((s.professionals, s.member_rate), (0, None));
        assert!(s.by_category.is_empty());
        assert_eq!(s.by_commune.len(), 1);
    }
}
