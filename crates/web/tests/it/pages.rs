//! The French pages: content, forms, htmx partials, headers, audit trail.

use crate::helpers::*;

#[tokio::test]
async fn cpts_home_shows_territory_map_and_counts() {
    let app = spawn_app(Engine::Sqlite).await;
    let (client, _) = app.login("coordinator").await;
    let html =
        client.get(app.url(&format!("/cpts/{}", app.cpts("blaisois")))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("<h1>CPTS du Blaisois</h1>"));
    // Population = Blois + Vineuil + La Chaussée-Saint-Victor from the reference data.
    let r = maillage_core::refdata::Reference::embedded();
    let population: u32 = ["41018", "41295", "41047"].iter().map(|c| r.commune(c).unwrap().population).sum();
    assert!(html.contains(&maillage_web::pages::fr_int(&u64::from(population))), "population shown");
    assert!(html.contains("<svg") && html.matches("commune membre").count() == 3, "map of 3 communes");
    assert!(html.contains("Taille 2"));
    // Modules not built yet are shown as such, never with content.
    assert!(html.contains("Parcours <span class=\"badge\">bientôt</span>"));
    let access = format!("href=\"/cpts/{}/acces-soins/patients\">Accès aux soins</a>", app.cpts("blaisois"));
    assert!(html.contains(&access), "access to care is built");
}

#[tokio::test]
async fn security_headers_everywhere() {
    let app = spawn_app(Engine::Sqlite).await;
    for path in ["/connexion", "/api/v1/communes/41018", "/static/maillage.css", "/nope"] {
        let r = app.client().get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert!(h.contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn territory_edit_is_atomic_and_explains_every_error() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let (client, _) = app.login("coordinator").await;
        let path = format!("/cpts/{}/territoire", app.cpts("blaisois"));
        let csrf = app.csrf_of(&client, &path).await;
        let r = client
            .post(app.url(&path))
            .form(&[("csrf", csrf.as_str()), ("communes", "41018, 41295, 99999, 69232")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("99999") && html.contains("69123"), "both problems named");
        assert!(html.contains("41018, 41295, 99999, 69232"), "the input is kept for correction");
        // Nothing changed.
        let api: serde_json::Value = client
            .get(app.url(&format!("/api/v1/cpts/{}", app.cpts("blaisois"))))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(api["territory"]["communes"].as_array().unwrap().len(), 3);
        let r = client
            .post(app.url(&path))
            .form(&[("csrf", csrf.as_str()), ("communes", "41018 41295")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("Territoire enregistré"));
        let api: serde_json::Value = client
            .get(app.url(&format!("/api/v1/cpts/{}", app.cpts("blaisois"))))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(api["territory"]["communes"].as_array().unwrap().len(), 2, "{engine:?}");
    }
}

#[tokio::test]
async fn reading_personal_data_is_audited_and_exportable() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let (client, _) = app.login("coordinator").await;
        let b = app.cpts("blaisois");
        let accounts = client.get(app.url(&format!("/cpts/{b}/comptes"))).send().await.unwrap();
        assert_eq!(accounts.status(), 200);
        let journal = client.get(app.url(&format!("/cpts/{b}/journal"))).send().await.unwrap().text().await.unwrap();
        assert!(journal.contains("Personne coordinator"), "who");
        assert!(journal.contains("<td>Consultation</td><td class=\"coupe\" title=\"accounts "), "what: {engine:?}");
        // htmx asks for the rows only.
        let partial = client
            .get(app.url(&format!("/cpts/{b}/journal?page=0")))
            .header("hx-request", "true")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(partial.starts_with("<table") && !partial.contains("<html"));
        let csv = client.get(app.url(&format!("/cpts/{b}/journal.csv"))).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        assert!(text.starts_with("\u{feff}date,cpts,compte,role,action,objet,identifiant,requete,detail\r\n"));
        assert!(text.contains("\"read\",\"accounts\""));
        // Another CPTS's log does not show these events.
        let (other, _) = app.login("coordinator-vendome").await;
        let log = other
            .get(app.url(&format!("/cpts/{}/journal", app.cpts("vendomois"))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!log.contains("Personne coordinator<"), "{engine:?}");
    }
}

#[tokio::test]
async fn coordinator_creates_a_member_account() {
    let app = spawn_app(Engine::Sqlite).await;
    let (client, _) = app.login("coordinator").await;
    let path = format!("/cpts/{}/comptes", app.cpts("blaisois"));
    let csrf = app.csrf_of(&client, &path).await;
    let form = |email: &'static str, role: &'static str, password: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("display_name", "Dr Ana Lopes".into()),
            ("email", email.into()),
            ("role", role.into()),
            ("password", password.into()),
        ]
    };
    let html = client
        .post(app.url(&path))
        .form(&form("ana@lopes.fr", "member_professional", "un mot de passe assez long"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Compte créé pour Dr Ana Lopes"));
    let html = client.post(app.url(&path)).form(&form("ana2@lopes.fr", "coordinator", "")).send().await.unwrap();
    assert_eq!(html.status(), 403, "a coordinator grants board and member roles only");
    let html = client
        .post(app.url(&path))
        .form(&form("pas-une-adresse", "member_professional", ""))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Adresse électronique invalide"));
    // The new member logs in.
    let member = app.client();
    let csrf = app.csrf_of(&member, "/connexion").await;
    let r = member
        .post(app.url("/connexion"))
        .form(&[("csrf", csrf.as_str()), ("email", "ana@lopes.fr"), ("password", "un mot de passe assez long")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn password_change() {
    let app = spawn_app(Engine::Sqlite).await;
    let (client, _) = app.login("board").await;
    let csrf = app.csrf_of(&client, "/compte").await;
    let r = client
        .post(app.url("/compte/mot-de-passe"))
        .form(&[("csrf", csrf.as_str()), ("current", "wrong"), ("new", "another long password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = client
        .post(app.url("/compte/mot-de-passe"))
        .form(&[("csrf", csrf.as_str()), ("current", PASSWORD), ("new", "another long password")])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Mot de passe changé"));
    let c = app.client();
    let csrf = app.csrf_of(&c, "/connexion").await;
    let r = c
        .post(app.url("/connexion"))
        .form(&[("csrf", csrf.as_str()), ("email", email("board")), ("password", "another long password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn admin_changes_a_role_from_the_account_page() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let (admin, _) = app.login("admin").await;
        let accounts: serde_json::Value =
            admin.get(app.url("/api/v1/accounts")).send().await.unwrap().json().await.unwrap();
        let member = accounts.as_array().unwrap().iter().find(|a| a["email"] == email("member")).unwrap();
        let path = format!("/admin/comptes/{}", member["id"].as_str().unwrap());
        let csrf = app.csrf_of(&admin, &path).await;
        let form = [("csrf", csrf.as_str()), ("role", "regional_observer"), ("region", "53"), ("agency", "cpam")];
        let html = admin.post(app.url(&format!("{path}/role"))).form(&form).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Rôle de Personne member : Observatoire régional"), "{engine:?}");
        let form = [("csrf", csrf.as_str()), ("role", "coordinator"), ("region", ""), ("agency", "")];
        let html = admin.post(app.url(&format!("{path}/role"))).form(&form).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("rattaché à une CPTS"), "a coordinator needs a CPTS");
        // The person now lands on the Bretagne observatory.
        let (client, _) = app.login("member").await;
        assert_eq!(client.get(app.url("/")).send().await.unwrap().headers()["location"], "/region/53");
    }
}

#[tokio::test]
async fn refusal_pages_keep_the_navigation() {
    let app = spawn_app(Engine::Sqlite).await;
    let (member, _) = app.login("member").await;
    let r = member.get(app.url(&format!("/cpts/{}/journal", app.cpts("blaisois")))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().contains_key("content-security-policy"));
    let html = r.text().await.unwrap();
    assert!(html.contains("Erreur 403") && html.contains("Se déconnecter") && html.contains(">Territoire</a>"));
    // Anonymous visitors get the bare page (no OpenID provider configured here: 404).
    let html = app.client().get(app.url("/auth/oidc/start")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Erreur 404") && !html.contains("Se déconnecter"));
}
