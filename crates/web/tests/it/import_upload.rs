//! Importing the national extract from the browser: the coordinator uploads the file, follows
//! the job's progress page until it ends, and finds the professionals in the directory; a file
//! with a broken line is refused whole (line and column shown); other roles and tenants cannot.

use crate::directory::store_of;
use crate::helpers::*;
use maillage_store::{AuditStore, DirectoryQuery, DirectoryStore, Page};
use std::time::Duration;

const BOUNDARY: &str = "----maillage-test-boundary";

/// A synthetic extract over the Blaisois communes and a few others.
fn extract(lines: u64) -> String {
    let mut out = Vec::new();
    let communes = ["41018", "41295", "41047", "41269", "75056", "35238"];
    maillage_core::directory::synth::write_extract(&mut out, lines, 7, &communes).unwrap();
    String::from_utf8(out).unwrap()
}

/// The same extract with a line of Blois broken (an RPPS of 10 digits); returns its 1-based line.
fn broken(text: &str) -> (String, usize) {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = (1..lines.len()).find(|&i| lines[i].contains("|41018|")).unwrap();
    let mut fields: Vec<String> = lines[at].split('|').map(str::to_owned).collect();
    fields[1] = "1000123456".into();
    fields[2] = "81000123456".into();
    lines[at] = fields.join("|");
    (lines.join("\n") + "\n", at + 1)
}

/// The form's multipart body: the CSRF token first, then the file, as a browser sends it.
fn multipart(csrf: Option<&str>, file_name: &str, content: &str) -> Vec<u8> {
    let mut body = String::new();
    if let Some(csrf) = csrf {
        body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"));
    }
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/plain\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
    ));
    body.into_bytes()
}

async fn upload(app: &TestApp, client: &reqwest::Client, cpts: &str, body: Vec<u8>) -> reqwest::Response {
    client
        .post(app.url(&format!("/cpts/{cpts}/annuaire/imports")))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Polls the job's fragment (as htmx does) until it stops polling; returns the last page.
async fn wait_for_end(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    for _ in 0..300 {
        let r = client.get(app.url(path)).header("hx-request", "true").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.starts_with("<section id=\"suivi-import\""), "a fragment: {html}");
        if !html.contains("hx-trigger") {
            return client.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the import of {path} did not end in 30 s");
}

fn csrf_of_imports(html: &str) -> String {
    csrf_in(html).unwrap()
}

#[tokio::test]
async fn coordinator_uploads_the_extract_and_follows_it() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let b = app.cpts("blaisois").to_string();
        let (coordinator, _) = app.login("coordinator").await;
        let page = coordinator.get(app.url(&format!("/cpts/{b}/annuaire/imports"))).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(html.contains("enctype=\"multipart/form-data\""), "{engine:?}: the form works without JS");
        let csrf = csrf_of_imports(&html);

        let text = extract(3_000);
        let name = "PS_LibreAcces_Personne_activite_202611240000.txt";
        let r = upload(&app, &coordinator, &b, multipart(Some(&csrf), name, &text)).await;
        assert_eq!(r.status(), 303, "{engine:?}: {}", r.text().await.unwrap());
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("/cpts/{b}/annuaire/imports/")), "{location}");
        let html = wait_for_end(&app, &coordinator, &location).await;
        assert!(html.contains("terminé"), "{engine:?}: {html}");
        assert!(html.contains("Ajoutés") && html.contains("Voir l'annuaire"), "{html}");
        assert!(html.contains("<progress"), "{html}");
        assert!(html.contains("3\u{202f}001"), "lines read, header included: {html}");

        let store = store_of(&app).await;
        let cpts = app.cpts("blaisois");
        let (_, total) =
            store.search_directory(cpts, &DirectoryQuery { limit: 1, ..Default::default() }).await.unwrap();
        assert!(total > 20, "{engine:?}: the directory has the professionals ({total})");
        assert!(html.contains(&format!("<td class=\"num\">{}</td>", total)), "added = directory size: {html}");
        let imports = store.list_imports(cpts).await.unwrap();
        assert_eq!(imports.len(), 1);
        assert_eq!(imports[0].file_name, name);
        assert_eq!(imports[0].outcome.inserted, total);
        // Audited: the start and the import itself.
        let log = store.audit_page(Some(cpts), Page { offset: 0, limit: 50 }).await.unwrap();
        assert!(log.iter().any(|e| e.action == "import_start" && e.account_label.contains("coordination@")));
        assert!(log.iter().any(|e| e.action == "import" && e.object_type == "directory"));
        // The uploaded file does not linger.
        let job = location.rsplit('/').next().unwrap();
        assert!(!std::env::temp_dir().join(format!("maillage-import-{job}.part")).exists());

        // A broken line: refused whole, line and column shown, the directory unchanged.
        let (bad, line) = broken(&text);
        let r = upload(&app, &coordinator, &b, multipart(Some(&csrf), "broken.txt", &bad)).await;
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let html = wait_for_end(&app, &coordinator, &location).await;
        assert!(html.contains("refusé"), "{engine:?}: {html}");
        assert!(html.contains(&format!("<td class=\"num\">{}</td><td>Identifiant PP</td>", line)), "{html}");
        assert_eq!(store.list_imports(cpts).await.unwrap().len(), 1, "nothing written");
        let (_, again) =
            store.search_directory(cpts, &DirectoryQuery { limit: 1, ..Default::default() }).await.unwrap();
        assert_eq!(again, total);

        // Not a .txt (an archive): refused before anything is stored.
        let r = upload(&app, &coordinator, &b, multipart(Some(&csrf), "extrait.zip", "PK")).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("décompressez"));
        // No CSRF token, or a wrong one: refused.
        let r = upload(&app, &coordinator, &b, multipart(None, name, &text)).await;
        assert_eq!(r.status(), 403, "{engine:?}");
        let r = upload(&app, &coordinator, &b, multipart(Some("nope"), name, &text)).await;
        assert_eq!(r.status(), 403, "{engine:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn only_the_coordination_of_the_cpts_imports() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let b = app.cpts("blaisois").to_string();
        let text = extract(50);
        for (who, status) in [("member", 403), ("ars-centre", 403), ("coordinator-vendome", 404)] {
            let (client, _) = app.login(who).await;
            let csrf = app.csrf_of(&client, "/compte").await;
            let r = upload(&app, &client, &b, multipart(Some(&csrf), "PS.txt", &text)).await;
            assert_eq!(r.status(), status, "{engine:?} {who}");
        }
        // The board may (as for the history); its job is not visible to another CPTS.
        let (board, _) = app.login("board").await;
        let csrf = app.csrf_of(&board, &format!("/cpts/{b}/annuaire/imports")).await;
        let r = upload(&app, &board, &b, multipart(Some(&csrf), "PS.txt", &text)).await;
        assert_eq!(r.status(), 303, "{engine:?}");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        wait_for_end(&app, &board, &location).await;
        let (other, _) = app.login("coordinator-vendome").await;
        assert_eq!(other.get(app.url(&location)).send().await.unwrap().status(), 404);
        let (member, _) = app.login("member").await;
        assert_eq!(member.get(app.url(&location)).send().await.unwrap().status(), 403);
        let v = app.cpts("vendomois");
        let r = other.get(app.url(&location.replace(&b, v.as_str()))).send().await.unwrap();
        assert_eq!(r.status(), 404, "another CPTS's job id under one's own CPTS");
        // Not logged in: to the login page.
        let r = app.client().get(app.url(&location)).send().await.unwrap();
        assert_eq!(r.status(), 303);
    }
}
