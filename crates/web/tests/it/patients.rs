//! The registry of patients without a médecin traitant: a coordinator registers people (field
//! errors, duplicate warning), lists and filters them, follows a request (withdraw, reopen, a
//! stale form refused), corrects, exports and erases it, every read audited; a member
//! professional registers but never reads; observers and other tenants see nothing; GPs'
//! capacities; the public self-registration form with its honeypot, rate limit and CSRF.

use crate::directory::{CARON, MARTIN, get, post, seed_directory, store_of};
use crate::helpers::*;
use chrono::{TimeZone, Utc};
use maillage_core::patients::{RequestEvent, RequestStatus};
use maillage_store::{
    AccountStore, AuditEvent, AuditStore, CptsId, DirectoryStore, PatientStore, RequestChange, Store,
};

pub fn registry(app: &TestApp) -> String {
    format!("/cpts/{}/acces-soins/patients", app.cpts("blaisois"))
}

pub const JEANNE: [(&str, &str); 7] = [
    ("family_name", "Dupont"),
    ("given_name", "Jeanne"),
    ("birth_date", "14/07/1950"),
    ("commune", "41018"),
    ("phone", "06 12 34 56 78"),
    ("consent", "on"),
    ("source", "pharmacy"),
];

pub const PAUL: [(&str, &str); 7] = [
    ("family_name", "Lemoine"),
    ("given_name", "Paul"),
    ("birth_date", "1988-03-02"),
    ("commune", "41295"),
    ("email", "paul.lemoine@example.org"),
    ("consent", "on"),
    ("ald", "on"),
];

/// Posts a form with the caller's CSRF token; (status, Location, body).
pub async fn submit(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let csrf = app.csrf_of(client, "/compte").await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = client.post(app.url(path)).form(&form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, location, crate::directory::unescape(r.text().await.unwrap()))
}

/// Registers through the professional's form; the id of the new request.
pub async fn register(client: &reqwest::Client, app: &TestApp, fields: &[(&str, &str)]) -> String {
    let (status, location, body) = submit(client, app, &format!("{}/nouvelle", registry(app)), fields).await;
    assert_eq!(status, 303, "{body}");
    let rid = location.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    assert!(rid.starts_with("p-") && rid.len() == 18, "{location}");
    rid
}

fn with<'a>(base: &[(&'a str, &'a str)], changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> =
        base.iter().filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)).copied().collect();
    out.extend_from_slice(changes);
    out
}

/// The names listed by the registry page, in order.
fn names(html: &str) -> Vec<String> {
    html.split("<th scope=\"row\"><a href=\"")
        .skip(1)
        .filter_map(|s| s.split_once("\">").and_then(|(_, rest)| rest.split_once("</a>")).map(|(n, _)| n.to_owned()))
        .collect()
}

async fn audit_count(store: &Store, cpts: &CptsId) -> u64 {
    store.audit_count(Some(cpts)).await.unwrap()
}

#[tokio::test]
async fn a_coordinator_registers_follows_exports_and_erases_requests() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = store_of(&app).await;
        let b = app.cpts("blaisois").clone();
        let (client, _) = app.login("coordinator").await;
        let list = registry(&app);

        let (status, html) = get(&client, &app, &list).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains(&format!("href=\"{list}\" aria-current=\"page\">Accès aux soins</a>")), "nav entry");
        assert!(html.contains("Aucune demande enregistrée"));

        // A bad birth date: every problem shown, what was typed kept.
        let bad = with(&JEANNE, &[("birth_date", "31/02/1950"), ("phone", "")]);
        let (status, _, html) = submit(&client, &app, &format!("{list}/nouvelle"), &bad).await;
        assert_eq!(status, 422, "{engine:?}");
        assert!(html.contains("« 31/02/1950 » n'est pas une date (JJ/MM/AAAA)"), "{html}");
        assert!(html.contains("href=\"#pt-birth_date\""), "the summary links to the field");
        assert!(html.contains("Indiquez un numéro de téléphone ou une adresse électronique"), "{html}");
        assert!(html.contains("value=\"Dupont\"") && html.contains("value=\"31/02/1950\""), "kept values");
        assert!(html.contains("<option value=\"pharmacy\" selected>"), "the source stays chosen");
        // A commune that no longer exists.
        let (status, _, html) =
            submit(&client, &app, &format!("{list}/nouvelle"), &with(&JEANNE, &[("commune", "41005")])).await;
        assert_eq!(status, 422);
        assert!(html.contains("Commune : "), "{html}");

        let jeanne = register(&client, &app, &JEANNE).await;
        app.clock.advance(chrono::Duration::minutes(1));
        let (status, html) = get(&client, &app, &format!("{list}/{jeanne}?enregistree=1")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Demande enregistrée.") && html.contains("Dupont Jeanne"), "{html}");
        assert!(html.contains("14/07/1950 (76 ans)") && html.contains("Blois (41018)"), "{html}");
        assert!(html.contains("Pharmacie") && html.contains("0612345678"), "{html}");

        // The same person typed otherwise: a warning first, then "register anyway".
        let again = with(&JEANNE, &[("family_name", "DUPONT"), ("given_name", "jeanne"), ("phone", "")]);
        let again = with(&again, &[("email", "j.dupont@example.org")]);
        let (status, _, html) = submit(&client, &app, &format!("{list}/nouvelle"), &again).await;
        assert_eq!(status, 409, "{engine:?}: {html}");
        assert!(html.contains("Cette personne est peut-être déjà inscrite"));
        assert!(html.contains(&format!("href=\"{list}/{jeanne}\">Dupont Jeanne</a>")), "{html}");
        assert!(html.contains("même nom, même prénom et même date de naissance"));
        assert!(html.contains("Enregistrer quand même") && html.contains("value=\"DUPONT\""));
        let twin = register(&client, &app, &with(&again, &[("confirmer_doublon", "oui")])).await;
        assert_ne!(twin, jeanne);
        app.clock.advance(chrono::Duration::minutes(1));
        let paul = register(&client, &app, &PAUL).await;

        // The list, the longest waiting first, with counts; its read is audited.
        let before = audit_count(&store, &b).await;
        let (status, html) = get(&client, &app, &list).await;
        assert_eq!(status, 200);
        assert_eq!(audit_count(&store, &b).await, before + 1, "the list read is logged");
        assert_eq!(names(&html), ["Dupont Jeanne", "DUPONT jeanne", "Lemoine Paul"]);
        assert!(html.contains("<span class=\"valeur\">3</span> <a class=\"libelle\""), "{html}");
        assert!(html.contains("title=\"Affection de longue durée\">ALD</span>"));
        assert!(html.contains("<td>Vineuil</td>"), "commune names");
        let (_, html) = get(&client, &app, &format!("{list}?q=lemoine")).await;
        assert_eq!(names(&html), ["Lemoine Paul"]);
        let (_, html) = get(&client, &app, &format!("{list}?commune=41018")).await;
        assert_eq!(names(&html).len(), 2);
        let (_, html) = get(&client, &app, &format!("{list}?statut=withdrawn")).await;
        assert!(names(&html).is_empty() && html.contains("Aucune demande ne correspond"));
        let (status, html) = get(&client, &app, &format!("{list}?statut=perdu")).await;
        assert_eq!(status, 422);
        assert!(html.contains("Statut inconnu"));
        let events = store.audit_page(Some(&b), maillage_store::Page { offset: 0, limit: 100 }).await.unwrap();
        assert!(
            events.iter().any(|e| e.object_type == "patient_registry" && e.detail.contains("recherche « lemoine »"))
        );

        // A request's page is audited too; its probable duplicate is shown (and logged).
        let before = audit_count(&store, &b).await;
        let (status, html) = get(&client, &app, &format!("{list}/{paul}")).await;
        assert_eq!(status, 200);
        assert_eq!(audit_count(&store, &b).await, before + 1, "the read is logged");
        assert!(!html.contains("Doublons probables"));
        let (_, html) = get(&client, &app, &format!("{list}/{jeanne}")).await;
        assert!(html.contains("Doublons probables") && html.contains(&format!("{list}/{twin}")), "{html}");

        // Withdraw, then reopen: the history shows both, with the reason and who.
        let page = format!("{list}/{jeanne}");
        assert!(html.contains("Retirer la demande") && !html.contains("Rouvrir la demande"), "{html}");
        let (status, _, html) = submit(
            &client,
            &app,
            &format!("{page}/evenement"),
            &[("evenement", "withdraw"), ("motif", "A trouvé un médecin"), ("revision", "1")],
        )
        .await;
        assert_eq!(status, 200, "{engine:?}: {html}");
        assert!(html.contains("Statut enregistré : demande retirée."));
        assert!(html.contains("Retrait de la demande") && html.contains("A trouvé un médecin"), "{html}");
        assert!(html.contains("Personne coordinator"));
        assert!(html.contains("Rouvrir la demande") && !html.contains(">Retirer la demande</summary>"));
        let (status, _, html) =
            submit(&client, &app, &format!("{page}/evenement"), &[("evenement", "reopen"), ("revision", "2")]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Réouverture") && html.contains("demande retirée → en attente"), "{html}");

        // A form filled before someone else's change is refused.
        let (status, _, html) =
            submit(&client, &app, &format!("{page}/evenement"), &[("evenement", "withdraw"), ("revision", "2")]).await;
        assert_eq!(status, 409, "{engine:?}");
        assert!(html.contains("La demande a changé entre-temps"), "{html}");
        let (status, _, html) =
            submit(&client, &app, &format!("{page}/evenement"), &[("evenement", "reopen"), ("revision", "3")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("seule une demande close"), "{html}");
        let (status, _, html) =
            submit(&client, &app, &format!("{page}/evenement"), &[("evenement", "declare"), ("revision", "3")]).await;
        assert_eq!(status, 422, "the declaration is not made here: {html}");

        // Corrections keep the status and history; a stale edit is refused.
        let edited = with(&JEANNE, &[("phone", "02 54 11 22 33"), ("revision", "3")]);
        let (status, _, html) = submit(&client, &app, &format!("{page}/modifier"), &edited).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Demande modifiée.") && html.contains("0254112233") && html.contains("Réouverture"));
        let (status, _, html) = submit(&client, &app, &format!("{page}/modifier"), &edited).await;
        assert_eq!(status, 409);
        assert!(html.contains("La demande a changé entre-temps"));
        let (status, _, html) = submit(
            &client,
            &app,
            &format!("{page}/modifier"),
            &with(&edited, &[("revision", "4"), ("given_name", "")]),
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("Le prénom est obligatoire") && html.contains("href=\"#pt-given_name\""), "{html}");

        // The export: the person's data as JSON, audited.
        let before = audit_count(&store, &b).await;
        let r = client.get(app.url(&format!("{page}/export"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json; charset=utf-8");
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("demande-{jeanne}.json")));
        let json: serde_json::Value = r.json().await.unwrap();
        assert_eq!(json["request"]["family_name"], "Dupont");
        assert_eq!(json["history"].as_array().unwrap().len(), 2);
        assert!(json["summary"].as_array().unwrap().iter().any(|l| l["label"] == "Nom" && l["value"] == "Dupont"));
        assert_eq!(audit_count(&store, &b).await, before + 1, "the export is logged");

        // Erasure: confirmed only; then the request is gone.
        let (status, _, html) = submit(&client, &app, &format!("{page}/effacer"), &[]).await;
        assert_eq!(status, 422);
        assert!(html.contains("Cochez la case pour confirmer"));
        let (status, location, _) = submit(&client, &app, &format!("{page}/effacer"), &[("confirmer", "oui")]).await;
        assert_eq!(status, 303);
        assert_eq!(location, format!("{list}?efface=1"));
        let (_, html) = get(&client, &app, &location).await;
        assert!(html.contains("La demande et son historique ont été effacés."));
        assert_eq!(names(&html), ["DUPONT jeanne", "Lemoine Paul"]);
        let (status, _) = get(&client, &app, &page).await;
        assert_eq!(status, 404);
        assert!(matches!(store.request(&b, &jeanne).await, Err(maillage_store::StoreError::NotFound)));
        let events = store.audit_page(Some(&b), maillage_store::Page { offset: 0, limit: 100 }).await.unwrap();
        assert!(events.iter().any(|e| e.action == "delete" && e.object_id == jeanne), "the erasure is logged");
    }
}

#[tokio::test]
async fn members_register_but_never_read_and_others_see_nothing() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let list = registry(&app);
        let (coordinator, _) = app.login("coordinator").await;
        let jeanne = register(&coordinator, &app, &JEANNE).await;

        let (member, _) = app.login("member").await;
        let (status, html) = get(&member, &app, &format!("{list}/nouvelle")).await;
        assert_eq!(status, 200, "{engine:?}");
        let own = list.replace("/patients", "/mes-patients");
        assert!(html.contains(&format!("href=\"{own}\" aria-current=\"page\">Accès aux soins</a>")), "{html}");
        assert!(html.contains("value=\"Personne member\""), "referred by the professional herself");
        assert!(!html.contains("← Patients sans médecin traitant"), "no way to the registry");
        // The same person again: registered without showing anything of the registry.
        let (status, location, _) = submit(&member, &app, &format!("{list}/nouvelle"), &JEANNE).await;
        assert_eq!(status, 303);
        assert_eq!(location, format!("{list}/enregistree"));
        let (status, html) = get(&member, &app, &location).await;
        assert_eq!(status, 200);
        assert!(html.contains("La demande est enregistrée") && !html.contains("Dupont"), "{html}");
        let (status, _, html) =
            submit(&member, &app, &format!("{list}/nouvelle"), &with(&JEANNE, &[("consent", "")])).await;
        assert_eq!(status, 422);
        assert!(html.contains("accord de la personne est nécessaire"), "{html}");
        for path in [list.clone(), format!("{list}/{jeanne}"), format!("{list}/{jeanne}/export")] {
            let (status, _) = get(&member, &app, &path).await;
            assert_eq!(status, 403, "{engine:?} member {path}");
        }
        let (status, _, _) = submit(
            &member,
            &app,
            &format!("{list}/{jeanne}/evenement"),
            &[("evenement", "withdraw"), ("revision", "1")],
        )
        .await;
        assert_eq!(status, 403);
        let (status, _, _) = submit(&member, &app, &format!("{list}/{jeanne}/effacer"), &[("confirmer", "oui")]).await;
        assert_eq!(status, 403);
        // The coordinator sees both requests.
        let (_, html) = get(&coordinator, &app, &list).await;
        assert_eq!(names(&html), ["Dupont Jeanne", "Dupont Jeanne"]);

        for (who, want) in [("ars-centre", 403), ("national", 403), ("coordinator-rennes", 404)] {
            let (client, _) = app.login(who).await;
            for path in [list.clone(), format!("{list}/nouvelle"), format!("{list}/{jeanne}")] {
                let (status, html) = get(&client, &app, &path).await;
                assert_eq!(status, want, "{engine:?} {who} {path}");
                assert!(!html.contains("Dupont"));
            }
            let (status, _, _) = submit(&client, &app, &format!("{list}/nouvelle"), &PAUL).await;
            assert_eq!(status, want, "{who} registers");
        }
        let (_, html) = get(&coordinator, &app, &list).await;
        assert_eq!(names(&html).len(), 2, "nothing registered by observers or other tenants");
    }
}

pub async fn account_id(store: &Store, who: &str) -> String {
    store.account_credentials(email(who)).await.unwrap().unwrap().account.id
}

pub fn system_event(cpts: &CptsId) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: uuid::Uuid::new_v4().to_string(),
        at: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
        account_id: None,
        account_label: "test".into(),
        role: "system".into(),
        action: "update".into(),
        object_type: "patient_request".into(),
        object_id: String::new(),
        request_id: "test".into(),
        detail: String::new(),
    }
}

#[tokio::test]
async fn gps_declare_capacities_and_see_what_is_left() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let (client, _) = app.login("coordinator").await;
        let doctors = format!("/cpts/{b}/acces-soins/medecins");
        let (status, html) = get(&client, &app, &doctors).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("Aucun médecin n'a encore déclaré de places."));

        let capacity = [("national_id", MARTIN), ("kind", "per_month"), ("count", "3"), ("max_km", "12,5")];
        let (status, html) =
            post(&client, &app, &doctors, &[&capacity[..], &[("communes", "41018 41295")]].concat()).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Capacité enregistrée : 3 nouveaux patients par mois."), "{html}");
        assert!(html.contains("Dr Élise Martin</a>") && html.contains("12,5 km") && html.contains("Blois, Vineuil"));
        assert!(html.contains("<td class=\"num\">3</td>"), "{html}");

        let (_, html) = get(&client, &app, &format!("{doctors}?medecin={MARTIN}")).await;
        assert!(html.contains(&format!("value=\"{MARTIN}\"")) && html.contains("value=\"12.5\""), "to change: {html}");
        // Only médecins of the directory; communes must exist.
        let (status, html) =
            post(&client, &app, &doctors, &[("national_id", CARON), ("kind", "total"), ("count", "2")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("n'est pas médecin"), "{html}");
        let (status, html) =
            post(&client, &app, &doctors, &[("national_id", "810000000000"), ("kind", "total"), ("count", "2")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("L'annuaire de la CPTS n'a pas de professionnel 810000000000"), "{html}");
        let (status, html) = post(&client, &app, &doctors, &[&capacity[..], &[("communes", "41005")]].concat()).await;
        assert_eq!(status, 422);
        assert!(html.contains("href=\"#cap-communes\""), "{html}");

        // A proposal to Dr Martin uses one place this month; the request's history names her.
        let jeanne = register(&client, &app, &JEANNE).await;
        let record = store.request(&b, &jeanne).await.unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let (state, change) =
            record.state.apply(&RequestEvent::Propose { doctor: MARTIN.into() }, at, "appariement").unwrap();
        let change = RequestChange { request_id: jeanne.clone(), expected_revision: 1, state, change };
        store.apply_changes(&b, &[change], at, &system_event(&b)).await.unwrap();
        let (_, html) = get(&client, &app, &doctors).await;
        assert!(html.contains("1 ce mois-ci (1 en tout)</td><td class=\"num\">2</td>"), "{html}");
        let (_, html) = get(&client, &app, &format!("{}/{jeanne}", registry(&app))).await;
        assert!(html.contains("Proposition à un médecin") && html.contains("Dr Élise Martin (810001234567)"), "{html}");
        assert!(html.contains("Enregistrer le refus de la personne"), "patient may decline a proposal");
        assert_eq!(store.request(&b, &jeanne).await.unwrap().state.status, RequestStatus::Proposed);

        // A member professional: nothing unless her account is linked to a GP profile; then
        // her own capacity only.
        let (member, _) = app.login("member").await;
        let (status, _) = get(&member, &app, &doctors).await;
        assert_eq!(status, 403);
        let member_id = account_id(&store, "member").await;
        store.link_account_professional(&b, &member_id, MARTIN, &system_event(&b)).await.unwrap();
        let (_, html) = get(&member, &app, &format!("{}/nouvelle", registry(&app))).await;
        assert!(html.contains(&format!("href=\"{doctors}\">Déclarez vos places")), "{html}");
        let (status, html) = get(&member, &app, &doctors).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Mes places pour de nouveaux patients") && html.contains("Dr Élise Martin"));
        let (status, html) =
            post(&member, &app, &doctors, &[("national_id", CARON), ("kind", "total"), ("count", "5")]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("5 nouveaux patients au total"), "her own, whatever id was sent: {html}");
        let caps = store.capacities(&b).await.unwrap();
        assert_eq!(caps.len(), 1);
        assert_eq!(caps[0].capacity.national_id, MARTIN);
        let (status, _) = post(&member, &app, &format!("{doctors}/{CARON}/supprimer"), &[]).await;
        assert_eq!(status, 403, "not hers");
        let (status, html) = post(&member, &app, &format!("{doctors}/{MARTIN}/supprimer"), &[]).await;
        assert_eq!(status, 200);
        assert!(html.contains("Capacité retirée"));
        assert!(store.capacities(&b).await.unwrap().is_empty());
    }
}

/// The public form's CSRF token and the client that holds its cookie.
async fn public_form(app: &TestApp, path: &str) -> (reqwest::Client, String) {
    let client = app.client();
    let r = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    (client, csrf_in(&html).unwrap())
}

async fn public_post(client: &reqwest::Client, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let r = client.post(app.url(path)).form(fields).send().await.unwrap();
    (r.status().as_u16(), crate::directory::unescape(r.text().await.unwrap()))
}

#[tokio::test]
async fn people_register_themselves_without_an_account() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = store_of(&app).await;
        let b = app.cpts("blaisois").clone();
        let path = format!("/cpts/{b}/inscription");
        let (client, csrf) = public_form(&app, &path).await;
        let (_, html) = get(&client, &app, &path).await;
        assert!(html.contains("Trouver un médecin traitant") && html.contains("CPTS du Blaisois"));
        assert!(html.contains("autocomplete=\"family-name\"") && html.contains("autocomplete=\"bday\""));
        assert!(html.contains("<legend>Vous</legend>") && html.contains("J'accepte que la CPTS du Blaisois"));
        assert!(html.contains("name=\"site_web\""), "the honeypot");
        assert!(!html.contains("name=\"source\"") && !html.contains("name=\"referred_by\""));
        let person = [
            ("family_name", "Martin"),
            ("given_name", "Lucie"),
            ("birth_date", "02/05/1990"),
            ("commune", "41047"),
            ("email", "lucie.martin@example.org"),
            ("consent", "on"),
        ];
        let form = |extra: &[(&'static str, &'static str)], csrf: &str| {
            let mut f: Vec<(String, String)> = vec![("csrf".into(), csrf.to_owned())];
            f.extend(person.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            for (k, v) in extra {
                f.retain(|(x, _)| x != k);
                f.push(((*k).to_owned(), (*v).to_owned()));
            }
            f
        };
        let send = |fields: Vec<(String, String)>| {
            let client = client.clone();
            let url = app.url(&path);
            async move {
                let r = client.post(url).form(&fields).send().await.unwrap();
                (r.status().as_u16(), crate::directory::unescape(r.text().await.unwrap()))
            }
        };
        let count = || async { store.registry(&b).await.unwrap().len() };

        // Refused forms say what to fix and keep what was typed; nothing is counted.
        let (status, html) = send(form(&[("consent", ""), ("birth_date", "2090-01-01")], &csrf)).await;
        assert_eq!(status, 422, "{engine:?}");
        assert!(html.contains("href=\"#pt-consent\"") && html.contains("href=\"#pt-birth_date\""), "{html}");
        assert!(html.contains("Le formulaire contient 2 erreurs"));
        assert!(html.contains("value=\"Lucie\""));

        let (status, html) = send(form(&[], &csrf)).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Votre demande est enregistrée") && html.contains("Elle vous contactera par téléphone"));
        assert!(!html.contains("Lucie") && !html.contains("lucie.martin"), "nothing echoed");
        assert_eq!(count().await, 1);
        let request = &store.registry(&b).await.unwrap()[0];
        assert_eq!(request.request.source, maillage_core::patients::RequestSource::SelfRegistration);
        let events = store.audit_page(Some(&b), maillage_store::Page { offset: 0, limit: 100 }).await.unwrap();
        assert!(
            events.iter().any(|e| e.role == "anonymous" && e.action == "create" && e.object_id == request.request.id),
            "the registration is logged"
        );

        // A robot filling the honeypot is told the same, and nothing is stored.
        let (status, html) = send(form(&[("site_web", "http://spam.example")], &csrf)).await;
        assert_eq!(status, 200);
        assert!(html.contains("Votre demande est enregistrée"));
        assert_eq!(count().await, 1);

        // Without the CSRF token, or its cookie: refused.
        let (status, _) = public_post(&client, &app, &path, &person).await;
        assert_eq!(status, 403, "no token");
        let (status, _) =
            public_post(&app.client(), &app, &path, &[&[("csrf", csrf.as_str())][..], &person].concat()).await;
        assert_eq!(status, 403, "no cookie");

        // Five submissions an hour from one address (two so far); the sixth is refused.
        for n in 0..3 {
            let (status, html) = send(form(&[("given_name", ["Ana", "Bea", "Cléo"][n])], &csrf)).await;
            assert_eq!(status, 200, "{html}");
        }
        assert_eq!(count().await, 4);
        let (status, html) = send(form(&[("given_name", "Dina")], &csrf)).await;
        assert_eq!(status, 429, "{engine:?}");
        assert!(html.contains("Trop de demandes ont été envoyées"), "{html}");
        assert!(html.contains("value=\"Dina\""), "kept to retry later");
        assert_eq!(count().await, 4);
        app.clock.advance(chrono::Duration::minutes(61));
        let (status, _) = send(form(&[("given_name", "Dina")], &csrf)).await;
        assert_eq!(status, 200, "an hour later");
        assert_eq!(count().await, 5);

        // The coordination sees them in the registry.
        let (coordinator, _) = app.login("coordinator").await;
        let (_, html) = get(&coordinator, &app, &registry(&app)).await;
        assert_eq!(names(&html).len(), 5);
        let rid = &request.request.id;
        let (_, html) = get(&coordinator, &app, &format!("{}/{rid}", registry(&app))).await;
        assert!(html.contains("Inscription par le patient"), "{html}");

        // Unknown CPTS: not found, logged in or not.
        for id in ["00000000-0000-4000-8000-000000000000", "pas-une-cpts"] {
            let (status, _) = get(&app.client(), &app, &format!("/cpts/{id}/inscription")).await;
            assert_eq!(status, 404);
        }
        let (status, _) = public_post(
            &client,
            &app,
            "/cpts/00000000-0000-4000-8000-000000000000/inscription",
            &[&[("csrf", csrf.as_str())][..], &person].concat(),
        )
        .await;
        assert_eq!(status, 404);
    }
}
