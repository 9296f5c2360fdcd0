//! `maillage demo`: the server with a demonstration CPTS around Blois (Loir-et-Cher), a
//! neighbouring CPTS, and one account per role. Fictitious people on real communes; passwords
//! are drawn anew at every start and printed.

use super::serve::{self, Args};
use maillage_core::access::{Agency, CptsId, Role};
use maillage_core::aci::spending::{Expense, ExpenseCategory, PayeeKind};
use maillage_core::aci::{
    Cents, Contract, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult, MissionId,
};
use maillage_core::directory::collect::collect;
use maillage_core::directory::filter::TerritoryFilter;
use maillage_core::directory::model::{
    CorrectableField, Correction, Membership, MembershipStatus, PracticePlace, StructureKind,
};
use maillage_core::directory::structures::{
    ProfessionalLink, RelationKind, StructureForm, StructureRelation, imported_structures,
};
use maillage_core::directory::synth;
use maillage_core::ids::InseeCode;
use maillage_core::refdata::Reference;
use maillage_core::territory::communes_within;
use maillage_store::{
    AccountStore, AciStore, AnnuaireImport, AuditEvent, CptsStore, DirectoryStore, NewAccount, NewCpts, Store,
    StructureStore,
};
use maillage_web::auth::secrets::hash_password;
use rand::Rng;
use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;

/// Blois and its eight neighbours.
const BLAISOIS: [&str; 9] = ["41018", "41032", "41047", "41055", "41142", "41212", "41230", "41276", "41295"];

/// Fictitious member professionals of the demo CPTS, one per profession at least.
const MEMBERS: [(&str, &str); 12] = [
    ("Dr Camille Rousseau", "médecin généraliste"),
    ("Dr Hugo Lemaire", "médecin généraliste"),
    ("Inès Caron", "infirmière"),
    ("Thomas Girard", "pharmacien"),
    ("Léa Fontaine", "masseur-kinésithérapeute"),
    ("Nora Benali", "sage-femme"),
    ("Dr Paul Mercier", "chirurgien-dentiste"),
    ("Julie Perrin", "orthophoniste"),
    ("Antoine Roche", "pédicure-podologue"),
    ("Sarah Marchand", "psychologue"),
    ("Maël Dupuis", "diététicien"),
    ("Chloé Barbier", "orthoptiste"),
];

/// The profession code (TRE_G15) of each of [`MEMBERS`], in the same order.
const MEMBER_PROFESSIONS: [&str; 12] = ["10", "10", "60", "21", "70", "50", "40", "91", "80", "93", "95", "92"];

pub fn run(args: &Args) -> crate::CliResult {
    serve::init_logging();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let state = serve::build_state(args).await?;
        let now = state.now();
        let accounts = seed(&state.store, now).await?;
        let mut banner = format!(
            "\nMaillage — démonstration\n  Ouvrez {} et connectez-vous avec l'un de ces comptes (mots de passe tirés à ce démarrage) :\n",
            state.settings.public_url
        );
        for (role, email, password) in &accounts {
            banner.push_str(&format!("  {role:<34} {email:<40} {password}\n"));
        }
        serve::serve(args, state, Some(banner)).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";
    let mut rng = rand::thread_rng();
    let mut s = String::from("demo-");
    for i in 0..15 {
        if i > 0 && i % 5 == 0 {
            s.push('-');
        }
        s.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    s
}

async fn ensure_cpts(
    store: &Store,
    name: &str,
    communes: Vec<InseeCode>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CptsId, Box<dyn std::error::Error>> {
    if let Some(existing) = store.list_cpts().await?.into_iter().find(|c| c.name == name) {
        return Ok(existing.id);
    }
    Ok(store.create_cpts(&NewCpts { name: name.into(), communes }, now).await?.id)
}

/// Creates what is missing and resets every demo password; returns (role, e-mail, password).
pub async fn seed(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, String, String)>, Box<dyn std::error::Error>> {
    let reference = Reference::embedded();
    let codes = |list: &[&str]| list.iter().map(|c| InseeCode::parse(c)).collect::<Result<Vec<_>, _>>();
    let blaisois = ensure_cpts(store, "CPTS du Blaisois", codes(&BLAISOIS)?, now).await?;
    let vendome = reference.commune("41269").ok_or("Vendôme missing from the reference data")?;
    let vendomois: Vec<InseeCode> = communes_within(reference, vendome, 12.0).iter().map(|n| n.commune.code).collect();
    let vendomois = ensure_cpts(store, "CPTS du Vendômois", vendomois, now).await?;
    let population: u64 = BLAISOIS.iter().filter_map(|c| reference.commune(c)).map(|c| u64::from(c.population)).sum();
    seed_contract(store, &blaisois, population, now).await?;

    let mut people: Vec<(String, String, String, Role)> = vec![
        (
            "Administration de la plateforme".into(),
            "admin@demo.maillage.test".into(),
            "Alex Admin".into(),
            Role::PlatformAdmin,
        ),
        (
            "Observatoire national".into(),
            "national@demo.maillage.test".into(),
            "Nadia National".into(),
            Role::NationalObserver,
        ),
        (
            "ARS Centre-Val de Loire".into(),
            "ars.centre@demo.maillage.test".into(),
            "Régis Région".into(),
            Role::RegionalObserver { agency: Agency::Ars, region: "24".into() },
        ),
        (
            "CPAM de Loir-et-Cher".into(),
            "cpam41@demo.maillage.test".into(),
            "Corinne Caisse".into(),
            Role::RegionalObserver { agency: Agency::Cpam, region: "24".into() },
        ),
        (
            "Coordination — Blaisois".into(),
            "coordination@blaisois.demo.maillage.test".into(),
            "Claire Coordination".into(),
            Role::Coordinator { cpts: blaisois.clone() },
        ),
        (
            "Bureau — Blaisois".into(),
            "presidence@blaisois.demo.maillage.test".into(),
            "Dr Bernard Bureau".into(),
            Role::BoardMember { cpts: blaisois.clone() },
        ),
        (
            "Coordination — Vendômois".into(),
            "coordination@vendomois.demo.maillage.test".into(),
            "Valérie Vendôme".into(),
            Role::Coordinator { cpts: vendomois },
        ),
    ];
    for (i, (name, profession)) in MEMBERS.iter().enumerate() {
        people.push((
            format!("Adhérent·e — {profession}"),
            format!("adherent{:02}@blaisois.demo.maillage.test", i + 1),
            (*name).to_owned(),
            Role::MemberProfessional { cpts: blaisois.clone() },
        ));
    }
    let mut printed = Vec::new();
    let mut member_accounts = Vec::new();
    for (i, (label, email, name, role)) in people.into_iter().enumerate() {
        let pw = password();
        let hash = hash_password(pw.clone()).await?;
        let member = matches!(role, Role::MemberProfessional { .. });
        let id = match store.account_credentials(&email).await? {
            Some(existing) => {
                store.set_password_hash(&existing.account.id, &hash).await?;
                existing.account.id
            }
            None => {
                store
                    .create_account(
                        &NewAccount { email: email.clone(), display_name: name, password_hash: Some(hash), role },
                        now,
                    )
                    .await?
                    .id
            }
        };
        if member {
            member_accounts.push(id);
        }
        // Print one member professional; the others exist to populate the CPTS.
        if i < 8 {
            printed.push((label, email, pw));
        }
    }
    seed_directory(store, &blaisois, &member_accounts, now).await?;
    // The demo GPs (the first two members) as the registry's doctors.
    let mut gps = Vec::new();
    for (account, code) in member_accounts.iter().zip(MEMBER_PROFESSIONS) {
        if code == "10"
            && let Some(nid) = store.professional_of_account(&blaisois, account).await?
        {
            gps.push(nid);
        }
    }
    super::demo_registry::seed(store, &blaisois, &BLAISOIS, &gps, now).await?;
    super::demo_snp::seed(store, &blaisois, &member_accounts, now).await?;
    super::demo_national::seed(store, now).await?;
    Ok(printed)
}

/// The Blaisois directory, unless the CPTS has imported one already: a synthetic extract of the
/// Blaisois communes (fictitious people, the real file layout) imported as the national extract
/// would be; the demo's member accounts made members of professionals of their profession and
/// linked to them (each corrects her own contact details); a few local corrections.
async fn seed_directory(
    store: &Store,
    cpts: &CptsId,
    member_accounts: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    if !store.list_imports(cpts).await?.is_empty() {
        return Ok(());
    }
    let mut extract = Vec::new();
    synth::write_extract(&mut extract, 600, 41_018, &BLAISOIS)?;
    let collected = collect(extract.as_slice(), &TerritoryFilter::everything(), 0, |_| {})
        .map_err(|e| format!("demo directory extract: {e}"))?;
    let event = |action: &str, object_type: &str, object_id: &str, detail: &str| AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: format!("{:032x}", rand::random::<u128>()),
        at: now,
        account_id: None,
        account_label: "maillage demo".into(),
        role: "system".into(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: object_id.into(),
        request_id: "demo".into(),
        detail: detail.into(),
    };
    let import = AnnuaireImport {
        id: "demo-annuaire".into(),
        source: "annuaire",
        file_name: "extrait synthétique de démonstration (Blaisois)".into(),
        lines_read: collected.lines_read,
        professionals: &collected.professionals,
        departement_counts: None,
    };
    store.apply_import(cpts, &import, now, &event("import", "directory", "demo-annuaire", "")).await?;

    // Each member account: a professional of its profession (a general practitioner for the
    // doctors) not taken yet, else anybody left.
    let mut taken = HashSet::new();
    let mut members = Vec::new();
    for (i, (account, code)) in member_accounts.iter().zip(MEMBER_PROFESSIONS).enumerate() {
        let free = |p: &&maillage_core::directory::model::Professional| !taken.contains(&p.national_id);
        let gp = |p: &&maillage_core::directory::model::Professional| {
            code != "10" || p.specialties.iter().any(|s| s.code == "SM54")
        };
        let chosen = collected
            .professionals
            .iter()
            .filter(free)
            .find(|p| p.profession_code == code && gp(p))
            .or_else(|| collected.professionals.iter().filter(free).find(|p| p.profession_code == code))
            .or_else(|| collected.professionals.iter().find(free));
        let Some(professional) = chosen else { break };
        taken.insert(professional.national_id);
        let nid = professional.national_id.to_string();
        let first_of_profession = !MEMBER_PROFESSIONS[..i].contains(&code);
        let membership = Membership {
            joined_on: day(2023, 10, 2)? + chrono::Duration::days(17 * i as i64),
            left_on: None,
            status: MembershipStatus::Active,
            dues_paid_until: Some(day(2026, 12, 31)?),
            profession_referent: first_of_profession,
            board_role: match i {
                0 => Some("vice-présidence".into()),
                3 => Some("trésorerie".into()),
                _ => None,
            },
        };
        membership.check().map_err(|e| format!("demo membership: {e}"))?;
        store.put_membership(cpts, &nid, &membership, now, &event("update", "membership", &nid, "adhésion")).await?;
        store
            .link_account_professional(cpts, account, &nid, &event("update", "account_professional", &nid, ""))
            .await?;
        members.push(professional);
    }

    // A few local corrections: an MSSanté address, participation in same-day care.
    let mut corrections = Vec::new();
    if let Some(first) = members.first() {
        let name = maillage_core::text::fold_for_search(&format!("{}.{}", first.given_name, first.family_name));
        let local: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')).collect();
        corrections
            .push((first, Correction::new(CorrectableField::Mssante, None, &format!("{local}@medecin.mssante.fr"))));
    }
    for m in members.iter().take(2) {
        corrections.push((m, Correction::new(CorrectableField::SnpParticipant, None, "oui")));
    }
    for (professional, correction) in corrections {
        let correction = correction.map_err(|e| format!("demo correction: {e}"))?;
        let nid = professional.national_id.to_string();
        let audit = event("update", "professional", &nid, &format!("correction : {}", correction.field.fr()));
        store.put_correction(cpts, &nid, &correction, "maillage demo", now, &audit).await?;
    }

    // Structures: one hospital, one EHPAD and one centre de santé of the extract, recorded as
    // the coordination would from the "à ajouter" list, and two the extract cannot know (an
    // association, a local authority).
    let places: Vec<(String, &PracticePlace)> = collected
        .professionals
        .iter()
        .flat_map(|p| p.places.iter().map(move |pl| (p.national_id.to_string(), pl)))
        .collect();
    let offered = imported_structures(places.iter().map(|(nid, pl)| (nid.as_str(), *pl)));
    let mut recorded = Vec::new();
    for (i, kind) in [StructureKind::Hopital, StructureKind::Ehpad, StructureKind::CentreSante].into_iter().enumerate()
    {
        let Some(s) = offered.iter().find(|s| s.suggested_kind == Some(kind)) else { continue };
        let form = StructureForm {
            kind: kind.code().into(),
            name: s.structure.name.clone().unwrap_or_else(|| format!("Structure {}", i + 1)),
            finess: s.structure.finess.map(|f| f.as_str().to_owned()).unwrap_or_default(),
            siret: s.structure.siret.map(|f| f.as_str().to_owned()).unwrap_or_default(),
            technical_id: s.structure.technical_id.clone().unwrap_or_default(),
            address_line1: s.address_line1.clone().unwrap_or_default(),
            postal_code: s.postal_code.clone().unwrap_or_default(),
            commune_code: s.commune_code.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            ..Default::default()
        };
        recorded.push(form.parse(&format!("s-demo-{}", i + 1)).map_err(|e| format!("demo structure: {e:?}"))?);
    }
    for (id, kind, name, commune, note) in [
        (
            "s-demo-usagers",
            StructureKind::AssociationPatients,
            "Association des usagers du Blaisois",
            "41018",
            "Représente les usagers au conseil d'administration.",
        ),
        (
            "s-demo-ccas",
            StructureKind::CollectiviteTerritoriale,
            "CCAS de Vineuil",
            "41295",
            "Repère les personnes isolées sans médecin traitant.",
        ),
    ] {
        let form = StructureForm {
            kind: kind.code().into(),
            name: name.into(),
            commune_code: commune.into(),
            note: note.into(),
            ..Default::default()
        };
        recorded.push(form.parse(id).map_err(|e| format!("demo structure: {e:?}"))?);
    }
    for s in &recorded {
        store.create_structure(cpts, s, now, &event("create", "structure", &s.id, &s.name)).await?;
    }
    // The association is a member whose dues are to renew; the first structure a member up to date.
    let joined = |y, m, d| -> Result<Membership, Box<dyn std::error::Error>> {
        Ok(Membership {
            joined_on: day(y, m, d)?,
            left_on: None,
            status: MembershipStatus::Active,
            dues_paid_until: Some(day(y + 1, 12, 31)?),
            profession_referent: false,
            board_role: None,
        })
    };
    let memberships = [("s-demo-usagers", joined(2024, 2, 1)?), ("s-demo-ccas", joined(2025, 1, 20)?)];
    for (id, m) in memberships {
        store.put_structure_membership(cpts, id, &m, now, &event("update", "membership", id, "adhésion")).await?;
    }
    if let (Some(first), Some(member)) = (recorded.first(), members.first()) {
        let link = ProfessionalLink {
            structure_id: first.id.clone(),
            national_id: member.national_id.to_string(),
            role: Some("référente CPTS de la structure".into()),
        };
        store.link_professional(cpts, &link, now, &event("update", "structure_link", &first.id, "")).await?;
        let relation = StructureRelation {
            from: "s-demo-ccas".into(),
            to: first.id.clone(),
            kind: RelationKind::Partner,
            note: Some("signalement des personnes sans médecin traitant".into()),
        };
        store.add_relation(cpts, &relation, &event("update", "structure_relation", "s-demo-ccas", "")).await?;
    }
    Ok(())
}

fn day(y: i32, m: u32, d: u32) -> Result<chrono::NaiveDate, Box<dyn std::error::Error>> {
    chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("invalid demo date {y}-{m}-{d}").into())
}

/// An indicator with its targets and results per contract year: (year, target, achieved).
fn indicator(
    name: &str,
    kind: IndicatorKind,
    baseline: i64,
    weight: u32,
    years: &[(u8, i64, Option<i64>)],
) -> Indicator {
    Indicator {
        name: name.into(),
        kind,
        baseline,
        weight,
        targets: years.iter().map(|(y, t, _)| (*y, *t)).collect(),
        results: years
            .iter()
            .filter_map(|(y, _, a)| {
                a.map(|achieved| {
                    (*y, IndicatorResult { achieved, evidence: vec![format!("Rapport d'activité année {y}")] })
                })
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The Blaisois contract (avenant 2, signed in September 2023) with indicators and three years
/// of spending, unless the CPTS has a contract already.
async fn seed_contract(
    store: &Store,
    cpts: &CptsId,
    population: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    if store.get_contract(cpts).await?.is_some() {
        return Ok(());
    }
    let rules = maillage_core::aci::rules::embedded("avenant-2")?;
    let mut contract = Contract::new(cpts.to_string(), day(2023, 9, 15)?, rules, population);
    use IndicatorKind::{Action, Result as Res};
    let mission = |m, started, deployed, indicators| EngagedMission {
        mission: m,
        started_on: Some(started),
        deployed_on: deployed,
        indicators,
        crises: Vec::new(),
    };
    let mut crise = mission(
        MissionId::Crise,
        day(2024, 1, 15)?,
        Some(day(2024, 12, 1)?),
        vec![indicator(
            "Plan de réponse aux crises rédigé puis actualisé",
            Action,
            0,
            1,
            &[(1, 1, Some(1)), (2, 1, Some(1)), (3, 1, Some(1)), (4, 1, None)],
        )],
    );
    crise.crises.push(CrisisDeclaration { declared_on: day(2025, 7, 1)?, name: "Canicule de juillet 2025".into() });
    contract.missions = vec![
        mission(
            MissionId::Acces,
            day(2023, 11, 6)?,
            Some(day(2024, 10, 1)?),
            vec![
                indicator(
                    "Patients sans médecin traitant ayant trouvé un médecin",
                    Res,
                    0,
                    3,
                    &[(1, 150, Some(162)), (2, 350, Some(318)), (3, 600, Some(571)), (4, 850, None), (5, 1100, None)],
                ),
                indicator(
                    "Créneaux de soins non programmés ouverts par semaine",
                    Res,
                    12,
                    2,
                    &[(1, 20, Some(18)), (2, 30, Some(31)), (3, 40, Some(37)), (4, 45, None), (5, 50, None)],
                ),
            ],
        ),
        mission(
            MissionId::Parcours,
            day(2024, 3, 1)?,
            None,
            vec![indicator(
                "Parcours pluriprofessionnels formalisés",
                Action,
                0,
                1,
                &[(1, 1, Some(1)), (2, 2, Some(2)), (3, 3, Some(2)), (4, 4, None), (5, 5, None)],
            )],
        ),
        mission(
            MissionId::Prevention,
            day(2024, 4, 2)?,
            None,
            vec![indicator(
                "Participants aux actions de dépistage du cancer colorectal",
                Res,
                0,
                1,
                &[(1, 100, Some(80)), (2, 200, Some(214)), (3, 300, Some(265)), (4, 350, None), (5, 400, None)],
            )],
        ),
        crise,
    ];
    contract.validate(rules).map_err(|e| format!("demo contract: {e:?}"))?;
    let event = |action: &str, object_type: &str, detail: &str| AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: format!("{:032x}", rand::random::<u128>()),
        at: now,
        account_id: None,
        account_label: "maillage demo".into(),
        role: "system".into(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: String::new(),
        request_id: "demo".into(),
        detail: detail.into(),
    };
    store
        .put_contract(cpts, &contract, None, now, &event("create", "aci_contract", "contrat de démonstration"))
        .await?;

    let mut expenses = Vec::new();
    let mut push =
        |date, envelope, category, payee_kind, payee: &str, rpps: Option<&str>, euros: i64, receipt: &str| {
            expenses.push(Expense {
                id: String::new(),
                spent_on: date,
                envelope,
                category,
                payee_kind,
                payee: payee.into(),
                payee_rpps: rpps.map(str::to_owned),
                amount: Cents::from_euros(euros),
                receipt: receipt.into(),
                note: String::new(),
            });
        };
    use ExpenseCategory as C;
    use MissionId as M;
    use PayeeKind as P;
    for (year, quarter_pay) in [(2023, 0), (2024, 11_500), (2025, 11_800), (2026, 12_100)] {
        for (q, month) in [(1, 3), (2, 6), (3, 9), (4, 12)] {
            let date = day(year, month, 28)?;
            if quarter_pay == 0 || date > now.date_naive() {
                continue;
            }
            push(
                date,
                M::Fonctionnement,
                C::Coordination,
                P::Salarie,
                "Claire Coordination",
                None,
                quarter_pay,
                &format!("Paie T{q} {year}"),
            );
        }
    }
    let rousseau = Some("10003456789");
    for (date, euros, envelope, receipt) in [
        (day(2024, 2, 15)?, 1_800, M::Acces, "Indemnisation réunions accès T1 2024"),
        (day(2024, 9, 20)?, 2_400, M::Parcours, "Indemnisation parcours insuffisance cardiaque"),
        (day(2025, 3, 10)?, 3_200, M::Acces, "Régulation SNP — T1 2025"),
        (day(2025, 6, 12)?, 2_900, M::Acces, "Régulation SNP — T2 2025"),
        (day(2025, 7, 20)?, 4_100, M::Crise, "Astreinte canicule juillet 2025"),
    ] {
        push(date, envelope, C::Indemnisation, P::ProfessionnelMembre, "Dr Camille Rousseau", rousseau, euros, receipt);
    }
    for (date, euros, envelope, who, receipt) in [
        (day(2024, 5, 14)?, 950, M::Prevention, "Inès Caron", "Atelier dépistage mai 2024"),
        (day(2025, 4, 8)?, 1_350, M::Prevention, "Thomas Girard", "Mars bleu 2025 en officine"),
        (day(2025, 10, 2)?, 1_200, M::Parcours, "Léa Fontaine", "Parcours chute — réunions"),
        (day(2026, 3, 3)?, 1_600, M::Acces, "Dr Hugo Lemaire", "Régulation SNP — T1 2026"),
    ] {
        push(date, envelope, C::Indemnisation, P::ProfessionnelMembre, who, None, euros, receipt);
    }
    push(
        day(2024, 1, 20)?,
        M::Fonctionnement,
        C::SystemeInformation,
        P::Prestataire,
        "Éditeur de messagerie sécurisée",
        None,
        2_400,
        "Facture 2024-017",
    );
    push(
        day(2024, 11, 5)?,
        M::Prevention,
        C::Communication,
        P::Prestataire,
        "Imprimerie du Val de Loire",
        None,
        1_150,
        "Facture IVL-8812",
    );
    push(
        day(2025, 2, 3)?,
        M::Crise,
        C::Formation,
        P::Prestataire,
        "Organisme de formation urgence",
        None,
        3_600,
        "Formation plan de crise",
    );
    push(
        day(2025, 11, 18)?,
        M::Fonctionnement,
        C::Fonctionnement,
        P::Structure,
        "Maison des associations de Blois",
        None,
        1_800,
        "Loyer salle 2025",
    );
    push(
        day(2026, 5, 21)?,
        M::Parcours,
        C::Evenement,
        P::Prestataire,
        "Traiteur du Blésois",
        None,
        680,
        "Soirée parcours mai 2026",
    );
    for e in expenses.iter().filter(|e| e.spent_on <= now.date_naive()) {
        e.validate().map_err(|errors| format!("demo expense {}: {errors:?}", e.receipt))?;
        store.add_expense(cpts, e, now, &event("create", "aci_expense", &e.receipt)).await?;
    }
    Ok(())
}
