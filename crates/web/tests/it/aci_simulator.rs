//! The public ACI simulator: the page `/aci/simulateur` (with and without login, htmx fragment,
//! French messages on faulty inputs) and the JSON API under `/api/v1/aci`.

use crate::helpers::*;
use maillage_core::aci::{MissionId, Rate, Scenario, rules, simulate};
use maillage_core::territory::SizeClass;
use serde_json::Value;

const PAGE: &str = "/aci/simulateur";

/// `287 500 €` as the pages write it.
fn eur(n: &str) -> String {
    format!("{}\u{a0}€", n.replace(' ', "\u{202f}"))
}

/// Text as askama writes it in an HTML page (apostrophes escaped).
fn escaped(text: &str) -> String {
    text.replace('\'', "&#39;")
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_page_needs_no_login_and_computes_each_size() {
    let app = spawn_app(Engine::Sqlite).await;
    let anonymous = app.client();
    for (size, total) in [(1, "287 500"), (4, "580 000")] {
        let path = format!(
            "{PAGE}?rules=avenant-2&basis=size&size={size}&contract_year=1&missions=all&achievement=100&crisis=true"
        );
        let (status, html) = get(&app, &anonymous, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("<html lang=\"fr\">") && html.contains("<h1>Simulateur de financement ACI</h1>"));
        assert!(html.contains(&format!("<span id=\"total-annee\">{}</span>", eur(total))), "taille {size}: {total}");
        // The year's total equals the text's maximum, shown too, and the bar chart is drawn.
        assert!(html.matches(&eur(total)).count() >= 3, "total and maximum");
        assert!(html.contains("<svg") && html.matches("<g class=\"enveloppe\"").count() == 7);
        // Explanations, sources and the UNVERIFIED entries are shown.
        assert_eq!(html.matches("<details class=\"explication\">").count(), 7);
        assert!(html.contains("première année de la mission, rédaction du plan de crise"));
        assert!(html.contains(&escaped("hypothèse d'une crise sanitaire grave cette année")));
        assert!(html.contains("<h3>Sources</h3>") && html.contains("seed-004"));
        assert!(html.contains("<h3>Points non vérifiés</h3>") && html.contains("population_change"));
        // Five years: the crisis plan is written in year 1, then updated.
        assert_eq!(html.matches("<th scope=\"row\">Année ").count(), 5);
        assert!(!html.contains("Se déconnecter"));
    }
    // The navigation offers it to anonymous visitors, marked as the current page.
    let (_, html) = get(&app, &anonymous, PAGE).await;
    assert!(html.contains("<a href=\"/aci/simulateur\" aria-current=\"page\">Simulateur ACI</a>"));
    assert!(html.contains("<a href=\"/connexion\">Connexion</a>"));
    // First visit: the socle missions are checked, the optional ones are not.
    for (mission, checked) in [("acces", true), ("crise", true), ("qualite", false), ("accompagnement", false)] {
        let input = format!("id=\"mission-{mission}\" name=\"missions\" value=\"{mission}\"");
        assert!(html.contains(&input), "{mission}");
        assert_eq!(html.contains(&format!("{input} checked")), checked, "{mission} checked: {checked}");
    }
    // Taille 1, socle missions, no crisis: 50 000 + 80 000 + 50 000 + 20 000 + 25 000.
    assert!(html.contains(&format!("<span id=\"total-annee\">{}</span>", eur("225 000"))));
    // The login page links to it.
    let (_, login) = get(&app, &anonymous, "/connexion").await;
    assert!(login.contains("<a href=\"/aci/simulateur\">Simuler le financement d'une CPTS</a>"));
}

#[tokio::test]
async fn logged_in_people_keep_their_navigation() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let (client, _) = app.login("coordinator").await;
        let (status, html) = get(&app, &client, &format!("{PAGE}?size=2")).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("Se déconnecter") && html.contains(">Territoire</a>"), "{engine:?}");
        assert!(html.contains("<a href=\"/aci/simulateur\" aria-current=\"page\">Simulateur ACI</a>"));
        // And the simulator is in the navigation of their other pages.
        let (_, home) = get(&app, &client, &format!("/cpts/{}", app.cpts("blaisois"))).await;
        assert!(home.contains("<a href=\"/aci/simulateur\">Simulateur ACI</a>"), "{engine:?}");
    }
}

#[tokio::test]
async fn population_gives_the_size_class() {
    let app = spawn_app(Engine::Sqlite).await;
    let (status, html) = get(&app, &app.client(), &format!("{PAGE}?basis=population&population=50000")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Année 1 du contrat, taille 2 :"), "taille 2");
    assert!(html.contains(&escaped("d'après la population de 50\u{202f}000 habitants")));
    assert!(html.contains("id=\"basis-population\" name=\"basis\" value=\"population\" checked"));
    // Thousands separated by spaces are read too.
    let (status, html) = get(&app, &app.client(), &format!("{PAGE}?basis=population&population=180%20000")).await;
    assert_eq!(status, 200);
    assert!(html.contains("taille 4 :"));
}

#[tokio::test]
async fn faulty_inputs_are_explained_next_to_their_field() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = app.client();
    let cases = [
        ("size=7", "size", "La taille doit être 1, 2, 3 ou 4 (reçu : « 7 »)."),
        (
            "size=1&contract_year=0",
            "contract_year",
            "L'année du contrat doit être comprise entre 1 et 5 (reçu : « 0 »).",
        ),
        (
            "size=1&achievement=150",
            "achievement",
            "Le taux d'atteinte est un pourcentage compris entre 0 et 100 (reçu : « 150 »).",
        ),
        ("size=1&missions=acces&missions=nope", "missions", "Mission inconnue : « nope »"),
        (
            "size=1&rules=avenant-9",
            "rules",
            "Texte inconnu : « avenant-9 » (textes disponibles : aci-2019, avenant-2).",
        ),
        ("basis=population&population=beaucoup", "population", "La population doit être un nombre entier d'habitants"),
        ("basis=population", "population", "Indiquez la population du territoire"),
    ];
    for (query, field, message) in cases {
        let (status, html) = get(&app, &client, &format!("{PAGE}?{query}")).await;
        assert_eq!(status, 422, "{query}");
        let message = escaped(message);
        let slot = format!("<div id=\"erreur-{field}\"><p class=\"erreur\">{message}");
        assert!(html.contains(&slot), "{query}: {slot} not in the page");
        assert!(html.contains("Le calcul n'a pas pu être fait"), "{query}");
        assert!(!html.contains("id=\"total-annee\""), "{query}: no result");
    }
    // The input is kept for correction.
    let (_, html) = get(&app, &client, &format!("{PAGE}?size=1&achievement=150")).await;
    assert!(
        html.contains("name=\"achievement\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" value=\"150\"")
    );
}

#[tokio::test]
async fn htmx_gets_the_result_fragment() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = app.client();
    let htmx = |path: &str| client.get(app.url(path)).header("hx-request", "true");
    let r = htmx(&format!("{PAGE}?size=4&missions=all&crisis=true")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["vary"], "HX-Request");
    let html = r.text().await.unwrap();
    assert!(!html.contains("<html") && !html.contains("<form"), "a fragment");
    assert!(html.contains(&format!("<span id=\"total-annee\">{}</span>", eur("580 000"))));
    assert!(html.contains("<div id=\"erreur-size\" hx-swap-oob=\"innerHTML\"></div>"), "messages cleared");
    assert!(html.contains("<p id=\"annonce-resultat\" hx-swap-oob=\"innerHTML\">"));
    // A faulty input: the message reaches its field (htmx swaps 2xx answers only).
    let r = htmx(&format!("{PAGE}?size=9")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<div id=\"erreur-size\" hx-swap-oob=\"innerHTML\"><p class=\"erreur\">La taille doit être"));
    // Restoring a page from history needs the whole page.
    let r = htmx(&format!("{PAGE}?size=4")).header("hx-history-restore-request", "true").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("<html"));
}

#[tokio::test]
async fn security_headers_hold_and_nothing_is_inline() {
    let app = spawn_app(Engine::Sqlite).await;
    let r = app.client().get(app.url(&format!("{PAGE}?size=3&missions=all&crisis=true"))).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let html = r.text().await.unwrap();
    // Scripts only from files, no style attribute, no event handler attribute.
    for script in html.split("<script").skip(1) {
        assert!(script.trim_start().starts_with("src=\"/static/"), "inline script: <script{script}");
    }
    assert!(!html.contains(" style="), "style attribute");
    for handler in [" onclick=", " onchange=", " onload=", " oninput=", " onsubmit=", "javascript:"] {
        assert!(!html.contains(handler), "{handler}");
    }
}

fn scenario(size: SizeClass, year: u8, missions: &[MissionId], achievement: &str, crisis: bool) -> Scenario {
    Scenario {
        size,
        contract_year: year,
        missions: missions.iter().copied().chain([MissionId::Fonctionnement]).collect(),
        achievement: Rate::parse(achievement).unwrap(),
        crisis,
    }
}

#[tokio::test]
async fn api_simulation_is_the_core_computation() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = reqwest::Client::new();
    let avenant = rules::embedded("avenant-2").unwrap();
    let cases = [
        (
            "rules=avenant-2&size=2&contract_year=1&missions=acces,parcours&achievement=100&crisis=true",
            avenant,
            scenario(SizeClass::T2, 1, &[MissionId::Acces, MissionId::Parcours], "1", true),
        ),
        (
            "population=120000&contract_year=3&missions=acces&missions=crise&missions=qualite&achievement=87.5",
            avenant,
            scenario(SizeClass::T3, 3, &[MissionId::Acces, MissionId::Crise, MissionId::Qualite], "0.875", false),
        ),
        ("rules=aci-2019&size=4", rules::embedded("aci-2019").unwrap(), {
            let mut s = Scenario::all_missions(SizeClass::T4, 1);
            s.achievement = Rate::ONE;
            s
        }),
    ];
    for (query, rules, scenario) in cases {
        let r = client.get(app.url(&format!("/api/v1/aci/simulate?{query}"))).send().await.unwrap();
        assert_eq!(r.status(), 200, "{query}");
        let got: Value = r.json().await.unwrap();
        let want = simulate(rules, &scenario).unwrap();
        assert_eq!(got["rule_set"], rules.id, "{query}");
        assert_eq!(got["size"], scenario.size.number(), "{query}");
        assert_eq!(got["total_cents"], want.total.cents(), "{query}");
        assert_eq!(got["total_eur"], want.total.euros_decimal(), "{query}");
        assert_eq!(got["maximum_cents"], want.maximum.cents(), "{query}");
        let envelopes = got["envelopes"].as_array().unwrap();
        assert_eq!(envelopes.len(), want.envelopes.len(), "{query}");
        for (g, w) in envelopes.iter().zip(&want.envelopes) {
            assert_eq!(g["mission"], w.mission.as_str(), "{query}");
            assert_eq!(g["fixed_cents"], w.fixed.cents(), "{query} {}", w.mission);
            assert_eq!(g["variable_cents"], w.variable.cents(), "{query} {}", w.mission);
            assert_eq!(g["total_cents"], w.total.cents(), "{query} {}", w.mission);
            assert_eq!(g["fixed_eur"], w.fixed.euros_decimal(), "{query} {}", w.mission);
            let explanations = g["explanations"].as_array().unwrap();
            assert_eq!(explanations.len(), w.explanations.len(), "{query} {}", w.mission);
            for (ge, we) in explanations.iter().zip(&w.explanations) {
                assert_eq!(ge["fr"], we.fr());
                assert_eq!(ge["en"], we.en());
            }
        }
        // Every year of the contract, for the same scenario.
        let years = got["years"].as_array().unwrap();
        assert_eq!(years.len(), usize::from(rules.contract_years), "{query}");
        for (y, g) in (1..).zip(years) {
            let want = simulate(rules, &Scenario { contract_year: y, ..scenario.clone() }).unwrap();
            assert_eq!(g["total_cents"], want.total.cents(), "{query}, year {y}");
        }
    }
    // Population 50 000 is taille 2, and says so.
    let got: Value =
        client.get(app.url("/api/v1/aci/simulate?population=50000")).send().await.unwrap().json().await.unwrap();
    assert_eq!((got["size"].as_u64(), got["population"].as_u64()), (Some(2), Some(50_000)));
    // Taille 4, everything: the maximum.
    let got: Value = client
        .get(app.url("/api/v1/aci/simulate?size=4&missions=all&crisis=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((got["total_eur"].as_str(), got["maximum_eur"].as_str()), (Some("580000.00"), Some("580000.00")));
}

#[tokio::test]
async fn api_errors_are_422_json_naming_the_parameter() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = reqwest::Client::new();
    let cases = [
        ("size=7", "invalid_size", "size: "),
        ("size=1&contract_year=0", "invalid_contract_year", "contract_year: "),
        ("size=1&achievement=150", "invalid_achievement", "achievement: "),
        ("size=1&missions=acces,nope", "unknown_mission", "missions: "),
        ("size=1&rules=nope", "unknown_rule_set", "rules: "),
        ("size=1&population=5000", "size_and_population", "size, population: "),
        ("contract_year=2", "missing_size", "size: "),
        ("population=-5", "invalid_population", "population: "),
        ("size=1&crisis=maybe", "invalid_crisis", "crisis: "),
    ];
    for (query, code, prefix) in cases {
        let r = client.get(app.url(&format!("/api/v1/aci/simulate?{query}"))).send().await.unwrap();
        assert_eq!(r.status(), 422, "{query}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], code, "{query}");
        assert!(e["error"]["message"].as_str().unwrap().starts_with(prefix), "{query}: {e}");
        assert!(!e["error"]["message_fr"].as_str().unwrap().is_empty(), "{query}");
    }
    // Every faulty parameter is listed.
    let e: Value = client
        .get(app.url("/api/v1/aci/simulate?size=9&contract_year=6&achievement=x"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "invalid_size");
    assert_eq!(e["error"]["problems"].as_array().unwrap().len(), 3, "{e}");
}

#[tokio::test]
async fn api_rule_sets() {
    let app = spawn_app(Engine::Sqlite).await;
    let client = reqwest::Client::new();
    let list: Value = client.get(app.url("/api/v1/aci/rule-sets")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["aci-2019", "avenant-2"]);
    let avenant = &list[1];
    assert_eq!(avenant["effective_from"], "2021-12-20");
    let maxima: Vec<i64> =
        avenant["maximum"].as_array().unwrap().iter().map(|m| m["cents"].as_i64().unwrap()).collect();
    assert_eq!(maxima, [28_750_000, 38_250_000, 48_750_000, 58_000_000]);
    assert_eq!(avenant["maximum"][0]["eur"], "287500.00");
    assert!(avenant["sources"].as_array().unwrap().iter().any(|s| s["key"] == "seed-004"));
    assert!(!avenant["unverified"].as_array().unwrap().is_empty());
    // aci-2019: the published maxima differ from the table's sum.
    assert_eq!(list[0]["published_maximum"][0]["eur"], "220000.00");

    let table: Value =
        client.get(app.url("/api/v1/aci/rule-sets/avenant-2")).send().await.unwrap().json().await.unwrap();
    assert_eq!(table["name"], "avenant-2");
    let rows = table["rows"].as_array().unwrap();
    // Operating funding, 5 missions × (fixed, variable), crisis × 3.
    assert_eq!(rows.len(), 1 + 5 * 2 + 3);
    let access = rows.iter().find(|r| r["rule"] == "missions.acces.fixed").unwrap();
    assert_eq!(access["amounts"][3]["eur"], "110000.00");
    assert_eq!(table["missions"].as_array().unwrap().len(), 6);
    assert_eq!(table["population_change"]["policy"], "reclassify_at_anniversary");

    let r = client.get(app.url("/api/v1/aci/rule-sets/avenant-9")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unknown_rule_set");
    // Documented.
    let doc: Value = serde_json::from_str(&maillage_web::openapi_json()).unwrap();
    for path in ["/api/v1/aci/rule-sets", "/api/v1/aci/rule-sets/{name}", "/api/v1/aci/simulate"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
}
