//! The JSON API of the ACI contract and its spending: a coordinator's script writes the
//! contract and the expenses with an API token and reads the funding, the payments and the
//! PASS; every role gets what the pages give it.

use crate::helpers::*;
use serde_json::{Value, json};

/// An API client acting for one person, with a bearer token (or anonymous).
struct Api<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    token: Option<String>,
}

impl<'a> Api<'a> {
    /// Logs `who` in and creates an API token on the session, as the "Mon compte" page does.
    async fn of(app: &'a TestApp, who: &str) -> Api<'a> {
        Api { app, client: reqwest::Client::new(), token: Some(app.api_token(who).await) }
    }

    fn anonymous(app: &'a TestApp) -> Api<'a> {
        Api { app, client: reqwest::Client::new(), token: None }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, self.app.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// Avenant 2, signed 15 March 2024, 52,000 inhabitants (taille 2), the four socle missions;
/// access to care from 1 June 2024 with one indicator reached at 75 % in year 1. Written as the
/// API gives it back (every field, missions in envelope order).
fn contract(cpts: &str) -> Value {
    let mission = |id: &str, started: Value| json!({"mission": id, "started_on": started, "deployed_on": null, "indicators": [], "crises": []});
    let mut acces = mission("acces", json!("2024-06-01"));
    acces["indicators"] = json!([{
        "name": "Patients orientés vers un médecin traitant",
        "kind": "result",
        "baseline": 0,
        "targets": {"1": 200, "2": 400},
        "weight": 1,
        "results": {"1": {"achieved": 150, "evidence": ["export-2025.csv", "CR bureau"]}},
    }]);
    json!({
        "cpts": cpts,
        "signed_on": "2024-03-15",
        "rule_set": "avenant-2",
        "population_at_signature": 52000,
        "population_updates": [],
        "missions": [
            acces,
            mission("parcours", json!("2024-03-15")),
            mission("prevention", json!(null)),
            mission("crise", json!("2024-03-15")),
        ],
    })
}

fn expense(spent_on: &str, envelope: &str, category: &str, payee_kind: &str, payee: &str, cents: i64) -> Value {
    json!({
        "spent_on": spent_on,
        "envelope": envelope,
        "category": category,
        "payee_kind": payee_kind,
        "payee": payee,
        "amount": cents,
        "receipt": "",
        "note": "",
    })
}

fn envelope<'v>(list: &'v Value, mission: &str) -> &'v Value {
    list.as_array().unwrap().iter().find(|e| e["mission"] == mission).unwrap_or_else(|| panic!("no {mission}: {list}"))
}

#[tokio::test]
async fn a_coordinator_writes_her_contract_with_a_token_and_reads_it_back() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let api = Api::of(&app, "coordinator").await;
        let b = app.cpts("blaisois").to_string();
        let path = format!("/api/v1/cpts/{b}/contract");

        let (status, e) = api.get(&path).await;
        assert_eq!((status, e["error"]["code"].as_str()), (404, Some("no_contract")), "{engine:?}");

        // Created: 201, revision 1. `cpts` may be left out: the path names the CPTS.
        let mut sent = contract(&b);
        let mut without_cpts = sent.clone();
        without_cpts.as_object_mut().unwrap().remove("cpts");
        let (status, doc) = api.put(&path, json!({"revision": null, "contract": without_cpts})).await;
        assert_eq!(status, 201, "{doc}");
        assert_eq!(doc["revision"], 1);
        assert_eq!(doc["contract"], sent);

        // Read back equal, with what follows from it on 24 November 2026 (contract year 3).
        let (status, doc) = api.get(&path).await;
        assert_eq!(status, 200);
        assert_eq!(doc["revision"], 1);
        assert_eq!(doc["contract"], sent);
        assert_eq!(doc["rule_set"]["name"], "avenant-2");
        assert_eq!(doc["rule_set"]["contract_years"], 5);
        assert_eq!(doc["size_class_at_signature"], 2);
        assert_eq!(doc["current_year"], 3);
        assert!(doc["updated_at"].as_str().unwrap().starts_with("2026-11-24"), "{doc}");
        let warnings = doc["warnings"].as_array().unwrap();
        let prevention = warnings
            .iter()
            .find(|w| w["code"] == "start_overdue" && w["mission"] == "prevention")
            .unwrap_or_else(|| panic!("prevention has not started: {warnings:?}"));
        assert!(prevention["fr"].as_str().unwrap().len() > 10 && prevention["en"].as_str().unwrap().len() > 10);

        // Created twice: 409.
        let (status, e) = api.put(&path, json!({"revision": null, "contract": sent})).await;
        assert_eq!(status, 409, "{e}");

        // Replaced with the revision read: 200, revision 2.
        sent["missions"][3]["crises"] = json!([{"declared_on": "2025-07-01", "name": "Canicule"}]);
        let (status, doc) = api.put(&path, json!({"revision": 1, "contract": sent})).await;
        assert_eq!(status, 200, "{doc}");
        assert_eq!(doc["revision"], 2);
        assert_eq!(doc["contract"], sent);

        // A client still on revision 1 cannot overwrite revision 2.
        let (status, e) = api.put(&path, json!({"revision": 1, "contract": contract(&b)})).await;
        assert_eq!(status, 409, "{e}");
        assert_eq!(e["error"]["code"], "conflict");

        // Invalid: every problem at once, each with its path; nothing written.
        let mut wrong = sent.clone();
        wrong["missions"][0]["deployed_on"] = json!("2024-01-01");
        wrong["missions"][0]["indicators"][0]["targets"]["6"] = json!(500);
        wrong["missions"][1]["indicators"] =
            json!([{"name": " ", "kind": "action", "baseline": 0, "targets": {}, "weight": 1}]);
        let (status, e) = api.put(&path, json!({"revision": 2, "contract": wrong})).await;
        assert_eq!(status, 422, "{e}");
        assert_eq!(e["error"]["code"], "invalid_contract");
        let details = e["error"]["details"].as_array().unwrap();
        let paths: Vec<(&str, &str)> =
            details.iter().map(|d| (d["code"].as_str().unwrap(), d["path"].as_str().unwrap())).collect();
        assert!(paths.contains(&("deployed_before_start", "missions.acces.deployed_on")), "{paths:?}");
        assert!(paths.contains(&("year_out_of_range", "missions.acces.indicators[0].targets.6")), "{paths:?}");
        assert!(paths.contains(&("name_required", "missions.parcours.indicators[0].name")), "{paths:?}");
        assert!(details.iter().all(|d| d["fr"].is_string() && d["en"].is_string()));
        assert!(e["error"]["message_fr"].as_str().unwrap().contains("avant son démarrage"), "{e}");
        let (_, doc) = api.get(&path).await;
        assert_eq!(doc["revision"], 2, "nothing written");

        // A body that is not a contract; an unknown text.
        let (status, e) = api.put(&path, json!({"revision": 2, "contract": {"rule_set": "avenant-2"}})).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_body")), "{e}");
        let mut unknown = sent.clone();
        unknown["rule_set"] = json!("avenant-9");
        let (status, e) = api.put(&path, json!({"revision": 2, "contract": unknown})).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("unknown_rule_set")), "{e}");

        // Both writes are in the CPTS's audit log.
        let (_, log) = api.get(&format!("/api/v1/cpts/{b}/audit")).await;
        let writes = log["events"].as_array().unwrap().iter().filter(|e| e["object_type"] == "aci_contract").count();
        assert_eq!(writes, 2, "{log}");
    }
}

#[tokio::test]
async fn a_contract_year_gives_its_funding_payments_balances_and_the_schedule() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let api = Api::of(&app, "coordinator").await;
        let b = app.cpts("blaisois").to_string();
        let (status, _) =
            api.put(&format!("/api/v1/cpts/{b}/contract"), json!({"revision": null, "contract": contract(&b)})).await;
        assert_eq!(status, 201);
        let expenses = format!("/api/v1/cpts/{b}/expenses");
        // Year 1 runs from 15 March 2024 to 14 March 2025; 15 March 2025 opens year 2.
        for (on, cents) in [("2024-05-10", 1_500_000), ("2025-03-14", 200_000), ("2025-03-15", 100_000)] {
            let (status, e) =
                api.post(&expenses, expense(on, "fonctionnement", "coordination", "salarie", "Salariée", cents)).await;
            assert_eq!(status, 201, "{e}");
        }
        let (status, e) = api
            .post(&expenses, expense("2024-07-01", "qualite", "formation", "prestataire", "Organisme", 50_000))
            .await;
        assert_eq!(status, 201, "{e}");

        let (status, year) = api.get(&format!("/api/v1/cpts/{b}/contract/years/1")).await;
        assert_eq!(status, 200, "{year}");
        assert_eq!(year["contract_year"], 1);
        assert_eq!(year["current_year"], 3);
        let funding = &year["funding"];
        assert_eq!((funding["size"].as_u64(), funding["contract_year"].as_u64()), (Some(2), Some(1)));
        assert_eq!(funding["period"], json!({"start": "2024-03-15", "end": "2025-03-15"}));
        // Taille 2: operating funding 60,000 €; access variable part 30,000 € × 75 % = 22,500 €.
        let operating = envelope(&funding["envelopes"], "fonctionnement");
        assert_eq!(operating["total_cents"], 6_000_000);
        assert_eq!(operating["total_eur"], "60000.00");
        let access = envelope(&funding["envelopes"], "acces");
        assert_eq!(access["variable_cents"], 2_250_000);
        assert_eq!(access["achievement"], "75.00%");
        let sum: i64 =
            funding["envelopes"].as_array().unwrap().iter().map(|e| e["total_cents"].as_i64().unwrap()).sum();
        assert_eq!(funding["total_cents"].as_i64().unwrap(), sum);
        let explained = access["explanations"].as_array().unwrap();
        assert!(!explained.is_empty() && explained.iter().all(|x| x["fr"].is_string() && x["en"].is_string()));
        // The year's payments: the operating funding at signature, already due.
        let payments = year["payments"].as_array().unwrap();
        let at_signature = payments.iter().find(|p| p["kind"] == "at_signature").unwrap();
        assert_eq!(at_signature["date"], "2024-03-15");
        assert_eq!(at_signature["amount_cents"], 6_000_000);
        assert_eq!(at_signature["due"], true);
        let paid: i64 = payments.iter().map(|p| p["amount_cents"].as_i64().unwrap()).sum();
        assert_eq!(paid, funding["total_cents"].as_i64().unwrap(), "the payments of a year add up to its funding");
        // Budget vs actual: the expenses of year 1 only.
        let balances = &year["balances"];
        let operating = envelope(&balances["envelopes"], "fonctionnement");
        assert_eq!(operating["entitlement_cents"], 6_000_000);
        assert_eq!(operating["spent_cents"], 1_700_000);
        assert_eq!(operating["left_cents"], 4_300_000);
        assert_eq!(operating["consumed"], "28.33%");
        assert_eq!(operating["over"], false);
        let quality = envelope(&balances["envelopes"], "qualite");
        assert_eq!((quality["entitlement_cents"].as_i64(), quality["over"].as_bool()), (Some(0), Some(true)));
        assert_eq!(balances["spent_cents"], 1_750_000);
        assert_eq!(year["expenses"].as_array().unwrap().len(), 3);
        assert!(year["expenses"].as_array().unwrap().iter().all(|e| e["spent_on"] != "2025-03-15"));

        for wrong in ["0", "6", "x", "300"] {
            let (status, e) = api.get(&format!("/api/v1/cpts/{b}/contract/years/{wrong}")).await;
            assert_eq!((status, e["error"]["code"].as_str()), (422, Some("year_out_of_range")), "{wrong}: {e}");
        }

        // The schedule: every payment, dated, and the five years.
        let (status, schedule) = api.get(&format!("/api/v1/cpts/{b}/contract/schedule")).await;
        assert_eq!(status, 200, "{schedule}");
        let payments = schedule["payments"].as_array().unwrap();
        assert_eq!(payments[0]["date"], "2024-03-15");
        let dates: Vec<&str> = payments.iter().map(|p| p["date"].as_str().unwrap()).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "by date");
        let total: i64 = payments.iter().map(|p| p["amount_cents"].as_i64().unwrap()).sum();
        assert_eq!(schedule["total_cents"].as_i64().unwrap(), total);
        assert!(payments.iter().any(|p| p["due"] == true) && payments.iter().any(|p| p["due"] == false));
        let projection = &schedule["projection"];
        let years = projection["years"].as_array().unwrap();
        assert_eq!(years.len(), 5);
        assert_eq!(years[4]["period"]["end"], "2029-03-15");
        let by_year: i64 = years.iter().map(|y| y["total_cents"].as_i64().unwrap()).sum();
        assert_eq!(projection["total_cents"].as_i64().unwrap(), by_year);
        assert_eq!(projection["total_cents"], schedule["total_cents"]);
        let by_mission: i64 =
            projection["by_mission"].as_array().unwrap().iter().map(|m| m["total_cents"].as_i64().unwrap()).sum();
        assert_eq!(by_mission, by_year);

        // Without a contract: 404 `no_contract`.
        let vendome = Api::of(&app, "coordinator-vendome").await;
        let v = app.cpts("vendomois");
        for path in [format!("/api/v1/cpts/{v}/contract/years/1"), format!("/api/v1/cpts/{v}/contract/schedule")] {
            let (status, e) = vendome.get(&path).await;
            assert_eq!((status, e["error"]["code"].as_str()), (404, Some("no_contract")), "{path}");
        }
    }
}

#[tokio::test]
async fn expenses_are_recorded_corrected_deleted_and_checked_against_the_pass() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let api = Api::of(&app, "coordinator").await;
        let b = app.cpts("blaisois").to_string();
        let expenses = format!("/api/v1/cpts/{b}/expenses");

        // Refused with every problem, each naming its field.
        let (status, e) = api.post(&expenses, expense("2025-01-10", "acces", "indemnisation", "salarie", " ", 0)).await;
        assert_eq!(status, 422, "{e}");
        assert_eq!(e["error"]["code"], "invalid_expense");
        let fields: Vec<&str> =
            e["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
        assert!(
            fields.contains(&"amount") && fields.contains(&"payee") && fields.contains(&"payee_kind"),
            "{fields:?}"
        );
        let (status, e) = api.post(&expenses, expense("2025-01-10", "acces", "cadeaux", "salarie", "X", 100)).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_body")), "{e}");

        // Created: 201 with the id; the id sent is ignored.
        let mut first =
            expense("2025-01-10", "acces", "indemnisation", "professionnel_membre", "Dr Élise Martin", 3_000_000);
        first["payee_rpps"] = json!("10003456789");
        first["id"] = json!("mine");
        let (status, created) = api.post(&expenses, first.clone()).await;
        assert_eq!(status, 201, "{created}");
        let id1 = created["id"].as_str().unwrap().to_owned();
        assert!(!id1.is_empty() && id1 != "mine");
        assert_eq!(created["amount"], 3_000_000);
        let mut second =
            expense("2025-03-01", "parcours", "indemnisation", "professionnel_membre", "MARTIN Elise", 1_000_000);
        second["payee_rpps"] = json!("100 0345 6789");
        let (status, created) = api.post(&expenses, second.clone()).await;
        assert_eq!(status, 201, "{created}");
        let id2 = created["id"].as_str().unwrap().to_owned();
        let (status, created) = api
            .post(&expenses, expense("2025-02-01", "fonctionnement", "fonctionnement", "structure", "Loyer", 80_000))
            .await;
        assert_eq!(status, 201, "{created}");
        let id3 = created["id"].as_str().unwrap().to_owned();

        // Listed by date; `from` inclusive, `until` exclusive.
        let (status, all) = api.get(&expenses).await;
        assert_eq!(status, 200);
        let ids =
            |v: &Value| v.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(&all), [id1.clone(), id3.clone(), id2.clone()]);
        let (_, some) = api.get(&format!("{expenses}?from=2025-01-10&until=2025-03-01")).await;
        assert_eq!(ids(&some), [id1.clone(), id3.clone()]);
        let (_, some) = api.get(&format!("{expenses}?from=2025-01-11")).await;
        assert_eq!(ids(&some), [id3.clone(), id2.clone()]);
        let (status, e) = api.get(&format!("{expenses}?until=01/03/2025")).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_date")), "{e}");

        // Below the 2025 cap (47,100 €): 40,000 € to one professional, two spellings, one RPPS.
        let (status, pass) = api.get(&format!("{expenses}/pass")).await;
        assert_eq!(status, 200, "{pass}");
        assert_eq!(pass["allowances"].as_array().unwrap().len(), 1, "{pass}");
        let allowance = &pass["allowances"][0];
        assert_eq!(allowance["year"], 2025);
        assert_eq!(allowance["payee_rpps"], "10003456789");
        assert_eq!(allowance["total_cents"], 4_000_000);
        assert_eq!(allowance["cap_cents"], 4_710_000);
        assert_eq!(allowance["remaining_cents"], 710_000);
        assert_eq!(allowance["over"], false);
        assert!(pass["alerts"].as_array().unwrap().is_empty());
        assert!(pass["rule_source"].as_str().unwrap().contains("2022-375"));

        // Corrected to 17,200 €: 47,200 €, 100 € past the cap.
        second["amount"] = json!(1_720_000);
        let (status, updated) = api.put(&format!("{expenses}/{id2}"), second.clone()).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!((updated["id"].as_str(), updated["amount"].as_i64()), (Some(id2.as_str()), Some(1_720_000)));
        let (_, all) = api.get(&expenses).await;
        assert_eq!(all[2]["amount"], 1_720_000);
        let (_, pass) = api.get(&format!("{expenses}/pass")).await;
        let allowance = &pass["allowances"][0];
        assert_eq!((allowance["over"].as_bool(), allowance["over_cents"].as_i64()), (Some(true), Some(10_000)));
        assert_eq!(allowance["share_of_cap"], "100.00%");
        let alert = &pass["alerts"][0];
        assert_eq!(alert["code"], "pass_exceeded");
        assert_eq!((alert["year"].as_i64(), alert["over_cents"].as_i64()), (Some(2025), Some(10_000)));
        assert_eq!(alert["expense_ids"], json!([id1, id2]));
        assert!(alert["fr"].as_str().unwrap().contains("MARTIN Elise"), "{alert}");
        let (status, e) = api.put(&format!("{expenses}/{id2}"), json!({"amount": 1})).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_body")), "{e}");
        let (status, _) = api.put(&format!("{expenses}/unknown"), second.clone()).await;
        assert_eq!(status, 404);

        // Deleted: 204, then gone.
        let (status, body) = api.delete(&format!("{expenses}/{id2}")).await;
        assert_eq!((status, body), (204, Value::Null));
        let (status, _) = api.delete(&format!("{expenses}/{id2}")).await;
        assert_eq!(status, 404);
        let (_, all) = api.get(&expenses).await;
        assert_eq!(ids(&all), [id1.clone(), id3.clone()], "{engine:?}");
        let (_, pass) = api.get(&format!("{expenses}/pass")).await;
        assert!(pass["alerts"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn each_role_gets_what_the_pages_give_it() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let b = app.cpts("blaisois").to_string();
        let contract_path = format!("/api/v1/cpts/{b}/contract");
        let expenses = format!("/api/v1/cpts/{b}/expenses");
        let coordinator = Api::of(&app, "coordinator").await;
        let (status, _) = coordinator.put(&contract_path, json!({"revision": null, "contract": contract(&b)})).await;
        assert_eq!(status, 201);
        let (status, created) = coordinator
            .post(&expenses, expense("2025-01-10", "acces", "formation", "prestataire", "Organisme", 10_000))
            .await;
        assert_eq!(status, 201);
        let expense_path = format!("{expenses}/{}", created["id"].as_str().unwrap());
        let reads = [
            contract_path.clone(),
            format!("{contract_path}/years/1"),
            format!("{contract_path}/schedule"),
            expenses.clone(),
            format!("{expenses}/pass"),
        ];
        let new_expense = expense("2025-01-11", "acces", "formation", "prestataire", "Organisme", 10_000);
        let replace = json!({"revision": 1, "contract": contract(&b)});

        // The board writes too.
        let board = Api::of(&app, "board").await;
        let (status, e) = board.post(&expenses, new_expense.clone()).await;
        assert_eq!(status, 201, "{e}");

        // The ARS of the région and the platform admin read; the ARS writes nothing.
        let ars = Api::of(&app, "ars-centre").await;
        let admin = Api::of(&app, "admin").await;
        for (who, api) in [("ars-centre", &ars), ("admin", &admin)] {
            for path in &reads {
                let (status, body) = api.get(path).await;
                assert_eq!(status, 200, "{who} {path}: {body}");
            }
        }
        assert_eq!(ars.put(&contract_path, replace.clone()).await.0, 403);
        assert_eq!(ars.post(&expenses, new_expense.clone()).await.0, 403);
        assert_eq!(ars.put(&expense_path, new_expense.clone()).await.0, 403);
        assert_eq!(ars.delete(&expense_path).await.0, 403);

        // A member professional and the national observer: forbidden. Another CPTS's
        // coordinator, even in the same région: not found.
        for (who, expected) in
            [("member", 403), ("national", 403), ("coordinator-vendome", 404), ("coordinator-rennes", 404)]
        {
            let api = Api::of(&app, who).await;
            for path in &reads {
                let (status, body) = api.get(path).await;
                assert_eq!(status, expected, "{who} {path}: {body}");
            }
            assert_eq!(api.put(&contract_path, replace.clone()).await.0, expected, "{who}");
            assert_eq!(api.post(&expenses, new_expense.clone()).await.0, expected, "{who}");
            assert_eq!(api.put(&expense_path, new_expense.clone()).await.0, expected, "{who}");
            assert_eq!(api.delete(&expense_path).await.0, expected, "{who}");
        }

        // Nobody: 401, in JSON.
        let anonymous = Api::anonymous(&app);
        for path in &reads {
            let (status, body) = anonymous.get(path).await;
            assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthenticated")), "{path}");
        }
        assert_eq!(anonymous.put(&contract_path, replace.clone()).await.0, 401);
        assert_eq!(anonymous.delete(&expense_path).await.0, 401);

        // A browser session reads, and writes with its CSRF header only.
        let (browser, _) = app.login("coordinator").await;
        let r = browser.get(app.url(&contract_path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = browser.put(app.url(&contract_path)).json(&replace).send().await.unwrap();
        assert_eq!(r.status(), 403, "no CSRF header");
        let csrf = app.csrf_of(&browser, "/compte").await;
        let r = browser.put(app.url(&contract_path)).header("x-csrf-token", &csrf).json(&replace).send().await.unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");

        // Nothing the refused callers sent was written.
        let (_, all) = coordinator.get(&expenses).await;
        assert_eq!(all.as_array().unwrap().len(), 2);
        let (_, doc) = coordinator.get(&contract_path).await;
        assert_eq!(doc["revision"], 2);
    }
}
