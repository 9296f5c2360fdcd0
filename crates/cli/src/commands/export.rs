//! `maillage export directory`: the territory's directory as users see it (imported values with
//! local corrections applied), in CSV or XLSX (spreadsheets), vCard 4.0 (address books) or a FHIR R4
//! Bundle (other health information systems).

use super::serve::Args as ServerArgs;
use crate::commands::import::cpts_or_exit;
use maillage_store::{DirectoryStore, Store};
use maillage_web::directory_export::{effective_list, render};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub use maillage_web::directory_export::ExportFormat;

#[derive(clap::Subcommand, Debug)]
pub enum ExportCommand {
    /// The directory of a CPTS (with `--format csv`, `xlsx`, `vcard` or `fhir`).
    Directory {
        /// CPTS id.
        #[arg(long)]
        cpts: String,
        /// Output file (default: standard output; required with `--format xlsx`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also export the professionals who left the national extract.
        #[arg(long)]
        include_left: bool,
        /// Base URL of the FHIR resources (`fullUrl`s).
        #[arg(long, default_value = "https://maillage.invalid/fhir")]
        fhir_base: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Every professional of the directory, effective values, in name order, with whether they are
/// an active member (one bulk read).
async fn effective_directory(
    store: &Store,
    cpts: &maillage_core::access::CptsId,
    include_left: bool,
) -> Result<Vec<(maillage_core::directory::model::EffectiveProfessional, bool)>, Box<dyn std::error::Error>> {
    Ok(effective_list(&store.directory_export(cpts, include_left).await?))
}

pub fn run(command: &ExportCommand, format: Option<ExportFormat>) -> crate::CliResult {
    let ExportCommand::Directory { cpts, out, include_left, fhir_base, server } = command;
    let Some(format) = format else {
        eprintln!("error: choose the export format: --format csv, xlsx, vcard or fhir");
        return Ok(ExitCode::from(2));
    };
    if format == ExportFormat::Xlsx && out.as_ref().is_none_or(|p| p.as_os_str() == "-") {
        eprintln!("error: --format xlsx writes a file: name it with --out FILE.xlsx");
        return Ok(ExitCode::from(2));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = maillage_store::connect(&server.database_url()).await?;
        let Some(record) = cpts_or_exit(&store, cpts).await? else { return Ok(ExitCode::from(1)) };
        let list = effective_directory(&store, &record.id, *include_left).await?;
        store.close().await;
        #[allow(clippy::disallowed_methods)] // the CLI is the edge where time enters
        let now = chrono::Utc::now();
        let text = render(format, &list, now, fhir_base)?;
        match out {
            Some(path) => std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?,
            // A reader that stops early (`| head`) is not an error.
            None => match std::io::stdout().lock().write_all(&text) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            },
        }
        Ok(ExitCode::SUCCESS)
    })
}
