//! Properties of the engine: against exhaustive search on tiny instances, aggregation against
//! no aggregation on random ones, validity, determinism, explanations.

use super::*;
use crate::geo::LatLon;
use proptest::prelude::*;

/// One patient of an expanded instance.
struct Individual {
    commune: u32,
    class: u8,
    excluded: Vec<u32>,
}

/// Written independently of `Instance::allowed`.
fn may_meet(instance: &Instance, p: &Individual, d: u32) -> Option<u32> {
    let doc = &instance.doctors[d as usize];
    let m = metres(instance.centres[p.commune as usize], instance.centres[doc.commune as usize]);
    let limit = doc.max_m.unwrap_or(u32::MAX).min(instance.max_m);
    let accepted = doc.accepted_communes.as_ref().is_none_or(|a| a.contains(&p.commune));
    (m <= limit && accepted && !p.excluded.contains(&d)).then_some(m)
}

/// The lexicographic optimum by exhaustive search (memoised on the doctors' remaining room):
/// (matched per class 1..=9, total metres).
fn brute_force(instance: &Instance) -> ([u64; 9], u64) {
    let people: Vec<Individual> = instance
        .groups
        .iter()
        .flat_map(|g| {
            (0..g.count).map(|_| Individual {
                commune: g.commune,
                class: g.class,
                excluded: g.excluded_doctors.clone(),
            })
        })
        .collect();
    let options: Vec<Vec<(u32, u32)>> = people
        .iter()
        .map(|p| (0..instance.doctors.len() as u32).filter_map(|d| may_meet(instance, p, d).map(|m| (d, m))).collect())
        .collect();
    // Objective as a key to maximise: matched counts, then the smallest distance.
    type Key = ([u64; 9], std::cmp::Reverse<u64>);
    fn best(
        i: usize,
        room: &mut Vec<u32>,
        people: &[Individual],
        options: &[Vec<(u32, u32)>],
        memo: &mut std::collections::HashMap<(usize, Vec<u32>), Key>,
    ) -> Key {
        if i == people.len() {
            return ([0; 9], std::cmp::Reverse(0));
        }
        if let Some(k) = memo.get(&(i, room.clone())) {
            return *k;
        }
        let mut top = best(i + 1, room, people, options, memo);
        for &(d, m) in &options[i] {
            if room[d as usize] > 0 {
                room[d as usize] -= 1;
                let (mut counts, std::cmp::Reverse(total)) = best(i + 1, room, people, options, memo);
                room[d as usize] += 1;
                counts[people[i].class as usize - 1] += 1;
                top = top.max((counts, std::cmp::Reverse(total + u64::from(m))));
            }
        }
        memo.insert((i, room.clone()), top);
        top
    }
    let mut room: Vec<u32> = instance.doctors.iter().map(|d| d.capacity).collect();
    let (counts, std::cmp::Reverse(total)) = best(0, &mut room, &people, &options, &mut Default::default());
    (counts, total)
}

/// Checks an engine solution against the rules; returns (matched per class, total metres).
fn check_valid(instance: &Instance, s: &Solution) -> ([u64; 9], u64) {
    let mut used = vec![0u32; instance.doctors.len()];
    let mut per_group = vec![0u32; instance.groups.len()];
    let mut counts = [0u64; 9];
    let mut total = 0u64;
    for a in &s.assignments {
        let g = &instance.groups[a.group as usize];
        let p = Individual { commune: g.commune, class: g.class, excluded: g.excluded_doctors.clone() };
        let m = may_meet(instance, &p, a.doctor).expect("assignment allowed");
        assert_eq!(m, a.metres);
        assert!(a.count > 0);
        used[a.doctor as usize] += a.count;
        per_group[a.group as usize] += a.count;
        counts[g.class as usize - 1] += u64::from(a.count);
        total += u64::from(a.count) * u64::from(m);
    }
    for (d, doc) in instance.doctors.iter().enumerate() {
        assert!(used[d] <= doc.capacity, "doctor {d} over capacity");
    }
    for (i, g) in instance.groups.iter().enumerate() {
        assert_eq!(per_group[i] + s.unmatched[i], g.count, "group {i}");
    }
    assert_eq!(total, s.total_m);
    for (&class, &n) in &s.matched_by_class {
        assert_eq!(counts[class as usize - 1], n, "class {class}");
    }
    (counts, total)
}

fn tiny_instance() -> impl Strategy<Value = Instance> {
    (
        prop::collection::vec((47.35f64..47.60, 1.20f64..1.50), 2..6),
        10u32..30,
        prop::collection::vec((0u32..6, 1u8..4, 0u32..4, prop::option::weighted(0.2, 0u32..4)), 1..6),
        prop::collection::vec(
            (
                0u32..6,
                0u32..5,
                prop::option::weighted(0.25, 0u32..20),
                prop::option::weighted(0.2, prop::collection::vec(0u32..6, 0..3)),
            ),
            1..5,
        ),
    )
        .prop_map(|(points, km, groups, doctors)| {
            let n = points.len() as u32;
            let centres: Vec<LatLon> = points.iter().map(|&(a, b)| LatLon::new(a, b)).collect();
            let doctors: Vec<DoctorSpec> = doctors
                .into_iter()
                .map(|(c, cap, own, acc)| DoctorSpec {
                    commune: c % n,
                    capacity: cap,
                    max_m: own.map(|k| k * 1000),
                    accepted_communes: acc.map(|v| {
                        let s: std::collections::BTreeSet<u32> = v.into_iter().map(|c| c % n).collect();
                        s.into_iter().collect()
                    }),
                })
                .collect();
            let nd = doctors.len() as u32;
            let groups = groups
                .into_iter()
                .map(|(c, class, count, ex)| {
                    let excluded_doctors = ex.map(|d| vec![d % nd]).unwrap_or_default();
                    PatientGroup { commune: c % n, class, count, excluded_doctors }
                })
                .collect();
            Instance { centres, max_m: km * 1000, groups, doctors }
        })
}

/// The same instance with aggregation made impossible: every group split into single patients,
/// and every doctor kept apart (a far-away extra patient declined every doctor).
fn disaggregated(instance: &Instance) -> Instance {
    let mut out = instance.clone();
    out.groups =
        instance.groups.iter().flat_map(|g| (0..g.count).map(|_| PatientGroup { count: 1, ..g.clone() })).collect();
    out.centres.push(LatLon::new(-40.0, 170.0));
    out.groups.push(PatientGroup {
        commune: out.centres.len() as u32 - 1,
        class: 1,
        count: 1,
        excluded_doctors: (0..instance.doctors.len() as u32).collect(),
    });
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Optimal: the same class counts and total distance as exhaustive search.
    #[test]
    fn optimal_on_tiny_instances(instance in tiny_instance()) {
        let s = network::solve(&instance).unwrap();
        let ours = check_valid(&instance, &s);
        prop_assert_eq!(ours, brute_force(&instance));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// Aggregating doctors and patients changes nothing to the optimum; the solution is valid
    /// and the same on every run.
    #[test]
    fn aggregation_is_exact(seed in 0u64..1_000_000, settings: bool, classes in 1u8..4) {
        let spec = synth::RandomSpec {
            communes: 25,
            groups: 40,
            doctors: 30,
            max_count: 12,
            max_capacity: 8,
            classes,
            max_km: 25,
            spread_deg: 0.8,
            settings,
        };
        let instance = synth::random(seed, &spec);
        let s = network::solve(&instance).unwrap();
        let (counts, total) = check_valid(&instance, &s);
        let apart = disaggregated(&instance);
        let t = network::solve(&apart).unwrap();
        // The far-away patient is never matched.
        let (counts_apart, total_apart) = check_valid(&apart, &t);
        prop_assert_eq!(counts, counts_apart);
        prop_assert_eq!(total, total_apart);
        prop_assert_eq!(&network::solve(&instance).unwrap(), &s);
    }
}

// ---------------------------------------------------------------------------------------------
// The public API on real communes.

fn code(c: &str) -> InseeCode {
    InseeCode::parse(c).unwrap()
}

fn patient(id: &str, commune: &str, class: u8) -> Patient {
    Patient { id: id.into(), commune: code(commune), priority: Priority::given(class) }
}

fn doctor(id: &str, commune: &str, capacity: u32) -> Doctor {
    Doctor {
        id: id.into(),
        commune: code(commune),
        capacity,
        max_km: None,
        accepted_communes: None,
        excluded_patients: Default::default(),
    }
}

const BLOIS: &str = "41018";
const VINEUIL: &str = "41295";
const ROMORANTIN: &str = "41194";
const VENDOME: &str = "41269";

#[test]
fn class_one_first_even_farther() {
    let r = Reference::embedded();
    let rule = PriorityRule::default();
    let ald = rule.classify(&PatientFacts { ald: true, ..Default::default() });
    let patients =
        vec![Patient { id: "far-ald".into(), commune: code(VINEUIL), priority: ald }, patient("near", BLOIS, 2)];
    let doctors = vec![doctor("martin", BLOIS, 1)];
    let m = match_patients(r, &patients, &doctors, &Params { max_km: 30.0 }).unwrap();
    assert_eq!(m.assignments.len(), 1);
    let a = &m.assignments[0];
    assert_eq!((a.patient.as_str(), a.doctor.as_str(), a.class), ("far-ald", "martin", 1));
    let km = a.km();
    assert!(km > 1.0 && km < 10.0, "{km}");
    let text = a.explain_en("Martin");
    assert!(
        text.starts_with("proposed to Dr Martin, ") && text.ends_with(" km, priority class 1 because ALD"),
        "{text}"
    );
    let fr = a.explain_fr("Martin");
    assert!(fr.contains(",") && fr.ends_with("priorité 1 parce que ALD (affection de longue durée)"), "{fr}");
    assert_eq!(m.matched_by_class, BTreeMap::from([(1, 1), (2, 0)]));
    assert_eq!(m.patients_by_class, BTreeMap::from([(1, 1), (2, 1)]));
    assert_eq!(m.waiting.len(), 1);
    assert_eq!(m.waiting[0].patient, "near");
    assert_eq!(m.waiting[0].why, WaitingReason::NoCapacityLeft { doctors_in_range: 1 });
    assert!(m.waiting[0].explain_fr(m.max_m).contains("30,0 km"));
}

#[test]
fn distance_decides_within_a_class_and_nobody_beyond_the_limit() {
    let r = Reference::embedded();
    // Romorantin is about 40 km from Blois and from Vendôme.
    let patients =
        vec![patient("a", BLOIS, 2), patient("b", VINEUIL, 2), patient("c", ROMORANTIN, 2), patient("d", VENDOME, 1)];
    let doctors = vec![doctor("blois", BLOIS, 1), doctor("vineuil", VINEUIL, 1)];
    let m = match_patients(r, &patients, &doctors, &Params { max_km: 25.0 }).unwrap();
    let pairs: Vec<(&str, &str, u32)> =
        m.assignments.iter().map(|a| (a.patient.as_str(), a.doctor.as_str(), a.metres)).collect();
    assert_eq!(pairs, vec![("a", "blois", 0), ("b", "vineuil", 0)]);
    assert_eq!(m.total_m, 0);
    let why: Vec<(&str, WaitingReason)> = m.waiting.iter().map(|w| (w.patient.as_str(), w.why)).collect();
    assert_eq!(why, vec![("c", WaitingReason::NoDoctorInRange), ("d", WaitingReason::NoDoctorInRange)]);
    assert_eq!(m.waiting[0].explain_en(m.max_m), "no doctor with room accepts this patient within 25.0 km");
}

#[test]
fn doctor_settings_are_respected() {
    let r = Reference::embedded();
    let patients = vec![patient("p1", BLOIS, 1), patient("p2", VINEUIL, 1), patient("p3", BLOIS, 1)];
    let mut strict = doctor("strict", BLOIS, 5);
    strict.max_km = Some(0.5);
    strict.excluded_patients.insert("p3".into());
    let mut only_vineuil = doctor("vineuil-only", BLOIS, 5);
    only_vineuil.accepted_communes = Some([code(VINEUIL)].into());
    let m = match_patients(r, &patients, &[strict, only_vineuil], &Params { max_km: 30.0 }).unwrap();
    let pairs: Vec<(&str, &str)> = m.assignments.iter().map(|a| (a.patient.as_str(), a.doctor.as_str())).collect();
    assert_eq!(pairs, vec![("p1", "strict"), ("p2", "vineuil-only")]);
    assert_eq!(m.waiting[0].patient, "p3");
    assert_eq!(m.waiting[0].why, WaitingReason::NoDoctorInRange);
}

#[test]
fn errors() {
    let r = Reference::embedded();
    let p = [patient("p", BLOIS, 1)];
    let d = [doctor("d", BLOIS, 1)];
    assert!(matches!(match_patients(r, &p, &d, &Params { max_km: 0.0 }), Err(MatchingError::MaxDistance(_))));
    assert!(matches!(match_patients(r, &p, &d, &Params { max_km: 1e4 }), Err(MatchingError::MaxDistance(_))));
    let twice = [patient("p", BLOIS, 1), patient("p", VINEUIL, 2)];
    assert_eq!(
        match_patients(r, &twice, &d, &Params { max_km: 5.0 }),
        Err(MatchingError::DuplicatePatient("p".into()))
    );
    let zero = [patient("p", BLOIS, 0)];
    assert_eq!(match_patients(r, &zero, &d, &Params { max_km: 5.0 }), Err(MatchingError::ClassZero("p".into())));
    let former = [patient("p", "41001", 1)]; // not a current commune code (or an unknown one)
    if r.commune("41001").is_none() {
        assert!(matches!(
            match_patients(r, &former, &d, &Params { max_km: 5.0 }),
            Err(MatchingError::UnknownCommune { .. })
        ));
    }
    // Nobody at all: an empty result.
    let m = match_patients(r, &[], &[], &Params { max_km: 5.0 }).unwrap();
    assert!(m.assignments.is_empty() && m.waiting.is_empty() && m.total_m == 0);
}

#[test]
fn cpts_instance_is_valid_and_independent_of_input_order() {
    let r = Reference::embedded();
    let spec = synth::CptsSpec { patients: 3_000, doctors: 60, ..synth::CptsSpec::default() };
    let (patients, doctors) = synth::cpts(r, &spec, &PriorityRule::default());
    let params = Params { max_km: 30.0 };
    let m = match_patients(r, &patients, &doctors, &params).unwrap();
    assert_eq!(m.assignments.len() + m.waiting.len(), patients.len());
    let by_id: BTreeMap<&str, &Doctor> = doctors.iter().map(|d| (d.id.as_str(), d)).collect();
    let home: BTreeMap<&str, &Patient> = patients.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut load: BTreeMap<&str, u32> = BTreeMap::new();
    for a in &m.assignments {
        let d = by_id[a.doctor.as_str()];
        let p = home[a.patient.as_str()];
        *load.entry(&d.id).or_default() += 1;
        let centre = |c: &InseeCode| r.commune(c.as_str()).unwrap().centre;
        assert_eq!(a.metres, metres(centre(&p.commune), centre(&d.commune)));
        assert!(a.metres <= 30_000);
        assert!(d.max_km.is_none_or(|k| f64::from(a.metres) <= k * 1000.0));
        assert!(d.accepted_communes.as_ref().is_none_or(|s| s.contains(&p.commune)));
        assert!(!d.excluded_patients.contains(&p.id));
    }
    for (id, n) in load {
        assert!(n <= by_id[id].capacity);
    }
    assert!(m.matched_by_class[&1] > 0 && !m.waiting.is_empty());

    // Reversed and rotated input: the same result.
    let mut p2 = patients.clone();
    p2.reverse();
    let mut d2 = doctors.clone();
    d2.rotate_left(17);
    assert_eq!(match_patients(r, &p2, &d2, &params).unwrap(), m);
}

#[test]
fn national_sample_is_valid() {
    let r = Reference::embedded();
    let spec = synth::NationalSpec { patients: 60_000, doctors: 1_000, max_km: 30.0, seed: 7 };
    let instance = synth::national(r, &spec);
    assert_eq!(instance.groups.iter().map(|g| u64::from(g.count)).sum::<u64>(), 60_000);
    let s = network::solve(&instance).unwrap();
    check_valid(&instance, &s);
    assert!(s.matched_by_class[&1] > 0);
}
