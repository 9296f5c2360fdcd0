//! Same-day care through the JSON API: a coordinator publishes professionals' availability,
//! searches slots near a commune (nearest practice first, then soonest), books (the `.ics`
//! confirmation comes back, the booking is audited), a full slot, a bad intake and a started
//! slot are refused; the GP linked to her profile lists her own bookings and reads her feed;
//! cancellation frees the place; the outcome is recorded once the slot has started; and who
//! may see what.

use crate::directory::{DUPUIS, MARTIN, seed_directory};
use crate::helpers::*;
use crate::patients::{account_id, system_event};
use maillage_store::{AuditStore, DirectoryStore, SnpStore};
use serde_json::{Value, json};

/// Dr Martin (GP, Blois): Tuesdays 09:30–10:30 and 14:00–16:00, 30-minute slots at the
/// practice, one patient each.
pub(crate) fn martin_week() -> Value {
    let range = |start: &str, end: &str| {
        json!({
            "weekday": "Tue", "start": start, "end": end, "slot_minutes": 30, "capacity": 1,
            "place": "cabinet", "audiences": ["snp", "cpts"], "valid_from": "2026-11-01", "valid_until": null
        })
    };
    json!({ "weekly": [range("09:30:00", "10:30:00"), range("14:00:00", "16:00:00")] })
}

/// Mr Dupuis (nurse, La Chaussée-Saint-Victor): Tuesdays 15:00–16:00, home visits.
pub(crate) fn dupuis_week() -> Value {
    json!({ "weekly": [{
        "weekday": "Tue", "start": "15:00:00", "end": "16:00:00", "slot_minutes": 30, "capacity": 2,
        "place": "domicile", "audiences": ["snp"], "valid_from": "2026-11-01", "valid_until": null
    }] })
}

pub(crate) fn intake(slot: &str) -> Value {
    json!({
        "slot": slot, "reason": "fievre", "commune": "41018", "phone": "06 12 34 56 78",
        "referrer": "regulation", "note": "Fièvre depuis hier ; pas de médecin traitant"
    })
}

pub(crate) struct Api<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

impl Api<'_> {
    pub(crate) async fn send(&self, token: &str, r: reqwest::RequestBuilder) -> (u16, String) {
        let r = r.bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> (u16, String) {
        self.send(token, self.http.get(self.app.url(&format!("{}{path}", self.base)))).await
    }

    pub(crate) async fn put(&self, token: &str, path: &str, body: &Value) -> (u16, String) {
        self.send(token, self.http.put(self.app.url(&format!("{}{path}", self.base))).json(body)).await
    }

    pub(crate) async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, String) {
        self.send(token, self.http.post(self.app.url(&format!("{}{path}", self.base))).json(body)).await
    }
}

pub(crate) fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Parses a feed with Python's `icalendar` when it is installed (an independent RFC 5545
/// parser); returns the events' (UID, DTSTART, SUMMARY), or `None` when the package is missing.
fn python_icalendar(ics: &str) -> Option<Vec<String>> {
    let present = std::process::Command::new("python3")
        .args(["-c", "import icalendar"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !present {
        // scripts/test installs it and sets this: there, a missing parser is a failure.
        assert!(
            std::env::var_os("MAILLAGE_REQUIRE_ICALENDAR").is_none(),
            "python3 cannot import icalendar (pip install -r tools/ical/requirements.txt)"
        );
        eprintln!("python icalendar not installed: the feed's structure is checked in Rust only");
        return None;
    }
    let file = std::env::temp_dir().join(format!("maillage-feed-{}.ics", uuid::Uuid::new_v4()));
    std::fs::write(&file, ics).unwrap();
    let script = "import sys, icalendar\n\
        cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\n\
        assert cal.get('X-WR-CALNAME')\n\
        for e in cal.walk('VEVENT'):\n\
        \x20   print(str(e['UID']) + '|' + e.decoded('DTSTART').strftime('%Y%m%dT%H%M%SZ') + '|' + str(e['SUMMARY']))\n";
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&file).output().unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect())
}

#[tokio::test]
async fn a_coordinator_publishes_searches_and_books() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let coordinator = app.api_token("coordinator").await;
        let api = Api { app: &app, http: reqwest::Client::new(), base: format!("/api/v1/cpts/{b}/snp") };
        let martin = format!("/availability/{MARTIN}");

        // Publish, then replace at the revision read; a second creation and a stale revision
        // are refused.
        let (status, body) = api.put(&coordinator, &martin, &martin_week()).await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(parse(&body)["revision"], 1);
        assert_eq!(api.put(&coordinator, &martin, &martin_week()).await.0, 409, "already published");
        let mut again = martin_week();
        again["revision"] = json!(1);
        let (status, body) = api.put(&coordinator, &martin, &again).await;
        assert_eq!((status, parse(&body)["revision"].clone()), (200, json!(2)), "{body}");
        assert_eq!(api.put(&coordinator, &martin, &again).await.0, 409, "stale revision");
        let (status, body) = api.get(&coordinator, &martin).await;
        assert_eq!(status, 200);
        assert_eq!(parse(&body)["weekly"].as_array().unwrap().len(), 2);

        // Every problem at once: a range ending before it starts, a length that does not divide.
        let bad = json!({ "revision": 2, "weekly": [
            { "weekday": "Wed", "start": "12:00:00", "end": "11:00:00", "slot_minutes": 30, "capacity": 1,
              "place": "cabinet", "audiences": ["snp"], "valid_from": "2026-11-01", "valid_until": null },
            { "weekday": "Thu", "start": "08:00:00", "end": "12:10:00", "slot_minutes": 20, "capacity": 1,
              "place": "cabinet", "audiences": ["snp"], "valid_from": "2026-11-01", "valid_until": null }
        ] });
        let (status, body) = api.put(&coordinator, &martin, &bad).await;
        assert_eq!(status, 422, "{body}");
        let error = parse(&body);
        let paths: Vec<String> = error["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap().to_owned())
            .collect();
        assert!(paths.iter().any(|p| p.starts_with("weekly[0].")), "{body}");
        assert!(paths.iter().any(|p| p.starts_with("weekly[1].")), "{body}");
        assert_eq!(
            store.availability(&b, maillage_core::snp::ProfessionalId(10001234567)).await.unwrap().unwrap().revision,
            2
        );
        // Not an RPPS.
        assert_eq!(api.put(&coordinator, "/availability/0123456789", &martin_week()).await.0, 422);

        let (status, body) = api.put(&coordinator, &format!("/availability/{DUPUIS}"), &dupuis_week()).await;
        assert_eq!(status, 200, "{body}");

        // Tuesday 24 November 2026, 10:00 in Paris. Near La Chaussée-Saint-Victor: Mr Dupuis
        // practises there (0 km), then Dr Martin in Blois, each by time.
        let (status, body) = api.get(&coordinator, "/slots?commune=41047").await;
        assert_eq!(status, 200, "{body}");
        let slots = parse(&body);
        let slots = slots.as_array().unwrap();
        let seen: Vec<(&str, &str)> =
            slots.iter().map(|s| (s["professional"].as_str().unwrap(), s["start_paris"].as_str().unwrap())).collect();
        assert_eq!(
            seen,
            [
                (DUPUIS, "2026-11-24T15:00"),
                (DUPUIS, "2026-11-24T15:30"),
                (MARTIN, "2026-11-24T10:00"),
                (MARTIN, "2026-11-24T14:00"),
                (MARTIN, "2026-11-24T14:30"),
                (MARTIN, "2026-11-24T15:00"),
                (MARTIN, "2026-11-24T15:30"),
            ],
            "{body}"
        );
        assert_eq!(slots[0]["distance_km"], 0.0);
        assert_eq!(slots[0]["place"], "domicile");
        assert!(slots[2]["distance_km"].as_f64().unwrap() > 0.0);
        assert_eq!(slots[2]["professional_name"], "Dr Élise Martin");
        assert_eq!(slots[3]["start"], "2026-11-24T13:00:00Z");
        // Filters: doctors only, within 1 km (nobody), a bad commune.
        let (_, body) = api.get(&coordinator, "/slots?commune=41047&profession=10").await;
        assert_eq!(parse(&body).as_array().unwrap().len(), 5, "{body}");
        let (_, body) = api.get(&coordinator, "/slots?commune=41047&profession=10&max_km=1").await;
        assert_eq!(parse(&body).as_array().unwrap().len(), 0, "{body}");
        let (status, body) = api.get(&coordinator, "/slots?commune=99999").await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(parse(&body)["error"]["details"][0]["path"], "commune");

        // Book Dr Martin at 14:00: the confirmation names no patient; the booking is audited.
        let slot = slots[3]["slot"].as_str().unwrap().to_owned();
        assert_eq!(slot, "p10001234567-20261124T1400-C");
        let before = store.audit_count(Some(&b)).await.unwrap();
        let (status, body) = api.post(&coordinator, "/bookings", &intake(&slot)).await;
        assert_eq!(status, 201, "{body}");
        let booked = parse(&body);
        let first = booked["booking"]["id"].as_str().unwrap().to_owned();
        assert_eq!(booked["booking"]["professional"], MARTIN);
        assert_eq!(booked["booking"]["phone"], "0612345678");
        let ics = booked["ics"].as_str().unwrap();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
        assert!(ics.contains("DTSTART:20261124T130000Z\r\n") && ics.contains("DTEND:20261124T133000Z\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:SNP – Fièvre (au cabinet)"), "{ics}");
        assert!(!ics.contains("0612345678") && !ics.contains("Fièvre depuis"), "no patient data: {ics}");
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 1, "the booking is audited");

        // Full, a bad intake, a started slot, a slot nobody publishes.
        let (status, body) = api.post(&coordinator, "/bookings", &intake(&slot)).await;
        assert_eq!(status, 409, "{body}");
        assert!(parse(&body)["error"]["message_fr"].as_str().unwrap().contains("complet"), "{body}");
        let bad = json!({ "slot": "p10001234567-20261124T1430-C", "reason": "grippe", "commune": "41999" });
        let (status, body) = api.post(&coordinator, "/bookings", &bad).await;
        assert_eq!(status, 422, "{body}");
        let error = parse(&body);
        let paths: Vec<&str> =
            error["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
        for field in ["reason", "commune", "phone", "referrer"] {
            assert!(paths.contains(&field), "{field}: {body}");
        }
        let (status, body) = api.post(&coordinator, "/bookings", &intake("p10001234567-20261124T0930-C")).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(parse(&body)["error"]["code"], "slot_started");
        let (status, _) = api.post(&coordinator, "/bookings", &intake("p10001234567-20261125T0930-C")).await;
        assert_eq!(status, 404, "not published");
        let (_, body) = api.get(&coordinator, "/slots?commune=41047&profession=10").await;
        assert!(!body.contains(&slot), "a full slot is not offered: {body}");

        // Cancelling frees the place; twice is refused.
        let (status, body) = api.post(&coordinator, "/bookings", &intake("p10001234567-20261124T1530-C")).await;
        assert_eq!(status, 201, "{body}");
        let second = parse(&body)["booking"]["id"].as_str().unwrap().to_owned();
        let (status, body) = api.post(&coordinator, &format!("/bookings/{second}/cancel"), &json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert!(parse(&body)["cancelled_at"].is_string(), "{body}");
        assert_eq!(api.post(&coordinator, &format!("/bookings/{second}/cancel"), &json!({})).await.0, 409);
        let (status, body) = api.post(&coordinator, "/bookings", &intake("p10001234567-20261124T1530-C")).await;
        assert_eq!(status, 201, "the place is free again: {body}");
        assert_eq!(api.post(&coordinator, "/bookings/b-0000000000000000/cancel", &json!({})).await.0, 404);

        // The operators see every booking (audited).
        let before = store.audit_count(Some(&b)).await.unwrap();
        let (status, body) = api.get(&coordinator, "/bookings").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(parse(&body).as_array().unwrap().len(), 3, "cancelled included: {body}");
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 1);

        // Dr Martin, linked to her profile: her bookings and her feed.
        let gp_id = account_id(&store, "member").await;
        store.link_account_professional(&b, &gp_id, MARTIN, &system_event(&b)).await.unwrap();
        let gp = app.api_token("member").await;
        let (status, body) = api.get(&gp, "/bookings").await;
        assert_eq!(status, 200, "{body}");
        let own = parse(&body);
        assert_eq!(own.as_array().unwrap().len(), 3);
        assert!(own.as_array().unwrap().iter().all(|b| b["professional"] == MARTIN));
        let r = api.http.get(app.url(&format!("{}/agenda.ics", api.base))).bearer_auth(&gp).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
        let feed = r.text().await.unwrap();
        assert!(feed.contains("X-WR-CALNAME:SNP – Dr Élise Martin\r\n"), "{feed}");
        assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2, "the cancelled booking is left out: {feed}");
        assert!(!feed.contains("0612345678") && !feed.contains("Fièvre depuis"), "no patient: {feed}");
        assert!(feed.split("\r\n").all(|l| l.len() <= 75), "folded: {feed}");
        if let Some(events) = python_icalendar(&feed) {
            assert_eq!(events.len(), 2, "{events:?}");
            assert!(
                events[0].starts_with(&format!("{first}.{b}@maillage|20261124T130000Z|SNP – Fièvre")),
                "{events:?}"
            );
        }
        let (status, _) = api.get(&coordinator, &format!("/agenda.ics?professional={MARTIN}")).await;
        assert_eq!(status, 200);

        // The outcome once the slot has started: the professional records it.
        let outcome = format!("/bookings/{first}/outcome");
        let (status, body) = api.post(&gp, &outcome, &json!({ "outcome": "vu" })).await;
        assert_eq!(status, 422, "not started yet: {body}");
        app.clock.advance(chrono::Duration::hours(5));
        let (status, body) = api.post(&gp, &outcome, &json!({ "outcome": "autre" })).await;
        assert_eq!(status, 422, "a note is required: {body}");
        assert_eq!(parse(&body)["error"]["details"][0]["path"], "note");
        let (status, body) = api.post(&gp, &outcome, &json!({ "outcome": "vu" })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(parse(&body)["outcome"], "vu");
        assert_eq!(api.post(&coordinator, &format!("/bookings/{first}/cancel"), &json!({})).await.0, 409);

        // The GP acts for herself only.
        let dupuis = format!("/availability/{DUPUIS}");
        assert_eq!(api.put(&gp, &dupuis, &dupuis_week()).await.0, 403);
        assert_eq!(api.get(&gp, &dupuis).await.0, 403);
        assert_eq!(api.get(&gp, &format!("/agenda.ics?professional={DUPUIS}")).await.0, 403);
        assert_eq!(api.get(&gp, "/slots?commune=41047").await.0, 403, "operators search");
        assert_eq!(api.post(&gp, "/bookings", &intake("p10001234567-20261201T1400-C")).await.0, 403);
        let mut own_week = martin_week();
        own_week["revision"] = json!(2);
        assert_eq!(api.put(&gp, &martin, &own_week).await.0, 200, "her own");
    }
}

#[tokio::test]
async fn observers_and_other_tenants_see_nothing() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let api = Api { app: &app, http: reqwest::Client::new(), base: format!("/api/v1/cpts/{b}/snp") };
        let paths = [
            format!("/availability/{MARTIN}"),
            "/slots?commune=41018".to_owned(),
            "/bookings".to_owned(),
            format!("/agenda.ics?professional={MARTIN}"),
        ];
        for (who, expected) in [("ars-centre", 403), ("national", 403), ("coordinator-vendome", 404)] {
            let token = app.api_token(who).await;
            for path in &paths {
                assert_eq!(api.get(&token, path).await.0, expected, "{engine:?} {who} {path}");
            }
            assert_eq!(api.put(&token, &paths[0], &martin_week()).await.0, expected, "{who}");
            assert_eq!(api.post(&token, "/bookings", &intake("p10001234567-20261124T1400-C")).await.0, expected);
        }
        // A member not linked to a profile.
        let member = app.api_token("member").await;
        assert_eq!(api.get(&member, "/bookings").await.0, 403);
        assert_eq!(api.put(&member, &paths[0], &martin_week()).await.0, 403);
        // Without a token.
        let r = api.http.get(app.url(&format!("{}/bookings", api.base))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
}
