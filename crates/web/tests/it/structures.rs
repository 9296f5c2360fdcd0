//! Structures and the roll of members: a coordinator adds a structure seen in the national
//! extract (its professionals come with it), records an EHPAD by hand, links a physician to it,
//! links the two structures, records the EHPAD's membership, then the yearly dues of several
//! members at once; member professionals read, observers and other tenants see nothing.

use crate::directory::{MARTIN, get, post, seed_directory};
use crate::helpers::*;
use maillage_store::AuditStore;

/// The id of the structure a creation redirected to.
fn created_id(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_owned()
}

async fn create(client: &reqwest::Client, app: &TestApp, fields: &[(&str, &str)]) -> String {
    let b = app.cpts("blaisois").to_string();
    let csrf = app.csrf_of(client, "/compte").await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = client.post(app.url(&format!("/cpts/{b}/structures"))).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    created_id(r.headers()["location"].to_str().unwrap())
}

#[tokio::test]
async fn a_coordinator_records_structures_links_and_dues() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let (client, _) = app.login("coordinator").await;
        let b = app.cpts("blaisois").to_string();
        let list = format!("/cpts/{b}/structures");

        // Nothing recorded yet; the extract's structures are offered, the biggest first.
        let (status, html) = get(&client, &app, &list).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("Aucune structure enregistrée"), "{html}");
        assert!(html.contains("Structures de l'Annuaire Santé à ajouter"));
        assert!(html.contains(&format!("href=\"{list}/nouvelle?depuis=ST0\"")), "{html}");
        let (status, html) = get(&client, &app, &format!("{list}/nouvelle?depuis=ST0")).await;
        assert_eq!(status, 200);
        assert!(html.contains("name=\"technical_id\" value=\"ST0\""), "prefilled from the extract");

        // A bad FINESS is refused with its reason, the form keeps what was typed.
        let (status, html) =
            post(&client, &app, &list, &[("kind", "msp"), ("name", "MSP des Grouëts"), ("finess", "41000927")]).await;
        assert_eq!(status, 422, "{engine:?}");
        assert!(html.contains("n° FINESS"), "{html}");
        assert!(html.contains("value=\"MSP des Grouëts\""));

        // Created from the extract: every professional practising there comes with it.
        let msp = create(
            &client,
            &app,
            &[("kind", "msp"), ("name", "MSP des Grouëts"), ("technical_id", "ST0"), ("commune_code", "41018")],
        )
        .await;
        let (status, html) = get(&client, &app, &format!("{list}/{msp}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Maison de santé pluriprofessionnelle (MSP)"));
        assert!(html.contains("64 professionnels"), "{html}");
        assert!(html.contains("Exerce sur place (Annuaire Santé)"));
        // It is no longer offered; the same identifier cannot be recorded twice.
        let (_, html) = get(&client, &app, &list).await;
        assert!(!html.contains("nouvelle?depuis=ST0"));
        let (status, html) =
            post(&client, &app, &list, &[("kind", "esp"), ("name", "Doublon"), ("technical_id", "ST0")]).await;
        assert_eq!(status, 409, "{html}");

        // An EHPAD, a physician linked by hand with a role, a convention between the two.
        let ehpad =
            create(&client, &app, &[("kind", "ehpad"), ("name", "EHPAD Les Tilleuls"), ("phone", "02 54 00 00 01")])
                .await;
        let page = format!("{list}/{ehpad}");
        let (status, html) = post(
            &client,
            &app,
            &format!("{page}/professionnels"),
            &[("national_id", MARTIN), ("role", "médecin coordonnateur")],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Professionnel relié."));
        assert!(html.contains("Médecin coordonnateur"), "{html}");
        let (status, html) =
            post(&client, &app, &format!("{page}/professionnels"), &[("national_id", "810000000000")]).await;
        assert_eq!(status, 422, "unknown professional: {html}");
        let (status, _) = post(
            &client,
            &app,
            &format!("{page}/liens"),
            &[("kind", "convention"), ("other", msp.as_str()), ("note", "visites du samedi")],
        )
        .await;
        assert_eq!(status, 200);
        let (_, html) = get(&client, &app, &format!("{list}/{msp}")).await;
        assert!(html.contains("a signé une convention avec"), "seen from the other end");
        assert!(html.contains("EHPAD Les Tilleuls</a> — visites du samedi"), "{html}");

        // Membership of the EHPAD, dues of the previous year: to renew.
        let (status, html) = post(
            &client,
            &app,
            &format!("{page}/adhesion"),
            &[("joined_on", "2025-01-15"), ("status", "active"), ("dues_paid_until", "2025-12-31")],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        let roll = format!("/cpts/{b}/adhesions");
        let (status, html) = get(&client, &app, &roll).await;
        assert_eq!(status, 200);
        assert!(html.contains("EHPAD Les Tilleuls</a> <span class=\"aide\">(structure)"), "{html}");
        assert!(html.contains("Martin Élise</a> <span class=\"aide\">(professionnel)"));
        assert!(html.contains("31/12/2025 <span class=\"badge erreur\">à renouveler</span>"), "{html}");
        let (_, html) = get(&client, &app, &format!("{roll}?cotisation=en-retard")).await;
        assert!(html.contains("EHPAD Les Tilleuls") && !html.contains("Martin Élise"), "filtered");

        // Dues for the checked members at once; none checked is refused.
        let (status, html) = post(&client, &app, &format!("{roll}/cotisations"), &[("jusqu_au", "2026-12-31")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("Cochez au moins un adhérent."));
        let ehpad_key = format!("s:{ehpad}");
        let martin_key = format!("p:{MARTIN}");
        let (status, html) = post(
            &client,
            &app,
            &format!("{roll}/cotisations"),
            &[("membre", ehpad_key.as_str()), ("membre", martin_key.as_str()), ("jusqu_au", "2026-12-31")],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Cotisation enregistrée jusqu'au 31/12/2026 pour 2 adhérents."), "{html}");
        assert!(!html.contains("badge erreur\">à renouveler"));
        let csv = client.get(app.url(&format!("/cpts/{b}/adhesions.csv"))).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = csv.text().await.unwrap();
        assert!(
            csv.contains("\"structure\",") && csv.contains("EHPAD Les Tilleuls") && csv.contains("31/12/2026"),
            "{csv}"
        );

        // Every change is in the journal.
        let events = store.audit_count(Some(app.cpts("blaisois"))).await.unwrap();
        assert!(events >= 7, "{events}");

        // Deleting the EHPAD takes its links and membership.
        let (status, _) = post(&client, &app, &format!("{page}/supprimer"), &[]).await;
        assert_eq!(status, 303);
        let (status, _) = get(&client, &app, &page).await;
        assert_eq!(status, 404);
        let (_, html) = get(&client, &app, &roll).await;
        assert!(!html.contains("EHPAD Les Tilleuls"));
    }
}

#[tokio::test]
async fn structures_are_read_by_the_cpts_people_only() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let (coordinator, _) = app.login("coordinator").await;
        let b = app.cpts("blaisois").to_string();
        let list = format!("/cpts/{b}/structures");
        let msp =
            create(&coordinator, &app, &[("kind", "msp"), ("name", "MSP des Grouëts"), ("technical_id", "ST0")]).await;
        let page = format!("{list}/{msp}");

        // A member professional reads, without the forms or the extract's suggestions.
        let (member, _) = app.login("member").await;
        let (status, html) = get(&member, &app, &list).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("MSP des Grouëts") && !html.contains("Ajouter une structure"));
        assert!(!html.contains("Structures de l'Annuaire Santé à ajouter"));
        let (status, html) = get(&member, &app, &page).await;
        assert_eq!(status, 200);
        assert!(!html.contains("Modifier la structure"));
        let (status, _) = post(&member, &app, &format!("{page}/adhesion"), &[("joined_on", "2025-01-01")]).await;
        assert_eq!(status, 403);
        let (status, _) = get(&member, &app, &format!("/cpts/{b}/adhesions")).await;
        assert_eq!(status, 403, "dues are the board's business");

        // Observers and other CPTS see nothing.
        let (ars, _) = app.login("ars-centre").await;
        assert_eq!(get(&ars, &app, &list).await.0, 403);
        let (other, _) = app.login("coordinator-vendome").await;
        assert_eq!(get(&other, &app, &page).await.0, 404);
        let v = app.cpts("vendomois");
        assert_eq!(get(&other, &app, &format!("/cpts/{v}/structures/{msp}")).await.0, 404, "not in its CPTS");

        // A form without its CSRF token changes nothing.
        let r =
            coordinator.post(app.url(&format!("{page}/supprimer"))).form(&[("csrf", "forged")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(get(&coordinator, &app, &page).await.0, 200);
    }
}
