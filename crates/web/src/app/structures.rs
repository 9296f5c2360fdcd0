//! The structures of the territory and the roll of members with their dues.
//!
//! Structures are read by the same people as the directory (`Need::PersonalData`: the CPTS's
//! coordinator, board and member professionals; a structure page names the professionals
//! linked to it) and changed by the coordinator and board (`Need::Edit`). The roll of members
//! and dues is the board's business: coordinator and board only. Every change commits its
//! audit event in the store transaction.

use super::{Ctx, Need, load_cpts};
use crate::error::Failure;
use chrono::NaiveDate;
use maillage_core::directory::model::{Membership, StructureKind};
use maillage_core::directory::structures::{
    ImportedStructure, ProfessionalLink, RelationKind, Structure, StructureForm, StructureRelation,
    imported_structures, parse_role,
};
use maillage_core::text::fold_for_search;
use maillage_store::{Cpts, MemberRef, RollEntry, StoreError, StructureEntry, StructureRow, StructureStore};

/// A structure id as this module makes them: `s-` and 16 hex digits.
fn new_structure_id() -> String {
    let bytes: [u8; 8] = rand::random();
    format!("s-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn refused(errors: &[maillage_core::directory::structures::StructureFieldError]) -> Failure {
    let fr = errors.iter().map(|e| format!("{} : {}", field_fr(e.field), e.fr)).collect::<Vec<_>>().join(" ; ");
    let en = errors.iter().map(|e| format!("{}: {}", e.field, e.en)).collect::<Vec<_>>().join("; ");
    Failure::invalid("invalid_structure", format!("Structure non enregistrée — {fr}."), en)
}

/// French label of a form field of a structure.
pub fn field_fr(field: &str) -> &'static str {
    match field {
        "kind" => "type",
        "name" => "nom",
        "finess" => "n° FINESS",
        "siret" => "n° SIRET",
        "technical_id" => "identifiant Annuaire Santé",
        "address_line1" => "adresse",
        "postal_code" => "code postal",
        "commune_code" => "commune",
        "phone" => "téléphone",
        "email" => "courriel",
        "mssante" => "adresse MSSanté",
        "note" => "note",
        "role" => "rôle",
        _ => "champ",
    }
}

fn duplicate(e: StoreError) -> Failure {
    match e {
        StoreError::Conflict(en) => Failure::Conflict {
            fr: "Une autre structure de la CPTS porte déjà ce n° FINESS, ce SIRET ou cet identifiant Annuaire Santé."
                .into(),
            en,
        },
        other => other.into(),
    }
}

/// What a list of structures may be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct StructureFilter {
    /// Words of the name (accents and case ignored).
    pub text: String,
    /// A kind code (`msp`…), empty for all.
    pub kind: String,
}

pub struct StructureList {
    pub cpts: Cpts,
    pub can_edit: bool,
    pub rows: Vec<StructureRow>,
    /// How many the CPTS has in all.
    pub total: usize,
}

/// The structures of a CPTS, by name, narrowed by `filter`.
pub async fn list(ctx: &Ctx<'_>, id: &str, filter: &StructureFilter) -> Result<StructureList, Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    let can_edit = super::allowed(ctx, &cpts, Need::Edit);
    let kind = match filter.kind.trim() {
        "" => None,
        k => Some(
            k.parse::<StructureKind>()
                .map_err(|e| Failure::invalid("unknown_kind", format!("Type de structure inconnu : « {k} »."), e))?,
        ),
    };
    let words: Vec<String> = fold_for_search(&filter.text).split_whitespace().map(str::to_owned).collect();
    let all = ctx.state.store.list_structures(&cpts.id).await?;
    let total = all.len();
    let rows = all
        .into_iter()
        .filter(|r| kind.is_none_or(|k| r.structure.kind == k))
        .filter(|r| {
            let name = fold_for_search(&r.structure.name);
            words.iter().all(|w| name.contains(w.as_str()))
        })
        .collect();
    Ok(StructureList { cpts, can_edit, rows, total })
}

/// The structures named by the imported practice places that the CPTS has not recorded yet
/// (coordinator and board): what can be added in one step.
pub async fn to_add_from_extract(ctx: &Ctx<'_>, id: &str) -> Result<Vec<ImportedStructure>, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let store = &ctx.state.store;
    let known: Vec<Structure> = store.list_structures(&cpts.id).await?.into_iter().map(|r| r.structure).collect();
    let places = store.listed_places(&cpts.id).await?;
    Ok(imported_structures(places.iter().map(|(nid, p)| (nid.as_str(), p)))
        .into_iter()
        .filter(|s| !known.iter().any(|k| k.holds(&s.structure)))
        .collect())
}

/// Creates a structure from the form (coordinator and board).
pub async fn create(ctx: &Ctx<'_>, id: &str, form: &StructureForm) -> Result<Structure, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let structure = form.parse(&new_structure_id()).map_err(|e| refused(&e))?;
    let event = ctx.event(Some(&cpts.id), "create", "structure", &structure.id, structure.name.clone());
    ctx.state.store.create_structure(&cpts.id, &structure, ctx.state.now(), &event).await.map_err(duplicate)?;
    Ok(structure)
}

/// Replaces the fields of a structure (coordinator and board).
pub async fn update(ctx: &Ctx<'_>, id: &str, structure_id: &str, form: &StructureForm) -> Result<Structure, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let structure = form.parse(structure_id).map_err(|e| refused(&e))?;
    let event = ctx.event(Some(&cpts.id), "update", "structure", structure_id, structure.name.clone());
    ctx.state.store.update_structure(&cpts.id, &structure, ctx.state.now(), &event).await.map_err(duplicate)?;
    Ok(structure)
}

/// Deletes a structure with its links and membership (coordinator and board).
pub async fn delete(ctx: &Ctx<'_>, id: &str, structure_id: &str) -> Result<String, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let store = &ctx.state.store;
    let name = store.structure_entry(&cpts.id, structure_id).await?.structure.name;
    let event = ctx.event(Some(&cpts.id), "delete", "structure", structure_id, name.clone());
    store.delete_structure(&cpts.id, structure_id, &event).await?;
    Ok(name)
}

pub struct StructurePage {
    pub cpts: Cpts,
    pub can_edit: bool,
    pub entry: StructureEntry,
    /// Other structures of the CPTS (id, name), by name: what a relation may point at.
    pub others: Vec<(String, String)>,
}

/// A structure's page.
pub async fn entry(ctx: &Ctx<'_>, id: &str, structure_id: &str) -> Result<StructurePage, Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    let can_edit = super::allowed(ctx, &cpts, Need::Edit);
    let store = &ctx.state.store;
    let entry = store.structure_entry(&cpts.id, structure_id).await?;
    let others = if can_edit {
        store
            .list_structures(&cpts.id)
            .await?
            .into_iter()
            .filter(|r| r.structure.id != structure_id)
            .map(|r| (r.structure.id, r.structure.name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(StructurePage { cpts, can_edit, entry, others })
}

/// Links a professional of the directory to the structure by hand, with a role.
pub async fn link(
    ctx: &Ctx<'_>,
    id: &str,
    structure_id: &str,
    national_id_text: &str,
    role: &str,
) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let national_id = super::directory::national_id(national_id_text)?;
    let role = parse_role(role).map_err(|e| refused(&[e]))?;
    let link = ProfessionalLink { structure_id: structure_id.to_owned(), national_id: national_id.clone(), role };
    let event =
        ctx.event(Some(&cpts.id), "update", "structure_link", structure_id, format!("professionnel {national_id}"));
    ctx.state.store.link_professional(&cpts.id, &link, ctx.state.now(), &event).await.map_err(|e| match e {
        StoreError::NotFound => Failure::invalid(
            "unknown_professional",
            format!("L'annuaire de la CPTS n'a pas de professionnel {national_id}."),
            "no such professional or structure",
        ),
        other => other.into(),
    })
}

pub async fn unlink(ctx: &Ctx<'_>, id: &str, structure_id: &str, national_id: &str) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let event =
        ctx.event(Some(&cpts.id), "delete", "structure_link", structure_id, format!("professionnel {national_id}"));
    Ok(ctx.state.store.unlink_professional(&cpts.id, structure_id, national_id, &event).await?)
}

fn relation_kind(text: &str) -> Result<RelationKind, Failure> {
    text.parse().map_err(|e: String| Failure::invalid("unknown_relation", "Choisissez le type de lien.", e))
}

/// Records a relation from this structure to another.
pub async fn relate(
    ctx: &Ctx<'_>,
    id: &str,
    structure_id: &str,
    other: &str,
    kind: &str,
    note: &str,
) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let kind = relation_kind(kind)?;
    let note = parse_role(note).map_err(|e| refused(&[e]))?;
    if other.trim() == structure_id {
        return Err(Failure::invalid(
            "self_relation",
            "Une structure ne peut pas être liée à elle-même.",
            "a structure cannot be linked to itself",
        ));
    }
    let relation = StructureRelation { from: structure_id.to_owned(), to: other.trim().to_owned(), kind, note };
    let event = ctx.event(
        Some(&cpts.id),
        "update",
        "structure_relation",
        structure_id,
        format!("{} {}", kind.code(), relation.to),
    );
    ctx.state.store.add_relation(&cpts.id, &relation, &event).await.map_err(|e| match e {
        StoreError::Conflict(en) => Failure::Conflict { fr: "Ce lien existe déjà.".into(), en },
        StoreError::NotFound => {
            Failure::invalid("unknown_structure", "Choisissez une autre structure de la CPTS.", "no such structure")
        }
        other => other.into(),
    })
}

pub async fn unrelate(
    ctx: &Ctx<'_>,
    id: &str,
    from: &str,
    to: &str,
    kind: &str,
    structure_id: &str,
) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let kind = relation_kind(kind)?;
    if from != structure_id && to != structure_id {
        return Err(StoreError::NotFound.into());
    }
    let event =
        ctx.event(Some(&cpts.id), "delete", "structure_relation", structure_id, format!("{} {from} {to}", kind.code()));
    Ok(ctx.state.store.delete_relation(&cpts.id, from, to, kind, &event).await?)
}

/// Records (or replaces) the membership of a structure.
pub async fn set_membership(
    ctx: &Ctx<'_>,
    id: &str,
    structure_id: &str,
    membership: &Membership,
) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    super::directory::check_membership(membership)?;
    let detail = format!("adhésion de la structure depuis le {}", membership.joined_on.format("%d/%m/%Y"));
    let event = ctx.event(Some(&cpts.id), "update", "membership", structure_id, detail);
    Ok(ctx.state.store.put_structure_membership(&cpts.id, structure_id, membership, ctx.state.now(), &event).await?)
}

/// Where a member's dues stand on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuesState {
    /// Paid up to that day or later.
    UpToDate,
    /// Paid once, not up to that day.
    Overdue,
    /// Never recorded.
    Unknown,
}

impl DuesState {
    pub fn of(m: &Membership, today: NaiveDate) -> Self {
        match m.dues_paid_until {
            Some(d) if today <= d => Self::UpToDate,
            Some(_) => Self::Overdue,
            None => Self::Unknown,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::UpToDate => "a-jour",
            Self::Overdue => "en-retard",
            Self::Unknown => "non-renseignee",
        }
    }

    pub fn fr(self) -> &'static str {
        match self {
            Self::UpToDate => "à jour",
            Self::Overdue => "à renouveler",
            Self::Unknown => "non renseignée",
        }
    }
}

/// The roll of members (coordinator and board).
pub async fn roll(ctx: &Ctx<'_>, id: &str) -> Result<(Cpts, Vec<RollEntry>), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let roll = ctx.state.store.member_roll(&cpts.id).await?;
    Ok((cpts, roll))
}

/// Records dues paid until `until` for the chosen members, all or none.
pub async fn record_dues(ctx: &Ctx<'_>, id: &str, keys: &[String], until: Option<NaiveDate>) -> Result<u64, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let Some(until) = until else {
        return Err(Failure::invalid(
            "invalid_date",
            "Indiquez jusqu'à quelle date la cotisation est payée.",
            "dues date is required",
        ));
    };
    let mut members: Vec<MemberRef> = Vec::with_capacity(keys.len());
    for key in keys {
        let member = MemberRef::parse_key(key).ok_or_else(|| {
            Failure::invalid("unknown_member", format!("Adhérent inconnu : « {key} »."), "bad member key")
        })?;
        if !members.contains(&member) {
            members.push(member);
        }
    }
    if members.is_empty() {
        return Err(Failure::invalid("no_member", "Cochez au moins un adhérent.", "no member chosen"));
    }
    let detail = format!("cotisation payée jusqu'au {} pour {} adhérent(s)", until.format("%d/%m/%Y"), members.len());
    let event = ctx.event(Some(&cpts.id), "update", "membership", "cotisations", detail);
    ctx.state.store.record_dues(&cpts.id, &members, until, ctx.state.now(), &event).await.map_err(|e| match e {
        StoreError::NotFound => Failure::invalid(
            "unknown_member",
            "Un des adhérents cochés n'a plus d'adhésion : rien n'a été enregistré, rechargez la page.",
            "a member has no membership",
        ),
        other => other.into(),
    })
}
