//! `maillage admin`: bootstrap and maintenance without the web interface (the first platform
//! administrator, API tokens for scripts).

use super::serve::Args as ServerArgs;
use crate::Format;
use crate::output::print_json;
use maillage_core::access::{CptsId, Role};
use maillage_store::{AccountStore, ApiToken, NewAccount};
use maillage_web::auth::secrets::{MIN_PASSWORD_CHARS, hash_password, random_token, token_hash};
use std::io::Read;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an account. The password is read from standard input (one line); with
    /// `--no-password` the account logs in through OpenID Connect only.
    CreateAccount {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// platform_admin | national_observer | regional_observer | coordinator | board_member | member_professional
        #[arg(long)]
        role: String,
        /// CPTS id, for coordinator, board_member and member_professional.
        #[arg(long)]
        cpts: Option<String>,
        /// INSEE région code, for regional_observer.
        #[arg(long)]
        region: Option<String>,
        /// ars | cpam, for regional_observer.
        #[arg(long)]
        agency: Option<String>,
        #[arg(long)]
        no_password: bool,
    },
    /// Create an API token for an account and print it (shown once).
    CreateToken {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

fn fail(msg: impl std::fmt::Display) -> crate::CliResult {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(1))
}

pub fn run(command: &AdminCommand, format: Format) -> crate::CliResult {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match command {
            AdminCommand::CreateAccount { server, email, name, role, cpts, region, agency, no_password } => {
                let role = match Role::from_text(role, cpts.as_deref(), region.as_deref(), agency.as_deref(), None) {
                    Ok(r) => r,
                    Err(e) => return fail(e),
                };
                let password_hash = if *no_password {
                    None
                } else {
                    let mut line = String::new();
                    std::io::stdin().read_to_string(&mut line)?;
                    let password = line.trim_end_matches(['\n', '\r']).to_owned();
                    if password.chars().count() < MIN_PASSWORD_CHARS {
                        return fail(format!("the password (standard input) needs at least {MIN_PASSWORD_CHARS} characters"));
                    }
                    Some(hash_password(password).await?)
                };
                let store = connect(server).await?;
                #[allow(clippy::disallowed_methods)] // the CLI is the edge where time enters
                let now = chrono::Utc::now();
                let new = NewAccount { email: email.clone(), display_name: name.clone(), password_hash, role };
                let account = match store.create_account(&new, now).await {
                    Ok(a) => a,
                    Err(e) => return fail(e),
                };
                match format {
                    Format::Json => print_json(&serde_json::json!({"id": account.id, "email": account.email, "role": account.role.kind().as_str()}))?,
                    Format::Table => println!("created account {} ({}) with id {}", account.email, account.role.kind().as_str(), account.id),
                }
                Ok(ExitCode::SUCCESS)
            }
            AdminCommand::CreateToken { server, email, name } => {
                let store = connect(server).await?;
                let Some(creds) = store.account_credentials(email).await? else { return fail(format!("no account {email}")) };
                #[allow(clippy::disallowed_methods)] // the CLI is the edge where time enters
                let now = chrono::Utc::now();
                let token = format!("mlg_{}", random_token());
                let record = ApiToken {
                    id: uuid_like(),
                    account_id: creds.account.id,
                    name: name.clone(),
                    created_at: now,
                    last_used_at: None,
                    revoked_at: None,
                };
                store.create_api_token(&record, &token_hash(&token)).await?;
                match format {
                    Format::Json => print_json(&serde_json::json!({"id": record.id, "token": token}))?,
                    Format::Table => println!("{token}"),
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

async fn connect(server: &ServerArgs) -> Result<maillage_store::Store, Box<dyn std::error::Error>> {
    let url = server.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&server.data_dir)?;
    }
    Ok(maillage_store::connect(&url).await?)
}

fn uuid_like() -> String {
    CptsId::from_random_bytes(rand::random::<[u8; 16]>()).to_string()
}
