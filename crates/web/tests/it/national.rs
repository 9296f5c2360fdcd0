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
        assert!(html.contains("Couverture par département") && html.contains(">Loir-et-Cher</th>"), "{html}");
        assert_eq!(get(&ars, &app, "/region/53").await.0, 403);

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
