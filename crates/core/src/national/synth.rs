//! A synthetic national registry on the real communes, for demos, tests and benchmarks: about 800
//! CPTS (the national count in 2025), contiguous territories grown over shared borders, realistic
//! sizes, states and dated histories, about 88 % of the population covered, the zones blanches
//! gathered in a minority of départements, and a few overlaps. Entirely fictitious: names,
//! FINESS and SIREN numbers are made up (valid keys). The same parameters give the same registry.
//!
//! How it is grown (details and figures in `docs/national.md`):
//! 1. about 40 % of the départements get a share of their population left uncovered (8 % to
//!    33 %, scaled so that the nation meets [`SynthParams::coverage_per_mille`], at most 45 %);
//!    the others are fully covered;
//! 2. each département gets a number of CPTS in proportion to the population to cover;
//! 3. CPTS are grown one by one: the first seed of a département is its most populous free
//!    commune, later ones the most populous free commune on the edge of the covered area (a
//!    quarter of the time the most populous free commune), then breadth-first over free
//!    neighbours of the same département (6 % may cross into the next) up to a target drawn
//!    around what remains to cover per CPTS left (25,000 to 250,000; a big town alone may exceed
//!    it); a CPTS stuck under 12,000 inhabitants is dropped and its communes stay blank;
//! 4. in fully covered départements, free communes left between territories join the smallest
//!    neighbouring CPTS;
//! 5. steps 1–4 run again (four runs at most) with corrected parameters until the number of
//!    CPTS and the uncovered share are close to the asked ones;
//! 6. a few CPTS also claim one commune of a neighbour (overlaps);
//! 7. states: about 76 % ACI signé, the rest spread over the projects, with histories from 2017
//!    to [`SynthParams::until`] (most projects start before mid-2023; no signature before the
//!    ACI of 2019).

use super::coverage::NationalIndex;
use super::registry::{CptsState, RegisteredCpts, StateChange};
use crate::directory::synth::SplitMix64;
use crate::ids::{Finess, IdError, Siren};
use chrono::{Days, NaiveDate};
use std::collections::VecDeque;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthParams {
    pub seed: u64,
    /// About how many CPTS (the result is within a few percent).
    pub cpts: usize,
    /// Share of the population covered by some CPTS on `until`, in tenths of a percent.
    pub coverage_per_mille: u64,
    /// Share of CPTS that also claim a commune of a neighbour, in tenths of a percent.
    pub overlaps_per_mille: u64,
    /// The last date of the histories (every CPTS has its current state by then).
    pub until: NaiveDate,
}

impl Default for SynthParams {
    fn default() -> Self {
        Self {
            seed: 2026,
            cpts: 800,
            coverage_per_mille: 880,
            overlaps_per_mille: 20,
            until: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default(),
        }
    }
}

const NONE: u32 = u32::MAX;
const MIN_TARGET: u64 = 25_000;
const MAX_TARGET: u64 = 250_000;
const MIN_KEPT: u64 = 12_000;

struct Grower<'a, 'r> {
    index: &'a NationalIndex<'r>,
    rng: SplitMix64,
    /// Per reference row: the CPTS (generation order) that owns it.
    owner: Vec<u32>,
    /// Rows given up as seeds (a CPTS could not grow there).
    skipped: Vec<bool>,
    /// Stamp of the last growth that queued a row.
    queued: Vec<u32>,
    territories: Vec<Vec<u32>>,
    populations: Vec<u64>,
}

impl Grower<'_, '_> {
    fn pop(&self, row: u32) -> u64 {
        u64::from(self.index.population[row as usize])
    }

    fn dep(&self, row: u32) -> u16 {
        self.index.dep[row as usize]
    }

    fn free(&self, row: u32) -> bool {
        self.owner[row as usize] == NONE && !self.skipped[row as usize]
    }

    /// The seed of the next CPTS in a département: the most populous free unit next to a
    /// covered one, else the most populous free unit.
    fn seed(&self, units: &[u32], edge_first: bool) -> Option<u32> {
        let edge = units
            .iter()
            .copied()
            .filter(|&u| self.free(u) && self.index.neighbours(u).iter().any(|&v| self.owner[v as usize] != NONE))
            .max_by_key(|&u| (self.pop(u), std::cmp::Reverse(u)));
        let any =
            || units.iter().copied().filter(|&u| self.free(u)).max_by_key(|&u| (self.pop(u), std::cmp::Reverse(u)));
        if edge_first { edge.or_else(any) } else { any() }
    }

    /// Grows a territory breadth-first from `seed` over free units until `target`.
    fn grow(&mut self, seed: u32, target: u64, cross: bool) -> (Vec<u32>, u64) {
        let stamp = self.territories.len() as u32;
        let home = self.dep(seed);
        let mut members = Vec::new();
        let mut population = 0;
        let mut queue = VecDeque::from([seed]);
        self.queued[seed as usize] = stamp;
        while let Some(u) = queue.pop_front() {
            if population >= target {
                break;
            }
            members.push(u);
            population += self.pop(u);
            self.owner[u as usize] = stamp;
            for &v in self.index.neighbours(u) {
                if self.free(v) && self.queued[v as usize] != stamp && (cross || self.dep(v) == home) {
                    self.queued[v as usize] = stamp;
                    queue.push_back(v);
                }
            }
        }
        (members, population)
    }

    fn release(&mut self, members: &[u32]) {
        for &u in members {
            self.owner[u as usize] = NONE;
            self.skipped[u as usize] = true;
        }
    }
}

/// A valid identifier made of `payload` and the check character that makes `parse` accept it.
fn with_key<T>(payload: &str, parse: fn(&str) -> Result<T, IdError>) -> Option<T> {
    (0..10).find_map(|k| parse(&format!("{payload}{k}")).ok())
}

/// Grows the territories (steps 1 to 4) for `cpts` CPTS leaving `blank_per_mille` of the
/// population uncovered.
fn grow_territories<'a, 'r>(
    index: &'a NationalIndex<'r>,
    seed: u64,
    cpts: u64,
    blank_per_mille: u64,
) -> Grower<'a, 'r> {
    let rows = index.population.len();
    let deps = index.departement_count();
    let mut by_dep: Vec<Vec<u32>> = vec![Vec::new(); deps];
    for &u in index.units() {
        if let Some(list) = by_dep.get_mut(usize::from(index.dep[u as usize])) {
            list.push(u);
        }
    }
    let dep_pop: Vec<u64> = by_dep.iter().map(|units| index.population_of(units)).collect();
    let total: u64 = dep_pop.iter().sum();
    let mut g = Grower {
        index,
        rng: SplitMix64::new(seed),
        owner: vec![NONE; rows],
        skipped: vec![false; rows],
        queued: vec![NONE; rows],
        territories: Vec::new(),
        populations: Vec::new(),
    };

    // 1. Share left uncovered per département (per mille), scaled to the national target.
    let mut blank: Vec<u64> = (0..deps).map(|_| if g.rng.chance(400) { 80 + g.rng.below(250) } else { 0 }).collect();
    let wanted = total * blank_per_mille.min(1000);
    let drawn: u64 = blank.iter().zip(&dep_pop).map(|(b, p)| b * p).sum();
    if drawn > 0 {
        for b in &mut blank {
            *b = (u128::from(*b) * u128::from(wanted) / u128::from(drawn)).min(450) as u64;
        }
    }
    let full = |d: u16| blank.get(usize::from(d)).is_none_or(|&b| b == 0);
    let to_cover: Vec<u64> = dep_pop.iter().zip(&blank).map(|(p, b)| p * (1000 - b) / 1000).collect();
    let all_to_cover: u64 = to_cover.iter().sum::<u64>().max(1);

    // 2–3. Grow the CPTS département by département.
    for d in 0..deps {
        let planned = ((cpts * to_cover[d] + all_to_cover / 2) / all_to_cover).max(1);
        let (mut covered, mut made) = (0u64, 0u64);
        while covered < to_cover[d] {
            let edge_first = made > 0 && !g.rng.chance(250);
            let Some(seed) = g.seed(&by_dep[d], edge_first) else { break };
            let remaining = to_cover[d] - covered;
            let mean = remaining / planned.saturating_sub(made).max(1);
            // Mostly around the mean, sometimes much larger (urban CPTS of taille 4).
            let factor = 45 + g.rng.below(110) + if g.rng.chance(120) { 100 + g.rng.below(150) } else { 0 };
            let mut target = (mean * factor / 100).clamp(MIN_TARGET, MAX_TARGET);
            if remaining < target + target / 3 {
                target = remaining;
            }
            let cross = g.rng.chance(60);
            let (mut members, mut population) = g.grow(seed, target, cross);
            if population < MIN_KEPT && !cross {
                // Stuck against the border: try again across it.
                for &u in &members {
                    g.owner[u as usize] = NONE;
                }
                (members, population) = g.grow(seed, target, true);
            }
            if population < MIN_KEPT {
                g.release(&members);
                continue;
            }
            covered += members.iter().filter(|&&u| g.dep(u) as usize == d).map(|&u| g.pop(u)).sum::<u64>();
            made += 1;
            g.territories.push(members);
            g.populations.push(population);
        }
    }

    // 4. Fill the gaps of fully covered départements.
    let mut queue: VecDeque<u32> =
        index.units().iter().copied().filter(|&u| full(g.dep(u)) && g.owner[u as usize] == NONE).collect();
    while let Some(u) = queue.pop_front() {
        if g.owner[u as usize] != NONE {
            continue;
        }
        let best = index
            .neighbours(u)
            .iter()
            .map(|&v| g.owner[v as usize])
            .filter(|&o| o != NONE)
            .min_by_key(|&o| (g.populations[o as usize], o));
        let Some(o) = best else { continue };
        g.owner[u as usize] = o;
        g.territories[o as usize].push(u);
        g.populations[o as usize] += g.pop(u);
        queue.extend(index.neighbours(u).iter().copied().filter(|&v| g.owner[v as usize] == NONE && full(g.dep(v))));
    }
    g
}

/// Generates the registry (see the module documentation). The growth is run again (four runs at
/// most) with the number of CPTS and the uncovered share corrected by what the previous run
/// reached, until both are close to the parameters; the closest run is kept.
pub fn generate(index: &NationalIndex<'_>, params: &SynthParams) -> Vec<RegisteredCpts> {
    let wanted_cpts = params.cpts.max(1) as u64;
    let wanted_blank = 1000 - params.coverage_per_mille.min(1000);
    let total = index.total_population().max(1);
    let (mut cpts, mut blank) = (wanted_cpts, wanted_blank);
    let mut best: Option<(u64, Grower<'_, '_>)> = None;
    for _ in 0..4 {
        let g = grow_territories(index, params.seed, cpts, blank);
        let got_cpts = (g.territories.len() as u64).max(1);
        let got_blank = 1000 - (g.populations.iter().sum::<u64>() * 1000 / total).min(1000);
        // Per mille off the number of CPTS, plus 10 × per mille off the uncovered share.
        let error = got_cpts.abs_diff(wanted_cpts) * 1000 / wanted_cpts + 10 * got_blank.abs_diff(wanted_blank);
        cpts = (cpts * wanted_cpts / got_cpts).max(1);
        blank = (blank * wanted_blank).checked_div(got_blank).map_or(blank, |b| b.min(900));
        if best.as_ref().is_none_or(|(e, _)| error < *e) {
            best = Some((error, g));
        }
        if error <= 40 {
            break;
        }
    }
    let Some((_, mut g)) = best else { return Vec::new() };
    g.rng = SplitMix64::new(params.seed ^ 0x5EED_0F57_A7E5);

    // 5. Overlaps: a few CPTS also claim a bordering commune of another CPTS.
    let count = g.territories.len();
    let mut claimed: Vec<Vec<u32>> = g.territories.clone();
    for (i, list) in claimed.iter_mut().enumerate() {
        if !g.rng.chance(params.overlaps_per_mille) {
            continue;
        }
        let other = g.territories[i]
            .iter()
            .flat_map(|&u| index.neighbours(u).iter().copied())
            .filter(|&v| g.owner[v as usize] != NONE && g.owner[v as usize] != i as u32)
            .min();
        list.extend(other);
    }

    // 6. Names, identifiers, states and histories.
    let communes = index.reference().communes();
    let first_day = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap_or_default();
    let aci = NaiveDate::from_ymd_opt(2019, 7, 1).unwrap_or_default();
    let late = NaiveDate::from_ymd_opt(2023, 6, 1).unwrap_or_default();
    let until = params.until.max(late);
    let days = |from: NaiveDate, to: NaiveDate| u64::try_from((to - from).num_days()).unwrap_or(0).max(1);
    let mut registry = Vec::with_capacity(count);
    for (i, mut units) in claimed.into_iter().enumerate() {
        units.sort_unstable();
        units.dedup();
        let main = g.territories[i].iter().copied().max_by_key(|&u| (g.pop(u), std::cmp::Reverse(u))).unwrap_or(0);
        let town = &communes[main as usize];
        let name = match g.rng.below(6) {
            0 => format!("CPTS du Pays de {}", town.name),
            1 => format!("CPTS {} et environs", town.name),
            2 => format!("CPTS de {}", town.name),
            3 => format!("CPTS Santé {}", town.name),
            _ => format!("CPTS {}", town.name),
        };
        let state = match g.rng.below(1000) {
            0..760 => CptsState::AciSigne,
            760..810 => CptsState::ProjetValide,
            810..920 => CptsState::ProjetEnConstruction,
            920..955 => CptsState::LettreIntention,
            _ => CptsState::DebutProjet,
        };
        // Most projects started before mid-2023, earlier ones more likely; each step takes 2 to 14
        // months; nobody signs
        // before the ACI (mid-2019). A history running past `until` is compressed to end then.
        let begin = if g.rng.chance(940) {
            let span = days(first_day, late);
            first_day + Days::new(g.rng.below(span).min(g.rng.below(span)))
        } else {
            late + Days::new(g.rng.below(days(late, until)))
        };
        let mut on = begin;
        let mut history = vec![StateChange { on, state: CptsState::DebutProjet }];
        for next in &CptsState::ALL[1..=state.index()] {
            on = on + Days::new(60 + g.rng.below(360));
            if *next == CptsState::AciSigne && on < aci {
                on = aci + Days::new(g.rng.below(180));
            }
            history.push(StateChange { on, state: *next });
        }
        if on > until {
            let (span, room) = (days(begin, on), days(begin, until) - 1);
            for c in &mut history {
                c.on = begin + Days::new(days(begin, c.on) * room / span);
            }
        }
        if history.len() > 2 && g.rng.chance(150) {
            history.drain(..history.len() - 2); // only the last two dates are known
        } else if g.rng.chance(250) {
            history.retain(|c| c.state != CptsState::LettreIntention || c.state == state);
        }
        let dep_code = index.departement(usize::from(g.dep(main))).map_or("", |(code, _)| code);
        let finess = if g.rng.chance(if state >= CptsState::ProjetValide { 900 } else { 200 }) {
            dep_code.get(..2).and_then(|d| with_key(&format!("{d}{:06}", 100_000 + i), Finess::parse))
        } else {
            None
        };
        let siren =
            if g.rng.chance(950) { with_key(&format!("{:08}", 80_000_000 + 17 * i), Siren::parse) } else { None };
        registry.push(RegisteredCpts {
            id: format!("cpts-{:04}", i + 1),
            name,
            finess,
            siren,
            communes: units.iter().map(|&u| communes[u as usize].code).collect(),
            history,
        });
    }
    registry
}
