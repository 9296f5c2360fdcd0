//! Importing the national extract from the browser: the coordination uploads
//! `PS_LibreAcces_Personne_activite_*.txt` (plain text as downloaded, up to 2 GiB; no archive),
//! the server streams it to a temporary file (never into memory), then scans and applies it in
//! the background exactly as `maillage import annuaire` does, writing the job's progress to the
//! database every [`PROGRESS_EVERY`] lines. Any server of the instance shows the progress: the
//! server keeps no state of its own.
//!
//! Who: the coordinator and the board (`Action::EditCpts`, the same as the import history).
//! The upload is a `multipart/form-data` form (works without JavaScript); it is parsed here
//! without a multipart crate: the small fields (the CSRF token) must come before the file, as
//! browsers send them in document order, and the file's end is found in the last bytes only.

use super::{Ctx, Need, load_cpts};
use crate::error::Failure;
use crate::state::AppState;
use axum::body::{Body, HttpBody};
use maillage_core::directory::collect::{Collected, collect_with_counts};
use maillage_core::directory::filter::TerritoryFilter;
use maillage_core::directory::scan::ScanStats;
use maillage_core::ids::InseeCode;
use maillage_core::territory::Territory;
use maillage_store::{
    AnnuaireImport, Cpts, CptsId, DirectoryStore, ImportJob, ImportJobState, ImportJobStore, ImportProgress,
};
use std::io::{BufReader, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// The largest upload accepted (the national extract is about 1 GB).
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024 * 1024;
/// How many lines between two progress writes.
pub const PROGRESS_EVERY: u64 = 100_000;
/// The fields before the file and the file part's headers must fit in this.
const HEAD_LIMIT: usize = 64 * 1024;
/// Fields after the file (none from our form) must fit in this.
const TAIL_LIMIT: u64 = 64 * 1024;

/// The boundary of a `multipart/form-data` content type.
pub fn boundary_of(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts.next()?.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The start of a multipart body up to the first file's content.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    /// The plain fields before the file: (name, value).
    pub fields: Vec<(String, String)>,
    /// The file's name as sent (its last path component), `None` when the body has no file.
    pub file_name: Option<String>,
    /// Where the file's bytes start in the buffer.
    pub content_start: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeadParse {
    NeedMore,
    Done(Head),
    Malformed,
}

/// `name` and `filename` of a part's `Content-Disposition`.
fn disposition(headers: &str) -> (Option<String>, Option<String>) {
    let (mut name, mut file) = (None, None);
    for line in headers.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else { continue };
        if !key.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for param in value.split(';').skip(1) {
            let Some((k, v)) = param.split_once('=') else { continue };
            let v = v.trim().trim_matches('"').to_owned();
            match k.trim().to_ascii_lowercase().as_str() {
                "name" => name = Some(v),
                "filename" => file = Some(v),
                _ => {}
            }
        }
    }
    (name, file)
}

/// Parses the start of a multipart body: the fields, then the first file part's headers.
pub fn parse_head(buf: &[u8], boundary: &str) -> HeadParse {
    let delimiter = format!("--{boundary}");
    let Some(mut pos) = find(buf, delimiter.as_bytes()) else { return HeadParse::NeedMore };
    let mut fields = Vec::new();
    loop {
        let p = pos + delimiter.len();
        let Some(after) = buf.get(p..p + 2) else { return HeadParse::NeedMore };
        if after == b"--" {
            return HeadParse::Done(Head { fields, file_name: None, content_start: buf.len() });
        }
        if after != b"\r\n" {
            return HeadParse::Malformed;
        }
        let Some(h) = find(&buf[p + 2..], b"\r\n\r\n").map(|h| p + 2 + h) else { return HeadParse::NeedMore };
        let Ok(headers) = std::str::from_utf8(&buf[p + 2..h]) else { return HeadParse::Malformed };
        let (name, file) = disposition(headers);
        let start = h + 4;
        if let Some(file) = file {
            let base = file.rsplit(['/', '\\']).next().unwrap_or_default().to_owned();
            return HeadParse::Done(Head { fields, file_name: Some(base), content_start: start });
        }
        let end_marker = format!("\r\n{delimiter}");
        let Some(end) = find(&buf[start..], end_marker.as_bytes()) else { return HeadParse::NeedMore };
        let value = String::from_utf8_lossy(&buf[start..start + end]).into_owned();
        fields.push((name.unwrap_or_default(), value));
        pos = start + end + 2;
    }
}

/// Where the file's content ends in the last bytes of the body (the next delimiter).
pub fn content_end(tail: &[u8], boundary: &str) -> Option<usize> {
    find(tail, format!("\r\n--{boundary}").as_bytes())
}

/// A whole small multipart body held in memory (a member list, not the national extract): the
/// fields before the file and the file's content (empty when the body has no file). `None`
/// when the body is malformed or incomplete. Fields after the file are not read.
pub fn parse_in_memory<'a>(body: &'a [u8], boundary: &str) -> Option<(Head, &'a [u8])> {
    let HeadParse::Done(head) = parse_head(body, boundary) else { return None };
    if head.file_name.is_none() {
        return Some((head, &[]));
    }
    let rest = body.get(head.content_start..)?;
    let end = content_end(rest, boundary)?;
    Some((head, &rest[..end]))
}

fn invalid(code: &'static str, fr: &str, en: &str) -> Failure {
    Failure::invalid(code, fr, en)
}

fn read_failure(e: &axum::Error) -> Failure {
    // tower-http's limit says "length limit exceeded" somewhere in the error's chain.
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut too_large = false;
    while let Some(s) = source {
        too_large |= s.to_string().contains("length limit");
        source = s.source();
    }
    if too_large {
        invalid("too_large", "Le fichier dépasse 2 Gio : ce n'est pas l'extrait attendu.", "the file exceeds 2 GiB")
    } else {
        invalid(
            "upload_interrupted",
            "L'envoi du fichier a été interrompu : recommencez.",
            "the upload was interrupted",
        )
    }
}

/// The next chunk of the body, `None` at its end.
async fn next_chunk(body: &mut Body) -> Result<Option<axum::body::Bytes>, Failure> {
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
            None => return Ok(None),
            Some(Err(e)) => return Err(read_failure(&e)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Where uploads wait while they are imported.
fn upload_dir(state: &AppState) -> PathBuf {
    state.settings.import_dir.clone().unwrap_or_else(std::env::temp_dir)
}

/// Receives the upload, records the job (audited) and starts it; returns the job's id.
pub async fn start(ctx: &Ctx<'_>, id: &str, content_type: Option<&str>, mut body: Body) -> Result<String, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let boundary = content_type.and_then(boundary_of).ok_or_else(|| {
        invalid(
            "not_multipart",
            "Envoyez le fichier avec le formulaire de la page des imports.",
            "expected multipart/form-data",
        )
    })?;
    let mut buf = Vec::new();
    let head = loop {
        match parse_head(&buf, &boundary) {
            HeadParse::Done(head) => break head,
            HeadParse::Malformed => {
                return Err(invalid("malformed", "Envoi illisible : recommencez.", "bad multipart"));
            }
            HeadParse::NeedMore if buf.len() > HEAD_LIMIT => {
                return Err(invalid("malformed", "Envoi illisible : recommencez.", "multipart head too long"));
            }
            HeadParse::NeedMore => match next_chunk(&mut body).await? {
                Some(chunk) => buf.extend_from_slice(&chunk),
                None => return Err(invalid("malformed", "Envoi incomplet : recommencez.", "truncated multipart")),
            },
        }
    };
    let csrf = head.fields.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
    let expected = ctx.principal.csrf_token();
    if expected.is_empty() || !crate::auth::secrets::same_secret(csrf, expected) {
        return Err(Failure::Csrf);
    }
    let file_name = head
        .file_name
        .clone()
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| invalid("no_file", "Choisissez le fichier de l'extrait national.", "no file was sent"))?;
    if !file_name.to_ascii_lowercase().ends_with(".txt") || file_name.chars().count() > 255 {
        return Err(invalid(
            "not_txt",
            "Seul le fichier texte de l'extrait est accepté (PS_LibreAcces_Personne_activite_….txt), tel que \
             téléchargé : décompressez d'abord une archive .zip.",
            "only the plain .txt extract is accepted (no archive)",
        ));
    }
    let job_id = uuid::Uuid::new_v4().simple().to_string();
    let path = upload_dir(ctx.state).join(format!("maillage-import-{job_id}.part"));
    let received = receive(&path, &buf[head.content_start..], &mut body, &boundary).await;
    let bytes_total = match received {
        Ok(n) => n,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    let job = ImportJob {
        cpts_id: cpts.id.clone(),
        id: job_id.clone(),
        file_name: file_name.clone(),
        state: ImportJobState::Running,
        bytes_total,
        progress: ImportProgress::default(),
        message: String::new(),
        report: String::new(),
        started_at: ctx.state.now(),
        finished_at: None,
        started_by: ctx.principal.label(),
    };
    let detail = format!("import de l'extrait national lancé : {file_name} ({bytes_total} octets)");
    let event = ctx.event(Some(&cpts.id), "import_start", "directory", &job_id, detail);
    if let Err(e) = ctx.state.store.create_job(&job, &event).await {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e.into());
    }
    let runner = Runner {
        state: ctx.state.clone(),
        principal: ctx.principal.clone(),
        request_id: ctx.request_id.clone(),
        cpts,
        job: job_id.clone(),
        file_name,
        path,
    };
    tokio::spawn(runner.run());
    Ok(job_id)
}

/// Streams the file's bytes to `path`, then cuts the multipart end off; returns the file's size.
async fn receive(path: &Path, first: &[u8], body: &mut Body, boundary: &str) -> Result<u64, Failure> {
    let io = |e: std::io::Error| Failure::Internal(format!("upload file: {e}"));
    let mut file =
        tokio::fs::OpenOptions::new().read(true).write(true).create_new(true).open(path).await.map_err(io)?;
    file.write_all(first).await.map_err(io)?;
    while let Some(chunk) = next_chunk(body).await? {
        file.write_all(&chunk).await.map_err(io)?;
    }
    let len = file.seek(SeekFrom::End(0)).await.map_err(io)?;
    let from = len.saturating_sub(TAIL_LIMIT);
    file.seek(SeekFrom::Start(from)).await.map_err(io)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).await.map_err(io)?;
    let end = content_end(&tail, boundary)
        .ok_or_else(|| invalid("malformed", "Envoi incomplet : recommencez.", "no closing delimiter"))?;
    let size = from + end as u64;
    file.set_len(size).await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(size)
}

/// One import job running in the background.
struct Runner {
    state: AppState,
    principal: crate::auth::Principal,
    request_id: String,
    cpts: Cpts,
    job: String,
    file_name: String,
    path: PathBuf,
}

fn progress_of(s: &ScanStats, lines: u64) -> ImportProgress {
    ImportProgress { bytes_read: s.bytes, lines_read: lines, kept: s.kept(), rejected: s.rejected }
}

impl Runner {
    async fn run(self) {
        let store = self.state.store.clone();
        let (cpts, job) = (self.cpts.id.clone(), self.job.clone());
        let path = self.path.clone();
        let ended = self.scan_and_apply().await;
        let now = self.state.now();
        let finish = match ended {
            Ok((state, progress, message, report)) => {
                store.finish_job(&cpts, &job, state, &progress, &message, &report, now).await
            }
            Err((progress, message)) => {
                tracing::error!(job = %job, error = %message, "directory import failed");
                let fr = "L'import a échoué avant son terme : rien n'a été modifié. Réessayez ; si l'échec se répète, \
                          signalez-le à l'équipe technique.";
                store.finish_job(&cpts, &job, ImportJobState::Failed, &progress, fr, "", now).await
            }
        };
        if let Err(e) = finish {
            tracing::error!(job = %job, error = %e, "cannot record the end of a directory import");
        }
        if let Err(e) = tokio::fs::remove_file(&path).await {
            tracing::warn!(job = %job, error = %e, "cannot remove an uploaded extract");
        }
    }

    /// (state, progress, message, report) or (progress so far, error).
    async fn scan_and_apply(
        &self,
    ) -> Result<(ImportJobState, ImportProgress, String, String), (ImportProgress, String)> {
        let collected = self.scan().await.map_err(|e| (ImportProgress::default(), e))?;
        let s = &collected.stats;
        let progress = progress_of(s, collected.lines_read);
        if s.rejected > 0 {
            let rejects: Vec<serde_json::Value> = collected
                .rejects
                .iter()
                .map(|r| serde_json::json!({"line": r.line, "column": r.column, "reason": r.reason_fr}))
                .collect();
            let message = format!(
                "{} ligne(s) en erreur dans le territoire : rien n'a été importé. Téléchargez à nouveau l'extrait ou \
                 signalez-le ; les premières erreurs sont listées ci-dessous.",
                s.rejected
            );
            let report = serde_json::Value::Array(rejects).to_string();
            return Ok((ImportJobState::Refused, progress, message, report));
        }
        let ctx = Ctx { state: &self.state, principal: &self.principal, request_id: self.request_id.clone() };
        let detail = format!("{} : {} lignes lues, {} retenues", self.file_name, collected.lines_read, s.kept());
        let event = ctx.event(Some(&self.cpts.id), "import", "directory", &self.job, detail);
        let import = AnnuaireImport {
            id: self.job.clone(),
            source: "annuaire",
            file_name: self.file_name.clone(),
            lines_read: collected.lines_read,
            professionals: &collected.professionals,
            departement_counts: Some(&collected.departement_counts),
        };
        let outcome = self
            .state
            .store
            .apply_import(&self.cpts.id, &import, self.state.now(), &event)
            .await
            .map_err(|e| (progress, e.to_string()))?;
        let report = serde_json::to_string(&outcome).map_err(|e| (progress, e.to_string()))?;
        let message =
            format!("Import terminé : {} professionnels retenus pour le territoire.", collected.professionals.len());
        Ok((ImportJobState::Done, progress, message, report))
    }

    /// Scans the file on a blocking thread, writing the progress as it goes.
    async fn scan(&self) -> Result<Collected, String> {
        let store = self.state.store.clone();
        let handle = tokio::runtime::Handle::current();
        let reference = self.state.reference;
        let communes: Vec<InseeCode> = self.cpts.communes.clone();
        let (cpts, job): (CptsId, String) = (self.cpts.id.clone(), self.job.clone());
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let territory = Territory::new(reference, communes.iter().map(InseeCode::as_str))
                .map_err(|e| format!("invalid territory: {e}"))?;
            let filter = TerritoryFilter::new(&territory, 0.0);
            let mut departements: Vec<String> =
                communes.iter().filter_map(|c| reference.commune(c.as_str())).map(|c| c.departement.clone()).collect();
            departements.sort();
            departements.dedup();
            let file = std::fs::File::open(&path).map_err(|e| format!("cannot open the upload: {e}"))?;
            let report = |s: &ScanStats| {
                let p = progress_of(s, s.lines);
                if let Err(e) = handle.block_on(store.update_progress(&cpts, &job, &p)) {
                    tracing::warn!(job = %job, error = %e, "cannot record import progress");
                }
            };
            collect_with_counts(BufReader::with_capacity(1 << 20, file), &filter, &departements, PROGRESS_EVERY, report)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// A job of this CPTS, for its progress page (coordinator and board).
pub async fn job(ctx: &Ctx<'_>, id: &str, job: &str) -> Result<(Cpts, ImportJob), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let found = ctx.state.store.get_job(&cpts.id, job).await?;
    Ok((cpts, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(boundary_of("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary_of("Multipart/Form-Data; charset=x; boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary_of("text/plain; boundary=abc"), None);
        assert_eq!(boundary_of("multipart/form-data"), None);
    }

    #[test]
    fn head_then_end() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XX\r\n\
Content-Disposition: form-data; name=\"fichier\"; filename=\"C:\\\\dl\\\\PS.txt\"\r\nContent-Type: text/plain\r\n\r\n\
a|b\r\nc|d\r\n\r\n--XX--\r\n";
        for cut in 0..40 {
            assert_eq!(parse_head(&body[..cut], "XX"), HeadParse::NeedMore, "{cut}");
        }
        let HeadParse::Done(head) = parse_head(body, "XX") else { panic!() };
        assert_eq!(head.fields, [("csrf".to_owned(), "tok".to_owned())]);
        assert_eq!(head.file_name.as_deref(), Some("PS.txt"));
        let rest = &body[head.content_start..];
        assert_eq!(&rest[..content_end(rest, "XX").unwrap()], b"a|b\r\nc|d\r\n");
        assert_eq!(
            parse_head(b"--XX--\r\n", "XX"),
            HeadParse::Done(Head { fields: vec![], file_name: None, content_start: 8 })
        );
        assert_eq!(parse_head(b"--XXjunk", "XX"), HeadParse::Malformed);
    }

    #[test]
    fn whole_body_in_memory() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XX\r\n\
Content-Disposition: form-data; name=\"fichier\"; filename=\"adherents.csv\"\r\n\r\nRPPS;Statut\r\n1;actif\r\n\r\n--XX--\r\n";
        let (head, content) = parse_in_memory(body, "XX").unwrap();
        assert_eq!(head.fields, [("csrf".to_owned(), "tok".to_owned())]);
        assert_eq!(head.file_name.as_deref(), Some("adherents.csv"));
        assert_eq!(content, b"RPPS;Statut\r\n1;actif\r\n");
        assert!(parse_in_memory(&body[..body.len() - 12], "XX").is_none(), "no closing delimiter");
        let (head, content) =
            parse_in_memory(b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--XX--", "XX").unwrap();
        assert_eq!((head.file_name, content.len()), (None, 0));
    }
}
