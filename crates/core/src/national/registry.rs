//! The national registry: every CPTS of the instance, its territory and its dated states, and the
//! `;`-separated CSV file that carries the whole registry in and out.
//!
//! The file (described column by column in `docs/national.md`) has one line per CPTS:
//!
//! ```text
//! id;nom;finess;siren;etat;depuis;communes;debut_projet;lettre_intention;projet_en_construction;projet_valide
//! cpts-blois;CPTS du Blaisois;410008957;812345676;aci_signe;2021-06-15;41018|41295;2019-03-01;;2020-01-10;2021-02-01
//! ```
//!
//! [`parse_registry`] checks every cell of every line and refuses the whole file if anything is
//! wrong, listing each fault once with its line, its column and the reason in French and in
//! English. [`write_registry`] writes a file that [`parse_registry`] reads back to the same
//! registry.

use crate::ids::{Finess, IdError, InseeCode, Siren};
use crate::refdata::Reference;
use crate::territory::{Territory, TerritoryError};
use crate::text::fold_for_search;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Where a CPTS stands on its way to the ACI, in the order it goes (seed 004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CptsState {
    /// Professionals have started to meet; nothing is validated yet.
    DebutProjet,
    /// The ARS has validated the letter of intent (and may fund the project's start).
    LettreIntention,
    /// The *projet de santé* is being written.
    ProjetEnConstruction,
    /// The ARS has validated the *projet de santé*.
    ProjetValide,
    /// The ACI (contract with CPAM and ARS) is signed.
    AciSigne,
}

impl CptsState {
    pub const ALL: [CptsState; 5] = [
        CptsState::DebutProjet,
        CptsState::LettreIntention,
        CptsState::ProjetEnConstruction,
        CptsState::ProjetValide,
        CptsState::AciSigne,
    ];

    /// Position in [`ALL`](Self::ALL), 0 to 4.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The code used in files and URLs: `debut_projet`, `lettre_intention`,
    /// `projet_en_construction`, `projet_valide`, `aci_signe`.
    pub fn code(self) -> &'static str {
        match self {
            Self::DebutProjet => "debut_projet",
            Self::LettreIntention => "lettre_intention",
            Self::ProjetEnConstruction => "projet_en_construction",
            Self::ProjetValide => "projet_valide",
            Self::AciSigne => "aci_signe",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::DebutProjet => "début de projet",
            Self::LettreIntention => "lettre d'intention validée",
            Self::ProjetEnConstruction => "projet de santé en construction",
            Self::ProjetValide => "projet de santé validé",
            Self::AciSigne => "ACI signé",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Self::DebutProjet => "project starting",
            Self::LettreIntention => "letter of intent validated",
            Self::ProjetEnConstruction => "health project being written",
            Self::ProjetValide => "health project validated",
            Self::AciSigne => "ACI signed",
        }
    }

    /// The group of the seed 004 table this state is counted in.
    pub fn stage(self) -> Stage {
        match self {
            Self::DebutProjet | Self::LettreIntention => Stage::Starting,
            Self::ProjetEnConstruction => Stage::Building,
            Self::ProjetValide => Stage::Project,
            Self::AciSigne => Stage::Signed,
        }
    }

    /// Reads a code (`aci_signe`) or a French label (`ACI signé`, `Projet de santé validé`),
    /// ignoring case, accents, surrounding spaces and the typographic apostrophe (`’`).
    pub fn parse(text: &str) -> Option<CptsState> {
        let folded = fold_for_search(&text.replace('’', "'"));
        let key = folded.replace([' ', '-'], "_");
        Self::ALL.into_iter().find(|s| s.code() == key || fold_for_search(s.fr()) == folded)
    }
}

impl fmt::Display for CptsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The four groups of the national table of seed 004 (30 October 2023: 556 signataires ACI,
/// 30 avec un projet de santé, 161 en construction du projet de santé, 55 en début de projet).
/// A validated letter of intent counts as a start: the projet de santé is not being written yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Starting,
    Building,
    Project,
    Signed,
}

impl Stage {
    /// In the order of the seed's table: signed first.
    pub const ALL: [Stage; 4] = [Stage::Signed, Stage::Project, Stage::Building, Stage::Starting];

    pub fn code(self) -> &'static str {
        match self {
            Self::Signed => "signees",
            Self::Project => "projet_valide",
            Self::Building => "en_construction",
            Self::Starting => "demarrage",
        }
    }

    /// As the seed's table words it, after a count: « 556 CPTS signataires de l'ACI ».
    pub fn fr(self) -> &'static str {
        match self {
            Self::Signed => "signataires de l'ACI",
            Self::Project => "avec un projet de santé validé",
            Self::Building => "en construction du projet de santé",
            Self::Starting => "en début de projet",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Self::Signed => "ACI signed",
            Self::Project => "health project validated",
            Self::Building => "health project being written",
            Self::Starting => "starting",
        }
    }
}

/// A CPTS entered `state` on `on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StateChange {
    pub on: NaiveDate,
    pub state: CptsState,
}

/// One CPTS of the national registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredCpts {
    /// The registry's own key (letters, digits, `-`, `_`, `.`; at most 64).
    pub id: String,
    pub name: String,
    /// FINESS of the CPTS as an establishment, once it has one.
    pub finess: Option<Finess>,
    /// SIREN of the association.
    pub siren: Option<Siren>,
    /// The territory: current communes, or municipal arrondissements in Paris, Lyon and Marseille
    /// (a whole city stands for all its arrondissements). The territory in force today: the
    /// registry does not date territory changes.
    pub communes: Vec<InseeCode>,
    /// The states it went through, oldest first: dates never decrease and each state comes
    /// after the previous one in [`CptsState`] order (states may be skipped, e.g. when the
    /// earlier dates are unknown). See [`RegisteredCpts::check_history`].
    pub history: Vec<StateChange>,
}

/// Why a history is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryError {
    Empty,
    /// Entry `index` is dated before the previous one.
    NotChronological {
        index: usize,
    },
    /// Entry `index` does not come after the previous one in the order of states.
    StateGoesBack {
        index: usize,
    },
}

impl HistoryError {
    pub fn fr(&self) -> String {
        match self {
            Self::Empty => "l'historique ne compte aucun état".into(),
            Self::NotChronological { index } => {
                format!("l'état n° {} de l'historique est daté avant le précédent", index + 1)
            }
            Self::StateGoesBack { index } => {
                format!("l'état n° {} de l'historique ne suit pas le précédent dans l'ordre des états", index + 1)
            }
        }
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the history has no state"),
            Self::NotChronological { index } => {
                write!(f, "history entry {} is dated before the previous one", index + 1)
            }
            Self::StateGoesBack { index } => {
                write!(f, "history entry {} does not come after the previous one in the order of states", index + 1)
            }
        }
    }
}

impl std::error::Error for HistoryError {}

impl RegisteredCpts {
    /// The state in force on `date` (`None` before the first known state: the CPTS is not
    /// counted on that date).
    pub fn state_on(&self, date: NaiveDate) -> Option<CptsState> {
        self.change_on(date).map(|c| c.state)
    }

    /// The last change made on or before `date`: the state then and since when.
    pub fn change_on(&self, date: NaiveDate) -> Option<&StateChange> {
        self.history.iter().rev().find(|c| c.on <= date)
    }

    /// The latest state and its date.
    pub fn current(&self) -> Option<&StateChange> {
        self.history.last()
    }

    /// Checks that the history is non-empty, chronological and moves forward through the states.
    pub fn check_history(&self) -> Result<(), HistoryError> {
        if self.history.is_empty() {
            return Err(HistoryError::Empty);
        }
        for (i, w) in self.history.windows(2).enumerate() {
            if w[1].on < w[0].on {
                return Err(HistoryError::NotChronological { index: i + 1 });
            }
            if w[1].state <= w[0].state {
                return Err(HistoryError::StateGoesBack { index: i + 1 });
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The CSV file

/// A column of the registry file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Column {
    Id,
    Nom,
    Finess,
    Siren,
    Etat,
    Depuis,
    Communes,
    /// The date the CPTS entered an earlier state (`debut_projet`, `lettre_intention`,
    /// `projet_en_construction`, `projet_valide`).
    EnteredOn(CptsState),
}

impl Column {
    /// Every column, in the order [`write_registry`] writes them.
    pub const ALL: [Column; 11] = [
        Column::Id,
        Column::Nom,
        Column::Finess,
        Column::Siren,
        Column::Etat,
        Column::Depuis,
        Column::Communes,
        Column::EnteredOn(CptsState::DebutProjet),
        Column::EnteredOn(CptsState::LettreIntention),
        Column::EnteredOn(CptsState::ProjetEnConstruction),
        Column::EnteredOn(CptsState::ProjetValide),
    ];

    /// Columns a file must have.
    pub const REQUIRED: [Column; 5] = [Column::Id, Column::Nom, Column::Etat, Column::Depuis, Column::Communes];

    /// The header name.
    pub fn header(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Nom => "nom",
            Self::Finess => "finess",
            Self::Siren => "siren",
            Self::Etat => "etat",
            Self::Depuis => "depuis",
            Self::Communes => "communes",
            Self::EnteredOn(s) => s.code(),
        }
    }

    /// Reads a header name, ignoring case, accents and surrounding spaces (`État` is `etat`).
    fn from_header(text: &str) -> Option<Column> {
        let key = fold_for_search(text).replace([' ', '-'], "_");
        Self::ALL.into_iter().find(|c| c.header() == key)
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header())
    }
}

/// A fault of the file: a line (1 = the header), the column when one is at fault, the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    /// The column's header name (as written in the file for an unknown column).
    pub column: Option<String>,
    /// Machine-readable reason: `empty_file`, `unknown_column`, `duplicate_column`,
    /// `missing_column`, `field_count`, `quote`, `missing`, `invalid`, `duplicate`, `commune`,
    /// `history`.
    pub code: &'static str,
    pub fr: String,
    pub en: String,
}

impl LineError {
    fn new(
        line: usize,
        column: Option<&str>,
        code: &'static str,
        fr: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self { line, column: column.map(str::to_owned), code, fr: fr.into(), en: en.into() }
    }

    /// The fault in French, with its place: « ligne 3, colonne communes : … ».
    pub fn fr_located(&self) -> String {
        match &self.column {
            Some(c) => format!("ligne {}, colonne {c} : {}", self.line, self.fr),
            None => format!("ligne {} : {}", self.line, self.fr),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.en),
            None => write!(f, "line {}: {}", self.line, self.en),
        }
    }
}

impl std::error::Error for LineError {}

/// Field separator of the file (French spreadsheets write `;`).
pub const SEPARATOR: char = ';';
/// Separator of the codes in the `communes` cell when writing (`,` and spaces are read too).
pub const COMMUNE_SEPARATOR: char = '|';
const MAX_NAME: usize = 200;
const MAX_ID: usize = 64;

/// Splits one line into fields: `;`-separated, double quotes as in RFC 4180 (`""` inside a
/// quoted field), no line break inside a field. Unquoted fields are trimmed.
fn split_line(line: &str, number: usize) -> Result<Vec<String>, LineError> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let (mut quoted, mut was_quoted) = (false, false);
    let quote_error = |n: usize, fr: &str, en: &str| {
        LineError::new(number, None, "quote", format!("champ {n} : {fr}"), format!("field {n}: {en}"))
    };
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == SEPARATOR {
            fields.push(if was_quoted { std::mem::take(&mut field) } else { field.trim().to_owned() });
            field.clear();
            was_quoted = false;
        } else if was_quoted {
            if !c.is_whitespace() {
                return Err(quote_error(
                    fields.len() + 1,
                    "du texte suit le guillemet fermant",
                    "text after the closing quote",
                ));
            }
        } else if c == '"' {
            if !field.trim().is_empty() {
                return Err(quote_error(
                    fields.len() + 1,
                    "un guillemet au milieu d'un champ sans guillemets (doublez-le dans un champ entre guillemets)",
                    "a quote inside an unquoted field (double it inside a quoted field)",
                ));
            }
            field.clear();
            quoted = true;
            was_quoted = true;
        } else {
            field.push(c);
        }
    }
    if quoted {
        return Err(quote_error(
            fields.len() + 1,
            "guillemet non fermé (un champ ne peut pas contenir de retour à la ligne)",
            "unclosed quote (a field cannot hold a line break)",
        ));
    }
    fields.push(if was_quoted { field } else { field.trim().to_owned() });
    Ok(fields)
}

/// A date written `2021-06-15` or `15/06/2021`, years 2000 to 2100.
fn parse_date(text: &str) -> Result<NaiveDate, (String, String)> {
    let t = text.trim();
    let date = NaiveDate::parse_from_str(t, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"));
    match date {
        Ok(d) if (2000..=2100).contains(&chrono::Datelike::year(&d)) => Ok(d),
        Ok(_) => Err((
            format!("date « {t} » hors de la plage 2000–2100"),
            format!("date \"{t}\" outside the years 2000–2100"),
        )),
        Err(_) => Err((
            format!("« {t} » n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)"),
            format!("\"{t}\" is not a date (YYYY-MM-DD or DD/MM/YYYY)"),
        )),
    }
}

/// The cells of one data line, by column.
struct Cells<'a> {
    line: usize,
    by_column: BTreeMap<Column, &'a str>,
    errors: Vec<LineError>,
}

impl<'a> Cells<'a> {
    /// The cell, trimmed (even when it was quoted); empty when the column is absent.
    fn get(&self, c: Column) -> &'a str {
        self.by_column.get(&c).map_or("", |v| v.trim())
    }

    fn fault(&mut self, c: Column, code: &'static str, fr: impl Into<String>, en: impl Into<String>) {
        self.errors.push(LineError::new(self.line, Some(c.header()), code, fr, en));
    }

    fn required(&mut self, c: Column) -> Option<&'a str> {
        let v = self.get(c);
        if v.is_empty() {
            self.fault(c, "missing", "valeur obligatoire manquante", "required value missing");
            return None;
        }
        Some(v)
    }

    fn identifier<T>(&mut self, c: Column, parse: fn(&str) -> Result<T, IdError>) -> Option<T> {
        let v = self.get(c);
        if v.is_empty() {
            return None;
        }
        match parse(v) {
            Ok(id) => Some(id),
            Err(e) => {
                self.fault(c, "invalid", e.fr, e.en);
                None
            }
        }
    }

    fn date(&mut self, c: Column, v: &str) -> Option<NaiveDate> {
        match parse_date(v) {
            Ok(d) => Some(d),
            Err((fr, en)) => {
                self.fault(c, "invalid", fr, en);
                None
            }
        }
    }
}

fn check_id(id: &str) -> Result<(), (String, String)> {
    if id.chars().count() > MAX_ID {
        return Err((format!("au plus {MAX_ID} caractères"), format!("at most {MAX_ID} characters")));
    }
    if let Some((i, c)) = id.chars().enumerate().find(|(_, c)| !(c.is_ascii_alphanumeric() || "-_.".contains(*c))) {
        return Err((
            format!(
                "caractère « {c} » en position {} : seuls lettres sans accent, chiffres, -, _ et . sont admis",
                i + 1
            ),
            format!("character '{c}' at position {}: only ASCII letters, digits, -, _ and . are allowed", i + 1),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), (String, String)> {
    if name.chars().count() > MAX_NAME {
        return Err((format!("au plus {MAX_NAME} caractères"), format!("at most {MAX_NAME} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(("caractère de contrôle dans le nom".into(), "control character in the name".into()));
    }
    Ok(())
}

/// The codes of a `communes` cell: separated by `|`, `,` or spaces.
fn commune_codes(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(|c: char| c == '|' || c == ',' || c.is_whitespace()).filter(|s| !s.is_empty())
}

fn parse_line(cells: &mut Cells<'_>, reference: &Reference) -> Option<RegisteredCpts> {
    let id = cells.required(Column::Id).map(str::to_owned);
    if let Some(v) = &id
        && let Err((fr, en)) = check_id(v)
    {
        cells.fault(Column::Id, "invalid", fr, en);
    }
    let name = cells.required(Column::Nom).map(str::to_owned);
    if let Some(v) = &name
        && let Err((fr, en)) = check_name(v)
    {
        cells.fault(Column::Nom, "invalid", fr, en);
    }
    let finess = cells.identifier(Column::Finess, Finess::parse);
    let siren = cells.identifier(Column::Siren, Siren::parse);

    let state = cells.required(Column::Etat).and_then(|v| {
        let s = CptsState::parse(v);
        if s.is_none() {
            let codes: Vec<&str> = CptsState::ALL.iter().map(|s| s.code()).collect();
            cells.fault(
                Column::Etat,
                "invalid",
                format!("état « {v} » inconnu (attendu : {})", codes.join(", ")),
                format!("unknown state \"{v}\" (expected one of: {})", codes.join(", ")),
            );
        }
        s
    });
    let since = cells.required(Column::Depuis).and_then(|v| cells.date(Column::Depuis, v));

    // Earlier states, in order, then the current one.
    let mut history: Vec<(Column, StateChange)> = Vec::new();
    for earlier in
        [CptsState::DebutProjet, CptsState::LettreIntention, CptsState::ProjetEnConstruction, CptsState::ProjetValide]
    {
        let column = Column::EnteredOn(earlier);
        let v = cells.get(column);
        if v.is_empty() {
            continue;
        }
        if let Some(current) = state
            && earlier >= current
        {
            cells.fault(
                column,
                "history",
                format!(
                    "la CPTS est à l'état « {} » : une date d'entrée dans l'état « {} », qui n'est pas antérieur, \
                     ne peut pas figurer ici",
                    current.fr(),
                    earlier.fr()
                ),
                format!(
                    "the CPTS is at state \"{}\": a date for state \"{}\", which does not come before it, cannot be given",
                    current.code(),
                    earlier.code()
                ),
            );
            continue;
        }
        if let Some(on) = cells.date(column, v) {
            history.push((column, StateChange { on, state: earlier }));
        }
    }
    if let (Some(state), Some(on)) = (state, since) {
        history.push((Column::Depuis, StateChange { on, state }));
    }
    for w in history.windows(2) {
        let ((_, before), (column, after)) = (&w[0], &w[1]);
        if after.on < before.on {
            cells.fault(
                *column,
                "history",
                format!(
                    "l'entrée dans l'état « {} » ({}) est datée avant celle dans l'état « {} » ({})",
                    after.state.fr(),
                    after.on,
                    before.state.fr(),
                    before.on
                ),
                format!(
                    "state \"{}\" is entered on {}, before state \"{}\" ({})",
                    after.state.code(),
                    after.on,
                    before.state.code(),
                    before.on
                ),
            );
        }
    }

    let mut communes = Vec::new();
    if let Some(cell) = cells.required(Column::Communes) {
        match Territory::new(reference, commune_codes(cell)) {
            Ok(_) => communes = commune_codes(cell).filter_map(|c| InseeCode::parse(c).ok()).collect(),
            Err(TerritoryError::Empty) => {
                cells.fault(Column::Communes, "missing", "aucune commune", "no commune");
            }
            Err(TerritoryError::Invalid(problems)) => {
                for p in problems {
                    cells.fault(Column::Communes, "commune", p.fr(), p.to_string());
                }
            }
        }
    }

    if !cells.errors.is_empty() {
        return None;
    }
    Some(RegisteredCpts {
        id: id?,
        name: name?,
        finess,
        siren,
        communes,
        history: history.into_iter().map(|(_, c)| c).collect(),
    })
}

/// Reads a whole registry file (see the module documentation and `docs/national.md`).
///
/// A UTF-8 byte-order mark, `\r\n` line ends and blank lines are accepted; the header is read by
/// name (any order, case and accents ignored). Every commune must be a current commune of
/// `reference` (or a municipal arrondissement). Ids, FINESS and SIREN numbers must be unique in
/// the file. Any fault refuses the whole file: the result lists them all, in line order.
pub fn parse_registry(text: &str, reference: &Reference) -> Result<Vec<RegisteredCpts>, Vec<LineError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let Some((header_line, head)) = lines.by_ref().find(|(_, l)| !l.trim().is_empty()) else {
        let required: Vec<&str> = Column::REQUIRED.iter().map(|c| c.header()).collect();
        return Err(vec![LineError::new(
            1,
            None,
            "empty_file",
            format!("fichier vide : il faut au moins l'en-tête {}", required.join(";")),
            format!("empty file: expected at least the header {}", required.join(";")),
        )]);
    };

    let mut errors = Vec::new();
    let mut columns: Vec<Option<Column>> = Vec::new();
    match split_line(head, header_line) {
        Err(e) => errors.push(e),
        Ok(names) => {
            for name in &names {
                let column = Column::from_header(name);
                match column {
                    None => {
                        let known: Vec<&str> = Column::ALL.iter().map(|c| c.header()).collect();
                        errors.push(LineError::new(
                            header_line,
                            Some(name),
                            "unknown_column",
                            format!("colonne « {name} » inconnue (colonnes possibles : {})", known.join(", ")),
                            format!("unknown column \"{name}\" (known columns: {})", known.join(", ")),
                        ));
                    }
                    Some(c) if columns.contains(&Some(c)) => errors.push(LineError::new(
                        header_line,
                        Some(c.header()),
                        "duplicate_column",
                        "colonne présente deux fois",
                        "column appears twice",
                    )),
                    Some(_) => {}
                }
                columns.push(column);
            }
            for c in Column::REQUIRED {
                if !columns.contains(&Some(c)) {
                    errors.push(LineError::new(
                        header_line,
                        Some(c.header()),
                        "missing_column",
                        "colonne obligatoire absente de l'en-tête",
                        "required column missing from the header",
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut registry = Vec::new();
    let mut seen_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen_finess: BTreeMap<Finess, usize> = BTreeMap::new();
    let mut seen_siren: BTreeMap<Siren, usize> = BTreeMap::new();
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields = match split_line(line, number) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if fields.len() != columns.len() {
            errors.push(LineError::new(
                number,
                None,
                "field_count",
                format!("{} champs, l'en-tête a {} colonnes", fields.len(), columns.len()),
                format!("{} fields, the header has {} columns", fields.len(), columns.len()),
            ));
            continue;
        }
        let by_column = columns.iter().zip(&fields).filter_map(|(c, f)| Some(((*c)?, f.as_str()))).collect();
        let mut cells = Cells { line: number, by_column, errors: Vec::new() };
        let parsed = parse_line(&mut cells, reference);

        // Uniqueness across the file, checked even on a faulty line.
        let id = cells.get(Column::Id);
        if !id.is_empty() {
            if let Some(&first) = seen_id.get(id) {
                cells.fault(
                    Column::Id,
                    "duplicate",
                    format!("identifiant « {id} » déjà utilisé ligne {first}"),
                    format!("id \"{id}\" already used on line {first}"),
                );
            } else {
                seen_id.insert(id.to_owned(), number);
            }
        }
        if let Ok(f) = Finess::parse(cells.get(Column::Finess)) {
            if let Some(&first) = seen_finess.get(&f) {
                cells.fault(
                    Column::Finess,
                    "duplicate",
                    format!("FINESS {f} déjà donné ligne {first}"),
                    format!("FINESS {f} already given on line {first}"),
                );
            } else {
                seen_finess.insert(f, number);
            }
        }
        if let Ok(s) = Siren::parse(cells.get(Column::Siren)) {
            if let Some(&first) = seen_siren.get(&s) {
                cells.fault(
                    Column::Siren,
                    "duplicate",
                    format!("SIREN {s} déjà donné ligne {first}"),
                    format!("SIREN {s} already given on line {first}"),
                );
            } else {
                seen_siren.insert(s, number);
            }
        }
        if cells.errors.is_empty() {
            registry.extend(parsed);
        } else {
            errors.append(&mut cells.errors);
        }
    }
    if errors.is_empty() { Ok(registry) } else { Err(errors) }
}

fn push_field(out: &mut String, value: &str) {
    let needs_quotes = value.contains([SEPARATOR, '"', '\n', '\r']) || value.trim() != value;
    if needs_quotes {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Writes the registry in the file format [`parse_registry`] reads: every column, `;`-separated,
/// dates as `AAAA-MM-JJ`, communes separated by `|`, `\n` line ends.
///
/// The entries are expected to be valid (as [`parse_registry`] gives them): a history that
/// fails [`RegisteredCpts::check_history`] cannot be written faithfully (only its last entry
/// per state is kept).
pub fn write_registry(registry: &[RegisteredCpts]) -> String {
    let mut out = String::with_capacity(64 + registry.len() * 512);
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.header()).collect();
    out.push_str(&header.join(";"));
    out.push('\n');
    for cpts in registry {
        let current = cpts.current();
        for (i, column) in Column::ALL.into_iter().enumerate() {
            if i > 0 {
                out.push(SEPARATOR);
            }
            match column {
                Column::Id => push_field(&mut out, &cpts.id),
                Column::Nom => push_field(&mut out, &cpts.name),
                Column::Finess => out.push_str(cpts.finess.as_ref().map_or("", Finess::as_str)),
                Column::Siren => out.push_str(cpts.siren.as_ref().map_or("", Siren::as_str)),
                Column::Etat => out.push_str(current.map_or("", |c| c.state.code())),
                Column::Depuis => {
                    if let Some(c) = current {
                        out.push_str(&c.on.format("%Y-%m-%d").to_string());
                    }
                }
                Column::Communes => {
                    for (k, code) in cpts.communes.iter().enumerate() {
                        if k > 0 {
                            out.push(COMMUNE_SEPARATOR);
                        }
                        out.push_str(code.as_str());
                    }
                }
                Column::EnteredOn(state) => {
                    let earlier = &cpts.history[..cpts.history.len().saturating_sub(1)];
                    if let Some(c) = earlier.iter().rev().find(|c| c.state == state) {
                        out.push_str(&c.on.format("%Y-%m-%d").to_string());
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const HEAD: &str =
        "id;nom;finess;siren;etat;depuis;communes;debut_projet;lettre_intention;projet_en_construction;projet_valide";

    #[test]
    fn states_codes_labels_and_order() {
        for s in CptsState::ALL {
            assert_eq!(CptsState::parse(s.code()), Some(s));
            assert_eq!(CptsState::parse(s.fr()), Some(s));
            assert_eq!(CptsState::parse(&s.fr().to_uppercase()), Some(s));
        }
        assert_eq!(CptsState::parse("Lettre d’intention validée"), Some(CptsState::LettreIntention));
        assert_eq!(CptsState::parse(" Projet de sante valide "), Some(CptsState::ProjetValide));
        assert_eq!(CptsState::parse("aci-signe"), Some(CptsState::AciSigne));
        assert!(CptsState::DebutProjet < CptsState::AciSigne);
        assert_eq!(CptsState::LettreIntention.stage(), Stage::Starting);
        assert_eq!(CptsState::ProjetEnConstruction.stage(), Stage::Building);
    }

    #[test]
    fn state_on_a_date() {
        let c = RegisteredCpts {
            id: "a".into(),
            name: "A".into(),
            finess: None,
            siren: None,
            communes: vec![],
            history: vec![
                StateChange { on: d("2020-01-01"), state: CptsState::DebutProjet },
                StateChange { on: d("2021-01-01"), state: CptsState::ProjetValide },
                StateChange { on: d("2021-01-01"), state: CptsState::AciSigne },
            ],
        };
        assert_eq!(c.state_on(d("2019-12-31")), None);
        assert_eq!(c.state_on(d("2020-01-01")), Some(CptsState::DebutProjet));
        assert_eq!(c.state_on(d("2020-12-31")), Some(CptsState::DebutProjet));
        assert_eq!(c.state_on(d("2021-01-01")), Some(CptsState::AciSigne));
        assert_eq!(c.check_history(), Ok(()));
        let mut back = c.clone();
        back.history.swap(1, 2);
        assert_eq!(back.check_history(), Err(HistoryError::StateGoesBack { index: 2 }));
        let mut late = c.clone();
        late.history[0].on = d("2022-01-01");
        assert_eq!(late.check_history(), Err(HistoryError::NotChronological { index: 1 }));
    }

    #[test]
    fn parses_a_good_file() {
        let r = Reference::embedded();
        let text = format!(
            "\u{feff}{HEAD}\r\n\
             cpts-blois;\"CPTS du Blaisois; « Loir »\";;;ACI signé;15/06/2021;41018|41295, 41269;2019-03-01;;2020-01-10;2021-02-01\r\n\
             \r\n\
             paris-centre;CPTS Paris Centre;;;projet_en_construction;2024-02-01;75101 75102;;2023-06-01;;\n"
        );
        let reg = parse_registry(&text, r).unwrap();
        assert_eq!(reg.len(), 2);
        assert_eq!(reg[0].name, "CPTS du Blaisois; « Loir »");
        assert_eq!(reg[0].communes.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["41018", "41295", "41269"]);
        assert_eq!(reg[0].history.len(), 4);
        assert_eq!(reg[0].current().unwrap().state, CptsState::AciSigne);
        assert_eq!(reg[0].current().unwrap().on, d("2021-06-15"));
        assert_eq!(reg[1].history[0], StateChange { on: d("2023-06-01"), state: CptsState::LettreIntention });
        // Only the required columns, in another order.
        let min = "Communes;État;Depuis;Nom;ID\n41018;debut_projet;2025-01-01;CPTS X;x\n";
        let reg = parse_registry(min, r).unwrap();
        assert_eq!(reg[0].history, vec![StateChange { on: d("2025-01-01"), state: CptsState::DebutProjet }]);
        assert_eq!(parse_registry(&format!("{HEAD}\n"), r), Ok(vec![]));
    }

    #[test]
    fn documented_examples_parse() {
        let r = Reference::embedded();
        let module_doc = "id;nom;finess;siren;etat;depuis;communes;debut_projet;lettre_intention;projet_en_construction;projet_valide\n\
             cpts-blois;CPTS du Blaisois;410008957;812345676;aci_signe;2021-06-15;41018|41295;2019-03-01;;2020-01-10;2021-02-01\n";
        let docs = format!(
            "{HEAD}\n\
             cpts-blois;\"CPTS du Blaisois; Loir\";410008957;;aci_signe;2021-06-15;41018|41295|41047;2019-03-01;;2020-01-10;2021-02-01\n\
             paris-centre;CPTS Paris Centre;;;projet_en_construction;2024-02-01;75101|75102|75103|75104;;2023-06-01;;\n"
        );
        for text in [module_doc, docs.as_str()] {
            let reg = parse_registry(text, r).unwrap_or_else(|e| panic!("{e:#?}"));
            assert_eq!(write_registry(&reg).lines().count(), reg.len() + 1);
        }
    }

    #[test]
    fn reports_every_bad_line_and_cell() {
        let r = Reference::embedded();
        let text = format!(
            "{HEAD}\n\
             ok;CPTS bonne;;;aci_signe;2022-01-01;41018;;;;\n\
             ;;12345;;signée;2022-13-01;;;;;\n\
             ok;CPTS doublon;;;projet_valide;2022-01-01;41021,99999,75056,75101;;;;\n\
             b;B;;;projet_valide;2022-01-01;41018;2023-01-01;;;2022-06-01\n\
             c;C;;;lettre_intention;2022-01-01;41018;;;2021-01-01;\n\
             d;\"D\" x;;;aci_signe;2022-01-01;41018;;;;\n\
             e;E;;;aci_signe\n"
        );
        let errs = parse_registry(&text, r).unwrap_err();
        let found: Vec<(usize, Option<&str>, &str)> =
            errs.iter().map(|e| (e.line, e.column.as_deref(), e.code)).collect();
        let expect: Vec<(usize, Option<&str>, &str)> = vec![
            (3, Some("id"), "missing"),
            (3, Some("nom"), "missing"),
            (3, Some("finess"), "invalid"),
            (3, Some("etat"), "invalid"),
            (3, Some("depuis"), "invalid"),
            (3, Some("communes"), "missing"),
            (4, Some("communes"), "commune"),
            (4, Some("communes"), "commune"),
            (4, Some("communes"), "commune"),
            (4, Some("id"), "duplicate"),
            (5, Some("projet_valide"), "history"),
            (5, Some("depuis"), "history"),
            (6, Some("projet_en_construction"), "history"),
            (7, None, "quote"),
            (8, None, "field_count"),
        ];
        assert_eq!(found, expect, "{errs:#?}");
        let former = errs.iter().find(|e| e.line == 4 && e.fr.contains("ancienne commune")).expect("former commune");
        assert!(former.fr_located().starts_with("ligne 4, colonne communes : "), "{}", former.fr_located());
        assert!(errs[9].fr.contains("ligne 2"), "{}", errs[9].fr);
        assert!(errs[9].to_string().starts_with("line 4, column id: id \"ok\" already used on line 2"));
        assert!(errs.iter().any(|e| e.en.contains("75101 is part of 75056")), "{errs:#?}");
    }

    #[test]
    fn header_faults() {
        let r = Reference::embedded();
        let e = parse_registry("", r).unwrap_err();
        assert_eq!((e[0].line, e[0].code), (1, "empty_file"));
        let e = parse_registry("\n\nid;nom;etat;etat;commune;couleur\n", r).unwrap_err();
        let found: Vec<(usize, Option<&str>, &str)> = e.iter().map(|e| (e.line, e.column.as_deref(), e.code)).collect();
        assert_eq!(
            found,
            vec![
                (3, Some("etat"), "duplicate_column"),
                (3, Some("commune"), "unknown_column"),
                (3, Some("couleur"), "unknown_column"),
                (3, Some("depuis"), "missing_column"),
                (3, Some("communes"), "missing_column"),
            ]
        );
    }

    #[test]
    fn duplicate_identifiers_across_lines() {
        let r = Reference::embedded();
        let f = "410008957"; // valid Luhn
        let s = "732829320"; // valid Luhn
        assert!(Finess::parse(f).is_ok() && Siren::parse(s).is_ok());
        let text =
            format!("{HEAD}\na;A;{f};{s};aci_signe;2022-01-01;41018;;;;\nb;B;{f};{s};aci_signe;2022-01-01;41295;;;;\n");
        let e = parse_registry(&text, r).unwrap_err();
        let found: Vec<(usize, Option<&str>)> = e.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(found, vec![(3, Some("finess")), (3, Some("siren"))]);
    }

    /// A few valid FINESS/SIREN numbers: 8 digits then the key that makes `parse` accept them.
    fn with_key<T>(payload: &str, parse: fn(&str) -> Result<T, IdError>) -> T {
        (0..10).find_map(|k| parse(&format!("{payload}{k}")).ok()).unwrap()
    }

    fn arb_registry() -> impl Strategy<Value = Vec<RegisteredCpts>> {
        let communes: Vec<InseeCode> = Reference::embedded()
            .communes()
            .iter()
            .filter(|c| c.parent.is_none() && !["75056", "69123", "13055"].contains(&c.code.as_str()))
            .step_by(97)
            .map(|c| c.code)
            .collect();
        let one = (
            "[A-Za-zÉéèçà'«» ;\"-]{0,30}",
            any::<bool>(),
            any::<bool>(),
            proptest::sample::subsequence(communes, 1..6),
            proptest::sample::subsequence(CptsState::ALL.to_vec(), 1..=5),
            proptest::collection::vec(0u32..400, 5),
        );
        proptest::collection::vec(one, 0..8).prop_map(|items| {
            items
                .into_iter()
                .enumerate()
                .map(|(i, (name, has_finess, has_siren, communes, states, gaps))| {
                    let mut on = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap();
                    let history = states
                        .into_iter()
                        .zip(gaps)
                        .map(|(state, gap)| {
                            on = on + chrono::Days::new(u64::from(gap));
                            StateChange { on, state }
                        })
                        .collect();
                    let name = name.trim();
                    RegisteredCpts {
                        id: format!("cpts-{i}"),
                        name: if name.is_empty() { format!("CPTS {i}") } else { name.to_owned() },
                        finess: has_finess.then(|| with_key(&format!("41{:06}", 1000 + i), Finess::parse)),
                        siren: has_siren.then(|| with_key(&format!("{:08}", 81_000_000 + i), Siren::parse)),
                        communes,
                        history,
                    }
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn write_then_parse_gives_the_same_registry(registry in arb_registry()) {
            let text = write_registry(&registry);
            let back = parse_registry(&text, Reference::embedded());
            prop_assert_eq!(back.as_ref(), Ok(&registry), "{}", text);
        }
    }
}
