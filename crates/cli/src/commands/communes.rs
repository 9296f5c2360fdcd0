//! `maillage communes near|show`: the reference communes.

use crate::Format;
use crate::output::{print_json, table, thousands};
use maillage_core::refdata::Reference;
use maillage_core::territory::communes_within;
use serde::Serialize;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum CommunesCommand {
    /// Communes whose centre lies within N km of a commune's centre, nearest first.
    Near {
        /// INSEE code of the commune.
        code: String,
        /// Radius in km (great-circle distance between commune centres).
        #[arg(long, value_parser = parse_km)]
        km: f64,
    },
    /// Everything the reference data knows of one commune.
    Show { code: String },
}

fn parse_km(s: &str) -> Result<f64, String> {
    let km: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of km"))?;
    if km.is_finite() && (0.0..=1000.0).contains(&km) {
        Ok(km)
    } else {
        Err(format!("{s} km is out of range (0 to 1000)"))
    }
}

#[derive(Serialize)]
struct NearOut<'a> {
    code: &'a str,
    name: &'a str,
    departement: &'a str,
    population: u32,
    km: f64,
}

pub fn run(command: &CommunesCommand, format: Format) -> crate::CliResult {
    let reference = Reference::embedded();
    match command {
        CommunesCommand::Near { code, km } => {
            let from = match reference.resolve(code) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let near: Vec<NearOut> = communes_within(reference, from, *km)
                .into_iter()
                .map(|n| NearOut {
                    code: n.commune.code.as_str(),
                    name: &n.commune.name,
                    departement: &n.commune.departement,
                    population: n.commune.population,
                    km: (n.km * 100.0).round() / 100.0,
                })
                .collect();
            match format {
                Format::Json => print_json(&near)?,
                Format::Table => {
                    let rows: Vec<Vec<String>> = near
                        .iter()
                        .map(|n| {
                            vec![
                                n.code.into(),
                                n.name.into(),
                                n.departement.into(),
                                thousands(n.population.into()),
                                format!("{:.1}", n.km),
                            ]
                        })
                        .collect();
                    print!("{}", table(&["code", "commune", "dép.", "population", "km"], &rows));
                }
            }
        }
        CommunesCommand::Show { code } => {
            let c = match reference.resolve(code) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let dept = reference.departement(&c.departement);
            let region = reference.region(&c.region);
            let epci = c.epci.as_deref().and_then(|s| reference.epci(s));
            let neighbours: Vec<&str> =
                c.neighbours.iter().map(|&i| reference.communes()[i as usize].code.as_str()).collect();
            let value = serde_json::json!({
                "code": c.code,
                "name": c.name,
                "kind": match c.kind {
                    maillage_core::refdata::CommuneKind::Commune => "commune",
                    maillage_core::refdata::CommuneKind::MunicipalArrondissement => "arrondissement municipal",
                },
                "parent": c.parent,
                "departement": {"code": c.departement, "name": dept.map(|d| d.name.as_str())},
                "region": {"code": c.region, "name": region.map(|r| r.name.as_str())},
                "epci": epci.map(|e| serde_json::json!({"siren": e.siren, "name": e.name, "kind": e.kind})),
                "postal_codes": c.postal_codes,
                "population": c.population,
                "lat": c.centre.lat,
                "lon": c.centre.lon,
                "neighbours": neighbours,
            });
            match format {
                Format::Json => print_json(&value)?,
                Format::Table => {
                    println!("{} {}", c.code, c.name);
                    println!("département  {} {}", c.departement, dept.map(|d| d.name.as_str()).unwrap_or(""));
                    println!("région       {} {}", c.region, region.map(|r| r.name.as_str()).unwrap_or(""));
                    if let Some(e) = epci {
                        println!("EPCI         {} {}", e.siren, e.name);
                    }
                    println!("postal codes {}", c.postal_codes.join(", "));
                    println!("population   {}", thousands(c.population.into()));
                    println!("centre       {:.5}, {:.5}", c.centre.lat, c.centre.lon);
                    println!("neighbours   {}", neighbours.join(", "));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
