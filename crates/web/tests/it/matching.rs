//! The matching, end to end: a coordinator previews a run (proposals with their reasons, the
//! patients left waiting and why), sends it (refused when the registry moved since the
//! preview), the GP answers in her own view (accepts, declines, records the declaration), a
//! decline is never proposed again, the indicators move; the settings are checked and change
//! the next run; and who may see what.

use crate::directory::{MARTIN, get, post, seed_directory};
use crate::helpers::*;
use crate::patients::{JEANNE, PAUL, account_id, register, registry, system_event};
use maillage_core::patients::RequestStatus;
use maillage_store::{AuditStore, DirectoryStore, PatientStore};

const LEA: [(&str, &str); 6] = [
    ("family_name", "Petit"),
    ("given_name", "Léa"),
    ("birth_date", "03/05/1995"),
    ("commune", "41047"),
    ("phone", "0700000001"),
    ("consent", "on"),
];

/// The run's fingerprint in a preview page.
fn fingerprint(html: &str) -> String {
    html.split("name=\"apercu\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
}

/// The revision in the form of a request on the GP's page.
fn revision_of(html: &str, rid: &str) -> String {
    let form = html.split(&format!("mes-patients/{rid}\"")).nth(1).expect("a form for the request");
    form.split("name=\"revision\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned()
}

#[tokio::test]
async fn a_coordinator_runs_the_matching_and_a_gp_answers() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let (coordinator, _) = app.login("coordinator").await;
        let base = format!("/cpts/{b}/acces-soins");
        let run = format!("{base}/appariement");

        let (status, html) = get(&coordinator, &app, &run).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("Aucun patient n'est en attente."), "{html}");

        // Jeanne is 76, Paul has an ALD: both priority 1; Léa is 31: priority 2. Dr Martin
        // (Blois and Vineuil) takes two this month.
        let jeanne = register(&coordinator, &app, &JEANNE).await;
        let paul = register(&coordinator, &app, &PAUL).await;
        let lea = register(&coordinator, &app, &LEA).await;
        let capacity = [("national_id", MARTIN), ("kind", "per_month"), ("count", "2")];
        assert_eq!(post(&coordinator, &app, &format!("{base}/medecins"), &capacity).await.0, 200);

        let (status, html) = get(&coordinator, &app, &run).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("2 / 2</span> <span class=\"libelle\">patients de priorité 1 appariés"), "{html}");
        assert!(html.contains("0 / 1</span> <span class=\"libelle\">patients de priorité 2 appariés"), "{html}");
        assert!(html.contains("Proposé au Dr Élise Martin, à 0,0 km, priorité 1 parce que 70 ans ou plus"), "{html}");
        assert!(html.contains("priorité 1 parce que ALD (affection de longue durée)"), "{html}");
        assert!(
            html.contains("sont complets avec des patients de priorité supérieure ou égale (priorité 2)"),
            "{html}"
        );
        assert!(html.contains("Envoyer les 2 propositions aux médecins"));
        assert_eq!(store.request(&b, &jeanne).await.unwrap().state.status, RequestStatus::Waiting, "a preview");

        // The registry moved since the preview: nothing is sent.
        let seen = fingerprint(&html);
        assert_eq!(seen.len(), 24);
        let (status, html) = post(&coordinator, &app, &run, &[("apercu", "0123456789abcdef01234567")]).await;
        assert_eq!(status, 409, "{html}");
        assert!(html.contains("ont changé depuis l'aperçu : rien n'a été envoyé"), "{html}");
        assert_eq!(store.request(&b, &paul).await.unwrap().state.status, RequestStatus::Waiting);

        let (status, html) = post(&coordinator, &app, &run, &[("apercu", &seen)]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("2 proposition(s) envoyée(s) aux médecins"), "{html}");
        for rid in [&jeanne, &paul] {
            let r = store.request(&b, rid).await.unwrap();
            assert_eq!((r.state.status, r.state.doctor.as_deref()), (RequestStatus::Proposed, Some(MARTIN)));
            assert!(r.history[0].by.starts_with("appariement ("), "{:?}", r.history);
        }
        // Dr Martin is full: Léa waits, and the page says why.
        assert!(html.contains("Aucun médecin disponible n'accepte ce patient à moins de 30,0 km"), "{html}");
        assert_eq!(post(&coordinator, &app, &run, &[("apercu", &seen)]).await.0, 409, "sent once only");

        // Dr Martin's own view: a member professional linked to her profile.
        let (gp, _) = app.login("member").await;
        let own = format!("{base}/mes-patients");
        let (status, html) = get(&gp, &app, &own).await;
        assert_eq!(status, 200);
        assert!(html.contains("n'est pas relié à un profil de médecin généraliste"), "{html}");
        let gp_id = account_id(&store, "member").await;
        store.link_account_professional(&b, &gp_id, MARTIN, &system_event(&b)).await.unwrap();
        let before = store.audit_count(Some(&b)).await.unwrap();
        let (status, html) = get(&gp, &app, &own).await;
        assert_eq!(status, 200);
        assert!(html.contains("Dr Élise Martin") && html.contains("Dupont Jeanne") && html.contains("Lemoine Paul"));
        assert!(html.contains("76 ans, Blois — priorité 1 : 70 ans ou plus"), "{html}");
        assert!(html.contains("Téléphone : 0612345678"), "she can call: {html}");
        assert!(!html.contains("Petit Léa"), "not proposed to her");
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 2, "each patient shown is audited");

        // She accepts Jeanne, declines Paul; a stale form and someone else's request are refused.
        let rev = revision_of(&html, &jeanne);
        let (status, html) =
            post(&gp, &app, &format!("{own}/{jeanne}"), &[("reponse", "accepte"), ("revision", &rev)]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Patient accepté"), "{html}");
        let (status, _) =
            post(&gp, &app, &format!("{own}/{jeanne}"), &[("reponse", "declare"), ("revision", &rev)]).await;
        assert_eq!(status, 409, "stale revision");
        let (status, _) = post(&gp, &app, &format!("{own}/{lea}"), &[("reponse", "accepte"), ("revision", "1")]).await;
        assert_eq!(status, 404, "not proposed to her");
        let (_, html) = get(&gp, &app, &own).await;
        let rev_paul = revision_of(&html, &paul);
        let answer = [("reponse", "refuse"), ("motif", "patientèle complète"), ("revision", rev_paul.as_str())];
        let (status, html) = post(&gp, &app, &format!("{own}/{paul}"), &answer).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Refus enregistré"), "{html}");
        let rev = revision_of(&html, &jeanne);
        let (status, html) =
            post(&gp, &app, &format!("{own}/{jeanne}"), &[("reponse", "declare"), ("revision", &rev)]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Déclaration de médecin traitant enregistrée."));
        assert_eq!(store.request(&b, &jeanne).await.unwrap().state.status, RequestStatus::Declared);
        let paul_now = store.request(&b, &paul).await.unwrap();
        assert_eq!(paul_now.state.status, RequestStatus::Waiting);
        assert!(paul_now.state.excluded_doctors.contains(MARTIN));
        assert_eq!(paul_now.history.last().unwrap().reason.as_deref(), Some("patientèle complète"));

        // More room next month: Dr Martin gets Léa, never Paul again.
        let more = [("national_id", MARTIN), ("kind", "total"), ("count", "10")];
        assert_eq!(post(&coordinator, &app, &format!("{base}/medecins"), &more).await.0, 200);
        let (_, html) = get(&coordinator, &app, &run).await;
        assert!(html.contains("Envoyer la proposition au médecin"), "{html}");
        assert!(html.contains(&format!("href=\"{}/{lea}\">Petit Léa</a>", registry(&app))), "{html}");
        assert!(html.contains("Aucun médecin disponible n'accepte ce patient"), "Paul: {html}");

        // The indicators moved.
        let (status, html) = get(&coordinator, &app, &format!("{base}/indicateurs")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("<th scope=\"row\">Toutes les demandes</th><td class=\"num\">3</td><td class=\"num\">2</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">2</td>"),
            "{html}"
        );
        assert!(html.contains("<th scope=\"row\">Priorité 1</th><td class=\"num\">2</td>"), "{html}");
        assert!(
            html.contains("100,0 %</span> <span class=\"libelle\">des patients en ALD encore sans médecin (1 sur 1)"),
            "{html}"
        );
        assert!(html.contains("<svg class=\"graphique\"") && html.contains("nov. 2026"), "{html}");
    }
}

#[tokio::test]
async fn settings_are_checked_and_change_the_next_run() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let (coordinator, _) = app.login("coordinator").await;
        let settings = format!("/cpts/{b}/acces-soins/reglages");
        let (status, html) = get(&coordinator, &app, &settings).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("value=\"30\"") && html.contains("value=\"730\""), "defaults: {html}");

        let bad = [
            ("max_km", "0"),
            ("ald_class", "1"),
            ("age_class", "1"),
            ("age_years", "70"),
            ("default_class", "1"),
            ("retention_days", "10"),
        ];
        let (status, html) = post(&coordinator, &app, &settings, &bad).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("href=\"#reg-max_km\"") && html.contains("href=\"#reg-retention_days\""), "{html}");
        assert!(html.contains("Doit venir après la classe de chaque critère"), "{html}");
        assert!(html.contains("value=\"0\""), "what was typed stays");
        assert!(store.registry_settings(&b).await.unwrap().is_none(), "nothing written");

        // Only ALD is a priority, within 5 km: Jeanne (76) is now priority 2, Léa in La
        // Chaussée-Saint-Victor is too far from Blois.
        let good = [("max_km", "5"), ("ald_class", "1"), ("default_class", "2"), ("retention_days", "365")];
        let (status, html) = post(&coordinator, &app, &settings, &good).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Réglages enregistrés"), "{html}");
        let stored = store.registry_settings(&b).await.unwrap().unwrap();
        assert_eq!((stored.max_km, stored.retention.closed_after_days), (5.0, 365));

        register(&coordinator, &app, &JEANNE).await;
        let capacity = [("national_id", MARTIN), ("kind", "total"), ("count", "5")];
        assert_eq!(post(&coordinator, &app, &format!("/cpts/{b}/acces-soins/medecins"), &capacity).await.0, 200);
        let (_, html) = get(&coordinator, &app, &format!("/cpts/{b}/acces-soins/appariement")).await;
        assert!(html.contains("jamais au-delà de 5,0 km"), "{html}");
        assert!(html.contains("priorité 2 parce que aucun critère de priorité"), "{html}");
    }
}

#[tokio::test]
async fn only_the_coordination_runs_the_matching() {
    let app = spawn_app(Engine::Sqlite).await;
    let b = app.cpts("blaisois").clone();
    let run = format!("/cpts/{b}/acces-soins/appariement");
    for (who, expected) in [("member", 403), ("ars-centre", 403), ("coordinator-vendome", 404)] {
        let (client, _) = app.login(who).await;
        assert_eq!(post(&client, &app, &run, &[("apercu", "x")]).await.0, expected, "{who}");
        let answer = format!("/cpts/{b}/acces-soins/mes-patients/p-0000000000000000");
        let (status, _) = post(&client, &app, &answer, &[("reponse", "accepte"), ("revision", "1")]).await;
        assert_eq!(status, if who == "member" { 403 } else { expected }, "{who}: no GP profile");
    }
    // A forged form is refused before anything.
    let (client, _) = app.login("coordinator").await;
    let r = client.post(app.url(&run)).form(&[("csrf", "forged"), ("apercu", "x")]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn the_api_previews_sends_and_reports() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let (coordinator, _) = app.login("coordinator").await;
        let jeanne = register(&coordinator, &app, &JEANNE).await;
        let capacity = [("national_id", MARTIN), ("kind", "per_month"), ("count", "2")];
        assert_eq!(post(&coordinator, &app, &format!("/cpts/{b}/acces-soins/medecins"), &capacity).await.0, 200);

        let token = app.api_token("coordinator").await;
        let api = |path: &str| app.url(&format!("/api/v1/cpts/{b}/registry/{path}"));
        let http = reqwest::Client::new();
        let r = http.get(api("matching")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{engine:?}");
        let run: serde_json::Value = r.json().await.unwrap();
        assert_eq!(run["proposals"][0]["request"], jeanne.as_str());
        assert_eq!(run["proposals"][0]["doctor"], MARTIN);
        assert_eq!(run["proposals"][0]["because"], serde_json::json!(["age_at_least"]));
        assert_eq!(run["matched_by_class"]["1"], 1);
        assert_eq!(run["sent"], false);

        let send = |fingerprint: &str| {
            http.post(api("matching"))
                .bearer_auth(&token)
                .json(&serde_json::json!({ "fingerprint": fingerprint }))
                .send()
        };
        assert_eq!(send("nope").await.unwrap().status().as_u16(), 409);
        let r = send(run["fingerprint"].as_str().unwrap()).await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["sent"], true);
        assert_eq!(store.request(&b, &jeanne).await.unwrap().state.status, RequestStatus::Proposed);

        let r = http.get(api("indicators")).bearer_auth(&token).send().await.unwrap();
        let indicators: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            (indicators["overall"]["registered"].as_u64(), indicators["overall"]["proposed"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(indicators["monthly"].as_array().unwrap().len(), 12);

        let r = http.get(api("settings")).bearer_auth(&token).send().await.unwrap();
        let mut settings: serde_json::Value = r.json().await.unwrap();
        assert_eq!((settings["max_km"].as_f64(), settings["ald_class"].as_u64()), (Some(30.0), Some(1)));
        settings["max_km"] = serde_json::json!(500);
        settings["default_class"] = serde_json::json!(1);
        let r = http.put(api("settings")).bearer_auth(&token).json(&settings).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let error: serde_json::Value = r.json().await.unwrap();
        let paths: Vec<_> = error["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].clone()).collect();
        assert_eq!(paths, ["max_km", "default_class"]);
        settings["max_km"] = serde_json::json!(20);
        settings["default_class"] = serde_json::json!(2);
        let r = http.put(api("settings")).bearer_auth(&token).json(&settings).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(store.registry_settings(&b).await.unwrap().unwrap().max_km, 20.0);

        let member = app.api_token("member").await;
        let r = http.get(api("matching")).bearer_auth(&member).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403);
    }
}
