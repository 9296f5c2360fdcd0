//! `maillage import members`: the association's member list from a spreadsheet (CSV or XLSX),
//! columns found by header (French defaults, `--map FIELD=Header` overrides), applied
//! atomically: a file with any bad cell, or naming a professional the directory does not
//! have, changes nothing and is reported line by line.

use super::import::cpts_or_exit;
use super::serve::Args as ServerArgs;
use crate::Format;
use crate::output::{print_json, table, thousands};
use maillage_core::directory::members::{ColumnMapping, MemberField, MemberReject, parse_members};
use maillage_store::{AuditEvent, DirectoryStore, MembershipOutcome, StoreError};
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

#[derive(Serialize)]
struct Report {
    file: String,
    cpts: String,
    rows: usize,
    members: usize,
    /// Field → header of the column it was read from.
    columns: Vec<(String, String)>,
    dry_run: bool,
    written: bool,
    outcome: Option<MembershipOutcome>,
    rejects: Vec<RejectLine>,
}

#[derive(Serialize)]
struct RejectLine {
    line: u64,
    column: Option<String>,
    reason: String,
    raison: String,
}

impl From<MemberReject> for RejectLine {
    fn from(r: MemberReject) -> Self {
        Self { line: r.line, column: r.column, reason: r.reason_en, raison: r.reason_fr }
    }
}

/// `field=Header` pairs of `--map`.
fn overrides(map: &[String]) -> Result<Vec<(MemberField, String)>, String> {
    map.iter()
        .map(|m| {
            let (field, header) = m.split_once('=').ok_or_else(|| format!("--map {m:?}: expected FIELD=Header"))?;
            let f = MemberField::parse(field).ok_or_else(|| {
                let keys: Vec<&str> = MemberField::ALL.iter().map(|f| f.key()).collect();
                format!("--map {m:?}: unknown field {field:?}; the fields are {}", keys.join(", "))
            })?;
            Ok((f, header.trim().trim_matches('"').to_owned()))
        })
        .collect()
}

pub fn run(
    file: &Path,
    cpts: &str,
    sheet: Option<&str>,
    map: &[String],
    dry_run: bool,
    server: &ServerArgs,
    format: Format,
) -> crate::CliResult {
    let overrides = match overrides(map) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let name = file.display().to_string();
    let table_read = match maillage_office::read_table(file, sheet) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mapping = match ColumnMapping::resolve(&table_read.header, &overrides) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let columns: Vec<(String, String)> = [
        (MemberField::NationalId, Some(&mapping.national_id)),
        (MemberField::JoinedOn, mapping.joined_on.as_ref()),
        (MemberField::LeftOn, mapping.left_on.as_ref()),
        (MemberField::Status, mapping.status.as_ref()),
        (MemberField::DuesPaidUntil, mapping.dues_paid_until.as_ref()),
        (MemberField::ProfessionReferent, mapping.profession_referent.as_ref()),
        (MemberField::BoardRole, mapping.board_role.as_ref()),
    ]
    .into_iter()
    .filter_map(|(f, c)| c.map(|c| (f.key().to_owned(), c.header.clone())))
    .collect();
    #[allow(clippy::disallowed_methods)] // the CLI is the edge where time enters
    let now = chrono::Utc::now();
    let parsed = parse_members(&table_read.rows, &mapping, now.date_naive());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = maillage_store::connect(&server.database_url()).await?;
        let Some(record) = cpts_or_exit(&store, cpts).await? else { return Ok(ExitCode::from(1)) };
        let mut report = Report {
            file: name.clone(),
            cpts: record.name.clone(),
            rows: table_read.rows.len(),
            members: 0,
            columns,
            dry_run,
            written: false,
            outcome: None,
            rejects: Vec::new(),
        };
        match parsed {
            Err(rejects) => report.rejects = rejects.into_iter().map(RejectLine::from).collect(),
            Ok(list) => {
                report.members = list.len();
                // Without rejects every row gave one member, in order: lines match.
                let lines: Vec<u64> = table_read.rows.iter().map(|(l, _)| *l).collect();
                let list: Vec<(String, _)> = list.into_iter().map(|(id, m)| (id.to_string(), m)).collect();
                let unknown: Vec<String> = if dry_run {
                    let mut unknown = Vec::new();
                    for (id, _) in &list {
                        match store.directory_entry(&record.id, id).await {
                            Ok(_) => {}
                            Err(StoreError::NotFound) => unknown.push(id.clone()),
                            Err(e) => return Err(e.into()),
                        }
                    }
                    unknown
                } else {
                    let audit = AuditEvent {
                        cpts_id: Some(record.id.clone()),
                        id: format!("{:032x}", rand::random::<u128>()),
                        at: now,
                        account_id: None,
                        account_label: "maillage import (ligne de commande)".into(),
                        role: "system".into(),
                        action: "import".into(),
                        object_type: "membership".into(),
                        object_id: file.file_name().map_or(name.clone(), |n| n.to_string_lossy().into_owned()),
                        request_id: "cli".into(),
                        detail: format!("{} members", list.len()),
                    };
                    let outcome = store.apply_memberships(&record.id, &list, now, &audit).await?;
                    report.written = outcome.applied();
                    let unknown = outcome.unknown.clone();
                    report.outcome = Some(outcome);
                    unknown
                };
                for id in unknown {
                    let line = list.iter().position(|(i, _)| *i == id).and_then(|i| lines.get(i)).copied().unwrap_or(0);
                    report.rejects.push(RejectLine {
                        line,
                        column: Some(mapping.national_id.header.clone()),
                        reason: format!("professional {id} is not in the directory of {}", record.name),
                        raison: format!("le professionnel {id} n'est pas dans l'annuaire de {}", record.name),
                    });
                }
            }
        }
        store.close().await;
        match format {
            Format::Json => print_json(&report)?,
            Format::Table => print_report(&report),
        }
        if !report.rejects.is_empty() {
            eprintln!("error: {name}: {} problem(s); nothing was imported (see the report)", report.rejects.len());
            return Ok(ExitCode::from(1));
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_report(r: &Report) {
    let mut rows = vec![
        vec!["rows".to_owned(), thousands(r.rows as u64)],
        vec!["members".to_owned(), thousands(r.members as u64)],
    ];
    for (field, header) in &r.columns {
        rows.push(vec![format!("column {field}"), header.clone()]);
    }
    if let Some(o) = r.outcome.as_ref().filter(|o| o.applied()) {
        rows.extend([
            vec!["created".to_owned(), thousands(o.created)],
            vec!["updated".to_owned(), thousands(o.updated)],
            vec!["unchanged".to_owned(), thousands(o.unchanged)],
        ]);
    }
    if r.dry_run {
        rows.push(vec!["dry run".to_owned(), "nothing written".to_owned()]);
    }
    print!("{}", table(&[&r.cpts, ""], &rows));
    if !r.rejects.is_empty() {
        let lines: Vec<Vec<String>> = r
            .rejects
            .iter()
            .map(|x| vec![x.line.to_string(), x.column.clone().unwrap_or_else(|| "—".into()), x.reason.clone()])
            .collect();
        eprint!("{}", table(&["line", "column", "reason"], &lines));
    }
}
