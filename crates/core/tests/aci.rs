//! The ACI rule sets and computation: the seed 004 table cell by cell, file validation, contracts,
//! payment schedule, and properties (maximum, monotonic achievement, prorata).

use chrono::NaiveDate;
use maillage_core::aci::rules::{self, MissionFunding, PopulationPolicy, SIZES};
use maillage_core::aci::{
    Assumptions, Cents, Contract, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult,
    MissionId, PaymentKind, PopulationUpdate, Rate, RuleSet, Scenario, Step, WarningCode, payment_schedule, projection,
    simulate, year_funding,
};
use maillage_core::territory::{SizeClass, SizeThresholds};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn avenant2() -> &'static RuleSet {
    rules::embedded("avenant-2").unwrap()
}

fn aci2019() -> &'static RuleSet {
    rules::embedded("aci-2019").unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn eur(e: i64) -> Cents {
    Cents::from_euros(e)
}

// ---------------------------------------------------------------------------------------------
// Seed 004, "Dispositif de financement par taille — montant annuel", every cell (euros).

const OPERATING: [i64; 4] = [50_000, 60_000, 75_000, 90_000];
/// Euros for taille 1 to taille 4.
type BySize = [i64; 4];
/// (mission, fixed, variable, total)
const FIXED_VARIABLE: [(MissionId, BySize, BySize, BySize); 5] = [
    (
        MissionId::Acces,
        [55_000, 70_000, 90_000, 110_000],
        [25_000, 30_000, 35_000, 45_000],
        [80_000, 100_000, 125_000, 155_000],
    ),
    (
        MissionId::Parcours,
        [25_000, 35_000, 45_000, 50_000],
        [25_000, 35_000, 45_000, 50_000],
        [50_000, 70_000, 90_000, 100_000],
    ),
    (
        MissionId::Prevention,
        [10_000, 15_000, 17_500, 20_000],
        [10_000, 15_000, 17_500, 20_000],
        [20_000, 30_000, 35_000, 40_000],
    ),
    (
        MissionId::Qualite,
        [7_500, 10_000, 15_000, 20_000],
        [7_500, 10_000, 15_000, 20_000],
        [15_000, 20_000, 30_000, 40_000],
    ),
    (
        MissionId::Accompagnement,
        [5_000, 7_500, 10_000, 15_000],
        [5_000, 7_500, 10_000, 15_000],
        [10_000, 15_000, 20_000, 30_000],
    ),
];
const CRISIS_PLAN_YEAR_1: [i64; 4] = [25_000, 35_000, 45_000, 50_000];
const CRISIS_PLAN_UPDATE: [i64; 4] = [12_500, 17_500, 22_500, 25_000];
const CRISIS_OCCURRENCE: [i64; 4] = [37_500, 52_500, 67_500, 75_000];
/// "TOTAL*" of the crisis row: year-1 plan + crisis.
const CRISIS_TOTAL: [i64; 4] = [62_500, 87_500, 112_500, 125_000];
const MAXIMUM: [i64; 4] = [287_500, 382_500, 487_500, 580_000];

fn only(missions: &[MissionId], size: SizeClass, year: u8, achievement: Rate, crisis: bool) -> Scenario {
    Scenario { size, contract_year: year, missions: missions.iter().copied().collect(), achievement, crisis }
}

#[test]
fn seed_004_operating_funding() {
    let r = avenant2();
    for (i, size) in SIZES.into_iter().enumerate() {
        assert_eq!(r.operating.figures.amount(size), eur(OPERATING[i]));
        let y = simulate(r, &only(&[], size, 1, Rate::ONE, false)).unwrap();
        assert_eq!(y.envelopes.len(), 1);
        let op = y.envelope(MissionId::Fonctionnement).unwrap();
        assert_eq!((op.fixed, op.variable, op.total), (eur(OPERATING[i]), Cents::ZERO, eur(OPERATING[i])));
        assert_eq!(y.total, eur(OPERATING[i]));
        // The same every year of the contract.
        for year in 2..=5 {
            assert_eq!(simulate(r, &only(&[], size, year, Rate::ONE, false)).unwrap().total, eur(OPERATING[i]));
        }
    }
}

#[test]
fn seed_004_fixed_and_variable_parts() {
    let r = avenant2();
    for (mission, fixed, variable, total) in FIXED_VARIABLE {
        let rule = r.mission(mission).unwrap();
        let MissionFunding::FixedVariable { fixed: ff, variable: vf } = &rule.funding else {
            panic!("{mission} is fixed + variable");
        };
        for (i, size) in SIZES.into_iter().enumerate() {
            assert_eq!(ff.amount(size), eur(fixed[i]), "{mission} fixed {size}");
            assert_eq!(vf.amount(size), eur(variable[i]), "{mission} variable {size}");
            assert_eq!(rule.maximum(size), eur(total[i]), "{mission} total {size}");
            for year in 1..=5 {
                let full = simulate(r, &only(&[mission], size, year, Rate::ONE, false)).unwrap();
                let e = full.envelope(mission).unwrap();
                assert_eq!((e.fixed, e.variable, e.total), (eur(fixed[i]), eur(variable[i]), eur(total[i])));
                assert_eq!(full.total, eur(OPERATING[i] + total[i]));
                let none = simulate(r, &only(&[mission], size, year, Rate::ZERO, false)).unwrap();
                let e = none.envelope(mission).unwrap();
                assert_eq!((e.fixed, e.variable), (eur(fixed[i]), Cents::ZERO));
                let half = simulate(r, &only(&[mission], size, year, Rate::parse("50%").unwrap(), false)).unwrap();
                assert_eq!(half.envelope(mission).unwrap().variable, eur(variable[i]).mul_div(1, 2));
            }
        }
    }
}

#[test]
fn seed_004_crisis_mission() {
    let r = avenant2();
    let MissionFunding::CrisisPlan { plan_first_year, plan_update, crisis_occurrence } =
        &r.mission(MissionId::Crise).unwrap().funding
    else {
        panic!("crisis model");
    };
    for (i, size) in SIZES.into_iter().enumerate() {
        assert_eq!(plan_first_year.amount(size), eur(CRISIS_PLAN_YEAR_1[i]));
        assert_eq!(plan_update.amount(size), eur(CRISIS_PLAN_UPDATE[i]));
        assert_eq!(crisis_occurrence.amount(size), eur(CRISIS_OCCURRENCE[i]));
        let env = |year, crisis| {
            simulate(r, &only(&[MissionId::Crise], size, year, Rate::ONE, crisis))
                .unwrap()
                .envelope(MissionId::Crise)
                .cloned()
                .unwrap()
        };
        let y1 = env(1, false);
        assert_eq!((y1.fixed, y1.variable), (eur(CRISIS_PLAN_YEAR_1[i]), Cents::ZERO));
        assert!(y1.explanations.iter().any(|e| matches!(e.step, Step::CrisisPlanFirstYear { .. })));
        let y1c = env(1, true);
        assert_eq!((y1c.fixed, y1c.variable), (eur(CRISIS_PLAN_YEAR_1[i]), eur(CRISIS_OCCURRENCE[i])));
        assert_eq!(y1c.total, eur(CRISIS_TOTAL[i]));
        assert_eq!(r.mission(MissionId::Crise).unwrap().maximum(size), eur(CRISIS_TOTAL[i]));
        for year in 2..=5 {
            let later = env(year, false);
            assert_eq!((later.fixed, later.variable), (eur(CRISIS_PLAN_UPDATE[i]), Cents::ZERO));
            let later_c = env(year, true);
            assert_eq!(later_c.total, eur(CRISIS_PLAN_UPDATE[i] + CRISIS_OCCURRENCE[i]));
        }
        // The crisis amount does not depend on the indicators' achievement.
        let zero = simulate(r, &only(&[MissionId::Crise], size, 1, Rate::ZERO, true)).unwrap();
        assert_eq!(zero.envelope(MissionId::Crise).unwrap().total, eur(CRISIS_TOTAL[i]));
    }
}

#[test]
fn seed_004_maximum_possible() {
    let r = avenant2();
    for (i, size) in SIZES.into_iter().enumerate() {
        assert_eq!(r.maximum(size), eur(MAXIMUM[i]));
        assert_eq!(r.published_maximum(size), eur(MAXIMUM[i]));
        let mut all = Scenario::all_missions(size, 1);
        all.crisis = true;
        let y = simulate(r, &all).unwrap();
        assert_eq!(y.total, eur(MAXIMUM[i]), "{size}");
        assert_eq!(y.maximum, eur(MAXIMUM[i]));
        assert_eq!(y.envelopes.len(), 7);
        let sum: Cents = y.envelopes.iter().map(|e| e.fixed + e.variable).sum();
        assert_eq!(sum, y.total);
        // Later years: the plan update instead of the plan.
        all.contract_year = 2;
        let y2 = simulate(r, &all).unwrap();
        assert_eq!(y2.total, eur(MAXIMUM[i] - CRISIS_PLAN_YEAR_1[i] + CRISIS_PLAN_UPDATE[i]));
    }
}

#[test]
fn every_figure_explains_itself() {
    let r = avenant2();
    let mut s = Scenario::all_missions(SizeClass::T2, 1);
    s.crisis = true;
    s.achievement = Rate::parse("0.8").unwrap();
    let y = simulate(r, &s).unwrap();
    for e in &y.envelopes {
        assert!(!e.explanations.is_empty(), "{:?}", e.mission);
        for x in &e.explanations {
            assert!(!x.rule.is_empty());
            assert!(!x.en().is_empty() && !x.fr().is_empty());
        }
    }
    let acces = y.envelope(MissionId::Acces).unwrap();
    assert_eq!(acces.variable, eur(24_000));
    assert_eq!(acces.achievement, Some(Rate::parse("80%").unwrap()));
    let rules_named: BTreeSet<&str> = acces.explanations.iter().map(|x| x.rule.as_str()).collect();
    assert!(rules_named.contains("missions.acces.fixed") && rules_named.contains("missions.acces.variable"));
    for x in &acces.explanations {
        if matches!(x.step, Step::Amount { .. } | Step::WeightedAchievement { .. }) {
            assert_eq!(x.source.as_deref(), Some("seed-004"), "{x:?}");
        }
    }
    let json = serde_json::to_value(&y).unwrap();
    assert_eq!(json["total"], serde_json::json!(y.total.cents()));
    assert_eq!(json["envelopes"][1]["explanations"][0]["step"], "amount");
}

// ---------------------------------------------------------------------------------------------
// Rule sets as data.

#[test]
fn embedded_rule_sets_load_in_date_order() {
    let all = rules::embedded_all().unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["aci-2019", "avenant-2"]);
    assert_eq!(rules::in_force_on(d("2020-01-01")).unwrap().unwrap().id, "aci-2019");
    assert_eq!(rules::in_force_on(d("2024-03-22")).unwrap().unwrap().id, "avenant-2");
    assert!(rules::in_force_on(d("2019-01-01")).unwrap().is_none());
    let err = rules::embedded("avenant-3").unwrap_err().to_string();
    assert!(err.contains("avenant-3") && err.contains("avenant-2") && err.contains("aci-2019"), "{err}");
    for r in all {
        assert_eq!(r.contract_years, 5);
        // Every figure names a declared source.
        for row in std::iter::once(&r.operating.figures).chain(r.missions.values().flat_map(|m| m.figures())) {
            assert!(r.sources.contains_key(&row.source), "{}", row.rule);
        }
    }
}

#[test]
fn size_thresholds_are_data_and_match_the_default() {
    for r in rules::embedded_all().unwrap() {
        assert_eq!(r.size_thresholds, SizeThresholds::default());
        assert_eq!(r.size_class(39_999), SizeClass::T1);
        assert_eq!(r.size_class(40_000), SizeClass::T2);
        assert_eq!(r.size_class(80_000), SizeClass::T3);
        assert_eq!(r.size_class(175_000), SizeClass::T4);
        assert_eq!(r.population_change.policy, PopulationPolicy::ReclassifyAtAnniversary);
        assert!(!r.population_change.description.is_empty());
    }
}

#[test]
fn aci_2019_encodes_what_is_known_and_marks_the_rest() {
    let r = aci2019();
    assert!(r.mission(MissionId::Crise).is_none(), "the crisis mission came with avenant 2");
    assert_eq!(r.signed_on, d("2019-06-20"));
    // Seed 001 ranges are the taille 1 and taille 4 amounts of each item.
    let ranges = [
        (MissionId::Acces, 40_000, 80_000),
        (MissionId::Parcours, 50_000, 100_000),
        (MissionId::Prevention, 20_000, 40_000),
        (MissionId::Qualite, 15_000, 40_000),
        (MissionId::Accompagnement, 10_000, 30_000),
    ];
    for (m, low, high) in ranges {
        let rule = r.mission(m).unwrap();
        assert_eq!((rule.maximum(SizeClass::T1), rule.maximum(SizeClass::T4)), (eur(low), eur(high)), "{m}");
    }
    assert_eq!((r.maximum(SizeClass::T1), r.maximum(SizeClass::T4)), (eur(185_000), eur(380_000)));
    let published: Vec<Cents> = SIZES.iter().map(|s| r.published_maximum(*s)).collect();
    assert_eq!(published, [eur(220_000), eur(287_000), eur(370_000), eur(450_000)]);
    assert!(!r.maximum.must_equal_sum);
    let unverified: BTreeSet<String> = r.unverified().into_iter().map(|(k, _)| k).collect();
    for key in ["missions.acces.fixed", "missions.parcours.variable", "operating", "maximum", "population_change"] {
        assert!(unverified.contains(key), "{key} should be UNVERIFIED: {unverified:?}");
    }
    // Avenant 2's table itself is sourced, not UNVERIFIED.
    let a2: BTreeSet<String> = avenant2().unverified().into_iter().map(|(k, _)| k).collect();
    assert!(a2.iter().all(|k| !k.starts_with("missions.") && k != "operating" && k != "maximum"), "{a2:?}");
}

fn avenant2_text() -> &'static str {
    rules::EMBEDDED_FILES.iter().find(|(f, _)| f.ends_with("avenant-2.toml")).unwrap().1
}

/// Loads avenant 2 with one replacement and returns the error.
fn broken(from: &str, to: &str) -> rules::RuleSetError {
    let text = avenant2_text();
    assert!(text.contains(from), "{from}");
    RuleSet::from_toml("data/aci/avenant-2.toml", &text.replacen(from, to, 1)).unwrap_err()
}

fn line_of(needle: &str) -> usize {
    avenant2_text().lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn loading_reports_the_exact_faulty_entry() {
    let e = broken(
        "fixed = { amounts = [55_000, 70_000, 90_000, 110_000], source = \"seed-004\" }",
        "fixed = { amounts = [55_000, 70_000, 90_000, 110_000], source = \"seed-005\" }",
    );
    assert_eq!(e.key.as_deref(), Some("missions.acces.fixed.source"));
    assert_eq!(e.line, Some(line_of("fixed = { amounts = [55_000")));
    assert!(e.reason.contains("seed-005"), "{e}");
    assert!(e.to_string().starts_with(&format!("data/aci/avenant-2.toml:{}:", line_of("[55_000, 70_000"))), "{e}");

    let e = broken("[55_000, 70_000, 90_000, 110_000]", "[55_000, 70_000, 90_000]");
    assert_eq!(e.key.as_deref(), Some("missions.acces.fixed.amounts"));
    assert!(e.reason.contains("expected 4 amounts"), "{e}");

    let e = broken("[55_000, 70_000, 90_000, 110_000]", "[55_000, 70_000, -90_000, 110_000]");
    assert_eq!(e.key.as_deref(), Some("missions.acces.fixed.amounts[2]"));
    let col = avenant2_text().lines().nth(e.line.unwrap() - 1).unwrap().find("90_000").unwrap();
    // 1-based column of the entry (its sign or its first digit)
    assert!(matches!(e.column, Some(c) if c == col || c == col + 1), "{e}");

    let e = broken("[55_000, 70_000, 90_000, 110_000]", "[55_000, 70_000, \"90000.505\", 110_000]");
    assert_eq!(e.key.as_deref(), Some("missions.acces.fixed.amounts[2]"));

    let e = broken("amounts = [287_500, 382_500", "amounts = [287_501, 382_500");
    assert_eq!(e.key.as_deref(), Some("maximum.amounts[0]"));
    assert!(e.reason.contains("287501.00") && e.reason.contains("287500.00"), "{e}");
    assert_eq!(e.line, Some(line_of("amounts = [287_500")));

    let e = broken("[missions.qualite]", "[missions.quality]");
    assert_eq!(e.key.as_deref(), Some("missions.quality"));
    assert!(e.reason.contains("unknown mission"), "{e}");

    let e = broken("[missions.qualite]", "[missions.fonctionnement]");
    assert!(e.reason.contains("[operating]"), "{e}");

    // Typo in a field name: toml/serde reports it with its position.
    let e = broken("deploy_within_months = 18", "deploy_within_month = 18");
    assert!(e.reason.contains("deploy_within_month"), "{e}");
    assert_eq!(e.line, Some(line_of("deploy_within_months = 18")));

    let e = broken("format = 1", "format = 2");
    assert_eq!(e.key.as_deref(), Some("format"));
    assert_eq!(e.line, Some(1 + avenant2_text().lines().position(|l| l == "format = 1").unwrap()));

    let e = broken("t3_from = 80_000", "t3_from = 30_000");
    assert_eq!(e.key.as_deref(), Some("size_classes.t3_from"));

    let e = broken("fixed_advance_percent = 75", "fixed_advance_percent = 175");
    assert_eq!(e.key.as_deref(), Some("payment.fixed_advance_percent"));

    let e = broken("signed_on = 2021-12-20", "signed_on = 2021-12-20T10:00:00");
    assert_eq!(e.key.as_deref(), Some("signed_on"));

    let e = broken("policy = \"reclassify_at_anniversary\"", "policy = \"sometimes\"");
    assert!(e.reason.contains("sometimes"), "{e}");
    assert_eq!(e.line, Some(line_of("policy = \"reclassify_at_anniversary\"")));

    let e = broken("plan_update = { amounts = [12_500, 17_500, 22_500, 25_000], source = \"seed-004\" }", "");
    assert_eq!(e.key.as_deref(), Some("missions.crise"));

    // The id is the file name.
    let e = RuleSet::from_toml("data/aci/avenant-3.toml", avenant2_text()).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("id"));
    // A new text version is a new file: same content under a new id loads.
    let v3 = avenant2_text().replace("id = \"avenant-2\"", "id = \"avenant-3\"");
    assert_eq!(RuleSet::from_toml("elsewhere/avenant-3.toml", &v3).unwrap().id, "avenant-3");
}

#[test]
fn amounts_with_cents_are_exact() {
    let text = avenant2_text().replacen("amounts = [50_000, 60_000", "amounts = [\"50000.25\", 60_000", 1).replacen(
        "amounts = [287_500, 382_500",
        "amounts = [\"287500.25\", 382_500",
        1,
    );
    let r = RuleSet::from_toml("avenant-2.toml", &text).unwrap();
    assert_eq!(r.operating.figures.amount(SizeClass::T1), Cents(5_000_025));
    assert_eq!(r.maximum(SizeClass::T1), Cents(28_750_025));
}

// ---------------------------------------------------------------------------------------------
// Contracts.

fn contract(signed: &str, population: u64) -> Contract {
    Contract::new("CPTS du Blaisois", d(signed), avenant2(), population)
}

fn indicator(name: &str, baseline: i64, target: i64, weight: u32, achieved: Option<i64>) -> Indicator {
    Indicator {
        name: name.into(),
        kind: IndicatorKind::Result,
        baseline,
        targets: BTreeMap::from([(1, target)]),
        weight,
        results: achieved
            .map(|a| BTreeMap::from([(1, IndicatorResult { achieved: a, evidence: vec!["export SNP.xlsx".into()] })]))
            .unwrap_or_default(),
    }
}

#[test]
fn fixed_part_is_prorated_by_days_when_a_mission_starts_mid_year() {
    let mut c = contract("2024-01-01", 50_000); // taille 2; year 1 has 366 days
    c.missions.push(EngagedMission::started(MissionId::Acces, d("2024-07-01")));
    let y1 = year_funding(avenant2(), &c, 1, &Assumptions::default()).unwrap();
    let acces = y1.envelope(MissionId::Acces).unwrap();
    // 70,000 € × 184 / 366 = 35,191.256… → 35,191.26 € (half up)
    assert_eq!(acces.fixed, Cents(3_519_126));
    assert!(
        acces.explanations.iter().any(|e| matches!(e.step, Step::Prorata { days_active: 184, days_in_year: 366, .. }))
    );
    // No indicator: no variable part.
    assert_eq!(acces.variable, Cents::ZERO);
    let y2 = year_funding(avenant2(), &c, 2, &Assumptions::default()).unwrap();
    assert_eq!(y2.envelope(MissionId::Acces).unwrap().fixed, eur(70_000));
}

#[test]
fn variable_part_follows_weighted_capped_indicators() {
    let mut c = contract("2024-01-01", 30_000); // taille 1: access variable envelope 25,000
    let mut m = EngagedMission::started(MissionId::Acces, d("2024-01-01"));
    m.indicators = vec![
        indicator("patients with a médecin traitant found", 0, 200, 3, Some(100)), // 50 %
        indicator("same-day slots per week", 10, 30, 1, Some(60)),                 // 250 % → 100 %
        indicator("ER visits avoided (lower is better)", 100, 80, 1, Some(90)),    // 50 %
        indicator("no target this year", 0, 0, 5, None),
    ];
    m.indicators[3].targets.clear();
    c.missions.push(m);
    let y = year_funding(avenant2(), &c, 1, &Assumptions::default()).unwrap();
    let e = y.envelope(MissionId::Acces).unwrap();
    // (3 × 0.5 + 1 × 1 + 1 × 0.5) / 5 = 0.6
    assert_eq!(e.achievement, Some(Rate::parse("0.6").unwrap()));
    assert_eq!(e.variable, eur(15_000));
    assert_eq!(e.fixed, eur(55_000));
    let steps: Vec<&Step> = e.explanations.iter().map(|x| &x.step).collect();
    assert_eq!(steps.iter().filter(|s| matches!(s, Step::Indicator { .. })).count(), 3);
    assert!(steps.iter().any(|s| matches!(s, Step::IndicatorWithoutTarget { .. })));
    // What-if: assume 100 %.
    let what_if = year_funding(avenant2(), &c, 1, &Assumptions { achievement: Some(Rate::ONE), crisis: None }).unwrap();
    assert_eq!(what_if.envelope(MissionId::Acces).unwrap().variable, eur(25_000));
    // A reported value without evidence still counts; no value counts as 0 %.
    c.missions[0].indicators[0].results.clear();
    let y = year_funding(avenant2(), &c, 1, &Assumptions::default()).unwrap();
    assert_eq!(y.envelope(MissionId::Acces).unwrap().achievement, Some(Rate::parse("0.3").unwrap()));
}

#[test]
fn crisis_by_year_from_declared_crises() {
    let mut c = contract("2023-03-15", 100_000); // taille 3
    let mut m = EngagedMission::started(MissionId::Crise, d("2023-05-01"));
    m.crises = vec![
        CrisisDeclaration { declared_on: d("2023-04-01"), name: "before the mission".into() },
        CrisisDeclaration { declared_on: d("2024-07-10"), name: "heat wave".into() },
    ];
    c.missions.push(m);
    let get = |y| {
        year_funding(avenant2(), &c, y, &Assumptions::default()).unwrap().envelope(MissionId::Crise).cloned().unwrap()
    };
    let y1 = get(1);
    assert_eq!((y1.fixed, y1.variable), (eur(45_000), Cents::ZERO), "plan not prorated, crisis before start not paid");
    let y2 = get(2);
    assert_eq!((y2.fixed, y2.variable), (eur(22_500), eur(67_500)));
    assert!(
        y2.explanations
            .iter()
            .any(|e| matches!(&e.step, Step::CrisisOccurred { crises, .. } if crises[0].contains("heat wave")))
    );
    assert_eq!(get(3).total, eur(22_500));
    let w = c.check(avenant2(), d("2025-01-01"));
    assert!(w.iter().any(|w| w.code == WarningCode::CrisisOutsideMission));
}

#[test]
fn mission_started_in_a_later_year() {
    let mut c = contract("2023-01-10", 20_000);
    c.missions.push(EngagedMission::started(MissionId::Crise, d("2024-03-01")));
    c.missions.push(EngagedMission::started(MissionId::Parcours, d("2024-01-10")));
    let y1 =
        year_funding(avenant2(), &c, 1, &Assumptions { achievement: Some(Rate::ONE), crisis: Some(true) }).unwrap();
    assert_eq!(y1.envelope(MissionId::Crise).unwrap().total, Cents::ZERO);
    assert_eq!(y1.envelope(MissionId::Parcours).unwrap().total, Cents::ZERO);
    assert!(
        y1.envelope(MissionId::Crise).unwrap().explanations.iter().any(|e| matches!(e.step, Step::NotStarted { .. }))
    );
    let y2 = year_funding(avenant2(), &c, 2, &Assumptions::default()).unwrap();
    // The plan is written in the year the mission starts.
    assert_eq!(y2.envelope(MissionId::Crise).unwrap().fixed, eur(25_000));
    assert_eq!(y2.envelope(MissionId::Parcours).unwrap().fixed, eur(25_000)); // starts on the anniversary
    let y3 = year_funding(avenant2(), &c, 3, &Assumptions::default()).unwrap();
    assert_eq!(y3.envelope(MissionId::Crise).unwrap().fixed, eur(12_500));
}

#[test]
fn payment_schedule_advances_and_balances() {
    let mut c = contract("2024-01-01", 50_000); // taille 2
    c.missions.push(EngagedMission::started(MissionId::Acces, d("2024-01-01")));
    c.missions.push(EngagedMission::started(MissionId::Parcours, d("2024-07-01")));
    let a = Assumptions { achievement: Some(Rate::ONE), crisis: None };
    let s = payment_schedule(avenant2(), &c, &a).unwrap();
    let on = |date: &str, m: MissionId| -> Vec<(PaymentKind, Cents, u8)> {
        s.payments
            .iter()
            .filter(|p| p.date == d(date) && p.mission == m)
            .map(|p| (p.kind, p.amount, p.contract_year))
            .collect()
    };
    assert_eq!(on("2024-01-01", MissionId::Fonctionnement), [(PaymentKind::AtSignature, eur(60_000), 1)]);
    assert_eq!(on("2024-01-01", MissionId::Acces), [(PaymentKind::Advance, eur(52_500), 1)]);
    // Parcours starts mid-year: 75 % of the prorated fixed part on its start date.
    let prorated = eur(35_000).mul_div(184, 366);
    assert_eq!(on("2024-07-01", MissionId::Parcours), [(PaymentKind::Advance, prorated.percent(75), 1)]);
    // First anniversary: balances of year 1, variable of year 1, advances of year 2.
    let mut acces = on("2025-01-01", MissionId::Acces);
    acces.sort();
    assert_eq!(
        acces,
        [
            (PaymentKind::Advance, eur(52_500), 2),
            (PaymentKind::Balance, eur(17_500), 1),
            (PaymentKind::Variable, eur(30_000), 1)
        ]
    );
    assert!(on("2025-01-01", MissionId::Parcours).contains(&(
        PaymentKind::Balance,
        prorated - prorated.percent(75),
        1
    )));
    assert_eq!(on("2025-01-01", MissionId::Fonctionnement), [(PaymentKind::Advance, eur(60_000), 2)]);
    // Last payments at the end of the contract; payments add up to the funding of each year.
    assert_eq!(s.payments.last().unwrap().date, d("2029-01-01"));
    for y in &s.years {
        let paid: Cents = s.payments.iter().filter(|p| p.contract_year == y.contract_year).map(|p| p.amount).sum();
        assert_eq!(paid, y.total, "year {}", y.contract_year);
    }
    assert_eq!(s.total, s.years.iter().map(|y| y.total).sum::<Cents>());
    assert!(s.payments.windows(2).all(|w| w[0].date <= w[1].date));
}

#[test]
fn five_year_projection() {
    let mut c = contract("2022-06-30", 180_000); // taille 4
    for m in [MissionId::Acces, MissionId::Parcours, MissionId::Prevention, MissionId::Crise] {
        c.missions.push(EngagedMission::started(m, d("2022-06-30")));
    }
    let p = projection(avenant2(), &c, &Assumptions { achievement: Some(Rate::ONE), crisis: Some(false) }).unwrap();
    assert_eq!(p.years.len(), 5);
    let year1 = 90_000 + 155_000 + 100_000 + 40_000 + 50_000;
    let later = 90_000 + 155_000 + 100_000 + 40_000 + 25_000;
    assert_eq!(p.years[0].total, eur(year1));
    assert_eq!(p.total, eur(year1 + 4 * later));
    let crise = p.by_mission.iter().find(|t| t.mission == MissionId::Crise).unwrap();
    assert_eq!(crise.total, eur(50_000 + 4 * 25_000));
    assert_eq!(p.years[4].period.unwrap().end, d("2027-06-30"));
    let err = year_funding(avenant2(), &c, 6, &Assumptions::default()).unwrap_err();
    assert!(err.to_string().contains("1..=5"), "{err}");
    let other = year_funding(aci2019(), &c, 1, &Assumptions::default()).unwrap_err();
    assert!(other.to_string().contains("avenant-2"), "{other}");
}

#[test]
fn population_crossing_a_threshold_changes_the_class_at_the_next_anniversary() {
    let mut c = contract("2022-01-01", 79_000); // taille 2
    c.population_updates.push(PopulationUpdate { known_on: d("2022-12-31"), population: 81_000 });
    c.population_updates.push(PopulationUpdate { known_on: d("2024-06-01"), population: 78_000 });
    let r = avenant2();
    let sizes: Vec<SizeClass> = (1..=5).map(|y| c.size_for_year(r, y)).collect();
    assert_eq!(sizes, [SizeClass::T2, SizeClass::T3, SizeClass::T3, SizeClass::T2, SizeClass::T2]);
    let y2 = year_funding(r, &c, 2, &Assumptions::default()).unwrap();
    assert_eq!(y2.size, SizeClass::T3);
    assert_eq!(y2.envelope(MissionId::Fonctionnement).unwrap().total, eur(75_000));
    assert!(matches!(y2.explanations[0].step, Step::SizeClass { population: 81_000, .. }));
    assert!(y2.explanations[0].unverified.is_some(), "the policy is UNVERIFIED and says so");
    let w = c.check(r, d("2022-02-01"));
    let changes: Vec<_> = w.iter().filter(|w| w.code == WarningCode::SizeClassChange).collect();
    assert_eq!(changes.len(), 2);
    assert!(
        changes[0].en.contains("taille 2") && changes[0].en.contains("taille 3") && changes[0].en.contains("year 2")
    );
    assert!(changes[0].en.contains(&r.population_change.description));
}

#[test]
fn deadlines_are_checked_and_warned() {
    let r = avenant2();
    let mut c = contract("2024-01-15", 30_000);
    let mut acces = EngagedMission::started(MissionId::Acces, d("2024-09-01")); // due by 2024-07-15
    acces.deployed_on = Some(d("2025-06-01")); // due by 2025-07-15: fine
    c.missions.push(acces);
    c.missions
        .push(EngagedMission { started_on: None, ..EngagedMission::started(MissionId::Parcours, d("2024-01-15")) });
    c.missions.push(EngagedMission::started(MissionId::Qualite, d("2023-12-01")));
    assert_eq!(c.deadlines(r, MissionId::Acces), (Some(d("2024-07-15")), Some(d("2025-07-15"))));
    assert_eq!(c.deadlines(r, MissionId::Crise), (Some(d("2024-07-15")), Some(d("2025-07-15"))));
    assert_eq!(c.deadlines(r, MissionId::Parcours), (Some(d("2025-01-15")), Some(d("2026-01-15"))));
    let codes = |today: &str| -> Vec<(WarningCode, Option<MissionId>)> {
        c.check(r, d(today)).into_iter().map(|w| (w.code, w.mission)).collect()
    };
    let early = codes("2024-10-01");
    assert!(early.contains(&(WarningCode::LateStart, Some(MissionId::Acces))));
    assert!(early.contains(&(WarningCode::SocleMissionMissing, Some(MissionId::Prevention))));
    assert!(early.contains(&(WarningCode::SocleMissionMissing, Some(MissionId::Crise))));
    assert!(early.contains(&(WarningCode::StartBeforeSignature, Some(MissionId::Qualite))));
    assert!(!early.iter().any(|w| w.0 == WarningCode::StartOverdue));
    assert!(!early.contains(&(WarningCode::LateDeployment, Some(MissionId::Acces))));
    let late = codes("2026-02-01");
    assert!(late.contains(&(WarningCode::StartOverdue, Some(MissionId::Parcours))));
    assert!(late.contains(&(WarningCode::DeploymentOverdue, Some(MissionId::Parcours))));
    assert!(late.contains(&(WarningCode::NoIndicators, Some(MissionId::Acces))));
    // The crisis mission does not exist in 2019.
    let mut old = Contract::new("x", d("2020-01-01"), aci2019(), 30_000);
    old.missions.push(EngagedMission::started(MissionId::Crise, d("2020-01-01")));
    let w = old.check(aci2019(), d("2020-02-01"));
    assert!(w.iter().any(|w| w.code == WarningCode::MissionNotInRuleSet));
    let y = year_funding(aci2019(), &old, 1, &Assumptions { achievement: None, crisis: Some(true) }).unwrap();
    assert_eq!(y.envelope(MissionId::Crise).unwrap().total, Cents::ZERO);
    assert!(y.envelope(MissionId::Crise).unwrap().explanations.iter().any(|e| e.step == Step::NotInRuleSet));
}

#[test]
fn contract_round_trips_as_json() {
    let mut c = contract("2024-01-01", 50_000);
    let mut m = EngagedMission::started(MissionId::Acces, d("2024-02-01"));
    m.indicators.push(indicator("x", 0, 10, 1, Some(5)));
    c.missions.push(m);
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<Contract>(&json).unwrap(), c);
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn size_strategy() -> impl Strategy<Value = SizeClass> {
    (1u8..=4).prop_map(|n| SizeClass::from_number(n).unwrap())
}

fn missions_strategy() -> impl Strategy<Value = BTreeSet<MissionId>> {
    proptest::collection::btree_set(proptest::sample::select(MissionId::ALL.to_vec()), 0..=7)
}

fn rules_strategy() -> impl Strategy<Value = &'static RuleSet> {
    proptest::sample::select(vec![avenant2(), aci2019()])
}

proptest! {
    #[test]
    fn simulated_funding_never_exceeds_the_maximum(
        rules in rules_strategy(),
        size in size_strategy(),
        year in 1u8..=5,
        missions in missions_strategy(),
        rate in 0u32..=1_000_000_000,
        crisis in any::<bool>(),
    ) {
        let s = Scenario { size, contract_year: year, missions, achievement: Rate::from_billionths(rate), crisis };
        let y = simulate(rules, &s).unwrap();
        prop_assert!(y.total <= rules.maximum(size));
        prop_assert!(y.total >= rules.operating.figures.amount(size));
        for e in &y.envelopes {
            prop_assert!(e.total <= e.maximum);
            prop_assert_eq!(e.total, e.fixed + e.variable);
        }
    }

    #[test]
    fn simulated_funding_is_monotonic_in_achievement(
        rules in rules_strategy(),
        size in size_strategy(),
        year in 1u8..=5,
        missions in missions_strategy(),
        a in 0u32..=1_000_000_000,
        b in 0u32..=1_000_000_000,
        crisis in any::<bool>(),
    ) {
        let (lo, hi) = (a.min(b), a.max(b));
        let run = |r| simulate(rules, &Scenario { size, contract_year: year, missions: missions.clone(), achievement: Rate::from_billionths(r), crisis }).unwrap();
        let (low, high) = (run(lo), run(hi));
        prop_assert!(low.total <= high.total);
        for (l, h) in low.envelopes.iter().zip(&high.envelopes) {
            prop_assert!(l.variable <= h.variable);
            prop_assert_eq!(l.fixed, h.fixed);
        }
    }

    #[test]
    fn contract_funding_is_bounded_and_monotonic_in_indicator_values(
        size_pop in 1u64..400_000,
        baseline in -1_000i64..1_000,
        gain in 1i64..10_000,
        weights in proptest::collection::vec(0u32..10, 1..5),
        achieved in proptest::collection::vec(-20_000i64..20_000, 5),
        which in 0usize..5,
        bump in 0i64..5_000,
        year in 1u8..=5,
    ) {
        let r = avenant2();
        let mut c = Contract::new("p", d("2024-02-29"), r, size_pop);
        for m in [MissionId::Acces, MissionId::Parcours, MissionId::Prevention, MissionId::Qualite, MissionId::Accompagnement] {
            let mut e = EngagedMission::started(m, d("2024-02-29"));
            e.indicators = weights.iter().enumerate().map(|(i, w)| Indicator {
                name: format!("i{i}"),
                kind: IndicatorKind::Result,
                baseline,
                targets: (1..=5).map(|y| (y, baseline + gain)).collect(),
                weight: *w,
                results: (1..=5).map(|y| (y, IndicatorResult { achieved: achieved[i], evidence: vec![] })).collect(),
            }).collect();
            c.missions.push(e);
        }
        let before = year_funding(r, &c, year, &Assumptions::default()).unwrap();
        prop_assert!(before.total <= r.maximum(before.size));
        // Raise one achieved value (targets are above baselines): nothing goes down.
        for m in &mut c.missions {
            if let Some(ind) = m.indicators.get_mut(which) {
                ind.results.get_mut(&year).unwrap().achieved += bump;
            }
        }
        let after = year_funding(r, &c, year, &Assumptions::default()).unwrap();
        prop_assert!(before.total <= after.total);
        for (b, a) in before.envelopes.iter().zip(&after.envelopes) {
            prop_assert!(b.variable <= a.variable);
        }
    }

    #[test]
    fn a_mission_started_mid_year_gets_a_prorated_fixed_part(
        signed_days in 0i64..3_000,
        year in 1u8..=5,
        offset in 1u32..365,
        size_pop in 1u64..400_000,
        mission in proptest::sample::select(vec![MissionId::Acces, MissionId::Parcours, MissionId::Prevention, MissionId::Qualite, MissionId::Accompagnement]),
    ) {
        let r = avenant2();
        let signed = d("2019-01-01") + chrono::Duration::days(signed_days);
        let mut c = Contract::new("p", signed, r, size_pop);
        let (start, end) = c.period(year).unwrap();
        let days_in_year = u64::try_from((end - start).num_days()).unwrap();
        let started = start + chrono::Duration::days(i64::from(offset));
        c.missions.push(EngagedMission::started(mission, started));
        let y = year_funding(r, &c, year, &Assumptions { achievement: Some(Rate::ONE), crisis: None }).unwrap();
        let e = y.envelope(mission).unwrap();
        let MissionFunding::FixedVariable { fixed, variable } = &r.mission(mission).unwrap().funding else { unreachable!() };
        let full = fixed.amount(y.size);
        let active = days_in_year - u64::from(offset);
        prop_assert_eq!(e.fixed, full.mul_div(active, days_in_year));
        prop_assert!(e.fixed < full && e.fixed > Cents::ZERO);
        // Exact half-up rounding: |fixed × days_in_year − full × active| ≤ days_in_year / 2 (in cents).
        let diff = i128::from(e.fixed.cents()) * i128::from(days_in_year) - i128::from(full.cents()) * i128::from(active);
        prop_assert!(2 * diff.abs() <= i128::from(days_in_year));
        // The variable part is not prorated under avenant 2, and the next year is full.
        prop_assert_eq!(e.variable, variable.amount(y.size));
        if year < 5 {
            let next = year_funding(r, &c, year + 1, &Assumptions::default()).unwrap();
            prop_assert_eq!(next.envelope(mission).unwrap().fixed, fixed.amount(next.size));
        }
        // Payments of the year add up, the advance is paid on the start date.
        let s = payment_schedule(r, &c, &Assumptions { achievement: Some(Rate::ONE), crisis: None }).unwrap();
        let adv = s.payments.iter().find(|p| p.mission == mission && p.kind == PaymentKind::Advance && p.contract_year == year).unwrap();
        prop_assert_eq!(adv.date, started);
        prop_assert_eq!(adv.amount, e.fixed.percent(75));
        for fy in &s.years {
            let paid: Cents = s.payments.iter().filter(|p| p.contract_year == fy.contract_year).map(|p| p.amount).sum();
            prop_assert_eq!(paid, fy.total);
        }
    }

    #[test]
    fn rates_parse_exactly(b in 0u32..=1_000_000_000) {
        let text = format!("0.{b:09}");
        let expect = Rate::from_billionths(b);
        prop_assert_eq!(Rate::parse(if b == 1_000_000_000 { "1" } else { &text }).unwrap(), expect);
    }
}
