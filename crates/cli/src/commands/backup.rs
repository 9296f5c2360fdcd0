//! `maillage backup` and `maillage restore`: copies of the SQLite database, taken while the
//! server runs, checked, and put back while it is stopped (see docs/operations.md).
//!
//! Exit status: 0 done, 1 refused or failed (reason on stderr), 2 usage error.

use crate::Format;
use crate::output::{print_json, table, thousands};
use maillage_store::backup::{self, BackupError, DatabaseCheck};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the database is: the same options, defaults and variables as `maillage serve`.
#[derive(clap::Args, Debug)]
pub struct Database {
    /// Data directory of the server; the database is DIR/maillage.sqlite unless --database-url
    /// says otherwise.
    #[arg(long, value_name = "DIR", env = "MAILLAGE_DATA_DIR", default_value = "maillage-data")]
    data_dir: PathBuf,
    /// Database URL: sqlite:PATH (PostgreSQL is backed up with pg_dump, see docs/operations.md).
    /// Default: sqlite:DIR/maillage.sqlite.
    #[arg(long, value_name = "URL", env = "MAILLAGE_DATABASE_URL")]
    database_url: Option<String>,
}

impl Database {
    /// The URL, or the default file as a plain path (no URL parsing: `?` or `#` in a directory
    /// name stay part of it).
    fn location(&self) -> Result<String, String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                let path = self.data_dir.join("maillage.sqlite");
                path.to_str().map(str::to_owned).ok_or_else(|| format!("{} is not valid UTF-8", path.display()))
            }
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    database: Database,
    /// File to write the backup to; it must not exist.
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// Backup file written by `maillage backup`.
    #[arg(value_name = "FILE")]
    backup: PathBuf,
    #[command(flatten)]
    database: Database,
    /// Replace an existing database; it is kept beside as NAME.before-restore-TIMESTAMP.
    #[arg(long)]
    force: bool,
}

pub fn backup(args: &BackupArgs, format: Format) -> crate::CliResult {
    let location = match args.database.location() {
        Ok(l) => l,
        Err(e) => return usage(&e),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = match runtime.block_on(backup::backup_database(&location, &args.output)) {
        Ok(r) => r,
        Err(e) => return refused("backup", &e, format),
    };
    match format {
        Format::Json => {
            let mut value = serde_json::to_value(&report)?;
            value["database"] = location.into();
            print_json(&value)?;
        }
        Format::Table => {
            println!("backup of {location}");
            println!("written to {} ({} bytes)", report.path.display(), thousands(report.check.bytes));
            print_check(&report.check);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: &RestoreArgs, format: Format) -> crate::CliResult {
    let location = match args.database.location() {
        Ok(l) => l,
        Err(e) => return usage(&e),
    };
    // The CLI is the edge where time enters: the library takes it as a parameter (it only names
    // the copy of the replaced database).
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = match runtime.block_on(backup::restore_sqlite(&args.backup, &location, args.force, now)) {
        Ok(r) => r,
        Err(e) => return refused("restore", &e, format),
    };
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    match format {
        Format::Json => print_json(&report)?,
        Format::Table => {
            println!("restored {}", report.backup.display());
            println!("into     {} ({} bytes)", report.database.display(), thousands(report.check.bytes));
            if let Some(previous) = &report.previous {
                println!("the replaced database is kept as {}", previous.display());
            }
            for aside in &report.moved_aside {
                println!("moved aside {}", aside.display());
            }
            print_check(&report.check);
            if report.check.schema_version < report.check.binary_schema_version {
                println!("the server applies the newer migrations when it starts");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_check(check: &DatabaseCheck) {
    println!("integrity_check   {}", check.integrity_check);
    println!("schema version    {} (this maillage: {})", check.schema_version, check.binary_schema_version);
    println!();
    let rows: Vec<Vec<String>> = check.tables.iter().map(|t| vec![t.table.clone(), t.rows.to_string()]).collect();
    print!("{}", table(&["table", "rows"], &rows));
}

/// Exit 1 with the reason; a wrong database location is a usage error (2).
fn refused(what: &str, e: &BackupError, format: Format) -> crate::CliResult {
    if e.is_usage_error() {
        return usage(&e.to_string());
    }
    eprintln!("error: {what} refused: {e}");
    if format == Format::Json {
        print_json(&serde_json::json!({"ok": false, "error": e.to_string()}))?;
    }
    Ok(ExitCode::from(1))
}

fn usage(message: &str) -> crate::CliResult {
    eprintln!("error: {message}");
    Ok(ExitCode::from(2))
}
