//! `maillage import annuaire`: the national extract of the Annuaire Santé, filtered to a CPTS's
//! territory, applied atomically (a file with broken lines in the territory changes nothing);
//! `maillage directory synth`: a fictitious national-size extract for benchmarks and demos.

use super::serve::Args as ServerArgs;
use crate::Format;
use crate::output::{print_json, table, thousands};
use maillage_core::access::CptsId;
use maillage_core::directory::collect::{Collected, collect_with_counts};
use maillage_core::directory::filter::TerritoryFilter;
use maillage_core::directory::scan::ScanStats;
use maillage_core::ids::InseeCode;
use maillage_core::refdata::Reference;
use maillage_core::territory::Territory;
use maillage_store::{AnnuaireImport, AuditEvent, CptsStore, DirectoryStore, ImportOutcome};
use serde::Serialize;
use std::io::{BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Subcommand, Debug)]
pub enum ImportCommand {
    /// The Annuaire Santé extract `PS_LibreAcces_Personne_activite_*.txt` (pipe-separated,
    /// UTF-8), kept for the communes of the CPTS's territory (and a margin). `-` reads stdin.
    Annuaire {
        file: PathBuf,
        /// CPTS id.
        #[arg(long)]
        cpts: String,
        /// Also keep the professionals practising within this many km of the territory.
        #[arg(long, default_value_t = 0.0)]
        margin_km: f64,
        /// Scan and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// The association's member list (CSV or XLSX): one line per member, found by national
    /// identifier (RPPS or ADELI) among the professionals of the directory. Atomic: a file with
    /// any bad line, or naming a professional the directory does not have, changes nothing.
    Members {
        file: PathBuf,
        /// CPTS id.
        #[arg(long)]
        cpts: String,
        /// Sheet of an XLSX file (default: the first).
        #[arg(long)]
        sheet: Option<String>,
        /// Column of a field, when the default headers do not match: `FIELD=Header`, FIELD being
        /// national_id, joined_on, left_on, status, dues_paid_until, profession_referent or
        /// board_role. Repeatable.
        #[arg(long = "map", value_name = "FIELD=HEADER")]
        map: Vec<String>,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum DirectoryCommand {
    /// Writes a fictitious extract with the real column layout (benchmarks, demos).
    Synth {
        #[arg(long, default_value_t = 2_000_000)]
        lines: u64,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Output file (`-`: stdout).
        #[arg(long)]
        out: PathBuf,
        /// Comma-separated INSEE codes to draw from (default: every commune of France).
        #[arg(long)]
        communes: Option<String>,
    },
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    cpts: String,
    lines_read: u64,
    kept_territory: u64,
    kept_margin: u64,
    filtered_out: u64,
    unplaced: u64,
    rejected: u64,
    professionals: usize,
    written: bool,
    outcome: Option<ImportOutcome>,
    seconds: f64,
    rejects: Vec<RejectLine<'a>>,
}

#[derive(Serialize)]
struct RejectLine<'a> {
    line: u64,
    column: Option<&'a str>,
    reason: &'a str,
    raison: &'a str,
}

/// Progress on stderr: a line rewritten in place on a terminal, a line every 500,000 otherwise.
fn progress(total_bytes: Option<u64>) -> impl FnMut(&ScanStats) {
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    move |s: &ScanStats| {
        if !tty && !s.lines.is_multiple_of(500_000) {
            return;
        }
        let share = total_bytes.filter(|t| *t > 0).map(|t| format!(" ({} %)", s.bytes * 100 / t)).unwrap_or_default();
        let text = format!(
            "lines {} — {} MB{share} — kept {} — {:.1} s",
            thousands(s.lines),
            s.bytes / 1_000_000,
            thousands(s.kept()),
            started.elapsed().as_secs_f64()
        );
        let mut err = std::io::stderr().lock();
        let _ = if tty { write!(err, "\r{text}   ") } else { writeln!(err, "{text}") };
    }
}

/// The CPTS named by `id` in `store`, or `None` after saying why on stderr.
pub async fn cpts_or_exit(
    store: &maillage_store::Store,
    id: &str,
) -> Result<Option<maillage_store::Cpts>, Box<dyn std::error::Error>> {
    let Some(cpts_id) = CptsId::parse(id) else {
        eprintln!("error: {id:?} is not a CPTS id");
        return Ok(None);
    };
    match store.get_cpts(&cpts_id).await {
        Ok(c) => Ok(Some(c)),
        Err(maillage_store::StoreError::NotFound) => {
            eprintln!("error: no CPTS {cpts_id} in this database");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn run_import(command: &ImportCommand, format: Format) -> crate::CliResult {
    let (file, cpts, margin_km, dry_run, server) = match command {
        ImportCommand::Annuaire { file, cpts, margin_km, dry_run, server } => (file, cpts, margin_km, dry_run, server),
        ImportCommand::Members { file, cpts, sheet, map, dry_run, server } => {
            return super::members::run(file, cpts, sheet.as_deref(), map, *dry_run, server, format);
        }
    };
    if !(0.0..=100.0).contains(margin_km) {
        eprintln!("error: --margin-km must be between 0 and 100");
        return Ok(ExitCode::from(2));
    }
    let Some(cpts_id) = CptsId::parse(cpts) else {
        eprintln!("error: {cpts:?} is not a CPTS id");
        return Ok(ExitCode::from(2));
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let url = server.database_url();
        let store = maillage_store::connect(&url).await?;
        let Some(record) = cpts_or_exit(&store, cpts).await? else { return Ok(ExitCode::from(1)) };
        let reference = Reference::embedded();
        let territory = Territory::new(reference, record.communes.iter().map(InseeCode::as_str))
            .map_err(|e| format!("the territory of {} is invalid: {e}", record.name))?;
        let filter = TerritoryFilter::new(&territory, *margin_km);
        let mut departements: Vec<String> = record
            .communes
            .iter()
            .filter_map(|c| reference.commune(c.as_str()))
            .map(|c| c.departement.clone())
            .collect();
        departements.sort();
        departements.dedup();
        let started = Instant::now();
        let name = file.display().to_string();
        let collected: Collected = if name == "-" {
            let stdin = BufReader::with_capacity(1 << 20, std::io::stdin().lock());
            collect_with_counts(stdin, &filter, &departements, 100_000, progress(None))?
        } else {
            let f = std::fs::File::open(file).map_err(|e| format!("cannot open {name}: {e}"))?;
            let size = f.metadata().ok().map(|m| m.len());
            collect_with_counts(BufReader::with_capacity(1 << 20, f), &filter, &departements, 100_000, progress(size))?
        };
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
        let refused = collected.stats.rejected > 0;
        let outcome = if refused || *dry_run {
            None
        } else {
            #[allow(clippy::disallowed_methods)] // the CLI is the edge where time enters
            let now = chrono::Utc::now();
            let import_id = format!("{:032x}", rand::random::<u128>());
            let audit = AuditEvent {
                cpts_id: Some(cpts_id.clone()),
                id: format!("{:032x}", rand::random::<u128>()),
                at: now,
                account_id: None,
                account_label: "maillage import (ligne de commande)".into(),
                role: "system".into(),
                action: "import".into(),
                object_type: "directory".into(),
                object_id: import_id.clone(),
                request_id: "cli".into(),
                detail: String::new(),
            };
            let import = AnnuaireImport {
                id: import_id,
                source: "annuaire",
                file_name: file.file_name().map_or(name.clone(), |n| n.to_string_lossy().into_owned()),
                lines_read: collected.lines_read,
                professionals: &collected.professionals,
                departement_counts: Some(&collected.departement_counts),
            };
            Some(store.apply_import(&cpts_id, &import, now, &audit).await?)
        };
        store.close().await;
        let s = &collected.stats;
        let report = Report {
            file: name.clone(),
            cpts: record.name.clone(),
            lines_read: collected.lines_read,
            kept_territory: s.kept_territory,
            kept_margin: s.kept_margin,
            filtered_out: s.filtered_out,
            unplaced: s.unplaced,
            rejected: s.rejected,
            professionals: collected.professionals.len(),
            written: outcome.is_some(),
            outcome,
            seconds: started.elapsed().as_secs_f64(),
            rejects: collected
                .rejects
                .iter()
                .map(|r| RejectLine {
                    line: r.line,
                    column: r.column.as_deref(),
                    reason: &r.reason_en,
                    raison: &r.reason_fr,
                })
                .collect(),
        };
        match format {
            Format::Json => print_json(&report)?,
            Format::Table => print_report(&report),
        }
        if refused {
            eprintln!(
                "error: {name}: {} broken line(s) in the territory; nothing was imported (see the report)",
                s.rejected
            );
            return Ok(ExitCode::from(1));
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_report(r: &Report<'_>) {
    let mut rows = vec![
        vec!["lines read".to_owned(), thousands(r.lines_read)],
        vec!["kept (territory)".to_owned(), thousands(r.kept_territory)],
        vec!["kept (margin)".to_owned(), thousands(r.kept_margin)],
        vec!["outside".to_owned(), thousands(r.filtered_out)],
        vec!["cannot be placed".to_owned(), thousands(r.unplaced)],
        vec!["rejected".to_owned(), thousands(r.rejected)],
        vec!["professionals".to_owned(), thousands(r.professionals as u64)],
    ];
    if let Some(o) = &r.outcome {
        rows.extend([
            vec!["inserted".to_owned(), thousands(o.inserted)],
            vec!["updated".to_owned(), thousands(o.updated)],
            vec!["unchanged".to_owned(), thousands(o.unchanged)],
            vec!["marked as left".to_owned(), thousands(o.marked_left)],
            vec!["back".to_owned(), thousands(o.returned)],
        ]);
    }
    rows.push(vec!["seconds".to_owned(), format!("{:.2}", r.seconds)]);
    print!("{}", table(&[&r.cpts, ""], &rows));
    if !r.rejects.is_empty() {
        let lines: Vec<Vec<String>> = r
            .rejects
            .iter()
            .map(|x| vec![x.line.to_string(), x.column.unwrap_or("—").to_owned(), x.reason.to_owned()])
            .collect();
        eprint!("{}", table(&["line", "column", "reason"], &lines));
    }
}

pub fn run_directory(command: &DirectoryCommand) -> crate::CliResult {
    let DirectoryCommand::Synth { lines, seed, out, communes } = command;
    let reference = Reference::embedded();
    let list: Vec<String> = match communes {
        Some(text) => text.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
        None => maillage_core::directory::synth::france_communes(reference).into_iter().map(str::to_owned).collect(),
    };
    for code in &list {
        if reference.commune(code).is_none() {
            eprintln!("error: unknown commune {code}");
            return Ok(ExitCode::from(2));
        }
    }
    let codes: Vec<&str> = list.iter().map(String::as_str).collect();
    let summary = if out.as_os_str() == "-" {
        let stdout = std::io::stdout().lock();
        maillage_core::directory::synth::write_extract(std::io::BufWriter::new(stdout), *lines, *seed, &codes)?
    } else {
        let f = std::fs::File::create(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        maillage_core::directory::synth::write_extract(
            std::io::BufWriter::with_capacity(1 << 20, f),
            *lines,
            *seed,
            &codes,
        )?
    };
    eprintln!("{} lines, {} people", thousands(summary.lines), thousands(summary.people));
    Ok(ExitCode::SUCCESS)
}
