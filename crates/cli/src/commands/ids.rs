//! `maillage ids check KIND VALUE`: exit 0 when valid, 1 when invalid (reason on stderr).

use crate::Format;
use crate::output::print_json;
use maillage_core::ids::{IdKind, check};
use maillage_core::refdata::Reference;
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum IdsCommand {
    /// Check one identifier. KIND: rpps, adeli, finess, siren, siret, nir, commune.
    Check {
        /// rpps | adeli | finess | siren | siret | nir | commune
        kind: IdKind,
        value: String,
    },
}

pub fn run(command: &IdsCommand, format: Format) -> crate::CliResult {
    let IdsCommand::Check { kind, value } = command;
    let checked = check(*kind, value).and_then(|checked| {
        // The syntax of a commune code is not enough: it must name a current commune.
        if *kind == IdKind::Commune {
            Reference::embedded()
                .resolve(value)
                .map_err(|e| maillage_core::ids::IdError::new("commune", value, e.fr(), e.to_string()))?;
        }
        Ok(checked)
    });
    match checked {
        Ok(c) => {
            for w in &c.warnings {
                eprintln!("warning: {}", w.en);
            }
            match format {
                Format::Json => print_json(&json!({
                    "valid": true,
                    "normalized": c.normalized,
                    "warnings": c.warnings.iter().map(|w| json!({"en": w.en, "fr": w.fr})).collect::<Vec<_>>(),
                    "fhir": c.fhir.as_ref().map(|(system, value)| json!({"system": system, "value": value})),
                }))?,
                Format::Table => {
                    println!("valid: {}", c.normalized);
                    if let Some((system, value)) = &c.fhir {
                        println!("FHIR identifier: {system} | {value}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("invalid {}: {} ({})", e.kind, e.en, e.fr);
            if format == Format::Json {
                print_json(&json!({"valid": false, "reason": e.en, "raison": e.fr}))?;
            }
            Ok(ExitCode::from(1))
        }
    }
}
