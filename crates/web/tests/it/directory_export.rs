//! Files of the directory from the browser and the API: the coordination downloads the
//! directory as CSV, XLSX, vCard or FHIR (audited; nobody else may), and uploads the member list
//! (CSV in UTF-8 or Windows-1252, or XLSX), sees a preview of what it changes, then applies it;
//! a file with any error writes nothing.

use crate::directory::{CARON, DUPUIS, LEFEVRE, MARTIN, blaisois_professionals, import, seed_directory};
use crate::helpers::*;
use chrono::{NaiveDate, TimeZone, Utc};
use maillage_core::directory::model::{Membership, MembershipStatus};
use maillage_store::{AuditEvent, AuditStore, DirectoryStore, Page, Store};
use serde_json::Value;

pub const BOUNDARY: &str = "----maillage-members-boundary";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A multipart body as a browser sends the form: the fields in order, then the file.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    if let Some((file_name, content)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, client: &reqwest::Client, cpts: &str, body: Vec<u8>) -> (u16, String) {
    let r = client
        .post(app.url(&format!("/cpts/{cpts}/annuaire/adherents/import")))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), unescape(&r.text().await.unwrap()))
}

/// Reverses askama's HTML escaping.
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The confirmation form's hidden list, if the preview offers one.
fn hidden_list(html: &str) -> Option<String> {
    let at = html.find("name=\"liste\" value=\"")? + "name=\"liste\" value=\"".len();
    // JSON has no raw line break: the value ends where the line does.
    let rest = &html[at..];
    Some(rest[..rest.find("\">\n")?].to_owned())
}

async fn confirm(app: &TestApp, client: &reqwest::Client, cpts: &str, csrf: Option<&str>, list: &str) -> (u16, String) {
    let mut form = vec![("liste", list)];
    if let Some(csrf) = csrf {
        form.push(("csrf", csrf));
    }
    let r = client
        .post(app.url(&format!("/cpts/{cpts}/annuaire/adherents/import/confirmer")))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), unescape(&r.text().await.unwrap()))
}

async fn membership(store: &Store, app: &TestApp, nid: &str) -> Option<Membership> {
    store.directory_entry(app.cpts("blaisois"), nid).await.unwrap().membership
}

async fn audit_log(store: &Store, app: &TestApp) -> Vec<AuditEvent> {
    store.audit_page(Some(app.cpts("blaisois")), Page { offset: 0, limit: 200 }).await.unwrap()
}

/// The text of a row header's count in the preview ("Adhésions créées" → "2").
fn count_of(html: &str, label: &str) -> String {
    let at =
        html.find(&format!("<th scope=\"row\">{label}</th><td class=\"num\">")).unwrap_or_else(|| panic!("{html}"));
    let rest = &html[at..];
    let start = rest.find("class=\"num\">").unwrap() + "class=\"num\">".len();
    rest[start..start + rest[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn the_coordination_downloads_the_directory() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        // Dupuis leaves the national extract: exported only when asked.
        let without: Vec<_> =
            blaisois_professionals().into_iter().filter(|p| p.national_id.to_string() != DUPUIS).collect();
        import(&store, app.cpts("blaisois"), "i2", 2, &without).await;
        let (coordinator, _) = app.login("coordinator").await;

        let html = coordinator.get(app.url(&format!("/cpts/{b}/annuaire"))).send().await.unwrap().text().await.unwrap();
        for format in ["csv", "xlsx", "vcard", "fhir"] {
            assert!(html.contains(&format!("href=\"/cpts/{b}/annuaire/export?format={format}\"")), "{engine:?}");
        }
        assert!(html.contains(&format!("href=\"/cpts/{b}/annuaire/adherents/import\"")));

        let get = |path: String| {
            let c = coordinator.clone();
            let url = app.url(&path);
            async move { c.get(url).send().await.unwrap() }
        };
        // CSV: one line per place (Martin has two), UTF-8 with BOM, a download.
        let r = get(format!("/cpts/{b}/annuaire/export?format=csv")).await;
        assert_eq!(r.status(), 200, "{engine:?}");
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            r.headers()["content-disposition"],
            "attachment; filename=\"annuaire-cpts-du-blaisois-2026-11-24.csv\""
        );
        let csv = r.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("\u{feff}identifiant_national,civilite,nom,prenom,"), "{}", lines[0]);
        assert_eq!(lines.len(), 1 + 63 + 1, "header, 63 listed, Martin's second place");
        let martin: Vec<&&str> = lines.iter().filter(|l| l.starts_with(&format!("\"{MARTIN}\""))).collect();
        assert_eq!(martin.len(), 2);
        assert!(martin[0].contains("\"Martin\",\"Élise\"") && martin[0].contains(",\"oui\","), "{}", martin[0]);
        assert!(!csv.contains(DUPUIS), "who left is not exported by default");
        let with_left = get(format!("/cpts/{b}/annuaire/export?format=csv&partis=oui")).await.text().await.unwrap();
        assert!(with_left.contains(DUPUIS), "{engine:?}");

        // XLSX: the same rows, readable back.
        let r = get(format!("/cpts/{b}/annuaire/export?format=xlsx")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".xlsx\""));
        let table = maillage_office::read_xlsx(&r.bytes().await.unwrap(), None).unwrap();
        assert_eq!(table.header[0], "identifiant_national");
        assert_eq!(table.rows.len(), 64);
        assert!(table.rows.iter().any(|(_, row)| row[0] == CARON && row[7] == "non"));

        // vCard: one card per professional.
        let r = get(format!("/cpts/{b}/annuaire/export?format=vcard")).await;
        assert_eq!(r.headers()["content-type"], "text/vcard; charset=utf-8");
        assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".vcf\""));
        let cards = r.text().await.unwrap();
        assert!(cards.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"));
        assert_eq!(cards.matches("BEGIN:VCARD").count(), 63);

        // FHIR: a Bundle with a Practitioner per professional.
        let r = get(format!("/cpts/{b}/annuaire/export?format=fhir")).await;
        assert_eq!(r.headers()["content-type"], "application/fhir+json");
        let bundle: Value = r.json().await.unwrap();
        assert_eq!(bundle["resourceType"], "Bundle");
        let practitioners = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Practitioner")
            .count();
        assert_eq!(practitioners, 63);

        // An unknown format: said, in French.
        let r = get(format!("/cpts/{b}/annuaire/export?format=pdf")).await;
        assert_eq!(r.status(), 422);
        assert!(unescape(&r.text().await.unwrap()).contains("Format d'export inconnu"));

        // Every export is in the audit log.
        let exports: Vec<String> = audit_log(&store, &app)
            .await
            .into_iter()
            .filter(|e| e.action == "export" && e.object_type == "directory")
            .map(|e| e.detail)
            .collect();
        assert_eq!(exports.len(), 5, "{engine:?}: {exports:?}");
        assert!(exports.iter().any(|d| d.contains("csv") && d.contains("partis inclus")), "{exports:?}");

        // The board too; and the API with a token.
        let (board, _) = app.login("board").await;
        let r = board.get(app.url(&format!("/cpts/{b}/annuaire/export?format=vcard"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let api = reqwest::Client::new();
        let token = app.api_token("coordinator").await;
        let r = api
            .get(app.url(&format!("/api/v1/cpts/{b}/directory/export?format=csv&include_left=true")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{engine:?}");
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"annuaire-"));
        assert!(r.text().await.unwrap().contains(DUPUIS));
        let r = api
            .get(app.url(&format!("/api/v1/cpts/{b}/directory/export?format=odt")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_format", "{error}");
        store.close().await;
    }
}

#[tokio::test]
async fn nobody_else_downloads_the_directory() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        let before = audit_log(&store, &app).await.iter().filter(|e| e.action == "export").count();
        for (who, status) in [("member", 403), ("ars-centre", 403), ("national", 403), ("coordinator-vendome", 404)] {
            let (client, _) = app.login(who).await;
            let html = client.get(app.url(&format!("/cpts/{b}/annuaire"))).send().await.unwrap().text().await.unwrap();
            assert!(!html.contains("/annuaire/export"), "{engine:?} {who}: no export link");
            for format in ["csv", "xlsx", "vcard", "fhir"] {
                let r =
                    client.get(app.url(&format!("/cpts/{b}/annuaire/export?format={format}"))).send().await.unwrap();
                assert_eq!(r.status(), status, "{engine:?} {who} {format}");
            }
            let token = app.api_token(who).await;
            let r = reqwest::Client::new()
                .get(app.url(&format!("/api/v1/cpts/{b}/directory/export?format=csv")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), status, "{engine:?} {who} API");
        }
        // Anonymous: to the login page; the API: 401.
        let r = app.client().get(app.url(&format!("/cpts/{b}/annuaire/export?format=csv"))).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r =
            app.client().get(app.url(&format!("/api/v1/cpts/{b}/directory/export?format=csv"))).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let after = audit_log(&store, &app).await.iter().filter(|e| e.action == "export").count();
        assert_eq!(after, before, "{engine:?}: refused exports export nothing");
        store.close().await;
    }
}

#[tokio::test]
async fn a_member_list_is_previewed_then_applied() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        let when = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
        let active = Membership {
            joined_on: day(2025, 3, 1),
            left_on: None,
            status: MembershipStatus::Active,
            dues_paid_until: None,
            profession_referent: false,
            board_role: None,
        };
        let event = AuditEvent {
            cpts_id: Some(app.cpts("blaisois").clone()),
            id: uuid::Uuid::new_v4().to_string(),
            at: when,
            account_id: None,
            account_label: "test".into(),
            role: "system".into(),
            action: "update".into(),
            object_type: "membership".into(),
            object_id: LEFEVRE.into(),
            request_id: "test".into(),
            detail: String::new(),
        };
        store.put_membership(app.cpts("blaisois"), LEFEVRE, &active, when, &event).await.unwrap();
        let (coordinator, _) = app.login("coordinator").await;
        let form_page = format!("/cpts/{b}/annuaire/adherents/import");
        let html = coordinator.get(app.url(&form_page)).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("enctype=\"multipart/form-data\""), "{engine:?}: works without JavaScript");
        assert!(html.contains("name=\"colonne_national_id\""), "one mapping input per field");
        let csrf = csrf_in(&html).unwrap();

        // Martin as she is (unchanged), Caron and Dupuis new, Lefèvre suspended (changed).
        let csv = format!(
            "N° RPPS;Statut;Date d'adhésion;Date de départ;Cotisation;Référent;Rôle au bureau\r\n\
             {};actif;10/01/2024;;31/12/2026;oui;trésorière\r\n\
             {};actif;01/02/2025;;;non;\r\n\
             {};parti;01/01/2023;30/06/2025;;;\r\n\
             {};suspendu;01/03/2025;;;;\r\n",
            &MARTIN[1..],
            &CARON[1..],
            &DUPUIS[1..],
            &LEFEVRE[1..]
        );
        let body = multipart(&[("csrf", &csrf), ("feuille", "")], Some(("adhérents.csv", csv.as_bytes())));
        let (status, html) = upload(&app, &coordinator, &b, body).await;
        assert_eq!(status, 200, "{engine:?}: {html}");
        assert_eq!(count_of(&html, "Adhésions créées"), "2", "{engine:?}");
        assert_eq!(count_of(&html, "Adhésions modifiées"), "1");
        assert_eq!(count_of(&html, "Adhésions inchangées"), "1");
        assert!(html.contains("Statut : « Statut »") && html.contains("« N° RPPS »"), "columns found by header");
        assert!(!html.contains("Windows-1252"), "a UTF-8 file");
        assert_eq!(membership(&store, &app, CARON).await, None, "{engine:?}: a preview writes nothing");
        let list = hidden_list(&html).expect("a confirmation form");
        assert!(!list.contains("N° RPPS;"), "the cells, not the file");

        // Confirmed: applied with its audit event.
        let (status, html) = confirm(&app, &coordinator, &b, Some(&csrf), &list).await;
        assert_eq!(status, 200, "{engine:?}: {html}");
        assert!(html.contains("appliquée : 2 adhésion(s) créée(s), 1 modifiée(s), 1 inchangée(s)"), "{html}");
        let caron = membership(&store, &app, CARON).await.unwrap();
        assert_eq!((caron.status, caron.joined_on), (MembershipStatus::Active, day(2025, 2, 1)));
        let dupuis = membership(&store, &app, DUPUIS).await.unwrap();
        assert_eq!((dupuis.status, dupuis.left_on), (MembershipStatus::Left, Some(day(2025, 6, 30))));
        assert_eq!(membership(&store, &app, LEFEVRE).await.unwrap().status, MembershipStatus::Suspended);
        let martin = membership(&store, &app, MARTIN).await.unwrap();
        assert_eq!(martin.board_role.as_deref(), Some("trésorière"));
        let log = audit_log(&store, &app).await;
        let imported: Vec<&AuditEvent> =
            log.iter().filter(|e| e.action == "import" && e.object_type == "membership").collect();
        assert_eq!(imported.len(), 1, "{engine:?}");
        assert_eq!(imported[0].object_id, "adhérents.csv");
        assert!(imported[0].account_label.contains("coordination@"), "{:?}", imported[0]);
        // The same list again changes nothing.
        let (status, html) = confirm(&app, &coordinator, &b, Some(&csrf), &list).await;
        assert_eq!(status, 200);
        assert!(html.contains("0 adhésion(s) créée(s), 0 modifiée(s), 4 inchangée(s)"), "{html}");

        // An XLSX file, a named sheet and a column named in the form.
        let rows = vec![vec![CARON[1..].to_owned(), "suspendu".to_owned()]];
        let xlsx = maillage_office::write_xlsx("Adhérents 2026", &["Numéro pro", "Statut"], &rows).unwrap();
        let fields = [("csrf", csrf.as_str()), ("feuille", "adhérents 2026"), ("colonne_national_id", "Numéro pro")];
        let (status, html) = upload(&app, &coordinator, &b, multipart(&fields, Some(("liste.xlsx", &xlsx)))).await;
        assert_eq!(status, 200, "{engine:?}: {html}");
        assert_eq!(count_of(&html, "Adhésions modifiées"), "1");
        assert!(html.contains("value=\"Numéro pro\""), "the form keeps what was typed");
        let list = hidden_list(&html).unwrap();
        assert_eq!(confirm(&app, &coordinator, &b, Some(&csrf), &list).await.0, 200);
        assert_eq!(membership(&store, &app, CARON).await.unwrap().status, MembershipStatus::Suspended);
        // A sheet the workbook does not have; a column the file does not have.
        let fields = [("csrf", csrf.as_str()), ("feuille", "Bureau")];
        let (status, html) = upload(&app, &coordinator, &b, multipart(&fields, Some(("liste.xlsx", &xlsx)))).await;
        assert_eq!(status, 422);
        assert!(html.contains("pas de feuille « Bureau »") && html.contains("Adhérents 2026"), "{html}");
        let fields = [("csrf", csrf.as_str()), ("colonne_national_id", "RPPS")];
        let (status, html) = upload(&app, &coordinator, &b, multipart(&fields, Some(("liste.xlsx", &xlsx)))).await;
        assert_eq!(status, 422);
        assert!(html.contains("pas de colonne « RPPS »"), "{html}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_member_list_with_errors_writes_nothing() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        let (coordinator, _) = app.login("coordinator").await;
        let csrf = app.csrf_of(&coordinator, &format!("/cpts/{b}/annuaire/adherents/import")).await;
        let audits = audit_log(&store, &app).await.len();

        // Bad cells: each with its line, column and reason; no confirmation offered.
        let csv =
            format!("RPPS,Statut,Date d'adhésion\n{},actif,32/01/2024\n{},peut-être,\n", &CARON[1..], &DUPUIS[1..]);
        let body = multipart(&[("csrf", &csrf)], Some(("casse.csv", csv.as_bytes())));
        let (status, html) = upload(&app, &coordinator, &b, body).await;
        assert_eq!(status, 422, "{engine:?}: {html}");
        assert!(
            html.contains(
                "<td class=\"num\">2</td><td>Date d'adhésion</td><td>date d'adhésion « 32/01/2024 » n'est pas une date"
            ),
            "{html}"
        );
        assert!(html.contains("<td class=\"num\">3</td><td>Statut</td><td>statut « peut-être » inconnu"), "{html}");
        assert!(hidden_list(&html).is_none(), "no confirmation with errors");

        // A professional the directory does not have: named with the line.
        let csv = format!("RPPS\n{}\n99999999999\n", &CARON[1..]);
        let body = multipart(&[("csrf", &csrf)], Some(("inconnu.csv", csv.as_bytes())));
        let (status, html) = upload(&app, &coordinator, &b, body).await;
        assert_eq!(status, 422, "{engine:?}");
        assert!(html.contains("<td class=\"num\">3</td><td>899999999999</td>"), "{html}");
        assert!(hidden_list(&html).is_none());

        // No identifier column; an unsupported file type; no file.
        let body = multipart(&[("csrf", &csrf)], Some(("x.csv", "Nom;Statut\nMartin;actif\n".as_bytes())));
        let (status, html) = upload(&app, &coordinator, &b, body).await;
        assert_eq!(status, 422);
        assert!(html.contains("Aucune colonne pour l'identifiant national"), "{html}");
        let (status, html) = upload(&app, &coordinator, &b, multipart(&[("csrf", &csrf)], Some(("x.ods", b"x")))).await;
        assert_eq!(status, 422);
        assert!(html.contains(".csv ou .xlsx"), "{html}");
        let (status, _) = upload(&app, &coordinator, &b, multipart(&[("csrf", &csrf)], Some(("", b"")))).await;
        assert_eq!(status, 422);

        // A confirmation altered by hand (or gone stale) is checked again: nothing written.
        let forged = format!(
            "{{\"file\":\"x.csv\",\"columns\":[[\"national_id\",\"RPPS\"],[\"status\",\"Statut\"]],\
             \"rows\":[[2,[\"{}\",\"actif\"]],[3,[\"99999999999\",\"actif\"]]]}}",
            &CARON[1..]
        );
        let (status, html) = confirm(&app, &coordinator, &b, Some(&csrf), &forged).await;
        assert_eq!(status, 422, "{engine:?}: {html}");
        assert!(html.contains("rien n'a été modifié") && html.contains("899999999999"), "{html}");
        let forged_status = forged.replacen("actif", "peut-être", 1);
        assert_eq!(confirm(&app, &coordinator, &b, Some(&csrf), &forged_status).await.0, 422);
        let (status, html) = confirm(&app, &coordinator, &b, Some(&csrf), "not json").await;
        assert_eq!(status, 422);
        assert!(html.contains("importez à nouveau le fichier"), "{html}");
        assert_eq!(membership(&store, &app, CARON).await, None, "{engine:?}: nothing written");
        assert_eq!(audit_log(&store, &app).await.len(), audits, "no event either");
        store.close().await;
    }
}

#[tokio::test]
async fn a_windows_1252_member_list_is_read() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        let (coordinator, _) = app.login("coordinator").await;
        let csrf = app.csrf_of(&coordinator, &format!("/cpts/{b}/annuaire/adherents/import")).await;
        // As Excel saves "CSV (séparateur : point-virgule)" in French: Windows-1252.
        let mut bytes = b"N\xb0 RPPS;Statut;R\xe9f\xe9rent;R\xf4le au bureau\r\n".to_vec();
        bytes.extend_from_slice(&CARON.as_bytes()[1..]);
        bytes.extend_from_slice(b";suspendu;oui;secr\xe9taire \x96 adjointe\r\n");
        let body = multipart(&[("csrf", &csrf)], Some(("adherents.csv", &bytes)));
        let (status, html) = upload(&app, &coordinator, &b, body).await;
        assert_eq!(status, 200, "{engine:?}: {html}");
        assert!(html.contains("lu en Windows-1252"), "{html}");
        assert!(html.contains("« N° RPPS »") && html.contains("« Référent »") && html.contains("« Rôle au bureau »"));
        assert_eq!(count_of(&html, "Adhésions créées"), "1");
        let list = hidden_list(&html).unwrap();
        assert_eq!(confirm(&app, &coordinator, &b, Some(&csrf), &list).await.0, 200);
        let caron = membership(&store, &app, CARON).await.unwrap();
        assert_eq!(caron.status, MembershipStatus::Suspended);
        assert!(caron.profession_referent);
        assert_eq!(caron.board_role.as_deref(), Some("secrétaire – adjointe"), "{engine:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn member_lists_need_the_form_and_the_right_people() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        let csv = format!("RPPS;Statut\n{};actif\n", &CARON[1..]);
        let (coordinator, _) = app.login("coordinator").await;
        let csrf = app.csrf_of(&coordinator, &format!("/cpts/{b}/annuaire/adherents/import")).await;
        // No CSRF token, or a wrong one: refused.
        let file = Some(("a.csv", csv.as_bytes()));
        assert_eq!(upload(&app, &coordinator, &b, multipart(&[], file)).await.0, 403, "{engine:?}");
        assert_eq!(upload(&app, &coordinator, &b, multipart(&[("csrf", "nope")], file)).await.0, 403);
        let (status, html) = upload(&app, &coordinator, &b, multipart(&[("csrf", &csrf)], file)).await;
        assert_eq!(status, 200);
        let list = hidden_list(&html).unwrap();
        assert_eq!(confirm(&app, &coordinator, &b, None, &list).await.0, 403);
        assert_eq!(confirm(&app, &coordinator, &b, Some("nope"), &list).await.0, 403);
        assert_eq!(membership(&store, &app, CARON).await, None);
        // Not multipart.
        let r = coordinator
            .post(app.url(&format!("/cpts/{b}/annuaire/adherents/import")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);

        // Other roles and CPTS, with their own valid token.
        for (who, status) in [("member", 403), ("ars-centre", 403), ("coordinator-vendome", 404)] {
            let (client, _) = app.login(who).await;
            let own = app.csrf_of(&client, "/compte").await;
            let r = client.get(app.url(&format!("/cpts/{b}/annuaire/adherents/import"))).send().await.unwrap();
            assert_eq!(r.status(), status, "{engine:?} {who}");
            let file = Some(("a.csv", csv.as_bytes()));
            assert_eq!(upload(&app, &client, &b, multipart(&[("csrf", &own)], file)).await.0, status, "{who}");
            assert_eq!(confirm(&app, &client, &b, Some(&own), &list).await.0, status, "{who}");
        }
        assert_eq!(membership(&store, &app, CARON).await, None, "{engine:?}");
        // The board may.
        let (board, _) = app.login("board").await;
        let own = app.csrf_of(&board, "/compte").await;
        assert_eq!(confirm(&app, &board, &b, Some(&own), &list).await.0, 200, "{engine:?}");
        assert_eq!(membership(&store, &app, CARON).await.unwrap().status, MembershipStatus::Active);
        store.close().await;
    }
}
