//! National coverage of the population by CPTS, as of a date.
//!
//! Definitions (also in `docs/national.md`):
//!
//! - **Units.** Coverage is counted on the communes of the reference, except that Paris, Lyon and
//!   Marseille count through their municipal arrondissements: the three whole cities (75056,
//!   69123, 13055) are not units, their 45 arrondissements are. A CPTS whose territory names a
//!   whole city claims all its arrondissements. The city's population equals the sum of its
//!   arrondissements' (checked by the reference data), so nothing is counted twice and the
//!   national population is the reference's 68,350,798 inhabitants.
//! - **State on a date.** A CPTS counts on date `d` in the state of its last change on or before
//!   `d` ([`RegisteredCpts::state_on`]); a CPTS with no change yet does not count.
//! - **Covered.** A unit is *covered by a signed CPTS* when at least one CPTS claiming it is at
//!   [`CptsState::AciSigne`]; it is *covered* (by a signed CPTS or a project) when at least one
//!   CPTS claims it, whatever its state. Its population counts once, under the most advanced
//!   state among its claimants.
//! - **Overlap.** A unit claimed by two CPTS or more.
//! - **Zone blanche.** A maximal group of uncovered units connected through shared borders
//!   ([`crate::refdata::Commune::neighbours`]). Its key is its smallest INSEE code.
//!
//! [`NationalIndex`] holds what does not change with the registry (units, populations,
//! départements, adjacency as a compressed array); [`NationalIndex::prepare`] resolves the
//! registry's commune codes once; [`NationalIndex::compute`] then works on dense vectors indexed
//! by commune, without maps, in a few milliseconds for the whole country.

use super::registry::{CptsState, RegisteredCpts, Stage, StateChange};
use crate::ids::InseeCode;
use crate::refdata::{CommuneKind, Reference};
use crate::territory::{SizeClass, SizeThresholds};
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

const NONE: u32 = u32::MAX;
const NO_AREA: u16 = u16::MAX;

#[derive(Debug, Clone)]
struct AreaInfo {
    code: String,
    name: String,
    /// Index of the région (for a département).
    region: u16,
}

/// The part of the reference data coverage needs, arranged for speed. Build it once per
/// reference and reuse it for every date and registry.
#[derive(Debug, Clone)]
pub struct NationalIndex<'r> {
    reference: &'r Reference,
    /// Indices of the units, ascending (so in INSEE code order).
    pub(super) units: Vec<u32>,
    /// Per reference row.
    pub(super) is_unit: Vec<bool>,
    pub(super) population: Vec<u32>,
    /// Per reference row: index into `departements`.
    pub(super) dep: Vec<u16>,
    /// Neighbours between units, compressed: the neighbours of row `i` are
    /// `adj[adj_start[i]..adj_start[i + 1]]` (none for a non-unit).
    adj_start: Vec<u32>,
    adj: Vec<u32>,
    /// Each city with arrondissements and its arrondissements, by city row.
    cities: Vec<(u32, Vec<u32>)>,
    departements: Vec<AreaInfo>,
    regions: Vec<AreaInfo>,
    total_population: u64,
}

fn area_index(list: &mut Vec<AreaInfo>, sorted_len: usize, code: &str, make: impl FnOnce() -> AreaInfo) -> u16 {
    let found = list[..sorted_len]
        .binary_search_by(|a| a.code.as_str().cmp(code))
        .ok()
        .or_else(|| list[sorted_len..].iter().position(|a| a.code == code).map(|p| sorted_len + p));
    let i = found.unwrap_or_else(|| {
        list.push(make());
        list.len() - 1
    });
    u16::try_from(i).unwrap_or(NO_AREA)
}

impl<'r> NationalIndex<'r> {
    pub fn new(reference: &'r Reference) -> Self {
        let communes = reference.communes();
        let n = communes.len();
        let mut cities: Vec<(u32, Vec<u32>)> = Vec::new();
        for (i, c) in communes.iter().enumerate() {
            if let Some(parent) = c.parent
                && let Some(city) = reference.index_of(parent.as_str())
            {
                match cities.iter_mut().find(|(k, _)| *k == city) {
                    Some((_, parts)) => parts.push(i as u32),
                    None => cities.push((city, vec![i as u32])),
                }
            }
        }
        cities.sort_unstable();
        let is_unit: Vec<bool> = (0..n)
            .map(|i| {
                communes[i].kind == CommuneKind::MunicipalArrondissement
                    || cities.binary_search_by_key(&(i as u32), |(k, _)| *k).is_err()
            })
            .collect();

        let mut regions: Vec<AreaInfo> = reference
            .regions()
            .iter()
            .map(|r| AreaInfo { code: r.code.clone(), name: r.name.clone(), region: NO_AREA })
            .collect();
        let sorted_regions = regions.len();
        let mut departements: Vec<AreaInfo> = Vec::with_capacity(reference.departements().len());
        for d in reference.departements() {
            let region = area_index(&mut regions, sorted_regions, &d.region, || AreaInfo {
                code: d.region.clone(),
                name: String::new(),
                region: NO_AREA,
            });
            departements.push(AreaInfo { code: d.code.clone(), name: d.name.clone(), region });
        }
        let sorted_deps = departements.len();
        let mut dep = Vec::with_capacity(n);
        let mut last: Option<(&str, u16)> = None;
        for c in communes {
            let i = match last {
                Some((code, i)) if code == c.departement => i,
                _ => {
                    let region = area_index(&mut regions, sorted_regions, &c.region, || AreaInfo {
                        code: c.region.clone(),
                        name: String::new(),
                        region: NO_AREA,
                    });
                    area_index(&mut departements, sorted_deps, &c.departement, || AreaInfo {
                        code: c.departement.clone(),
                        name: String::new(),
                        region,
                    })
                }
            };
            last = Some((c.departement.as_str(), i));
            dep.push(i);
        }

        let mut adj_start = Vec::with_capacity(n + 1);
        let mut adj = Vec::with_capacity(n * 6);
        adj_start.push(0);
        for (i, c) in communes.iter().enumerate() {
            if is_unit[i] {
                adj.extend(c.neighbours.iter().copied().filter(|&k| is_unit.get(k as usize).copied().unwrap_or(false)));
            }
            adj_start.push(u32::try_from(adj.len()).unwrap_or(NONE));
        }
        let units: Vec<u32> = (0..n as u32).filter(|&i| is_unit[i as usize]).collect();
        let population: Vec<u32> = communes.iter().map(|c| c.population).collect();
        let total_population = units.iter().map(|&u| u64::from(population[u as usize])).sum();
        Self {
            reference,
            units,
            is_unit,
            population,
            dep,
            adj_start,
            adj,
            cities,
            departements,
            regions,
            total_population,
        }
    }

    pub fn reference(&self) -> &'r Reference {
        self.reference
    }

    /// Rows of the reference that count for coverage: every commune and arrondissement but the
    /// three whole cities of Paris, Lyon and Marseille. Ascending.
    pub fn units(&self) -> &[u32] {
        &self.units
    }

    pub fn is_unit(&self, row: u32) -> bool {
        self.is_unit.get(row as usize).copied().unwrap_or(false)
    }

    /// Population of the whole reference, counted on units (68,350,798 with the embedded data).
    pub fn total_population(&self) -> u64 {
        self.total_population
    }

    /// Neighbouring units of a unit.
    pub fn neighbours(&self, row: u32) -> &[u32] {
        let i = row as usize;
        match (self.adj_start.get(i), self.adj_start.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.adj[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The units a reference row stands for: itself, or a whole city's arrondissements.
    pub fn expand(&self, row: u32, out: &mut Vec<u32>) {
        match self.cities.binary_search_by_key(&row, |(k, _)| *k) {
            Ok(k) => out.extend_from_slice(&self.cities[k].1),
            Err(_) => {
                if (row as usize) < self.is_unit.len() {
                    out.push(row);
                }
            }
        }
    }

    /// The units of a list of commune codes, sorted and without repetition; unknown codes are
    /// returned apart.
    pub fn units_of<'c>(&self, codes: impl IntoIterator<Item = &'c InseeCode>) -> (Vec<u32>, Vec<InseeCode>) {
        let mut units = Vec::new();
        let mut unknown = Vec::new();
        for code in codes {
            match self.reference.index_of(code.as_str()) {
                Some(row) => self.expand(row, &mut units),
                None => unknown.push(*code),
            }
        }
        units.sort_unstable();
        units.dedup();
        (units, unknown)
    }

    /// Population of some units.
    pub fn population_of(&self, units: &[u32]) -> u64 {
        units.iter().map(|&u| u64::from(self.population.get(u as usize).copied().unwrap_or(0))).sum()
    }

    /// Code and name of a département of [`Coverage::departements`] (same indices).
    pub fn departement(&self, i: usize) -> Option<(&str, &str)> {
        self.departements.get(i).map(|a| (a.code.as_str(), a.name.as_str()))
    }

    /// Index into [`Coverage::departements`] of a row's département.
    pub fn departement_index_of(&self, row: u32) -> Option<usize> {
        self.dep.get(row as usize).map(|&d| d as usize)
    }

    pub(super) fn departement_count(&self) -> usize {
        self.departements.len()
    }

    /// Resolves the registry's communes to units, once; what [`compute`](Self::compute) needs.
    pub fn prepare(&self, registry: &[RegisteredCpts]) -> PreparedRegistry {
        let mut cpts = Vec::with_capacity(registry.len());
        let mut unknown = Vec::new();
        let mut shares: Vec<(u16, u64)> = Vec::new();
        for (i, c) in registry.iter().enumerate() {
            let (units, missing) = self.units_of(&c.communes);
            unknown.extend(missing.into_iter().map(|code| (i, code)));
            shares.clear();
            for &u in &units {
                let (d, p) = (self.dep[u as usize], u64::from(self.population[u as usize]));
                match shares.iter_mut().find(|(k, _)| *k == d) {
                    Some((_, total)) => *total += p,
                    None => shares.push((d, p)),
                }
            }
            // The département holding most of its population (the lower index on a tie).
            let main = shares.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map_or(NO_AREA, |&(d, _)| d);
            cpts.push(PreparedCpts {
                population: self.population_of(&units),
                units,
                main_departement: main,
                history: c.history.clone(),
            });
        }
        PreparedRegistry { cpts, unknown }
    }

    /// Coverage of `registry` on `on`: [`prepare`](Self::prepare) then [`compute`](Self::compute).
    pub fn coverage(&self, registry: &[RegisteredCpts], on: NaiveDate, thresholds: &SizeThresholds) -> Coverage {
        self.compute(&self.prepare(registry), on, thresholds)
    }

    /// Coverage on `on` of a prepared registry. Size classes of the CPTS use `thresholds`
    /// (take them from the ACI rule set in force: `RuleSet::size_thresholds`).
    pub fn compute(&self, prepared: &PreparedRegistry, on: NaiveDate, thresholds: &SizeThresholds) -> Coverage {
        let n = self.population.len();
        let mut claims = vec![0u16; n];
        let mut best = vec![0u8; n];
        let mut first = vec![NONE; n];
        let mut states = Vec::with_capacity(prepared.cpts.len());
        for (i, c) in prepared.cpts.iter().enumerate() {
            let state = state_on(&c.history, on);
            states.push(state);
            let Some(s) = state else { continue };
            let code = s.index() as u8 + 1;
            for &u in &c.units {
                let u = u as usize;
                claims[u] = claims[u].saturating_add(1);
                if first[u] == NONE {
                    first[u] = i as u32;
                }
                if best[u] < code {
                    best[u] = code;
                }
            }
        }

        // Overlaps: (unit, cpts) pairs on units claimed twice or more, grouped by unit.
        let mut pairs = Vec::new();
        for (i, c) in prepared.cpts.iter().enumerate() {
            if states[i].is_some() {
                pairs.extend(c.units.iter().filter(|&&u| claims[u as usize] >= 2).map(|&u| (u, i)));
            }
        }
        pairs.sort_unstable();
        let communes = self.reference.communes();
        let mut overlaps: Vec<Overlap> = Vec::new();
        for (u, i) in pairs {
            match overlaps.last_mut() {
                Some(o) if o.commune == u => o.cpts.push(i),
                _ => overlaps.push(Overlap {
                    commune: u,
                    code: communes[u as usize].code,
                    population: u64::from(self.population[u as usize]),
                    cpts: vec![i],
                }),
            }
        }

        // Areas.
        let mut departements: Vec<Area> =
            self.departements.iter().map(|a| Area::empty(a.code.clone(), a.name.clone())).collect();
        for &u in &self.units {
            let u = u as usize;
            let Some(a) = departements.get_mut(self.dep[u] as usize) else { continue };
            let p = u64::from(self.population[u]);
            a.communes += 1;
            a.population += p;
            match best[u] {
                0 => a.blank_communes += 1,
                b => {
                    a.covered += p;
                    a.by_state[usize::from(b - 1)] += p;
                    if usize::from(b - 1) == CptsState::AciSigne.index() {
                        a.signed += p;
                    }
                }
            }
        }
        let mut table = StateTable::default();
        let mut cpts_on = Vec::with_capacity(prepared.cpts.len());
        for (c, state) in prepared.cpts.iter().zip(&states) {
            let size = thresholds.classify(c.population);
            let main = (c.main_departement != NO_AREA).then_some(usize::from(c.main_departement));
            match state {
                None => table.not_yet += 1,
                Some(s) => {
                    table.count(*s, size);
                    if let Some(a) = main.and_then(|d| departements.get_mut(d)) {
                        a.cpts.add(s.stage());
                    }
                }
            }
            cpts_on.push(CptsOn { state: *state, population: c.population, size, main_departement: main });
        }
        let mut regions: Vec<Area> = self.regions.iter().map(|a| Area::empty(a.code.clone(), a.name.clone())).collect();
        for (d, info) in departements.iter().zip(&self.departements) {
            if let Some(r) = regions.get_mut(usize::from(info.region)) {
                r.add(d);
            }
        }
        let mut nation = Area::empty("FR".into(), "France".into());
        for r in &regions {
            nation.add(r);
        }

        // Zones blanches: connected groups of unclaimed units.
        let mut zone_of = vec![NONE; n];
        let mut zones: Vec<ZoneBlanche> = Vec::new();
        let mut stack = Vec::new();
        let mut deps: Vec<u16> = Vec::new();
        for &start in &self.units {
            if claims[start as usize] != 0 || zone_of[start as usize] != NONE {
                continue;
            }
            let z = zones.len() as u32;
            zone_of[start as usize] = z;
            stack.push(start);
            let mut members = Vec::new();
            let mut population = 0u64;
            deps.clear();
            while let Some(v) = stack.pop() {
                members.push(v);
                population += u64::from(self.population[v as usize]);
                let d = self.dep[v as usize];
                if !deps.contains(&d) {
                    deps.push(d);
                }
                for &w in self.neighbours(v) {
                    if claims[w as usize] == 0 && zone_of[w as usize] == NONE {
                        zone_of[w as usize] = z;
                        stack.push(w);
                    }
                }
            }
            members.sort_unstable();
            deps.sort_unstable();
            zones.push(ZoneBlanche {
                key: communes[members[0] as usize].code,
                departements: deps
                    .iter()
                    .filter_map(|&d| self.departements.get(usize::from(d)))
                    .map(|a| a.code.clone())
                    .collect(),
                communes: members,
                population,
            });
        }
        zones.sort_by(|a, b| b.population.cmp(&a.population).then(a.key.cmp(&b.key)));
        for (z, zone) in zones.iter().enumerate() {
            for &u in &zone.communes {
                zone_of[u as usize] = z as u32;
            }
        }

        Coverage {
            on,
            claims,
            best,
            first,
            zone_of,
            cpts: cpts_on,
            nation,
            regions,
            departements,
            overlaps,
            zones,
            states: table,
            unknown_communes: prepared.unknown.clone(),
        }
    }
}

/// The state in force on `on` of a history (oldest first).
fn state_on(history: &[StateChange], on: NaiveDate) -> Option<CptsState> {
    history.iter().rev().find(|c| c.on <= on).map(|c| c.state)
}

#[derive(Debug, Clone)]
pub(super) struct PreparedCpts {
    /// Sorted, without repetition.
    pub(super) units: Vec<u32>,
    pub(super) population: u64,
    main_departement: u16,
    history: Vec<StateChange>,
}

/// A registry whose commune codes are resolved to units (see [`NationalIndex::prepare`]).
#[derive(Debug, Clone)]
pub struct PreparedRegistry {
    pub(super) cpts: Vec<PreparedCpts>,
    /// Codes of no current commune (registry index, code): ignored by the computation. A registry
    /// read by [`super::parse_registry`] has none.
    pub unknown: Vec<(usize, InseeCode)>,
}

impl PreparedRegistry {
    /// The units claimed by CPTS `i` of the registry.
    pub fn units(&self, i: usize) -> &[u32] {
        self.cpts.get(i).map_or(&[], |c| c.units.as_slice())
    }
}

/// A part of a whole, with its percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Share {
    pub part: u64,
    pub whole: u64,
}

impl Share {
    pub fn new(part: u64, whole: u64) -> Self {
        Self { part, whole }
    }

    /// Tenths of a percent, rounded half up (0 for an empty whole): 888 for 88.8 %.
    pub fn per_mille(&self) -> u64 {
        if self.whole == 0 {
            return 0;
        }
        let (p, w) = (u128::from(self.part), u128::from(self.whole));
        u64::try_from((p * 2000 + w) / (2 * w)).unwrap_or(u64::MAX)
    }

    pub fn percent(&self) -> f64 {
        if self.whole == 0 { 0.0 } else { self.part as f64 * 100.0 / self.whole as f64 }
    }

    /// « 88,8 % »
    pub fn fr(&self) -> String {
        let m = self.per_mille();
        format!("{},{}\u{a0}%", m / 10, m % 10)
    }
}

impl fmt::Display for Share {
    /// `88.8%`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.per_mille();
        write!(f, "{}.{}%", m / 10, m % 10)
    }
}

/// CPTS counted in the four groups of the seed 004 table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StageCounts {
    pub signed: usize,
    pub project: usize,
    pub building: usize,
    pub starting: usize,
}

impl StageCounts {
    pub fn get(&self, stage: Stage) -> usize {
        match stage {
            Stage::Signed => self.signed,
            Stage::Project => self.project,
            Stage::Building => self.building,
            Stage::Starting => self.starting,
        }
    }

    fn add(&mut self, stage: Stage) {
        *match stage {
            Stage::Signed => &mut self.signed,
            Stage::Project => &mut self.project,
            Stage::Building => &mut self.building,
            Stage::Starting => &mut self.starting,
        } += 1;
    }

    fn add_all(&mut self, other: &StageCounts) {
        self.signed += other.signed;
        self.project += other.project;
        self.building += other.building;
        self.starting += other.starting;
    }

    pub fn total(&self) -> usize {
        self.signed + self.project + self.building + self.starting
    }

    /// The stage's share of all CPTS counted.
    pub fn share(&self, stage: Stage) -> Share {
        Share::new(self.get(stage) as u64, self.total() as u64)
    }
}

/// Population and CPTS of a département, a région or the nation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    /// INSEE code (`FR` for the nation).
    pub code: String,
    pub name: String,
    /// Units (communes; arrondissements in Paris, Lyon, Marseille).
    pub communes: usize,
    pub population: u64,
    /// Population of units claimed by at least one signed CPTS.
    pub signed: u64,
    /// Population of units claimed by at least one CPTS, signed or project.
    pub covered: u64,
    /// Population by the most advanced state among a unit's claimants, in [`CptsState`] order.
    pub by_state: [u64; 5],
    /// Units claimed by no CPTS.
    pub blank_communes: usize,
    /// CPTS counted here: each in the département holding most of its population.
    pub cpts: StageCounts,
}

impl Area {
    fn empty(code: String, name: String) -> Self {
        Self {
            code,
            name,
            communes: 0,
            population: 0,
            signed: 0,
            covered: 0,
            by_state: [0; 5],
            blank_communes: 0,
            cpts: StageCounts::default(),
        }
    }

    fn add(&mut self, other: &Area) {
        self.communes += other.communes;
        self.population += other.population;
        self.signed += other.signed;
        self.covered += other.covered;
        for (a, b) in self.by_state.iter_mut().zip(other.by_state) {
            *a += b;
        }
        self.blank_communes += other.blank_communes;
        self.cpts.add_all(&other.cpts);
    }

    /// Population in zones blanches.
    pub fn blank(&self) -> u64 {
        self.population - self.covered
    }

    pub fn signed_share(&self) -> Share {
        Share::new(self.signed, self.population)
    }

    pub fn covered_share(&self) -> Share {
        Share::new(self.covered, self.population)
    }

    pub fn blank_share(&self) -> Share {
        Share::new(self.blank(), self.population)
    }
}

/// How many CPTS are in each state on the date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateTable {
    /// In [`CptsState`] order.
    pub by_state: [usize; 5],
    pub stages: StageCounts,
    /// `[stage][size class − 1]`, stages in [`Stage::ALL`] order (signed first).
    pub by_stage_and_size: [[usize; 4]; 4],
    /// Registered CPTS without any state yet on the date (not counted elsewhere).
    pub not_yet: usize,
}

impl StateTable {
    fn count(&mut self, state: CptsState, size: SizeClass) {
        self.by_state[state.index()] += 1;
        self.stages.add(state.stage());
        let row = Stage::ALL.iter().position(|&s| s == state.stage()).unwrap_or(0);
        self.by_stage_and_size[row][usize::from(size.number() - 1)] += 1;
    }

    /// CPTS counted (with a state on the date).
    pub fn total(&self) -> usize {
        self.stages.total()
    }

    pub fn state_share(&self, state: CptsState) -> Share {
        Share::new(self.by_state[state.index()] as u64, self.total() as u64)
    }

    pub fn size(&self, stage: Stage, size: SizeClass) -> usize {
        let row = Stage::ALL.iter().position(|&s| s == stage).unwrap_or(0);
        self.by_stage_and_size[row][usize::from(size.number() - 1)]
    }
}

/// A CPTS of the registry on the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CptsOn {
    pub state: Option<CptsState>,
    pub population: u64,
    pub size: SizeClass,
    /// Index into [`Coverage::departements`] of the département holding most of its population.
    pub main_departement: Option<usize>,
}

/// A unit claimed by several CPTS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    /// Reference row.
    pub commune: u32,
    pub code: InseeCode,
    pub population: u64,
    /// Registry indices, ascending.
    pub cpts: Vec<usize>,
}

/// A connected group of units that no CPTS claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneBlanche {
    /// The smallest INSEE code of the zone: stable while the zone keeps that commune.
    pub key: InseeCode,
    /// Reference rows, ascending.
    pub communes: Vec<u32>,
    pub population: u64,
    /// Codes of the départements it spans, ascending.
    pub departements: Vec<String>,
}

/// What coverage says of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CommuneCoverage {
    /// How many CPTS claim it.
    pub claims: u16,
    /// The most advanced state among them.
    pub best: Option<CptsState>,
    /// Index into [`Coverage::zones`] when unclaimed.
    pub zone: Option<usize>,
}

/// National coverage on a date. Per-commune answers are indexed by reference row.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub on: NaiveDate,
    claims: Vec<u16>,
    best: Vec<u8>,
    first: Vec<u32>,
    zone_of: Vec<u32>,
    /// Per registry entry, same order.
    pub cpts: Vec<CptsOn>,
    pub nation: Area,
    /// In the reference's order (by code), like [`departements`](Self::departements).
    pub regions: Vec<Area>,
    pub departements: Vec<Area>,
    /// By commune row.
    pub overlaps: Vec<Overlap>,
    /// Largest population first, then by key.
    pub zones: Vec<ZoneBlanche>,
    pub states: StateTable,
    /// Codes of the registry that are no current commune (ignored).
    pub unknown_communes: Vec<(usize, InseeCode)>,
}

impl Coverage {
    /// What coverage says of a reference row; `None` for the three whole cities (look at their
    /// arrondissements) and out-of-range rows.
    pub fn commune(&self, row: u32) -> Option<CommuneCoverage> {
        let i = row as usize;
        let &claims = self.claims.get(i)?;
        if claims == 0 && self.zone_of[i] == NONE {
            return None; // not a unit
        }
        Some(CommuneCoverage {
            claims,
            best: self.best[i].checked_sub(1).map(|b| CptsState::ALL[usize::from(b)]),
            zone: (self.zone_of[i] != NONE).then_some(self.zone_of[i] as usize),
        })
    }

    /// Registry indices of the CPTS claiming a row, ascending.
    pub fn claimants(&self, row: u32) -> Vec<usize> {
        match self.claims.get(row as usize) {
            None | Some(0) => Vec::new(),
            Some(1) => vec![self.first[row as usize] as usize],
            Some(_) => self
                .overlaps
                .binary_search_by_key(&row, |o| o.commune)
                .map(|k| self.overlaps[k].cpts.clone())
                .unwrap_or_default(),
        }
    }

    /// The zone blanche holding a row.
    pub fn zone_of(&self, row: u32) -> Option<&ZoneBlanche> {
        let z = *self.zone_of.get(row as usize)?;
        self.zones.get(z as usize)
    }

    /// The zone blanche holding the commune `code`, if it is uncovered.
    pub fn zone_with(&self, reference: &Reference, code: &str) -> Option<&ZoneBlanche> {
        self.zone_of(reference.index_of(code)?)
    }
}

/// Coverage of `registry` on `on` (builds the index: prefer [`NationalIndex::coverage`] when
/// computing more than once).
pub fn coverage(
    reference: &Reference,
    registry: &[RegisteredCpts],
    on: NaiveDate,
    thresholds: &SizeThresholds,
) -> Coverage {
    NationalIndex::new(reference).coverage(registry, on, thresholds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_half_up() {
        assert_eq!(Share::new(888, 1000).fr(), "88,8\u{a0}%");
        assert_eq!(Share::new(8885, 10000).per_mille(), 889);
        assert_eq!(Share::new(1, 3).to_string(), "33.3%");
        assert_eq!(Share::new(0, 0).per_mille(), 0);
        assert_eq!(Share::new(5, 5).fr(), "100,0\u{a0}%");
    }

    #[test]
    fn index_units_and_adjacency() {
        let r = Reference::embedded();
        let idx = NationalIndex::new(r);
        assert_eq!(idx.total_population(), 68_350_798);
        assert_eq!(idx.units().len(), r.communes().len() - 3);
        let paris = r.index_of("75056").unwrap();
        assert!(!idx.is_unit(paris));
        let mut parts = Vec::new();
        idx.expand(paris, &mut parts);
        assert_eq!(parts.len(), 20);
        assert_eq!(idx.population_of(&parts), u64::from(r.communes()[paris as usize].population));
        // Boulogne borders the 16th arrondissement, not "Paris" as a unit.
        let boulogne = r.index_of("92012").unwrap();
        let p16 = r.index_of("75116").unwrap();
        assert!(idx.neighbours(boulogne).contains(&p16));
        assert!(!idx.neighbours(boulogne).contains(&paris));
        assert!(idx.neighbours(paris).is_empty());
        for &u in idx.units() {
            for &v in idx.neighbours(u) {
                assert!(idx.neighbours(v).contains(&u), "adjacency is symmetric");
            }
        }
        let (code, name) = idx.departement(idx.departement_index_of(boulogne).unwrap()).unwrap();
        assert_eq!((code, name), ("92", "Hauts-de-Seine"));
    }
}
