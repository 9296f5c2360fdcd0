//! Territories on the real reference data.

use maillage_core::refdata::{CommuneKind, Reference};
use maillage_core::territory::{
    SizeClass, SizeThresholds, Territory, TerritoryError, TerritoryProblem, communes_within,
};
use proptest::prelude::*;

fn reference() -> &'static Reference {
    Reference::embedded()
}

#[test]
fn size_class_at_the_exact_boundaries() {
    let t = SizeThresholds::default();
    for (population, class) in [
        (0, SizeClass::T1),
        (39_999, SizeClass::T1),
        (40_000, SizeClass::T2),
        (79_999, SizeClass::T2),
        (80_000, SizeClass::T3),
        (174_999, SizeClass::T3),
        (175_000, SizeClass::T4),
        (3_000_000, SizeClass::T4),
    ] {
        assert_eq!(t.classify(population), class, "{population}");
    }
}

/// Real territories whose population falls on each side of each threshold, built by adding
/// the communes nearest to Blois one at a time: the class changes exactly when the running
/// population crosses a threshold.
#[test]
fn size_class_follows_real_populations() {
    let r = reference();
    let blois = r.commune("41018").unwrap();
    let thresholds = SizeThresholds::default();
    let mut codes = Vec::new();
    let mut seen_classes = std::collections::BTreeSet::new();
    for near in communes_within(r, blois, 120.0) {
        codes.push(near.commune.code.to_string());
        let t = Territory::new(r, codes.iter().map(String::as_str)).unwrap();
        let expected: u64 = codes.iter().map(|c| u64::from(r.commune(c).unwrap().population)).sum();
        assert_eq!(t.population(), expected);
        let class = t.size_class(&thresholds);
        let want = match expected {
            p if p < 40_000 => SizeClass::T1,
            p if p < 80_000 => SizeClass::T2,
            p if p < 175_000 => SizeClass::T3,
            _ => SizeClass::T4,
        };
        assert_eq!(class, want);
        seen_classes.insert(class);
        if class == SizeClass::T4 {
            break;
        }
    }
    // Blois alone is already taille 2 (47,219 inhabitants in the 2023 reference populations).
    assert_eq!(seen_classes.into_iter().collect::<Vec<_>>(), [SizeClass::T2, SizeClass::T3, SizeClass::T4]);
}

#[test]
fn blois_and_its_neighbours() {
    let r = reference();
    let codes = ["41018", "41032", "41047", "41055", "41142", "41212", "41230", "41276", "41295"];
    let t = Territory::new(r, codes).unwrap();
    assert_eq!(t.communes().len(), 9);
    assert_eq!(t.connected_parts().len(), 1, "Blois and its neighbours are contiguous");
    let deps = t.by_departement();
    assert_eq!(deps.len(), 1);
    assert_eq!((deps[0].code.as_str(), deps[0].name.as_str(), deps[0].communes), ("41", "Loir-et-Cher", 9));
    assert_eq!(deps[0].population, t.population());
    let outside = t.neighbours();
    assert!(!outside.is_empty());
    assert!(outside.iter().all(|c| !t.contains(c.code.as_str())));
    // Every outside neighbour borders at least one commune of the territory.
    for n in outside {
        assert!(n.neighbours.iter().any(|&i| t.contains(r.communes()[i as usize].code.as_str())), "{}", n.code);
    }
}

#[test]
fn territory_across_departements() {
    let r = reference();
    // Blois (41) and Tours (37) and Orléans (45).
    let t = Territory::new(r, ["41018", "37261", "45234"]).unwrap();
    let deps: Vec<String> = t.by_departement().into_iter().map(|d| d.code).collect();
    assert_eq!(deps, ["37", "41", "45"]);
    assert_eq!(t.connected_parts().len(), 3);
}

#[test]
fn every_problem_is_reported() {
    let r = reference();
    let err = Territory::new(r, ["41018", "99999", "69232", "97501", "4101", "41018", "75056", "75101"]).unwrap_err();
    let TerritoryError::Invalid(problems) = err else { panic!("{err:?}") };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 6, "{text:#?}");
    assert!(text[0].contains("99999"));
    assert!(text[1].contains("69123"), "a former code names its current commune: {}", text[1]);
    assert!(text[2].contains("975"), "overseas collectivity: {}", text[2]);
    assert!(matches!(problems[4], TerritoryProblem::Duplicate { .. }));
    assert!(matches!(problems[5], TerritoryProblem::Overlap { .. }));
    assert!(problems.iter().all(|p| !p.fr().is_empty()));
    assert_eq!(Territory::new(r, []).unwrap_err(), TerritoryError::Empty);
}

#[test]
fn paris_at_both_levels() {
    let r = reference();
    let whole = Territory::new(r, ["75056"]).unwrap();
    let arrondissements: Vec<String> = r
        .communes()
        .iter()
        .filter(|c| {
            c.kind == CommuneKind::MunicipalArrondissement && c.parent.map(|p| p.to_string()) == Some("75056".into())
        })
        .map(|c| c.code.to_string())
        .collect();
    assert_eq!(arrondissements.len(), 20);
    let parts = Territory::new(r, arrondissements.iter().map(String::as_str)).unwrap();
    assert_eq!(parts.population(), whole.population());
    assert_eq!(parts.connected_parts().len(), 1);
    // Boulogne-Billancourt borders Paris as a city, never both the city and its parts.
    let boulogne = Territory::new(r, ["92012"]).unwrap();
    let n: Vec<String> = boulogne.neighbours().iter().map(|c| c.code.to_string()).collect();
    assert!(n.contains(&"75056".to_string()) && !n.iter().any(|c| c.starts_with("751")), "{n:?}");
    // A territory drawn at arrondissement level sees arrondissements, not the city.
    let sixteenth = Territory::new(r, ["75116"]).unwrap();
    let n: Vec<String> = sixteenth.neighbours().iter().map(|c| c.code.to_string()).collect();
    assert!(n.contains(&"75115".to_string()) && n.contains(&"92012".to_string()) && !n.contains(&"75056".to_string()));
}

#[test]
fn communes_within_radius() {
    let r = reference();
    let blois = r.commune("41018").unwrap();
    let near = communes_within(r, blois, 10.0);
    assert_eq!(near[0].commune.code.as_str(), "41018");
    assert!(near.windows(2).all(|w| w[0].km <= w[1].km));
    // Independent recomputation: exactly the communes (not arrondissements) whose centre is
    // within 10 km by the haversine formula.
    let expected = r
        .communes()
        .iter()
        .filter(|c| c.kind == CommuneKind::Commune && blois.centre.distance_km(c.centre) <= 10.0)
        .count();
    assert_eq!(near.len(), expected);
    assert!(near.iter().any(|n| n.commune.code.as_str() == "41295"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Population is additive and the size class is monotonic in it.
    #[test]
    fn population_is_the_sum(indices in proptest::collection::btree_set(0usize..34_000, 1..60)) {
        let r = reference();
        let communes: Vec<_> = r.communes().iter().filter(|c| c.kind == CommuneKind::Commune).collect();
        let codes: Vec<String> = indices.iter().map(|&i| communes[i % communes.len()].code.to_string()).collect();
        let t = Territory::new(r, codes.iter().map(String::as_str)).unwrap();
        let sum: u64 = codes.iter().map(|c| u64::from(r.commune(c).unwrap().population)).sum();
        prop_assert_eq!(t.population(), sum);
        let first = Territory::new(r, codes[..1].iter().map(String::as_str)).unwrap();
        let th = SizeThresholds::default();
        prop_assert!(first.size_class(&th) <= t.size_class(&th));
    }
}
