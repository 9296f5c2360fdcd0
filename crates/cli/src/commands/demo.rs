//! `maillage demo`: the server with a demonstration CPTS around Blois (Loir-et-Cher), a
//! neighbouring CPTS, and one account per role. Fictitious people on real communes; passwords
//! are drawn anew at every start and printed.

use super::serve::{self, Args};
use maillage_core::access::{Agency, CptsId, Role};
use maillage_core::ids::InseeCode;
use maillage_core::refdata::Reference;
use maillage_core::territory::communes_within;
use maillage_store::{AccountStore, CptsStore, NewAccount, NewCpts, Store};
use maillage_web::auth::secrets::hash_password;
use rand::Rng;
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
    for (i, (label, email, name, role)) in people.into_iter().enumerate() {
        let pw = password();
        let hash = hash_password(pw.clone()).await?;
        match store.account_credentials(&email).await? {
            Some(existing) => store.set_password_hash(&existing.account.id, &hash).await?,
            None => {
                store
                    .create_account(
                        &NewAccount { email: email.clone(), display_name: name, password_hash: Some(hash), role },
                        now,
                    )
                    .await?;
            }
        }
        // Print one member professional; the others exist to populate the CPTS.
        if i < 8 {
            printed.push((label, email, pw));
        }
    }
    Ok(printed)
}
