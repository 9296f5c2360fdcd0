//! Contract validation: what blocks a write, each error with its path.

use chrono::NaiveDate;
use maillage_core::aci::rules::embedded;
use maillage_core::aci::{
    Contract, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult, MissionId,
};
use std::collections::BTreeMap;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn indicator(name: &str) -> Indicator {
    Indicator {
        name: name.into(),
        kind: IndicatorKind::Result,
        baseline: 0,
        targets: BTreeMap::from([(1, 10), (5, 50)]),
        weight: 1,
        results: BTreeMap::from([(1, IndicatorResult { achieved: 4, evidence: vec!["CR du 3 mars".into()] })]),
    }
}

fn valid() -> Contract {
    let rules = embedded("avenant-2").unwrap();
    let mut c = Contract::new("cpts", day(2024, 3, 15), rules, 52_000);
    let mut acces = EngagedMission::started(MissionId::Acces, day(2024, 6, 1));
    acces.indicators = vec![indicator("Patients orientés"), indicator("Créneaux SNP")];
    let mut crise = EngagedMission::started(MissionId::Crise, day(2024, 6, 1));
    crise.crises.push(CrisisDeclaration { declared_on: day(2025, 7, 1), name: "Canicule".into() });
    c.missions = vec![acces, crise];
    c
}

fn codes(c: &Contract) -> Vec<(&'static str, String)> {
    let rules = embedded("avenant-2").unwrap();
    c.validate(rules).err().unwrap_or_default().into_iter().map(|e| (e.code, e.path)).collect()
}

#[test]
fn a_sound_contract_passes() {
    assert_eq!(codes(&valid()), vec![]);
}

#[test]
fn every_error_is_reported_with_its_path() {
    let mut c = valid();
    c.signed_on = day(2018, 12, 31);
    c.population_at_signature = 80_000_000;
    c.missions[0].indicators[1].name = " patients ORIENTÉS ".into();
    c.missions[0].indicators[0].targets.insert(6, 1);
    c.missions[0].indicators[0].weight = 1_001;
    c.missions[0].deployed_on = Some(day(2024, 5, 1));
    c.missions[0].crises.push(CrisisDeclaration { declared_on: day(2025, 1, 1), name: "x".into() });
    c.missions[1].crises[0].name = "  ".into();
    c.missions.push(EngagedMission::started(MissionId::Fonctionnement, day(2024, 3, 15)));
    c.missions.push(EngagedMission::started(MissionId::Acces, day(2024, 3, 15)));
    let found = codes(&c);
    let expect = [
        ("date_out_of_range", "signed_on"),
        ("population_out_of_range", "population_at_signature"),
        ("deployed_before_start", "missions.acces.deployed_on"),
        ("duplicate", "missions.acces.indicators[1].name"),
        ("weight_out_of_range", "missions.acces.indicators[0].weight"),
        ("year_out_of_range", "missions.acces.indicators[0].targets.6"),
        ("crisis_on_other_mission", "missions.acces.crises"),
        ("name_required", "missions.crise.crises[0].name"),
        ("operating_is_not_a_mission", "missions.fonctionnement"),
        ("duplicate", "missions.acces"),
    ];
    for (code, path) in expect {
        assert!(found.contains(&(code, path.to_owned())), "{code} at {path} missing from {found:?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:?}");
}

#[test]
fn deployment_needs_a_start_and_rule_set_must_match() {
    let mut c = valid();
    c.missions[0].started_on = None;
    c.missions[0].deployed_on = Some(day(2025, 1, 1));
    c.rule_set = "aci-2019".into();
    assert_eq!(
        codes(&c),
        vec![
            ("rule_set_mismatch", "rule_set".to_owned()),
            ("deployed_without_start", "missions.acces.deployed_on".to_owned())
        ]
    );
}

#[test]
fn messages_are_in_both_languages() {
    let mut c = valid();
    c.missions[0].indicators[0].results.get_mut(&1).unwrap().evidence.push("a\nb".into());
    let rules = embedded("avenant-2").unwrap();
    let errors = c.validate(rules).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "missions.acces.indicators[0].results.1.evidence[1]");
    assert!(errors[0].fr.contains("justificatif"), "{}", errors[0].fr);
    assert!(errors[0].en.contains("evidence"), "{}", errors[0].en);
}
