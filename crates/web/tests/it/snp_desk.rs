//! The orientation desk through the JSON API: every call is a request (booked at once, waiting
//! then booked, sent elsewhere, given up), a cancellation puts the request back in the queue,
//! the indicators count them (within 24 hours, median delay, by weekday, hour and
//! profession), the FINESS reaches the SAS Bundle, and a professional's secret calendar
//! address opens her feed without a login until it is replaced or revoked.

use crate::directory::{DUPUIS, MARTIN, seed_directory};
use crate::helpers::*;
use crate::patients::{account_id, system_event};
use crate::snp::{Api, dupuis_week, intake, martin_week, parse};
use maillage_store::{AuditStore, DirectoryStore, Page};
use serde_json::{Value, json};

fn waiting_intake(commune: &str) -> Value {
    json!({ "reason": "douleur_aigue", "commune": commune, "phone": "0601020304", "referrer": "pharmacie" })
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_desk_records_orients_and_counts_requests() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let coordinator = app.api_token("coordinator").await;
        let api = Api { app: &app, http: reqwest::Client::new(), base: format!("/api/v1/cpts/{b}/snp") };
        assert_eq!(api.put(&coordinator, &format!("/availability/{MARTIN}"), &martin_week()).await.0, 200);
        assert_eq!(api.put(&coordinator, &format!("/availability/{DUPUIS}"), &dupuis_week()).await.0, 200);

        // Tuesday 24 November 2026, 10:00 Paris. A call booked at once: its request comes with it.
        let (status, body) = api.post(&coordinator, "/bookings", &intake("p10001234567-20261124T1400-C")).await;
        assert_eq!(status, 201, "{engine:?}: {body}");
        let booked_at_once = parse(&body)["booking"]["request"].as_str().unwrap().to_owned();

        // A call with no slot yet: it waits; then it is booked; booking it twice is refused.
        let (status, body) = api.post(&coordinator, "/requests", &waiting_intake("41047")).await;
        assert_eq!(status, 201, "{body}");
        let waiting = parse(&body);
        assert_eq!(waiting["status"], "en_attente");
        let waiting_id = waiting["id"].as_str().unwrap().to_owned();
        let (status, body) = api.get(&coordinator, "/requests/waiting").await;
        assert_eq!((status, ids(&parse(&body))), (200, vec![waiting_id.clone()]), "{body}");
        let slot = json!({ "slot": "p10005555555-20261124T1500-D" });
        let (status, body) = api.post(&coordinator, &format!("/requests/{waiting_id}/book"), &slot).await;
        assert_eq!(status, 201, "{body}");
        let home_visit = parse(&body)["booking"]["id"].as_str().unwrap().to_owned();
        assert_eq!(parse(&body)["booking"]["request"], waiting_id.as_str());
        assert_eq!(parse(&body)["booking"]["phone"], "0601020304", "the recorded intake is used");
        let (status, body) = api.post(&coordinator, &format!("/requests/{waiting_id}/book"), &slot).await;
        assert_eq!(status, 409, "{body}");
        assert!(parse(&body)["error"]["message_fr"].as_str().unwrap().contains("plus en attente"), "{body}");
        assert_eq!(api.post(&coordinator, "/requests/r-inconnue/book", &slot).await.0, 404);

        // Sent to the emergency department at once; a bad destination is refused; a waiting
        // request is given up, once.
        let mut urgent = waiting_intake("41018");
        urgent["closure"] = json!("urgences");
        let (status, body) = api.post(&coordinator, "/requests", &urgent).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            (parse(&body)["status"].clone(), parse(&body)["destination"].clone()),
            (json!("reorientee"), json!("urgences"))
        );
        urgent["closure"] = json!("ailleurs");
        let (status, body) = api.post(&coordinator, "/requests", &urgent).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("destination"), "{body}");
        let (_, body) = api.post(&coordinator, "/requests", &waiting_intake("41018")).await;
        let given_up = parse(&body)["id"].as_str().unwrap().to_owned();
        let close = |closure: &str| json!({ "closure": closure });
        let (status, body) = api.post(&coordinator, &format!("/requests/{given_up}/close"), &close("abandonnee")).await;
        assert_eq!((status, parse(&body)["status"].clone()), (200, json!("abandonnee")), "{body}");
        assert_eq!(api.post(&coordinator, &format!("/requests/{given_up}/close"), &close("urgences")).await.0, 409);
        assert_eq!(api.post(&coordinator, &format!("/requests/{given_up}/close"), &close("")).await.0, 422);
        // A bad intake keeps nothing.
        let (status, _) = api.post(&coordinator, "/requests", &json!({ "reason": "fievre", "commune": "99999" })).await;
        assert_eq!(status, 422);

        // Cancelling the home visit puts its request back in the queue.
        assert_eq!(api.post(&coordinator, &format!("/bookings/{home_visit}/cancel"), &json!({})).await.0, 200);
        let (_, body) = api.get(&coordinator, "/requests/waiting").await;
        assert_eq!(ids(&parse(&body)), vec![waiting_id.clone()]);
        let (status, _) = api
            .post(
                &coordinator,
                &format!("/requests/{waiting_id}/book"),
                &json!({ "slot": "p10005555555-20261124T1530-D" }),
            )
            .await;
        assert_eq!(status, 201);

        // The period's requests, audited.
        let before = store.audit_count(Some(&b)).await.unwrap();
        let (status, body) = api.get(&coordinator, "/requests").await;
        assert_eq!(status, 200, "{body}");
        let all = parse(&body);
        assert_eq!(all.as_array().unwrap().len(), 4, "{body}");
        assert!(ids(&all).contains(&booked_at_once));
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 1);
        assert_eq!(api.get(&coordinator, "/requests?from=2026-11-30&to=2026-11-01").await.0, 422);

        // The indicators: 4 requests on Tuesday at 10:00; two booked the same day (14:00 with
        // the GP, 15:30 with the nurse), one to the emergency department, one given up.
        app.clock.advance(chrono::Duration::hours(5)); // 15:00: the 14:00 slot has started
        let gp_booking = parse(&api.get(&coordinator, "/bookings").await.1)
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["request"] == booked_at_once.as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            api.post(&coordinator, &format!("/bookings/{gp_booking}/outcome"), &json!({ "outcome": "vu" })).await.0,
            200
        );
        let (status, body) = api.get(&coordinator, "/indicators").await;
        assert_eq!(status, 200, "{body}");
        let i = parse(&body);
        assert_eq!((i["from"].clone(), i["to"].clone()), (json!("2026-10-28"), json!("2026-11-24")), "{body}");
        assert_eq!(i["received"], 4);
        assert_eq!(
            (i["booked"].clone(), i["reoriented"].clone(), i["abandoned"].clone(), i["waiting"].clone()),
            (json!(2), json!(1), json!(1), json!(0))
        );
        assert_eq!(i["oriented"], 3);
        assert_eq!(i["within_24h"], 2);
        assert_eq!(i["within_24h_share"], 50.0);
        // 10:00 → 14:00 is 240 min, 10:00 → 15:30 is 330 min: the lower middle.
        assert_eq!(i["median_delay_minutes"], 240);
        assert_eq!(i["by_weekday"][1]["received"], 4);
        assert_eq!(i["by_hour"][10], json!({ "received": 4, "within_24h": 2 }));
        let professions: Vec<(String, u64)> = i["by_profession"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["code"].as_str().unwrap().to_owned(), p["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(professions.len(), 2, "{body}");
        assert!(professions.contains(&("10".into(), 1)), "{body}");
        assert_eq!(i["by_destination"][0]["code"], "urgences");
        assert_eq!(i["outcomes"][0], json!({ "code": "vu", "label": "Vu", "count": 1 }));
        assert_eq!(i["participating_professionals"], 2);
        assert_eq!(i["publishing_professionals"], 2);
        let (_, body) = api.get(&coordinator, "/indicators?from=2026-11-25&to=2026-11-30").await;
        assert_eq!(parse(&body)["received"], 0, "another period: {body}");

        // Who: the ARS of the région reads the indicators, not the requests; the national
        // observer neither; a member professional not the requests; another CPTS nothing.
        let ars = app.api_token("ars-centre").await;
        assert_eq!(api.get(&ars, "/indicators").await.0, 200);
        assert_eq!(api.get(&ars, "/requests").await.0, 403);
        assert_eq!(api.post(&ars, "/requests", &waiting_intake("41018")).await.0, 403);
        assert_eq!(api.get(&app.api_token("national").await, "/indicators").await.0, 403);
        let member = app.api_token("member").await;
        assert_eq!(api.get(&member, "/requests/waiting").await.0, 403);
        assert_eq!(api.get(&member, "/indicators").await.0, 403);
        let vendome = app.api_token("coordinator-vendome").await;
        assert_eq!(api.get(&vendome, "/requests").await.0, 404);
        assert_eq!(api.get(&vendome, "/indicators").await.0, 404);
        assert_eq!(api.post(&vendome, &format!("/requests/{waiting_id}/close"), &close("abandonnee")).await.0, 404);
    }
}

#[tokio::test]
async fn the_finess_reaches_the_sas_and_feed_addresses_open_calendars() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let coordinator = app.api_token("coordinator").await;
        let api = Api { app: &app, http: reqwest::Client::new(), base: format!("/api/v1/cpts/{b}/snp") };
        assert_eq!(api.put(&coordinator, &format!("/availability/{MARTIN}"), &martin_week()).await.0, 200);
        assert_eq!(api.post(&coordinator, "/bookings", &intake("p10001234567-20261124T1400-C")).await.0, 201);

        // FINESS: a wrong key is refused; a good one names the Organization in the SAS Bundle.
        let finess_url = app.url(&format!("/api/v1/cpts/{b}/finess"));
        let finess = |body: Value| api.send(&coordinator, api.http.put(finess_url.clone()).json(&body));
        let (status, body) = finess(json!({ "finess": "410000013" })).await;
        assert_eq!(status, 422, "{engine:?}: {body}");
        assert!(body.contains("finess"), "{body}");
        let (status, body) = finess(json!({ "finess": "410000012" })).await;
        assert_eq!((status, parse(&body)["finess"].clone()), (200, json!("410000012")), "{body}");
        let sas = app.url(&format!(
            "/api/v1/cpts/{b}/fhir/Slot?start=ge2026-11-24T00:00:00Z&status=free&_include=Slot:service-type-reference\
             &_include:iterate=HealthcareService:organization"
        ));
        let (status, body) = api.send(&coordinator, api.http.get(sas.clone())).await;
        assert_eq!(status, 200, "{body}");
        let bundle = parse(&body);
        let organization = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["resource"]["resourceType"] == "Organization")
            .unwrap()["resource"]
            .clone();
        assert_eq!(
            organization["identifier"][0],
            json!({ "use": "official", "system": "urn:oid:1.2.250.1.71.4.2.2", "value": "1410000012" })
        );
        // The booked 14:00 slot is not offered to the SAS; the others are.
        let slots: Vec<&str> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Slot")
            .map(|e| e["resource"]["id"].as_str().unwrap())
            .collect();
        assert!(
            !slots.contains(&"p10001234567-20261124T1400-C") && slots.contains(&"p10001234567-20261124T1430-C"),
            "{slots:?}"
        );
        assert_eq!(finess(json!({ "finess": "" })).await.0, 200, "cleared");

        // A secret calendar address for Dr Martin, made by the coordinator: no login needed.
        let before = store.audit_count(Some(&b)).await.unwrap();
        let (status, body) = api.post(&coordinator, &format!("/feed-token?professional={MARTIN}"), &json!({})).await;
        assert_eq!(status, 201, "{body}");
        let path = parse(&body)["path"].as_str().unwrap().to_owned();
        assert!(
            path.starts_with("/calendrier/") && path.ends_with(".ics") && path.len() == "/calendrier/".len() + 64 + 4,
            "{path}"
        );
        assert!(parse(&body)["url"].as_str().unwrap().ends_with(&path));
        let anonymous = reqwest::Client::new();
        let r = anonymous.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
        assert_eq!(r.headers()["cache-control"], "private, no-store");
        let feed = r.text().await.unwrap();
        assert_eq!(feed.matches("BEGIN:VEVENT").count(), 1, "{feed}");
        assert!(feed.contains("DTSTART:20261124T130000Z"), "{feed}");
        assert!(!feed.contains("0612345678"), "no patient in a feed: {feed}");
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 2, "the token made, the feed read");
        let events = store.audit_page(Some(&b), Page { offset: 0, limit: 500 }).await.unwrap();
        assert!(events.iter().any(|e| e.object_type == "snp_agenda" && e.account_id.is_none()), "{events:?}");

        // A new address replaces the old; a revoked one is gone; malformed ones are 404.
        let (_, body) = api.post(&coordinator, &format!("/feed-token?professional={MARTIN}"), &json!({})).await;
        let newer = parse(&body)["path"].as_str().unwrap().to_owned();
        assert_eq!(anonymous.get(app.url(&path)).send().await.unwrap().status().as_u16(), 404);
        assert_eq!(anonymous.get(app.url(&newer)).send().await.unwrap().status().as_u16(), 200);
        for bad in ["/calendrier/abc.ics", "/calendrier/%27%20OR%201=1.ics", &newer.replace(".ics", "0.ics")] {
            assert_eq!(anonymous.get(app.url(bad)).send().await.unwrap().status().as_u16(), 404, "{bad}");
        }
        let r = api.http.delete(app.url(&format!("{}/feed-token?professional={MARTIN}", api.base)));
        assert_eq!(api.send(&coordinator, r).await.0, 204);
        assert_eq!(anonymous.get(app.url(&newer)).send().await.unwrap().status().as_u16(), 404);

        // Dr Martin makes her own; not someone else's. The operator must name the professional.
        let gp_id = account_id(&store, "member").await;
        store.link_account_professional(&b, &gp_id, MARTIN, &system_event(&b)).await.unwrap();
        let gp = app.api_token("member").await;
        let (status, body) = api.post(&gp, "/feed-token", &json!({})).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(api.post(&gp, &format!("/feed-token?professional={DUPUIS}"), &json!({})).await.0, 403);
        assert_eq!(api.post(&coordinator, "/feed-token", &json!({})).await.0, 422);
        assert_eq!(api.post(&app.api_token("ars-centre").await, "/feed-token", &json!({})).await.0, 403);
        assert_eq!(api.post(&gp, "/requests", &waiting_intake("41018")).await.0, 403);
        // The FINESS is the coordination's.
        let r = api.http.put(app.url(&format!("/api/v1/cpts/{b}/finess"))).json(&json!({ "finess": "410000012" }));
        assert_eq!(api.send(&gp, r).await.0, 403);
    }
}

#[tokio::test]
async fn the_dashboard_shows_the_figures_and_records_the_finess() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let coordinator = app.api_token("coordinator").await;
        let api = Api { app: &app, http: reqwest::Client::new(), base: format!("/api/v1/cpts/{b}/snp") };
        assert_eq!(api.put(&coordinator, &format!("/availability/{MARTIN}"), &martin_week()).await.0, 200);
        assert_eq!(api.post(&coordinator, "/bookings", &intake("p10001234567-20261124T1400-C")).await.0, 201);
        let mut elsewhere = waiting_intake("41018");
        elsewhere["closure"] = json!("pharmacie");
        assert_eq!(api.post(&coordinator, "/requests", &elsewhere).await.0, 201);

        let path = format!("/cpts/{b}/soins-non-programmes/tableau-de-bord");
        let (browser, _) = app.login("coordinator").await;
        let r = browser.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("<span class=\"valeur\">2</span> <span class=\"libelle\">demandes reçues"),
            "{engine:?}: {html}"
        );
        assert!(
            html.contains(
                "<span class=\"valeur\">50,0 %</span> <span class=\"libelle\">prises en charge sous 24 h (1)"
            ),
            "{html}"
        );
        assert!(html.contains("4 h 00"), "median delay 10:00 → 14:00: {html}");
        assert!(
            html.contains("<th scope=\"row\">Mardi</th><td class=\"num\">2</td><td class=\"num\">1</td>"),
            "{html}"
        );
        assert!(html.contains("Pharmacie") && html.contains("Fièvre"), "{html}");
        assert_eq!(html.matches("<svg class=\"graphique\"").count(), 3);
        assert!(html.contains(&format!("/api/v1/cpts/{b}/fhir/Slot")), "the SAS address: {html}");
        // Another period: nothing.
        let html = browser
            .get(app.url(&format!("{path}?du=2026-11-01&au=2026-11-20")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("<span class=\"valeur\">0</span> <span class=\"libelle\">demandes reçues"), "{html}");
        let r = browser.get(app.url(&format!("{path}?du=2026-11-30&au=2026-11-01"))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let r = browser.get(app.url(&format!("{path}?du=hier"))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 422);

        // The FINESS: a wrong key keeps the value with its message; a good one is saved.
        let finess = format!("{path}/finess");
        let csrf = app.csrf_of(&browser, &path).await;
        let r = browser
            .post(app.url(&finess))
            .form(&[("csrf", csrf.as_str()), ("finess", "410000013")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("value=\"410000013\"") && html.contains("aria-invalid=\"true\""), "{html}");
        let r = browser
            .post(app.url(&finess))
            .form(&[("csrf", csrf.as_str()), ("finess", "410000012")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.text().await.unwrap().contains("« 1410000012 »"));
        let r = browser.post(app.url(&finess)).form(&[("finess", "410000012")]).send().await.unwrap();
        assert!(r.status().is_client_error(), "no CSRF token: {}", r.status());

        // The ARS of the région sees the figures, not the SAS settings; the national observer
        // and a member nothing; another CPTS's coordinator: not found.
        let (ars, _) = app.login("ars-centre").await;
        let r = ars.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("demandes reçues") && !html.contains("Numéro FINESS"), "{html}");
        let csrf = app.csrf_of(&ars, &path).await;
        let r = ars.post(app.url(&finess)).form(&[("csrf", csrf.as_str()), ("finess", "")]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403);
        for (who, status) in [("national", 403), ("member", 403), ("coordinator-vendome", 404)] {
            let (client, _) = app.login(who).await;
            assert_eq!(client.get(app.url(&path)).send().await.unwrap().status().as_u16(), status, "{who}");
        }
    }
}

#[tokio::test]
async fn waiting_requests_are_booked_or_closed_from_their_page() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let coordinator = app.api_token("coordinator").await;
        let api = Api { app: &app, http: reqwest::Client::new(), base: format!("/api/v1/cpts/{b}/snp") };
        assert_eq!(api.put(&coordinator, &format!("/availability/{MARTIN}"), &martin_week()).await.0, 200);
        let (_, body) = api.post(&coordinator, "/requests", &waiting_intake("41018")).await;
        let first = parse(&body)["id"].as_str().unwrap().to_owned();
        let (_, body) = api.post(&coordinator, "/requests", &waiting_intake("41047")).await;
        let second = parse(&body)["id"].as_str().unwrap().to_owned();

        let list = format!("/cpts/{b}/soins-non-programmes/demandes");
        let (browser, _) = app.login("coordinator").await;
        let html = browser.get(app.url(&list)).send().await.unwrap().text().await.unwrap();
        assert!(
            html.contains(&format!("{list}/{first}")) && html.contains(&format!("{list}/{second}")),
            "{engine:?}: {html}"
        );
        assert!(html.contains("Douleur aiguë — Blois") && html.contains("0601020304"), "{html}");

        // The first: the nearest free slots in the next 24 hours, then booked.
        let html = browser.get(app.url(&format!("{list}/{first}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("value=\"p10001234567-20261124T1000-C\""), "{html}");
        assert!(html.contains("accesskey=\"1\""), "{html}");
        let csrf = csrf_in(&html).unwrap();
        let r = browser
            .post(app.url(&format!("{list}/{first}/reserver")))
            .form(&[("csrf", csrf.as_str()), ("creneau", "p10001234567-20261124T1000-C")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            to.starts_with(&format!("/cpts/{b}/soins-non-programmes/reservations/")) && to.ends_with("/confirmation"),
            "{to}"
        );
        // Booking it again: the request no longer waits (409, said on the page).
        let r = browser
            .post(app.url(&format!("{list}/{first}/reserver")))
            .form(&[("csrf", csrf.as_str()), ("creneau", "p10001234567-20261124T1400-C")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 409);
        assert!(r.text().await.unwrap().contains("plus en attente"));

        // The second is closed: sent to a pharmacy.
        let r = browser
            .post(app.url(&format!("{list}/{second}/clore")))
            .form(&[("csrf", csrf.as_str()), ("destination", "pharmacie")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Demande close (orientée : Pharmacie)") && html.contains("Aucune demande en attente"),
            "{html}"
        );
        let r = browser
            .post(app.url(&format!("{list}/{second}/clore")))
            .form(&[("destination", "pharmacie")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error());

        // Not for members or observers; another CPTS: not found.
        for (who, status) in [("member", 403), ("ars-centre", 403), ("coordinator-vendome", 404)] {
            let (client, _) = app.login(who).await;
            assert_eq!(client.get(app.url(&list)).send().await.unwrap().status().as_u16(), status, "{who}");
            assert_eq!(
                client.get(app.url(&format!("{list}/{first}"))).send().await.unwrap().status().as_u16(),
                status,
                "{who}"
            );
        }
    }
}
