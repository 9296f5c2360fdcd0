//! The territory's directory of health professionals: imported from the Annuaire Santé,
//! corrected locally, with membership on top.
//!
//! It is personal data of the CPTS's people: its coordinator, board and member professionals
//! read it (`Action::ViewCptsPersonalData`), never the ARS, the CPAM or the national level.
//! Every profile read is written to the audit log. Corrections and membership are changed by the
//! coordinator and board (`Action::EditCpts`); a member professional whose account is linked to
//! her profile corrects her own contact details ([`SELF_EDITABLE`]). Links between accounts and
//! professionals are made by the coordinator (`Action::ManageCptsAccounts`). Every change commits
//! its audit event in the store transaction.

use super::{Ctx, Need, load_cpts, regions_of};
use crate::error::Failure;
use maillage_core::access::{Action, CptsId, CptsScope, Role};
use maillage_core::directory::model::{
    CorrectableField, Correction, EffectiveProfessional, Membership, NationalId, effective,
};
use maillage_core::directory::professions::profession;
use maillage_core::ids::InseeCode;
use maillage_store::{
    Account, AccountStore, Cpts, DirectoryEntry, DirectoryQuery, DirectoryRow, DirectoryStore, ImportRecord, StoreError,
};

/// Professionals per page of a search.
pub const PAGE_SIZE: u32 = 50;

/// What a member professional may correct on her own profile: how to reach her and what she
/// offers. The address, the exercise mode and everything imported from the national registers
/// stay with the coordination.
pub const SELF_EDITABLE: [CorrectableField; 5] = [
    CorrectableField::Phone,
    CorrectableField::Email,
    CorrectableField::Mssante,
    CorrectableField::SnpParticipant,
    CorrectableField::AcceptsNewPatients,
];

/// One CPTS's directory as its reader may use it.
pub struct Directory {
    pub cpts: Cpts,
    /// Coordinator and board: corrections and membership.
    pub can_edit: bool,
    /// Coordinator: links accounts to professionals.
    pub can_link: bool,
    /// The national id of the professional the caller's account is linked to, if any.
    pub own: Option<String>,
}

impl Directory {
    /// Whether the reader may change `field` of the professional `national_id`.
    pub fn may_correct(&self, national_id: &str, field: CorrectableField) -> bool {
        self.can_edit || (self.own.as_deref() == Some(national_id) && SELF_EDITABLE.contains(&field))
    }

    /// Whether the reader may change anything of this professional's profile.
    pub fn may_correct_any(&self, national_id: &str) -> bool {
        self.can_edit || self.own.as_deref() == Some(national_id)
    }
}

/// Opens a CPTS's directory if the caller may read it: another tenant's is "not found", a role
/// that never reads personal data (ARS, CPAM, national) is "forbidden".
pub async fn open(ctx: &Ctx<'_>, id: &str) -> Result<Directory, Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    let regions = regions_of(ctx.state, &cpts.communes);
    let scope = CptsScope { id: &cpts.id, regions: &regions };
    let can_edit = ctx.allow(Action::EditCpts(scope)).is_ok();
    let can_link = ctx.allow(Action::ManageCptsAccounts(scope)).is_ok();
    let own = own_professional(ctx, &cpts.id).await?;
    Ok(Directory { cpts, can_edit, can_link, own })
}

async fn own_professional(ctx: &Ctx<'_>, cpts: &CptsId) -> Result<Option<String>, Failure> {
    if ctx.principal.role().cpts() != Some(cpts) {
        return Ok(None);
    }
    Ok(ctx.state.store.professional_of_account(cpts, &ctx.principal.account.id).await?)
}

/// The caller's own profile, if her account is linked to one: (CPTS, national id).
pub async fn my_profile(ctx: &Ctx<'_>) -> Result<Option<(CptsId, String)>, Failure> {
    let Some(cpts) = ctx.principal.role().cpts() else { return Ok(None) };
    Ok(own_professional(ctx, cpts).await?.map(|nid| (cpts.clone(), nid)))
}

/// A search as asked: every criterion optional.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Words matched, in any order, against names, profession and communes (accents and case
    /// ignored).
    pub text: Option<String>,
    /// A profession code (`10`, `60`…).
    pub profession: Option<String>,
    /// An INSEE commune code: professionals with a place there.
    pub commune: Option<String>,
    /// `Some(true)`: active members only; `Some(false)`: the others.
    pub member: Option<bool>,
    /// `Some(true)`: those recorded as taking part in same-day care; `Some(false)`: the others.
    pub snp: Option<bool>,
    /// Also those the latest national extract no longer lists.
    pub include_left: bool,
    /// From 1.
    pub page: u32,
}

/// One page of a search.
pub struct SearchResult {
    pub rows: Vec<DirectoryRow>,
    pub total: u64,
    /// From 1.
    pub page: u32,
    pub pages: u32,
}

fn present(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a search's criteria; every problem is said in French.
pub fn check_search(search: &Search) -> Result<DirectoryQuery, Failure> {
    let text = present(search.text.as_deref());
    if text.is_some_and(|t| t.chars().count() > 200) {
        return Err(Failure::invalid(
            "invalid_text",
            "La recherche compte au plus 200 caractères.",
            "the search text has at most 200 characters",
        ));
    }
    let profession_code = present(search.profession.as_deref());
    if let Some(p) = profession_code
        && (p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Failure::invalid(
            "invalid_profession",
            format!("« {p} » n'est pas un code de profession (deux chiffres)."),
            format!("{p:?} is not a profession code (two digits)"),
        ));
    }
    let commune = present(search.commune.as_deref())
        .map(|c| {
            InseeCode::parse(c).map(|c| c.as_str().to_owned()).map_err(|e| {
                Failure::invalid("invalid_commune", format!("Commune : {}.", e.fr), format!("commune: {}", e.en))
            })
        })
        .transpose()?;
    let page = search.page.max(1);
    Ok(DirectoryQuery {
        text: text.map(str::to_owned),
        profession: profession_code.map(str::to_owned),
        commune,
        member: search.member,
        snp: search.snp,
        include_left: search.include_left,
        offset: (page - 1).saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE,
    })
}

/// One page of professionals matching `search`, by family then given name. The list (names,
/// professions, communes, membership flag) is not logged search by search; opening a profile is.
pub async fn search(ctx: &Ctx<'_>, dir: &Directory, search: &Search) -> Result<SearchResult, Failure> {
    let query = check_search(search)?;
    let (rows, total) = ctx.state.store.search_directory(&dir.cpts.id, &query).await?;
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE))).unwrap_or(u32::MAX).max(1);
    Ok(SearchResult { rows, total, page: search.page.max(1), pages })
}

/// A profession present in the directory, for the search form.
pub struct ProfessionCount {
    pub code: String,
    /// Plural label ("Infirmiers"), or the code when the table does not know it.
    pub label: String,
    pub count: u64,
}

/// The professions of the professionals still listed, by label.
pub async fn professions_present(ctx: &Ctx<'_>, dir: &Directory) -> Result<Vec<ProfessionCount>, Failure> {
    let mut list: Vec<ProfessionCount> = ctx
        .state
        .store
        .directory_professions(&dir.cpts.id)
        .await?
        .into_iter()
        .map(|(code, count)| ProfessionCount {
            label: profession(&code).map_or_else(|| format!("Profession {code}"), |p| p.label_plural.clone()),
            code,
            count,
        })
        .collect();
    list.sort_by_cached_key(|p| maillage_core::text::fold_for_search(&p.label));
    Ok(list)
}

/// The territory's communes, by name: (code, name).
pub fn territory_communes(ctx: &Ctx<'_>, dir: &Directory) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = dir
        .cpts
        .communes
        .iter()
        .map(|c| {
            let name =
                ctx.state.reference.commune(c.as_str()).map_or_else(|| c.as_str().to_owned(), |r| r.name.clone());
            (c.as_str().to_owned(), name)
        })
        .collect();
    list.sort_by_cached_key(|c| maillage_core::text::fold_for_search(&c.1));
    list
}

/// The canonical national id of a path segment; anything else is "not found".
pub fn national_id(text: &str) -> Result<String, Failure> {
    NationalId::parse(text).map(|n| n.to_string()).map_err(|_| Failure::NotFound)
}

/// A professional as the profile page and the API show them.
pub struct Profile {
    pub dir: Directory,
    pub national_id: String,
    pub entry: DirectoryEntry,
    /// Imported values with the corrections applied, each saying where it comes from.
    pub view: EffectiveProfessional,
    /// The caller is this professional (her account is linked to the profile).
    pub is_self: bool,
    /// For the coordinator: the account linked to this professional, and the member accounts
    /// that could be.
    pub linked_account: Option<Account>,
    pub member_accounts: Vec<Account>,
}

/// Reads a profile; the read is written to the audit log (a read that cannot be logged is not
/// served).
pub async fn profile(ctx: &Ctx<'_>, id: &str, national_id_text: &str) -> Result<Profile, Failure> {
    let dir = open(ctx, id).await?;
    let nid = national_id(national_id_text)?;
    let entry = ctx.state.store.directory_entry(&dir.cpts.id, &nid).await?;
    let view = effective(&entry.professional, &entry.corrections);
    let (linked_account, member_accounts) = if dir.can_link {
        let accounts = ctx.state.store.list_accounts(Some(&dir.cpts.id)).await?;
        let linked_id = ctx.state.store.account_of_professional(&dir.cpts.id, &nid).await?;
        let linked = linked_id.and_then(|a| accounts.iter().find(|x| x.id == a).cloned());
        let members = accounts
            .into_iter()
            .filter(|a| matches!(a.role, Role::MemberProfessional { .. }) && a.disabled_at.is_none())
            .collect();
        (linked, members)
    } else {
        (None, Vec::new())
    };
    ctx.audit(Some(&dir.cpts.id), "read", "professional", &nid, "fiche de l'annuaire").await?;
    Ok(Profile {
        is_self: dir.own.as_deref() == Some(nid.as_str()),
        national_id: nid,
        entry,
        view,
        dir,
        linked_account,
        member_accounts,
    })
}

fn describe(field: CorrectableField, place: Option<&str>) -> String {
    match place {
        Some(p) => format!("{} (lieu {p})", field.fr()),
        None => field.fr().to_owned(),
    }
}

/// What the caller may do to one field of one professional: loads the directory, checks the
/// professional (and the place) exist and the caller may change the field.
async fn for_correction(
    ctx: &Ctx<'_>,
    id: &str,
    national_id_text: &str,
    field: CorrectableField,
    place: Option<&str>,
) -> Result<(Directory, String, DirectoryEntry), Failure> {
    let dir = open(ctx, id).await?;
    let nid = national_id(national_id_text)?;
    let entry = ctx.state.store.directory_entry(&dir.cpts.id, &nid).await?;
    if !dir.may_correct(&nid, field) {
        return Err(Failure::Forbidden);
    }
    if let Some(p) = place
        && entry.professional.place(p).is_none()
        && !entry.corrections.iter().any(|c| c.place.as_deref() == Some(p))
    {
        return Err(Failure::invalid(
            "unknown_place",
            format!("Ce professionnel n'a pas de lieu d'exercice « {p} »."),
            format!("this professional has no practice place {p:?}"),
        ));
    }
    Ok((dir, nid, entry))
}

/// Sets (or replaces) a local correction; returns it as stored (normalized).
pub async fn set_correction(
    ctx: &Ctx<'_>,
    id: &str,
    national_id_text: &str,
    field: CorrectableField,
    place: Option<&str>,
    value: &str,
) -> Result<Correction, Failure> {
    let place = present(place);
    let (dir, nid, entry) = for_correction(ctx, id, national_id_text, field, place).await?;
    let correction = Correction::new(field, place, value).map_err(|e| {
        Failure::invalid("invalid_correction", format!("Correction non enregistrée : {}.", e.fr), e.to_string())
    })?;
    // A correction of a place that no longer exists is kept for review, not created.
    if let Some(p) = place
        && entry.professional.place(p).is_none()
    {
        return Err(Failure::invalid(
            "unknown_place",
            format!("Ce professionnel n'a plus de lieu d'exercice « {p} »."),
            format!("this professional no longer has a practice place {p:?}"),
        ));
    }
    let shown = if correction.value.is_empty() { "(effacé)" } else { correction.value.as_str() };
    let detail = format!("correction : {} = {shown}", describe(field, place));
    let event = ctx.event(Some(&dir.cpts.id), "update", "professional", &nid, detail);
    let by = ctx.principal.label();
    ctx.state.store.put_correction(&dir.cpts.id, &nid, &correction, &by, ctx.state.now(), &event).await?;
    Ok(correction)
}

/// Removes a local correction: the imported value shows again. "Not found" when there is none.
pub async fn remove_correction(
    ctx: &Ctx<'_>,
    id: &str,
    national_id_text: &str,
    field: CorrectableField,
    place: Option<&str>,
) -> Result<(), Failure> {
    let place = present(place);
    let (dir, nid, _) = for_correction(ctx, id, national_id_text, field, place).await?;
    let detail = format!("correction retirée : {}", describe(field, place));
    let event = ctx.event(Some(&dir.cpts.id), "delete", "professional", &nid, detail);
    Ok(ctx.state.store.delete_correction(&dir.cpts.id, &nid, field, place, &event).await?)
}

/// A field name of the API or a form (`phone`, `mssante`…), or a French refusal.
pub fn field(text: &str) -> Result<CorrectableField, Failure> {
    text.parse()
        .map_err(|e: String| Failure::invalid("unknown_field", format!("Champ inconnu : « {} ».", text.trim()), e))
}

/// Checks a membership as typed, for a professional or a structure: dates and status agree,
/// the board role is short.
pub fn check_membership(membership: &Membership) -> Result<(), Failure> {
    membership.check().map_err(|e| {
        Failure::invalid("invalid_membership", format!("Adhésion non enregistrée : {}.", e.fr), e.en.clone())
    })?;
    if membership.board_role.as_deref().is_some_and(|r| r.chars().count() > 100) {
        return Err(Failure::invalid(
            "invalid_membership",
            "Adhésion non enregistrée : le rôle au bureau compte au plus 100 caractères.",
            "board role has at most 100 characters",
        ));
    }
    Ok(())
}

/// Records (or replaces) the membership of a professional (coordinator and board).
pub async fn set_membership(
    ctx: &Ctx<'_>,
    id: &str,
    national_id_text: &str,
    membership: &Membership,
) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let nid = national_id(national_id_text)?;
    check_membership(membership)?;
    let status = match membership.status {
        maillage_core::directory::model::MembershipStatus::Active => "active",
        maillage_core::directory::model::MembershipStatus::Suspended => "suspendue",
        maillage_core::directory::model::MembershipStatus::Left => "terminée",
    };
    let detail = format!("adhésion {status} depuis le {}", membership.joined_on.format("%d/%m/%Y"));
    let event = ctx.event(Some(&cpts.id), "update", "membership", &nid, detail);
    Ok(ctx.state.store.put_membership(&cpts.id, &nid, membership, ctx.state.now(), &event).await?)
}

/// Links a member professional's account to a professional of the directory (coordinator), or
/// removes the link with `None`.
pub async fn link_account(
    ctx: &Ctx<'_>,
    id: &str,
    national_id_text: &str,
    account_id: Option<&str>,
) -> Result<Option<Account>, Failure> {
    let cpts = load_cpts(ctx, id, Need::Accounts).await?;
    let nid = national_id(national_id_text)?;
    let store = &ctx.state.store;
    // The professional must exist (unknown ones are "not found" before anything else).
    store.directory_entry(&cpts.id, &nid).await?;
    let Some(account_id) = present(account_id) else {
        let Some(linked) = store.account_of_professional(&cpts.id, &nid).await? else {
            return Err(Failure::invalid(
                "not_linked",
                "Aucun compte n'est relié à ce professionnel.",
                "no account is linked to this professional",
            ));
        };
        let event = ctx.event(Some(&cpts.id), "delete", "account_professional", &nid, format!("compte {linked}"));
        store.unlink_account_professional(&cpts.id, &linked, &event).await?;
        return Ok(None);
    };
    let not_member = || {
        Failure::invalid(
            "not_a_member_account",
            "Seul le compte d'un professionnel adhérent de la CPTS peut être relié à une fiche.",
            "only a member professional account of this CPTS can be linked to a professional",
        )
    };
    let account = match store.get_account(account_id).await {
        Ok(a) => a,
        Err(StoreError::NotFound) => return Err(not_member()),
        Err(e) => return Err(e.into()),
    };
    if account.role != (Role::MemberProfessional { cpts: cpts.id.clone() }) {
        return Err(not_member());
    }
    let event = ctx.event(Some(&cpts.id), "update", "account_professional", &nid, format!("compte {}", account.email));
    store.link_account_professional(&cpts.id, &account.id, &nid, &event).await.map_err(|e| match e {
        StoreError::Conflict(en) => Failure::Conflict {
            fr: "Un autre compte est déjà relié à ce professionnel : retirez d'abord ce lien.".into(),
            en,
        },
        other => other.into(),
    })?;
    Ok(Some(account))
}

/// The imports of the national extract into this CPTS's directory, newest first (coordinator
/// and board).
pub async fn imports(ctx: &Ctx<'_>, id: &str) -> Result<(Cpts, Vec<ImportRecord>), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let list = ctx.state.store.list_imports(&cpts.id).await?;
    Ok((cpts, list))
}

/// Aggregates of the directory (no one is named): for every role that sees the CPTS overview,
/// the ARS and CPAM of its région included.
pub async fn stats(
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<(Cpts, maillage_core::directory::stats::DirectoryStats), Failure> {
    let cpts = super::load_cpts(ctx, id, super::Need::Overview).await?;
    let inputs = ctx.state.store.stat_inputs(&cpts.id).await?;
    let counts = ctx.state.store.departement_counts(&cpts.id).await?;
    let stats = maillage_core::directory::stats::directory_stats(ctx.state.reference, &cpts.communes, &inputs, &counts);
    Ok((cpts, stats))
}
