//! Who may do what: roles, tenants, and the one function where access is decided.
//!
//! The tenant is a CPTS. People of a CPTS see their own CPTS and nothing of the others; ARS and
//! CPAM staff see aggregates (never personal data) of the CPTS of their région; national
//! observers see aggregates of all; platform admins administer the instance.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifier of a CPTS (the tenant): a lower-case textual UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CptsId(String);

impl CptsId {
    /// Accepts a UUID in its 8-4-4-4-12 hexadecimal form (any case); anything else is refused.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        let groups: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups.iter().zip(lens).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        ok.then_some(Self(s))
    }

    /// Formats 16 bytes (from the caller's random source: the core draws no randomness) as a
    /// version-4 UUID.
    pub fn from_random_bytes(mut b: [u8; 16]) -> Self {
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Self(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CptsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The public bodies that fund and evaluate CPTS in a région.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Agency {
    Ars,
    Cpam,
}

impl Agency {
    pub fn label_fr(self) -> &'static str {
        match self {
            Agency::Ars => "ARS",
            Agency::Cpam => "CPAM",
        }
    }
}

/// An account's role. Tenant roles carry their CPTS; regional observers their région (INSEE code).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    PlatformAdmin,
    NationalObserver,
    RegionalObserver { agency: Agency, region: String },
    Coordinator { cpts: CptsId },
    BoardMember { cpts: CptsId },
    MemberProfessional { cpts: CptsId },
}

/// Role names as stored and as the API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    PlatformAdmin,
    NationalObserver,
    RegionalObserver,
    Coordinator,
    BoardMember,
    MemberProfessional,
}

impl RoleKind {
    pub const ALL: [RoleKind; 6] = [
        RoleKind::PlatformAdmin,
        RoleKind::NationalObserver,
        RoleKind::RegionalObserver,
        RoleKind::Coordinator,
        RoleKind::BoardMember,
        RoleKind::MemberProfessional,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::PlatformAdmin => "platform_admin",
            RoleKind::NationalObserver => "national_observer",
            RoleKind::RegionalObserver => "regional_observer",
            RoleKind::Coordinator => "coordinator",
            RoleKind::BoardMember => "board_member",
            RoleKind::MemberProfessional => "member_professional",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            RoleKind::PlatformAdmin => "Administration de la plateforme",
            RoleKind::NationalObserver => "Observatoire national",
            RoleKind::RegionalObserver => "Observatoire régional (ARS / CPAM)",
            RoleKind::Coordinator => "Coordination de la CPTS",
            RoleKind::BoardMember => "Bureau de la CPTS",
            RoleKind::MemberProfessional => "Professionnel adhérent",
        }
    }

    /// Whether the role belongs to one CPTS.
    pub fn is_tenant_role(self) -> bool {
        matches!(self, RoleKind::Coordinator | RoleKind::BoardMember | RoleKind::MemberProfessional)
    }
}

/// Why a role description cannot be a [`Role`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("role {0} needs a CPTS")]
    MissingCpts(&'static str),
    #[error("role regional_observer needs a région and an agency (ars or cpam)")]
    MissingRegion,
    #[error("role {0} takes neither a CPTS nor a région")]
    Unexpected(&'static str),
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    #[error("{0:?} is not a CPTS id")]
    UnknownCpts(String),
    #[error("unknown agency {0:?} (ars or cpam)")]
    UnknownAgency(String),
}

impl RoleError {
    pub fn fr(&self) -> String {
        match self {
            RoleError::MissingCpts(_) => "ce rôle est rattaché à une CPTS : choisissez-la".into(),
            RoleError::MissingRegion => "ce rôle est rattaché à une région et à un organisme (ARS ou CPAM)".into(),
            RoleError::Unexpected(_) => "ce rôle n'est rattaché ni à une CPTS ni à une région".into(),
            RoleError::UnknownRole(r) => format!("rôle inconnu : « {r} »"),
            RoleError::UnknownCpts(_) => "CPTS inconnue".into(),
            RoleError::UnknownAgency(a) => format!("organisme inconnu : « {a} » (ARS ou CPAM)"),
        }
    }

    /// A stable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            RoleError::UnknownCpts(_) => "unknown_cpts",
            RoleError::UnknownAgency(_) => "invalid_agency",
            _ => "invalid_role",
        }
    }
}

/// A trimmed, non-empty text, or `None`.
fn present(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Role {
    /// Builds a role from its stored parts, refusing inconsistent combinations.
    pub fn from_parts(
        kind: RoleKind,
        cpts: Option<CptsId>,
        region: Option<String>,
        agency: Option<Agency>,
    ) -> Result<Role, RoleError> {
        let region = region.filter(|r| !r.trim().is_empty());
        match kind {
            RoleKind::PlatformAdmin | RoleKind::NationalObserver => {
                if cpts.is_some() || region.is_some() {
                    return Err(RoleError::Unexpected(kind.as_str()));
                }
                Ok(if kind == RoleKind::PlatformAdmin { Role::PlatformAdmin } else { Role::NationalObserver })
            }
            RoleKind::RegionalObserver => match (region, agency, cpts) {
                (Some(region), Some(agency), None) => Ok(Role::RegionalObserver { agency, region }),
                (_, _, Some(_)) => Err(RoleError::Unexpected(kind.as_str())),
                _ => Err(RoleError::MissingRegion),
            },
            RoleKind::Coordinator | RoleKind::BoardMember | RoleKind::MemberProfessional => {
                let cpts = cpts.ok_or(RoleError::MissingCpts(kind.as_str()))?;
                if region.is_some() {
                    return Err(RoleError::Unexpected(kind.as_str()));
                }
                Ok(match kind {
                    RoleKind::Coordinator => Role::Coordinator { cpts },
                    RoleKind::BoardMember => Role::BoardMember { cpts },
                    _ => Role::MemberProfessional { cpts },
                })
            }
        }
    }

    /// A role from its textual parts, as forms, API bodies and CLI flags give them (empty
    /// strings count as absent). `forced_cpts` is the CPTS of the page or route: tenant roles
    /// take it whatever `cpts` says, other roles ignore it.
    pub fn from_text(
        kind: &str,
        cpts: Option<&str>,
        region: Option<&str>,
        agency: Option<&str>,
        forced_cpts: Option<&CptsId>,
    ) -> Result<Role, RoleError> {
        let kind = RoleKind::parse(kind.trim()).ok_or_else(|| RoleError::UnknownRole(kind.to_owned()))?;
        let cpts = match (forced_cpts, present(cpts)) {
            (Some(forced), _) => kind.is_tenant_role().then(|| forced.clone()),
            (None, Some(s)) => Some(CptsId::parse(s).ok_or_else(|| RoleError::UnknownCpts(s.to_owned()))?),
            (None, None) => None,
        };
        let agency = match present(agency) {
            Some("ars") => Some(Agency::Ars),
            Some("cpam") => Some(Agency::Cpam),
            Some(other) => return Err(RoleError::UnknownAgency(other.to_owned())),
            None => None,
        };
        Role::from_parts(kind, cpts, present(region).map(str::to_owned), agency)
    }

    pub fn kind(&self) -> RoleKind {
        match self {
            Role::PlatformAdmin => RoleKind::PlatformAdmin,
            Role::NationalObserver => RoleKind::NationalObserver,
            Role::RegionalObserver { .. } => RoleKind::RegionalObserver,
            Role::Coordinator { .. } => RoleKind::Coordinator,
            Role::BoardMember { .. } => RoleKind::BoardMember,
            Role::MemberProfessional { .. } => RoleKind::MemberProfessional,
        }
    }

    /// The CPTS a tenant role belongs to.
    pub fn cpts(&self) -> Option<&CptsId> {
        match self {
            Role::Coordinator { cpts } | Role::BoardMember { cpts } | Role::MemberProfessional { cpts } => Some(cpts),
            _ => None,
        }
    }

    pub fn region(&self) -> Option<&str> {
        match self {
            Role::RegionalObserver { region, .. } => Some(region),
            _ => None,
        }
    }

    pub fn agency(&self) -> Option<Agency> {
        match self {
            Role::RegionalObserver { agency, .. } => Some(*agency),
            _ => None,
        }
    }
}

/// A CPTS as access decisions need to see it: its id and the région(s) its communes lie in.
#[derive(Debug, Clone, Copy)]
pub struct CptsScope<'a> {
    pub id: &'a CptsId,
    pub regions: &'a [String],
}

/// What someone asks to do. Each variant names the object it applies to.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// The CPTS overview: territory, population, size class, counts. Aggregates only.
    ViewCptsOverview(CptsScope<'a>),
    /// Personal data of a CPTS (members, patients…): its own people only.
    ViewCptsPersonalData(CptsScope<'a>),
    /// Change a CPTS's data (territory, members, missions, its ACI contract and spending).
    EditCpts(CptsScope<'a>),
    /// The ACI contract of a CPTS, its payments and spending: its governance, and the ARS and
    /// CPAM of its région, who signed it.
    ViewContract(CptsScope<'a>),
    /// The audit log of one CPTS.
    ViewCptsAudit(CptsScope<'a>),
    /// The audit log of the whole platform.
    ViewPlatformAudit,
    /// Create CPTS, accounts of any role.
    AdministerPlatform,
    /// Create and manage the accounts of one CPTS.
    ManageCptsAccounts(CptsScope<'a>),
    /// Aggregates of a région.
    ViewRegion(&'a str),
    /// Aggregates of the whole nation.
    ViewNation,
    /// Record the work of the task force of a zone blanche of a région (ARS and CPAM of the
    /// région, who own task forces; the national level reads them only).
    FollowTaskForce(&'a str),
    /// Replace the national registry of CPTS (the platform's administrators, from the national
    /// file).
    ManageNationalRegistry,
}

/// A refusal. `conceal` asks the caller to answer "not found" rather than "forbidden", so that
/// people of one CPTS cannot even learn that another CPTS's objects exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    pub conceal: bool,
}

/// The one place where access is decided.
pub fn authorize(role: &Role, action: Action<'_>) -> Result<(), Denied> {
    use Action::*;
    let own = |scope: &CptsScope<'_>| role.cpts() == Some(scope.id);
    let in_region = |scope: &CptsScope<'_>| role.region().is_some_and(|r| scope.regions.iter().any(|x| x == r));
    let allowed = match (role, action) {
        (Role::PlatformAdmin, _) => true,
        (Role::NationalObserver, ViewCptsOverview(_) | ViewRegion(_) | ViewNation) => true,
        (Role::RegionalObserver { region, .. }, ViewRegion(r) | FollowTaskForce(r)) => region == r,
        (Role::RegionalObserver { .. }, ViewCptsOverview(scope) | ViewContract(scope)) => in_region(&scope),
        (Role::Coordinator { .. } | Role::BoardMember { .. }, ViewContract(scope)) => own(&scope),
        (_, ViewCptsOverview(scope) | ViewCptsPersonalData(scope)) => own(&scope),
        (Role::Coordinator { .. } | Role::BoardMember { .. }, EditCpts(scope)) => own(&scope),
        (Role::Coordinator { .. }, ViewCptsAudit(scope) | ManageCptsAccounts(scope)) => own(&scope),
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    // Conceal the objects of another CPTS from tenant roles; say "forbidden" for the rest.
    let conceal = match action {
        ViewCptsOverview(s)
        | ViewCptsPersonalData(s)
        | EditCpts(s)
        | ViewContract(s)
        | ViewCptsAudit(s)
        | ManageCptsAccounts(s) => !own(&s) && !in_region(&s) && !matches!(role, Role::NationalObserver),
        _ => false,
    };
    Err(Denied { conceal })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> CptsId {
        CptsId::parse(&format!("{n:08x}-0000-4000-8000-000000000000")).unwrap()
    }

    #[test]
    fn random_ids_parse_back() {
        let a = CptsId::from_random_bytes([0xab; 16]);
        assert_eq!(a.as_str(), "abababab-abab-4bab-abab-abababababab");
        assert_eq!(CptsId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn cpts_id_parses_uuids_only() {
        assert!(CptsId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").is_some());
        for bad in ["", "x", "6f9619ff8b86d011b42d00c04fc964ff", "6f9619ff-8b86-d011-b42d-00c04fc964fg"] {
            assert!(CptsId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn roles_need_their_scope() {
        assert_eq!(
            Role::from_parts(RoleKind::Coordinator, None, None, None),
            Err(RoleError::MissingCpts("coordinator"))
        );
        assert_eq!(
            Role::from_parts(RoleKind::RegionalObserver, None, Some("24".into()), None),
            Err(RoleError::MissingRegion)
        );
        assert_eq!(
            Role::from_parts(RoleKind::PlatformAdmin, Some(id(1)), None, None),
            Err(RoleError::Unexpected("platform_admin"))
        );
        for kind in RoleKind::ALL {
            assert_eq!(RoleKind::parse(kind.as_str()), Some(kind));
        }
        let ars = Role::from_text("regional_observer", Some(""), Some(" 24 "), Some("ars"), None);
        assert_eq!(ars, Ok(Role::RegionalObserver { agency: Agency::Ars, region: "24".into() }));
        assert_eq!(
            Role::from_text("coordinator", None, None, None, Some(&id(1))),
            Ok(Role::Coordinator { cpts: id(1) })
        );
        assert_eq!(Role::from_text("platform_admin", None, None, None, Some(&id(1))), Ok(Role::PlatformAdmin));
        assert_eq!(Role::from_text("chef", None, None, None, None), Err(RoleError::UnknownRole("chef".into())));
        assert_eq!(
            Role::from_text("coordinator", Some("x"), None, None, None),
            Err(RoleError::UnknownCpts("x".into()))
        );
        let bad_agency = Role::from_text("regional_observer", None, Some("24"), Some("drees"), None);
        assert_eq!(bad_agency, Err(RoleError::UnknownAgency("drees".into())));
    }

    /// The whole matrix: every role against every action on its own CPTS, a CPTS of its région
    /// and a CPTS elsewhere.
    #[test]
    fn access_matrix() {
        let regions_centre = ["24".to_string()];
        let regions_bretagne = ["53".to_string()];
        let own = CptsScope { id: &id(1), regions: &regions_centre };
        let same_region = CptsScope { id: &id(2), regions: &regions_centre };
        let elsewhere = CptsScope { id: &id(3), regions: &regions_bretagne };
        let roles = [
            ("admin", Role::PlatformAdmin),
            ("national", Role::NationalObserver),
            ("ars-centre", Role::RegionalObserver { agency: Agency::Ars, region: "24".into() }),
            ("coordinator", Role::Coordinator { cpts: id(1) }),
            ("board", Role::BoardMember { cpts: id(1) }),
            ("member", Role::MemberProfessional { cpts: id(1) }),
        ];
        // Expected: A = allowed, 4 = concealed (not found), 3 = forbidden.
        type Row = (&'static str, [char; 6]);
        let table: Vec<(Action, Row)> = vec![
            (Action::ViewCptsOverview(own), ("overview own", ['A', 'A', 'A', 'A', 'A', 'A'])),
            (Action::ViewCptsOverview(same_region), ("overview region", ['A', 'A', 'A', '4', '4', '4'])),
            (Action::ViewCptsOverview(elsewhere), ("overview elsewhere", ['A', 'A', '4', '4', '4', '4'])),
            (Action::ViewCptsPersonalData(own), ("personal own", ['A', '3', '3', 'A', 'A', 'A'])),
            (Action::ViewCptsPersonalData(same_region), ("personal region", ['A', '3', '3', '4', '4', '4'])),
            (Action::EditCpts(own), ("edit own", ['A', '3', '3', 'A', 'A', '3'])),
            (Action::EditCpts(elsewhere), ("edit elsewhere", ['A', '3', '4', '4', '4', '4'])),
            (Action::ViewContract(own), ("contract own", ['A', '3', 'A', 'A', 'A', '3'])),
            (Action::ViewContract(same_region), ("contract region", ['A', '3', 'A', '4', '4', '4'])),
            (Action::ViewContract(elsewhere), ("contract elsewhere", ['A', '3', '4', '4', '4', '4'])),
            (Action::ViewCptsAudit(own), ("audit own", ['A', '3', '3', 'A', '3', '3'])),
            (Action::ViewCptsAudit(same_region), ("audit region", ['A', '3', '3', '4', '4', '4'])),
            (Action::ManageCptsAccounts(own), ("accounts own", ['A', '3', '3', 'A', '3', '3'])),
            (Action::ViewPlatformAudit, ("platform audit", ['A', '3', '3', '3', '3', '3'])),
            (Action::AdministerPlatform, ("administer", ['A', '3', '3', '3', '3', '3'])),
            (Action::ViewRegion("24"), ("region 24", ['A', 'A', 'A', '3', '3', '3'])),
            (Action::ViewRegion("53"), ("region 53", ['A', 'A', '3', '3', '3', '3'])),
            (Action::ViewNation, ("nation", ['A', 'A', '3', '3', '3', '3'])),
            (Action::FollowTaskForce("24"), ("task force 24", ['A', '3', 'A', '3', '3', '3'])),
            (Action::FollowTaskForce("53"), ("task force 53", ['A', '3', '3', '3', '3', '3'])),
            (Action::ManageNationalRegistry, ("national registry", ['A', '3', '3', '3', '3', '3'])),
        ];
        for (action, (label, expected)) in table {
            for ((who, role), want) in roles.iter().zip(expected) {
                let got = match authorize(role, action) {
                    Ok(()) => 'A',
                    Err(Denied { conceal: true }) => '4',
                    Err(Denied { conceal: false }) => '3',
                };
                assert_eq!(got, want, "{who} / {label}");
            }
        }
    }
}
