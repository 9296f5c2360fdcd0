//! `maillage serve`: the HTTP server on SQLite (default) or PostgreSQL.

use maillage_web::clock::SystemClock;
use maillage_web::{AppState, OidcSettings, Secret, Settings};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "MAILLAGE_LISTEN")]
    pub listen: SocketAddr,
    /// Directory for the embedded SQLite database (created if missing).
    #[arg(long, default_value = "maillage-data", env = "MAILLAGE_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite:PATH` or `postgres://…`. Default: SQLite in the data directory.
    #[arg(long, env = "MAILLAGE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// TOML settings file (see docs/configuration.md); environment variables override it.
    #[arg(long, env = "MAILLAGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The URL people use to reach this server (cookies and OpenID redirect depend on it).
    #[arg(long, env = "MAILLAGE_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl Args {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.data_dir.join("maillage.sqlite").display()))
    }
}

/// Settings: defaults, then the TOML file, then `MAILLAGE_*` variables and flags.
pub fn load_settings(args: &Args) -> Result<Settings, String> {
    let mut settings = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            toml::from_str::<Settings>(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Settings::default(),
    };
    settings.public_url = match &args.public_url {
        Some(url) => url.clone(),
        None if args.config.is_none() => format!("http://{}", args.listen),
        None => settings.public_url,
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(issuer), Some(client_id), Some(secret)) =
        (env("MAILLAGE_OIDC_ISSUER"), env("MAILLAGE_OIDC_CLIENT_ID"), env("MAILLAGE_OIDC_CLIENT_SECRET"))
    {
        settings.oidc = Some(OidcSettings {
            label: env("MAILLAGE_OIDC_LABEL").unwrap_or_else(|| "Pro Santé Connect".into()),
            issuer,
            discovery_url: env("MAILLAGE_OIDC_DISCOVERY_URL"),
            client_id,
            client_secret: Secret::new(secret),
            scopes: env("MAILLAGE_OIDC_SCOPES")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_else(|| vec!["openid".into(), "profile".into(), "email".into()]),
            extra_auth_params: Vec::new(),
        });
    }
    Ok(settings)
}

/// Human-readable logs, or one JSON object per line with `MAILLAGE_LOG_FORMAT=json`.
pub fn init_logging() {
    // Logs never carry secrets: settings print them as "***", tokens are never logged.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if std::env::var("MAILLAGE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub fn run(args: &Args) -> crate::CliResult {
    init_logging();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let state = build_state(args).await?;
        serve(args, state, None).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Connects (creating the data directory for SQLite), migrates, and discovers the OpenID
/// provider when one is configured.
pub async fn build_state(args: &Args) -> Result<AppState, Box<dyn std::error::Error>> {
    let settings = load_settings(args)?;
    let url = args.database_url();
    if url.starts_with("sqlite:") {
        ensure_dir(&args.data_dir)?;
    }
    let store = maillage_store::connect(&url).await?;
    tracing::info!(engine = store.engine(), "database ready, migrations applied");
    let mut state = AppState::new(store, settings.clone(), Arc::new(SystemClock));
    if let Some(oidc) = &settings.oidc {
        let mut config = maillage_oidc::OidcConfig::new(
            oidc.issuer.clone(),
            oidc.client_id.clone(),
            maillage_oidc::Secret::new(oidc.client_secret.expose()),
            settings.oidc_redirect_uri(),
        );
        config.discovery_url = oidc.discovery_url.clone();
        config.scopes = oidc.scopes.clone();
        config.extra_auth_params = oidc.extra_auth_params.clone();
        match maillage_oidc::OidcClient::discover(config).await {
            Ok(client) => {
                tracing::info!(issuer = %oidc.issuer, "OpenID Connect login enabled");
                state = state.with_oidc(client);
            }
            Err(e) => tracing::error!(error = %e, "OpenID Connect provider unreachable: login by password only"),
        }
    }
    Ok(state)
}

fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Serves until Ctrl-C or SIGTERM; `banner` is printed once listening (the demo's accounts).
pub async fn serve(args: &Args, state: AppState, banner: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %state.settings.public_url, "maillage listening");
    if let Some(banner) = banner {
        println!("{banner}");
    }
    // Expired sessions and abandoned OpenID logins are purged every ten minutes.
    let purge_state = state.clone();
    let purge = tokio::spawn(async move {
        use maillage_store::AccountStore;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = purge_state.now();
            if let Err(e) = purge_state.store.purge_expired(now, now - chrono::Duration::minutes(30)).await {
                tracing::warn!(error = %e, "session purge failed");
            }
        }
    });
    let store = state.store.clone();
    maillage_web::serve(listener, state, shutdown_signal()).await?;
    purge.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
