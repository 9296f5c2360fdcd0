//! `maillage territory`: what a set of communes amounts to.

use crate::Format;
use crate::output::{print_json, table, thousands};
use maillage_core::refdata::Reference;
use maillage_core::territory::{SizeThresholds, Territory};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Comma-separated INSEE commune codes (e.g. 41018,41269). Municipal arrondissements
    /// (75101…) may be used instead of their whole city, not together with it.
    #[arg(long, value_delimiter = ',', required = true, num_args = 1..)]
    communes: Vec<String>,
}

pub fn run(args: &Args, format: Format) -> crate::CliResult {
    let reference = Reference::embedded();
    let codes = args.communes.iter().map(|c| c.trim()).filter(|c| !c.is_empty());
    let territory = match Territory::new(reference, codes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let out = territory.summary(&SizeThresholds::default());
    match format {
        Format::Json => print_json(&out)?,
        Format::Table => {
            let rows: Vec<Vec<String>> = out
                .communes
                .iter()
                .map(|c| vec![c.code.clone(), c.name.clone(), c.departement.clone(), thousands(c.population.into())])
                .collect();
            print!("{}", table(&["code", "commune", "dép.", "population"], &rows));
            println!();
            println!("population   {} ({})", thousands(out.population), out.reference);
            println!("size class   {} (ACI taille {})", out.size_class.number(), out.size_class.number());
            for d in &out.departements {
                println!("département  {} {}: {} communes, {}", d.code, d.name, d.communes, thousands(d.population));
            }
            println!("contiguous   {}", if out.contiguous { "yes" } else { "no" });
            println!("neighbours   {} communes: {}", out.neighbours.len(), out.neighbours.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
