//! Maillage's NIR, SIREN and SIRET verdicts against an independent implementation:
//! python-stdnum (`stdnum.fr.nir`, `stdnum.fr.siren`, `stdnum.fr.siret`), run through
//! `tools/idref/check.py`, pinned in `tools/idref/requirements.txt`.
//!
//! 10,000 candidates per kind, generated deterministically (seeded PRNG below): half valid by
//! construction (by the rules in `docs/identifiers.md`), half random or perturbed (one digit
//! changed, two neighbours swapped, random digits, wrong length, stray letters, structure
//! off). Every line must get the same verdict from both, except for documented differences:
//!
//! - NIR structure: stdnum checks only length, character classes (`2A`/`2B` allowed) and key.
//!   Maillage also rejects a first digit other than 1, 2, 3, 4, 7, 8, a birth month outside
//!   01–12, 20–42, 50–99 and département `00`. A line where stdnum says valid and Maillage
//!   rejects is accepted only if an independent check of those three rules (written here)
//!   fails and Maillage's reason is not the key.
//!
//! Rules on which both agree, and which the generated candidates exercise (counts asserted):
//! Corsican NIR keys (2A → 19, 2B → 18), provisional NIR (first digit 7/8), La Poste SIRET
//! (digit sum multiple of 5, head office 35600000000048 by Luhn), SIREN part of a SIRET
//! checked on its own. Separators: stdnum also drops dots, Maillage only whitespace, so no
//! candidate has dots.
//!
//! Run with `--nocapture` to see the agreement figures.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used)]

use maillage_core::ids::{Nir, Siren, Siret};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const PER_KIND: usize = 10_000;

/// splitmix64: small, deterministic, good enough to spread candidates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Luhn check digit for `payload`, written independently of the library: weights 2,1,2,1…
/// from the right of the payload, digit sums of the products.
fn luhn_digit(payload: &str) -> char {
    let mut total = 0;
    for (i, c) in payload.bytes().rev().enumerate() {
        let v = u32::from(c - b'0') * if i % 2 == 0 { 2 } else { 1 };
        total += v / 10 + v % 10;
    }
    char::from_digit((10 - total % 10) % 10, 10).unwrap()
}

fn luhn_ok(number: &str) -> bool {
    let (payload, last) = number.split_at(number.len() - 1);
    luhn_digit(payload).to_string() == last
}

/// NIR key of a 13-character body, 2A → 19 and 2B → 18.
fn nir_key(body: &str) -> String {
    let n: u64 = body.to_uppercase().replace("2A", "19").replace("2B", "18").parse().unwrap();
    format!("{:02}", 97 - n % 97)
}

fn substitute_digit(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let digit_positions: Vec<usize> = (0..chars.len()).filter(|&i| chars[i].is_ascii_digit()).collect();
    let i = digit_positions[rng.below(digit_positions.len() as u64) as usize];
    let v = chars[i].to_digit(10).unwrap();
    chars[i] = char::from_digit((v + 1 + rng.below(9) as u32) % 10, 10).unwrap();
    chars.into_iter().collect()
}

fn swap_neighbours(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = rng.below(chars.len() as u64 - 1) as usize;
    chars.swap(i, i + 1);
    chars.into_iter().collect()
}

fn wrong_length(rng: &mut Rng, s: &str) -> String {
    if rng.chance(50) { s[..s.len() - 1].to_owned() } else { format!("{s}{}", rng.digits(1)) }
}

fn stray_letter(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = rng.below(chars.len() as u64) as usize;
    chars[i] = *[b'X', b'O', b'A', b'-'].map(char::from).get(rng.below(4) as usize).unwrap();
    chars.into_iter().collect()
}

fn spaced(s: &str, groups: &[usize]) -> String {
    let mut out = String::new();
    let mut rest = s;
    for &g in groups {
        if !out.is_empty() {
            out.push(' ');
        }
        let (head, tail) = rest.split_at(g.min(rest.len()));
        out.push_str(head);
        rest = tail;
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------
// Candidates

fn nir_body(rng: &mut Rng) -> String {
    let sex = if rng.chance(85) { rng.pick(&["1", "2"]) } else { rng.pick(&["3", "4", "7", "8"]) };
    let month = match rng.below(10) {
        0 => format!("{}", 20 + rng.below(23)),
        1 => format!("{}", 50 + rng.below(50)),
        _ => format!("{:02}", 1 + rng.below(12)),
    };
    let dept = match rng.below(20) {
        0 => "2A".to_owned(),
        1 => "2B".to_owned(),
        2 => "20".to_owned(),
        3 => "99".to_owned(),
        4 => rng.pick(&["97", "98"]).to_owned(),
        _ => format!("{:02}", 1 + rng.below(95)),
    };
    format!("{sex}{}{month}{dept}{}", rng.digits(2), rng.digits(6))
}

fn valid_nir(rng: &mut Rng) -> String {
    let body = nir_body(rng);
    let key = nir_key(&body);
    let s = format!("{body}{key}");
    match rng.below(10) {
        0 => spaced(&s, &[1, 2, 2, 2, 3, 3]),
        1 => s.to_lowercase(),
        _ => s,
    }
}

fn other_nir(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => {
            let v = valid_nir(rng);
            substitute_digit(rng, &v)
        }
        1 => {
            let v = valid_nir(rng);
            swap_neighbours(rng, &v)
        }
        2 => {
            let mut s = rng.digits(15);
            if rng.chance(20) {
                s.replace_range(5..7, rng.pick(&["2A", "2B"]));
            }
            s
        }
        3 | 4 => {
            // Structure off (any first digit, month, département), key right.
            let body = format!("{}{}{}{}", rng.digits(1), rng.digits(2), rng.digits(2), rng.digits(8));
            let key = nir_key(&body);
            format!("{body}{key}")
        }
        5 => {
            let v = valid_nir(rng).replace(' ', "");
            wrong_length(rng, &v)
        }
        6 => {
            let v = valid_nir(rng).replace(' ', "");
            stray_letter(rng, &v)
        }
        _ => {
            let mut s = valid_nir(rng).replace(' ', "");
            s.replace_range(5..7, rng.pick(&["2C", "A2", "BB", "2O"]));
            s
        }
    }
}

fn valid_siren(rng: &mut Rng) -> String {
    let payload = rng.digits(8);
    let s = format!("{payload}{}", luhn_digit(&payload));
    if rng.chance(10) { spaced(&s, &[3, 3]) } else { s }
}

fn other_siren(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => {
            let v = valid_siren(rng);
            substitute_digit(rng, &v)
        }
        1 => {
            let v = valid_siren(rng).replace(' ', "");
            swap_neighbours(rng, &v)
        }
        2 => rng.digits(9),
        3 => {
            let v = valid_siren(rng).replace(' ', "");
            wrong_length(rng, &v)
        }
        _ => {
            let v = valid_siren(rng).replace(' ', "");
            stray_letter(rng, &v)
        }
    }
}

fn la_poste_siret(rng: &mut Rng) -> String {
    let head = format!("356000000{}", rng.digits(4));
    let sum: u32 = head.chars().map(|c| c.to_digit(10).unwrap()).sum();
    let last = (5 - sum % 5) % 5 + if rng.chance(50) { 5 } else { 0 };
    format!("{head}{last}")
}

fn valid_siret(rng: &mut Rng) -> String {
    let s = match rng.below(20) {
        0..=2 => la_poste_siret(rng),
        3 => "35600000000048".to_owned(),
        _ => {
            let siren = valid_siren(rng).replace(' ', "");
            let payload = format!("{siren}{}", rng.digits(4));
            format!("{payload}{}", luhn_digit(&payload))
        }
    };
    if rng.chance(10) { spaced(&s, &[3, 3, 3]) } else { s }
}

fn other_siret(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => {
            let v = valid_siret(rng);
            substitute_digit(rng, &v)
        }
        1 => {
            let v = valid_siret(rng).replace(' ', "");
            swap_neighbours(rng, &v)
        }
        2 => rng.digits(14),
        3 => format!("356000000{}", rng.digits(5)),
        4 => {
            // The 14 digits satisfy Luhn, but the SIREN part does not.
            let siren = loop {
                let s = rng.digits(9);
                if !luhn_ok(&s) {
                    break s;
                }
            };
            let payload = format!("{siren}{}", rng.digits(4));
            format!("{payload}{}", luhn_digit(&payload))
        }
        5 => {
            // La Poste numbers that satisfy Luhn (only the head office may).
            let payload = format!("356000000{}", rng.digits(4));
            format!("{payload}{}", luhn_digit(&payload))
        }
        6 => {
            let v = valid_siret(rng).replace(' ', "");
            wrong_length(rng, &v)
        }
        _ => {
            let v = valid_siret(rng).replace(' ', "");
            stray_letter(rng, &v)
        }
    }
}

fn candidates() -> Vec<(&'static str, String)> {
    let mut out = Vec::with_capacity(3 * PER_KIND);
    type Gen = fn(&mut Rng) -> String;
    let kinds: [(&str, u64, Gen, Gen); 3] = [
        ("nir", 0x4E49_5200, valid_nir, other_nir),
        ("siren", 0x5349_5245, valid_siren, other_siren),
        ("siret", 0x5349_5254, valid_siret, other_siret),
    ];
    for (kind, seed, valid, other) in kinds {
        let mut rng = Rng(seed);
        for i in 0..PER_KIND {
            let value = if i % 2 == 0 { valid(&mut rng) } else { other(&mut rng) };
            assert!(!value.contains('\t') && !value.contains('\n') && !value.contains('.'));
            out.push((kind, value));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Running the reference

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pinned_stdnum() -> String {
    let path = workspace_root().join("tools/idref/requirements.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("python-stdnum=="))
        .unwrap_or_else(|| panic!("{} pins no python-stdnum==<version>", path.display()))
        .to_owned()
}

fn require_stdnum() {
    let pinned = pinned_stdnum();
    let ok =
        Command::new("python3").args(["-c", "import stdnum"]).output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "install python-stdnum (pip install {pinned})");
}

/// Deletes the candidates file however the test ends.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn stdnum_verdicts(lines: &[(&str, String)]) -> (Vec<String>, String) {
    let file = TempFile(std::env::temp_dir().join(format!("maillage-idref-{}.tsv", std::process::id())));
    let mut text = String::new();
    for (kind, value) in lines {
        writeln!(text, "{kind}\t{value}").unwrap();
    }
    std::fs::write(&file.0, text).unwrap();
    let script = workspace_root().join("tools/idref/check.py");
    let out = Command::new("python3").arg(&script).arg(&file.0).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert!(out.status.success(), "{} failed ({}): {stderr}", script.display(), out.status);
    let verdicts: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(verdicts.len(), lines.len(), "one verdict per line expected");
    (verdicts, stderr)
}

fn ours(kind: &str, value: &str) -> Result<(), String> {
    match kind {
        "nir" => Nir::parse(value).map(|_| ()),
        "siren" => Siren::parse(value).map(|_| ()),
        "siret" => Siret::parse(value).map(|_| ()),
        _ => unreachable!(),
    }
    .map_err(|e| e.en)
}

/// Independent statement of the NIR structure rules stdnum does not check. Only called on
/// values stdnum accepts (15 characters, digits but 2A/2B at 6–7).
fn nir_structure_fails(value: &str) -> bool {
    let s: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    let sex_ok = matches!(&s[..1], "1" | "2" | "3" | "4" | "7" | "8");
    let month: u32 = s[3..5].parse().unwrap();
    let month_ok = (1..=12).contains(&month) || (20..=42).contains(&month) || (50..=99).contains(&month);
    let dept_ok = &s[5..7] != "00";
    !(sex_ok && month_ok && dept_ok)
}

#[derive(Default)]
struct Tally {
    lines: usize,
    same: usize,
    same_valid: usize,
    documented: usize,
    disagreements: Vec<String>,
}

#[test]
fn verdicts_agree_with_python_stdnum() {
    require_stdnum();
    let lines = candidates();
    let (verdicts, version) = stdnum_verdicts(&lines);
    let pinned = pinned_stdnum();
    let pinned_version = pinned.trim_start_matches("python-stdnum==");
    if version != format!("stdnum {pinned_version}") {
        eprintln!("note: running {version}, tools/idref/requirements.txt pins {pinned}");
    }

    let mut tallies: Vec<(&str, Tally)> =
        vec![("nir", Tally::default()), ("siren", Tally::default()), ("siret", Tally::default())];
    let (mut corsica_valid, mut provisional_valid, mut la_poste_valid, mut la_poste_invalid) = (0, 0, 0, 0);
    for (line, ((kind, value), theirs)) in lines.iter().zip(&verdicts).enumerate() {
        let tally = &mut tallies.iter_mut().find(|(k, _)| k == kind).unwrap().1;
        tally.lines += 1;
        let mine = ours(kind, value);
        let theirs_valid = theirs == "valid";
        let compact = value.replace(' ', "").to_uppercase();
        if mine.is_ok() == theirs_valid {
            tally.same += 1;
            if theirs_valid {
                tally.same_valid += 1;
                if *kind == "nir" && (compact[5..7] == *"2A" || compact[5..7] == *"2B") {
                    corsica_valid += 1;
                }
                if *kind == "nir" && matches!(&compact[..1], "7" | "8") {
                    provisional_valid += 1;
                }
            }
            if *kind == "siret" && compact.starts_with("356000000") && compact.len() == 14 {
                if theirs_valid { la_poste_valid += 1 } else { la_poste_invalid += 1 }
            }
            continue;
        }
        let documented = match (&mine, *kind) {
            (Err(reason), "nir") if theirs_valid => {
                nir_structure_fails(value) && !reason.starts_with("check digit mismatch")
            }
            _ => false,
        };
        if documented {
            tally.documented += 1;
        } else {
            tally.disagreements.push(format!(
                "line {}: {kind} {value:?}: stdnum says {theirs}, Maillage says {}",
                line + 1,
                match &mine {
                    Ok(()) => "valid".to_owned(),
                    Err(e) => format!("invalid ({e})"),
                }
            ));
        }
    }

    println!("reference: {version} (pinned {pinned})");
    for (kind, t) in &tallies {
        println!(
            "{kind:>5}: {} candidates, {} same verdict ({} valid for both), {} documented differences, {} disagreements",
            t.lines,
            t.same,
            t.same_valid,
            t.documented,
            t.disagreements.len()
        );
    }
    println!(
        "exercised: {corsica_valid} Corsican NIR and {provisional_valid} provisional NIR valid for both; \
         La Poste SIRET: {la_poste_valid} valid and {la_poste_invalid} invalid for both"
    );

    let all: Vec<&String> = tallies.iter().flat_map(|(_, t)| &t.disagreements).collect();
    assert!(
        all.is_empty(),
        "{} disagreements with python-stdnum; first ones:\n{}",
        all.len(),
        all.iter().take(20).map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    for (kind, t) in &tallies {
        assert_eq!(t.lines, PER_KIND, "{kind}");
        assert!(t.same_valid >= PER_KIND / 3, "{kind}: too few valid candidates to mean anything");
        assert!(t.lines - t.same_valid - t.documented >= PER_KIND / 3, "{kind}: too few invalid candidates");
    }
    assert!(corsica_valid > 100 && provisional_valid > 100, "Corsican and provisional NIR must be exercised");
    assert!(la_poste_valid > 100 && la_poste_invalid > 100, "La Poste SIRET must be exercised");
    assert!(tallies[0].1.documented > 100, "the NIR structure difference must be exercised");
}
