//! `maillage aci`: the ACI rule sets and the funding simulator.
//!
//! - `maillage aci simulate --rules avenant-2 --size 2 --contract-year 1 --missions all --crisis`
//! - `maillage aci rules [ID | FILE.toml]`: list the rule sets, show one, or validate a file.

use crate::Format;
use crate::output::{print_json, table, thousands};
use maillage_core::aci::rules::{self, MissionFunding, SIZES};
use maillage_core::aci::{Category, Cents, EnvelopeFunding, MissionId, Rate, RuleSet, Scenario, YearFunding, simulate};
use maillage_core::territory::SizeClass;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum AciCommand {
    /// What one contract year brings, envelope by envelope (what-if simulation).
    Simulate(SimulateArgs),
    /// List the rule sets, show one (amounts, sources, UNVERIFIED entries), or validate a file.
    Rules(RulesArgs),
}

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Rule set: an embedded id (avenant-2, aci-2019) or the path of a rule-set file (.toml).
    #[arg(long, default_value = "avenant-2")]
    rules: String,
    /// Size class ("taille"), 1 to 4.
    #[arg(
        long,
        value_parser = clap::value_parser!(u8).range(1..=4),
        required_unless_present = "population",
        conflicts_with = "population"
    )]
    size: Option<u8>,
    /// Population of the territory, instead of --size (classified with the rule set's thresholds).
    #[arg(long)]
    population: Option<u64>,
    /// Contract year, 1 to the contract length of the rule set (5).
    #[arg(long, default_value_t = 1)]
    contract_year: u8,
    /// `all`, or a comma-separated list of: fonctionnement, acces, parcours, prevention, crise,
    /// qualite, accompagnement. The operating funding (fonctionnement) is always included.
    #[arg(long, default_value = "all")]
    missions: String,
    /// Achievement of the indicators, for every variable part: a decimal between 0 and 1 (0.8)
    /// or a percentage (80%).
    #[arg(long, default_value = "1")]
    achievement: String,
    /// A serious health crisis occurs during the year (crisis mission).
    #[arg(long)]
    crisis: bool,
    /// Table output: print how each figure was obtained.
    #[arg(long)]
    explain: bool,
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// An embedded rule-set id or the path of a rule-set file (.toml); none lists them all.
    rules: Option<String>,
}

pub fn run(command: &AciCommand, format: Format) -> crate::CliResult {
    match command {
        AciCommand::Simulate(args) => run_simulate(args, format),
        AciCommand::Rules(args) => run_rules(args, format),
    }
}

/// An embedded id, or a file when the name looks like a path.
fn load_rules(name: &str) -> Result<RuleSet, Box<dyn std::error::Error>> {
    if name.ends_with(".toml") || name.contains('/') || name.contains(std::path::MAIN_SEPARATOR) {
        let text = std::fs::read_to_string(name).map_err(|e| format!("cannot read rule-set file {name}: {e}"))?;
        Ok(RuleSet::from_toml(name, &text)?)
    } else {
        Ok(rules::embedded(name)?.clone())
    }
}

fn parse_missions(list: &str) -> Result<BTreeSet<MissionId>, Box<dyn std::error::Error>> {
    if list.trim() == "all" {
        return Ok(MissionId::ALL.into_iter().collect());
    }
    let mut out = BTreeSet::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        out.insert(name.parse::<MissionId>()?);
    }
    if out.is_empty() {
        return Err("--missions is empty: give `all` or a list of missions".into());
    }
    Ok(out)
}

/// Whole euros as an integer, otherwise a decimal number; `*_cents` fields carry the exact value.
fn eur(c: Cents) -> Value {
    if c.cents() % 100 == 0 {
        Value::from(c.cents() / 100)
    } else {
        c.euros_decimal().parse::<serde_json::Number>().map_or(Value::Null, Value::Number)
    }
}

/// `60 000.00` (narrow no-break spaces between thousands).
fn euros_cell(c: Cents) -> String {
    let sign = if c.cents() < 0 { "-" } else { "" };
    let abs = c.cents().unsigned_abs();
    format!("{sign}{}.{:02}", thousands(abs / 100), abs % 100)
}

fn envelope_json(e: &EnvelopeFunding) -> Value {
    json!({
        "mission": e.mission,
        "label": e.label,
        "fixed_eur": eur(e.fixed),
        "variable_eur": eur(e.variable),
        "total_eur": eur(e.total),
        "maximum_eur": eur(e.maximum),
        "fixed_cents": e.fixed.cents(),
        "variable_cents": e.variable.cents(),
        "total_cents": e.total.cents(),
        "achievement": e.achievement.map(|r| r.percent_string()),
        "explanations": e.explanations.iter().map(|x| json!({
            "rule": x.rule,
            "part": x.part,
            "source": x.source,
            "unverified": x.unverified,
            "text": x.en(),
        })).collect::<Vec<_>>(),
    })
}

fn run_simulate(args: &SimulateArgs, format: Format) -> crate::CliResult {
    let rules = load_rules(&args.rules)?;
    let size = match (args.size, args.population) {
        (Some(n), _) => SizeClass::from_number(n).ok_or_else(|| format!("size {n} is not 1, 2, 3 or 4"))?,
        (None, Some(p)) => rules.size_class(p),
        (None, None) => return Err("give --size or --population".into()),
    };
    let achievement = Rate::parse(&args.achievement)?;
    let missions = parse_missions(&args.missions)?;
    let scenario = Scenario { size, contract_year: args.contract_year, missions, achievement, crisis: args.crisis };
    let year = simulate(&rules, &scenario)?;
    match format {
        Format::Json => print_json(&simulation_json(&rules, &scenario, &year, args.population))?,
        Format::Table => print_simulation(&rules, &scenario, &year, args),
    }
    Ok(ExitCode::SUCCESS)
}

fn simulation_json(rules: &RuleSet, s: &Scenario, y: &YearFunding, population: Option<u64>) -> Value {
    json!({
        "rule_set": rules.id,
        "rule_set_title": rules.title,
        "effective_from": rules.effective_from,
        "size": s.size.number(),
        "population": population,
        "contract_year": s.contract_year,
        "achievement": s.achievement.percent_string(),
        "crisis": s.crisis,
        "envelopes": y.envelopes.iter().map(envelope_json).collect::<Vec<_>>(),
        "total_eur": eur(y.total),
        "total_cents": y.total.cents(),
        "maximum_eur": eur(y.maximum),
        "published_maximum_eur": eur(rules.published_maximum(s.size)),
        "population_change_rule": {
            "policy": rules.population_change.policy,
            "description": rules.population_change.description,
            "unverified": rules.population_change.unverified,
        },
        "unverified": rules.unverified().into_iter().map(|(rule, reason)| json!({"rule": rule, "reason": reason})).collect::<Vec<_>>(),
    })
}

fn print_simulation(rules: &RuleSet, s: &Scenario, y: &YearFunding, args: &SimulateArgs) {
    println!(
        "{} ({}): {}, contract year {}, achievement {}, crisis: {}",
        rules.title,
        rules.id,
        s.size,
        s.contract_year,
        s.achievement,
        if s.crisis { "yes" } else { "no" }
    );
    println!();
    let mut rows: Vec<Vec<String>> = y
        .envelopes
        .iter()
        .map(|e| {
            vec![
                e.mission.to_string(),
                euros_cell(e.fixed),
                euros_cell(e.variable),
                euros_cell(e.total),
                e.achievement.map(|r| r.percent_string()).unwrap_or_default(),
            ]
        })
        .collect();
    rows.push(vec!["total".into(), String::new(), String::new(), euros_cell(y.total), String::new()]);
    print!("{}", table(&["mission", "fixed €", "variable €", "total €", "achievement"], &rows));
    println!();
    println!(
        "maximum per year, {}: {} € (published: {} €)",
        s.size,
        euros_cell(y.maximum),
        euros_cell(rules.published_maximum(s.size))
    );
    let pc = &rules.population_change;
    println!("population crossing a threshold: {}", pc.description);
    if let Some(why) = &pc.unverified {
        println!("  UNVERIFIED: {why}");
    }
    if args.explain {
        println!();
        for e in &y.envelopes {
            println!("{} ({}):", e.mission, e.label);
            for x in &e.explanations {
                let src = x.source.as_deref().map(|s| format!(" [source: {s}]")).unwrap_or_default();
                println!("  - {}{src}", x.en());
            }
        }
    }
    let unverified = rules.unverified();
    if !unverified.is_empty() {
        println!();
        println!("{} UNVERIFIED entries in this rule set: see `maillage aci rules {}`", unverified.len(), rules.id);
    }
}

fn run_rules(args: &RulesArgs, format: Format) -> crate::CliResult {
    let Some(name) = &args.rules else {
        let all = rules::embedded_all()?;
        match format {
            Format::Json => print_json(
                &all.iter()
                    .map(|r| {
                        json!({
                            "id": r.id,
                            "title": r.title,
                            "signed_on": r.signed_on,
                            "effective_from": r.effective_from,
                            "file": r.file,
                        })
                    })
                    .collect::<Vec<_>>(),
            )?,
            Format::Table => {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|r| vec![r.id.clone(), r.effective_from.to_string(), r.title.clone(), r.file.clone()])
                    .collect();
                print!("{}", table(&["id", "effective from", "title", "file"], &rows));
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let rules = load_rules(name)?;
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(&rules)?;
            v["maximum_by_size_eur"] = SIZES.iter().map(|s| eur(rules.maximum(*s))).collect();
            v["unverified"] =
                rules.unverified().into_iter().map(|(rule, reason)| json!({"rule": rule, "reason": reason})).collect();
            print_json(&v)?;
        }
        Format::Table => print_rules(&rules),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_rules(r: &RuleSet) {
    println!("{} ({}), file {}", r.title, r.id, r.file);
    println!("{}", r.text);
    let mark = |u: &Option<String>| if u.is_some() { " UNVERIFIED" } else { "" };
    println!(
        "signed {}, effective from {} [source: {}]{}",
        r.signed_on,
        r.effective_from,
        r.dates_source,
        mark(&r.dates_unverified)
    );
    println!("contract length: {} years [source: {}]", r.contract_years, r.contract_years_source);
    println!();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let row = |label: String, f: &rules::SizedFigures| {
        let mut cells = vec![label];
        cells.extend(f.amounts.iter().map(|a| euros_cell(*a)));
        cells.push(format!("{}{}", f.source, mark(&f.unverified)));
        cells
    };
    rows.push(row("fonctionnement".into(), &r.operating.figures));
    for m in r.missions.values() {
        match &m.funding {
            MissionFunding::FixedVariable { fixed, variable } => {
                rows.push(row(format!("{} fixed", m.mission), fixed));
                rows.push(row(format!("{} variable", m.mission), variable));
            }
            MissionFunding::CrisisPlan { plan_first_year, plan_update, crisis_occurrence } => {
                rows.push(row(format!("{} plan, year 1", m.mission), plan_first_year));
                rows.push(row(format!("{} plan update", m.mission), plan_update));
                rows.push(row(format!("{} crisis occurs", m.mission), crisis_occurrence));
            }
        }
    }
    let mut max = vec!["maximum (table)".to_owned()];
    max.extend(SIZES.iter().map(|s| euros_cell(r.maximum(*s))));
    max.push(String::new());
    rows.push(max);
    rows.push(row("maximum (published)".into(), &r.maximum.published));
    print!("{}", table(&["yearly amounts, €", "taille 1", "taille 2", "taille 3", "taille 4", "source"], &rows));
    println!();
    let t = &r.size_thresholds;
    println!(
        "size classes: taille 1 < {} ≤ taille 2 < {} ≤ taille 3 < {} ≤ taille 4 [source: {}]",
        thousands(t.t2_from),
        thousands(t.t3_from),
        thousands(t.t4_from),
        r.size_thresholds_source
    );
    println!(
        "population crossing a threshold: {} [source: {}]{}",
        r.population_change.description,
        r.population_change.source,
        mark(&r.population_change.unverified)
    );
    for m in r.missions.values() {
        let deadlines = match (m.start_within_months, m.deploy_within_months) {
            (Some(s), Some(d)) => format!("start within {s} months, deployed within {d} months"),
            (Some(s), None) => format!("start within {s} months"),
            (None, Some(d)) => format!("deployed within {d} months"),
            (None, None) => "no deadline".into(),
        };
        let category = match m.category {
            Category::Socle => "socle",
            Category::Optional => "optional",
        };
        println!("{} ({category}): {deadlines}", m.mission);
    }
    let p = &r.prorata;
    println!(
        "prorata by days when a mission starts during a year: fixed part {}, variable part {}, crisis plan {} \
         [source: {}]{}",
        yes_no(p.fixed),
        yes_no(p.variable),
        yes_no(p.crisis_plan),
        p.source,
        mark(&p.unverified)
    );
    let pay = &r.payment;
    println!(
        "payments: operating {}% at signature then {}% at each anniversary; fixed parts {}% in advance, balance at \
         the anniversary [source: {}]{}",
        pay.operating_at_signature_percent,
        pay.operating_advance_percent,
        pay.fixed_advance_percent,
        pay.source,
        mark(&pay.unverified)
    );
    if !r.other_figures.is_empty() {
        println!();
        println!("other published figures (not in the yearly computation):");
        for o in &r.other_figures {
            let amounts: Vec<String> = o.figures.amounts.iter().map(|a| euros_cell(*a)).collect();
            println!("  {}: {} — {}{}", o.key, amounts.join(" / "), o.label, mark(&o.figures.unverified));
        }
    }
    println!();
    println!("sources:");
    for s in r.sources.values() {
        println!("  {}: {} — {}", s.key, s.title, s.location);
    }
    let unverified = r.unverified();
    if !unverified.is_empty() {
        println!();
        println!("UNVERIFIED:");
        for (rule, reason) in unverified {
            println!("  {rule}: {reason}");
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
