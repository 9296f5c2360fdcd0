//! `maillage`: the one binary of the platform.

// Library code returns errors; tests may unwrap (clippy.toml allows it in tests).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod output;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// What a subcommand returns: its exit code, or an error that exits with status 2.
pub type CliResult = Result<ExitCode, Box<dyn std::error::Error>>;

#[derive(Parser, Debug)]
#[command(name = "maillage", version, about = "Maillage: the open platform of a CPTS and of the national plan")]
pub struct Cli {
    /// Output format: table or json; `maillage export` also takes csv, xlsx, vcard and fhir.
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// Every value `--format` takes; the export formats only make sense for `maillage export`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Table,
    Json,
    Csv,
    Xlsx,
    Vcard,
    Fhir,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Population, ACI size class, départements and neighbours of a set of communes.
    Territory(commands::territory::Args),
    /// The ACI contract: rule sets (amounts, sources) and the funding simulator.
    Aci {
        #[command(subcommand)]
        command: commands::aci::AciCommand,
    },
    /// National identifiers (RPPS, ADELI, FINESS, SIREN, SIRET, NIR, commune).
    Ids {
        #[command(subcommand)]
        command: commands::ids::IdsCommand,
    },
    /// The reference communes (INSEE, IGN).
    Communes {
        #[command(subcommand)]
        command: commands::communes::CommunesCommand,
    },
    /// Start the server (French web interface and JSON API).
    Serve(commands::serve::Args),
    /// Accounts and tokens without the web interface (e.g. the first administrator).
    Admin {
        #[command(subcommand)]
        command: commands::admin::AdminCommand,
    },
    /// Start the server with demonstration data and one account per role (credentials printed).
    Demo(commands::serve::Args),
    /// Import data into a CPTS (the Annuaire Santé extract, the member list).
    Import {
        #[command(subcommand)]
        command: commands::import::ImportCommand,
    },
    /// The directory's tools (a fictitious national extract for benchmarks and demos).
    Directory {
        #[command(subcommand)]
        command: commands::import::DirectoryCommand,
    },
    /// The national registry of CPTS: import, export, a synthetic one.
    National {
        #[command(subcommand)]
        command: commands::national::NationalCommand,
    },
    /// Export data of a CPTS (the directory as CSV, XLSX, vCard or FHIR R4).
    Export {
        #[command(subcommand)]
        command: commands::export::ExportCommand,
    },
    /// Back up the SQLite database, online (PostgreSQL: pg_dump, see docs/operations.md).
    Backup(commands::backup::BackupArgs),
    /// Restore a backup made by `maillage backup`; the server must be stopped.
    Restore(commands::backup::RestoreArgs),
    /// Propose waiting patients to doctors with room (médecin traitant matching, CSV in).
    Match(commands::matching::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let export_format = match cli.format {
        FormatArg::Csv => Some(commands::export::ExportFormat::Csv),
        FormatArg::Xlsx => Some(commands::export::ExportFormat::Xlsx),
        FormatArg::Vcard => Some(commands::export::ExportFormat::Vcard),
        FormatArg::Fhir => Some(commands::export::ExportFormat::Fhir),
        FormatArg::Table | FormatArg::Json => None,
    };
    if let Command::Export { command } = &cli.command {
        return finish(commands::export::run(command, export_format));
    }
    let format = match cli.format {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        other => {
            let name = other.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
            eprintln!("error: --format {name} is for `maillage export`; use table or json here");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Territory(args) => commands::territory::run(&args, format),
        Command::Aci { command } => commands::aci::run(&command, format),
        Command::Ids { command } => commands::ids::run(&command, format),
        Command::Communes { command } => commands::communes::run(&command, format),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Demo(args) => commands::demo::run(&args),
        Command::Admin { command } => commands::admin::run(&command, format),
        Command::Import { command } => commands::import::run_import(&command, format),
        Command::Directory { command } => commands::import::run_directory(&command),
        Command::National { command } => commands::national::run(&command, format),
        Command::Export { .. } => unreachable_export(),
        Command::Backup(args) => commands::backup::backup(&args, format),
        Command::Restore(args) => commands::backup::restore(&args, format),
        Command::Match(args) => commands::matching::run(&args, format),
    };
    finish(result)
}

/// `maillage export` is dispatched before the others (it takes its own formats).
fn unreachable_export() -> CliResult {
    Ok(ExitCode::from(2))
}

fn finish(result: CliResult) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
