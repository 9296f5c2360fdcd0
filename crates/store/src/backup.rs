//! Backup and restore of a SQLite database (PostgreSQL has its own tools: see docs/operations.md).
//!
//! A backup is taken online, while a server keeps reading and writing: `VACUUM INTO` copies the
//! database inside one read transaction, so the copy is the database as it was at one instant,
//! every transaction wholly in or wholly out. The copy is written next to its destination under a
//! temporary name, checked (`PRAGMA integrity_check`, Maillage schema version), flushed to disk
//! and only then given its final name: a file at the destination is always a checked backup.
//!
//! A restore checks the backup the same way, refuses to replace an existing database unless
//! forced, refuses while another process (a running server) has the database open, keeps the
//! replaced database (and its `-wal`/`-shm`/`-journal` files) aside as
//! `<name>.before-restore-<timestamp>` (a hard link made before the swap), and installs the copy
//! atomically (temporary file in the same directory, fsync, rename over the old name, fsync of
//! the directory).

use crate::migrate::SQLITE;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteLockingMode, SqlitePool, SqlitePoolOptions,
};
use sqlx::{ConnectOptions, Connection};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// What to do instead of a backup on PostgreSQL.
pub const POSTGRES_BACKUP_HINT: &str = "use pg_dump: see docs/operations.md";

/// The 16 bytes every SQLite database file starts with.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The files SQLite keeps next to a database (write-ahead log, its index, rollback journal).
const SIDECARS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// How long a restore waits for the lock that tells the database is not in use. Generous, so that
/// a process that has just closed its connections (their threads still finishing) is not taken for
/// a running server.
const IN_USE_PROBE: Duration = Duration::from_secs(2);

/// Why a backup or a restore was refused or failed. Every message names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The engine has its own tools (PostgreSQL: pg_dump).
    #[error("{0}")]
    Unsupported(&'static str),
    /// The database URL cannot name a SQLite file (in-memory, malformed, non-UTF-8 path).
    #[error("invalid database location: {0}")]
    InvalidLocation(String),
    #[error("no database at {0}")]
    NoDatabase(PathBuf),
    #[error("no backup file at {0}")]
    NoBackup(PathBuf),
    #[error("{0} already exists: refusing to overwrite it")]
    DestinationExists(PathBuf),
    #[error("{0} is not an SQLite database")]
    NotSqlite(PathBuf),
    #[error("{path} cannot be read as an SQLite database: {source}")]
    Unreadable { path: PathBuf, source: sqlx::Error },
    #[error("{path} is corrupt: integrity_check says {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path} is not a Maillage database: {reason}")]
    NotMaillage { path: PathBuf, reason: String },
    #[error(
        "{path} has schema version {found}, newer than this maillage's ({supported}): restore it with the maillage \
         version that made it"
    )]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    /// The file still has a non-empty write-ahead log beside it: part of its data is not in it.
    #[error(
        "{path} looks like a live database, not a backup: {wal} is not empty, so the file alone misses committed \
         data; make a backup with `maillage backup`"
    )]
    LiveDatabase { path: PathBuf, wal: PathBuf },
    #[error("a database already exists at {0}: refusing to overwrite it without --force")]
    TargetExists(PathBuf),
    #[error(
        "the database {0} is in use (a maillage server or another process has it open): stop the server, then \
         restore"
    )]
    InUse(PathBuf),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BackupError {
    /// The database location itself is wrong (unknown URL scheme, malformed URL): a usage error
    /// rather than a refusal.
    pub fn is_usage_error(&self) -> bool {
        matches!(self, BackupError::InvalidLocation(_) | BackupError::Store(StoreError::UnsupportedUrl(_)))
    }
}

fn io_error(context: impl std::fmt::Display, path: &Path) -> impl FnOnce(io::Error) -> BackupError {
    let context = format!("{context} {}", path.display());
    move |source| BackupError::Io { context, source }
}

/// What the checks found in a database file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseCheck {
    /// Size of the file, in bytes.
    pub bytes: u64,
    /// `"ok"`: files that fail the check are refused.
    pub integrity_check: String,
    /// Highest migration applied to the file.
    pub schema_version: i64,
    /// Highest migration this binary knows.
    pub binary_schema_version: i64,
    /// Every table, by name, with its row count.
    pub tables: Vec<TableRows>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRows {
    pub table: String,
    pub rows: u64,
}

/// A backup written and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    #[serde(flatten)]
    pub check: DatabaseCheck,
}

/// A restore done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub backup: PathBuf,
    pub database: PathBuf,
    /// Where the replaced database went, when there was one.
    pub previous: Option<PathBuf>,
    /// `-wal`/`-shm`/`-journal` files of the target, moved aside next to `previous`.
    pub moved_aside: Vec<PathBuf>,
    /// Things that did not stop the restore but deserve a look.
    pub warnings: Vec<String>,
    #[serde(flatten)]
    pub check: DatabaseCheck,
}

impl Store {
    /// Writes a consistent copy of the database to `dest` (which must not exist) while the
    /// store stays in use, then checks the copy. SQLite only: on PostgreSQL, use pg_dump.
    pub async fn backup_to(&self, dest: &Path) -> Result<BackupReport, BackupError> {
        match self {
            Store::Sqlite(s) => vacuum_into(&s.pool, dest).await,
            Store::Postgres(_) => Err(BackupError::Unsupported(POSTGRES_BACKUP_HINT)),
        }
    }
}

/// Backs up the database at `database_url` without migrating it (a server of another version
/// may be running on it) and without creating it when it is missing.
pub async fn backup_database(database_url: &str, dest: &Path) -> Result<BackupReport, BackupError> {
    let path = absolute(&database_path(database_url)?)?;
    if !path.try_exists().map_err(io_error("cannot look for", &path))? {
        return Err(BackupError::NoDatabase(path));
    }
    // Read-write without create: a read-only connection to a WAL database would leave -wal and
    // -shm files behind; this one reads only, and never changes the journal mode.
    let options = SqliteConnectOptions::new().filename(&path).busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|source| BackupError::Unreadable { path: path.clone(), source })?;
    let report = vacuum_into(&pool, dest).await;
    pool.close().await;
    report
}

/// The SQLite file a database URL names: `sqlite:PATH`, `sqlite://PATH`, with or without query
/// parameters; a plain path (no scheme) is taken as is. PostgreSQL is refused with the hint.
pub fn database_path(database_url: &str) -> Result<PathBuf, BackupError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return Err(BackupError::Unsupported(POSTGRES_BACKUP_HINT));
    }
    if !database_url.starts_with("sqlite:") {
        if database_url.contains("://") {
            let scheme = database_url.split(':').next().unwrap_or_default().to_owned();
            return Err(StoreError::UnsupportedUrl(scheme).into());
        }
        if database_url.is_empty() {
            return Err(BackupError::InvalidLocation("empty path".into()));
        }
        return Ok(PathBuf::from(database_url));
    }
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|e| BackupError::InvalidLocation(format!("{database_url}: {e}")))?;
    let filename = options.get_filename();
    let name = filename.to_string_lossy();
    // sqlx names in-memory databases `file:sqlx-in-memory-N`; `mode=memory` leaves it empty.
    if name.is_empty() || name.starts_with("file:") || name == ":memory:" || database_url.contains("mode=memory") {
        return Err(BackupError::InvalidLocation(format!("{database_url} is an in-memory database")));
    }
    Ok(filename.to_path_buf())
}

/// Checks a backup file without changing anything: an SQLite file, whole
/// (`PRAGMA integrity_check`), of Maillage (its `schema_migrations` agree with this binary's),
/// at a schema version this binary can run.
pub async fn verify_backup(path: &Path) -> Result<DatabaseCheck, BackupError> {
    let path = absolute(path)?;
    refuse_live_wal(&path)?;
    check_file(&path).await
}

/// Restores `backup` as the SQLite database `target` (a `sqlite:` URL or a path).
///
/// The server must be stopped. An existing database is replaced only with `force`, and then
/// kept as `<name>.before-restore-<now>`. `now` only names that file.
pub async fn restore_sqlite(
    backup: &Path,
    target: &str,
    force: bool,
    now: DateTime<Utc>,
) -> Result<RestoreReport, BackupError> {
    let target = absolute(&database_path(target)?)?;
    let backup = absolute(backup)?;
    // Everything is checked before anything is touched.
    let check = verify_backup(&backup).await?;
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let previous = with_suffix(&target, &format!(".before-restore-{stamp}"));
    let exists = target.try_exists().map_err(io_error("cannot look for", &target))?;
    if exists && !force {
        return Err(BackupError::TargetExists(target));
    }
    if exists && same_file(&backup, &target)? {
        return Err(BackupError::InvalidLocation(format!(
            "{} is the database itself: restore from a copy",
            backup.display()
        )));
    }
    for kept in std::iter::once(previous.clone()).chain(SIDECARS.iter().map(|s| with_suffix(&previous, s))) {
        if kept.try_exists().map_err(io_error("cannot look for", &kept))? {
            return Err(BackupError::DestinationExists(kept));
        }
    }
    let dir = parent(&target);
    fs::create_dir_all(&dir).map_err(io_error("cannot create the directory", &dir))?;

    let mut warnings = Vec::new();
    if exists {
        warnings.extend(quiesce(&target).await?);
    }

    // Copy into a temporary file of the same directory, so the final rename is atomic.
    let tmp = with_suffix(&target, &format!(".restore-{stamp}.tmp"));
    let out = create_new(&tmp)?;
    let copied = async {
        copy_into(&backup, out, &tmp, exists.then_some(target.as_path()), &mut warnings)?;
        // What is installed is what was checked, even if the backup file changed meanwhile.
        check_file(&tmp).await
    }
    .await;
    let check_of_copy = match copied {
        Ok(c) => c,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if check_of_copy != check {
        let _ = fs::remove_file(&tmp);
        return Err(BackupError::Io {
            context: format!("{} changed while it was being restored", backup.display()),
            source: io::Error::other("the copy differs from the checked file"),
        });
    }

    let installed = install(&tmp, &target, &previous, exists);
    if installed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    let moved_aside = installed?;
    Ok(RestoreReport { backup, database: target, previous: exists.then_some(previous), moved_aside, warnings, check })
}

/// Keeps the old database (when it `exists`) as `previous`, moves the target's sidecar files
/// beside it, and renames `tmp` over `target`. Returns the sidecars moved.
fn install(tmp: &Path, target: &Path, previous: &Path, exists: bool) -> Result<Vec<PathBuf>, BackupError> {
    if exists {
        // A second name for the old database, so the final rename replaces it atomically: at
        // every instant the target is the whole old or the whole new database.
        match fs::hard_link(target, previous) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(BackupError::DestinationExists(previous.into()));
            }
            // A filesystem without hard links: a crash before the next rename leaves the old
            // database under its new name only.
            Err(_) => fs::rename(target, previous).map_err(io_error("cannot move aside", target))?,
        }
    }
    // A -wal file left beside the new database would be replayed into it: move them all aside,
    // beside the old database (or under the name it would have had).
    let mut moved_aside = Vec::new();
    for suffix in SIDECARS {
        let sidecar = with_suffix(target, suffix);
        if sidecar.try_exists().map_err(io_error("cannot look for", &sidecar))? {
            let aside = with_suffix(previous, suffix);
            fs::rename(&sidecar, &aside).map_err(io_error("cannot move aside", &sidecar))?;
            moved_aside.push(aside);
        }
    }
    fs::rename(tmp, target).map_err(io_error("cannot install", target))?;
    sync_dir(&parent(target))?;
    Ok(moved_aside)
}

/// The newest migration this binary knows for SQLite.
pub fn binary_schema_version() -> i64 {
    SQLITE.iter().map(|m| m.version).max().unwrap_or(0)
}

async fn vacuum_into(pool: &SqlitePool, dest: &Path) -> Result<BackupReport, BackupError> {
    let dest = absolute(dest)?;
    if dest.try_exists().map_err(io_error("cannot look for", &dest))? {
        return Err(BackupError::DestinationExists(dest));
    }
    let partial = with_suffix(&dest, ".partial");
    // Reserve the name (VACUUM INTO accepts an empty file), readable by its owner only: the
    // copy holds personal data.
    create_new(&partial)?;
    let result = async {
        // The file name is bound as a parameter (VACUUM INTO takes an expression): no quoting
        // to get wrong. It is absolute, so SQLite never reads it as a `file:` URI.
        sqlx::query("VACUUM INTO $1")
            .bind(utf8(&partial)?)
            .execute(pool)
            .await
            .map_err(|e| BackupError::Store(e.into()))?;
        make_self_contained(&partial).await?;
        let check = check_file(&partial).await?;
        // SQLite does not fsync the output of VACUUM INTO.
        File::open(&partial).and_then(|f| f.sync_all()).map_err(io_error("cannot flush", &partial))?;
        publish(&partial, &dest)?;
        Ok(BackupReport { path: dest.clone(), check })
    }
    .await;
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

/// A copy whose header says WAL would need a -wal file on first open; put it in rollback mode.
async fn make_self_contained(path: &Path) -> Result<(), BackupError> {
    let header = read_header(path)?;
    if header.get(18..20) == Some(&[2, 2]) {
        let options = SqliteConnectOptions::new().filename(path).journal_mode(SqliteJournalMode::Delete);
        let conn = options.connect().await.map_err(|source| BackupError::Unreadable { path: path.into(), source })?;
        let _ = conn.close().await;
    }
    Ok(())
}

/// Gives `partial` the name `dest` without ever replacing a file that appeared meanwhile.
fn publish(partial: &Path, dest: &Path) -> Result<(), BackupError> {
    match fs::hard_link(partial, dest) {
        Ok(()) => fs::remove_file(partial).map_err(io_error("cannot remove", partial))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(BackupError::DestinationExists(dest.into())),
        // A filesystem without hard links: check, then rename.
        Err(_) => {
            if dest.try_exists().map_err(io_error("cannot look for", dest))? {
                return Err(BackupError::DestinationExists(dest.into()));
            }
            fs::rename(partial, dest).map_err(io_error("cannot rename to", dest))?;
        }
    }
    sync_dir(&parent(dest))
}

/// Runs the checks on a file nobody writes: opened immutable, so nothing is created beside it.
async fn check_file(path: &Path) -> Result<DatabaseCheck, BackupError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BackupError::NoBackup(path.into())),
        Err(e) => return Err(io_error("cannot read", path)(e)),
    };
    if !meta.is_file() || read_header(path)?.get(..16) != Some(SQLITE_MAGIC.as_slice()) {
        return Err(BackupError::NotSqlite(path.into()));
    }
    let options = SqliteConnectOptions::new().filename(path).read_only(true).immutable(true);
    let mut conn = options.connect().await.map_err(|e| classify(path, e))?;
    let check = inspect(&mut conn, path, meta.len()).await;
    let _ = conn.close().await;
    check
}

async fn inspect(conn: &mut SqliteConnection, path: &Path, bytes: u64) -> Result<DatabaseCheck, BackupError> {
    let fail = |e| classify(path, e);
    let problems: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check(10)").fetch_all(&mut *conn).await.map_err(fail)?;
    if problems != ["ok"] {
        return Err(BackupError::Corrupt { path: path.into(), detail: problems.join("; ") });
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(fail)?;
    let not_maillage = |reason: String| BackupError::NotMaillage { path: path.into(), reason };
    if !tables.iter().any(|t| t == "schema_migrations") {
        return Err(not_maillage("it has no schema_migrations table".into()));
    }
    let applied: Vec<(i64, String)> = sqlx::query_as("SELECT version, name FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| not_maillage(format!("its schema_migrations cannot be read ({e})")))?;
    let supported = binary_schema_version();
    let found = applied.last().map_or(0, |(v, _)| *v);
    if found > supported {
        return Err(BackupError::TooNew { path: path.into(), found, supported });
    }
    for (version, name) in &applied {
        match SQLITE.iter().find(|m| m.version == *version) {
            Some(m) if m.name == name => {}
            Some(m) => return Err(not_maillage(format!("its migration {version} is {name:?}, not {:?}", m.name))),
            None => return Err(not_maillage(format!("its migration {version} ({name}) is unknown"))),
        }
    }
    let mut counts = Vec::with_capacity(tables.len());
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
        let rows: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *conn).await.map_err(fail)?;
        counts.push(TableRows { table, rows: u64::try_from(rows).unwrap_or(0) });
    }
    Ok(DatabaseCheck {
        bytes,
        integrity_check: "ok".into(),
        schema_version: found,
        binary_schema_version: supported,
        tables: counts,
    })
}

/// Tells "not a database" and "corrupt" from other failures.
fn classify(path: &Path, e: sqlx::Error) -> BackupError {
    let primary = e.as_database_error().and_then(|d| d.code()).and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
    match primary {
        Some(26) => BackupError::NotSqlite(path.into()), // SQLITE_NOTADB
        Some(11) => BackupError::Corrupt { path: path.into(), detail: e.to_string() }, // SQLITE_CORRUPT
        _ => BackupError::Unreadable { path: path.into(), source: e },
    }
}

fn is_busy(e: &sqlx::Error) -> bool {
    // SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
    let code = e.as_database_error().and_then(|d| d.code()).and_then(|c| c.parse::<i32>().ok());
    matches!(code.map(|c| c & 0xff), Some(5 | 6))
}

/// Makes sure no other process has the target open, and folds its write-ahead log into it so
/// the copy kept aside is whole. Taking SQLite's exclusive lock fails while any other
/// connection, even an idle one of a server's pool, has the database open.
async fn quiesce(target: &Path) -> Result<Vec<String>, BackupError> {
    let options = SqliteConnectOptions::new()
        .filename(target)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(IN_USE_PROBE);
    let unusable = |e: sqlx::Error| {
        vec![format!(
            "the replaced database could not be opened ({e}); it is kept aside as it was, with its -wal file if any"
        )]
    };
    let mut conn = match options.connect().await {
        Ok(c) => c,
        Err(e) if is_busy(&e) => return Err(BackupError::InUse(target.into())),
        Err(e) => return Ok(unusable(e)),
    };
    let outcome = async {
        sqlx::raw_sql("BEGIN EXCLUSIVE; COMMIT").execute(&mut conn).await?;
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut conn).await?;
        Ok::<_, sqlx::Error>(busy)
    }
    .await;
    let _ = conn.close().await;
    match outcome {
        Ok(0) => Ok(Vec::new()),
        Ok(_) => Err(BackupError::InUse(target.into())),
        Err(e) if is_busy(&e) => Err(BackupError::InUse(target.into())),
        Err(e) => Ok(unusable(e)),
    }
}

/// Copies `from` into `out` (the new file `to`) and flushes it. The copy takes the permissions
/// (and, when allowed, the owner) of the database it replaces; a fresh one is private to its
/// owner.
fn copy_into(
    from: &Path,
    mut out: File,
    to: &Path,
    like: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Result<(), BackupError> {
    let mut source = File::open(from).map_err(io_error("cannot open", from))?;
    io::copy(&mut source, &mut out).map_err(io_error("cannot write", to))?;
    #[cfg(unix)]
    if let Some(meta) = like.and_then(|p| fs::metadata(p).ok()) {
        use std::os::unix::fs::MetadataExt;
        out.set_permissions(meta.permissions()).map_err(io_error("cannot set the permissions of", to))?;
        let mine = out.metadata().map_err(io_error("cannot read", to))?;
        if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid())
            && let Err(e) = std::os::unix::fs::fchown(&out, Some(meta.uid()), Some(meta.gid()))
        {
            warnings.push(format!(
                "the restored database belongs to uid {}, not to uid {} like the one it replaces ({e}): \
                 check that the server can open it",
                mine.uid(),
                meta.uid()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (like, &warnings);
    out.sync_all().map_err(io_error("cannot flush", to))
}

fn create_new(path: &Path) -> Result<File, BackupError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => BackupError::DestinationExists(path.into()),
        _ => io_error("cannot create", path)(e),
    })
}

fn refuse_live_wal(path: &Path) -> Result<(), BackupError> {
    let wal = with_suffix(path, "-wal");
    match fs::metadata(&wal) {
        Ok(m) if m.len() > 0 => Err(BackupError::LiveDatabase { path: path.into(), wal }),
        _ => Ok(()),
    }
}

/// The first 100 bytes (the database header), or fewer for a shorter file.
fn read_header(path: &Path) -> Result<Vec<u8>, BackupError> {
    let mut header = Vec::with_capacity(100);
    File::open(path).and_then(|f| f.take(100).read_to_end(&mut header)).map_err(io_error("cannot read", path))?;
    Ok(header)
}

fn same_file(a: &Path, b: &Path) -> Result<bool, BackupError> {
    let a = fs::canonicalize(a).map_err(io_error("cannot resolve", a))?;
    let b = fs::canonicalize(b).map_err(io_error("cannot resolve", b))?;
    Ok(a == b)
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    // Directories cannot be opened for syncing everywhere; where they can, the rename is durable.
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error("cannot flush the directory", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, BackupError> {
    std::path::absolute(path).map_err(io_error("cannot resolve", path))
}

fn utf8(path: &Path) -> Result<&str, BackupError> {
    path.to_str().ok_or_else(|| BackupError::InvalidLocation(format!("{} is not valid UTF-8", path.display())))
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `path` with `suffix` appended to its file name (`db.sqlite` + `-wal` = `db.sqlite-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CptsStore, NewCpts, connect};
    use chrono::TimeZone;
    use maillage_core::ids::InseeCode;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("maillage-backup-{name}-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 3, 4, 5).unwrap()
    }

    async fn database_with_a_cpts(path: &Path) -> Store {
        let store = connect(&format!("sqlite:{}", path.display())).await.unwrap();
        let new = NewCpts { name: "CPTS du Blaisois".into(), communes: vec![InseeCode::parse("41018").unwrap()] };
        store.create_cpts(&new, now()).await.unwrap();
        store
    }

    fn rows(check: &DatabaseCheck, table: &str) -> u64 {
        check.tables.iter().find(|t| t.table == table).unwrap().rows
    }

    #[test]
    fn database_urls_name_files() {
        assert_eq!(database_path("sqlite:data/m.sqlite").unwrap(), PathBuf::from("data/m.sqlite"));
        assert_eq!(database_path("sqlite:///srv/m.sqlite?mode=rwc").unwrap(), PathBuf::from("/srv/m.sqlite"));
        assert_eq!(database_path("sqlite://rel.sqlite").unwrap(), PathBuf::from("rel.sqlite"));
        assert_eq!(database_path("/srv/m.sqlite").unwrap(), PathBuf::from("/srv/m.sqlite"));
        for memory in ["sqlite::memory:", "sqlite://?mode=memory", "sqlite:"] {
            assert!(matches!(database_path(memory), Err(BackupError::InvalidLocation(_))), "{memory}");
        }
        let pg = database_path("postgres://u@h/db").unwrap_err();
        assert_eq!(pg.to_string(), "use pg_dump: see docs/operations.md");
        assert!(!pg.is_usage_error());
        assert!(database_path("mysql://h/db").unwrap_err().is_usage_error());
    }

    #[tokio::test]
    async fn backup_path_with_quotes_and_spaces() {
        let dir = temp_dir("quotes");
        let store = database_with_a_cpts(&dir.join("live.sqlite")).await;
        let dest = dir.join("it's a \"backup\"; DROP TABLE cpts; --.sqlite");
        let report = store.backup_to(&dest).await.unwrap();
        assert_eq!(report.path, dest);
        assert_eq!(report.check.bytes, fs::metadata(&dest).unwrap().len());
        assert_eq!(rows(&report.check, "cpts"), 1);
        assert_eq!(report.check.schema_version, binary_schema_version());
        assert!(!with_suffix(&dest, ".partial").exists());
        // The backup is self-contained and private.
        assert_eq!(read_header(&dest).unwrap()[18..20], [1, 1]);
        #[cfg(unix)]
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&dest).unwrap().permissions()) & 0o777, 0o600);
        // Never over an existing file.
        assert!(matches!(store.backup_to(&dest).await, Err(BackupError::DestinationExists(_))));
        store.close().await;
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn newer_or_foreign_databases_are_refused() {
        let dir = temp_dir("foreign");
        let store = database_with_a_cpts(&dir.join("live.sqlite")).await;
        let newer = dir.join("newer.sqlite");
        store.backup_to(&newer).await.unwrap();
        store.close().await;
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", newer.display())).await.unwrap();
        sqlx::query("INSERT INTO schema_migrations VALUES (999, '0999_future', '2030-01-01')")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let err = verify_backup(&newer).await.unwrap_err();
        assert!(matches!(err, BackupError::TooNew { found: 999, .. }), "{err}");

        let foreign = dir.join("foreign.sqlite");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=rwc", foreign.display())).await.unwrap();
        sqlx::query("CREATE TABLE notes (x TEXT)").execute(&pool).await.unwrap();
        pool.close().await;
        let err = verify_backup(&foreign).await.unwrap_err();
        assert!(err.to_string().contains("is not a Maillage database: it has no schema_migrations table"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_crashed_database_is_kept_whole_and_no_stale_log_stays() {
        let dir = temp_dir("crashed");
        let live = dir.join("live.sqlite");
        let store = database_with_a_cpts(&live).await;
        let backup = dir.join("backup.sqlite");
        store.backup_to(&backup).await.unwrap();
        let second = NewCpts { name: "CPTS Vendôme".into(), communes: vec![InseeCode::parse("41269").unwrap()] };
        store.create_cpts(&second, now()).await.unwrap();
        // The files as a crash leaves them: the last transaction is only in the -wal.
        let crashed = dir.join("crashed.sqlite");
        fs::copy(&live, &crashed).unwrap();
        fs::copy(with_suffix(&live, "-wal"), with_suffix(&crashed, "-wal")).unwrap();
        assert!(fs::metadata(with_suffix(&crashed, "-wal")).unwrap().len() > 0);
        store.close().await;

        let report = restore_sqlite(&backup, crashed.to_str().unwrap(), true, now()).await.unwrap();
        assert!(!with_suffix(&crashed, "-wal").exists());
        let previous = report.previous.unwrap();
        let kept = connect(&format!("sqlite:{}", previous.display())).await.unwrap();
        assert_eq!(kept.list_cpts().await.unwrap().len(), 2, "the replaced database keeps its last transaction");
        kept.close().await;
        let restored = connect(&format!("sqlite:{}", crashed.display())).await.unwrap();
        assert_eq!(restored.list_cpts().await.unwrap().len(), 1);
        restored.close().await;

        // A stale -wal without its database is moved aside, not replayed into the restored one.
        let fresh = dir.join("fresh.sqlite");
        fs::write(with_suffix(&fresh, "-wal"), b"stale").unwrap();
        let report = restore_sqlite(&backup, fresh.to_str().unwrap(), false, now()).await.unwrap();
        assert_eq!(report.previous, None);
        assert_eq!(report.moved_aside, vec![dir.join("fresh.sqlite.before-restore-20261124T030405Z-wal")]);
        let restored = connect(&format!("sqlite:{}", fresh.display())).await.unwrap();
        assert_eq!(restored.list_cpts().await.unwrap().len(), 1);
        restored.close().await;
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn restore_refuses_while_the_database_is_open_elsewhere() {
        let dir = temp_dir("in-use");
        let live = dir.join("live.sqlite");
        let store = database_with_a_cpts(&live).await;
        let backup = dir.join("backup.sqlite");
        store.backup_to(&backup).await.unwrap();
        let url = format!("sqlite:{}", live.display());
        // The pool is idle, but open: as with a running server.
        let err = restore_sqlite(&backup, &url, true, now()).await.unwrap_err();
        assert!(matches!(err, BackupError::InUse(_)), "{err}");
        assert!(!dir.join("live.sqlite.before-restore-20261124T030405Z").exists());
        store.close().await;

        let report = restore_sqlite(&backup, &url, true, now()).await.unwrap();
        let previous = dir.join("live.sqlite.before-restore-20261124T030405Z");
        assert_eq!(report.previous.as_deref(), Some(previous.as_path()));
        assert!(previous.exists() && live.exists());
        assert!(!with_suffix(&live, "-wal").exists(), "no stale log beside the restored database");
        // The same second again: the earlier copy is never overwritten.
        let err = restore_sqlite(&backup, &url, true, now()).await.unwrap_err();
        assert!(matches!(err, BackupError::DestinationExists(_)), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
