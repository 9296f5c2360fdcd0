//! The access matrix: every route against every role, on both engines. 200 allowed,
//! 403 forbidden, 404 another tenant's (its existence is not revealed), 303/401 anonymous.

use crate::helpers::*;

const ROLES: [&str; 7] = ["admin", "national", "ars-centre", "coordinator", "board", "member", "coordinator-rennes"];

/// (route, expected status per role in ROLES order, anonymous status)
fn matrix(app: &TestApp) -> Vec<(String, [u16; 7], u16)> {
    let b = app.cpts("blaisois");
    let r = app.cpts("rennes");
    vec![
        ("/admin".into(), [200, 403, 403, 403, 403, 403, 403], 303),
        ("/admin/comptes".into(), [200, 403, 403, 403, 403, 403, 403], 303),
        ("/admin/journal".into(), [200, 403, 403, 403, 403, 403, 403], 303),
        ("/admin/journal.csv".into(), [200, 403, 403, 403, 403, 403, 403], 303),
        ("/national".into(), [200, 200, 403, 403, 403, 403, 403], 303),
        ("/region/24".into(), [200, 200, 200, 403, 403, 403, 403], 303),
        ("/region/53".into(), [200, 200, 403, 403, 403, 403, 403], 303),
        ("/region/99".into(), [404, 404, 404, 404, 404, 404, 404], 303),
        ("/national/indicateurs".into(), [200, 200, 403, 403, 403, 403, 403], 303),
        ("/national/registre".into(), [200, 403, 403, 403, 403, 403, 403], 303),
        ("/national/registre.csv".into(), [200, 200, 403, 403, 403, 403, 403], 303),
        ("/national/tableaux/couverture.csv".into(), [200, 200, 403, 403, 403, 403, 403], 303),
        ("/national/tableaux/registre.xlsx".into(), [200, 200, 403, 403, 403, 403, 403], 303),
        ("/region/24/indicateurs".into(), [200, 200, 200, 403, 403, 403, 403], 303),
        ("/region/24/departements/41".into(), [200, 200, 200, 403, 403, 403, 403], 303),
        ("/region/53/indicateurs".into(), [200, 200, 403, 403, 403, 403, 403], 303),
        ("/region/24/registre.csv".into(), [200, 200, 200, 403, 403, 403, 403], 303),
        ("/region/24/tableaux/indicateurs.xlsx".into(), [200, 200, 200, 403, 403, 403, 403], 303),
        (format!("/cpts/{b}"), [200, 200, 200, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/territoire"), [200, 200, 200, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/journal"), [200, 403, 403, 200, 403, 403, 404], 303),
        (format!("/cpts/{b}/journal.csv"), [200, 403, 403, 200, 403, 403, 404], 303),
        (format!("/cpts/{b}/comptes"), [200, 403, 403, 200, 403, 403, 404], 303),
        (format!("/cpts/{r}"), [200, 200, 404, 404, 404, 404, 200], 303),
        // The ACI contract: its governance and the ARS/CPAM of the région.
        (format!("/cpts/{b}/contrat"), [200, 403, 200, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/depenses"), [200, 403, 200, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/depenses.csv"), [200, 403, 200, 200, 200, 403, 404], 303),
        (format!("/api/v1/cpts/{b}/expenses"), [200, 403, 200, 200, 200, 403, 404], 401),
        // The directory: personal data of professionals for the CPTS's people; aggregates for
        // observers.
        (format!("/cpts/{b}/annuaire"), [200, 403, 403, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/annuaire/imports"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/annuaire/export?format=csv"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/annuaire/adherents/import"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/annuaire/statistiques"), [200, 200, 200, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/structures"), [200, 403, 403, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/structures/nouvelle"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/adhesions"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/adhesions.csv"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/api/v1/cpts/{b}/directory"), [200, 403, 403, 200, 200, 200, 404], 401),
        (format!("/api/v1/cpts/{b}/directory/export?format=csv"), [200, 403, 403, 200, 200, 403, 404], 401),
        // The registry of patients without a médecin traitant: health data for the coordination
        // and board; member professionals register only; the public form for everybody.
        (format!("/cpts/{b}/acces-soins/patients"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/acces-soins/patients/nouvelle"), [200, 403, 403, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/acces-soins/patients/enregistree"), [200, 403, 403, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/acces-soins/patients/p-0000000000000000"), [404, 403, 403, 404, 404, 403, 404], 303),
        (format!("/cpts/{b}/acces-soins/patients/p-0000000000000000/export"), [404, 403, 403, 404, 404, 403, 404], 303),
        (format!("/cpts/{b}/acces-soins/medecins"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/acces-soins/appariement"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/acces-soins/reglages"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/acces-soins/indicateurs"), [200, 403, 403, 200, 200, 403, 404], 303),
        (format!("/cpts/{b}/acces-soins/mes-patients"), [200, 403, 403, 200, 200, 200, 404], 303),
        (format!("/cpts/{b}/inscription"), [200, 200, 200, 200, 200, 200, 200], 200),
        ("/cpts/00000000-0000-4000-8000-000000000000/inscription".into(), [404, 404, 404, 404, 404, 404, 404], 404),
        // The public ACI simulator.
        ("/aci/simulateur".into(), [200, 200, 200, 200, 200, 200, 200], 200),
        ("/api/v1/aci/rule-sets".into(), [200, 200, 200, 200, 200, 200, 200], 200),
        ("/cpts/00000000-0000-4000-8000-000000000000".into(), [404, 404, 404, 404, 404, 404, 404], 303),
        ("/cpts/not-a-uuid".into(), [404, 404, 404, 404, 404, 404, 404], 303),
        ("/compte".into(), [200, 200, 200, 200, 200, 200, 200], 303),
        ("/api/v1/me".into(), [200, 200, 200, 200, 200, 200, 200], 401),
        ("/api/v1/cpts".into(), [200, 200, 200, 200, 200, 200, 200], 401),
        (format!("/api/v1/cpts/{b}"), [200, 200, 200, 200, 200, 200, 404], 401),
        (format!("/api/v1/cpts/{r}"), [200, 200, 404, 404, 404, 404, 200], 401),
        (format!("/api/v1/cpts/{b}/accounts"), [200, 403, 403, 200, 403, 403, 404], 401),
        (format!("/api/v1/cpts/{b}/audit"), [200, 403, 403, 200, 403, 403, 404], 401),
        ("/api/v1/accounts".into(), [200, 403, 403, 403, 403, 403, 403], 401),
        ("/api/v1/audit".into(), [200, 403, 403, 403, 403, 403, 403], 401),
        ("/api/v1/tokens".into(), [200, 200, 200, 200, 200, 200, 200], 401),
        // Public reference data.
        ("/api/v1/communes/41018".into(), [200, 200, 200, 200, 200, 200, 200], 200),
        ("/connexion".into(), [303, 303, 303, 303, 303, 303, 303], 200),
        ("/healthz".into(), [200, 200, 200, 200, 200, 200, 200], 200),
    ]
}

#[tokio::test]
async fn every_route_refuses_whom_it_must() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let anonymous = app.client();
        let mut clients = Vec::new();
        for who in ROLES {
            clients.push(app.login(who).await.0);
        }
        let mut failures = Vec::new();
        for (route, expected, anon) in matrix(&app) {
            for ((who, client), want) in ROLES.iter().zip(&clients).zip(expected) {
                let got = client.get(app.url(&route)).send().await.unwrap().status().as_u16();
                if got != want {
                    failures.push(format!("{engine:?} {who:>18} GET {route}: {got}, expected {want}"));
                }
            }
            let got = anonymous.get(app.url(&route)).send().await.unwrap().status().as_u16();
            if got != anon {
                failures.push(format!("{engine:?} anonymous GET {route}: {got}, expected {anon}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

/// Lists show each role only what it may see: no other tenant in any list.
#[tokio::test]
async fn lists_never_leak() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        for (who, names) in [
            ("admin", vec!["CPTS du Blaisois", "CPTS du Vendômois", "CPTS Rennes Nord"]),
            ("national", vec!["CPTS du Blaisois", "CPTS du Vendômois", "CPTS Rennes Nord"]),
            ("ars-centre", vec!["CPTS du Blaisois", "CPTS du Vendômois"]),
            ("coordinator", vec!["CPTS du Blaisois"]),
            ("member", vec!["CPTS du Blaisois"]),
            ("coordinator-rennes", vec!["CPTS Rennes Nord"]),
        ] {
            let (client, _) = app.login(who).await;
            let list: serde_json::Value =
                client.get(app.url("/api/v1/cpts")).send().await.unwrap().json().await.unwrap();
            let mut got: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
            let mut want = names.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{engine:?} {who}");
        }
        // A coordinator's account list holds her CPTS's people only.
        let (client, _) = app.login("coordinator").await;
        let url = app.url(&format!("/api/v1/cpts/{}/accounts", app.cpts("blaisois")));
        let accounts: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
        let emails: Vec<&str> = accounts.as_array().unwrap().iter().map(|a| a["email"].as_str().unwrap()).collect();
        assert_eq!(emails.len(), 3, "{emails:?}");
        assert!(emails.iter().all(|e| e.contains("blaisois")), "{emails:?}");
        // The observer pages show aggregates only: no e-mail address anywhere.
        let (ars, _) = app.login("ars-centre").await;
        for path in ["/region/24".to_owned(), format!("/cpts/{}", app.cpts("blaisois"))] {
            let html = ars.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
            assert!(!html.contains("@blaisois"), "{engine:?}: personal data on {path}");
        }
    }
}

/// Writes refuse other tenants and roles too.
#[tokio::test]
async fn writes_are_refused_across_tenants() {
    let app = spawn_app(Engine::Sqlite).await;
    let (rennes, _) = app.login("coordinator-rennes").await;
    let (member, _) = app.login("member").await;
    let b = app.cpts("blaisois");
    for (client, want) in [(&rennes, 404), (&member, 403)] {
        // A valid CSRF token of the caller's own session, on another CPTS's form.
        let csrf = app.csrf_of(client, "/compte").await;
        let r = client
            .post(app.url(&format!("/cpts/{b}/territoire")))
            .form(&[("csrf", csrf.as_str()), ("communes", "41018")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want);
        let r = client
            .post(app.url(&format!("/cpts/{b}/comptes")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("display_name", "X"),
                ("email", "x@y.fr"),
                ("role", "member_professional"),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.status() == 404 || r.status() == 403, "{}", r.status());
        let r = client
            .post(app.url("/admin/cpts"))
            .form(&[("csrf", csrf.as_str()), ("name", "X"), ("communes", "41018")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    // A coordinator cannot grant herself admin through the API.
    let (coordinator, _) = app.login("coordinator").await;
    let home = format!("/cpts/{b}");
    let csrf = app.csrf_of(&coordinator, &home).await;
    let r = coordinator
        .post(app.url(&format!("/api/v1/cpts/{b}/accounts")))
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({"email": "evil@x.fr", "display_name": "Evil", "role": "platform_admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
