//! The same-day care operator console (`/cpts/{id}/soins-non-programmes`): the coordinator
//! takes a request, searches (results in the API's order, by name or by code), books (303 to the
//! confirmation with the patient's text and the `.ics`), a slot taken meanwhile, field errors
//! with the values kept, CSRF, and who may open it.

use crate::directory::{DUPUIS, MARTIN, seed_directory};
use crate::helpers::*;
use crate::patients::{account_id, system_event};
use maillage_store::{AuditStore, DirectoryStore};
use serde_json::{Value, json};

/// Dr Martin (GP, Blois): Tuesdays 09:30–10:30 and 14:00–16:00, 30-minute slots at the practice,
/// one patient each (as in `snp.rs`).
fn martin_week() -> Value {
    let range = |start: &str, end: &str| {
        json!({
            "weekday": "Tue", "start": start, "end": end, "slot_minutes": 30, "capacity": 1,
            "place": "cabinet", "audiences": ["snp", "cpts"], "valid_from": "2026-11-01", "valid_until": null
        })
    };
    json!({ "weekly": [range("09:30:00", "10:30:00"), range("14:00:00", "16:00:00")] })
}

/// Mr Dupuis (nurse, La Chaussée-Saint-Victor): Tuesdays 15:00–16:00, home visits.
fn dupuis_week() -> Value {
    json!({ "weekly": [{
        "weekday": "Tue", "start": "15:00:00", "end": "16:00:00", "slot_minutes": 30, "capacity": 2,
        "place": "domicile", "audiences": ["snp"], "valid_from": "2026-11-01", "valid_until": null
    }] })
}

/// Publishes both weeks through the JSON API; returns the coordinator's token.
async fn publish(app: &TestApp) -> String {
    let b = app.cpts("blaisois");
    let token = app.api_token("coordinator").await;
    let http = reqwest::Client::new();
    for (who, week) in [(MARTIN, martin_week()), (DUPUIS, dupuis_week())] {
        let url = app.url(&format!("/api/v1/cpts/{b}/snp/availability/{who}"));
        let r = http.put(url).bearer_auth(&token).json(&week).send().await.unwrap();
        assert_eq!(r.status(), 200, "publish {who}");
    }
    token
}

/// The request as the console's form sends it.
fn request<'a>(csrf: &'a str, commune: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("motif", "fievre"),
        ("commune", commune),
        ("telephone", "06 12 34 56 78"),
        ("courriel", ""),
        ("oriente_par", "regulation"),
        ("du", ""),
        ("au", ""),
        ("note", "Fièvre depuis hier"),
        ("profession", ""),
        ("cabinet", "on"),
        ("domicile", "on"),
    ]
}

/// The slot ids of the « Réserver » forms, in page order.
fn slots_in(html: &str) -> Vec<String> {
    html.split("name=\"creneau\" value=\"").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect()
}

/// Apostrophes and ampersands as typed (askama escapes them).
fn unescape(html: &str) -> String {
    html.replace("&#39;", "'").replace("&#x27;", "'").replace("&amp;", "&")
}

/// The hidden fields of the first « Réserver » form (the request as carried to the booking).
fn first_booking_form(html: &str) -> Vec<(String, String)> {
    let start = html.find("/reserver\"").unwrap();
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|s| {
            let name = s.split('"').next().unwrap().to_owned();
            let value = s.split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
            (name, unescape(&value))
        })
        .collect()
}

#[tokio::test]
async fn the_coordinator_takes_a_request_searches_and_books() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let token = publish(&app).await;
        let console = format!("/cpts/{b}/soins-non-programmes");
        let (coordinator, _) = app.login("coordinator").await;

        // The console: the nav entry is current, the first field has the focus, the communes
        // of the territory are offered by name, the window is the next 24 hours (Paris time).
        let r = coordinator.get(app.url(&console)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("<a href=\"{console}\" aria-current=\"page\">Soins non programmés</a>")));
        assert!(html.contains("<select id=\"motif\" name=\"motif\" autofocus"), "{html}");
        assert!(html.contains("<option value=\"Blois (41018)\">"), "{html}");
        assert!(html.contains("value=\"2026-11-24T10:00\"") && html.contains("value=\"2026-11-25T10:00\""));
        let csrf = csrf_in(&html).unwrap();

        // A search by the commune's name: the API's order (nearest practice, then soonest).
        let r =
            coordinator.post(app.url(&console)).form(&request(&csrf, "la chaussée-saint-victor")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let api: Value = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/cpts/{b}/snp/slots?commune=41047")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let expected: Vec<String> =
            api.as_array().unwrap().iter().map(|s| s["slot"].as_str().unwrap().to_owned()).collect();
        assert_eq!(expected.len(), 7, "{api}");
        assert_eq!(slots_in(&html), expected, "{html}");
        assert!(html.contains("7 créneaux libres du mar. 24 nov. 10:00 au mer. 25 nov. 10:00"), "{html}");
        assert!(html.contains("<td class=\"horodatage\">mar. 24 nov. 15:00</td><th scope=\"row\">"), "{html}");
        let martin_km = format!("{:.1} km", api[2]["distance_km"].as_f64().unwrap()).replace('.', ",");
        assert!(html.contains(&martin_km) && html.contains("0,0 km"), "{martin_km}: {html}");
        assert!(html.contains("accesskey=\"1\"") && html.contains("accesskey=\"7\""));
        assert!(!html.contains("accesskey=\"8\""));
        let hidden = first_booking_form(&html);
        assert!(hidden.contains(&("commune".into(), "41047".into())), "the code travels: {hidden:?}");
        assert!(hidden.contains(&("note".into(), "Fièvre depuis hier".into())), "{hidden:?}");
        // The same by code, and doctors only.
        let by_code: Vec<(&str, &str)> = request(&csrf, "41047")
            .into_iter()
            .map(|(k, v)| if k == "profession" { (k, "10") } else { (k, v) })
            .collect();
        let html = coordinator.post(app.url(&console)).form(&by_code).send().await.unwrap().text().await.unwrap();
        assert_eq!(slots_in(&html), expected[2..], "doctors only");
        // htmx: only the results region.
        let r = coordinator
            .post(app.url(&console))
            .header("HX-Request", "true")
            .form(&request(&csrf, "41047"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let fragment = r.text().await.unwrap();
        assert!(!fragment.contains("<html"), "{fragment}");
        assert_eq!(slots_in(&fragment), expected);
        assert!(fragment.contains("id=\"erreur-commune\" hx-swap-oob=\"innerHTML\""), "{fragment}");

        // Book Dr Martin at 14:00 with the request the row carries.
        let slot = &expected[3];
        assert_eq!(slot, "p10001234567-20261124T1400-C");
        let mut booking: Vec<(String, String)> = first_booking_form(&html);
        booking.retain(|(k, _)| k != "creneau");
        booking.push(("creneau".into(), slot.clone()));
        let r = coordinator.post(app.url(&format!("{console}/reserver"))).form(&booking).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("{console}/reservations/b-")), "{location}");
        assert!(location.ends_with("/confirmation"), "{location}");

        // The confirmation: the text for the patient, the .ics link; reading it is audited.
        let before = store.audit_count(Some(&b)).await.unwrap();
        let r = coordinator.get(app.url(&location)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 1, "the read is audited");
        assert!(
            page.contains("Votre rendez-vous de soins non programmés est réservé le mardi 24 novembre 2026 à 14:00 avec Dr Élise Martin (médecin), au cabinet"),
            "{page}"
        );
        assert!(page.contains("Motif : fièvre."), "{page}");
        assert!(page.contains("SNP – Fièvre (au cabinet)"), "{page}");
        assert!(page.contains("0612345678"), "the contact to send it to: {page}");
        let ics_href = location.replace("/confirmation", "/rendez-vous.ics");
        assert!(page.contains(&format!("href=\"{ics_href}\"")), "{page}");
        assert!(page.contains("Télécharger le rendez-vous (.ics)"));
        assert!(page.contains(&format!("<a class=\"bouton\" href=\"{console}\" autofocus>Nouvelle demande</a>")));

        // The .ics: text/calendar, as an attachment, naming no patient.
        let r = coordinator.get(app.url(&ics_href)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("attachment; filename=\"rendez-vous-b-"), "{disposition}");
        let ics = r.text().await.unwrap();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
        assert!(ics.contains("DTSTART:20261124T130000Z\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:SNP – Fièvre (au cabinet)"), "{ics}");
        assert!(!ics.contains("0612345678") && !ics.contains("depuis hier"), "{ics}");
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 2, "the download is audited");

        // The same slot again: taken. The request is kept and the results are fresh.
        let r = coordinator.post(app.url(&format!("{console}/reserver"))).form(&booking).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(unescape(&html).contains("Ce créneau vient d'être pris : choisissez-en un autre"), "{html}");
        assert!(html.contains("value=\"06 12 34 56 78\""), "the request is kept: {html}");
        let fresh = slots_in(&html);
        assert_eq!(fresh.len(), 4, "doctors only still, one slot fewer: {html}");
        assert!(html.contains("<option value=\"10\" selected>"), "the filter is kept too");
        assert!(!fresh.contains(slot), "the slot taken is gone: {fresh:?}");
    }
}

#[tokio::test]
async fn a_bad_request_keeps_its_values_and_forms_need_their_token() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        publish(&app).await;
        let b = app.cpts("blaisois").clone();
        let console = format!("/cpts/{b}/soins-non-programmes");
        let (coordinator, _) = app.login("coordinator").await;
        let csrf = app.csrf_of(&coordinator, &console).await;

        let mut bad = request(&csrf, "Atlantide");
        bad.retain(|(k, _)| *k != "oriente_par");
        let r = coordinator.post(app.url(&console)).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422, "{engine:?}");
        let html = r.text().await.unwrap();
        assert!(unescape(&html).contains("Aucune commune ne s'appelle « Atlantide »"), "{html}");
        assert!(html.contains("id=\"commune\" name=\"commune\" value=\"Atlantide\""), "kept: {html}");
        assert!(html.contains("value=\"06 12 34 56 78\"") && html.contains("value=\"Fièvre depuis hier\""), "{html}");
        assert!(html.contains("<option value=\"fievre\" selected>"), "{html}");
        assert!(html.contains("La demande contient 2 erreurs"), "commune and referrer: {html}");
        assert!(html.contains("aria-invalid=\"true\""), "{html}");
        assert!(slots_in(&html).is_empty(), "no results with errors");
        // A commune code that does not exist, and no mode ticked.
        let mut bad = request(&csrf, "41999");
        bad.retain(|(k, _)| *k != "cabinet" && *k != "domicile");
        let r = coordinator.post(app.url(&console)).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("value=\"41999\"") && html.contains("Cochez au moins un mode"), "{html}");

        // Without the token (or with another), nothing is searched or booked.
        let mut missing = request("", "41047");
        missing.retain(|(k, _)| *k != "csrf");
        let r = coordinator.post(app.url(&console)).form(&missing).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let mut booking = request("forged", "41047");
        booking.push(("creneau", "p10001234567-20261124T1400-C"));
        let r = coordinator.post(app.url(&format!("{console}/reserver"))).form(&booking).send().await.unwrap();
        assert_eq!(r.status(), 403);
        booking.retain(|(k, _)| *k != "csrf");
        let r = coordinator.post(app.url(&format!("{console}/reserver"))).form(&booking).send().await.unwrap();
        assert_eq!(r.status(), 403);
        // Nothing was booked: the slot is still offered.
        let html = coordinator
            .post(app.url(&console))
            .form(&request(&csrf, "41047"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(slots_in(&html).contains(&"p10001234567-20261124T1400-C".to_owned()), "{html}");
        // A confirmation that does not exist.
        let r =
            coordinator.get(app.url(&format!("{console}/reservations/b-0000000000000000/confirmation"))).send().await;
        assert_eq!(r.unwrap().status(), 404);
    }
}

#[tokio::test]
async fn only_operators_use_the_console() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let console = format!("/cpts/{b}/soins-non-programmes");
        for (who, expected) in [("ars-centre", 403), ("national", 403), ("coordinator-vendome", 404), ("member", 403)] {
            let (client, _) = app.login(who).await;
            let r = client.get(app.url(&console)).send().await.unwrap();
            assert_eq!(r.status(), expected, "{engine:?} {who}");
        }
        // The board operates too.
        let (board, _) = app.login("board").await;
        assert_eq!(board.get(app.url(&console)).send().await.unwrap().status(), 200);

        // A member professional linked to her profile goes to her agenda; her nav says where.
        let gp = account_id(&store, "member").await;
        store.link_account_professional(&b, &gp, MARTIN, &system_event(&b)).await.unwrap();
        let (member, _) = app.login("member").await;
        let r = member.get(app.url(&console)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        assert_eq!(r.headers()["location"], format!("{console}/agenda"));
        let home = member.get(app.url(&format!("/cpts/{b}"))).send().await.unwrap().text().await.unwrap();
        assert!(home.contains(&format!("<a href=\"{console}/agenda\">Soins non programmés</a>")), "{home}");
        // She neither books nor reads the operators' confirmations.
        let csrf = app.csrf_of(&member, &format!("/cpts/{b}")).await;
        let mut booking = request(&csrf, "41047");
        booking.push(("creneau", "p10001234567-20261124T1400-C"));
        let r = member.post(app.url(&format!("{console}/reserver"))).form(&booking).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = member.get(app.url(&format!("{console}/reservations/b-0000000000000000/confirmation"))).send().await;
        assert_eq!(r.unwrap().status(), 403);
        // Observers have no entry in their navigation.
        let (ars, _) = app.login("ars-centre").await;
        let page = ars.get(app.url("/region/24")).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("Soins non programmés"));
    }
}
