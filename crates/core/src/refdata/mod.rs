//! Reference data on French communes, embedded in the binary.
//!
//! The files of `data/` are produced by `tools/refdata/generate.py` (sources, licences and every
//! choice are in `data/PROVENANCE.md`). [`Reference::embedded`] decodes them once, on first use:
//! communes (current communes of metropolitan France and the five DROM, plus the 45 municipal
//! arrondissements of Paris, Lyon and Marseille), former communes, départements, régions, EPCI and
//! the communes of overseas collectivities. Contours are only needed for maps: they are decoded
//! lazily, one commune at a time ([`Reference::contour`]).

mod contour;
mod parse;

use crate::geo::LatLon;
use crate::ids::{IdError, InseeCode};
use contour::ContourFile;
use parse::{check_sorted, comment_value, data_lines, fields};
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;
use std::sync::OnceLock;

pub use contour::{Contour, Polygon, Ring, contains as contour_contains};

/// Whether a row is a commune or a municipal arrondissement (Paris, Lyon, Marseille).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CommuneKind {
    Commune,
    MunicipalArrondissement,
}

/// A current commune or a municipal arrondissement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commune {
    pub code: InseeCode,
    pub name: String,
    pub kind: CommuneKind,
    /// The city (75056, 69123, 13055) of a municipal arrondissement.
    pub parent: Option<InseeCode>,
    pub departement: String,
    pub region: String,
    /// SIREN of the EPCI à fiscalité propre; an arrondissement has its city's. A few island
    /// communes belong to none.
    pub epci: Option<String>,
    pub postal_codes: Vec<String>,
    /// INSEE population municipale (populations de référence 2023).
    pub population: u32,
    /// A point inside the commune (not a town hall), WGS84, 5 decimals.
    pub centre: LatLon,
    /// Indices into [`Reference::communes`], ascending. A city is never a neighbour of its own
    /// arrondissements; a commune bordering a city lists the city and the arrondissements it touches.
    pub neighbours: Vec<u32>,
    /// Whether [`Reference::contour`] has a contour for it.
    pub has_contour: bool,
}

/// A code that no longer names a commune: it merged into a current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormerCommune {
    pub code: String,
    /// Known for former communes that are now communes déléguées or associées; empty otherwise.
    pub name: String,
    pub current: InseeCode,
    /// The few former communes split between several current communes list the others here.
    pub other_current: Vec<InseeCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Departement {
    pub code: String,
    pub name: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: String,
    pub name: String,
}

/// An EPCI à fiscalité propre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Epci {
    pub siren: String,
    pub name: String,
    /// `CC`, `CA`, `CU`, `METRO` or `MET69`.
    pub kind: String,
}

/// A commune of an overseas collectivity (975, 977, 978, 984, 986–989). These are not part of the
/// reference: they have their own health systems and no CPTS. Listed only to explain why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverseasCollectivityCommune {
    pub code: String,
    pub name: String,
    pub collectivity_code: String,
    pub collectivity_name: String,
}

/// The embedded reference data is malformed (a bug in `tools/refdata` or a corrupted build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reference data {file}, line {line}: {message}")]
pub struct RefDataError {
    pub file: &'static str,
    /// 1-based, 0 when not about a line.
    pub line: usize,
    pub message: String,
}

impl RefDataError {
    fn new(file: &'static str, line: usize, message: impl Into<String>) -> Self {
        Self { file, line, message: message.into() }
    }
}

/// Why a code does not designate a commune of the reference.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommuneLookupError {
    #[error("{0}")]
    Syntax(IdError),
    #[error("{code} is the code of a former commune{}, now part of {current_name} ({current})", name_part(name))]
    Former { code: String, name: String, current: InseeCode, current_name: String },
    #[error(
        "{code} ({name}) belongs to an overseas collectivity ({collectivity}), which has its own health \
         system and no CPTS"
    )]
    OverseasCollectivity { code: String, name: String, collectivity: String },
    #[error("no current commune has the INSEE code {code}")]
    Unknown { code: String },
}

fn name_part(name: &str) -> String {
    if name.is_empty() { String::new() } else { format!(" ({name})") }
}

impl CommuneLookupError {
    /// The same explanation, in French, for users.
    pub fn fr(&self) -> String {
        match self {
            Self::Syntax(e) => format!("code commune « {} » invalide : {}", e.input, e.fr),
            Self::Former { code, name, current, current_name } => format!(
                "le code {code} est celui d'une ancienne commune{}, qui fait aujourd'hui partie de \
                 {current_name} ({current})",
                name_part(name)
            ),
            Self::OverseasCollectivity { code, name, collectivity } => format!(
                "la commune {code} ({name}) appartient à une collectivité d'outre-mer ({collectivity}), \
                 qui a son propre système de santé et pas de CPTS"
            ),
            Self::Unknown { code } => format!("aucune commune actuelle n'a le code INSEE {code}"),
        }
    }
}

/// The texts of the reference files (already decompressed) and the contour file.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefDataParts<'a> {
    /// `communes.tsv`
    pub communes: &'a str,
    /// `former-communes.tsv`
    pub former: &'a str,
    /// `departements.tsv`
    pub departements: &'a str,
    /// `regions.tsv`
    pub regions: &'a str,
    /// `epci.tsv`
    pub epci: &'a str,
    /// `overseas-collectivities.tsv`
    pub overseas: &'a str,
    /// `contours.bin`, decompressed or gzip'd (decompressed on first use); `None` for no contours.
    pub contours: Option<ContourBytes>,
}

/// Where the contour file comes from.
#[derive(Debug, Clone, Copy)]
pub enum ContourBytes {
    Raw(&'static [u8]),
    Gzip(&'static [u8]),
}

struct Contours {
    source: Option<ContourBytes>,
    unpacked: OnceLock<Option<Vec<u8>>>,
}

impl Contours {
    fn file(&self) -> Option<ContourFile<'_>> {
        let bytes: &[u8] = match self.source? {
            ContourBytes::Raw(b) => b,
            ContourBytes::Gzip(gz) => self.unpacked.get_or_init(|| parse::gunzip("contours", gz).ok()).as_deref()?,
        };
        ContourFile::parse(bytes)
    }
}

/// All reference data. Lookups by code are case-insensitive binary searches.
pub struct Reference {
    vintage: String,
    communes: Vec<Commune>,
    /// `code_key` of each commune, same order.
    keys: Vec<u64>,
    former: Vec<FormerCommune>,
    overseas: Vec<OverseasCollectivityCommune>,
    departements: Vec<Departement>,
    regions: Vec<Region>,
    epci: Vec<Epci>,
    contours: Contours,
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reference")
            .field("vintage", &self.vintage)
            .field("communes", &self.communes.len())
            .field("former", &self.former.len())
            .field("overseas", &self.overseas.len())
            .field("departements", &self.departements.len())
            .field("regions", &self.regions.len())
            .field("epci", &self.epci.len())
            .finish()
    }
}

mod embedded_files {
    pub static COMMUNES: &[u8] = include_bytes!("../../../../data/communes.tsv.gz");
    pub static FORMER: &[u8] = include_bytes!("../../../../data/former-communes.tsv.gz");
    pub static DEPARTEMENTS: &str = include_str!("../../../../data/departements.tsv");
    pub static REGIONS: &str = include_str!("../../../../data/regions.tsv");
    pub static EPCI: &[u8] = include_bytes!("../../../../data/epci.tsv.gz");
    pub static OVERSEAS: &str = include_str!("../../../../data/overseas-collectivities.tsv");
    pub static CONTOURS: &[u8] = include_bytes!("../../../../data/contours.bin.gz");
}

static EMBEDDED: OnceLock<Result<Reference, RefDataError>> = OnceLock::new();
static EMPTY: OnceLock<Reference> = OnceLock::new();

/// A commune code packed into an integer that sorts like the code's bytes (lookups by code are
/// binary searches over these keys: much faster than comparing strings).
fn code_key(code: &str) -> Option<u64> {
    let b: &[u8; 5] = code.as_bytes().try_into().or_else(|_| code.trim().as_bytes().try_into()).ok()?;
    Some(b.iter().fold(0u64, |k, &c| (k << 8) | u64::from(c.to_ascii_uppercase())))
}

/// Case-insensitive comparison of a stored (upper-case) code with a query.
fn cmp_code(stored: &str, query: &str) -> Ordering {
    stored.bytes().cmp(query.trim().bytes().map(|b| b.to_ascii_uppercase()))
}

fn find<'a, T>(items: &'a [T], code: &str, key: impl Fn(&T) -> &str) -> Option<&'a T> {
    items.binary_search_by(|it| cmp_code(key(it), code)).ok().map(|i| &items[i])
}

impl Reference {
    /// The reference data compiled into the binary, decoded on first use.
    ///
    /// The embedded files are checked by this crate's tests, so decoding cannot fail in a tested
    /// build. Should it fail anyway, this returns an empty reference (every lookup says "unknown")
    /// whose [`vintage`](Self::vintage) carries the error, rather than panicking; use
    /// [`try_embedded`](Self::try_embedded) to get the error itself.
    pub fn embedded() -> &'static Reference {
        match Self::try_embedded() {
            Ok(r) => r,
            Err(e) => EMPTY.get_or_init(|| Reference::empty(format!("embedded reference data unavailable: {e}"))),
        }
    }

    /// Like [`embedded`](Self::embedded), but reports a decoding failure.
    pub fn try_embedded() -> Result<&'static Reference, &'static RefDataError> {
        EMBEDDED.get_or_init(Self::decode_embedded).as_ref()
    }

    /// Decodes the embedded files (without caching): what [`embedded`](Self::embedded) runs once.
    pub fn decode_embedded() -> Result<Reference, RefDataError> {
        use embedded_files as f;
        let communes = parse::gunzip_text("communes", f::COMMUNES)?;
        let former = parse::gunzip_text("former-communes", f::FORMER)?;
        let epci = parse::gunzip_text("epci", f::EPCI)?;
        Self::from_parts(RefDataParts {
            communes: &communes,
            former: &former,
            departements: f::DEPARTEMENTS,
            regions: f::REGIONS,
            epci: &epci,
            overseas: f::OVERSEAS,
            contours: Some(ContourBytes::Gzip(f::CONTOURS)),
        })
    }

    fn empty(vintage: String) -> Reference {
        Reference {
            vintage,
            communes: Vec::new(),
            keys: Vec::new(),
            former: Vec::new(),
            overseas: Vec::new(),
            departements: Vec::new(),
            regions: Vec::new(),
            epci: Vec::new(),
            contours: Contours { source: None, unpacked: OnceLock::new() },
        }
    }

    /// Builds a reference from the texts of the files (see `data/PROVENANCE.md` for the columns).
    pub fn from_parts(parts: RefDataParts<'_>) -> Result<Reference, RefDataError> {
        let (communes, keys) = parse_communes(parts.communes)?;
        let vintage = comment_value(parts.communes, "vintage").unwrap_or("unknown").to_owned();

        const FF: &str = "former-communes";
        let mut former = Vec::new();
        for (n, line) in data_lines(parts.former) {
            let [code, name, current] = fields::<3>(FF, n, line)?;
            InseeCode::parse(code).map_err(|e| RefDataError::new(FF, n, e.to_string()))?;
            let mut currents = Vec::new();
            for c in current.split(',') {
                let code = InseeCode::parse(c).map_err(|e| RefDataError::new(FF, n, e.to_string()))?;
                if code_key(code.as_str()).is_none_or(|k| keys.binary_search(&k).is_err()) {
                    return Err(RefDataError::new(FF, n, format!("{code} is not a current commune")));
                }
                currents.push(code);
            }
            let (first, others) = currents.split_first().ok_or_else(|| RefDataError::new(FF, n, "no current"))?;
            former.push(FormerCommune {
                code: code.to_owned(),
                name: name.to_owned(),
                current: *first,
                other_current: others.to_vec(),
            });
        }
        check_sorted(FF, &former, |f| &f.code)?;

        const FD: &str = "departements";
        let mut departements = Vec::new();
        for (n, line) in data_lines(parts.departements) {
            let [code, name, region, _zone] = fields::<4>(FD, n, line)?;
            departements.push(Departement { code: code.to_owned(), name: name.to_owned(), region: region.to_owned() });
        }
        check_sorted(FD, &departements, |d| &d.code)?;

        const FR: &str = "regions";
        let mut regions = Vec::new();
        for (n, line) in data_lines(parts.regions) {
            let [code, name] = fields::<2>(FR, n, line)?;
            regions.push(Region { code: code.to_owned(), name: name.to_owned() });
        }
        check_sorted(FR, &regions, |r| &r.code)?;

        const FE: &str = "epci";
        let mut epci = Vec::new();
        for (n, line) in data_lines(parts.epci) {
            let [siren, name, kind] = fields::<3>(FE, n, line)?;
            epci.push(Epci { siren: siren.to_owned(), name: name.to_owned(), kind: kind.to_owned() });
        }
        check_sorted(FE, &epci, |e| &e.siren)?;

        const FO: &str = "overseas-collectivities";
        let mut overseas = Vec::new();
        for (n, line) in data_lines(parts.overseas) {
            let [code, name, cc, cn] = fields::<4>(FO, n, line)?;
            overseas.push(OverseasCollectivityCommune {
                code: code.to_owned(),
                name: name.to_owned(),
                collectivity_code: cc.to_owned(),
                collectivity_name: cn.to_owned(),
            });
        }
        check_sorted(FO, &overseas, |o| &o.code)?;

        Ok(Reference {
            vintage,
            communes,
            keys,
            former,
            overseas,
            departements,
            regions,
            epci,
            contours: Contours { source: parts.contours, unpacked: OnceLock::new() },
        })
    }

    /// Current communes and municipal arrondissements, in INSEE code order.
    pub fn communes(&self) -> &[Commune] {
        &self.communes
    }

    pub fn index_of(&self, code: &str) -> Option<u32> {
        let i = self.keys.binary_search(&code_key(code)?).ok()?;
        u32::try_from(i).ok()
    }

    pub fn commune(&self, code: &str) -> Option<&Commune> {
        let i = self.keys.binary_search(&code_key(code)?).ok()?;
        self.communes.get(i)
    }

    /// Checks the syntax, then finds the commune; otherwise explains what the code is: a former
    /// commune (and which commune it is part of now), a commune of an overseas collectivity, or
    /// nothing known.
    pub fn resolve(&self, input: &str) -> Result<&Commune, CommuneLookupError> {
        let code = InseeCode::parse(input).map_err(CommuneLookupError::Syntax)?;
        if let Some(c) = self.commune(code.as_str()) {
            return Ok(c);
        }
        if let Some(f) = self.former(code.as_str()) {
            return Err(CommuneLookupError::Former {
                code: f.code.clone(),
                name: f.name.clone(),
                current: f.current,
                current_name: self.commune(f.current.as_str()).map(|c| c.name.clone()).unwrap_or_default(),
            });
        }
        if let Some(o) = self.overseas_collectivity(code.as_str()) {
            return Err(CommuneLookupError::OverseasCollectivity {
                code: o.code.clone(),
                name: o.name.clone(),
                collectivity: format!("{} {}", o.collectivity_code, o.collectivity_name),
            });
        }
        Err(CommuneLookupError::Unknown { code: code.as_str().to_owned() })
    }

    pub fn former(&self, code: &str) -> Option<&FormerCommune> {
        find(&self.former, code, |f| &f.code)
    }

    pub fn overseas_collectivity(&self, code: &str) -> Option<&OverseasCollectivityCommune> {
        find(&self.overseas, code, |o| &o.code)
    }

    pub fn departement(&self, code: &str) -> Option<&Departement> {
        find(&self.departements, code, |d| &d.code)
    }

    /// Départements of metropolitan France and the DROM, in code order.
    pub fn departements(&self) -> &[Departement] {
        &self.departements
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        find(&self.regions, code, |r| &r.code)
    }

    /// Régions of metropolitan France and the DROM, in code order.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn epci(&self, siren: &str) -> Option<&Epci> {
        find(&self.epci, siren, |e| &e.siren)
    }

    /// The contour of one commune, decoded on demand (the contour file is decompressed on the
    /// first call). `None` if the commune has no contour (see [`Commune::has_contour`]).
    pub fn contour(&self, code: &str) -> Option<Contour> {
        self.contours.file()?.contour(code)
    }

    /// Names the sources and their versions, e.g. for exports and the about page.
    pub fn vintage(&self) -> &str {
        &self.vintage
    }
}

fn parse_communes(text: &str) -> Result<(Vec<Commune>, Vec<u64>), RefDataError> {
    const F: &str = "communes";
    let err = |n: usize, m: String| RefDataError::new(F, n, m);
    let mut communes = Vec::with_capacity(35_000);
    let mut keys = Vec::with_capacity(35_000);
    let mut raw_neighbours = Vec::with_capacity(35_000);
    for (n, line) in data_lines(text) {
        let [code, name, kind, parent, dep, region, epci, postal, pop, lat, lon, neighbours, contour] =
            fields::<13>(F, n, line)?;
        let key = code_key(code).ok_or_else(|| err(n, format!("bad code {code:?}")))?;
        if keys.last().is_some_and(|&last| last >= key) {
            return Err(err(n, format!("{code} is not in code order")));
        }
        let code = InseeCode::parse(code).map_err(|e| err(n, e.to_string()))?;
        let kind = match kind {
            "commune" => CommuneKind::Commune,
            "arrondissement" => CommuneKind::MunicipalArrondissement,
            other => return Err(err(n, format!("unknown kind {other:?}"))),
        };
        let parent = match parent {
            "" => None,
            p => Some(InseeCode::parse(p).map_err(|e| err(n, e.to_string()))?),
        };
        if parent.is_some() != (kind == CommuneKind::MunicipalArrondissement) {
            return Err(err(n, "an arrondissement, and only it, has a parent".into()));
        }
        let num = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
        let centre = match (num(lat), num(lon)) {
            (Some(lat), Some(lon)) => LatLon::new(lat, lon),
            _ => return Err(err(n, format!("bad centre {lat:?} {lon:?}"))),
        };
        communes.push(Commune {
            code,
            name: name.to_owned(),
            kind,
            parent,
            departement: dep.to_owned(),
            region: region.to_owned(),
            epci: (!epci.is_empty()).then(|| epci.to_owned()),
            postal_codes: postal.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            population: pop.parse().map_err(|_| err(n, format!("bad population {pop:?}")))?,
            centre,
            neighbours: Vec::new(),
            has_contour: match contour {
                "1" => true,
                "0" => false,
                other => return Err(err(n, format!("bad contour flag {other:?}"))),
            },
        });
        keys.push(key);
        raw_neighbours.push((n, neighbours));
    }
    // Neighbours are mostly close in code order (same département): search a window around the
    // row first, which stays in cache, then everything.
    let index = |row: usize, n: usize, code: &str| -> Result<u32, RefDataError> {
        let key = code_key(code).ok_or_else(|| err(n, format!("bad code {code:?}")))?;
        let (lo, hi) = (row.saturating_sub(512), (row + 512).min(keys.len()));
        let i = match keys[lo..hi].binary_search(&key) {
            Ok(i) => lo + i,
            Err(_) => keys.binary_search(&key).map_err(|_| err(n, format!("unknown commune {code}")))?,
        };
        u32::try_from(i).map_err(|_| err(n, "too many communes".into()))
    };
    for (row, (c, &(n, list))) in communes.iter_mut().zip(&raw_neighbours).enumerate() {
        let mut v = Vec::with_capacity(list.bytes().filter(|&b| b == b',').count() + 1);
        for code in list.split(',').filter(|s| !s.is_empty()) {
            v.push(index(row, n, code)?);
        }
        v.sort_unstable();
        v.dedup();
        c.neighbours = v;
        if let Some(p) = c.parent {
            index(row, n, p.as_str())?;
        }
    }
    Ok((communes, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "#vintage\ttest vintage\n#code\tname\tkind\tparent\tdepartement\tregion\tepci\tpostal_codes\tpopulation\tlat\tlon\tneighbours\tcontour\n";

    fn parts<'a>(communes: &'a str, former: &'a str) -> RefDataParts<'a> {
        RefDataParts {
            communes,
            former,
            departements: "#code\tname\tregion\tzone\n41\tLoir-et-Cher\t24\tmetro\n75\tParis\t11\tmetro\n",
            regions: "#code\tname\n11\tÎle-de-France\n24\tCentre-Val de Loire\n",
            epci: "#siren\tname\tkind\n200030385\tCA de Blois « Agglopolys »\tCA\n",
            overseas: "#code\tname\tcollectivity_code\tcollectivity_name\n97501\tMiquelon-Langlade\t975\tSaint-Pierre-et-Miquelon\n",
            contours: None,
        }
    }

    fn small() -> String {
        format!(
            "{HEADER}\
             41018\tBlois\tcommune\t\t41\t24\t200030385\t41000\t47219\t47.58163\t1.30621\t41295\t0\n\
             41295\tVineuil\tcommune\t\t41\t24\t200030385\t41350\t8000\t47.58\t1.37\t41018\t0\n\
             75056\tParis\tcommune\t\t75\t11\t\t75001,75002\t3\t48.85\t2.34\t\t0\n\
             75101\tParis 1er Arrondissement\tarrondissement\t75056\t75\t11\t\t75001\t1\t48.86\t2.33\t75102\t0\n\
             75102\tParis 2e Arrondissement\tarrondissement\t75056\t75\t11\t\t75002\t2\t48.87\t2.34\t75101\t0\n"
        )
    }

    #[test]
    fn from_parts_small() {
        let text = small();
        let e = Reference::from_parts(parts(&text, "#code\tname\tcurrent\n41295X\t\t41295\n")).unwrap_err();
        assert_eq!((e.file, e.line), ("former-communes", 2));
        let former = "#code\tname\tcurrent\n41021\tLa Bosse\t41018\n55273\t\t41018,41295\n";
        let r = Reference::from_parts(parts(&text, former)).expect("valid");
        assert_eq!(r.vintage(), "test vintage");
        assert_eq!(r.communes().len(), 5);
        let blois = r.resolve("41018").expect("Blois");
        assert_eq!(blois.neighbours, vec![1]);
        assert_eq!(blois.epci.as_deref(), Some("200030385"));
        assert_eq!(r.commune("75101").unwrap().parent.unwrap().as_str(), "75056");
        assert_eq!(r.commune("75056").unwrap().postal_codes, vec!["75001", "75002"]);
        assert_eq!(r.index_of(" 75102 "), Some(4));
        assert!(r.contour("41018").is_none());
        match r.resolve("41021") {
            Err(e @ CommuneLookupError::Former { .. }) => {
                assert_eq!(
                    e.to_string(),
                    "41021 is the code of a former commune (La Bosse), now part of Blois (41018)"
                );
                assert!(e.fr().contains("fait aujourd'hui partie de Blois (41018)"), "{}", e.fr());
            }
            other => panic!("{other:?}"),
        }
        let split = r.former("55273").unwrap();
        assert_eq!(split.current.as_str(), "41018");
        assert_eq!(split.other_current.len(), 1);
        match r.resolve("97501") {
            Err(e @ CommuneLookupError::OverseasCollectivity { .. }) => {
                assert!(e.to_string().contains("975 Saint-Pierre-et-Miquelon"), "{e}");
                assert!(e.fr().contains("collectivité d'outre-mer"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.resolve("41999"), Err(CommuneLookupError::Unknown { code: "41999".into() }));
        assert!(matches!(r.resolve("4101"), Err(CommuneLookupError::Syntax(_))));
        assert_eq!(r.departement("41").unwrap().region, "24");
        assert_eq!(r.region("11").unwrap().name, "Île-de-France");
        assert_eq!(r.epci("200030385").unwrap().kind, "CA");
    }

    #[test]
    fn from_parts_rejects_bad_rows() {
        let good = small();
        let cases = [
            good.replace("\t41295\t0\n", "\t41999\t0\n"),        // unknown neighbour
            good.replace("47219", "many"),                       // bad population
            good.replace("\tcommune\t\t75\t", "\tcity\t\t75\t"), // unknown kind
            good.replace(
                "75101\tParis 1er Arrondissement\tarrondissement\t75056",
                "75101\tParis 1er Arrondissement\tarrondissement\t",
            ),
            good.replace("48.85\t2.34", "north\t2.34"), // bad centre
            format!(
                "{HEADER}41295\tVineuil\tcommune\t\t41\t24\t\t\t1\t47.5\t1.3\t\t0\n41018\tBlois\tcommune\t\t41\t24\t\t\t1\t47.5\t1.3\t\t0\n"
            ),
            good.replace("\t200030385\t41000\t", "\t200030385\t"), // missing field
        ];
        for (i, text) in cases.iter().enumerate() {
            assert!(Reference::from_parts(parts(text, "")).is_err(), "case {i} accepted");
        }
        let unknown_current = "#code\tname\tcurrent\n41021\tLa Bosse\t41999\n";
        assert!(Reference::from_parts(parts(&good, unknown_current)).is_err());
    }

    #[test]
    fn lookups_are_case_insensitive() {
        // "2A004" sorts before "41295" ('2' < '4'), so the rows stay in order.
        let text = small().replace("41018\tBlois", "2A004\tAjaccio").replace("41018\t0", "2A004\t0");
        let r = Reference::from_parts(parts(&text, "")).expect("valid");
        assert_eq!(r.commune("2a004").unwrap().name, "Ajaccio");
        assert_eq!(r.resolve("2a004").unwrap().name, "Ajaccio");
    }
}
