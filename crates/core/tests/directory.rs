//! The directory import on real-looking lines and on the real reference communes.

use maillage_core::directory::annuaire::{FIELD_COUNT, published_header};
use maillage_core::directory::synth::{self, SplitMix64};
use maillage_core::directory::*;
use maillage_core::refdata::Reference;
use maillage_core::territory::{Territory, communes_within};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::io::Cursor;

fn reference() -> &'static Reference {
    Reference::embedded()
}

/// A line in the published layout with the given fields set (everything else empty).
fn line(values: &[(Field, &str)]) -> String {
    let mut cells = vec![""; FIELD_COUNT];
    for (f, v) in values {
        cells[*f as usize] = v;
    }
    let mut s = cells.join("|");
    s.push('|');
    s
}

/// A GP in Blois, as the real extract writes one (fictitious person, Luhn-valid RPPS).
fn gp() -> Vec<(Field, &'static str)> {
    vec![
        (Field::IdType, "8"),
        (Field::Identifier, "10002909371"),
        (Field::NationalId, "810002909371"),
        (Field::ExerciseCivilityCode, "DR"),
        (Field::ExerciseCivilityLabel, "Docteur"),
        (Field::CivilityCode, "MME"),
        (Field::CivilityLabel, "Madame"),
        (Field::FamilyName, "LEFÈVRE-N'DIAYE"),
        (Field::GivenName, "Anaïs"),
        (Field::ProfessionCode, "10"),
        (Field::ProfessionLabel, "Médecin"),
        (Field::CategoryCode, "C"),
        (Field::CategoryLabel, "Civil"),
        (Field::SkillTypeCode, "S"),
        (Field::SkillTypeLabel, "Spécialité ordinale"),
        (Field::SkillCode, "SM54"),
        (Field::SkillLabel, "Médecine générale"),
        (Field::ExerciseModeCode, "L"),
        (Field::ExerciseModeLabel, "Libéral"),
        (Field::StructureId, "R10002909371001"),
        (Field::CompanyName, "CABINET DU DR LEFÈVRE-N'DIAYE"),
        (Field::StreetNumber, "6"),
        (Field::StreetNumberSuffix, "B"),
        (Field::StreetTypeCode, "R"),
        (Field::StreetTypeLabel, "Rue"),
        (Field::StreetName, "DU GÉNÉRAL DE GAULLE"),
        (Field::CedexOffice, "41000 BLOIS"),
        (Field::PostalCode, "41000"),
        (Field::CommuneCode, "41018"),
        (Field::CommuneLabel, "Blois"),
        (Field::Phone, "0254000000"),
        (Field::Email, "cabinet@exemple.fr"),
        (Field::DepartementCode, "41"),
        (Field::DepartementLabel, "Loir-et-Cher"),
        (Field::RegistrationAuthority, "CNOM/CNOM/CNOM"),
        (Field::SectorCode, "SA07"),
        (Field::SectorLabel, "Cabinet individuel"),
        (Field::ActivityKindCode, "GENR01"),
        (Field::ActivityKindLabel, "Activité de soin et de pharmacie"),
    ]
}

fn with(mut base: Vec<(Field, &'static str)>, changes: &[(Field, &'static str)]) -> Vec<(Field, &'static str)> {
    for (f, v) in changes {
        base.retain(|(g, _)| g != f);
        base.push((*f, v));
    }
    base
}

fn map() -> ColumnMap {
    ColumnMap::published()
}

// ---------------------------------------------------------------- header

#[test]
fn published_header_has_56_columns_in_order() {
    let m = AnnuaireHeader::parse(&published_header()).unwrap();
    assert_eq!(m.width(), 56);
    assert_eq!(m.position(Field::IdType), Some(0));
    assert_eq!(m.position(Field::CommuneCode), Some(36));
    assert_eq!(m.position(Field::ActivityKindLabel), Some(55));
    assert!(m.unknown_columns().is_empty() && m.absent_fields().is_empty());
}

#[test]
fn header_tolerates_reordered_columns_bom_crlf_and_spellings() {
    let mut names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    names.reverse();
    names.swap(3, 40);
    let mut header = String::from("\u{feff}");
    header.push_str(&names.join("|"));
    header.push_str("|Une colonne nouvelle|\r\n");
    // Other spellings seen in earlier headers.
    let header = header
        .replace("Code rôle", "Code fonction")
        .replace("Indice répétition voie (coord. structure)", "Indice répétition voie (coord. Structure)")
        .replace("Libellé civilité d'exercice", "Libellé  civilité exercice");
    let m = AnnuaireHeader::parse(&header).unwrap();
    assert_eq!(m.width(), 57);
    assert_eq!(m.unknown_columns(), ["Une colonne nouvelle"]);
    assert_eq!(m.column_name(Field::RoleCode), "Code fonction");
    for (i, name) in names.iter().enumerate() {
        let f = Field::ALL.iter().find(|f| f.name() == *name).unwrap();
        assert_eq!(m.position(*f), Some(i), "{name}");
    }
    // A line in that order parses to the same values.
    let values = gp();
    let mut cells = vec![""; 57];
    for (f, v) in &values {
        cells[m.position(*f).unwrap()] = v;
    }
    let text = format!("{}|", cells.join("|"));
    let r = parse_record(&text, &m, 2).unwrap();
    assert_eq!(r.family_name(), "LEFÈVRE-N'DIAYE");
    assert_eq!(r.commune_code().unwrap().as_str(), "41018");
    assert_eq!(commune_of(&text, &m), Some("41018"));
}

#[test]
fn header_missing_columns_are_named() {
    let header: Vec<&str> = Field::ALL
        .iter()
        .filter(|f| !matches!(f, Field::CommuneCode | Field::Identifier | Field::SkillCode))
        .map(|f| f.name())
        .collect();
    let e = AnnuaireHeader::parse(&header.join("|")).unwrap_err();
    assert_eq!(e, HeaderError::Missing(vec!["Identifiant PP", "Code commune (coord. structure)"]));
    assert_eq!(e.to_string(), "the header lacks required column(s): Identifiant PP, Code commune (coord. structure)");
    assert!(e.fr().contains("« Code commune (coord. structure) »"), "{}", e.fr());
    // Optional columns may be absent: they read as empty.
    let without_skills: Vec<&str> =
        Field::ALL.iter().filter(|f| !matches!(f, Field::SkillCode)).map(|f| f.name()).collect();
    let m = AnnuaireHeader::parse(&without_skills.join("|")).unwrap();
    assert_eq!(m.absent_fields(), vec![Field::SkillCode]);
    assert_eq!(AnnuaireHeader::parse("  |"), Err(HeaderError::Empty));
    let dup = format!("{}|Code profession|", published_header().trim_end_matches('|'));
    assert_eq!(AnnuaireHeader::parse(&dup), Err(HeaderError::Duplicate("Code profession".into())));
}

// ---------------------------------------------------------------- lines

#[test]
fn a_real_looking_line_parses_fully() {
    let text = line(&gp());
    let r = parse_record(&text, &map(), 7).unwrap();
    assert_eq!(r.line(), 7);
    assert_eq!(r.id_type(), IdType::Rpps);
    assert_eq!(r.identifier(), "10002909371");
    assert_eq!(r.national_id().to_string(), "810002909371");
    assert!(r.warnings().is_empty());
    assert_eq!((r.family_name(), r.given_name()), ("LEFÈVRE-N'DIAYE", "Anaïs"));
    assert_eq!(r.exercise_civility_code(), Some("DR"));
    assert_eq!(r.civility_code(), Some("MME"));
    assert_eq!((r.profession_code(), r.profession_label()), ("10", Some("Médecin")));
    assert_eq!(r.category_code(), Some("C"));
    let skill = r.skill().unwrap();
    assert_eq!((skill.type_code, skill.code, skill.label), ("S", "SM54", "Médecine générale"));
    assert_eq!(r.exercise_mode(), ExerciseMode::Liberal);
    assert_eq!(r.exercise_mode_label(), Some("Libéral"));
    assert_eq!(r.structure_id(), Some("R10002909371001"));
    assert_eq!((r.siret(), r.siren(), r.finess_site(), r.finess_legal_entity()), (None, None, None, None));
    assert_eq!(r.company_name(), Some("CABINET DU DR LEFÈVRE-N'DIAYE"));
    assert_eq!(r.trade_name(), None);
    assert_eq!(r.get(Field::StreetName), "DU GÉNÉRAL DE GAULLE");
    assert_eq!((r.postal_code(), r.commune_label()), (Some("41000"), Some("Blois")));
    assert_eq!(r.phone(), Some("0254000000"));
    assert_eq!((r.phone2(), r.fax()), (None, None));
    assert_eq!(r.email(), Some("cabinet@exemple.fr"));
    assert_eq!(r.departement_code(), Some("41"));
    assert_eq!((r.role_code(), r.role_label()), (None, None));
    assert_eq!(r.activity_kind_code(), Some("GENR01"));
    assert_eq!(r.activity_kind_label(), Some("Activité de soin et de pharmacie"));

    let a = r.to_activity();
    assert_eq!(a.street().as_deref(), Some("6B Rue DU GÉNÉRAL DE GAULLE"));
    let place = a.place();
    assert_eq!(place.key, "R10002909371001");
    assert_eq!(place.address.commune_code.unwrap().as_str(), "41018");
    assert_eq!(place.structure.name.as_deref(), Some("CABINET DU DR LEFÈVRE-N'DIAYE"));
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["national_id"], "810002909371");
    assert_eq!(json["exercise_mode"], "liberal");
    assert_eq!(json["commune_code"], "41018");
}

#[test]
fn endings_and_missing_trailing_pipe_are_accepted() {
    let base = line(&gp());
    let m = map();
    for text in [base.clone(), format!("{base}\r\n"), format!("{base}\n"), base.trim_end_matches('|').to_owned()] {
        let r = parse_record(&text, &m, 2).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        assert_eq!(r.get(Field::ActivityKindLabel), "Activité de soin et de pharmacie");
        assert_eq!(commune_of(&text, &m), Some("41018"));
    }
}

#[test]
fn adeli_lines_parse_and_warn_on_the_key() {
    let text = line(&with(
        gp(),
        &[
            (Field::IdType, "0"),
            (Field::Identifier, "789310597"),
            (Field::NationalId, "0789310597"),
            (Field::ProfessionCode, "93"),
        ],
    ));
    let r = parse_record(&text, &map(), 3).unwrap();
    assert_eq!(r.id_type(), IdType::Adeli);
    assert_eq!(r.national_id().to_string(), "0789310597");
    assert_eq!(r.warnings().len(), 1, "Luhn key mismatch is only a warning");
}

fn reject_of(changes: &[(Field, &'static str)]) -> Reject {
    parse_record(&line(&with(gp(), changes)), &map(), 12).unwrap_err()
}

#[test]
fn rejects_name_line_column_and_reason() {
    let r = reject_of(&[(Field::Identifier, "")]);
    assert_eq!((r.line, r.column.as_deref()), (12, Some("Identifiant PP")));
    assert_eq!((r.reason_en.as_str(), r.reason_fr.as_str()), ("empty identifier", "identifiant vide"));

    let r = reject_of(&[(Field::Identifier, "1000290937"), (Field::NationalId, "")]);
    assert_eq!(r.column.as_deref(), Some("Identifiant PP"));
    assert_eq!(r.reason_en, "An RPPS number has 11 digits, not 10 (spaces ignored)");

    let r = reject_of(&[(Field::Identifier, "1000290937X")]);
    assert!(r.reason_en.contains("position 11"), "{r}");

    let r = reject_of(&[(Field::IdType, "3")]);
    assert_eq!(r.column.as_deref(), Some("Type d'identifiant PP"));
    assert_eq!(r.reason_en, "unknown identifier type \"3\" (expected 8 = RPPS or 0 = ADELI)");

    let r = reject_of(&[(Field::NationalId, "810002909372")]);
    assert_eq!(r.column.as_deref(), Some("Identification nationale PP"));
    assert!(r.reason_fr.contains("ne correspond pas"), "{}", r.reason_fr);

    let r = reject_of(&[(Field::CommuneCode, "4101")]);
    assert_eq!(r.column.as_deref(), Some("Code commune (coord. structure)"));
    assert!(r.reason_en.contains("5 characters, not 4"), "{r}");

    let r = reject_of(&[(Field::FamilyName, "")]);
    assert_eq!(r.column.as_deref(), Some("Nom d'exercice"));

    let short = "8|10002909371|810002909371|";
    let r = parse_record(short, &map(), 5).unwrap_err();
    assert_eq!((r.line, r.column.as_deref()), (5, None));
    assert_eq!(r.reason_en, "expected 56 fields, found 3");
    assert_eq!(r.reason_fr, "56 champs attendus, 3 trouvés");
    assert_eq!(r.to_string(), "line 5: expected 56 fields, found 3");
    let long = format!("{}x|", line(&gp()));
    assert_eq!(parse_record(&long, &map(), 6).unwrap_err().reason_en, "expected 56 fields, found 57");
}

// ---------------------------------------------------------------- scan

fn extract(lines: &[String], ending: &str) -> Vec<u8> {
    let mut s = published_header();
    s.push_str(ending);
    for l in lines {
        s.push_str(l);
        s.push_str(ending);
    }
    s.into_bytes()
}

fn blois_filter(margin_km: f64) -> TerritoryFilter {
    let t = Territory::new(reference(), ["41018"]).unwrap();
    TerritoryFilter::new(&t, margin_km)
}

#[derive(Default)]
struct Collect {
    kept: Vec<(u64, String, Zone)>,
    rejects: Vec<Reject>,
    unplaced: Vec<(u64, String)>,
    progress: Vec<u64>,
}

impl ScanSink for Collect {
    type Error = String;
    fn record(&mut self, r: ActivityRecord<'_>, zone: Zone) -> Result<(), String> {
        if r.family_name() == "STOP" {
            return Err("sink refused".into());
        }
        self.kept.push((r.line(), r.national_id().to_string(), zone));
        Ok(())
    }
    fn reject(&mut self, r: Reject) -> Result<(), String> {
        self.rejects.push(r);
        Ok(())
    }
    fn unplaced(&mut self, line: u64, postal: &str) -> Result<(), String> {
        self.unplaced.push((line, postal.to_owned()));
        Ok(())
    }
    fn progress(&mut self, stats: &ScanStats) {
        self.progress.push(stats.lines);
    }
}

fn run(bytes: &[u8], filter: &TerritoryFilter, progress_every: u64) -> (Result<ScanStats, ScanError<String>>, Collect) {
    let mut reader = Cursor::new(bytes);
    let (m, header_bytes) = read_header(&mut reader).unwrap();
    let ending = if bytes.get(published_header().len()) == Some(&b'\r') { 2 } else { 1 };
    assert_eq!(header_bytes as usize, published_header().len() + ending);
    let mut sink = Collect::default();
    let stats = scan_with(reader, &m, filter, ScanOptions { first_line: 2, progress_every }, &mut sink);
    (stats, sink)
}

#[test]
fn scan_keeps_the_territory_and_counts_everything() {
    let lines = vec![
        line(&gp()),                                                                       // 2 Blois
        line(&with(gp(), &[(Field::CommuneCode, "41269"), (Field::PostalCode, "41100")])), // 3 Vendôme
        line(&with(gp(), &[(Field::CommuneCode, "75108"), (Field::PostalCode, "75008")])), // 4 Paris 8e
        String::new(),                                                                     // 5 blank
        line(&with(gp(), &[(Field::CommuneCode, "41018"), (Field::Identifier, "")])),      // 6 reject
        line(&with(gp(), &[(Field::CommuneCode, ""), (Field::PostalCode, "41000")])),      // 7 unplaced
        line(&with(gp(), &[(Field::CommuneCode, "41295"), (Field::PostalCode, "41350")])), // 8 Vineuil
    ];
    let bytes = extract(&lines, "\r\n");
    let (stats, sink) = run(&bytes, &blois_filter(0.0), 2);
    let stats = stats.unwrap();
    assert_eq!(stats.lines, 7);
    assert_eq!(stats.bytes as usize, bytes.len() - published_header().len() - 2);
    assert_eq!(
        (stats.kept_territory, stats.kept_margin, stats.rejected, stats.filtered_out, stats.unplaced, stats.blank),
        (1, 0, 1, 3, 1, 1)
    );
    assert_eq!(sink.kept, vec![(2, "810002909371".into(), Zone::Territory)]);
    assert_eq!(sink.rejects.len(), 1);
    assert_eq!((sink.rejects[0].line, sink.rejects[0].column.as_deref()), (6, Some("Identifiant PP")));
    assert_eq!(sink.unplaced, vec![(7, "41000".into())]);
    assert_eq!(sink.progress, vec![2, 4, 6, 7]);

    // With a 10 km margin, Vineuil (7 km) and the other communes of postal code 41000 come in.
    let (stats, sink) = run(&bytes, &blois_filter(10.0), 0);
    let stats = stats.unwrap();
    assert_eq!((stats.kept_territory, stats.kept_margin, stats.unplaced), (1, 2, 0));
    assert_eq!(
        sink.kept.iter().map(|k| (k.0, k.2)).collect::<Vec<_>>(),
        vec![(2, Zone::Territory), (7, Zone::Margin), (8, Zone::Margin)]
    );
}

#[test]
fn scan_handles_a_last_line_without_newline_and_invalid_utf8() {
    let mut bytes = extract(&[line(&gp())], "\n");
    let mut bad = line(&with(gp(), &[(Field::FamilyName, "MARTIN")])).into_bytes();
    let pos = bad.windows(6).position(|w| w == b"MARTIN").unwrap();
    bad[pos + 1] = 0xC3; // a lone lead byte: not UTF-8
    bytes.extend_from_slice(&bad);
    bytes.push(b'\n');
    bytes.extend_from_slice(
        line(&with(gp(), &[(Field::Identifier, "10002909389"), (Field::NationalId, "")])).as_bytes(),
    );
    let (stats, sink) = run(&bytes, &blois_filter(0.0), 0);
    let stats = stats.unwrap();
    assert_eq!((stats.lines, stats.kept(), stats.rejected), (3, 2, 1));
    assert_eq!(sink.rejects[0].line, 3);
    assert!(sink.rejects[0].reason_en.contains("not valid UTF-8"), "{}", sink.rejects[0]);
    assert_eq!(sink.kept[1], (4, "810002909389".into(), Zone::Territory));
}

#[test]
fn a_sink_error_stops_the_scan_at_its_line() {
    let lines = vec![line(&gp()), line(&with(gp(), &[(Field::FamilyName, "STOP")])), line(&gp())];
    let (stats, sink) = run(&extract(&lines, "\n"), &blois_filter(0.0), 0);
    match stats {
        Err(ScanError::Sink { line, error }) => assert_eq!((line, error.as_str()), (3, "sink refused")),
        other => panic!("{other:?}"),
    }
    assert_eq!(sink.kept.len(), 1);
}

#[test]
fn the_closure_api_and_bad_headers() {
    let bytes = extract(&[line(&gp()), "garbage".into()], "\n");
    let mut reader = Cursor::new(&bytes[..]);
    let (m, _) = read_header(&mut reader).unwrap();
    let mut names = Vec::new();
    let mut rejects = Vec::new();
    let stats = scan(
        reader,
        &m,
        &TerritoryFilter::everything(),
        |r, _| {
            names.push(r.given_name().to_owned());
            Ok::<_, std::convert::Infallible>(())
        },
        |r| rejects.push(r),
    )
    .unwrap();
    assert_eq!(names, ["Anaïs"]);
    assert_eq!((stats.kept(), stats.rejected, rejects[0].line), (1, 1, 3));

    let mut bad = Cursor::new(&b"Identifiant PP|Nom d'exercice|\n1|2|\n"[..]);
    match read_header(&mut bad) {
        Err(ScanError::Header(HeaderError::Missing(cols))) => assert!(cols.contains(&"Code profession")),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- filter

/// The filter keeps exactly the territory's communes and those within the margin, computed
/// independently with `communes_within` (outside Paris, Lyon and Marseille the two agree).
#[test]
fn filter_keeps_exactly_territory_and_margin() {
    let r = reference();
    let codes = ["41018", "41295", "41269"];
    let t = Territory::new(r, codes).unwrap();
    for margin in [0.0, 5.0, 12.5] {
        let filter = TerritoryFilter::new(&t, margin);
        let mut expected_margin = BTreeSet::new();
        for c in t.communes() {
            for near in communes_within(r, c, margin) {
                expected_margin.insert(near.commune.code.as_str());
            }
        }
        for c in codes {
            expected_margin.remove(c);
        }
        // Every commune within 60 km: the filter agrees with the expectation.
        let blois = r.commune("41018").unwrap();
        let mut seen_margin = 0;
        for near in communes_within(r, blois, 60.0) {
            let code = near.commune.code.as_str();
            let expected = if codes.contains(&code) {
                Some(Zone::Territory)
            } else if expected_margin.contains(code) {
                Some(Zone::Margin)
            } else {
                None
            };
            assert_eq!(filter.zone_of_code(code), expected, "{code} at margin {margin}");
            seen_margin += usize::from(expected == Some(Zone::Margin));
        }
        assert_eq!(seen_margin, expected_margin.len(), "margin {margin}");
        assert_eq!(filter.accepted_codes().0, 3);
        assert_eq!(filter.zone_of_code("75108"), None);
        assert_eq!(filter.locate("", ""), Placement::Outside);
        assert_eq!(filter.locate("garbage", "99999"), Placement::Outside);
    }
}

#[test]
fn paris_lyon_marseille_arrondissements_and_cities() {
    let r = reference();
    // Territory at city level: every arrondissement's lines are in.
    let paris = TerritoryFilter::new(&Territory::new(r, ["75056"]).unwrap(), 0.0);
    for code in ["75056", "75101", "75108", "75116", "75120"] {
        assert_eq!(paris.zone_of_code(code), Some(Zone::Territory), "{code}");
    }
    assert_eq!(paris.locate("", "75016"), Placement::Inside(Zone::Territory));
    assert_eq!(paris.zone_of_code("69383"), None);
    let lyon = TerritoryFilter::new(&Territory::new(r, ["69123"]).unwrap(), 0.0);
    assert_eq!(lyon.zone_of_code("69383"), Some(Zone::Territory));
    let marseille = TerritoryFilter::new(&Territory::new(r, ["13055"]).unwrap(), 0.0);
    assert_eq!(marseille.zone_of_code("13208"), Some(Zone::Territory));

    // Territory at arrondissement level: the city code needs the postal code.
    let f = TerritoryFilter::new(&Territory::new(r, ["75108", "75116"]).unwrap(), 0.0);
    assert_eq!(f.zone_of_code("75108"), Some(Zone::Territory));
    assert_eq!(f.zone_of_code("75110"), None);
    assert_eq!(f.locate("75056", "75008"), Placement::Inside(Zone::Territory));
    assert_eq!(f.locate("75056", "75116"), Placement::Inside(Zone::Territory));
    assert_eq!(f.locate("75056", "75010"), Placement::Outside);
    assert_eq!(f.locate("75056", ""), Placement::Unplaced);
    assert_eq!(f.locate("", "75008"), Placement::Inside(Zone::Territory));

    // A margin around an arrondissement takes in neighbouring arrondissements, by their centres.
    let f = TerritoryFilter::new(&Territory::new(r, ["75108"]).unwrap(), 2.0);
    let p8 = r.commune("75108").unwrap();
    for near in communes_within(r, p8, 2.0).iter().skip(1) {
        assert_eq!(f.zone_of_code(near.commune.code.as_str()), Some(Zone::Margin), "{}", near.commune.code);
    }
    assert_eq!(f.zone_of_code("75120"), None);
}

#[test]
fn former_communes_follow_the_commune_they_merged_into() {
    let r = reference();
    // 41011 Baigneaux merged into 41171.
    assert_eq!(r.former("41011").unwrap().current.as_str(), "41171");
    let f = TerritoryFilter::from_codes(r, ["41171"], 0.0).unwrap();
    assert!(TerritoryFilter::from_codes(r, ["41011"], 0.0).is_err(), "a former commune is no territory");
    assert_eq!(f.zone_of_code("41011"), Some(Zone::Territory));
    // 55273 was split between 55245 and 55386: only one of them in the territory.
    let f = TerritoryFilter::new(&Territory::new(r, ["55245"]).unwrap(), 0.0);
    assert_eq!(f.locate("55273", "55000"), Placement::Unplaced);
    let f = TerritoryFilter::new(&Territory::new(r, ["55245", "55386"]).unwrap(), 0.0);
    assert_eq!(f.zone_of_code("55273"), Some(Zone::Territory));
}

// ---------------------------------------------------------------- people

#[test]
fn lines_group_into_professionals() {
    let m = map();
    let second_specialty =
        line(&with(gp(), &[(Field::SkillCode, "SM42"), (Field::SkillLabel, "Psychiatrie"), (Field::Phone, "")]));
    let second_place = line(&with(
        gp(),
        &[
            (Field::StructureId, "F410000012"),
            (Field::ExerciseModeCode, "S"),
            (Field::CommuneCode, "41295"),
            (Field::FinessSite, "410000012"),
            (Field::Siret, "12345678901234"),
        ],
    ));
    let someone_else = line(&with(gp(), &[(Field::Identifier, "10002909389"), (Field::NationalId, "810002909389")]));
    let texts = [line(&gp()), someone_else, second_specialty, second_place];
    let activities: Vec<Activity> =
        texts.iter().enumerate().map(|(i, t)| parse_record(t, &m, i as u64 + 2).unwrap().to_activity()).collect();
    let drafts = group_by_person(activities);
    assert_eq!(drafts.len(), 2);
    assert_eq!(drafts[0].national_id.to_string(), "810002909371");
    assert_eq!(drafts[0].activities.iter().map(|a| a.line).collect::<Vec<_>>(), [2, 4, 5]);
    let p = drafts[0].to_professional().unwrap();
    assert_eq!(p.civility.as_deref(), Some("DR"));
    assert_eq!(p.specialties.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(), ["SM54", "SM42"]);
    assert_eq!(p.places.len(), 2);
    assert_eq!(p.places[0].phone.as_deref(), Some("0254000000"));
    assert_eq!(p.places[1].exercise_mode, ExerciseMode::Salarie);
    assert_eq!(p.places[1].structure.finess.unwrap().as_str(), "410000012");
    assert!(p.places[1].structure.siret.is_none());
    let w = drafts[0].warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].en.starts_with("SIRET left out"), "{:?}", w);

    let mut d = drafts[1].clone();
    let other = drafts[0].activities[0].clone();
    assert!(d.push(other).is_err());
}

// ---------------------------------------------------------------- synthetic extracts

fn sample_communes() -> Vec<&'static str> {
    let all = synth::france_communes(reference());
    let mut rng = SplitMix64::new(1);
    let mut v: Vec<&str> = (0..400).map(|_| *rng.pick(&all)).collect();
    v.extend(["75108", "69383", "13201", "2A004", "97411"]);
    v
}

#[test]
fn synth_is_deterministic_and_realistic() {
    let communes = sample_communes();
    let mut a = Vec::new();
    let mut b = Vec::new();
    let sa = synth::write_extract(&mut a, 3_000, 9, &communes).unwrap();
    synth::write_extract(&mut b, 3_000, 9, &communes).unwrap();
    assert_eq!(a, b);
    assert_eq!(sa.lines, 3_000);
    assert!(sa.people < 3_000 && sa.people > 2_700, "{sa:?}");
    let text = String::from_utf8(a).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), published_header());
    let m = map();
    let records: Vec<_> = lines.enumerate().map(|(i, l)| parse_record(l, &m, i as u64 + 2).unwrap()).collect();
    let nurses = records.iter().filter(|r| r.profession_code() == "60").count();
    let doctors = records.iter().filter(|r| r.profession_code() == "10").count();
    let orthoptists = records.iter().filter(|r| r.profession_code() == "92").count();
    assert!(nurses > doctors && doctors > 10 * orthoptists, "{nurses} {doctors} {orthoptists}");
    assert!(records.iter().any(|r| r.id_type() == IdType::Adeli));
    assert!(records.iter().all(|r| r.national_id().warnings().is_empty()), "keys are valid");
    assert!(records.iter().all(|r| profession(r.profession_code()).is_some()));
    let no_commune = records.iter().filter(|r| r.commune_code().is_none()).count();
    assert!((10..=100).contains(&no_commune), "{no_commune}");
    assert!(synth::write_extract(Vec::new(), 1, 1, &[]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every synthetic line parses (no reject), and the fast commune extraction agrees with the
    /// full parse on every line.
    #[test]
    fn synth_round_trips_through_the_parser(seed in any::<u64>(), n in 1u64..400) {
        let communes = sample_communes();
        let mut bytes = Vec::new();
        synth::write_extract(&mut bytes, n, seed, &communes).unwrap();
        let mut reader = Cursor::new(&bytes[..]);
        let (m, _) = read_header(&mut reader).unwrap();
        let mut seen = 0u64;
        let mut rejects = Vec::new();
        let stats = scan(reader, &m, &TerritoryFilter::everything(), |_, _| { seen += 1; Ok::<_, ()>(()) }, |r| rejects.push(r)).unwrap();
        prop_assert!(rejects.is_empty(), "{:?}", rejects.first());
        prop_assert_eq!((stats.lines, stats.kept(), seen), (n, n, n));
        let text = std::str::from_utf8(&bytes).unwrap();
        for (i, l) in text.lines().skip(1).enumerate() {
            let r = parse_record(l, &m, i as u64 + 2).unwrap();
            let fast = commune_of(l, &m).map(|c| c.to_owned());
            prop_assert_eq!(fast, r.commune_code().map(|c| c.to_string()));
            let (c, p) = m.location(l.as_bytes());
            prop_assert_eq!(c.map(|b| std::str::from_utf8(b).unwrap()), Some(r.get(Field::CommuneCode)));
            prop_assert_eq!(p.map(|b| std::str::from_utf8(b).unwrap()), Some(r.get(Field::PostalCode)));
        }
    }

    /// A territory filter over a synthetic extract keeps exactly the lines whose commune (or,
    /// without commune, whose postal code) the filter accepts, and sees every line once.
    #[test]
    fn scan_partitions_every_line(seed in any::<u64>()) {
        let r = reference();
        let t = Territory::new(r, ["75108", "69383", "2A004"]).unwrap();
        let filter = TerritoryFilter::new(&t, 1.5);
        let mut bytes = Vec::new();
        synth::write_extract(&mut bytes, 300, seed, &sample_communes()).unwrap();
        let (stats, sink) = run(&bytes, &filter, 0);
        let stats = stats.unwrap();
        prop_assert_eq!(
            stats.kept() + stats.rejected + stats.filtered_out + stats.unplaced + stats.blank,
            stats.lines
        );
        prop_assert_eq!(stats.rejected, 0);
        let m = map();
        let text = std::str::from_utf8(&bytes).unwrap();
        let mut expected = Vec::new();
        for (i, l) in text.lines().skip(1).enumerate() {
            let rec = parse_record(l, &m, i as u64 + 2).unwrap();
            if let Placement::Inside(z) = filter.locate(rec.get(Field::CommuneCode), rec.get(Field::PostalCode)) {
                expected.push((rec.line(), rec.national_id().to_string(), z));
            }
        }
        prop_assert_eq!(sink.kept, expected);
    }
}

// ---------------------------------------------------------------- model

#[test]
fn national_ids_parse_display_and_serialize() {
    let r = NationalId::parse("810002909371").unwrap();
    assert_eq!((r.to_string(), r.number()), ("810002909371".to_owned(), "10002909371"));
    let a: NationalId = "0789310596".parse().unwrap();
    assert_eq!(a.national(), "0789310596");
    assert_eq!(a.fhir_identifier(), ("urn:oid:1.2.250.1.71.4.2.1", "0789310596".to_owned()));
    assert_eq!(serde_json::to_string(&r).unwrap(), "\"810002909371\"");
    let back: NationalId = serde_json::from_str("\"0789310596\"").unwrap();
    assert_eq!(back, a);
    assert!(NationalId::parse("910002909371").is_err());
    assert!(serde_json::from_str::<NationalId>("\"123\"").is_err());
}

fn professional() -> Professional {
    let text = line(&gp());
    let a = parse_record(&text, &map(), 2).unwrap().to_activity();
    ProfessionalDraft::new(a).to_professional().unwrap()
}

#[test]
fn corrections_are_checked_and_overlaid_without_touching_imports() {
    let p = professional();
    let key = p.places[0].key.clone();
    let place = Some(key.as_str());
    let corrections = vec![
        Correction::new(CorrectableField::Phone, place, "02 54 11 22 33").unwrap(),
        Correction::new(CorrectableField::Email, place, "").unwrap(),
        Correction::new(CorrectableField::ExerciseMode, place, "S").unwrap(),
        Correction::new(CorrectableField::CommuneCode, place, "41295").unwrap(),
        Correction::new(CorrectableField::Mssante, None, "Anais.Lefevre@medecin.mssante.fr").unwrap(),
        Correction::new(CorrectableField::SnpParticipant, None, "oui").unwrap(),
        Correction::new(CorrectableField::Phone, Some("closed-place"), "0102030405").unwrap(),
        Correction::new(CorrectableField::Phone, place, "0254999999").unwrap(),
    ];
    let e = effective(&p, &corrections);
    let ep = &e.places[0];
    assert_eq!(ep.phone, Sourced { value: Some("0254999999".into()), corrected: true });
    assert_eq!(ep.email, Sourced { value: None, corrected: true });
    assert_eq!(ep.exercise_mode.value, ExerciseMode::Salarie);
    assert_eq!(ep.commune_code.value.unwrap().as_str(), "41295");
    assert_eq!(ep.commune_label, None);
    assert_eq!(ep.address_line1, Sourced { value: Some("6B Rue DU GÉNÉRAL DE GAULLE".into()), corrected: false });
    assert_eq!(e.mssante.value.as_deref(), Some("anais.lefevre@medecin.mssante.fr"));
    assert_eq!(e.snp_participant, Sourced { value: Some(true), corrected: true });
    assert_eq!(e.accepts_new_patients, Sourced { value: None, corrected: false });
    assert_eq!(e.orphaned.len(), 1);
    assert_eq!(e.orphaned[0].place.as_deref(), Some("closed-place"));
    // The imported data is untouched: a re-import replaces it, the corrections stay.
    assert_eq!(p.places[0].phone.as_deref(), Some("0254000000"));
    let reimported = professional();
    assert_eq!(effective(&reimported, &corrections), e);
}

#[test]
fn bad_corrections_say_why() {
    use CorrectableField as F;
    let place = Some("R1");
    for (field, place, value) in [
        (F::Phone, place, "call me"),
        (F::Email, place, "not-an-email"),
        (F::Mssante, None, "dr@gmail.com"),
        (F::PostalCode, place, "4100"),
        (F::CommuneCode, place, "4101"),
        (F::ExerciseMode, place, "X"),
        (F::SnpParticipant, None, "peut-être"),
        (F::AddressLine1, place, ""),
        (F::Phone, None, "0102030405"),
        (F::Mssante, place, "a@b.mssante.fr"),
    ] {
        let e = Correction::new(field, place, value).unwrap_err();
        assert!(!e.en.is_empty() && !e.fr.is_empty(), "{field:?} {value:?}");
    }
    assert_eq!(Correction::new(F::Email, place, " Contact@Exemple.FR ").unwrap().value, "contact@exemple.fr");
    assert_eq!(Correction::new(F::Phone, place, "+33 2 54 00 00 00").unwrap().value, "+33254000000");
    assert_eq!(Correction::new(F::AcceptsNewPatients, None, "NON").unwrap().value, "false");
    for f in CorrectableField::ALL {
        assert_eq!(f.code().parse::<CorrectableField>().unwrap(), f);
    }
}

#[test]
fn membership_rules() {
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut m = Membership {
        joined_on: d(2025, 3, 1),
        left_on: None,
        status: MembershipStatus::Active,
        dues_paid_until: Some(d(2025, 12, 31)),
        profession_referent: true,
        board_role: Some("trésorière".into()),
    };
    assert!(m.check().is_ok());
    assert!(m.is_member_on(d(2025, 6, 1)) && !m.is_member_on(d(2025, 2, 28)));
    assert!(m.dues_paid_on(d(2025, 12, 31)) && !m.dues_paid_on(d(2026, 1, 1)));
    m.status = MembershipStatus::Left;
    assert!(m.check().is_err());
    m.left_on = Some(d(2025, 2, 1));
    assert!(m.check().unwrap_err().fr.contains("antérieure"));
    m.left_on = Some(d(2025, 9, 30));
    assert!(m.check().is_ok());
    assert!(m.is_member_on(d(2025, 9, 30)) && !m.is_member_on(d(2025, 10, 1)));
    m.status = MembershipStatus::Suspended;
    assert!(m.check().is_err());
}

#[test]
fn structure_kinds_have_codes_and_labels() {
    for k in StructureKind::ALL {
        assert_eq!(k.code().parse::<StructureKind>().unwrap(), k);
        assert_eq!(serde_json::to_value(k).unwrap(), k.code());
        assert!(!k.fr().is_empty());
    }
    assert_eq!(StructureKind::Msp.fr(), "Maison de santé pluriprofessionnelle (MSP)");
    assert!("maison".parse::<StructureKind>().is_err());
}
