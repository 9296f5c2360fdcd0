//! The Annuaire Santé open-data extract `PS_LibreAcces_Personne_activite_YYYYMMDDhhmm.txt`:
//! one line per activity of a health professional (a person with two practice places, or two
//! specialties at one place, has several lines).
//!
//! Format (see `docs/directory.md` for every column and its source): UTF-8, one header line,
//! fields separated by `|`, no quoting (a field never contains `|`), each line ending with a
//! trailing `|`. Lines end with `\n` (`\r\n` is accepted too).
//!
//! Reading is zero-copy: an [`ActivityRecord`] borrows every field from the line, and
//! [`commune_of`] / [`ColumnMap::location`] find the commune and postal code without splitting
//! the rest of the line, so that lines outside a territory cost almost nothing.

use super::model::{ExerciseMode, NationalId};
use crate::ids::{Adeli, IdError, IdWarning, InseeCode, Rpps};
use serde::Serialize;
use std::fmt;

macro_rules! fields {
    ($( $variant:ident => $name:literal $( | $alias:literal )* , $required:literal ; )*) => {
        /// The columns of the extract, in the order of the published header (2026).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Field { $( $variant ),* }

        impl Field {
            /// Every column, in the order of the published header.
            pub const ALL: &'static [Field] = &[ $( Field::$variant ),* ];

            /// The column name in the published header.
            pub fn name(self) -> &'static str {
                match self { $( Field::$variant => $name ),* }
            }

            /// Other spellings found in earlier or third-party versions of the header.
            pub fn aliases(self) -> &'static [&'static str] {
                match self { $( Field::$variant => &[ $( $alias ),* ] ),* }
            }

            /// Whether a header without this column is refused.
            pub fn required(self) -> bool {
                match self { $( Field::$variant => $required ),* }
            }
        }
    };
}

fields! {
    IdType => "Type d'identifiant PP", true;
    Identifier => "Identifiant PP", true;
    NationalId => "Identification nationale PP", true;
    ExerciseCivilityCode => "Code civilité d'exercice" | "Code civilité exercice", false;
    ExerciseCivilityLabel => "Libellé civilité d'exercice" | "Libellé civilité exercice", false;
    CivilityCode => "Code civilité", false;
    CivilityLabel => "Libellé civilité", false;
    FamilyName => "Nom d'exercice", true;
    GivenName => "Prénom d'exercice", true;
    ProfessionCode => "Code profession", true;
    ProfessionLabel => "Libellé profession", false;
    CategoryCode => "Code catégorie professionnelle", false;
    CategoryLabel => "Libellé catégorie professionnelle", false;
    SkillTypeCode => "Code type savoir-faire", false;
    SkillTypeLabel => "Libellé type savoir-faire", false;
    SkillCode => "Code savoir-faire", false;
    SkillLabel => "Libellé savoir-faire", false;
    ExerciseModeCode => "Code mode exercice", true;
    ExerciseModeLabel => "Libellé mode exercice", false;
    Siret => "Numéro SIRET site", false;
    Siren => "Numéro SIREN site", false;
    FinessSite => "Numéro FINESS site", false;
    FinessLegalEntity => "Numéro FINESS établissement juridique", false;
    StructureId => "Identifiant technique de la structure" | "Identifiant structure", false;
    CompanyName => "Raison sociale site", false;
    TradeName => "Enseigne commerciale site", false;
    AddresseeComplement => "Complément destinataire (coord. structure)", false;
    PlaceComplement => "Complément point géographique (coord. structure)", false;
    StreetNumber => "Numéro Voie (coord. structure)", false;
    StreetNumberSuffix => "Indice répétition voie (coord. structure)", false;
    StreetTypeCode => "Code type de voie (coord. structure)", false;
    StreetTypeLabel => "Libellé type de voie (coord. structure)", false;
    StreetName => "Libellé Voie (coord. structure)", false;
    DistributionMention => "Mention distribution (coord. structure)", false;
    CedexOffice => "Bureau cedex (coord. structure)", false;
    PostalCode => "Code postal (coord. structure)", true;
    CommuneCode => "Code commune (coord. structure)", true;
    CommuneLabel => "Libellé commune (coord. structure)", false;
    CountryCode => "Code pays (coord. structure)", false;
    CountryLabel => "Libellé pays (coord. structure)", false;
    Phone => "Téléphone (coord. structure)", false;
    Phone2 => "Téléphone 2 (coord. structure)", false;
    Fax => "Télécopie (coord. structure)", false;
    Email => "Adresse e-mail (coord. structure)", false;
    DepartementCode => "Code Département (structure)" | "Code département (coord. structure)", false;
    DepartementLabel => "Libellé Département (structure)" | "Libellé département (coord. structure)", false;
    FormerStructureId => "Ancien identifiant de la structure", false;
    RegistrationAuthority => "Autorité d'enregistrement", false;
    SectorCode => "Code secteur d'activité", false;
    SectorLabel => "Libellé secteur d'activité", false;
    PharmacistSectionCode => "Code section tableau pharmaciens", false;
    PharmacistSectionLabel => "Libellé section tableau pharmaciens", false;
    RoleCode => "Code rôle" | "Code fonction", false;
    RoleLabel => "Libellé rôle" | "Libellé fonction", false;
    ActivityKindCode => "Code genre activité" | "Code genre d'activité", false;
    ActivityKindLabel => "Libellé genre activité" | "Libellé genre d'activité", false;
}

/// Number of [`Field`]s.
pub const FIELD_COUNT: usize = Field::ALL.len();

/// The published header line (56 columns, trailing `|`), as written by [`super::synth`].
pub fn published_header() -> String {
    let mut s = String::with_capacity(2048);
    for f in Field::ALL {
        s.push_str(f.name());
        s.push('|');
    }
    s
}

/// A column name compared loosely: case, surrounding and repeated spaces, and the typographic
/// apostrophe do not matter.
fn normalize_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").replace('’', "'").to_lowercase()
}

/// Why a header line cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the header line is empty")]
    Empty,
    #[error("the header line is not valid UTF-8")]
    NotUtf8,
    #[error("the header lacks required column(s): {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("column \"{0}\" appears twice in the header")]
    Duplicate(String),
}

impl HeaderError {
    pub fn fr(&self) -> String {
        match self {
            Self::Empty => "la ligne d'en-tête est vide".into(),
            Self::NotUtf8 => "la ligne d'en-tête n'est pas en UTF-8 valide".into(),
            Self::Missing(cols) => {
                let quoted: Vec<String> = cols.iter().map(|c| format!("« {c} »")).collect();
                format!("colonne(s) obligatoire(s) absente(s) de l'en-tête : {}", quoted.join(", "))
            }
            Self::Duplicate(c) => format!("la colonne « {c} » figure deux fois dans l'en-tête"),
        }
    }
}

/// Where each [`Field`] sits in a given file, found by name in its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    /// Column index of each field (`None`: the file has no such column; it reads as empty).
    positions: [Option<u16>; FIELD_COUNT],
    /// For each column of the file, the field it holds (`None`: a column we do not know).
    slots: Vec<Option<Field>>,
    /// The column names as written in the file's header.
    names: Vec<String>,
    /// Columns that no [`Field`] matched (kept for the import report).
    unknown: Vec<String>,
}

/// Reads the header line of an extract.
pub struct AnnuaireHeader;

impl AnnuaireHeader {
    /// Locates the columns by name, in any order. A trailing `|`, a UTF-8 byte-order mark and a
    /// line ending are ignored. Every missing required column is named in the error.
    pub fn parse(line: &str) -> Result<ColumnMap, HeaderError> {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        let line = line.trim_end_matches(['\n', '\r']);
        let line = line.strip_suffix('|').unwrap_or(line);
        if line.trim().is_empty() {
            return Err(HeaderError::Empty);
        }
        let lookup: Vec<(String, Field)> = Field::ALL
            .iter()
            .flat_map(|&f| std::iter::once(f.name()).chain(f.aliases().iter().copied()).map(move |n| (n, f)))
            .map(|(n, f)| (normalize_name(n), f))
            .collect();
        let mut positions = [None; FIELD_COUNT];
        let mut slots = Vec::new();
        let mut names = Vec::new();
        let mut unknown = Vec::new();
        for (i, raw) in line.split('|').enumerate() {
            let key = normalize_name(raw);
            let field = lookup.iter().find(|(n, _)| *n == key).map(|&(_, f)| f);
            if let Some(f) = field {
                let slot = &mut positions[f as usize];
                if slot.is_some() {
                    return Err(HeaderError::Duplicate(raw.trim().to_owned()));
                }
                *slot = u16::try_from(i).ok();
            } else {
                unknown.push(raw.trim().to_owned());
            }
            slots.push(field);
            names.push(raw.trim().to_owned());
        }
        let missing: Vec<&'static str> =
            Field::ALL.iter().filter(|f| f.required() && positions[**f as usize].is_none()).map(|f| f.name()).collect();
        if !missing.is_empty() {
            return Err(HeaderError::Missing(missing));
        }
        Ok(ColumnMap { positions, slots, names, unknown })
    }
}

impl ColumnMap {
    /// The column map of the published header (tests, generator).
    pub fn published() -> Self {
        // The published header always parses: it is built from the same table.
        AnnuaireHeader::parse(&published_header()).unwrap_or_else(|_| ColumnMap {
            positions: [None; FIELD_COUNT],
            slots: Vec::new(),
            names: Vec::new(),
            unknown: Vec::new(),
        })
    }

    /// Number of columns in the file's header.
    pub fn width(&self) -> usize {
        self.slots.len()
    }

    /// Column index of a field in this file.
    pub fn position(&self, field: Field) -> Option<usize> {
        self.positions[field as usize].map(usize::from)
    }

    /// The header's own name for a field (falls back to the published name).
    pub fn column_name(&self, field: Field) -> &str {
        self.position(field).and_then(|i| self.names.get(i)).map_or(field.name(), String::as_str)
    }

    /// Header columns that no known field matched.
    pub fn unknown_columns(&self) -> &[String] {
        &self.unknown
    }

    /// Optional fields the file lacks (they read as empty).
    pub fn absent_fields(&self) -> Vec<Field> {
        Field::ALL.iter().copied().filter(|f| self.position(*f).is_none()).collect()
    }

    /// The raw commune code and postal code fields of a line (`None` when the line is too short
    /// to have them), found in one pass over the bytes up to the later of the two columns.
    pub fn location<'a>(&self, line: &'a [u8]) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
        let commune = self.position(Field::CommuneCode);
        let postal = self.position(Field::PostalCode);
        match (commune, postal) {
            (Some(c), Some(p)) => {
                let (first, second) = two_fields(line, c.min(p), c.max(p));
                if c <= p { (first, second) } else { (second, first) }
            }
            (Some(c), None) => (field_bytes(line, c), None),
            (None, Some(p)) => (None, field_bytes(line, p)),
            (None, None) => (None, None),
        }
    }
}

/// Number of `|` bytes in an 8-byte word (exact: no false positives, no carries between bytes).
#[inline]
fn pipes_in(word: u64) -> u32 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = word ^ 0x7C7C_7C7C_7C7C_7C7C; // `|` bytes become 0
    let t = (x & LOW7).wrapping_add(LOW7) | x;
    (!(t | LOW7)).count_ones()
}

/// Byte offset just after the `n`-th `|` (n ≥ 1) starting from `from`, or `None`.
#[inline]
fn skip_pipes(line: &[u8], mut from: usize, mut n: usize) -> Option<usize> {
    if n == 0 {
        return Some(from);
    }
    while let Some(chunk) = line.get(from..from + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let c = pipes_in(u64::from_le_bytes(word)) as usize;
        if c >= n {
            break;
        }
        n -= c;
        from += 8;
    }
    for (i, &b) in line.iter().enumerate().skip(from) {
        if b == b'|' {
            n -= 1;
            if n == 0 {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Calls `f(index, start, end)` for every `|`-separated field of `line` (byte ranges; an empty
/// line has one empty field), scanning 8 bytes at a time.
#[inline]
fn for_each_field(line: &[u8], mut f: impl FnMut(usize, usize, usize)) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let mut index = 0;
    let mut start = 0;
    let mut base = 0;
    while let Some(chunk) = line.get(base..base + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ 0x7C7C_7C7C_7C7C_7C7C;
        let mut pipes = !(((x & LOW7).wrapping_add(LOW7) | x) | LOW7);
        while pipes != 0 {
            let at = base + (pipes.trailing_zeros() / 8) as usize;
            f(index, start, at);
            index += 1;
            start = at + 1;
            pipes &= pipes - 1;
        }
        base += 8;
    }
    for (at, &b) in line.iter().enumerate().skip(base) {
        if b == b'|' {
            f(index, start, at);
            index += 1;
            start = at + 1;
        }
    }
    f(index, start, line.len());
}

/// End of the field starting at `start`: the next `|`, or the end of the line.
#[inline]
fn field_end(line: &[u8], start: usize) -> usize {
    line.get(start..).and_then(|rest| rest.iter().position(|&b| b == b'|')).map_or(line.len(), |p| start + p)
}

/// The bytes of field `index` (0-based) of a `|`-separated line.
pub fn field_bytes(line: &[u8], index: usize) -> Option<&[u8]> {
    let start = skip_pipes(line, 0, index)?;
    if start > line.len() {
        return None;
    }
    Some(&line[start..field_end(line, start)])
}

/// Fields `a` and `b` (a ≤ b) in one pass.
fn two_fields(line: &[u8], a: usize, b: usize) -> (Option<&[u8]>, Option<&[u8]>) {
    let Some(sa) = skip_pipes(line, 0, a) else { return (None, None) };
    let ea = field_end(line, sa);
    let first = Some(&line[sa..ea]);
    if a == b {
        return (first, first);
    }
    let Some(sb) = skip_pipes(line, sa, b - a) else { return (first, None) };
    (first, Some(&line[sb..field_end(line, sb)]))
}

/// The raw commune code of a line, without parsing the rest (`None` when empty or missing).
pub fn commune_of<'a>(line: &'a str, map: &ColumnMap) -> Option<&'a str> {
    let i = map.position(Field::CommuneCode)?;
    let bytes = field_bytes(line.as_bytes(), i)?;
    // The field lies between two ASCII `|` (or the line's ends), so it is valid UTF-8.
    let s = std::str::from_utf8(bytes).ok()?.trim();
    (!s.is_empty()).then_some(s)
}

/// Why one line was not imported: its number, the column at fault (as named in the file's
/// header) when there is one, and the reason in English and French.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub line: u64,
    pub column: Option<String>,
    pub reason_en: String,
    pub reason_fr: String,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column \"{c}\": {}", self.line, self.reason_en),
            None => write!(f, "line {}: {}", self.line, self.reason_en),
        }
    }
}

impl Reject {
    fn new(line: u64, column: Option<&str>, en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self { line, column: column.map(str::to_owned), reason_en: en.into(), reason_fr: fr.into() }
    }

    fn id(line: u64, column: &str, e: &IdError) -> Self {
        Self::new(line, Some(column), e.en.clone(), e.fr.clone())
    }

    /// A line that is not valid UTF-8 (`valid_up_to`: bytes before the first bad one).
    pub fn invalid_utf8(line: u64, valid_up_to: usize) -> Self {
        Self::new(
            line,
            None,
            format!("the line is not valid UTF-8 (invalid byte after {valid_up_to} bytes)"),
            format!("la ligne n'est pas en UTF-8 valide (octet invalide après {valid_up_to} octets)"),
        )
    }
}

/// Type of professional identifier ("Type d'identifiant PP").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum IdType {
    /// `8`: RPPS number (11 digits).
    Rpps,
    /// `0`: ADELI number (9 characters), professions not yet moved to the RPPS.
    Adeli,
}

impl IdType {
    pub fn code(self) -> &'static str {
        match self {
            IdType::Rpps => "8",
            IdType::Adeli => "0",
        }
    }
}

/// A specialty or other qualification ("savoir-faire") of an activity line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkillRef<'a> {
    /// `S` specialty (spécialité ordinale), `CAPA` capacity, `DSA`… (ANS TRE_R04).
    pub type_code: &'a str,
    pub type_label: &'a str,
    /// `SM54` Médecine générale…
    pub code: &'a str,
    pub label: &'a str,
}

/// One line of the extract, every field borrowed from the line.
#[derive(Debug, Clone, Copy)]
pub struct ActivityRecord<'a> {
    line: u64,
    national_id: NationalId,
    commune: Option<InseeCode>,
    fields: [&'a str; FIELD_COUNT],
}

impl<'a> ActivityRecord<'a> {
    /// 1-based line number in the file.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// A field as written (trimmed; empty when the file lacks the column).
    pub fn get(&self, field: Field) -> &'a str {
        self.fields[field as usize]
    }

    /// A field, `None` when empty.
    pub fn opt(&self, field: Field) -> Option<&'a str> {
        let v = self.get(field);
        (!v.is_empty()).then_some(v)
    }

    pub fn id_type(&self) -> IdType {
        match self.national_id {
            NationalId::Rpps(_) => IdType::Rpps,
            NationalId::Adeli(_) => IdType::Adeli,
        }
    }

    /// The RPPS or ADELI number as written in "Identifiant PP".
    pub fn identifier(&self) -> &'a str {
        self.get(Field::Identifier)
    }

    /// The identifier, checked: RPPS or ADELI.
    pub fn national_id(&self) -> NationalId {
        self.national_id
    }

    /// Doubts about the identifier that do not reject the line (check digit).
    pub fn warnings(&self) -> Vec<IdWarning> {
        self.national_id.warnings()
    }

    pub fn exercise_civility_code(&self) -> Option<&'a str> {
        self.opt(Field::ExerciseCivilityCode)
    }
    pub fn civility_code(&self) -> Option<&'a str> {
        self.opt(Field::CivilityCode)
    }
    pub fn family_name(&self) -> &'a str {
        self.get(Field::FamilyName)
    }
    pub fn given_name(&self) -> &'a str {
        self.get(Field::GivenName)
    }
    pub fn profession_code(&self) -> &'a str {
        self.get(Field::ProfessionCode)
    }
    pub fn profession_label(&self) -> Option<&'a str> {
        self.opt(Field::ProfessionLabel)
    }
    /// `C` civil…
    pub fn category_code(&self) -> Option<&'a str> {
        self.opt(Field::CategoryCode)
    }
    /// The specialty of the line, when it has one.
    pub fn skill(&self) -> Option<SkillRef<'a>> {
        let code = self.opt(Field::SkillCode)?;
        Some(SkillRef {
            type_code: self.get(Field::SkillTypeCode),
            type_label: self.get(Field::SkillTypeLabel),
            code,
            label: self.get(Field::SkillLabel),
        })
    }
    pub fn exercise_mode(&self) -> ExerciseMode {
        ExerciseMode::from_code(self.get(Field::ExerciseModeCode))
    }
    pub fn exercise_mode_label(&self) -> Option<&'a str> {
        self.opt(Field::ExerciseModeLabel)
    }
    pub fn siret(&self) -> Option<&'a str> {
        self.opt(Field::Siret)
    }
    pub fn siren(&self) -> Option<&'a str> {
        self.opt(Field::Siren)
    }
    pub fn finess_site(&self) -> Option<&'a str> {
        self.opt(Field::FinessSite)
    }
    pub fn finess_legal_entity(&self) -> Option<&'a str> {
        self.opt(Field::FinessLegalEntity)
    }
    /// The ANS's technical id of the structure (stable across extracts; `C…`, `R…`).
    pub fn structure_id(&self) -> Option<&'a str> {
        self.opt(Field::StructureId)
    }
    pub fn company_name(&self) -> Option<&'a str> {
        self.opt(Field::CompanyName)
    }
    pub fn trade_name(&self) -> Option<&'a str> {
        self.opt(Field::TradeName)
    }
    pub fn postal_code(&self) -> Option<&'a str> {
        self.opt(Field::PostalCode)
    }
    /// The INSEE code of the practice place's commune, checked (syntax only).
    pub fn commune_code(&self) -> Option<InseeCode> {
        self.commune
    }
    pub fn commune_label(&self) -> Option<&'a str> {
        self.opt(Field::CommuneLabel)
    }
    pub fn phone(&self) -> Option<&'a str> {
        self.opt(Field::Phone)
    }
    pub fn phone2(&self) -> Option<&'a str> {
        self.opt(Field::Phone2)
    }
    pub fn fax(&self) -> Option<&'a str> {
        self.opt(Field::Fax)
    }
    pub fn email(&self) -> Option<&'a str> {
        self.opt(Field::Email)
    }
    pub fn departement_code(&self) -> Option<&'a str> {
        self.opt(Field::DepartementCode)
    }
    pub fn role_code(&self) -> Option<&'a str> {
        self.opt(Field::RoleCode)
    }
    pub fn role_label(&self) -> Option<&'a str> {
        self.opt(Field::RoleLabel)
    }
    /// `GENR01` care activity… (ANS TRE_R22).
    pub fn activity_kind_code(&self) -> Option<&'a str> {
        self.opt(Field::ActivityKindCode)
    }
    pub fn activity_kind_label(&self) -> Option<&'a str> {
        self.opt(Field::ActivityKindLabel)
    }
}

/// Splits and checks one data line (without its line ending; a trailing `|` is expected but
/// optional). `line_no` is the 1-based line number used in a [`Reject`].
///
/// Rejected: a field count different from the header's; an identifier type other than `8`
/// (RPPS) or `0` (ADELI); an identifier that is empty or not an RPPS/ADELI number; a national
/// id that disagrees with type + identifier; an empty name or profession code; a commune code
/// that is not an INSEE code. Check-digit doubts are warnings ([`ActivityRecord::warnings`]).
pub fn parse_record<'a>(line: &'a str, map: &ColumnMap, line_no: u64) -> Result<ActivityRecord<'a>, Reject> {
    let line = line.trim_end_matches(['\n', '\r']);
    let body = line.strip_suffix('|').unwrap_or(line);
    let mut fields = [""; FIELD_COUNT];
    let width = map.width();
    let mut count = 0usize;
    for_each_field(body.as_bytes(), |i, start, end| {
        if let (Some(Some(f)), Some(value)) = (map.slots.get(i), body.get(start..end)) {
            fields[*f as usize] = value.trim_ascii();
        }
        count = i + 1;
    });
    if count != width {
        return Err(Reject::new(
            line_no,
            None,
            format!("expected {width} fields, found {count}"),
            format!("{width} champs attendus, {count} trouvés"),
        ));
    }
    let col = |f: Field| map.column_name(f);
    let get = |f: Field| fields[f as usize];

    let identifier = get(Field::Identifier);
    if identifier.is_empty() {
        return Err(Reject::new(line_no, Some(col(Field::Identifier)), "empty identifier", "identifiant vide"));
    }
    let national_id = match get(Field::IdType) {
        "8" => NationalId::Rpps(Rpps::parse(identifier).map_err(|e| Reject::id(line_no, col(Field::Identifier), &e))?),
        "0" => {
            NationalId::Adeli(Adeli::parse(identifier).map_err(|e| Reject::id(line_no, col(Field::Identifier), &e))?)
        }
        other => {
            return Err(Reject::new(
                line_no,
                Some(col(Field::IdType)),
                format!("unknown identifier type {other:?} (expected 8 = RPPS or 0 = ADELI)"),
                format!("type d'identifiant « {other} » inconnu (attendu : 8 = RPPS ou 0 = ADELI)"),
            ));
        }
    };
    let national = get(Field::NationalId);
    let prefix = if matches!(national_id, NationalId::Rpps(_)) { "8" } else { "0" };
    let consistent = national.strip_prefix(prefix).is_some_and(|n| n == national_id.number());
    if !national.is_empty() && !consistent {
        return Err(Reject::new(
            line_no,
            Some(col(Field::NationalId)),
            format!("national id {national} does not match type and identifier ({})", national_id.national()),
            format!(
                "l'identification nationale {national} ne correspond pas au type et à l'identifiant ({})",
                national_id.national()
            ),
        ));
    }
    for f in [Field::FamilyName, Field::ProfessionCode] {
        if get(f).is_empty() {
            return Err(Reject::new(line_no, Some(col(f)), "empty value", "valeur vide"));
        }
    }
    let commune = match get(Field::CommuneCode) {
        "" => None,
        c => Some(InseeCode::parse(c).map_err(|e| Reject::id(line_no, col(Field::CommuneCode), &e))?),
    };
    Ok(ActivityRecord { line: line_no, national_id, commune, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_pipe_count_matches_a_byte_count() {
        let samples: [&[u8]; 5] =
            [b"||||||||", b"abc|def|", b"\xc3\xa9|\x7c\xfc\x7d|x", b"\xff\xff\xff\xff\xff\xff\xff\xff", b"|a|b|c|d"];
        for s in samples {
            let mut w = [0u8; 8];
            w[..s.len().min(8)].copy_from_slice(&s[..s.len().min(8)]);
            let expected = w.iter().filter(|&&b| b == b'|').count() as u32;
            assert_eq!(pipes_in(u64::from_le_bytes(w)), expected, "{s:?}");
        }
    }

    #[test]
    fn for_each_field_agrees_with_split() {
        for line in ["", "|", "a", "a|b", "abcdefgh|ijklmnop|", "é|ü||x|yyyyyyyyyyyyyyyyyyyy|z", "||||||||||"] {
            let mut got = Vec::new();
            for_each_field(line.as_bytes(), |i, s, e| got.push((i, &line[s..e])));
            let expected: Vec<(usize, &str)> = line.split('|').enumerate().collect();
            assert_eq!(got, expected, "{line:?}");
        }
    }

    #[test]
    fn field_bytes_finds_every_field() {
        let line = b"a|bb||dddd|eeeeeeeeeeeeeeeeee|f|";
        let expect: [&[u8]; 7] = [b"a", b"bb", b"", b"dddd", b"eeeeeeeeeeeeeeeeee", b"f", b""];
        for (i, e) in expect.iter().enumerate() {
            assert_eq!(field_bytes(line, i), Some(*e), "field {i}");
        }
        assert_eq!(field_bytes(line, 7), None);
        assert_eq!(field_bytes(b"no pipes", 0), Some(&b"no pipes"[..]));
        assert_eq!(field_bytes(b"", 1), None);
        assert_eq!(two_fields(line, 1, 4), (Some(&b"bb"[..]), Some(&b"eeeeeeeeeeeeeeeeee"[..])));
        assert_eq!(two_fields(line, 3, 3), (Some(&b"dddd"[..]), Some(&b"dddd"[..])));
        assert_eq!(two_fields(line, 5, 9), (Some(&b"f"[..]), None));
    }
}
