//! `maillage national`: the national registry of CPTS (docs/national.md) — replace it from its
//! `;`-separated file (atomic: a file with any faulty cell changes nothing and every fault is
//! reported with its line and column), export it, and write a synthetic one.

use super::serve::Args as ServerArgs;
use crate::Format;
use crate::output::print_json;
use maillage_core::national::{NationalIndex, SynthParams, generate, parse_registry, write_registry};
use maillage_core::refdata::Reference;
use maillage_store::{AuditEvent, NationalStore};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum NationalCommand {
    /// Replaces the registry with the file's (UTF-8, `;`-separated, one line per CPTS).
    Import {
        file: PathBuf,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Writes the registry file to standard output (or `--out`).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Writes a synthetic registry (fictitious CPTS on the real communes, deterministic).
    Synth {
        /// About how many CPTS.
        #[arg(long, default_value_t = 800)]
        cpts: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct Reject {
    line: usize,
    column: Option<String>,
    code: &'static str,
    reason: String,
    raison: String,
}

#[derive(Serialize)]
struct Report {
    file: String,
    cpts: usize,
    written: bool,
    rejects: Vec<Reject>,
}

fn write_out(text: &str, out: Option<&PathBuf>) -> std::io::Result<()> {
    match out {
        Some(path) => std::fs::write(path, text),
        None => {
            use std::io::Write;
            std::io::stdout().write_all(text.as_bytes())
        }
    }
}

pub fn run(command: &NationalCommand, format: Format) -> crate::CliResult {
    match command {
        NationalCommand::Synth { cpts, seed, out } => {
            let index = NationalIndex::new(Reference::embedded());
            let registry = generate(&index, &SynthParams { cpts: *cpts, seed: *seed, ..SynthParams::default() });
            write_out(&write_registry(&registry), out.as_ref())?;
            Ok(ExitCode::SUCCESS)
        }
        NationalCommand::Export { out, server } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let registry = runtime.block_on(async {
                let store = maillage_store::connect(&server.database_url()).await?;
                Ok::<_, Box<dyn std::error::Error>>(store.national_registry().await?)
            })?;
            write_out(&write_registry(&registry), out.as_ref())?;
            Ok(ExitCode::SUCCESS)
        }
        NationalCommand::Import { file, dry_run, server } => {
            let name = file.display().to_string();
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {name}: {e}");
                    return Ok(ExitCode::from(1));
                }
            };
            let mut report = Report { file: name.clone(), cpts: 0, written: false, rejects: Vec::new() };
            match parse_registry(&text, Reference::embedded()) {
                Err(errors) => {
                    report.rejects = errors
                        .iter()
                        .map(|e| Reject {
                            line: e.line,
                            column: e.column.clone(),
                            code: e.code,
                            reason: e.to_string(),
                            raison: e.fr_located(),
                        })
                        .collect();
                }
                Ok(registry) => {
                    report.cpts = registry.len();
                    if !dry_run {
                        #[allow(clippy::disallowed_methods)] // the CLI is the edge where time enters
                        let now = chrono::Utc::now();
                        let audit = AuditEvent {
                            cpts_id: None,
                            id: format!("{:032x}", rand::random::<u128>()),
                            at: now,
                            account_id: None,
                            account_label: "maillage national import".into(),
                            role: "system".into(),
                            action: "update".into(),
                            object_type: "national_registry".into(),
                            object_id: String::new(),
                            request_id: "cli".into(),
                            detail: format!("registre national remplacé depuis {name} : {} CPTS", registry.len()),
                        };
                        let runtime = tokio::runtime::Runtime::new()?;
                        runtime.block_on(async {
                            let store = maillage_store::connect(&server.database_url()).await?;
                            store.replace_national_registry(&registry, &audit).await?;
                            Ok::<_, Box<dyn std::error::Error>>(())
                        })?;
                        report.written = true;
                    }
                }
            }
            match format {
                Format::Json => print_json(&report)?,
                _ => {
                    for r in &report.rejects {
                        eprintln!("{name}: {}", r.raison);
                    }
                    if report.rejects.is_empty() {
                        let verb = if report.written { "imported" } else { "checked (dry run, nothing written)" };
                        println!("{name}: {} CPTS {verb}", report.cpts);
                    } else {
                        eprintln!("{name}: {} fault(s); nothing written", report.rejects.len());
                    }
                }
            }
            Ok(if report.rejects.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
    }
}
