//! What-if simulations for the *Plan 100 % CPTS* task forces: extend a neighbouring CPTS with
//! some communes of a zone blanche, or create a new CPTS there, and see the population, the ACI
//! size class and the yearly financing before and after.
//!
//! The financing is the ACI rule set's own computation ([`crate::aci::simulate`]) for a year
//! described by a [`Scenario`] whose size class is replaced by the territory's: by default
//! [`steady_year`] (contract year 2, every mission, every indicator reached, no crisis).

use super::coverage::{Coverage, NationalIndex};
use super::registry::RegisteredCpts;
use crate::aci::{Cents, ComputeError, RuleSet, Scenario, simulate};
use crate::ids::InseeCode;
use crate::territory::{SizeClass, Territory, TerritoryError, TerritoryProblem};
use serde::Serialize;
use std::fmt;

/// A contract year in cruising mode: year 2 (the crisis plan is updated, not written), every
/// mission engaged, every indicator reached, no crisis. Its size class is replaced by the
/// simulated territory's.
pub fn steady_year() -> Scenario {
    Scenario::all_missions(SizeClass::T1, 2)
}

/// The yearly ACI financing of a territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Financing {
    pub population: u64,
    pub size: SizeClass,
    /// What the scenario's year brings.
    pub year: Cents,
    /// The rule set's maximum for a year at this size.
    pub maximum: Cents,
}

/// Something to know about a simulation that does not prevent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum WhatIfWarning {
    /// These added communes touch neither the territory nor, through other added communes, it.
    NotContiguous { communes: Vec<InseeCode> },
    /// A new territory made of several separate pieces.
    Fragmented { parts: usize },
    /// An added commune is already claimed by other CPTS (registry ids): the change would create
    /// an overlap.
    AlreadyClaimed { commune: InseeCode, by: Vec<String> },
}

impl WhatIfWarning {
    pub fn fr(&self) -> String {
        match self {
            Self::NotContiguous { communes } => format!(
                "{} ne touche{} pas le territoire : il serait discontinu",
                join(communes),
                if communes.len() > 1 { "nt" } else { "" }
            ),
            Self::Fragmented { parts } => format!("le territoire serait formé de {parts} morceaux séparés"),
            Self::AlreadyClaimed { commune, by } => {
                format!("la commune {commune} est déjà dans le territoire de {} : elle serait partagée", by.join(", "))
            }
        }
    }
}

impl fmt::Display for WhatIfWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotContiguous { communes } => {
                write!(f, "{} do(es) not touch the territory: it would not be contiguous", join(communes))
            }
            Self::Fragmented { parts } => write!(f, "the territory would be made of {parts} separate pieces"),
            Self::AlreadyClaimed { commune, by } => {
                write!(f, "commune {commune} is already in the territory of {}: it would be shared", by.join(", "))
            }
        }
    }
}

fn join(codes: &[InseeCode]) -> String {
    codes.iter().map(InseeCode::as_str).collect::<Vec<_>>().join(", ")
}

/// Why a simulation cannot be made.
#[derive(Debug, Clone, PartialEq)]
pub enum WhatIfProblem {
    /// No commune given.
    NoCommune,
    /// A commune code that is not usable (unknown, former, duplicate, city with its own
    /// arrondissement).
    Commune(TerritoryProblem),
    /// An added commune (or one of its arrondissements) is already in the CPTS's territory.
    AlreadyInTerritory { commune: InseeCode },
    /// The CPTS's own territory names a code that is no current commune.
    UnknownInTerritory { commune: InseeCode },
    /// The rule set cannot compute the scenario's year.
    Financing(ComputeError),
}

impl WhatIfProblem {
    pub fn fr(&self) -> String {
        match self {
            Self::NoCommune => "indiquez au moins une commune".into(),
            Self::Commune(p) => p.fr(),
            Self::AlreadyInTerritory { commune } => format!("la commune {commune} fait déjà partie du territoire"),
            Self::UnknownInTerritory { commune } => {
                format!("le territoire enregistré cite {commune}, qui n'est pas une commune actuelle")
            }
            Self::Financing(e) => format!("le financement ne peut pas être calculé : {e}"),
        }
    }
}

impl fmt::Display for WhatIfProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCommune => f.write_str("give at least one commune"),
            Self::Commune(p) => write!(f, "{p}"),
            Self::AlreadyInTerritory { commune } => write!(f, "commune {commune} is already in the territory"),
            Self::UnknownInTerritory { commune } => {
                write!(f, "the registered territory names {commune}, which is no current commune")
            }
            Self::Financing(e) => write!(f, "the financing cannot be computed: {e}"),
        }
    }
}

impl std::error::Error for WhatIfProblem {}

/// A CPTS extended by some communes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    pub cpts: String,
    /// The added communes, as normalized codes, in the order given.
    pub added: Vec<InseeCode>,
    pub added_population: u64,
    /// Population of the added communes that no CPTS covered on the coverage's date (when a
    /// coverage was given).
    pub newly_covered: Option<u64>,
    /// Keys of the zones blanches the added communes belong to.
    pub zones: Vec<InseeCode>,
    pub before: Financing,
    pub after: Financing,
    /// `after.year − before.year`.
    pub difference: Cents,
    pub warnings: Vec<WhatIfWarning>,
    pub rule_set: String,
}

/// A new CPTS on some communes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Creation {
    pub communes: Vec<InseeCode>,
    pub newly_covered: Option<u64>,
    pub zones: Vec<InseeCode>,
    pub financing: Financing,
    pub warnings: Vec<WhatIfWarning>,
    pub rule_set: String,
}

/// The context of a simulation.
#[derive(Debug, Clone, Copy)]
pub struct WhatIf<'a, 'r> {
    pub index: &'a NationalIndex<'r>,
    pub rules: &'a RuleSet,
    /// The year the financing is computed for (see [`steady_year`]); its size is replaced.
    pub basis: &'a Scenario,
    /// The registry and its coverage on a date, to warn about communes already claimed and to
    /// tell what becomes covered. Optional.
    pub registry: Option<(&'a [RegisteredCpts], &'a Coverage)>,
}

impl WhatIf<'_, '_> {
    fn financing(&self, population: u64) -> Result<Financing, WhatIfProblem> {
        let size = self.rules.size_class(population);
        let year = simulate(self.rules, &Scenario { size, ..self.basis.clone() }).map_err(WhatIfProblem::Financing)?;
        Ok(Financing { population, size, year: year.total, maximum: self.rules.maximum(size) })
    }

    /// Checks a list of codes as a territory; gives the normalized codes and their units.
    fn communes(&self, codes: &[&str]) -> Result<(Vec<InseeCode>, Vec<u32>), Vec<WhatIfProblem>> {
        let reference = self.index.reference();
        match Territory::new(reference, codes.iter().copied()) {
            Err(TerritoryError::Empty) => Err(vec![WhatIfProblem::NoCommune]),
            Err(TerritoryError::Invalid(p)) => Err(p.into_iter().map(WhatIfProblem::Commune).collect()),
            Ok(_) => {
                let normalized: Vec<InseeCode> = codes.iter().filter_map(|c| InseeCode::parse(c).ok()).collect();
                let (units, _) = self.index.units_of(&normalized);
                Ok((normalized, units))
            }
        }
    }

    /// Warnings about claims by other CPTS, the uncovered population and the zones reached.
    fn against_registry(
        &self,
        added: &[InseeCode],
        units: &[u32],
        except: Option<&str>,
        warnings: &mut Vec<WhatIfWarning>,
    ) -> (Option<u64>, Vec<InseeCode>) {
        let Some((registry, coverage)) = self.registry else { return (None, Vec::new()) };
        let reference = self.index.reference();
        for code in added {
            let Some(row) = reference.index_of(code.as_str()) else { continue };
            let mut parts = Vec::new();
            self.index.expand(row, &mut parts);
            let mut by: Vec<String> = parts
                .iter()
                .flat_map(|&u| coverage.claimants(u))
                .filter_map(|i| registry.get(i))
                .map(|c| c.id.clone())
                .filter(|id| Some(id.as_str()) != except)
                .collect();
            by.sort();
            by.dedup();
            if !by.is_empty() {
                warnings.push(WhatIfWarning::AlreadyClaimed { commune: *code, by });
            }
        }
        let blank: Vec<u32> = units.iter().copied().filter(|&u| coverage.zone_of(u).is_some()).collect();
        let mut zones: Vec<InseeCode> = blank.iter().filter_map(|&u| coverage.zone_of(u)).map(|z| z.key).collect();
        zones.sort();
        zones.dedup();
        (Some(self.index.population_of(&blank)), zones)
    }

    /// Units of `set` reachable from `from` through shared borders inside `set` (both sorted).
    fn reachable(&self, from: &[u32], set: &[u32]) -> Vec<bool> {
        let mut seen = vec![false; set.len()];
        let mut stack: Vec<usize> = Vec::new();
        for u in from {
            if let Ok(p) = set.binary_search(u)
                && !seen[p]
            {
                seen[p] = true;
                stack.push(p);
            }
        }
        while let Some(p) = stack.pop() {
            for v in self.index.neighbours(set[p]) {
                if let Ok(q) = set.binary_search(v)
                    && !seen[q]
                {
                    seen[q] = true;
                    stack.push(q);
                }
            }
        }
        seen
    }

    /// Extends `cpts` by the communes `add` (codes as typed). Every problem is reported at once.
    pub fn extend(&self, cpts: &RegisteredCpts, add: &[&str]) -> Result<Extension, Vec<WhatIfProblem>> {
        let (added, added_units) = self.communes(add)?;
        let (current, unknown) = self.index.units_of(&cpts.communes);
        let mut problems: Vec<WhatIfProblem> =
            unknown.into_iter().map(|commune| WhatIfProblem::UnknownInTerritory { commune }).collect();
        let reference = self.index.reference();
        for code in &added {
            let mut parts = Vec::new();
            if let Some(row) = reference.index_of(code.as_str()) {
                self.index.expand(row, &mut parts);
            }
            if parts.iter().any(|u| current.binary_search(u).is_ok()) {
                problems.push(WhatIfProblem::AlreadyInTerritory { commune: *code });
            }
        }
        let before = self.financing(self.index.population_of(&current));
        let added_population = self.index.population_of(&added_units);
        let after = self.financing(before.as_ref().map_or(0, |b| b.population) + added_population);
        let (before, after) = match (before, after, problems.is_empty()) {
            (Ok(b), Ok(a), true) => (b, a),
            (b, a, _) => {
                // Both fail alike when the scenario's year is out of range: report it once.
                if let Err(e) = b {
                    problems.push(e);
                } else if let Err(e) = a {
                    problems.push(e);
                }
                return Err(problems);
            }
        };

        let mut warnings = Vec::new();
        let mut all: Vec<u32> = current.iter().chain(&added_units).copied().collect();
        all.sort_unstable();
        let reached = self.reachable(&current, &all);
        let apart: Vec<InseeCode> = added
            .iter()
            .filter(|code| {
                let mut parts = Vec::new();
                if let Some(row) = reference.index_of(code.as_str()) {
                    self.index.expand(row, &mut parts);
                }
                parts.iter().any(|u| all.binary_search(u).is_ok_and(|p| !reached[p]))
            })
            .copied()
            .collect();
        if !apart.is_empty() && !current.is_empty() {
            warnings.push(WhatIfWarning::NotContiguous { communes: apart });
        }
        let (newly_covered, zones) = self.against_registry(&added, &added_units, Some(&cpts.id), &mut warnings);
        Ok(Extension {
            cpts: cpts.id.clone(),
            added,
            added_population,
            newly_covered,
            zones,
            difference: after.year - before.year,
            before,
            after,
            warnings,
            rule_set: self.rules.id.clone(),
        })
    }

    /// A new CPTS on `communes` (codes as typed).
    pub fn create(&self, communes: &[&str]) -> Result<Creation, Vec<WhatIfProblem>> {
        let (codes, units) = self.communes(communes)?;
        let financing = self.financing(self.index.population_of(&units)).map_err(|e| vec![e])?;
        let mut warnings = Vec::new();
        // Count connected parts.
        let mut parts = 0;
        let mut done = vec![false; units.len()];
        while let Some(p) = done.iter().position(|d| !d) {
            parts += 1;
            let reached = self.reachable(&units[p..=p], &units);
            for (d, r) in done.iter_mut().zip(reached) {
                *d |= r;
            }
        }
        if parts > 1 {
            warnings.push(WhatIfWarning::Fragmented { parts });
        }
        let (newly_covered, zones) = self.against_registry(&codes, &units, None, &mut warnings);
        Ok(Creation { communes: codes, newly_covered, zones, financing, warnings, rule_set: self.rules.id.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aci::rules;
    use crate::national::registry::{CptsState, StateChange};
    use crate::refdata::Reference;
    use chrono::NaiveDate;

    fn cpts(id: &str, communes: &[&str]) -> RegisteredCpts {
        RegisteredCpts {
            id: id.into(),
            name: format!("CPTS {id}"),
            finess: None,
            siren: None,
            communes: communes.iter().map(|c| InseeCode::parse(c).unwrap()).collect(),
            history: vec![StateChange { on: NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(), state: CptsState::AciSigne }],
        }
    }

    #[test]
    fn extending_blois_changes_size_and_financing() {
        let r = Reference::embedded();
        let index = NationalIndex::new(r);
        let rules = rules::embedded("avenant-2").unwrap();
        let basis = steady_year();
        let blois = cpts("blois", &["41018", "41295"]); // 47,219-ish + Vineuil
        let pop = |c: &str| u64::from(r.commune(c).unwrap().population);
        let w = WhatIf { index: &index, rules, basis: &basis, registry: None };
        // La Chaussée-Saint-Victor (41047) borders Blois; Chambord (41034) does not.
        let e = w.extend(&blois, &["41047", "41034"]).unwrap();
        assert_eq!(e.before.population, pop("41018") + pop("41295"));
        assert_eq!(e.added_population, pop("41047") + pop("41034"));
        assert_eq!(e.after.population, e.before.population + e.added_population);
        assert_eq!(e.before.size, rules.size_class(e.before.population));
        let expected = |size| simulate(rules, &Scenario { size, ..steady_year() }).unwrap().total;
        assert_eq!(e.before.year, expected(e.before.size));
        assert_eq!(e.difference, expected(e.after.size) - expected(e.before.size));
        assert_eq!(
            e.warnings,
            vec![WhatIfWarning::NotContiguous { communes: vec![InseeCode::parse("41034").unwrap()] }]
        );
        assert!(e.warnings[0].fr().contains("41034 ne touche pas"), "{}", e.warnings[0].fr());

        // Crossing the T2 → T3 threshold: the difference is the table's.
        let big = cpts("big", &["41018"]);
        let near: Vec<String> = crate::territory::communes_within(r, r.commune("41018").unwrap(), 25.0)
            .iter()
            .skip(1)
            .map(|n| n.commune.code.to_string())
            .collect();
        let near: Vec<&str> = near.iter().map(String::as_str).collect();
        let e = w.extend(&big, &near).unwrap();
        assert!(e.after.size > e.before.size, "{:?} → {:?}", e.before.size, e.after.size);
        assert!(e.difference > Cents::ZERO);

        let errs = w.extend(&blois, &["41018", "99999", "41047", "41047"]).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}"); // unknown 99999, duplicate 41047
        let errs = w.extend(&blois, &["41018"]).unwrap_err();
        assert_eq!(errs, vec![WhatIfProblem::AlreadyInTerritory { commune: InseeCode::parse("41018").unwrap() }]);
        assert_eq!(w.extend(&blois, &[]).unwrap_err(), vec![WhatIfProblem::NoCommune]);
    }

    #[test]
    fn steady_year_under_avenant_2() {
        // The figures docs/national.md quotes: operating funding, every mission's fixed and
        // variable parts, the crisis plan's yearly update, no crisis.
        let rules = rules::embedded("avenant-2").unwrap();
        let totals: Vec<Cents> = [SizeClass::T1, SizeClass::T2, SizeClass::T3, SizeClass::T4]
            .into_iter()
            .map(|size| simulate(rules, &Scenario { size, ..steady_year() }).unwrap().total)
            .collect();
        let expected = [237_500, 312_500, 397_500, 480_000].map(Cents::from_euros);
        assert_eq!(totals, expected);
    }

    #[test]
    fn whole_city_and_arrondissements_in_extensions() {
        let r = Reference::embedded();
        let index = NationalIndex::new(r);
        let rules = rules::embedded("avenant-2").unwrap();
        let basis = steady_year();
        let w = WhatIf { index: &index, rules, basis: &basis, registry: None };
        let paris16 = cpts("p16", &["75116"]);
        let errs = w.extend(&paris16, &["75056"]).unwrap_err();
        assert_eq!(errs, vec![WhatIfProblem::AlreadyInTerritory { commune: InseeCode::parse("75056").unwrap() }]);
        let e = w.extend(&paris16, &["92012"]).unwrap();
        assert!(e.warnings.is_empty(), "Boulogne borders the 16th: {:?}", e.warnings);
    }

    #[test]
    fn creating_in_a_zone_blanche() {
        let r = Reference::embedded();
        let index = NationalIndex::new(r);
        let rules = rules::embedded("avenant-2").unwrap();
        let basis = steady_year();
        let registry = vec![cpts("blois", &["41018", "41295"]), cpts("vendome", &["41269"])];
        let on = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let cov = index.coverage(&registry, on, &rules.size_thresholds);
        let w = WhatIf { index: &index, rules, basis: &basis, registry: Some((&registry, &cov)) };
        let c = w.create(&["41047", "41295", "41034"]).unwrap();
        assert_eq!(c.financing.size, SizeClass::T1);
        assert_eq!(
            c.financing.year,
            simulate(rules, &Scenario { size: SizeClass::T1, ..steady_year() }).unwrap().total
        );
        assert!(c.warnings.contains(&WhatIfWarning::Fragmented { parts: 2 }), "{:?}", c.warnings);
        assert!(c.warnings.contains(&WhatIfWarning::AlreadyClaimed {
            commune: InseeCode::parse("41295").unwrap(),
            by: vec!["blois".into()]
        }));
        let blank =
            u64::from(r.commune("41047").unwrap().population) + u64::from(r.commune("41034").unwrap().population);
        assert_eq!(c.newly_covered, Some(blank));
        assert_eq!(c.zones.len(), 1, "one big zone blanche around the two CPTS");
        // Extending Blois by a commune of Vendôme's territory warns of the overlap, not itself.
        let e = w.extend(&registry[0], &["41269"]).unwrap();
        assert!(e.warnings.iter().any(|w| matches!(w, WhatIfWarning::AlreadyClaimed { by, .. } if by == &["vendome"])));
    }
}
