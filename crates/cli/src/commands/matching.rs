//! `maillage match`: propose waiting patients to doctors with room — the engine of the web's
//! médecin traitant matching (`maillage_core::matching`), on two CSV files.

use crate::Format;
use crate::output::{print_json, table, thousands};
use maillage_core::matching::{self, Matching, Params, WaitingReason};
use maillage_core::refdata::Reference;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// CSV of waiting patients, columns id,commune,priority (priority: the class, 1 served first).
    #[arg(long)]
    patients: PathBuf,
    /// CSV of doctors, columns id,commune,capacity; optional max_km (their own limit),
    /// communes (accepted communes, `|`-separated) and excluded (declined patient ids, `|`-separated).
    #[arg(long)]
    doctors: PathBuf,
    /// Nobody is proposed a doctor farther than this (km between commune centres, at most 1000).
    #[arg(long)]
    max_km: f64,
}

#[derive(Serialize)]
struct AssignmentOut<'a> {
    patient: &'a str,
    doctor: &'a str,
    km: f64,
    class: u8,
}

#[derive(Serialize)]
struct WaitingOut<'a> {
    patient: &'a str,
    class: u8,
    /// `no_doctor_in_range` or `no_capacity_left`.
    reason: &'static str,
    doctors_in_range: u32,
}

#[derive(Serialize)]
struct Out<'a> {
    max_km: f64,
    patients: usize,
    doctors: usize,
    /// Class → matched patients.
    matched_by_class: &'a BTreeMap<u8, u64>,
    /// Class → all patients.
    patients_by_class: &'a BTreeMap<u8, u64>,
    /// Σ of the assignments' distances (each whole metres), in km.
    total_km: f64,
    assignments: Vec<AssignmentOut<'a>>,
    waiting: Vec<WaitingOut<'a>>,
}

fn read(path: &PathBuf) -> Result<String, Box<dyn std::error::Error>> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()).into())
}

pub fn run(args: &Args, format: Format) -> crate::CliResult {
    let reference = Reference::embedded();
    let patients = matching::csv::parse_patients(&read(&args.patients)?, reference)
        .map_err(|e| format!("{}: {e}", args.patients.display()))?;
    let doctors = matching::csv::parse_doctors(&read(&args.doctors)?, reference)
        .map_err(|e| format!("{}: {e}", args.doctors.display()))?;
    let result = matching::match_patients(reference, &patients, &doctors, &Params { max_km: args.max_km })?;
    match format {
        Format::Json => print_json(&json(&result, args.max_km, patients.len(), doctors.len()))?,
        Format::Table => print_table(&result),
    }
    Ok(ExitCode::SUCCESS)
}

fn json(m: &Matching, max_km: f64, patients: usize, doctors: usize) -> Out<'_> {
    Out {
        max_km,
        patients,
        doctors,
        matched_by_class: &m.matched_by_class,
        patients_by_class: &m.patients_by_class,
        total_km: m.total_km(),
        assignments: m
            .assignments
            .iter()
            .map(|a| AssignmentOut { patient: &a.patient, doctor: &a.doctor, km: a.km(), class: a.class })
            .collect(),
        waiting: m
            .waiting
            .iter()
            .map(|w| {
                let (reason, doctors_in_range) = match w.why {
                    WaitingReason::NoDoctorInRange => ("no_doctor_in_range", 0),
                    WaitingReason::NoCapacityLeft { doctors_in_range } => ("no_capacity_left", doctors_in_range),
                };
                WaitingOut { patient: &w.patient, class: w.class, reason, doctors_in_range }
            })
            .collect(),
    }
}

fn print_table(m: &Matching) {
    let rows: Vec<Vec<String>> = m
        .assignments
        .iter()
        .map(|a| vec![a.patient.clone(), a.doctor.clone(), format!("{:.3}", a.km()), a.class.to_string()])
        .collect();
    print!("{}", table(&["patient", "doctor", "km", "class"], &rows));
    println!();
    for (class, total) in &m.patients_by_class {
        let matched = m.matched_by_class.get(class).copied().unwrap_or(0);
        println!("class {class}    {} of {} matched", thousands(matched), thousands(*total));
    }
    println!("total       {:.3} km", m.total_km());
    let far = m.waiting.iter().filter(|w| w.why == WaitingReason::NoDoctorInRange).count();
    println!(
        "waiting     {} ({} with no doctor in range, {} where the doctors in range are full)",
        thousands(m.waiting.len() as u64),
        thousands(far as u64),
        thousands((m.waiting.len() - far) as u64)
    );
}
