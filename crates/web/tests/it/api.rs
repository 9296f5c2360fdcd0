//! The JSON API: public reference data, tokens, writes with CSRF, errors.

use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test]
async fn reference_data_is_public() {
    let app = spawn_app(Engine::Sqlite).await;
    let c = app.client();
    let t: Value = c.get(app.url("/api/v1/territory?communes=41018,41269")).send().await.unwrap().json().await.unwrap();
    let communes = t["communes"].as_array().unwrap();
    assert_eq!(communes.len(), 2);
    let sum: u64 = communes.iter().map(|c| c["population"].as_u64().unwrap()).sum();
    assert_eq!(t["population"].as_u64().unwrap(), sum);
    assert_eq!(t["size_class"], 2);
    let r = c.get(app.url("/api/v1/territory?communes=41018,99999,4101")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["problems"].as_array().unwrap().len(), 2);
    let near: Value = c.get(app.url("/api/v1/communes/41018/near?km=8")).send().await.unwrap().json().await.unwrap();
    assert_eq!(near[0]["code"], "41018");
    assert_eq!(c.get(app.url("/api/v1/communes/41018/near?km=-1")).send().await.unwrap().status(), 400);
    assert_eq!(c.get(app.url("/api/v1/communes/99999")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn api_tokens_authenticate_machine_clients() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let (browser, _) = app.login("ars-centre").await;
        let csrf = app.csrf_of(&browser, "/compte").await;
        // A write from the browser session without the CSRF header is refused.
        let r = browser.post(app.url("/api/v1/tokens")).json(&json!({"name": "tableau"})).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let created: Value = browser
            .post(app.url("/api/v1/tokens"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "tableau de bord régional"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = created["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("mlg_"));
        let machine = reqwest::Client::new();
        let me: Value =
            machine.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["email"], email("ars-centre"));
        assert_eq!(me["role"], "regional_observer");
        let list: Value =
            machine.get(app.url("/api/v1/cpts")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2, "région 24 only");
        // A wrong token is refused, not treated as anonymous.
        assert_eq!(machine.get(app.url("/api/v1/me")).bearer_auth("mlg_wrong").send().await.unwrap().status(), 401);
        assert_eq!(
            machine.get(app.url("/api/v1/communes/41018")).bearer_auth("mlg_wrong").send().await.unwrap().status(),
            200
        );
        // Revoked, it stops working.
        let id = created["id"].as_str().unwrap();
        let r = browser
            .delete(app.url(&format!("/api/v1/tokens/{id}")))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            machine.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(),
            401,
            "{engine:?}"
        );
    }
}

#[tokio::test]
async fn admin_creates_cpts_and_accounts_through_the_api() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let (admin, _) = app.login("admin").await;
        let csrf = app.csrf_of(&admin, "/admin").await;
        let post = |path: &str, body: Value| admin.post(app.url(path)).header("x-csrf-token", &csrf).json(&body).send();
        let r =
            post("/api/v1/cpts", json!({"name": "CPTS Sud Loire", "communes": ["41031", "41029", "99999", "41031"]}))
                .await
                .unwrap();
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        let msg = e["error"]["message_fr"].as_str().unwrap();
        assert!(msg.contains("99999") && msg.contains("deux fois"), "{msg}");
        let r = post("/api/v1/cpts", json!({"name": "CPTS Sud Loire", "communes": ["41031", "41029"]})).await.unwrap();
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["territory"]["communes"].as_array().unwrap().len(), 2);
        assert_eq!(
            post("/api/v1/cpts", json!({"name": "cpts sud loire", "communes": ["41031"]})).await.unwrap().status(),
            409
        );
        let id = created["id"].as_str().unwrap();
        let r = post("/api/v1/accounts", json!({"email": "coord@sudloire.fr", "display_name": "Coord", "role": "coordinator", "cpts": id, "password": "a long enough password"})).await.unwrap();
        assert_eq!(r.status(), 201, "{engine:?}");
        let r = post("/api/v1/accounts", json!({"email": "x@sudloire.fr", "display_name": "X", "role": "coordinator"}))
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "a coordinator needs a CPTS");
        let r = post("/api/v1/accounts", json!({"email": "short@sudloire.fr", "display_name": "S", "role": "national_observer", "password": "short"})).await.unwrap();
        assert_eq!(r.status(), 422, "weak password");
        let r = post(
            "/api/v1/accounts",
            json!({"email": "COORD@sudloire.fr", "display_name": "Dup", "role": "national_observer"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 409, "same e-mail, other case");
        // Every change is in the audit log of the new CPTS.
        let log: Value =
            admin.get(app.url(&format!("/api/v1/cpts/{id}/audit"))).send().await.unwrap().json().await.unwrap();
        let actions: Vec<(&str, &str)> = log["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["object_type"].as_str().unwrap()))
            .collect();
        assert!(actions.contains(&("create", "cpts")) && actions.contains(&("create", "account")), "{actions:?}");
    }
}

#[tokio::test]
async fn account_changes_respect_roles() {
    let app = spawn_app(Engine::Sqlite).await;
    let (coordinator, _) = app.login("coordinator").await;
    let b = app.cpts("blaisois");
    let csrf = app.csrf_of(&coordinator, &format!("/cpts/{b}")).await;
    let accounts: Value =
        coordinator.get(app.url(&format!("/api/v1/cpts/{b}/accounts"))).send().await.unwrap().json().await.unwrap();
    let member = accounts.as_array().unwrap().iter().find(|a| a["role"] == "member_professional").unwrap();
    let me = accounts.as_array().unwrap().iter().find(|a| a["role"] == "coordinator").unwrap();
    let patch = |id: &str, body: Value| {
        coordinator.patch(app.url(&format!("/api/v1/accounts/{id}"))).header("x-csrf-token", &csrf).json(&body).send()
    };
    let r = patch(member["id"].as_str().unwrap(), json!({"disabled": true})).await.unwrap();
    assert_eq!(r.status(), 200);
    let r =
        patch(member["id"].as_str().unwrap(), json!({"role": "board_member", "cpts": b.to_string()})).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = patch(me["id"].as_str().unwrap(), json!({"disabled": true})).await.unwrap();
    assert_eq!(r.status(), 422, "not oneself");
    // The disabled member can no longer log in.
    let client = app.client();
    let csrf = app.csrf_of(&client, "/connexion").await;
    let r = client
        .post(app.url("/connexion"))
        .form(&[("csrf", csrf.as_str()), ("email", email("member")), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Another CPTS's coordinator cannot touch this account: not found.
    let (rennes, _) = app.login("coordinator-rennes").await;
    let csrf = app.csrf_of(&rennes, "/compte").await;
    let r = rennes
        .patch(app.url(&format!("/api/v1/accounts/{}", member["id"].as_str().unwrap())))
        .header("x-csrf-token", &csrf)
        .json(&json!({"disabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
