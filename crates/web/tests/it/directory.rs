//! The directory: a coordinator searches the professionals of her territory, opens a profile
//! (audited), corrects it locally (a re-import does not undo it) and records memberships; a
//! member professional corrects her own contact details; observers and other tenants see
//! nothing. Pages and JSON API.

use crate::helpers::*;
use chrono::{TimeZone, Utc};
use maillage_core::directory::model::{
    Address, ExerciseMode, Membership, MembershipStatus, NationalId, PracticePlace, Professional, Specialty,
    StructureRef,
};
use maillage_core::ids::InseeCode;
use maillage_store::{
    AccountStore, AnnuaireImport, AuditEvent, AuditStore, CptsId, DirectoryStore, NewAccount, Page, Store,
};
use serde_json::{Value, json};

pub const MARTIN: &str = "810001234567";
pub const CARON: &str = "810009876543";
pub const DUPUIS: &str = "810005555555";
pub const LEFEVRE: &str = "810004444444";
/// Nurses added to fill more than one page of results.
const FILLERS: u32 = 60;

fn professional(rpps: &str, family: &str, given: &str, profession: &str, places: &[(&str, &str)]) -> Professional {
    let label = match profession {
        "10" => "Médecin",
        "60" => "Infirmier",
        _ => "Masseur-Kinésithérapeute",
    };
    Professional {
        national_id: NationalId::parse(&format!("8{rpps}")).unwrap(),
        civility: Some(if profession == "10" { "DR" } else { "MME" }.into()),
        family_name: family.into(),
        given_name: given.into(),
        profession_code: profession.into(),
        profession_label: Some(label.into()),
        specialties: if profession == "10" {
            vec![Specialty { kind: "S".into(), code: "SM54".into(), label: "Médecine générale".into() }]
        } else {
            Vec::new()
        },
        places: places
            .iter()
            .enumerate()
            .map(|(i, (code, label))| PracticePlace {
                key: format!("ST{i}"),
                structure: StructureRef {
                    technical_id: Some(format!("ST{i}")),
                    siret: None,
                    finess: None,
                    name: Some(format!("Cabinet {family} {}", i + 1)),
                },
                address: Address {
                    line1: Some(format!("{} rue Denis Papin", i + 1)),
                    line2: None,
                    postal_code: Some("41000".into()),
                    commune_code: Some(InseeCode::parse(code).unwrap()),
                    commune_label: Some((*label).into()),
                },
                phone: Some("0254000000".into()),
                email: None,
                exercise_mode: ExerciseMode::Liberal,
                role: None,
                sector: None,
            })
            .collect(),
    }
}

/// The Blaisois directory: four named professionals and enough nurses for two pages.
pub fn blaisois_professionals() -> Vec<Professional> {
    let mut list = vec![
        professional(&MARTIN[1..], "Martin", "Élise", "10", &[("41018", "Blois"), ("41295", "Vineuil")]),
        professional(&CARON[1..], "Caron", "Inès", "60", &[("41018", "Blois")]),
        professional(&DUPUIS[1..], "Dupuis", "Maël", "60", &[("41047", "La Chaussée-Saint-Victor")]),
        professional(&LEFEVRE[1..], "Lefèvre", "Hélène", "70", &[("41295", "Vineuil")]),
    ];
    for n in 0..FILLERS {
        list.push(professional(
            &format!("1002000{n:04}"),
            "Zimmer",
            &format!("Infirmier {n:02}"),
            "60",
            &[("41018", "Blois")],
        ));
    }
    list
}

fn system_event(cpts: &CptsId, action: &str) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: uuid::Uuid::new_v4().to_string(),
        at: Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap(),
        account_id: None,
        account_label: "test".into(),
        role: "system".into(),
        action: action.into(),
        object_type: "directory".into(),
        object_id: String::new(),
        request_id: "test".into(),
        detail: String::new(),
    }
}

pub async fn store_of(app: &TestApp) -> Store {
    maillage_store::connect(&app.database_url).await.unwrap()
}

/// Applies an import on 20 November 2026, `day`-th import of the day (one minute apart, so the
/// history has an order).
pub async fn import(store: &Store, cpts: &CptsId, import_id: &str, day: u32, professionals: &[Professional]) {
    let import = AnnuaireImport {
        id: import_id.into(),
        source: "annuaire",
        file_name: "PS_LibreAcces_Personne_activite.txt".into(),
        lines_read: 2_000_000,
        professionals,
        departement_counts: None,
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 8, day, 0).unwrap();
    store.apply_import(cpts, &import, now, &system_event(cpts, "import")).await.unwrap();
}

/// Imports the Blaisois directory and makes Élise Martin an active member.
pub async fn seed_directory(app: &TestApp) -> Store {
    let store = store_of(app).await;
    let b = app.cpts("blaisois").clone();
    import(&store, &b, "i1", 1, &blaisois_professionals()).await;
    let membership = Membership {
        joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 10).unwrap(),
        left_on: None,
        status: MembershipStatus::Active,
        dues_paid_until: Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
        profession_referent: true,
        board_role: Some("trésorière".into()),
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
    store.put_membership(&b, MARTIN, &membership, now, &system_event(&b, "update")).await.unwrap();
    // Someone in another CPTS, to check that tenants stay apart.
    let v = app.cpts("vendomois").clone();
    import(&store, &v, "v1", 1, &[professional("10007777777", "Vendômois", "Paul", "10", &[("41269", "Vendôme")])])
        .await;
    store
}

/// Pages escape apostrophes (`&#39;`): the tests read them back as typed.
pub fn unescape(html: String) -> String {
    html.replace("&#39;", "'")
}

pub async fn get(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), unescape(r.text().await.unwrap()))
}

pub async fn post(client: &reqwest::Client, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let csrf = app.csrf_of(client, "/compte").await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = client.post(app.url(path)).form(&form).send().await.unwrap();
    (r.status().as_u16(), unescape(r.text().await.unwrap()))
}

/// The names listed in a page of results, in order.
fn names(html: &str) -> Vec<String> {
    html.split("<th scope=\"row\"><a href=\"")
        .skip(1)
        .filter_map(|s| s.split_once("\">").and_then(|(_, rest)| rest.split_once("</a>")).map(|(n, _)| n.to_owned()))
        .collect()
}

async fn account_id(store: &Store, who: &str) -> String {
    store.account_credentials(email(who)).await.unwrap().unwrap().account.id
}

#[tokio::test]
async fn a_coordinator_searches_her_directory() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let (client, _) = app.login("coordinator").await;
        let b = app.cpts("blaisois").to_string();
        let page = format!("/cpts/{b}/annuaire");

        let (status, html) = get(&client, &app, &page).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains(&format!("href=\"{page}\" aria-current=\"page\">Annuaire</a>")), "nav entry");
        assert!(html.contains("64 professionnels — page 1 sur 2"), "{engine:?}");
        assert_eq!(names(&html).len(), 50, "50 a page");
        assert_eq!(names(&html)[..3], ["Mme Caron Inès", "Mme Dupuis Maël", "Mme Lefèvre Hélène"]);
        assert!(html.contains("<option value=\"60\">Infirmiers (62)</option>"), "professions present, counted");
        assert!(html.contains("<option value=\"41295\">Vineuil</option>"), "territory communes");
        assert!(html.contains("Historique des imports"), "imports linked for the coordination");

        // Names without accents or case; words in any order.
        for q in ["elise martin", "MARTIN Élise", "élise"] {
            let (status, html) = get(&client, &app, &format!("{page}?q={q}")).await;
            assert_eq!(status, 200);
            assert_eq!(names(&html), ["Dr Martin Élise"], "{q}");
        }
        let (_, html) = get(&client, &app, &format!("{page}?q=lefevre")).await;
        assert_eq!(names(&html), ["Mme Lefèvre Hélène"]);
        // By profession, commune, membership.
        let (_, html) = get(&client, &app, &format!("{page}?profession=10")).await;
        assert_eq!(names(&html), ["Dr Martin Élise"]);
        assert!(html.contains("<option value=\"10\" selected>"), "the choice stays selected");
        let (_, html) = get(&client, &app, &format!("{page}?commune=41295")).await;
        assert_eq!(names(&html), ["Mme Lefèvre Hélène", "Dr Martin Élise"]);
        assert!(html.contains("Blois, Vineuil"), "communes of each professional, by name");
        let (_, html) = get(&client, &app, &format!("{page}?membre=oui")).await;
        assert_eq!(names(&html), ["Dr Martin Élise"]);
        assert!(html.contains("adhérent</span>"));
        let (_, html) = get(&client, &app, &format!("{page}?membre=non&profession=60&commune=41018")).await;
        assert!(html.contains("61 professionnels"), "combined filters");
        let (_, html) = get(&client, &app, &format!("{page}?q=personne")).await;
        assert!(html.contains("Aucun professionnel ne correspond"));

        // Paging keeps the criteria.
        let (_, html) = get(&client, &app, &format!("{page}?profession=60&page=2")).await;
        assert!(html.contains("62 professionnels — page 2 sur 2"));
        assert_eq!(names(&html).len(), 12);
        assert!(html.contains(&format!("href=\"{page}?profession=60\"")), "back to page 1");

        // htmx: the results only, the same handler.
        let r = client.get(app.url(&format!("{page}?q=caron"))).header("HX-Request", "true").send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["vary"], "HX-Request");
        let fragment = r.text().await.unwrap();
        assert!(!fragment.contains("<html") && !fragment.contains("<form"), "a fragment");
        assert_eq!(names(&fragment), ["Mme Caron Inès"]);

        // A bad criterion says why, in French.
        let (status, html) = get(&client, &app, &format!("{page}?profession=xx")).await;
        assert_eq!(status, 422);
        assert!(html.contains("n'est pas un code de profession"), "{html}");

        // The other CPTS's professional never shows.
        let (_, html) = get(&client, &app, &format!("{page}?q=vendomois")).await;
        assert!(names(&html).is_empty());
        let (status, _) = get(&client, &app, &format!("{page}/810007777777")).await;
        assert_eq!(status, 404, "another tenant's professional");

        // The import history.
        let (status, html) = get(&client, &app, &format!("{page}/imports")).await;
        assert_eq!(status, 200);
        assert!(html.contains("PS_LibreAcces_Personne_activite.txt") && html.contains("2\u{202f}000\u{202f}000"));
    }
}

#[tokio::test]
async fn profiles_are_audited_and_local_corrections_survive_reimports() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let (client, _) = app.login("coordinator").await;
        let profile = format!("/cpts/{b}/annuaire/{MARTIN}");

        let (status, html) = get(&client, &app, &profile).await;
        assert_eq!(status, 200, "{engine:?}");
        assert!(html.contains("<h1>Dr Élise Martin</h1>"), "{html}");
        assert!(html.contains("RPPS 10001234567") && html.contains("identifiant national 810001234567"));
        assert!(html.contains("Médecin · Médecine générale"));
        assert!(html.contains("Blois (41018)") && html.contains("Vineuil (41295)"));
        assert!(html.contains("trésorière") && html.contains("31/12/2026"), "membership, dues for the coordination");
        assert!(!html.contains("corrigé localement"));
        let log = store.audit_page(Some(&b), Page { offset: 0, limit: 10 }).await.unwrap();
        let read = log.iter().find(|e| e.action == "read" && e.object_type == "professional");
        let read = read.unwrap_or_else(|| panic!("profile read not audited: {log:?}"));
        assert_eq!((read.object_id.as_str(), read.role.as_str()), (MARTIN, "coordinator"));

        // A phone corrected at the first place.
        let corrections = format!("{profile}/corrections");
        let (status, html) =
            post(&client, &app, &corrections, &[("field", "phone"), ("place", "ST0"), ("value", "02 54 11 22 33")])
                .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Téléphone corrigé localement."));
        assert!(html.contains("0254112233 <span class=\"badge corrige\">corrigé localement</span>"), "{html}");
        // The MSSanté address, per professional; a wrong one is refused with the form kept.
        let (status, html) =
            post(&client, &app, &corrections, &[("field", "mssante"), ("value", "e.martin@gmail.com")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("n'est pas une adresse MSSanté"), "{html}");
        assert!(html.contains("value=\"e.martin@gmail.com\"") && html.contains("aria-invalid=\"true\""));
        let (status, _) =
            post(&client, &app, &corrections, &[("field", "mssante"), ("value", "Elise.Martin@medecin.mssante.fr")])
                .await;
        assert_eq!(status, 200);
        let (status, html) =
            post(&client, &app, &corrections, &[("field", "phone"), ("place", "ST9"), ("value", "0254000001")]).await;
        assert_eq!(status, 422, "an unknown place");
        assert!(html.contains("pas de lieu d'exercice « ST9 »"), "{html}");
        let (status, _) = post(&client, &app, &corrections, &[("field", "colour"), ("value", "x")]).await;
        assert_eq!(status, 422);

        // The next extract changes her imported phone: the correction still wins.
        let mut again = blaisois_professionals();
        again[0].places[0].phone = Some("0254999999".into());
        import(&store, &b, "i2", 2, &again).await;
        let (_, html) = get(&client, &app, &profile).await;
        assert!(html.contains("0254112233 <span class=\"badge corrige\">corrigé localement</span>"), "kept");
        assert!(html.contains("elise.martin@medecin.mssante.fr <span class=\"badge corrige\">"));
        assert!(!html.contains("0254999999"));
        // Removed, the newly imported value shows.
        let (status, html) =
            post(&client, &app, &format!("{corrections}/supprimer"), &[("field", "phone"), ("place", "ST0")]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("0254999999") && !html.contains("0254112233"));
        let (status, _) =
            post(&client, &app, &format!("{corrections}/supprimer"), &[("field", "phone"), ("place", "ST0")]).await;
        assert_eq!(status, 404, "nothing left to remove");

        // Every change is in the log with its field.
        let log = store.audit_page(Some(&b), Page { offset: 0, limit: 50 }).await.unwrap();
        assert!(log.iter().any(|e| e.action == "update" && e.detail.contains("téléphone (lieu ST0) = 0254112233")));
        assert!(log.iter().any(|e| e.action == "delete" && e.detail.contains("correction retirée")));
        let (status, _) = get(&client, &app, &format!("/cpts/{b}/annuaire/899999999999")).await;
        assert_eq!(status, 404);
        let (status, _) = get(&client, &app, &format!("/cpts/{b}/annuaire/pas-un-rpps")).await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn memberships_are_recorded_by_the_board_and_checked() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        let (board, _) = app.login("board").await;
        let path = format!("/cpts/{b}/annuaire/{CARON}/adhesion");

        // Left, without a leaving date: refused in French, the form kept.
        let fields = [("joined_on", "2025-02-01"), ("status", "left"), ("dues_paid_until", "2025-12-31")];
        let (status, html) = post(&board, &app, &path, &fields).await;
        assert_eq!(status, 422, "{engine:?}");
        assert!(html.contains("une adhésion terminée a une date de fin"), "{html}");
        assert!(html.contains("value=\"2025-02-01\"") && html.contains("<option value=\"left\" selected>"));
        let (status, html) = post(&board, &app, &path, &[("joined_on", ""), ("status", "active")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("la date d'adhésion est obligatoire"));
        let (status, html) = post(&board, &app, &path, &[("joined_on", "31/02/2025")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("n'est pas une date"));

        let fields = [
            ("joined_on", "2025-02-01"),
            ("status", "active"),
            ("dues_paid_until", "2026-12-31"),
            ("profession_referent", "oui"),
            ("board_role", "secrétaire"),
        ];
        let (status, html) = post(&board, &app, &path, &fields).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Adhésion enregistrée (active)") && html.contains("secrétaire"));
        let (_, html) = get(&board, &app, &format!("/cpts/{b}/annuaire?membre=oui")).await;
        assert_eq!(names(&html), ["Mme Caron Inès", "Dr Martin Élise"]);

        // A member professional reads the membership (without the dues) but cannot change it.
        let (member, _) = app.login("member").await;
        let (status, html) = get(&member, &app, &format!("/cpts/{b}/annuaire/{CARON}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("secrétaire") && !html.contains("31/12/2026"), "no dues for members");
        assert!(!html.contains("/adhesion\""), "no membership form");
        assert!(!html.contains("/corrections\""), "no correction form on someone else's profile");
        let (status, _) = post(&member, &app, &path, &fields).await;
        assert_eq!(status, 403);
    }
}

#[tokio::test]
async fn who_may_read_the_directory() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        seed_directory(&app).await;
        let b = app.cpts("blaisois").to_string();
        let paths = [
            format!("/cpts/{b}/annuaire"),
            format!("/cpts/{b}/annuaire/{MARTIN}"),
            format!("/api/v1/cpts/{b}/directory"),
            format!("/api/v1/cpts/{b}/directory/{MARTIN}"),
        ];
        for (who, expected) in [
            ("coordinator", 200),
            ("board", 200),
            ("member", 200),
            ("admin", 200),
            ("ars-centre", 403),
            ("national", 403),
            ("coordinator-vendome", 404),
            ("coordinator-rennes", 404),
        ] {
            let (client, _) = app.login(who).await;
            for path in &paths {
                let (status, _) = get(&client, &app, path).await;
                assert_eq!(status, expected, "{engine:?} {who} {path}");
            }
        }
        // Imports: the coordination only.
        for (who, expected) in [("coordinator", 200), ("board", 200), ("member", 403), ("ars-centre", 403)] {
            let (client, _) = app.login(who).await;
            let (status, _) = get(&client, &app, &format!("/cpts/{b}/annuaire/imports")).await;
            assert_eq!(status, expected, "{who} imports");
        }
        // The navigation offers the directory to the people of the CPTS only.
        let (member, _) = app.login("member").await;
        let (_, html) = get(&member, &app, &format!("/cpts/{b}")).await;
        assert!(html.contains(&format!("<a href=\"/cpts/{b}/annuaire\">Annuaire</a>")));
        let anonymous = app.client();
        let r = anonymous.get(app.url(&format!("/cpts/{b}/annuaire"))).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = anonymous.get(app.url(&format!("/api/v1/cpts/{b}/directory"))).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
}

#[tokio::test]
async fn a_member_corrects_her_own_contact_details_only() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let (member, _) = app.login("member").await;
        let (coordinator, _) = app.login("coordinator").await;

        // Not linked yet: no "Ma fiche", and /moi says so.
        let (_, html) = get(&member, &app, "/compte").await;
        assert!(!html.contains("Ma fiche dans l'annuaire"));
        let (status, html) = get(&member, &app, &format!("/cpts/{b}/annuaire/moi")).await;
        assert_eq!(status, 404, "{engine:?}");
        assert!(html.contains("relié à aucune fiche"));
        let (status, _) = post(
            &member,
            &app,
            &format!("/cpts/{b}/annuaire/{CARON}/corrections"),
            &[("field", "phone"), ("place", "ST0"), ("value", "0601020304")],
        )
        .await;
        assert_eq!(status, 403, "not hers (yet)");

        // The coordinator links the member's account to Inès Caron's profile.
        let (_, html) = get(&coordinator, &app, &format!("/cpts/{b}/annuaire/{CARON}")).await;
        assert!(html.contains("Aucun compte n'est relié") && html.contains(email("member")), "{html}");
        let member_id = account_id(&store, "member").await;
        let link = format!("/cpts/{b}/annuaire/{CARON}/compte");
        let (status, html) = post(&coordinator, &app, &link, &[("account", &member_id)]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Personne member") && html.contains("est relié à cette fiche"));
        // Only member professionals' accounts, one per professional.
        let board_id = account_id(&store, "board").await;
        let (status, html) = post(&coordinator, &app, &link, &[("account", &board_id)]).await;
        assert_eq!(status, 422);
        assert!(html.contains("Seul le compte d'un professionnel adhérent"));
        let other = NewAccount {
            email: "autre.membre@blaisois.test.maillage".into(),
            display_name: "Autre membre".into(),
            password_hash: None,
            role: maillage_core::access::Role::MemberProfessional { cpts: b.clone() },
        };
        let other = store.create_account(&other, Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()).await.unwrap();
        let (status, html) = post(&coordinator, &app, &link, &[("account", &other.id)]).await;
        assert_eq!(status, 409);
        assert!(html.contains("Un autre compte est déjà relié"), "{html}");
        // The board may not link accounts.
        let (board, _) = app.login("board").await;
        let (status, _) = post(&board, &app, &link, &[("account", &member_id)]).await;
        assert_eq!(status, 403);

        // The member finds her profile from her account page.
        let (_, html) = get(&member, &app, "/compte").await;
        assert!(
            html.contains(&format!("href=\"/cpts/{b}/annuaire/moi\"")) && html.contains("Ma fiche dans l'annuaire")
        );
        let r = member.get(app.url(&format!("/cpts/{b}/annuaire/moi"))).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], format!("/cpts/{b}/annuaire/{CARON}"));
        let (_, html) = get(&member, &app, &format!("/cpts/{b}/annuaire/{CARON}")).await;
        assert!(html.contains("C'est votre fiche"));
        assert!(
            html.contains("name=\"field\" value=\"phone\"") && !html.contains("name=\"field\" value=\"address_line1\"")
        );

        // Her phone, her MSSanté address and her availability: yes.
        let own = format!("/cpts/{b}/annuaire/{CARON}/corrections");
        let (status, html) =
            post(&member, &app, &own, &[("field", "phone"), ("place", "ST0"), ("value", "06 01 02 03 04")]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("0601020304 <span class=\"badge corrige\">corrigé localement</span>"));
        let (status, _) = post(&member, &app, &own, &[("field", "snp_participant"), ("value", "oui")]).await;
        assert_eq!(status, 200);
        // Searchable: the directory's "soins non programmés" filter finds her, and only her.
        let (_, html) = get(&member, &app, &format!("/cpts/{b}/annuaire?snp=oui")).await;
        assert_eq!(names(&html), ["Mme Caron Inès"], "{html}");
        assert!(html.contains("<span class=\"badge\">soins non programmés</span>"));
        let (_, html) = get(&member, &app, &format!("/cpts/{b}/annuaire?snp=non&q=caron")).await;
        assert!(names(&html).is_empty());
        // Her address, someone else's phone, an unknown professional: no.
        let (status, _) =
            post(&member, &app, &own, &[("field", "address_line1"), ("place", "ST0"), ("value", "1 rue X")]).await;
        assert_eq!(status, 403);
        let (status, _) = post(
            &member,
            &app,
            &format!("/cpts/{b}/annuaire/{MARTIN}/corrections"),
            &[("field", "phone"), ("place", "ST0"), ("value", "0601020304")],
        )
        .await;
        assert_eq!(status, 403);
        let (status, _) = post(
            &member,
            &app,
            &format!("/cpts/{b}/annuaire/899999999999/corrections"),
            &[("field", "phone"), ("place", "ST0"), ("value", "0601020304")],
        )
        .await;
        assert_eq!(status, 404);
        let log = store.audit_page(Some(&b), Page { offset: 0, limit: 50 }).await.unwrap();
        assert!(
            log.iter().any(|e| e.role == "member_professional" && e.action == "update" && e.object_id == CARON),
            "her change is audited"
        );

        // The coordinator removes the link.
        let (status, html) = post(&coordinator, &app, &link, &[("account", "")]).await;
        assert_eq!(status, 200, "{html}");
        let (status, _) = get(&member, &app, &format!("/cpts/{b}/annuaire/moi")).await;
        assert_eq!(status, 404);
    }
}

/// An API client acting for one person, with a bearer token.
struct Api<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    token: String,
}

impl<'a> Api<'a> {
    async fn of(app: &'a TestApp, who: &str) -> Api<'a> {
        Api { app, client: reqwest::Client::new(), token: app.api_token(who).await }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, self.app.url(path)).bearer_auth(&self.token);
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

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

fn listed(page: &Value) -> Vec<String> {
    page["professionals"].as_array().unwrap().iter().map(|p| p["family_name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_directory_through_the_api() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let store = seed_directory(&app).await;
        let b = app.cpts("blaisois").clone();
        let base = format!("/api/v1/cpts/{b}/directory");
        let api = Api::of(&app, "coordinator").await;

        // Search.
        let (status, page) = api.get(&base).await;
        assert_eq!(status, 200, "{engine:?} {page}");
        assert_eq!(
            (page["total"].as_u64(), page["pages"].as_u64(), page["per_page"].as_u64()),
            (Some(64), Some(2), Some(50))
        );
        assert_eq!(page["professionals"].as_array().unwrap().len(), 50);
        let (_, page) = api.get(&format!("{base}?q=ELISE%20martin")).await;
        assert_eq!(listed(&page), ["Martin"]);
        assert_eq!(page["professionals"][0]["national_id"], MARTIN);
        assert_eq!(page["professionals"][0]["communes"], json!(["41018", "41295"]));
        assert_eq!(page["professionals"][0]["member"], true);
        let (_, page) = api.get(&format!("{base}?profession=60&commune=41047")).await;
        assert_eq!(listed(&page), ["Dupuis"]);
        let (_, page) = api.get(&format!("{base}?member=true")).await;
        assert_eq!(listed(&page), ["Martin"]);
        let (_, page) = api.get(&format!("{base}?profession=60&page=2")).await;
        assert_eq!((page["total"].as_u64(), page["page"].as_u64()), (Some(62), Some(2)));
        assert_eq!(page["professionals"].as_array().unwrap().len(), 12);
        let (status, e) = api.get(&format!("{base}?commune=4101")).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_commune")));
        let (status, e) = api.get(&format!("{base}?member=peut-etre")).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_parameters")));

        // A profile: effective values, corrections, membership; the read audited.
        let before = store.audit_count(Some(&b)).await.unwrap();
        let (status, p) = api.get(&format!("{base}/{MARTIN}")).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!((p["identifier_kind"].as_str(), p["identifier"].as_str()), (Some("rpps"), Some("10001234567")));
        assert_eq!(p["places"][0]["phone"], json!({"value": "0254000000", "corrected": false}));
        assert_eq!(p["membership"]["dues_paid_until"], "2026-12-31");
        assert_eq!(p["can_edit"], true);
        assert_eq!(store.audit_count(Some(&b)).await.unwrap(), before + 1, "the read is logged");

        // Corrections: per place with `place`, per professional without.
        let phone = format!("{base}/{MARTIN}/corrections/phone?place=ST0");
        let (status, p) = api.put(&phone, json!({"value": "+33 2 54 11 22 33"})).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["places"][0]["phone"], json!({"value": "+33254112233", "corrected": true}));
        assert_eq!(
            p["corrections"][0],
            json!({"field": "phone", "place": "ST0", "value": "+33254112233", "orphaned": false})
        );
        let (status, p) =
            api.put(&format!("{base}/{MARTIN}/corrections/accepts_new_patients"), json!({"value": "non"})).await;
        assert_eq!(status, 200);
        assert_eq!(p["accepts_new_patients"], json!({"value": false, "corrected": true}));
        let (status, e) = api.put(&format!("{base}/{MARTIN}/corrections/phone"), json!({"value": "0254"})).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_correction")), "{e}");
        assert!(e["error"]["message_fr"].as_str().unwrap().contains("lieu d'exercice"), "{e}");
        let (status, e) = api.put(&format!("{base}/{MARTIN}/corrections/colour"), json!({"value": "x"})).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("unknown_field")));
        // A re-import does not erase the correction.
        let mut again = blaisois_professionals();
        again[0].places[0].phone = Some("0254999999".into());
        import(&store, &b, "i2", 2, &again).await;
        let (_, p) = api.get(&format!("{base}/{MARTIN}")).await;
        assert_eq!(p["places"][0]["phone"], json!({"value": "+33254112233", "corrected": true}));
        let (status, _) = api.delete(&phone).await;
        assert_eq!(status, 204);
        let (status, _) = api.delete(&phone).await;
        assert_eq!(status, 404);
        let (_, p) = api.get(&format!("{base}/{MARTIN}")).await;
        assert_eq!(p["places"][0]["phone"], json!({"value": "0254999999", "corrected": false}));

        // Membership.
        let membership = format!("{base}/{DUPUIS}/membership");
        let (status, e) = api.put(&membership, json!({"joined_on": "2025-01-01", "status": "left"})).await;
        assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid_membership")), "{e}");
        assert!(e["error"]["message_fr"].as_str().unwrap().contains("une adhésion terminée a une date de fin"));
        let body = json!({"joined_on": "2025-01-01", "status": "left", "left_on": "2026-06-30", "board_role": " "});
        let (status, m) = api.put(&membership, body).await;
        assert_eq!(status, 200, "{m}");
        assert_eq!(
            (m["status"].as_str(), m["left_on"].as_str(), &m["board_role"]),
            (Some("left"), Some("2026-06-30"), &Value::Null)
        );
        let (status, _) = api
            .put(&format!("{base}/899999999999/membership"), json!({"joined_on": "2025-01-01", "status": "active"}))
            .await;
        assert_eq!(status, 404);

        // Imports.
        let (status, list) = api.get(&format!("{base}/imports")).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!((list[0]["id"].as_str(), list[0]["updated"].as_u64()), (Some("i2"), Some(1)));

        // Others: observers 403, another tenant 404; a member reads without the dues and corrects
        // only her own contact details.
        for (who, expected) in [("ars-centre", 403), ("national", 403), ("coordinator-vendome", 404)] {
            let other = Api::of(&app, who).await;
            for path in [base.clone(), format!("{base}/{MARTIN}"), format!("{base}/imports")] {
                let (status, _) = other.get(&path).await;
                assert_eq!(status, expected, "{who} {path}");
            }
            let (status, _) = other.put(&phone, json!({"value": "0254000001"})).await;
            assert_eq!(status, expected, "{who} writes");
        }
        let member_id = account_id(&store, "member").await;
        store.link_account_professional(&b, &member_id, CARON, &system_event(&b, "update")).await.unwrap();
        let member = Api::of(&app, "member").await;
        let (status, p) = member.get(&format!("{base}/{MARTIN}")).await;
        assert_eq!(status, 200);
        assert!(p["membership"].get("dues_paid_until").is_none(), "dues are for the coordination: {p}");
        assert_eq!((p["can_edit"].as_bool(), p["is_self"].as_bool()), (Some(false), Some(false)));
        let (status, p) = member
            .put(&format!("{base}/{CARON}/corrections/email?place=ST0"), json!({"value": "Ines.Caron@Example.fr"}))
            .await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["places"][0]["email"], json!({"value": "ines.caron@example.fr", "corrected": true}));
        assert_eq!(p["is_self"], true);
        let (status, _) =
            member.put(&format!("{base}/{CARON}/corrections/postal_code?place=ST0"), json!({"value": "41000"})).await;
        assert_eq!(status, 403, "not a contact detail");
        let (status, _) = member.put(&phone, json!({"value": "0254000001"})).await;
        assert_eq!(status, 403, "someone else's");
        let (status, _) = member
            .put(&format!("{base}/{CARON}/membership"), json!({"joined_on": "2025-01-01", "status": "active"}))
            .await;
        assert_eq!(status, 403);
        let (status, _) = member.get(&format!("{base}/imports")).await;
        assert_eq!(status, 403);
    }
}

#[tokio::test]
async fn statistics_are_aggregates_for_the_region_too() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let b = app.cpts("blaisois").to_string();
        let store = maillage_store::connect(&app.database_url).await.unwrap();
        let id = app.cpts("blaisois").clone();
        let pros = vec![
            stat_pro("10001234567", "10", "SM54", "41018"),
            stat_pro("10009876543", "60", "", "41018"),
            stat_pro("10005555555", "60", "", "41295"),
        ];
        let mut counts = maillage_core::directory::collect::DepartementCounts::new();
        counts.entry("41".into()).or_default().insert("60".into(), 3_300);
        let import = AnnuaireImport {
            id: "stats".into(),
            source: "annuaire",
            file_name: "x.txt".into(),
            lines_read: 4,
            professionals: &pros,
            departement_counts: Some(&counts),
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
        store.apply_import(&id, &import, now, &system_event(&id, "import")).await.unwrap();
        let membership = maillage_core::directory::model::Membership {
            joined_on: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            left_on: None,
            status: maillage_core::directory::model::MembershipStatus::Active,
            dues_paid_until: None,
            profession_referent: false,
            board_role: None,
        };
        store.put_membership(&id, "810009876543", &membership, now, &system_event(&id, "update")).await.unwrap();
        store.close().await;

        for who in ["coordinator", "ars-centre"] {
            let (client, _) = app.login(who).await;
            let r = client.get(app.url(&format!("/cpts/{b}/annuaire/statistiques"))).send().await.unwrap();
            assert_eq!(r.status(), 200, "{who}");
            let html = r.text().await.unwrap();
            assert!(html.contains("Médecins généralistes") && html.contains("Infirmiers"), "{who}");
            assert!(html.contains("33,3\u{a0}%"), "1 member of 3 professionals");
            assert!(html.contains("<svg class=\"graphique\""));
            assert!(!html.contains("10009876543"), "no one is named");
            // Loir-et-Cher: 3,300 nurses for its population, per 10,000 inhabitants.
            let r = maillage_core::refdata::Reference::embedded();
            let pop: u64 = r
                .communes()
                .iter()
                .filter(|c| c.parent.is_none() && c.departement == "41")
                .map(|c| u64::from(c.population))
                .sum();
            let tenths = (3_300 * 100_000 + pop / 2) / pop;
            assert!(html.contains(&format!("{},{}", tenths / 10, tenths % 10)), "département density {tenths}");
        }
        let (other, _) = app.login("coordinator-rennes").await;
        let r = other.get(app.url(&format!("/cpts/{b}/annuaire/statistiques"))).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }
}

fn stat_pro(
    rpps: &str,
    profession: &str,
    specialty: &str,
    commune: &str,
) -> maillage_core::directory::model::Professional {
    use maillage_core::directory::model::*;
    Professional {
        national_id: NationalId::parse(&format!("8{rpps}")).unwrap(),
        civility: None,
        family_name: format!("Nom{rpps}"),
        given_name: "Prénom".into(),
        profession_code: profession.into(),
        profession_label: None,
        specialties: if specialty.is_empty() {
            vec![]
        } else {
            vec![Specialty { kind: "S".into(), code: specialty.into(), label: "Médecine générale".into() }]
        },
        places: vec![PracticePlace {
            key: "P1".into(),
            structure: StructureRef::default(),
            address: Address {
                commune_code: Some(maillage_core::ids::InseeCode::parse(commune).unwrap()),
                ..Default::default()
            },
            phone: None,
            email: None,
            exercise_mode: ExerciseMode::Liberal,
            role: None,
            sector: None,
        }],
    }
}
