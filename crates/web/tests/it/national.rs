//! The national plan in the observatory: a regional observer sees her région's coverage map and
//! zones blanches, opens one, records task-force actions (checked, guarded against concurrent
//! changes) and tries extension what-ifs; the national level sees the nation and exports the
//! registry; nobody else sees any of it.

use crate::directory::{get, post, store_of};
use crate::helpers::*;
use chrono::NaiveDate;
use maillage_core::national::{NationalIndex, SynthParams, generate};
use maillage_core::refdata::Reference;
use maillage_store::{AuditEvent, NationalStore, Store};
use maillage_web::clock::Clock;

async fn seed_registry(app: &TestApp) -> Store {
    let store = store_of(app).await;
    let index = NationalIndex::new(Reference::embedded());
    let until = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let registry = generate(&index, &SynthParams { until, ..SynthParams::default() });
    let audit = AuditEvent {
        cpts_id: None,
        id: uuid::Uuid::new_v4().to_string(),
        at: app.clock.now(),
        account_id: None,
        account_label: "test".into(),
        role: "system".into(),
        action: "update".into(),
        object_type: "national_registry".into(),
        object_id: String::new(),
        request_id: "test".into(),
        detail: String::new(),
    };
    store.replace_national_registry(&registry, &audit).await.unwrap();
    store
}

/// The first link of a table row whose href starts with `prefix`.
fn first_link(html: &str, prefix: &str) -> String {
    let at = html.find(&format!("href=\"{prefix}")).expect("a link") + 6;
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_regional_observer_follows_a_zone_blanche() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_registry(&app).await;
        let (ars, _) = app.login("ars-centre").await;

        let (status, html) = get(&ars, &app, "/region/24").await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("Observatoire régional — Centre-Val de Loire"), "{html}");
        assert!(html.contains("class=\"carte-territoire\"") && html.contains("categorie-blanche"), "map");
        assert!(html.contains("zone blanche <span class=\"effectif\">"), "legend: {html}");
        assert!(html.contains("Couverture par département") && html.contains(">Loir-et-Cher</a></th>"), "{html}");
        assert_eq!(get(&ars, &app, "/region/53").await.0, 403);
        // One of its départements, at the scale of its communes.
        assert!(html.contains("href=\"/region/24/departements/41\""), "{html}");
        let (status, dep) = get(&ars, &app, "/region/24/departements/41").await;
        assert_eq!(status, 200, "{dep}");
        assert!(dep.contains("Observatoire — Loir-et-Cher (41), Centre-Val de Loire"), "{dep}");
        assert!(dep.contains("carte-departement-titre") && dep.contains("dans le département"), "{dep}");
        assert_eq!(get(&ars, &app, "/region/24/departements/35").await.0, 404, "not in the région");
        assert_eq!(get(&ars, &app, "/region/53/departements/35").await.0, 403);

        let zone = first_link(&html, "/region/24/zones/");
        let (status, html) = get(&ars, &app, &zone).await;
        assert_eq!(status, 200, "{zone}");
        assert!(html.contains("Statut : <strong>pas encore constitué</strong>"), "{html}");

        // A refused action: every problem named, nothing written.
        let (status, html) = post(&ars, &app, &zone, &[("text", ""), ("on", "2026-13-01")]).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("n'est pas une date"), "{html}");
        let key = zone.rsplit('/').next().unwrap().to_owned();
        assert!(store.task_force(&key).await.is_err(), "nothing written");

        let action = [
            ("on", "2026-11-20"),
            ("text", "Rencontre avec les maires et les médecins de la zone."),
            ("next_step", "Réunir les deux CPTS voisines"),
            ("next_on", "2026-12-15"),
            ("status", "en_cours"),
            ("revision", ""),
        ];
        let (status, html) = post(&ars, &app, &zone, &action).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Action enregistrée.") && html.contains("Rencontre avec les maires"), "{html}");
        assert!(html.contains("piloté par"), "{html}");
        let stored = store.task_force(&key).await.unwrap();
        assert_eq!((stored.revision, stored.task_force.actions.len(), stored.region.as_str()), (1, 1, "24"));
        // A second action from a page read before the first: refused.
        let (status, _) = post(&ars, &app, &zone, &action).await;
        assert_eq!(status, 409, "stale form");
        let (_, html) = get(&ars, &app, "/region/24").await;
        assert!(html.contains("en cours — prochaine étape : Réunir les deux CPTS voisines (15/12/2026)"), "{html}");

        // What-if: extend the first neighbouring CPTS with the zone's largest commune.
        let (_, html) = get(&ars, &app, &zone).await;
        let select = html.split("id=\"sim-cpts\"").nth(1).expect("the CPTS choice");
        let cpts = select.split("<option value=\"").nth(2).and_then(|s| s.split('"').next()).unwrap().to_owned();
        assert!(!cpts.is_empty(), "a neighbouring CPTS to extend");
        let commune =
            html.split("name=\"communes\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
        let (status, html) = get(&ars, &app, &format!("{zone}/simulation?cpts={cpts}&communes={commune}")).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Différence de financement annuel"), "{html}");
        assert!(html.contains("Taille ACI"), "{html}");
        let (status, html) = get(&ars, &app, &format!("{zone}/simulation?cpts=&communes={commune}")).await;
        assert_eq!(status, 200, "a new CPTS: {html}");
        assert!(html.contains("Nouvelle CPTS de 1 commune(s)"), "{html}");
        let (status, _) = get(&ars, &app, &format!("{zone}/simulation?cpts=&communes=99999")).await;
        assert_eq!(status, 422);

        // The national level reads, does not record; the CPTS's people see nothing.
        let (national, _) = app.login("national").await;
        let (status, html) = get(&national, &app, "/national").await;
        assert_eq!(status, 200);
        assert!(html.contains("CPTS par état d'avancement") && html.contains("Centre-Val de Loire</a>"), "{html}");
        assert_eq!(get(&national, &app, &zone).await.0, 200);
        assert_eq!(post(&national, &app, &zone, &action).await.0, 403);
        let r = national.get(app.url("/national/registre.csv")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(r.text().await.unwrap().starts_with("id;nom;finess;siren;etat;depuis;communes"));
        assert_eq!(get(&ars, &app, "/national/registre.csv").await.0, 403);
        assert_eq!(get(&ars, &app, "/region/24/registre.csv").await.0, 200);
        let (coordinator, _) = app.login("coordinator").await;
        assert_eq!(get(&coordinator, &app, &zone).await.0, 403);
    }
}

/// Registers `n` distinct people in a CPTS's registry through the professional's form.
async fn register_people(client: &reqwest::Client, app: &TestApp, cpts: &str, n: usize) {
    let path = format!("/cpts/{}/acces-soins/patients/nouvelle", app.cpts(cpts));
    for i in 0..n {
        let family = format!("Comparé{}", char::from(b'a' + u8::try_from(i).unwrap()));
        let birth = format!("{:02}/03/1960", i + 1);
        let fields = [
            ("family_name", family.as_str()),
            ("given_name", "Alix"),
            ("birth_date", birth.as_str()),
            ("commune", if cpts == "blaisois" { "41018" } else { "41269" }),
            ("phone", "0611223344"),
            ("consent", "on"),
            ("ald", if i % 2 == 0 { "on" } else { "" }),
        ];
        let (status, _, body) = crate::patients::submit(client, app, &path, &fields).await;
        assert_eq!(status, 303, "{body}");
    }
}

#[tokio::test]
async fn observers_compare_the_cpts_of_their_scope_without_small_counts() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_registry(&app).await;
        // The Blaisois has a contract and 12 requests; the Vendômois 3 requests (masked).
        let signed = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
        let rules = maillage_core::aci::rules::in_force_on(signed).unwrap().expect("a rule set in force");
        let contract = maillage_core::aci::Contract::new("CPTS du Blaisois", signed, rules, 95_000);
        let b = app.cpts("blaisois").clone();
        let event = crate::patients::system_event(&b);
        maillage_store::AciStore::put_contract(&store, &b, &contract, None, app.clock.now(), &event).await.unwrap();
        let (coordinator, _) = app.login("coordinator").await;
        register_people(&coordinator, &app, "blaisois", 12).await;
        let (vendome, _) = app.login("coordinator-vendome").await;
        register_people(&vendome, &app, "vendomois", 3).await;

        let (ars, _) = app.login("ars-centre").await;
        let (status, html) = get(&ars, &app, "/region/24/indicateurs").await;
        assert_eq!(status, 200, "{engine:?}: {html}");
        assert!(html.contains("Indicateurs comparés des CPTS — Centre-Val de Loire"), "{html}");
        let row = |name: &str| -> String {
            let at = html.find(&format!(">{name}</a>")).unwrap_or_else(|| panic!("{name} in {html}"));
            html[at..].split("</tr>").next().unwrap().to_owned()
        };
        let blaisois = row("CPTS du Blaisois");
        assert!(blaisois.contains("signé le 15/01/2025 (année 2)"), "{blaisois}");
        assert!(blaisois.contains("<td>12</td>") && blaisois.contains("<td>0</td>"), "{blaisois}");
        // 6 of the 12 have an ALD and all 6 wait: a share over few people is masked.
        assert!(blaisois.contains("<td>masqué</td>"), "{blaisois}");
        let vendomois = row("CPTS du Vendômois");
        assert!(vendomois.contains("aucun dans Maillage") && vendomois.contains("<td>1 à 10</td>"), "{vendomois}");
        assert!(!html.contains("Rennes Nord"), "another région's CPTS");
        assert!(html.contains("Ensemble (2 CPTS)"), "{html}");
        assert!(!html.contains("Comparé") && !html.contains("Alix"), "no person on the page");
        assert_eq!(get(&ars, &app, "/region/53/indicateurs").await.0, 403);
        assert_eq!(get(&ars, &app, "/national/indicateurs").await.0, 403);
        assert_eq!(get(&coordinator, &app, "/region/24/indicateurs").await.0, 403);

        let (national, _) = app.login("national").await;
        let (status, html) = get(&national, &app, "/national/indicateurs").await;
        assert_eq!(status, 200);
        assert!(html.contains("Rennes Nord") && html.contains("Ensemble (3 CPTS)"), "{html}");
        // Summed: 15 requests.
        let total = html.split("<tfoot>").nth(1).unwrap();
        assert!(total.contains("<td>15</td>"), "{total}");

        // The same table as CSV and XLSX; coverage by département; the registry in XLSX.
        let r = ars.get(app.url("/region/24/tableaux/indicateurs.csv")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"indicateurs-cpts-24.csv\"");
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with("\u{feff}\"CPTS\";\"Région(s)\";\"Population\""), "{csv}");
        assert!(csv.contains("\"CPTS du Vendômois\"") && csv.contains("\"1 à 10\""), "{csv}");
        let r = ars.get(app.url("/region/24/tableaux/indicateurs.xlsx")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let xlsx = r.bytes().await.unwrap();
        let table = maillage_office::read_xlsx(&xlsx, None).unwrap();
        assert_eq!(table.header[0], "CPTS");
        assert_eq!(table.rows.len(), 2, "one row per CPTS of the région");
        let csv = ars.get(app.url("/region/24/tableaux/couverture.csv")).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains("\"41\";\"Loir-et-Cher\";\"Centre-Val de Loire\""), "{csv}");
        assert!(csv.contains("\"Ensemble — Centre-Val de Loire\""), "{csv}");
        assert!(!csv.contains("\"Ille-et-Vilaine\""), "{csv}");
        let r = national.get(app.url("/national/tableaux/registre.xlsx")).send().await.unwrap();
        let table = maillage_office::read_xlsx(&r.bytes().await.unwrap(), None).unwrap();
        assert_eq!(table.header[..3], ["id", "nom", "finess"]);
        assert!(table.rows.len() > 700, "the whole registry: {}", table.rows.len());
        assert_eq!(get(&national, &app, "/national/tableaux/registre.pdf").await.0, 404);
        assert_eq!(get(&national, &app, "/national/tableaux/autre.csv").await.0, 404);
        assert_eq!(get(&ars, &app, "/national/tableaux/couverture.csv").await.0, 403);
    }
}

async fn upload_registry(app: &TestApp, client: &reqwest::Client, body: Vec<u8>) -> (u16, String) {
    use crate::directory_export::BOUNDARY;
    let r = client
        .post(app.url("/national/registre"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), crate::directory::unescape(r.text().await.unwrap()))
}

#[tokio::test]
async fn an_administrator_replaces_the_registry_from_the_page() {
    use crate::directory_export::multipart;
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_registry(&app).await;
        let before = store.national_registry().await.unwrap().len();
        let (admin, _) = app.login("admin").await;
        let (status, html) = get(&admin, &app, "/national/registre").await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains(&format!("Le registre compte aujourd'hui {before} CPTS")), "{html}");
        assert!(html.contains("enctype=\"multipart/form-data\""), "works without JavaScript");
        let csrf = app.csrf_of(&admin, "/national/registre").await;
        // The observatory before (its coverage is now derived and kept by the server).
        let counted =
            |html: &str| html.split("<span class=\"valeur\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
        let (_, html) = get(&admin, &app, "/national").await;
        assert_ne!(counted(&html), "2", "{html}");
        // A second server on the same database, which has derived the coverage too.
        let other = spawn_app_with(engine, maillage_web::Settings::default(), Some(app.database_url.clone())).await;
        let r = admin.get(other.url("/national")).send().await.unwrap();
        assert_ne!(counted(&r.text().await.unwrap()), "2");

        // Two faulty lines: everything reported, nothing changed.
        let header = "id;nom;finess;siren;etat;depuis;communes\n";
        let bad =
            format!("{header}cpts-a;CPTS A;;;aci_signe;2024-01-10;41018|99999\ncpts-b;;;;signee;2024-13-01;41269\n");
        let (status, html) =
            upload_registry(&app, &admin, multipart(&[("csrf", &csrf)], Some(("r.csv", bad.as_bytes())))).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("ligne 2, colonne communes"), "{html}");
        assert!(html.contains("ligne 3, colonne nom") && html.contains("ligne 3, colonne depuis"), "{html}");
        assert_eq!(store.national_registry().await.unwrap().len(), before, "nothing written");

        // A correct file, checked only, then imported.
        let good = format!(
            "{header}cpts-a;CPTS A;;;aci_signe;2024-01-10;41018|41295\ncpts-b;CPTS B;;;debut_projet;2025-03-01;41269\n"
        );
        let fields = [("csrf", csrf.as_str()), ("verifier", "oui")];
        let (status, html) = upload_registry(&app, &admin, multipart(&fields, Some(("r.csv", good.as_bytes())))).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("« r.csv » est correct : 2 CPTS. Rien n'a été modifié."), "{html}");
        assert_eq!(store.national_registry().await.unwrap().len(), before);
        let (status, html) =
            upload_registry(&app, &admin, multipart(&[("csrf", &csrf)], Some(("r.csv", good.as_bytes())))).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Registre remplacé par « r.csv » : 2 CPTS."), "{html}");
        assert_eq!(store.national_registry().await.unwrap().len(), 2);
        let (_, html) = get(&admin, &app, "/national").await;
        assert_eq!(counted(&html), "2", "the new registry is observed at once");
        let r = admin.get(other.url("/national")).send().await.unwrap();
        assert_eq!(counted(&r.text().await.unwrap()), "2", "and by the other server");

        // Not UTF-8, no file, a wrong token; and only administrators.
        let latin1 = b"id;nom;etat;depuis;communes\ncpts-c;CPTS \xe9t\xe9;aci_signe;2024-01-10;41018\n";
        let (status, html) =
            upload_registry(&app, &admin, multipart(&[("csrf", &csrf)], Some(("r.csv", latin1)))).await;
        assert_eq!(status, 422);
        assert!(html.contains("n'est pas en UTF-8"), "{html}");
        assert_eq!(upload_registry(&app, &admin, multipart(&[("csrf", &csrf)], None)).await.0, 422);
        assert_eq!(
            upload_registry(&app, &admin, multipart(&[("csrf", "faux")], Some(("r.csv", good.as_bytes())))).await.0,
            403
        );
        let (national, _) = app.login("national").await;
        assert_eq!(get(&national, &app, "/national/registre").await.0, 403);
        let csrf = app.csrf_of(&national, "/compte").await;
        assert_eq!(
            upload_registry(&app, &national, multipart(&[("csrf", &csrf)], Some(("r.csv", good.as_bytes())))).await.0,
            403
        );
        assert_eq!(store.national_registry().await.unwrap().len(), 2);
    }
}
