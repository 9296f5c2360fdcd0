//! The ACI contract and spending pages: a coordinator enters her contract, indicators, results
//! and expenses, and reads what she will be paid and what is left; the others see what their
//! role allows.

use crate::helpers::*;

fn revision_in(html: &str) -> String {
    let at = html.find("name=\"revision\" value=\"").expect("a revision field") + "name=\"revision\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let csrf = app.csrf_of(client, &format!("/cpts/{}/contrat", app.cpts("blaisois"))).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = client.post(app.url(path)).form(&form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_coordinator_enters_her_contract_and_reads_payments_and_what_is_left() {
    for engine in engines() {
        let app = spawn_app(engine).await;
        let (client, _) = app.login("coordinator").await;
        let b = app.cpts("blaisois").to_string();
        let page = format!("/cpts/{b}/contrat");
        let (status, html) = get(&app, &client, &page).await;
        assert_eq!(status, 200);
        assert!(html.contains("pas encore été saisi") && html.contains("Saisir le contrat"), "{engine:?}");
        assert!(html.contains("href=\"/cpts/") && html.contains("/contrat\" aria-current=\"page\">Contrat ACI"));

        // The contract: avenant 2, signed 15 March 2024, 52,000 inhabitants (taille 2), socle missions.
        let fields = [
            ("signed_on", "2024-03-15"),
            ("rule_set", "avenant-2"),
            ("population", "52 000"),
            ("m_acces", "1"),
            ("m_parcours", "1"),
            ("m_prevention", "1"),
            ("m_crise", "1"),
        ];
        let (status, html) = post(&app, &client, &page, &fields).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Contrat enregistré"));
        assert!(html.contains("Signé le 15/03/2024") && html.contains("taille 2"), "header");
        let rev = revision_in(&html);
        assert_eq!(rev, "1");

        // Access to care starts on 1 June 2024, with one indicator and its year-1 result.
        let (status, html) = post(
            &app,
            &client,
            &format!("{page}/missions"),
            &[("revision", "1"), ("mission", "acces"), ("started_on", "2024-06-01")],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        let indicator = [
            ("revision", "2"),
            ("name", "Patients orientés vers un médecin traitant"),
            ("kind", "result"),
            ("baseline", "0"),
            ("weight", "1"),
            ("target_1", "200"),
            ("target_2", "400"),
        ];
        let (status, html) = post(&app, &client, &format!("{page}/missions/acces/indicateurs"), &indicator).await;
        assert_eq!(status, 200, "{html}");
        let result = [
            ("revision", "3"),
            ("year", "1"),
            ("achieved", "150"),
            ("evidence", "export-2025.csv\nCR bureau"),
            ("annee", "1"),
        ];
        let (status, html) =
            post(&app, &client, &format!("{page}/missions/acces/indicateurs/0/resultat"), &result).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("75,00\u{a0}%"), "150 of 200 = 75 %");
        // Year 1 (T2): operating 60,000 paid at signature; access variable 30,000 × 75 % = 22,500 €.
        assert!(html.contains("60\u{202f}000\u{a0}€"), "operating funding");
        assert!(html.contains("22\u{202f}500\u{a0}€"), "variable part of access");
        assert!(html.contains("À la signature") && html.contains("Avance (75 %)") && html.contains("Solde"));
        assert!(html.contains("export-2025.csv"), "evidence listed");

        // A page left open on revision 3 cannot overwrite revision 4.
        let (status, html) = post(
            &app,
            &client,
            &format!("{page}/missions"),
            &[("revision", "3"), ("mission", "parcours"), ("started_on", "2024-09-01")],
        )
        .await;
        assert_eq!(status, 409);
        assert!(html.contains("modifiées entre-temps"), "{html}");

        // Invalid: deployed before it started. Refused with the reason; nothing changes.
        let (status, html) = post(
            &app,
            &client,
            &format!("{page}/missions"),
            &[("revision", "4"), ("mission", "acces"), ("started_on", "2024-06-01"), ("deployed_on", "2024-01-01")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("avant son démarrage"), "{html}");
        assert_eq!(revision_in(&html), "4");
        let (status, html) = post(
            &app,
            &client,
            &format!("{page}/missions"),
            &[("revision", "4"), ("mission", "acces"), ("started_on", "32/13/2024")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("pas une date"));

        // Spending: an allowance to a member professional, charged to access, year 1.
        let spending = format!("/cpts/{b}/depenses");
        let expense = [
            ("spent_on", "2024-10-03"),
            ("envelope", "acces"),
            ("category", "indemnisation"),
            ("payee_kind", "professionnel_membre"),
            ("payee", "Dr Élise Martin"),
            ("payee_rpps", "10001234567"),
            ("amount", "1 200,50"),
            ("receipt", "IND-2024-07"),
            ("annee", "1"),
        ];
        let (status, html) = post(&app, &client, &spending, &expense).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Dépense de 1\u{202f}200,50\u{a0}€ enregistrée"));
        assert!(html.contains("IND-2024-07") && html.contains("<svg class=\"graphique\""));
        // Access entitlement of year 1 = 70,000 × 287/365 + 22,500 = 77,541.10 €; spent 1,200.50;
        // left 76,340.60 → 76,341 €.
        assert!(html.contains("77\u{202f}541\u{a0}€"), "access entitlement");
        assert!(html.contains("76\u{202f}341\u{a0}€"), "what is left in the access envelope");

        // A bad amount is refused with the form kept.
        let mut bad = expense;
        bad[6] = ("amount", "-3");
        let (status, html) = post(&app, &client, &spending, &bad).await;
        assert_eq!(status, 422);
        assert!(html.contains("un montant est positif") && html.contains("value=\"Dr Élise Martin\""));

        // Past the PASS of 2025 (47,100 €): flagged.
        let mut big = expense;
        big[0] = ("spent_on", "2025-05-01");
        big[6] = ("amount", "47 100,01");
        let (status, html) = post(&app, &client, &spending, &big).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("plafond dépassé"), "PASS flag");

        // CSV export for the accountant; the audit log names each change.
        let csv = client.get(app.url(&format!("/cpts/{b}/depenses.csv"))).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains("\"2024-10-03\",\"acces\",\"indemnisation\"") && csv.contains("\"1200.50\""), "{csv}");
        let journal = client.get(app.url(&format!("/cpts/{b}/journal"))).send().await.unwrap().text().await.unwrap();
        assert!(journal.contains("aci_contract") && journal.contains("aci_expense"), "audited");
    }
}

#[tokio::test]
async fn who_sees_and_who_changes_the_contract() {
    let app = spawn_app(Engine::Sqlite).await;
    let b = app.cpts("blaisois").to_string();
    let (coordinator, _) = app.login("coordinator").await;
    let fields = [("signed_on", "2024-03-15"), ("rule_set", "avenant-2"), ("population", "52000"), ("m_acces", "1")];
    let (status, _) = post(&app, &coordinator, &format!("/cpts/{b}/contrat"), &fields).await;
    assert_eq!(status, 200);

    // The ARS of the région reads it, without any form to change it, and cannot post.
    let (ars, _) = app.login("ars-centre").await;
    let (_, home) = get(&app, &ars, &format!("/cpts/{b}")).await;
    assert!(home.contains(&format!("href=\"/cpts/{b}/contrat\"")), "the CPTS page links to its contract");
    let (status, html) = get(&app, &ars, &format!("/cpts/{b}/contrat")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Signé le 15/03/2024") && !html.contains("name=\"revision\""), "read-only");
    let (status, _) = get(&app, &ars, &format!("/cpts/{b}/depenses")).await;
    assert_eq!(status, 200);
    let csrf = app.csrf_of(&ars, "/compte").await;
    let r = ars
        .post(app.url(&format!("/cpts/{b}/contrat/missions")))
        .form(&[("csrf", csrf.as_str()), ("revision", "1"), ("mission", "parcours")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The board changes it too; a member professional does not see it; other tenants do not
    // even learn it exists; the national level sees aggregates only.
    let (board, _) = app.login("board").await;
    let (status, _) =
        post(&app, &board, &format!("/cpts/{b}/contrat/missions"), &[("revision", "1"), ("mission", "parcours")]).await;
    assert_eq!(status, 200);
    for (who, expected) in
        [("member", 403), ("coordinator-vendome", 404), ("coordinator-rennes", 404), ("national", 403)]
    {
        let (client, _) = app.login(who).await;
        if who == "member" {
            let (_, home) = get(&app, &client, &format!("/cpts/{b}")).await;
            assert!(!home.contains("/contrat\""), "no link to what a member cannot open");
        }
        for path in [format!("/cpts/{b}/contrat"), format!("/cpts/{b}/depenses"), format!("/cpts/{b}/depenses.csv")] {
            let (status, _) = get(&app, &client, &path).await;
            assert_eq!(status, expected, "{who} {path}");
        }
    }
}
