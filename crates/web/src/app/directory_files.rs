//! Files in and out of a CPTS's directory from the browser and the API: the exports (CSV, XLSX,
//! vCard, FHIR; rendered by [`crate::directory_export`], as `maillage export directory` does) and
//! the member list uploaded from a spreadsheet, previewed then applied (as `maillage import
//! members` does).
//!
//! Who: the coordinator and the board (`Action::EditCpts`, the same people who change the
//! directory and see its import history); member professionals, observers and other CPTS
//! never. Every export is audited; an applied member list commits its audit event with the
//! memberships.
//!
//! The member list is small: the upload is held in memory (at most [`MAX_MEMBER_FILE_BYTES`]),
//! parsed, and shown as a preview; the confirmation form sends back the cells of the mapped
//! columns only (a hidden JSON field, not the file), which are checked again from scratch
//! before anything is written (the same parsing, the same directory lookups), so a tampered
//! or stale form can do nothing the form's author could not do by hand.

use super::{Ctx, Need, load_cpts};
use crate::directory_export::{ExportFormat, effective_list, file_name, render};
use crate::error::Failure;
use maillage_core::directory::members::{Column, ColumnMapping, MemberField, MemberReject, parse_members};
use maillage_core::directory::model::Membership;
use maillage_office::{OfficeError, Table, TextEncoding};
use maillage_store::{Cpts, DirectoryStore, MembershipOutcome};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------------
// Exports

/// A file ready to download.
pub struct ExportFile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
}

/// The directory of a CPTS as a file (coordinator and board) in the format named `format`
/// (`csv`, `xlsx`, `vcard`, `fhir`), audited as an export. Those marked as having left the
/// national extract are included only when asked.
pub async fn export(ctx: &Ctx<'_>, id: &str, format: &str, include_left: bool) -> Result<ExportFile, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let format = export_format(format)?;
    let entries = ctx.state.store.directory_export(&cpts.id, include_left).await?;
    let list = effective_list(&entries);
    let now = ctx.state.now();
    let base = format!("{}/fhir", ctx.state.settings.public_url.trim_end_matches('/'));
    let bytes = render(format, &list, now, &base).map_err(|e| Failure::Internal(format!("directory export: {e}")))?;
    let detail = format!(
        "export {} : {} professionnels{}",
        format.key(),
        list.len(),
        if include_left { ", partis inclus" } else { "" }
    );
    // An export that cannot be logged is not served.
    ctx.audit(Some(&cpts.id), "export", "directory", cpts.id.as_str(), detail).await?;
    Ok(ExportFile {
        bytes,
        content_type: format.content_type(),
        file_name: file_name(&cpts.name, format, now.date_naive()),
    })
}

/// A format named by a query parameter, or a French refusal.
pub fn export_format(text: &str) -> Result<ExportFormat, Failure> {
    let text = text.trim();
    ExportFormat::parse(text).ok_or_else(|| {
        Failure::invalid(
            "invalid_format",
            format!("Format d'export inconnu : « {text} » (csv, xlsx, vcard ou fhir)."),
            format!("unknown export format {text:?} (csv, xlsx, vcard or fhir)"),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Member list upload

/// The largest member list accepted (a spreadsheet of a few thousand lines weighs far less).
pub const MAX_MEMBER_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The body limit of the member list routes: the file, the form's fields and the multipart
/// framing; also bounds the confirmation form.
pub const MAX_MEMBER_UPLOAD_BYTES: usize = MAX_MEMBER_FILE_BYTES + 512 * 1024;

/// What the upload form asked, to fill it again.
#[derive(Debug, Clone, Default)]
pub struct UploadForm {
    /// The XLSX sheet's name (empty: the first).
    pub sheet: String,
    /// The header named for each field (empty: found automatically).
    pub mapping: Vec<(MemberField, String)>,
}

impl UploadForm {
    /// The header named for `field` ("" when automatic).
    pub fn header_for(&self, field: MemberField) -> &str {
        self.mapping.iter().find(|(f, _)| *f == field).map_or("", |(_, h)| h.as_str())
    }
}

/// A line of the file the directory does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLine {
    pub line: u64,
    pub national_id: String,
}

/// What a member list would change, or why it cannot be applied.
#[derive(Debug, Clone)]
pub struct MemberPreview {
    pub cpts: Cpts,
    pub file_name: String,
    pub encoding: TextEncoding,
    /// Data lines of the file (the header excluded).
    pub rows: usize,
    /// Field → header of the column it is read from.
    pub columns: Vec<(MemberField, String)>,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Bad cells (line, column, reason), professionals listed twice.
    pub rejects: Vec<MemberReject>,
    /// Professionals the directory of the CPTS does not have (import the national extract first).
    pub unknown: Vec<UnknownLine>,
    /// The checked list for the confirmation form, when it can be applied.
    pub payload: Option<String>,
}

impl MemberPreview {
    pub fn has_errors(&self) -> bool {
        !self.rejects.is_empty() || !self.unknown.is_empty()
    }
}

/// The outcome of a confirmed member list.
pub enum Applied {
    Done {
        cpts: Cpts,
        file_name: String,
        outcome: MembershipOutcome,
    },
    /// Something changed since the preview (or the form was altered): nothing was written.
    Refused(MemberPreview),
}

/// What the confirmation form carries: the cells of the mapped columns, line by line.
#[derive(Serialize, Deserialize)]
struct Payload {
    file: String,
    /// (field key, header as written in the file), in the order of the cells.
    columns: Vec<(String, String)>,
    rows: Vec<(u64, Vec<String>)>,
}

fn invalid(code: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Failure {
    Failure::invalid(code, fr, en)
}

/// A file's problem said in French.
fn office_failure(e: &OfficeError) -> Failure {
    let fr = match e {
        OfficeError::NotUtf8 { line } => format!(
            "La ligne {line} du fichier n'est ni en UTF-8 ni en Windows-1252 : enregistrez-le au format « CSV UTF-8 » \
             et recommencez."
        ),
        OfficeError::Csv { line, .. } => {
            format!("Le fichier CSV est illisible à la ligne {line} (guillemet non fermé ?).")
        }
        OfficeError::Xlsx(_) => "Le classeur est illisible : est-ce bien un fichier .xlsx ?".to_owned(),
        OfficeError::NoSuchSheet { name, available } => {
            format!("Le classeur n'a pas de feuille « {name} » ; ses feuilles : {available}.")
        }
        OfficeError::Empty => "Le fichier est vide : il n'a pas de ligne d'en-tête.".to_owned(),
        OfficeError::UnsupportedType(ext) => {
            format!("Type de fichier non pris en charge (« {ext} ») : envoyez un fichier .csv ou .xlsx.")
        }
        other => format!("Le fichier n'a pas pu être lu ({other})."),
    };
    invalid("unreadable_file", fr, e.to_string())
}

/// Reads the uploaded file by its extension.
fn read_file(file_name: &str, bytes: &[u8], sheet: Option<&str>) -> Result<Table, Failure> {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let table = match ext.as_str() {
        "csv" | "txt" => maillage_office::read_csv(bytes),
        "xlsx" | "xlsm" => maillage_office::read_xlsx(bytes, sheet),
        other => Err(OfficeError::UnsupportedType(other.to_owned())),
    };
    table.map_err(|e| office_failure(&e))
}

/// The mapping's columns in field order: (field, column).
fn mapped(mapping: &ColumnMapping) -> Vec<(MemberField, &Column)> {
    [
        (MemberField::NationalId, Some(&mapping.national_id)),
        (MemberField::JoinedOn, mapping.joined_on.as_ref()),
        (MemberField::LeftOn, mapping.left_on.as_ref()),
        (MemberField::Status, mapping.status.as_ref()),
        (MemberField::DuesPaidUntil, mapping.dues_paid_until.as_ref()),
        (MemberField::ProfessionReferent, mapping.profession_referent.as_ref()),
        (MemberField::BoardRole, mapping.board_role.as_ref()),
    ]
    .into_iter()
    .filter_map(|(f, c)| c.map(|c| (f, c)))
    .collect()
}

/// Checks the rows against the mapping and the directory: what applying them would change.
async fn analyse(
    ctx: &Ctx<'_>,
    cpts: Cpts,
    file_name: String,
    encoding: TextEncoding,
    rows: &[(u64, Vec<String>)],
    mapping: &ColumnMapping,
) -> Result<(MemberPreview, Vec<(String, Membership)>), Failure> {
    let columns = mapped(mapping);
    let mut preview = MemberPreview {
        cpts,
        file_name,
        encoding,
        rows: rows.len(),
        columns: columns.iter().map(|(f, c)| (*f, c.header.clone())).collect(),
        created: 0,
        updated: 0,
        unchanged: 0,
        rejects: Vec::new(),
        unknown: Vec::new(),
        payload: None,
    };
    let list = match parse_members(rows, mapping, ctx.state.now().date_naive()) {
        Ok(list) => list,
        Err(rejects) => {
            preview.rejects = rejects;
            return Ok((preview, Vec::new()));
        }
    };
    // Without rejects every row gave one member, in order.
    let list: Vec<(String, Membership)> = list.into_iter().map(|(id, m)| (id.to_string(), m)).collect();
    let existing: HashMap<String, Option<Membership>> = ctx
        .state
        .store
        .directory_export(&preview.cpts.id, true)
        .await?
        .into_iter()
        .map(|e| (e.professional.national_id.to_string(), e.membership))
        .collect();
    for ((nid, m), (line, _)) in list.iter().zip(rows) {
        match existing.get(nid) {
            None => preview.unknown.push(UnknownLine { line: *line, national_id: nid.clone() }),
            Some(None) => preview.created += 1,
            Some(Some(old)) if old == m => preview.unchanged += 1,
            Some(Some(_)) => preview.updated += 1,
        }
    }
    if preview.unknown.is_empty() && !list.is_empty() {
        let payload = Payload {
            file: preview.file_name.clone(),
            columns: columns.iter().map(|(f, c)| (f.key().to_owned(), c.header.clone())).collect(),
            rows: rows
                .iter()
                .map(|(line, cells)| {
                    let picked = columns.iter().map(|(_, c)| cells.get(c.index).cloned().unwrap_or_default()).collect();
                    (*line, picked)
                })
                .collect(),
        };
        preview.payload =
            Some(serde_json::to_string(&payload).map_err(|e| Failure::Internal(format!("member payload: {e}")))?);
    }
    Ok((preview, list))
}

/// Previews an uploaded member list (a multipart body held in memory: `csrf`, `feuille`,
/// `colonne_<field>`, then the file): the CPTS, the form as filled (to show it again), and the
/// preview or what is wrong with the file. The `csrf` field must come before the file and is
/// checked before the file is read; a refused token or access is the outer error.
pub async fn preview_upload(
    ctx: &Ctx<'_>,
    id: &str,
    content_type: Option<&str>,
    body: axum::body::Body,
) -> Result<(Cpts, UploadForm, Result<MemberPreview, Failure>), Failure> {
    use super::directory_import::{boundary_of, parse_in_memory};
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let boundary = content_type.and_then(boundary_of).ok_or_else(|| {
        invalid("not_multipart", "Envoyez le fichier avec le formulaire de la page.", "expected multipart/form-data")
    })?;
    let body = axum::body::to_bytes(body, MAX_MEMBER_UPLOAD_BYTES).await.map_err(|_| {
        invalid(
            "too_large",
            "Le fichier dépasse 10 Mio : ce n'est pas une liste d'adhérents, ou enregistrez-la au format CSV.",
            "the upload exceeds 10 MiB",
        )
    })?;
    let (head, content) = parse_in_memory(&body, &boundary)
        .ok_or_else(|| invalid("malformed", "Envoi illisible ou incomplet : recommencez.", "bad multipart body"))?;
    let field = |name: &str| head.fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let expected = ctx.principal.csrf_token();
    if expected.is_empty() || !crate::auth::secrets::same_secret(field("csrf"), expected) {
        return Err(Failure::Csrf);
    }
    let form = UploadForm {
        sheet: field("feuille").trim().to_owned(),
        mapping: MemberField::ALL
            .into_iter()
            .map(|f| (f, field(&format!("colonne_{}", f.key())).trim().to_owned()))
            .filter(|(_, h)| !h.is_empty())
            .collect(),
    };
    let file_name = head.file_name.clone().filter(|f| !f.trim().is_empty());
    let result = match file_name {
        None => Err(invalid("no_file", "Choisissez le fichier de la liste des adhérents.", "no file was sent")),
        Some(_) if content.len() > MAX_MEMBER_FILE_BYTES => Err(invalid(
            "too_large",
            "Le fichier dépasse 10 Mio : ce n'est pas une liste d'adhérents, ou enregistrez-la au format CSV.",
            "the file exceeds 10 MiB",
        )),
        Some(name) => preview_file(ctx, cpts.clone(), name, content, &form).await,
    };
    Ok((cpts, form, result))
}

async fn preview_file(
    ctx: &Ctx<'_>,
    cpts: Cpts,
    file_name: String,
    content: &[u8],
    form: &UploadForm,
) -> Result<MemberPreview, Failure> {
    let sheet = Some(form.sheet.as_str()).filter(|s| !s.is_empty());
    let table = read_file(&file_name, content, sheet)?;
    let mapping = resolve(&table.header, &form.mapping)?;
    Ok(analyse(ctx, cpts, file_name, table.encoding, &table.rows, &mapping).await?.0)
}

/// How the upload form names a field.
pub fn field_label_fr(field: MemberField) -> &'static str {
    match field {
        MemberField::NationalId => "Identifiant national (RPPS ou ADELI)",
        MemberField::JoinedOn => "Date d'adhésion",
        MemberField::LeftOn => "Date de départ",
        MemberField::Status => "Statut",
        MemberField::DuesPaidUntil => "Cotisation payée jusqu'au",
        MemberField::ProfessionReferent => "Référent de profession",
        MemberField::BoardRole => "Rôle au bureau",
    }
}

/// A header as the mapping compares it (case, accents and punctuation ignored), as
/// `ColumnMapping::resolve` does.
fn header_key(s: &str) -> String {
    let folded: String =
        maillage_core::text::fold_for_search(s).chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The columns of the file for the form's mapping, or what to fix, said for the form (the
/// mapping's own messages speak of the command line's `--map`).
fn resolve(header: &[String], mapping: &[(MemberField, String)]) -> Result<ColumnMapping, Failure> {
    let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
    let has = |name: &str| {
        let k = header_key(name);
        keys.iter().any(|h| !h.is_empty() && *h == k)
    };
    let columns = header.iter().map(|h| format!("« {h} »")).collect::<Vec<_>>().join(", ");
    for (field, name) in mapping {
        if !has(name) {
            return Err(invalid(
                "unknown_column",
                format!(
                    "Le fichier n'a pas de colonne « {name} » (indiquée pour « {} »). Ses colonnes : {columns}.",
                    field_label_fr(*field)
                ),
                format!("no column {name:?} (given for {field})"),
            ));
        }
    }
    ColumnMapping::resolve(header, mapping).map_err(|e| {
        let named = mapping.iter().any(|(f, _)| *f == MemberField::NationalId);
        let found = named || MemberField::NationalId.default_headers().iter().any(|d| has(d));
        let fr = if found {
            format!("Correspondance des colonnes impossible : {}.", e.fr)
        } else {
            format!(
                "Aucune colonne pour l'identifiant national (RPPS ou ADELI) : indiquez son en-tête dans le champ « {} ». \
                 Les colonnes du fichier : {columns}.",
                field_label_fr(MemberField::NationalId)
            )
        };
        invalid("unmapped", fr, e.en.clone())
    })
}

/// Applies a previewed member list: the confirmation form's list is checked again from scratch
/// (cells, duplicates, the directory) and applied in one transaction with its audit event.
pub async fn confirm(ctx: &Ctx<'_>, id: &str, payload: &str) -> Result<Applied, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let stale = || {
        invalid(
            "invalid_confirmation",
            "Le formulaire de confirmation est illisible : importez à nouveau le fichier.",
            "unreadable confirmation payload",
        )
    };
    let payload: Payload = serde_json::from_str(payload).map_err(|_| stale())?;
    let mut national_id = None;
    let mut optional: HashMap<MemberField, Column> = HashMap::new();
    for (index, (key, header)) in payload.columns.iter().enumerate() {
        let field = MemberField::parse(key).ok_or_else(stale)?;
        let column = Column { index, header: header.clone() };
        if field == MemberField::NationalId {
            national_id = Some(column);
        } else if optional.insert(field, column).is_some() {
            return Err(stale());
        }
    }
    let mut take = |f| optional.remove(&f);
    let mapping = ColumnMapping {
        national_id: national_id.ok_or_else(stale)?,
        joined_on: take(MemberField::JoinedOn),
        left_on: take(MemberField::LeftOn),
        status: take(MemberField::Status),
        dues_paid_until: take(MemberField::DuesPaidUntil),
        profession_referent: take(MemberField::ProfessionReferent),
        board_role: take(MemberField::BoardRole),
    };
    let file_name = payload.file.chars().take(255).collect::<String>();
    let (preview, list) = analyse(ctx, cpts, file_name, TextEncoding::Utf8, &payload.rows, &mapping).await?;
    if preview.has_errors() || list.is_empty() {
        return Ok(Applied::Refused(preview));
    }
    let detail = format!(
        "liste d'adhérents {} : {} adhérents ({} créées, {} modifiées, {} inchangées)",
        preview.file_name,
        list.len(),
        preview.created,
        preview.updated,
        preview.unchanged
    );
    let event = ctx.event(Some(&preview.cpts.id), "import", "membership", &preview.file_name, detail);
    let outcome = ctx.state.store.apply_memberships(&preview.cpts.id, &list, ctx.state.now(), &event).await?;
    if !outcome.applied() {
        // A professional left the directory since the check above: nothing was written.
        let (again, _) =
            analyse(ctx, preview.cpts.clone(), preview.file_name.clone(), TextEncoding::Utf8, &payload.rows, &mapping)
                .await?;
        return Ok(Applied::Refused(again));
    }
    Ok(Applied::Done { cpts: preview.cpts, file_name: preview.file_name, outcome })
}
