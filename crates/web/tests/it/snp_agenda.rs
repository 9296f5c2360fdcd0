//! Same-day care pages for the professionals (`…/soins-non-programmes/agenda` and
//! `…/disponibilites`): a GP linked to her profile publishes through the editor form, sees the
//! bookings made through the JSON API in her agenda, records an outcome, cancels another (409
//! messages on the page), downloads her `.ics`; the operators see everyone's bookings with a
//! filter and edit anyone's availability (stale revision 409 with the fresh values, a refused
//! range 422 with the values kept); who may open what, and CSRF.

use crate::directory::{CARON, DUPUIS, MARTIN, seed_directory};
use crate::helpers::*;
use crate::patients::{account_id, system_event};
use maillage_core::snp::ProfessionalId;
use maillage_store::{AuditStore, DirectoryStore, SnpStore, Store};
use serde_json::{Value, json};

const MARTIN_ID: ProfessionalId = ProfessionalId(10001234567);

/// What a page says, with askama's escapes undone.
fn text(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#38;", "&")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn intake(slot: &str, note: &str) -> Value {
    json!({
        "slot": slot, "reason": "fievre", "commune": "41018", "phone": "06 12 34 56 78",
        "referrer": "regulation", "note": note
    })
}

/// Books `slot` through the JSON API as the coordinator; returns the booking id.
async fn book(app: &TestApp, token: &str, slot: &str, note: &str) -> String {
    let b = app.cpts("blaisois");
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/cpts/{b}/snp/bookings")))
        .bearer_auth(token)
        .json(&intake(slot, note))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["booking"]["id"].as_str().unwrap().to_owned()
}

/// Publishes through the JSON API (no revision: a first publication).
async fn publish_api(app: &TestApp, token: &str, who: &str, week: Value) {
    let b = app.cpts("blaisois");
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/cpts/{b}/snp/availability/{who}")))
        .bearer_auth(token)
        .json(&week)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "publish {who}: {}", r.text().await.unwrap());
}

fn range(weekday: &str, start: &str, end: &str, place: &str) -> Value {
    json!({
        "weekday": weekday, "start": start, "end": end, "slot_minutes": 30, "capacity": 1,
        "place": place, "audiences": ["snp", "cpts"], "valid_from": "2026-11-01", "valid_until": null
    })
}

/// Links the `member` account to Dr Martin's profile.
async fn link_martin(app: &TestApp, store: &Store) {
    let b = app.cpts("blaisois").clone();
    let gp = account_id(store, "member").await;
    store.link_account_professional(&b, &gp, MARTIN, &system_event(&b)).await.unwrap();
}

/// The editor form of Dr Martin's two Tuesday ranges, an empty row, and a Christmas absence.
fn martin_form(csrf: &str, revision: &str) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = vec![("csrf", csrf.into()), ("revision", revision.into())];
    for (prefix, start, end) in [("h0", "09:30", "10:30"), ("h1", "14:00", "16:00")] {
        let name = |field: &str| -> &'static str { Box::leak(format!("{prefix}_{field}").into_boxed_str()) };
        f.extend([
            (name("jour"), "mardi".to_owned()),
            (name("debut"), start.to_owned()),
            (name("fin"), end.to_owned()),
            (name("duree"), "30".to_owned()),
            (name("lieu"), "cabinet".to_owned()),
            (name("capacite"), "1".to_owned()),
            (name("snp"), "on".to_owned()),
            (name("cpts"), "on".to_owned()),
            (name("du"), "2026-11-01".to_owned()),
            (name("au"), String::new()),
        ]);
    }
    // An empty row as the editor offers it (its defaults do not make it a range).
    f.extend([
        ("h2_jour", String::new()),
        ("h2_debut", String::new()),
        ("h2_fin", String::new()),
        ("h2_duree", "15".into()),
        ("h2_lieu", "cabinet".into()),
        ("h2_capacite", "1".into()),
        ("h2_snp", "on".into()),
        ("h2_du", "2026-11-24".into()),
        ("p0_date", String::new()),
        ("p0_debut", String::new()),
        ("p0_fin", String::new()),
        ("p0_capacite", "1".into()),
        ("f0_du", "2026-12-24".into()),
        ("f0_au", "2026-12-26".into()),
        ("f0_motif", "Noël".into()),
        ("a0_date", String::new()),
        ("a0_heure", String::new()),
    ]);
    f
}

#[tokio::test]
async fn the_professional_publishes_sees_her_bookings_and_records_outcomes() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        link_martin(&app, &store).await;
        let (gp, _) = app.login("member").await;
        let editor = format!("/cpts/{b}/soins-non-programmes/disponibilites/{MARTIN}");
        let agenda = format!("/cpts/{b}/soins-non-programmes/agenda");

        // Nothing published yet: the editor is empty, with rows to fill in.
        let r = gp.get(app.url(&editor)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("Aucune disponibilité publiée"), "{html}");
        assert!(html.contains("<input type=\"hidden\" name=\"revision\" value=\"\">"), "{html}");
        assert!(html.contains("name=\"h2_jour\"") && html.contains("name=\"p1_date\""), "empty rows: {html}");
        let csrf = csrf_in(&html).unwrap();

        // She publishes through the form: 303 back to the editor, which shows what it produces.
        let r = gp.post(app.url(&editor)).form(&martin_form(&csrf, "")).send().await.unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, format!("{editor}?publie=1"));
        let stored = store.availability(&b, MARTIN_ID).await.unwrap().unwrap();
        assert_eq!(stored.revision, 1);
        assert_eq!(stored.availability.weekly.len(), 2, "the empty row is no range");
        assert_eq!(stored.availability.closures.len(), 1);
        assert_eq!(stored.availability.closures[0].reason, "Noël");
        let html = text(&gp.get(app.url(&location)).send().await.unwrap().text().await.unwrap());
        assert!(html.contains("Disponibilités publiées"), "{html}");
        assert!(html.contains("<input type=\"hidden\" name=\"revision\" value=\"1\">"), "{html}");
        assert!(html.contains("value=\"14:00\"") && html.contains("value=\"2026-12-26\""), "{html}");
        // Tuesday 24 November, 10:00 in Paris: 10:00, then 14:00–16:00 (09:30 has started).
        assert!(
            html.contains(
                "<th scope=\"row\">Mardi 24 novembre 2026</th><td class=\"num\">5</td><td>10:00 – 16:00</td>"
            ),
            "{html}"
        );
        assert!(!html.contains("<th scope=\"row\">Mardi 1 décembre 2026</th>"), "7 days: {html}");
        assert!(html.contains("<th scope=\"row\">Lundi 30 novembre 2026</th><td class=\"num\">0</td>"), "{html}");

        // The coordination books two of her slots through the JSON API.
        let coordinator = app.api_token("coordinator").await;
        let first = book(&app, &coordinator, "p10001234567-20261124T1000-C", "Fièvre depuis hier").await;
        let second = book(&app, &coordinator, "p10001234567-20261124T1400-C", "Toux").await;

        // Her agenda shows them by day, in Paris time, with the patient's contact; audited.
        let before = store.audit_count(Some(&b)).await.unwrap();
        let r = gp.get(app.url(&agenda)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = text(&r.text().await.unwrap());
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 1, "the read is audited");
        assert!(html.contains(&format!("<a href=\"{agenda}\" aria-current=\"page\">Soins non programmés</a>")));
        assert!(html.contains("2 rendez-vous du mardi 24 novembre 2026 au mardi 1 décembre 2026"), "{html}");
        assert!(html.contains("mardi 24 novembre 2026 <span class=\"badge\">aujourd'hui</span>"), "{html}");
        assert!(html.contains("<th scope=\"row\">10:00–10:30</th>"), "{html}");
        assert!(html.contains("<th scope=\"row\">14:00–14:30</th>"), "{html}");
        assert!(html.contains("0612345678") && html.contains("Fièvre depuis hier"), "{html}");
        assert!(html.contains("<td>Blois</td>") && html.contains("Régulation (SAS, centre 15)"), "{html}");
        assert!(html.contains(">à venir</span>"), "{html}");
        assert!(!html.contains("<th scope=\"col\">Professionnel</th>"), "her own agenda: {html}");
        assert!(html.contains(&format!("href=\"{agenda}?du=2026-12-01&au=2026-12-08\"")), "{html}");
        assert!(html.contains("Semaine précédente") && html.contains("Semaine suivante"));
        assert!(html.contains(&format!("href=\"{agenda}.ics\"")), "{html}");
        // The 10:00 slot has started: its outcome can be recorded; the 14:00 one not yet.
        assert!(html.contains(&format!("action=\"{agenda}/{first}/issue\"")), "{html}");
        assert!(!html.contains(&format!("action=\"{agenda}/{second}/issue\"")), "{html}");
        let csrf = csrf_in(&html).unwrap();

        // The outcome of the first: seen.
        let form = |issue: &str, note: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("du", String::new()),
                ("au", String::new()),
                ("professionnel", String::new()),
                ("issue", issue.to_owned()),
                ("note", note.to_owned()),
            ]
        };
        let r = gp.post(app.url(&format!("{agenda}/{first}/issue"))).form(&form("autre", "")).send().await.unwrap();
        assert_eq!(r.status(), 422, "« autre » needs a note");
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("précisez ce qui s'est passé"), "{html}");
        assert!(html.contains("<option value=\"autre\" selected>"), "the choice is kept: {html}");
        let r = gp.post(app.url(&format!("{agenda}/{first}/issue"))).form(&form("vu", "")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("Issue du rendez-vous du mar. 24 nov. 10:00 enregistrée : Vu."), "{html}");
        assert!(html.contains("<span class=\"badge succes\">vu</span>"), "{html}");
        let outcome = store.booking(&b, &first).await.unwrap().outcome;
        assert!(matches!(outcome, Some((maillage_core::snp::booking::Outcome::Vu, _))), "{outcome:?}");
        // Not started yet: refused with a French message.
        let r = gp.post(app.url(&format!("{agenda}/{second}/issue"))).form(&form("vu", "")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(text(&r.text().await.unwrap()).contains("Le créneau n'a pas encore commencé"));

        // She cancels the second (with htmx: the agenda region only); twice is a 409 message.
        let r = gp
            .post(app.url(&format!("{agenda}/{second}/annuler")))
            .header("HX-Request", "true")
            .form(&form("", ""))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let fragment = text(&r.text().await.unwrap());
        assert!(!fragment.contains("<html"), "{fragment}");
        assert!(fragment.contains("Rendez-vous du mar. 24 nov. 14:00 annulé"), "{fragment}");
        assert!(fragment.contains("<span class=\"badge statut-withdrawn\">annulé</span>"), "{fragment}");
        assert!(store.booking(&b, &second).await.unwrap().cancelled_at.is_some());
        let r = gp.post(app.url(&format!("{agenda}/{second}/annuler"))).form(&form("", "")).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("<!DOCTYPE html>") && html.contains("Cette réservation est déjà annulée"), "{html}");
        // An outcome on the cancelled booking, once its time has come: 409 too.
        app.clock.advance(chrono::Duration::hours(5));
        let r = gp.post(app.url(&format!("{agenda}/{second}/issue"))).form(&form("vu", "")).send().await.unwrap();
        assert_eq!(r.status(), 409);
        assert!(text(&r.text().await.unwrap()).contains("Cette réservation est annulée : son issue ne peut pas"));

        // Her calendar: text/calendar, the booking not cancelled, no patient.
        let r = gp.get(app.url(&format!("{agenda}.ics"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let ics = r.text().await.unwrap();
        assert!(ics.contains("DTSTART:20261124T090000Z\r\n"), "{ics}");
        assert!(ics.contains(&format!("UID:{first}.{b}@maillage")), "{ics}");
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "the cancelled one is left out: {ics}");
        assert!(!ics.contains("0612345678"), "{ics}");

        // Other weeks; a window too long is refused with a message (and this week shown).
        let r = gp.get(app.url(&format!("{agenda}?du=2026-12-01&au=2026-12-08"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("Aucun rendez-vous du mardi 1 décembre 2026 au mardi 8 décembre 2026"), "{html}");
        assert!(html.contains(&format!("href=\"{agenda}?du=2026-11-24&au=2026-12-01\"")), "previous: {html}");
        let r = gp.get(app.url(&format!("{agenda}?du=2026-01-01&au=2026-12-31"))).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(text(&r.text().await.unwrap()).contains("La période dure au plus 92 jours"));
    }
}

#[tokio::test]
async fn the_operators_see_everyone_and_edit_any_availability() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let token = app.api_token("coordinator").await;
        publish_api(&app, &token, MARTIN, json!({ "weekly": [range("Tue", "14:00:00", "16:00:00", "cabinet")] })).await;
        publish_api(&app, &token, DUPUIS, json!({ "weekly": [range("Tue", "15:00:00", "16:00:00", "domicile")] }))
            .await;
        let martin = book(&app, &token, "p10001234567-20261124T1400-C", "Toux").await;
        let dupuis = book(&app, &token, "p10005555555-20261124T1500-D", "Pansement").await;
        let (coordinator, _) = app.login("coordinator").await;
        let agenda = format!("/cpts/{b}/soins-non-programmes/agenda");

        // Everyone's bookings, with the professional's name; no calendar until one is chosen.
        let r = coordinator.get(app.url(&agenda)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("2 rendez-vous du"), "{html}");
        assert!(html.contains("<td>Dr Élise Martin</td>") && html.contains("Maël Dupuis</td>"), "{html}");
        assert!(html.contains(&format!("<option value=\"{DUPUIS}\">")), "the filter: {html}");
        assert!(html.contains("Choisissez un professionnel ci-dessus"), "{html}");
        // Filtered: his only, and his calendar.
        let r = coordinator.get(app.url(&format!("{agenda}?professionnel={DUPUIS}"))).send().await.unwrap();
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("1 rendez-vous du") && html.contains("Pansement"), "{html}");
        assert!(!html.contains("Toux") && !html.contains(&martin), "{html}");
        assert!(html.contains(&format!("<option value=\"{DUPUIS}\" selected>")), "{html}");
        assert!(html.contains(&format!("href=\"{agenda}.ics?professionnel={DUPUIS}\"")), "{html}");
        assert!(html.contains(&format!("professionnel={DUPUIS}\" rel=\"next\"")), "the filter is kept: {html}");
        let r = coordinator.get(app.url(&format!("{agenda}.ics?professionnel={DUPUIS}"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
        let ics = r.text().await.unwrap();
        assert!(ics.contains(&format!("UID:{dupuis}.{b}@maillage")) && ics.contains("DTSTART:20261124T140000Z"));
        assert_eq!(coordinator.get(app.url(&format!("{agenda}.ics"))).send().await.unwrap().status(), 422);
        // The operators cancel any booking too.
        let csrf = csrf_in(&html).unwrap();
        let r = coordinator
            .post(app.url(&format!("{agenda}/{dupuis}/annuler")))
            .form(&[("csrf", csrf.as_str()), ("professionnel", DUPUIS)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = text(&r.text().await.unwrap());
        assert!(html.contains(&format!("<option value=\"{DUPUIS}\" selected>")), "the view is kept: {html}");
        assert!(store.booking(&b, &dupuis).await.unwrap().cancelled_at.is_some());

        // Who publishes; and starting for someone else.
        let list = format!("/cpts/{b}/soins-non-programmes/disponibilites");
        let r = coordinator.get(app.url(&list)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("2 professionnels publient"), "{html}");
        assert!(html.contains(&format!("<a href=\"{list}/{MARTIN}\">Dr Élise Martin</a>")), "{html}");
        assert!(html.contains(&format!("<option value=\"{CARON}\">")), "{html}");
        assert!(!html.contains(&format!("<option value=\"{MARTIN}\">")), "she publishes already: {html}");
        let r = coordinator.get(app.url(&format!("{list}?professionnel={CARON}"))).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], format!("{list}/{CARON}"));
        assert_eq!(coordinator.get(app.url(&format!("{list}/{CARON}"))).send().await.unwrap().status(), 200);

        // A stale save: someone published meanwhile. 409, the fresh values, the new revision.
        let editor = format!("{list}/{MARTIN}");
        let html = coordinator.get(app.url(&editor)).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("name=\"revision\" value=\"1\""), "{html}");
        let csrf = csrf_in(&html).unwrap();
        let r = reqwest::Client::new()
            .put(app.url(&format!("/api/v1/cpts/{b}/snp/availability/{MARTIN}")))
            .bearer_auth(&token)
            .json(&json!({ "revision": 1, "weekly": [range("Thu", "08:00:00", "09:00:00", "cabinet")] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = coordinator.post(app.url(&editor)).form(&martin_form(&csrf, "1")).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("modifiées entre-temps par quelqu'un d'autre"), "{html}");
        assert!(html.contains("name=\"revision\" value=\"2\""), "{html}");
        assert!(html.contains("<option value=\"jeudi\" selected>"), "the fresh values: {html}");
        assert!(html.contains("value=\"08:00\""), "{html}");
        assert_eq!(store.availability(&b, MARTIN_ID).await.unwrap().unwrap().revision, 2);

        // A range the core refuses: 422, the message next to its field, every value kept.
        let mut bad = martin_form(&csrf, "2");
        for (k, v) in &mut bad {
            match *k {
                "h1_debut" => *v = "08:00".into(),
                "h1_fin" => *v = "12:10".into(),
                "h1_duree" => *v = "20".into(),
                _ => {}
            }
        }
        bad.extend([("p0_date", "2026-11-28".to_owned()), ("p0_debut", "10:00".into()), ("p0_fin", "09:00".into())]);
        let r = coordinator.post(app.url(&editor)).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = text(&r.text().await.unwrap());
        assert!(html.contains("Les disponibilités ne sont pas publiées"), "{html}");
        assert!(html.contains("Le formulaire contient"), "{html}");
        assert!(html.contains("Le créneau finit avant de commencer"), "a one-off slot's end: {html}");
        // The one-off slot is refused by the page: the core has not judged the rest yet.
        let without_one_off: Vec<(&str, String)> =
            bad.iter().filter(|(k, _)| !k.starts_with("p0_")).map(|(k, v)| (*k, v.clone())).collect();
        let r = coordinator.post(app.url(&editor)).form(&without_one_off).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = text(&r.text().await.unwrap());
        assert!(
            html.contains(
                "<p class=\"erreur\" id=\"erreur-h1_fin\">La plage dure 250 min, pas un multiple de 20 min : terminez-la à 12:00 ou 12:20</p>"
            ),
            "{html}"
        );
        assert!(html.contains("id=\"h1_fin\" name=\"h1_fin\" type=\"time\" value=\"12:10\""), "kept: {html}");
        assert!(html.contains("aria-describedby=\"erreur-h1_fin\" aria-invalid=\"true\""), "{html}");
        assert!(html.contains("value=\"Noël\""), "{html}");
        assert!(html.contains("<a href=\"#h1_fin\">Plage hebdomadaire n° 2 — La plage dure 250 min"), "{html}");
        assert!(html.contains("name=\"revision\" value=\"2\""), "{html}");
        assert_eq!(store.availability(&b, MARTIN_ID).await.unwrap().unwrap().revision, 2, "nothing saved");
        // Fixed, it is published at revision 3.
        let good = martin_form(&csrf, "2");
        let r = coordinator.post(app.url(&editor)).form(&good).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(store.availability(&b, MARTIN_ID).await.unwrap().unwrap().revision, 3);
    }
}

#[tokio::test]
async fn who_may_open_the_agenda_and_the_editors() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let base = format!("/cpts/{b}/soins-non-programmes");
        let paths =
            [format!("{base}/agenda"), format!("{base}/disponibilites"), format!("{base}/disponibilites/{MARTIN}")];

        // A member not linked to a profile, observers: 403; another CPTS: 404.
        for (who, expected) in [("member", 403), ("ars-centre", 403), ("national", 403), ("coordinator-vendome", 404)] {
            let (client, _) = app.login(who).await;
            for path in &paths {
                assert_eq!(
                    client.get(app.url(path)).send().await.unwrap().status(),
                    expected,
                    "{engine:?} {who} {path}"
                );
            }
        }

        // Linked to Dr Martin: her own editor only; the list sends her to it.
        link_martin(&app, &store).await;
        let (gp, _) = app.login("member").await;
        let r = gp.get(app.url(&paths[1])).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], paths[2]);
        let other = format!("{base}/disponibilites/{DUPUIS}");
        assert_eq!(gp.get(app.url(&other)).send().await.unwrap().status(), 403);
        let csrf = app.csrf_of(&gp, &paths[2]).await;
        let r = gp.post(app.url(&other)).form(&martin_form(&csrf, "")).send().await.unwrap();
        assert_eq!(r.status(), 403, "publishing for someone else");
        assert!(store.availability(&b, ProfessionalId(10005555555)).await.unwrap().is_none());
        // Her calendar, not someone else's.
        let r = gp.get(app.url(&format!("{base}/agenda.ics?professionnel={DUPUIS}"))).send().await.unwrap();
        assert_eq!(r.status(), 403);

        // Forms without their token change nothing.
        let mut missing = martin_form(&csrf, "");
        missing.retain(|(k, _)| *k != "csrf");
        let r = gp.post(app.url(&paths[2])).form(&missing).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = gp.post(app.url(&paths[2])).form(&martin_form("forged", "")).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(store.availability(&b, MARTIN_ID).await.unwrap().is_none(), "nothing published");
        let token = app.api_token("coordinator").await;
        publish_api(&app, &token, MARTIN, json!({ "weekly": [range("Tue", "14:00:00", "16:00:00", "cabinet")] })).await;
        let booking = book(&app, &token, "p10001234567-20261124T1400-C", "Toux").await;
        let r = gp.post(app.url(&format!("{base}/agenda/{booking}/annuler"))).form(&[("du", "")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(store.booking(&b, &booking).await.unwrap().cancelled_at.is_none(), "not cancelled");

        // The operators of another CPTS cannot act on it either.
        let (vendome, _) = app.login("coordinator-vendome").await;
        let csrf = app.csrf_of(&vendome, "/compte").await;
        let r = vendome
            .post(app.url(&format!("{base}/agenda/{booking}/annuler")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert!(store.booking(&b, &booking).await.unwrap().cancelled_at.is_none());
    }
}
