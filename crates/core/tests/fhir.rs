//! The FHIR R4 export of the directory (`directory::fhir`): shape, identifiers, deduplication,
//! determinism, corrections. `tests/fhir_validate.rs` runs an independent validator on it.

mod fhir_fixtures;

use fhir_fixtures::*;
use maillage_core::directory::fhir::*;
use maillage_core::directory::{EffectiveProfessional, effective};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn bundle() -> Bundle {
    directory_bundle(&directory(), generated_at(), BASE).unwrap()
}

fn to_json(bundle: &Bundle) -> Value {
    serde_json::to_value(bundle).unwrap()
}

/// The resource with this type and id, as JSON.
fn resource(bundle: &Value, kind: &str, id: &str) -> Value {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == kind && r["id"] == id)
        .unwrap_or_else(|| panic!("no {kind}/{id}"))
        .clone()
}

fn of_type(bundle: &Value, kind: &str) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

fn ids(resources: &[Value]) -> Vec<String> {
    resources.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

fn role_of(bundle: &Value, practitioner: &str, organization: Option<&str>) -> Value {
    of_type(bundle, "PractitionerRole")
        .into_iter()
        .find(|r| {
            r["practitioner"]["reference"] == format!("Practitioner/{practitioner}")
                && organization.is_none_or(|o| r["organization"]["reference"] == format!("Organization/{o}"))
        })
        .unwrap_or_else(|| panic!("no role of {practitioner} at {organization:?}"))
}

#[test]
fn a_collection_of_the_four_resource_types_with_full_urls() {
    let b = bundle();
    let j = to_json(&b);
    assert_eq!(j["resourceType"], "Bundle");
    assert_eq!(j["type"], "collection");
    assert_eq!(j["timestamp"], "2026-03-14T09:26:53Z");
    let text = serde_json::to_string(&b).unwrap();
    assert!(text.starts_with(r#"{"resourceType":"Bundle","#), "{}", &text[..60]);

    assert_eq!(ids(&of_type(&j, "Practitioner")), ["0789310596", "810000000008", "810002909371", "810003456789"]);
    assert_eq!(of_type(&j, "PractitionerRole").len(), 5, "one role per practice place");
    assert_eq!(ids(&of_type(&j, "Organization")), ["ans-R10002909371001", "finess-060016219", "siret-73282932000074"]);
    assert_eq!(of_type(&j, "Location").len(), 3, "the GP's cabinet and the psychologist share an address");

    // Entries: grouped by type, fullUrl = base/type/id, each once; every resource serializes
    // with resourceType first.
    let mut urls = BTreeSet::new();
    for e in j["entry"].as_array().unwrap() {
        let r = &e["resource"];
        let url = format!("{BASE}/{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap());
        assert_eq!(e["fullUrl"], url.as_str());
        assert!(urls.insert(url.clone()), "duplicate {url}");
        let id = r["id"].as_str().unwrap();
        assert!(id.len() <= 64 && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.'), "{id}");
    }
    for e in &b.entry {
        assert!(serde_json::to_string(&e.resource).unwrap().starts_with(r#"{"resourceType":"#));
    }
    let order: Vec<&str> = b.entry.iter().map(|e| e.resource.resource_type()).collect();
    let mut grouped = order.clone();
    grouped.dedup();
    assert_eq!(grouped, ["Practitioner", "PractitionerRole", "Organization", "Location"]);

    // Every reference names an entry of the bundle.
    let mut references = Vec::new();
    for role in of_type(&j, "PractitionerRole") {
        references.push(role["practitioner"]["reference"].clone());
        references.push(role["organization"]["reference"].clone());
        references.extend(role["location"].as_array().into_iter().flatten().map(|l| l["reference"].clone()));
    }
    let mut resolved = 0;
    for r in references.iter().filter_map(Value::as_str) {
        assert!(urls.contains(&format!("{BASE}/{r}")), "{r} does not resolve");
        resolved += 1;
    }
    assert_eq!(resolved, 5 + 4 + 4, "practitioner ×5, organization ×4, location ×4");
}

#[test]
fn practitioners_carry_the_national_identifiers() {
    let j = to_json(&bundle());
    let gp = resource(&j, "Practitioner", "810002909371");
    assert_eq!(
        gp["identifier"],
        json!([
            {"use": "official", "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "IDNPS"}]},
             "system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810002909371"},
            {"use": "official", "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "RPPS"}]},
             "system": "https://rpps.esante.gouv.fr", "value": "10002909371"},
        ])
    );
    assert_eq!(gp["active"], true);
    assert_eq!(
        gp["name"],
        json!([{"use": "usual", "family": "LEFÈVRE-N'DIAYE", "given": ["Anaïs"], "suffix": ["DR"]}])
    );
    assert_eq!(
        gp["qualification"],
        json!([
            {"code": {"coding": [{"system": TRE_G15_PROFESSION_SANTE, "code": "10", "display": "Médecin"}]}},
            {"code": {"coding": [
                {"system": TRE_R04_TYPE_SAVOIR_FAIRE, "code": "S"},
                {"system": TRE_R38_SPECIALITE_ORDINALE, "code": "SM54", "display": "Médecine générale"},
            ]}},
        ])
    );
    assert!(gp.get("telecom").is_none(), "no MSSanté address, no telecom");

    // ADELI: the IDNPS is 0 + ADELI, with no RPPS identifier; a protected title (TRE_R95).
    let psy = resource(&j, "Practitioner", "0789310596");
    let identifiers = psy["identifier"].as_array().unwrap();
    assert_eq!(identifiers.len(), 1);
    assert_eq!(
        (identifiers[0]["system"].as_str(), identifiers[0]["value"].as_str()),
        (Some(IDNPS_SYSTEM), Some("0789310596"))
    );
    assert_eq!(psy["name"][0]["prefix"], json!(["MME"]));
    assert_eq!(psy["name"][0]["family"], "Élisabeth-Ørsted");
    assert_eq!(psy["qualification"][0]["code"]["coding"][0]["system"], TRE_R95_USAGER_TITRE);

    // Unknown profession code: text only; no given name; trimmed family name; a capacity keeps
    // its kind coded and its code as text.
    let odd = resource(&j, "Practitioner", "810000000008");
    assert_eq!(odd["name"], json!([{"use": "usual", "family": "O'BRIEN"}]));
    assert_eq!(odd["qualification"][0]["code"], json!({"text": "Profession à venir (99)"}));
    assert_eq!(
        odd["qualification"][1]["code"],
        json!({"coding": [{"system": TRE_R04_TYPE_SAVOIR_FAIRE, "code": "CAPA"}], "text": "Gérontologie (CAPA12)"})
    );
}

#[test]
fn organizations_carry_finess_siret_and_the_technical_id_once_each() {
    let j = to_json(&bundle());
    let hospital = resource(&j, "Organization", "finess-060016219");
    let ident = |kind: &str, system: &str, value: &str| json!({"use": "official", "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": kind}]}, "system": system, "value": value});
    assert_eq!(
        hospital["identifier"],
        json!([
            ident("IDNST", "urn:oid:1.2.250.1.71.4.2.2", "1060016219"),
            ident("FINEG", FINESS_SYSTEM, HOSPITAL_FINESS),
            ident("INTRN", ANS_STRUCTURE_SYSTEM, "F060016219"),
        ])
    );
    assert_eq!(hospital["name"], "CENTRE HOSPITALIER DE L'ÎLE");

    let sel = resource(&j, "Organization", "siret-73282932000074");
    assert_eq!(
        sel["identifier"],
        json!([ident("IDNST", IDNST, "373282932000074"), ident("SIRET", SIRENE_SYSTEM, SEL_SIRET)])
    );

    // The cabinet has no SIRET: its technical id only.
    let cabinet = resource(&j, "Organization", "ans-R10002909371001");
    assert_eq!(cabinet["identifier"], json!([ident("INTRN", ANS_STRUCTURE_SYSTEM, "R10002909371001")]));
}

#[test]
fn structures_and_addresses_are_deduplicated() {
    let j = to_json(&bundle());
    // The nurse's place names the hospital by FINESS only; the GP's by technical id and FINESS:
    // one organization, referenced by both roles.
    let gp_hospital = role_of(&j, "810002909371", Some("finess-060016219"));
    let nurse = role_of(&j, "810003456789", None);
    assert_eq!(nurse["organization"]["reference"], "Organization/finess-060016219");
    assert_eq!(nurse["organization"]["display"], "CENTRE HOSPITALIER DE L'ÎLE");
    assert_ne!(gp_hospital["id"], nurse["id"]);

    // Same street, other case and spacing: one location.
    let gp_cabinet = role_of(&j, "810002909371", Some("ans-R10002909371001"));
    let psy = role_of(&j, "0789310596", Some("siret-73282932000074"));
    assert_eq!(gp_cabinet["location"], psy["location"]);
    let location = gp_cabinet["location"][0]["reference"].as_str().unwrap().trim_start_matches("Location/").to_owned();
    let loc = resource(&j, "Location", &location);
    assert_eq!(loc["status"], "active");
    assert_eq!(loc["mode"], "instance");
    assert_eq!(
        loc["address"],
        json!({
            "extension": [{"url": EXT_ADDRESS_INSEE_CODE, "valueCoding": {"system": TRE_R13_COMMUNE_OM, "code": "41018"}}],
            "use": "work", "line": ["6 B Rue du Général de Gaulle"], "city": "Blois", "postalCode": "41000",
        }),
        "the spelling of the first professional in national-id order (RPPS before ADELI) is kept"
    );

    // No structure id but a name: a display-only reference; no address: no location.
    let odd = role_of(&j, "810000000008", None);
    assert_eq!(odd["organization"], json!({"display": "Équipe mobile"}));
    assert!(odd.get("location").is_none());
    assert!(odd.get("telecom").is_none(), "blank e-mail, no phone");
}

#[test]
fn roles_carry_profession_mode_role_and_contacts() {
    let j = to_json(&bundle());
    let cabinet = role_of(&j, "810002909371", Some("ans-R10002909371001"));
    assert_eq!(cabinet["active"], true);
    assert_eq!(
        cabinet["practitioner"],
        json!({"reference": "Practitioner/810002909371", "display": "Anaïs LEFÈVRE-N'DIAYE"})
    );
    assert_eq!(
        cabinet["code"],
        json!([
            {"coding": [{"system": TRE_G15_PROFESSION_SANTE, "code": "10", "display": "Médecin"}]},
            {"coding": [{"system": TRE_R23_MODE_EXERCICE, "code": "L"}]},
            {"text": "Titulaire de cabinet"},
        ])
    );
    assert_eq!(cabinet["specialty"][0]["coding"][1]["code"], "SM54");
    assert_eq!(
        cabinet["telecom"],
        json!([
            {"system": "phone", "value": "02 54 00 00 00", "use": "work"},
            {"system": "email", "value": "cabinet.lefevre@example.org", "use": "work"},
        ])
    );
    // Empty phone and no e-mail at the hospital: no telecom at all.
    let hospital = role_of(&j, "810002909371", Some("finess-060016219"));
    assert!(hospital.get("telecom").is_none());
    assert_eq!(hospital["code"][1]["coding"][0]["code"], "S");
    // Role ids: national id and a hash of the place key.
    let id = cabinet["id"].as_str().unwrap();
    assert!(id.starts_with("810002909371-") && id.len() == 12 + 1 + 16, "{id}");
}

#[test]
fn corrections_are_applied() {
    let j = to_json(&bundle());
    let nurse = resource(&j, "Practitioner", "810003456789");
    assert_eq!(
        nurse["telecom"],
        json!([{
            "extension": [{"url": EXT_EMAIL_TYPE, "valueCoding": {"system": TRE_R256_TYPE_MESSAGERIE, "code": "MSSANTE"}}],
            "system": "email", "value": "jean.martin@infirmier.mssante.fr", "use": "work",
        }])
    );
    assert_eq!(nurse["name"][0]["prefix"], json!(["M"]));
    let role = role_of(&j, "810003456789", None);
    assert_eq!(role["telecom"], json!([{"system": "phone", "value": "0612345678", "use": "work"}]), "e-mail cleared");
    assert_eq!(role["code"][1]["coding"][0]["code"], "L");
    let location = role["location"][0]["reference"].as_str().unwrap().trim_start_matches("Location/").to_owned();
    // The corrected commune has no imported label: the reference communes name it.
    assert_eq!(
        resource(&j, "Location", &location)["address"],
        json!({
            "extension": [{"url": EXT_ADDRESS_INSEE_CODE, "valueCoding": {"system": TRE_R13_COMMUNE_OM, "code": "41018"}}],
            "use": "work", "line": ["12 Rue Porte Chartraine"], "city": "Blois", "postalCode": "41000",
        })
    );

    // Without the corrections, the imported values.
    let imported = directory_bundle(&[effective(&fhir_fixtures::nurse(), &[])], generated_at(), BASE).unwrap();
    let j = to_json(&imported);
    let role = role_of(&j, "810003456789", None);
    assert_eq!(role["telecom"][0]["value"], "04 93 00 00 00");
    assert_eq!(role["telecom"][1]["value"], "j.martin@example.org");
    assert!(resource(&j, "Practitioner", "810003456789").get("telecom").is_none());
}

#[test]
fn output_is_deterministic_and_independent_of_input_order() {
    let mut professionals = directory();
    let first = serde_json::to_string(&directory_bundle(&professionals, generated_at(), BASE).unwrap()).unwrap();
    professionals.reverse();
    let reversed = serde_json::to_string(&directory_bundle(&professionals, generated_at(), BASE).unwrap()).unwrap();
    assert_eq!(first, reversed);
    professionals.rotate_left(1);
    let rotated = serde_json::to_string(&directory_bundle(&professionals, generated_at(), BASE).unwrap()).unwrap();
    assert_eq!(first, rotated);

    // Ids depend on the data only: each professional exported alone gets the ids of the full
    // bundle, and the same Practitioner and PractitionerRoles. (Shared organizations and
    // locations may be named or spelled after another professional in the full bundle.)
    let full: Value = serde_json::from_str(&first).unwrap();
    for p in &professionals {
        let alone = to_json(&directory_bundle(std::slice::from_ref(p), generated_at(), BASE).unwrap());
        for e in alone["entry"].as_array().unwrap() {
            let mut r = e["resource"].clone();
            let mut same = resource(&full, r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap());
            match r["resourceType"].as_str().unwrap() {
                "Organization" | "Location" => continue,
                "PractitionerRole" => {
                    for x in [&mut r, &mut same] {
                        if let Some(o) = x.get_mut("organization").and_then(Value::as_object_mut) {
                            o.remove("display");
                        }
                    }
                }
                _ => {}
            }
            assert_eq!(r, same);
        }
    }
}

#[test]
fn a_repeated_professional_is_exported_once_and_an_empty_directory_is_an_empty_bundle() {
    let mut professionals: Vec<EffectiveProfessional> = directory();
    professionals.push(professionals[0].clone());
    let j = to_json(&directory_bundle(&professionals, generated_at(), BASE).unwrap());
    assert_eq!(of_type(&j, "Practitioner").len(), 4);
    assert_eq!(of_type(&j, "PractitionerRole").len(), 5);

    let empty = to_json(&directory_bundle(&[], generated_at(), "http://localhost:8080/").unwrap());
    assert_eq!(
        empty,
        json!({"resourceType": "Bundle", "type": "collection", "timestamp": "2026-03-14T09:26:53Z", "entry": []})
    );
}

#[test]
fn the_base_url_is_checked() {
    let e = directory_bundle(&directory(), generated_at(), "cpts.example").unwrap_err();
    assert!(e.en.contains("\"cpts.example\"") && e.fr.contains("cpts.example"), "{e:?}");
    let b = directory_bundle(&directory(), generated_at(), "https://cpts.example/fhir/").unwrap();
    assert!(
        b.entry.iter().all(|e| e.full_url.starts_with("https://cpts.example/fhir/") && !e.full_url.contains("//P"))
    );
}
