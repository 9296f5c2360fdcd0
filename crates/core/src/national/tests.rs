//! Coverage against an independent, deliberately naive recomputation from the commune data
//! (issue 8: "coverage figures equal an independent recomputation from the commune data"), on
//! hand-made maps and on the synthetic national registry; and the synthetic registry itself.

use super::coverage::{Coverage, NationalIndex};
use super::registry::{CptsState, RegisteredCpts, StateChange, parse_registry, write_registry};
use super::synth::{SynthParams, generate};
use super::taskforce::{Action, TaskForce, TaskForceStatus, zones_without_task_force};
use crate::access::Agency;
use crate::ids::InseeCode;
use crate::refdata::{RefDataParts, Reference};
use crate::territory::{SizeClass, SizeThresholds, Territory};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn cpts(id: &str, communes: &[&str], history: &[(&str, CptsState)]) -> RegisteredCpts {
    RegisteredCpts {
        id: id.into(),
        name: format!("CPTS {id}"),
        finess: None,
        siren: None,
        communes: communes.iter().map(|c| InseeCode::parse(c).unwrap()).collect(),
        history: history.iter().map(|&(on, state)| StateChange { on: d(on), state }).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// The naive recomputation: strings, maps and sets, its own breadth-first search.

#[derive(Debug, Default, PartialEq, Eq)]
struct NaiveArea {
    communes: usize,
    population: u64,
    signed: u64,
    covered: u64,
    by_state: [u64; 5],
    blank_communes: usize,
    stages: [usize; 4], // signed, project, building, starting
}

#[derive(Debug, Default)]
struct Naive {
    nation: NaiveArea,
    departements: BTreeMap<String, NaiveArea>,
    regions: BTreeMap<String, NaiveArea>,
    overlaps: BTreeMap<String, BTreeSet<usize>>,
    /// (sorted codes, population, départements)
    zones: BTreeSet<(Vec<String>, u64, Vec<String>)>,
    by_state: BTreeMap<CptsState, usize>,
    sizes: Vec<(Option<CptsState>, u64, SizeClass)>,
}

fn stage_slot(s: CptsState) -> usize {
    match s {
        CptsState::AciSigne => 0,
        CptsState::ProjetValide => 1,
        CptsState::ProjetEnConstruction => 2,
        CptsState::DebutProjet | CptsState::LettreIntention => 3,
    }
}

fn naive(reference: &Reference, registry: &[RegisteredCpts], on: NaiveDate, thresholds: &SizeThresholds) -> Naive {
    let all = reference.communes();
    let by_code: HashMap<String, usize> = all.iter().enumerate().map(|(i, c)| (c.code.to_string(), i)).collect();
    // Cities that have arrondissements, and their arrondissements.
    let mut parts: HashMap<String, Vec<String>> = HashMap::new();
    for c in all {
        if let Some(p) = &c.parent {
            parts.entry(p.to_string()).or_default().push(c.code.to_string());
        }
    }
    let mut out = Naive::default();
    let mut claims: HashMap<String, Vec<(usize, CptsState)>> = HashMap::new();
    for (i, c) in registry.iter().enumerate() {
        let mut state = None;
        for h in &c.history {
            if h.on <= on {
                state = Some(h.state);
            }
        }
        let mut mine: BTreeSet<String> = BTreeSet::new();
        for code in &c.communes {
            let code = code.to_string();
            if let Some(arr) = parts.get(&code) {
                mine.extend(arr.iter().cloned());
            } else if by_code.contains_key(&code) {
                mine.insert(code);
            }
        }
        let population: u64 = mine.iter().map(|code| u64::from(all[by_code[code]].population)).sum();
        out.sizes.push((state, population, thresholds.classify(population)));
        let Some(state) = state else { continue };
        *out.by_state.entry(state).or_default() += 1;
        // Main département: most population, the smaller code on a tie.
        let mut per_dep: BTreeMap<String, u64> = BTreeMap::new();
        for code in &mine {
            let c = &all[by_code[code]];
            *per_dep.entry(c.departement.clone()).or_default() += u64::from(c.population);
        }
        let mut main: Option<(String, u64)> = None;
        for (dep, p) in per_dep {
            if main.as_ref().is_none_or(|(_, best)| p > *best) {
                main = Some((dep, p));
            }
        }
        if let Some((dep, _)) = main {
            out.departements.entry(dep).or_default().stages[stage_slot(state)] += 1;
        }
        for code in mine {
            claims.entry(code).or_default().push((i, state));
        }
    }
    let units: Vec<&crate::refdata::Commune> = all.iter().filter(|c| !parts.contains_key(c.code.as_str())).collect();
    let mut blank: HashSet<String> = HashSet::new();
    for c in &units {
        let p = u64::from(c.population);
        let dep = out.departements.entry(c.departement.clone()).or_default();
        dep.communes += 1;
        dep.population += p;
        match claims.get(c.code.as_str()) {
            None => {
                dep.blank_communes += 1;
                blank.insert(c.code.to_string());
            }
            Some(list) => {
                dep.covered += p;
                let best = list.iter().map(|(_, s)| *s).max().unwrap();
                dep.by_state[best.index()] += p;
                if list.iter().any(|(_, s)| *s == CptsState::AciSigne) {
                    dep.signed += p;
                }
                if list.len() >= 2 {
                    out.overlaps.insert(c.code.to_string(), list.iter().map(|(i, _)| *i).collect());
                }
            }
        }
    }
    for (code, area) in &out.departements {
        let region = reference.departement(code).map(|d| d.region.clone()).unwrap();
        let r = out.regions.entry(region).or_default();
        for a in [&mut *r, &mut out.nation] {
            a.communes += area.communes;
            a.population += area.population;
            a.signed += area.signed;
            a.covered += area.covered;
            a.blank_communes += area.blank_communes;
            for k in 0..5 {
                a.by_state[k] += area.by_state[k];
            }
            for k in 0..4 {
                a.stages[k] += area.stages[k];
            }
        }
    }
    // Zones blanches: breadth-first over the raw neighbour lists, inside the blank set.
    let mut seen: HashSet<String> = HashSet::new();
    let mut blank_sorted: Vec<&String> = blank.iter().collect();
    blank_sorted.sort();
    for start in blank_sorted {
        if !seen.insert(start.clone()) {
            continue;
        }
        let mut zone = vec![start.clone()];
        let mut queue = VecDeque::from([start.clone()]);
        while let Some(code) = queue.pop_front() {
            for &n in &all[by_code[&code]].neighbours {
                let next = all[n as usize].code.to_string();
                if blank.contains(&next) && seen.insert(next.clone()) {
                    zone.push(next.clone());
                    queue.push_back(next);
                }
            }
        }
        zone.sort();
        let population = zone.iter().map(|c| u64::from(all[by_code[c]].population)).sum();
        let deps: BTreeSet<String> = zone.iter().map(|c| all[by_code[c]].departement.clone()).collect();
        out.zones.insert((zone, population, deps.into_iter().collect()));
    }
    out
}

fn area_as_naive(a: &super::coverage::Area) -> NaiveArea {
    NaiveArea {
        communes: a.communes,
        population: a.population,
        signed: a.signed,
        covered: a.covered,
        by_state: a.by_state,
        blank_communes: a.blank_communes,
        stages: [a.cpts.signed, a.cpts.project, a.cpts.building, a.cpts.starting],
    }
}

/// Asserts that `coverage` says exactly what the naive recomputation says.
fn assert_same(reference: &Reference, registry: &[RegisteredCpts], cov: &Coverage, thresholds: &SizeThresholds) {
    let n = naive(reference, registry, cov.on, thresholds);
    assert_eq!(area_as_naive(&cov.nation), n.nation, "nation");
    let deps: BTreeMap<String, NaiveArea> =
        cov.departements.iter().filter(|a| a.communes > 0).map(|a| (a.code.clone(), area_as_naive(a))).collect();
    assert_eq!(deps, n.departements, "départements");
    let regions: BTreeMap<String, NaiveArea> =
        cov.regions.iter().filter(|a| a.communes > 0).map(|a| (a.code.clone(), area_as_naive(a))).collect();
    assert_eq!(regions, n.regions, "régions");
    let overlaps: BTreeMap<String, BTreeSet<usize>> =
        cov.overlaps.iter().map(|o| (o.code.to_string(), o.cpts.iter().copied().collect())).collect();
    assert_eq!(overlaps, n.overlaps, "overlaps");
    let all = reference.communes();
    let zones: BTreeSet<(Vec<String>, u64, Vec<String>)> = cov
        .zones
        .iter()
        .map(|z| {
            assert_eq!(z.key, all[z.communes[0] as usize].code, "key = smallest code");
            (
                z.communes.iter().map(|&u| all[u as usize].code.to_string()).collect(),
                z.population,
                z.departements.clone(),
            )
        })
        .collect();
    assert_eq!(zones.len(), cov.zones.len(), "zones are disjoint");
    assert_eq!(zones, n.zones, "zones blanches");
    for k in 0..5 {
        let s = CptsState::ALL[k];
        assert_eq!(cov.states.by_state[k], n.by_state.get(&s).copied().unwrap_or(0), "{s}");
    }
    let sizes: Vec<(Option<CptsState>, u64, SizeClass)> =
        cov.cpts.iter().map(|c| (c.state, c.population, c.size)).collect();
    assert_eq!(sizes, n.sizes, "CPTS populations and sizes");
    assert_eq!(cov.nation.population, cov.nation.covered + cov.nation.blank());
    assert_eq!(cov.nation.blank(), cov.zones.iter().map(|z| z.population).sum::<u64>(), "blank = sum of zones");
}

// ---------------------------------------------------------------------------------------------
// A hand-made map.
//
//   41001 — 41002 — 41003 — 41004 — 41005 — 75102 — 75101      45001 (island)
//                                     |
//                                  (75056, the whole city of 75101 + 75102)

fn tiny_reference() -> Reference {
    let communes = "#vintage\ttiny\n\
        #code\tname\tkind\tparent\tdepartement\tregion\tepci\tpostal_codes\tpopulation\tlat\tlon\tneighbours\tcontour\n\
        41001\tA\tcommune\t\t41\t24\t\t\t100\t47.5\t1.1\t41002\t0\n\
        41002\tB\tcommune\t\t41\t24\t\t\t200\t47.5\t1.2\t41001,41003\t0\n\
        41003\tC\tcommune\t\t41\t24\t\t\t300\t47.5\t1.3\t41002,41004\t0\n\
        41004\tD\tcommune\t\t41\t24\t\t\t400\t47.5\t1.4\t41003,41005\t0\n\
        41005\tE\tcommune\t\t41\t24\t\t\t500\t47.5\t1.5\t41004,75056,75102\t0\n\
        45001\tÎle\tcommune\t\t45\t24\t\t\t7\t47.9\t1.9\t\t0\n\
        75056\tParis\tcommune\t\t75\t11\t\t\t30\t48.8\t2.3\t41005\t0\n\
        75101\tParis 1er\tarrondissement\t75056\t75\t11\t\t\t10\t48.8\t2.3\t75102\t0\n\
        75102\tParis 2e\tarrondissement\t75056\t75\t11\t\t\t20\t48.8\t2.4\t41005,75101\t0\n";
    Reference::from_parts(RefDataParts {
        communes,
        former: "#code\tname\tcurrent\n",
        departements: "#code\tname\tregion\tzone\n41\tLoir-et-Cher\t24\tmetro\n45\tLoiret\t24\tmetro\n75\tParis\t11\tmetro\n",
        regions: "#code\tname\n11\tÎle-de-France\n24\tCentre-Val de Loire\n",
        epci: "#siren\tname\tkind\n",
        overseas: "#code\tname\tcollectivity_code\tcollectivity_name\n",
        contours: None,
    })
    .unwrap()
}

fn codes(reference: &Reference, rows: &[u32]) -> Vec<String> {
    rows.iter().map(|&r| reference.communes()[r as usize].code.to_string()).collect()
}

#[test]
fn hand_made_map_splits_zones_and_counts_arrondissements_once() {
    let r = tiny_reference();
    let index = NationalIndex::new(&r);
    assert_eq!(index.total_population(), 100 + 200 + 300 + 400 + 500 + 7 + 30);
    let t = SizeThresholds::default();
    use CptsState::*;
    let registry = vec![
        cpts("x", &["41002"], &[("2020-01-01", DebutProjet), ("2021-01-01", AciSigne)]),
        cpts("y", &["41004"], &[("2022-01-01", ProjetEnConstruction)]),
        cpts("paris", &["75056"], &[("2019-01-01", ProjetValide)]),
        cpts("w", &["41002", "41003"], &[("2020-06-01", LettreIntention)]),
        cpts("late", &["41001"], &[("2030-01-01", DebutProjet)]),
    ];
    let cov = index.coverage(&registry, d("2022-06-01"), &t);
    assert_same(&r, &registry, &cov, &t);

    // The zone blanche 41001 is cut from 41005 by X, W and Y; the island is its own zone.
    let zones: Vec<(Vec<String>, u64)> = cov.zones.iter().map(|z| (codes(&r, &z.communes), z.population)).collect();
    assert_eq!(zones, vec![(vec!["41005".into()], 500), (vec!["41001".into()], 100), (vec!["45001".into()], 7)]);
    assert_eq!(cov.nation.population, 1537);
    assert_eq!(cov.nation.covered, 200 + 300 + 400 + 30);
    assert_eq!(cov.nation.signed, 200, "41002 counts once, as signed, though W claims it too");
    assert_eq!(cov.nation.by_state, [0, 300, 400, 30, 200]);
    assert_eq!(cov.nation.covered_share().fr(), "60,5\u{a0}%");
    assert_eq!(cov.overlaps.len(), 1);
    assert_eq!((cov.overlaps[0].code.as_str(), cov.overlaps[0].cpts.clone()), ("41002", vec![0, 3]));
    let b = r.index_of("41002").unwrap();
    assert_eq!(cov.claimants(b), vec![0, 3]);
    assert_eq!(cov.claimants(r.index_of("41004").unwrap()), vec![1]);
    assert_eq!(cov.commune(b).unwrap().best, Some(AciSigne));
    assert_eq!(cov.commune(r.index_of("75056").unwrap()), None, "the whole city is not a unit");
    assert_eq!(cov.commune(r.index_of("75101").unwrap()).unwrap().best, Some(ProjetValide));
    assert_eq!(cov.states.not_yet, 1);
    assert_eq!(cov.states.stages.signed, 1);
    assert_eq!(cov.states.stages.starting, 1);
    assert_eq!(cov.cpts[2].population, 30);
    let paris = cov.departements.iter().find(|a| a.code == "75").unwrap();
    assert_eq!((paris.communes, paris.population, paris.covered), (2, 30, 30));

    // Earlier, X was only starting and neither Y nor W existed: one zone from 41003 to 41005,
    // where Paris (covered) stops it.
    let before = index.coverage(&registry, d("2020-03-01"), &t);
    assert_same(&r, &registry, &before, &t);
    assert_eq!(before.nation.signed, 0);
    let big = before.zones.iter().find(|z| z.key.as_str() == "41003").unwrap();
    assert_eq!(codes(&r, &big.communes), ["41003", "41004", "41005"]);
    // Nothing registered yet: the whole map is blank, in two zones (the island apart); the
    // city counts through its arrondissements.
    let empty = index.coverage(&registry, d("2018-01-01"), &t);
    assert_same(&r, &registry, &empty, &t);
    assert_eq!(empty.nation.covered, 0);
    assert_eq!(empty.zones.len(), 2);
    assert_eq!(empty.zones[0].population, 1530);
    assert_eq!(empty.zones[0].departements, ["41", "75"]);
}

#[test]
fn arrondissements_named_one_by_one_or_with_their_city() {
    let r = tiny_reference();
    let index = NationalIndex::new(&r);
    let t = SizeThresholds::default();
    // One CPTS names the whole city, another one of its arrondissements: an overlap on 75102
    // only, and Paris's population counted once.
    let registry = vec![
        cpts("city", &["75056"], &[("2020-01-01", CptsState::AciSigne)]),
        cpts("arr", &["75102", "41005"], &[("2020-01-01", CptsState::ProjetValide)]),
        cpts("bad", &["75056", "75101", "99999"], &[("2020-01-01", CptsState::DebutProjet)]),
    ];
    let cov = index.coverage(&registry, d("2024-01-01"), &t);
    assert_same(&r, &registry, &cov, &t);
    assert_eq!(cov.unknown_communes, vec![(2, InseeCode::parse("99999").unwrap())]);
    assert_eq!(cov.cpts[2].population, 30, "a city and its own arrondissement count once");
    let over: Vec<&str> = cov.overlaps.iter().map(|o| o.code.as_str()).collect();
    assert_eq!(over, ["75101", "75102"]);
    assert_eq!(cov.nation.covered, 30 + 500);
}

#[test]
fn task_forces_follow_their_zone() {
    let r = tiny_reference();
    let index = NationalIndex::new(&r);
    let t = SizeThresholds::default();
    let mut registry = vec![cpts("x", &["41003"], &[("2020-01-01", CptsState::AciSigne)])];
    let cov = index.coverage(&registry, d("2024-01-01"), &t);
    let west = cov.zone_with(&r, "41002").unwrap();
    assert_eq!(west.key.as_str(), "41001");
    let mut tf = TaskForce::open(west, Agency::Cpam);
    assert_eq!(tf.validate(d("2024-01-01")), Ok(()));
    tf.status = TaskForceStatus::EnCours;
    tf.actions.push(Action {
        on: d("2024-02-01"),
        text: "Groupe de travail CPAM, ARS, URPS".into(),
        next_step: Some("Proposer l'extension à la CPTS x".into()),
        next_on: Some(d("2024-03-01")),
    });
    assert_eq!(tf.validate(d("2024-02-01")), Ok(()));
    assert_eq!(tf.zone(&r, &cov).map(|z| z.population), Some(300));
    let open = zones_without_task_force(&r, &cov, std::slice::from_ref(&tf));
    assert!(open.iter().all(|z| z.key.as_str() != "41001"));
    assert_eq!(open.len(), cov.zones.len() - 1);
    // x extends over 41002: the zone shrinks to 41001 and keeps its key.
    registry[0].communes.push(InseeCode::parse("41002").unwrap());
    let cov = index.coverage(&registry, d("2024-06-01"), &t);
    assert_eq!(tf.zone(&r, &cov).map(|z| codes(&r, &z.communes)), Some(vec!["41001".to_owned()]));
    registry[0].communes.push(InseeCode::parse("41001").unwrap());
    let cov = index.coverage(&registry, d("2024-06-01"), &t);
    assert_eq!(tf.zone(&r, &cov), None, "covered: the zone is gone");
}

// ---------------------------------------------------------------------------------------------
// The synthetic national registry.

#[test]
fn synthetic_national_registry_matches_the_naive_recomputation() {
    let r = Reference::embedded();
    let index = NationalIndex::new(r);
    let t = SizeThresholds::default();
    let params = SynthParams::default();
    let registry = generate(&index, &params);
    assert_eq!(registry, generate(&index, &params), "deterministic");
    assert!((760..=840).contains(&registry.len()), "{} CPTS", registry.len());

    for on in [params.until, d("2023-10-30"), d("2020-01-01")] {
        let cov = index.coverage(&registry, on, &t);
        assert_same(r, &registry, &cov, &t);
    }
    let cov = index.coverage(&registry, params.until, &t);
    let share = cov.nation.covered_share().per_mille();
    assert!((850..=900).contains(&share), "covered {}", cov.nation.covered_share());
    assert_eq!(cov.nation.population, 68_350_798);
    assert_eq!(cov.states.not_yet, 0);
    let signed = cov.states.stages.share(super::registry::Stage::Signed).per_mille();
    assert!((680..=800).contains(&signed), "signed {signed}‰");
    assert!(!cov.overlaps.is_empty() && cov.overlaps.len() < 60, "{} overlaps", cov.overlaps.len());
    assert!(cov.zones.len() > 20, "{} zones", cov.zones.len());
    for s in [SizeClass::T1, SizeClass::T2, SizeClass::T3, SizeClass::T4] {
        let n = cov.cpts.iter().filter(|c| c.size == s).count();
        assert!(n * 100 >= registry.len() * 4, "{s}: {n}");
    }
    let average = cov.cpts.iter().map(|c| c.population).sum::<u64>() / registry.len() as u64;
    assert!((55_000..=100_000).contains(&average), "average {average}");
    let past = index.coverage(&registry, d("2023-10-30"), &t);
    assert!(past.nation.signed < cov.nation.signed && past.states.total() < cov.states.total());

    // Every territory is a valid, contiguous territory; the file round-trips.
    for c in &registry {
        let territory = Territory::new(r, c.communes.iter().map(InseeCode::as_str)).unwrap();
        assert_eq!(territory.connected_parts().len(), 1, "{} is not contiguous", c.id);
        assert_eq!(c.check_history(), Ok(()), "{}", c.id);
    }
    let text = write_registry(&registry);
    assert_eq!(parse_registry(&text, r), Ok(registry.clone()));

    // The benchmark's registry of at least 1,000 CPTS.
    let thousand = generate(&index, &SynthParams { cpts: 1010, ..SynthParams::default() });
    assert!((1000..=1050).contains(&thousand.len()), "{}", thousand.len());
    let cov = index.coverage(&thousand, params.until, &t);
    assert_same(r, &thousand, &cov, &t);
}
