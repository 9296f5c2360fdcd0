//! Login, logout, sessions, throttling, CSRF, OpenID Connect.

use crate::helpers::*;
use maillage_web::Settings;

#[tokio::test]
async fn every_role_lands_on_its_home() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let expected = [
            ("admin", "/admin".to_owned()),
            ("national", "/national".to_owned()),
            ("ars-centre", "/region/24".to_owned()),
            ("coordinator", format!("/cpts/{}", app.cpts("blaisois"))),
            ("board", format!("/cpts/{}", app.cpts("blaisois"))),
            ("member", format!("/cpts/{}", app.cpts("blaisois"))),
        ];
        for (who, home) in expected {
            let (client, location) = app.login(who).await;
            assert_eq!(location, "/", "{engine:?} {who}");
            let r = client.get(app.url("/")).send().await.unwrap();
            assert_eq!(r.headers()["location"], home.as_str(), "{engine:?} {who}");
            let page = client.get(app.url(&home)).send().await.unwrap();
            assert_eq!(page.status(), 200, "{engine:?} {who} home");
        }
    }
}

#[tokio::test]
async fn wrong_password_and_throttling() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let client = app.client();
        let attempt = |password: &'static str| {
            let client = client.clone();
            let app = &app;
            async move {
                let csrf = app.csrf_of(&client, "/connexion").await;
                client
                    .post(app.url("/connexion"))
                    .form(&[("csrf", csrf.as_str()), ("email", email("coordinator")), ("password", password)])
                    .send()
                    .await
                    .unwrap()
            }
        };
        for _ in 0..5 {
            let r = attempt("wrong password!").await;
            assert_eq!(r.status(), 401);
            assert!(r.text().await.unwrap().contains("Adresse électronique ou mot de passe incorrect"));
        }
        // Locked now, even with the right password.
        let r = attempt(PASSWORD).await;
        assert_eq!(r.status(), 429, "{engine:?}");
        assert!(r.text().await.unwrap().contains("Trop de tentatives"));
        // The window passes.
        app.clock.advance(chrono::Duration::minutes(16));
        assert_eq!(attempt(PASSWORD).await.status(), 303);
        // Failures are in the platform's audit log.
        let (admin, _) = app.login("admin").await;
        let log = admin.get(app.url("/admin/journal")).send().await.unwrap().text().await.unwrap();
        assert!(log.contains("Échec de connexion") && log.contains("Connexion refusée"), "{engine:?}");
    }
}

#[tokio::test]
async fn unknown_account_is_refused_like_a_wrong_password() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = app.client();
    let csrf = app.csrf_of(&client, "/connexion").await;
    let r = client
        .post(app.url("/connexion"))
        .form(&[("csrf", csrf.as_str()), ("email", "nobody@test.maillage"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn login_form_needs_its_csrf_token() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = app.client();
    let _ = app.csrf_of(&client, "/connexion").await;
    for form in [
        vec![("email", email("coordinator")), ("password", PASSWORD)],
        vec![("csrf", "forged"), ("email", email("coordinator")), ("password", PASSWORD)],
    ] {
        let r = client.post(app.url("/connexion")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let app = spawn_app(Engine::Sqlite).await;
    let (client, _) = app.login("coordinator").await;
    let csrf = app.csrf_of(&client, "/compte").await;
    let r = client
        .post(app.url("/compte/jetons"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app(Engine::Sqlite).await;
    let (client, _) = app.login("coordinator").await;
    let home = format!("/cpts/{}", app.cpts("blaisois"));
    let csrf = app.csrf_of(&client, &home).await;
    let r = client.post(app.url("/deconnexion")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/connexion");
    let r = client.get(app.url(&home)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/connexion", "logged out");
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app(Engine::Sqlite).await;
    let (client, _) = app.login("coordinator").await;
    let home = format!("/cpts/{}", app.cpts("blaisois"));
    assert_eq!(client.get(app.url(&home)).send().await.unwrap().status(), 200);
    app.clock.advance(chrono::Duration::hours(13));
    assert_eq!(client.get(app.url(&home)).send().await.unwrap().status(), 303);
}

#[tokio::test]
async fn session_cookie_flags() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = app.client();
    let csrf = app.csrf_of(&client, "/connexion").await;
    let r = client
        .post(app.url("/connexion"))
        .form(&[("csrf", csrf.as_str()), ("email", email("member")), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("maillage_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http on loopback");
    // Behind https the cookie is Secure.
    let secure = spawn_app_with(
        Engine::Sqlite,
        Settings { public_url: "https://maillage.example".into(), ..Settings::default() },
        None,
    )
    .await;
    let client = secure.client();
    let csrf = secure.csrf_of(&client, "/connexion").await;
    let r = client
        .post(secure.url("/connexion"))
        .header("origin", "https://maillage.example")
        .form(&[("csrf", csrf.as_str()), ("email", email("member")), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("maillage_session="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(r.headers().contains_key("strict-transport-security"));
}

/// Two server processes on one database share sessions: the server keeps no state.
#[tokio::test]
async fn two_servers_share_sessions() {
    for engine in engines() {
        let a = spawn_app(engine).await;
        let b = spawn_app_with(engine, Settings::default(), Some(a.database_url.clone())).await;
        let (client, _) = a.login("coordinator").await;
        let home = format!("/cpts/{}", a.cpts("blaisois"));
        // Cookies are per host, not per port: the same client presents its session to B.
        let r = client.get(b.url(&home)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}: B knows A's session");
        // Logging out on B ends the session on A.
        let csrf = b.csrf_of(&client, &home).await;
        let r = client.post(b.url("/deconnexion")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(client.get(a.url(&home)).send().await.unwrap().status(), 303, "{engine:?}");
    }
}
