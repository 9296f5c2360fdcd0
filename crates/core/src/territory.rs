//! A CPTS territory: a set of current communes, its population and ACI size class.

use crate::refdata::{Commune, CommuneKind, CommuneLookupError, Reference};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// ACI size class ("taille") of a CPTS, from the population of its communes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u8")]
pub enum SizeClass {
    T1 = 1,
    T2 = 2,
    T3 = 3,
    T4 = 4,
}

impl SizeClass {
    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            1 => Some(Self::T1),
            2 => Some(Self::T2),
            3 => Some(Self::T3),
            4 => Some(Self::T4),
            _ => None,
        }
    }
}

impl From<SizeClass> for u8 {
    fn from(s: SizeClass) -> u8 {
        s.number()
    }
}

impl fmt::Display for SizeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "taille {}", self.number())
    }
}

/// Population thresholds between size classes. They belong to the ACI text in force, so they
/// are data (the ACI rule sets carry their own); `Default` is the ACI 2019 / avenant 2 value:
/// T1 < 40,000 ≤ T2 < 80,000 ≤ T3 < 175,000 ≤ T4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SizeThresholds {
    pub t2_from: u64,
    pub t3_from: u64,
    pub t4_from: u64,
}

impl Default for SizeThresholds {
    fn default() -> Self {
        Self { t2_from: 40_000, t3_from: 80_000, t4_from: 175_000 }
    }
}

impl SizeThresholds {
    pub fn classify(&self, population: u64) -> SizeClass {
        if population >= self.t4_from {
            SizeClass::T4
        } else if population >= self.t3_from {
            SizeClass::T3
        } else if population >= self.t2_from {
            SizeClass::T2
        } else {
            SizeClass::T1
        }
    }
}

/// Why a list of communes is not a territory. Every faulty entry is reported, not just the first.
#[derive(Debug, Clone, PartialEq)]
pub enum TerritoryProblem {
    Lookup(CommuneLookupError),
    Duplicate {
        code: String,
    },
    /// A municipal arrondissement listed together with its whole city (counted twice).
    Overlap {
        arrondissement: String,
        city: String,
    },
}

impl TerritoryProblem {
    pub fn fr(&self) -> String {
        match self {
            Self::Lookup(e) => e.fr(),
            Self::Duplicate { code } => format!("la commune {code} est citée deux fois"),
            Self::Overlap { arrondissement, city } => {
                format!("l'arrondissement {arrondissement} fait partie de {city}, déjà dans le territoire")
            }
        }
    }
}

impl fmt::Display for TerritoryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lookup(e) => write!(f, "{e}"),
            Self::Duplicate { code } => write!(f, "commune {code} is listed twice"),
            Self::Overlap { arrondissement, city } => {
                write!(f, "arrondissement {arrondissement} is part of {city}, already in the territory")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TerritoryError {
    Empty,
    Invalid(Vec<TerritoryProblem>),
}

impl TerritoryError {
    pub fn fr(&self) -> String {
        match self {
            Self::Empty => "un territoire compte au moins une commune".into(),
            Self::Invalid(p) => p.iter().map(TerritoryProblem::fr).collect::<Vec<_>>().join(" ; "),
        }
    }
}

impl fmt::Display for TerritoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a territory has at least one commune"),
            Self::Invalid(p) => {
                let all: Vec<String> = p.iter().map(ToString::to_string).collect();
                f.write_str(&all.join("; "))
            }
        }
    }
}

impl std::error::Error for TerritoryError {}

/// Population and communes of one département within a territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartementShare {
    pub code: String,
    pub name: String,
    pub communes: usize,
    pub population: u64,
}

/// A validated set of current communes (or municipal arrondissements) of the reference data.
#[derive(Debug, Clone)]
pub struct Territory<'r> {
    reference: &'r Reference,
    /// Indices into `reference.communes()`, sorted and unique.
    members: Vec<u32>,
}

impl<'r> Territory<'r> {
    /// Builds a territory from commune codes, reporting every unknown, former, duplicate or
    /// overlapping code at once.
    pub fn new<'a>(reference: &'r Reference, codes: impl IntoIterator<Item = &'a str>) -> Result<Self, TerritoryError> {
        let mut problems = Vec::new();
        let mut members = BTreeSet::new();
        for code in codes {
            match reference.resolve(code) {
                Err(e) => problems.push(TerritoryProblem::Lookup(e)),
                Ok(commune) => {
                    if let Some(idx) = reference.index_of(commune.code.as_str())
                        && !members.insert(idx)
                    {
                        problems.push(TerritoryProblem::Duplicate { code: commune.code.to_string() });
                    }
                }
            }
        }
        let communes = reference.communes();
        let member_codes: BTreeSet<&str> = members.iter().map(|&i| communes[i as usize].code.as_str()).collect();
        for &i in &members {
            let c = &communes[i as usize];
            if let Some(parent) = c.parent.filter(|p| member_codes.contains(p.as_str())) {
                problems
                    .push(TerritoryProblem::Overlap { arrondissement: c.code.to_string(), city: parent.to_string() });
            }
        }
        if !problems.is_empty() {
            return Err(TerritoryError::Invalid(problems));
        }
        if members.is_empty() {
            return Err(TerritoryError::Empty);
        }
        Ok(Self { reference, members: members.into_iter().collect() })
    }

    pub fn reference(&self) -> &'r Reference {
        self.reference
    }

    /// Communes in INSEE code order.
    pub fn communes(&self) -> impl ExactSizeIterator<Item = &'r Commune> + '_ {
        let all = self.reference.communes();
        self.members.iter().map(move |&i| &all[i as usize])
    }

    pub fn contains(&self, code: &str) -> bool {
        self.reference.index_of(code).is_some_and(|i| self.members.binary_search(&i).is_ok())
    }

    /// Official (INSEE) population of the territory: the sum over its communes.
    pub fn population(&self) -> u64 {
        self.communes().map(|c| u64::from(c.population)).sum()
    }

    pub fn size_class(&self, thresholds: &SizeThresholds) -> SizeClass {
        thresholds.classify(self.population())
    }

    /// Communes and population per département, in département code order.
    pub fn by_departement(&self) -> Vec<DepartementShare> {
        let mut acc: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
        for c in self.communes() {
            let e = acc.entry(c.departement.as_str()).or_default();
            e.0 += 1;
            e.1 += u64::from(c.population);
        }
        acc.into_iter()
            .map(|(code, (communes, population))| DepartementShare {
                code: code.to_owned(),
                name: self.reference.departement(code).map(|d| d.name.clone()).unwrap_or_default(),
                communes,
                population,
            })
            .collect()
    }

    /// Communes outside the territory that share a border with it, in code order. A city and
    /// its own arrondissements are never both listed: arrondissements appear only when the
    /// territory itself is drawn at arrondissement level in that city.
    pub fn neighbours(&self) -> Vec<&'r Commune> {
        let all = self.reference.communes();
        let inside_cities: BTreeSet<&str> =
            self.communes().filter_map(|c| c.parent.as_ref()).map(|p| p.as_str()).collect::<BTreeSet<_>>();
        let mut out = BTreeSet::new();
        for c in self.communes() {
            for &n in &c.neighbours {
                if self.members.binary_search(&n).is_ok() {
                    continue;
                }
                let cand = &all[n as usize];
                let keep = match (cand.kind, cand.parent) {
                    (CommuneKind::MunicipalArrondissement, Some(city)) => inside_cities.contains(city.as_str()),
                    _ => !inside_cities.contains(cand.code.as_str()),
                };
                if keep {
                    out.insert(n);
                }
            }
        }
        out.into_iter().map(|i| &all[i as usize]).collect()
    }

    /// Groups of communes connected by shared borders; a contiguous territory has one.
    pub fn connected_parts(&self) -> Vec<Vec<&'r Commune>> {
        let all = self.reference.communes();
        let mut seen = vec![false; self.members.len()];
        let mut parts = Vec::new();
        for start in 0..self.members.len() {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            let mut stack = vec![start];
            let mut part = Vec::new();
            while let Some(pos) = stack.pop() {
                let c = &all[self.members[pos] as usize];
                part.push(c);
                for n in &c.neighbours {
                    if let Ok(p) = self.members.binary_search(n)
                        && !seen[p]
                    {
                        seen[p] = true;
                        stack.push(p);
                    }
                }
            }
            part.sort_by_key(|c| c.code);
            parts.push(part);
        }
        parts
    }
}

/// A commune and its great-circle distance from a point, for "communes near" searches.
#[derive(Debug, Clone, Copy)]
pub struct Nearby<'r> {
    pub commune: &'r Commune,
    pub km: f64,
}

/// Communes whose centre lies within `km` of `from`'s centre, nearest first (then by code);
/// `from` itself comes first at 0 km. Municipal arrondissements are listed only when `from` is
/// one, so that a city and its parts are not counted twice.
pub fn communes_within<'r>(reference: &'r Reference, from: &Commune, km: f64) -> Vec<Nearby<'r>> {
    let arrondissements = from.kind == CommuneKind::MunicipalArrondissement;
    let mut out: Vec<Nearby<'r>> = reference
        .communes()
        .iter()
        .filter(|c| match c.kind {
            CommuneKind::MunicipalArrondissement => arrondissements,
            CommuneKind::Commune => !(arrondissements && from.parent == Some(c.code)),
        })
        .filter_map(|c| {
            let d = from.centre.distance_km(c.centre);
            (d <= km).then_some(Nearby { commune: c, km: d })
        })
        .collect();
    out.sort_by(|a, b| a.km.total_cmp(&b.km).then(a.commune.code.cmp(&b.commune.code)));
    out
}

/// Distance in km between two communes' centres.
pub fn distance_km(a: &Commune, b: &Commune) -> f64 {
    a.centre.distance_km(b.centre)
}

/// One commune as listed in a territory summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommuneSummary {
    pub code: String,
    pub name: String,
    pub departement: String,
    pub population: u32,
    pub lat: f64,
    pub lon: f64,
}

impl From<&Commune> for CommuneSummary {
    fn from(c: &Commune) -> Self {
        Self {
            code: c.code.to_string(),
            name: c.name.clone(),
            departement: c.departement.clone(),
            population: c.population,
            lat: c.centre.lat,
            lon: c.centre.lon,
        }
    }
}

/// What a territory amounts to, as the CLI and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerritorySummary {
    pub population: u64,
    /// ACI size class, 1 to 4.
    #[cfg_attr(feature = "openapi", schema(value_type = u8, minimum = 1, maximum = 4))]
    pub size_class: SizeClass,
    pub communes: Vec<CommuneSummary>,
    pub departements: Vec<DepartementShare>,
    /// Codes of the communes outside the territory that share a border with it.
    pub neighbours: Vec<String>,
    pub contiguous: bool,
    /// Which reference data the figures come from.
    pub reference: String,
}

impl Territory<'_> {
    pub fn summary(&self, thresholds: &SizeThresholds) -> TerritorySummary {
        TerritorySummary {
            population: self.population(),
            size_class: self.size_class(thresholds),
            communes: self.communes().map(CommuneSummary::from).collect(),
            departements: self.by_departement(),
            neighbours: self.neighbours().iter().map(|c| c.code.to_string()).collect(),
            contiguous: self.connected_parts().len() == 1,
            reference: self.reference.vintage().to_owned(),
        }
    }
}
