//! Streaming import of an extract: one reused line buffer, so memory stays bounded whatever the
//! file size; lines outside the territory are dropped after reading two fields.

use super::annuaire::{ActivityRecord, AnnuaireHeader, ColumnMap, HeaderError, Reject, parse_record};
use super::filter::{Placement, TerritoryFilter, Zone};
use serde::Serialize;
use std::io::BufRead;

/// Counters of one scan. `lines` counts every data line read (blank ones included); each is
/// then exactly one of `kept_territory`, `kept_margin`, `rejected`, `filtered_out`, `unplaced`
/// or `blank`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    pub lines: u64,
    /// Bytes read, line endings included (the header too when read by [`read_header`]).
    pub bytes: u64,
    pub kept_territory: u64,
    pub kept_margin: u64,
    pub rejected: u64,
    pub filtered_out: u64,
    pub unplaced: u64,
    pub blank: u64,
}

impl ScanStats {
    pub fn kept(&self) -> u64 {
        self.kept_territory + self.kept_margin
    }
}

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError<E> {
    #[error("reading line {line}: {source}")]
    Io {
        line: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("header: {0}")]
    Header(HeaderError),
    /// The sink refused a record (e.g. the database failed): the scan stops there.
    #[error("stopped at line {line}: {error}")]
    Sink { line: u64, error: E },
}

/// Receives what a scan finds. Only [`ScanSink::record`] is required.
pub trait ScanSink {
    type Error;
    /// A line of the territory (or its margin), parsed and checked.
    fn record(&mut self, record: ActivityRecord<'_>, zone: Zone) -> Result<(), Self::Error>;
    /// A line of the territory that could not be imported.
    fn reject(&mut self, _reject: Reject) -> Result<(), Self::Error> {
        Ok(())
    }
    /// A line that might be in the territory but cannot be placed (see [`Placement::Unplaced`]):
    /// its line number and raw postal code.
    fn unplaced(&mut self, _line: u64, _postal_code: &str) -> Result<(), Self::Error> {
        Ok(())
    }
    /// A line outside the territory, with its commune code as written (possibly empty): for
    /// counts beyond the territory (e.g. its départements). Must stay cheap: most lines go here.
    fn outside(&mut self, _line: &[u8], _commune: &[u8]) {}
    /// Called every [`ScanOptions::progress_every`] lines, and once at the end.
    fn progress(&mut self, _stats: &ScanStats) {}
}

/// Options of [`scan_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// Line number of the first line the reader yields (2 after a header read by
    /// [`read_header`]).
    pub first_line: u64,
    /// Calls [`ScanSink::progress`] every so many lines (0: only at the end).
    pub progress_every: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self { first_line: 2, progress_every: 0 }
    }
}

/// Reads and parses the header line (line 1).
pub fn read_header<R: BufRead>(reader: &mut R) -> Result<(ColumnMap, u64), ScanError<std::convert::Infallible>> {
    let mut buf = Vec::with_capacity(2048);
    let n = reader.read_until(b'\n', &mut buf).map_err(|source| ScanError::Io { line: 1, source })?;
    let text = std::str::from_utf8(&buf).map_err(|_| ScanError::Header(HeaderError::NotUtf8))?;
    let map = AnnuaireHeader::parse(text).map_err(ScanError::Header)?;
    Ok((map, n as u64))
}

struct Closures<F, G> {
    on_record: F,
    on_reject: G,
}

impl<E, F, G> ScanSink for Closures<F, G>
where
    F: FnMut(ActivityRecord<'_>, Zone) -> Result<(), E>,
    G: FnMut(Reject),
{
    type Error = E;
    fn record(&mut self, record: ActivityRecord<'_>, zone: Zone) -> Result<(), E> {
        (self.on_record)(record, zone)
    }
    fn reject(&mut self, reject: Reject) -> Result<(), E> {
        (self.on_reject)(reject);
        Ok(())
    }
}

/// Scans the data lines of `reader` (positioned after the header, see [`read_header`]):
/// `on_record` gets every line of the territory, `on_reject` every line of the territory that
/// cannot be imported. An error from `on_record` stops the scan.
pub fn scan<R, E>(
    reader: R,
    map: &ColumnMap,
    filter: &TerritoryFilter,
    on_record: impl FnMut(ActivityRecord<'_>, Zone) -> Result<(), E>,
    on_reject: impl FnMut(Reject),
) -> Result<ScanStats, ScanError<E>>
where
    R: BufRead,
{
    scan_with(reader, map, filter, ScanOptions::default(), &mut Closures { on_record, on_reject })
}

/// [`scan`] with options and a [`ScanSink`].
///
/// Each line is read into one reused buffer; its commune and postal code are located without
/// splitting the line; lines outside the territory stop there (they are not even checked for
/// UTF-8). Lines of the territory are checked for UTF-8 (else rejected), then parsed
/// ([`parse_record`]). `\r\n` endings and a last line without newline are accepted; blank lines
/// are counted and skipped.
pub fn scan_with<R: BufRead, S: ScanSink>(
    mut reader: R,
    map: &ColumnMap,
    filter: &TerritoryFilter,
    options: ScanOptions,
    sink: &mut S,
) -> Result<ScanStats, ScanError<S::Error>> {
    let mut stats = ScanStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut line_no = options.first_line.saturating_sub(1);
    loop {
        buf.clear();
        line_no += 1;
        let n = reader.read_until(b'\n', &mut buf).map_err(|source| ScanError::Io { line: line_no, source })?;
        if n == 0 {
            break;
        }
        stats.lines += 1;
        stats.bytes += n as u64;
        let mut line = buf.as_slice();
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l;
        }
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            stats.blank += 1;
        } else {
            let (commune, postal) = if filter.is_everything() { (None, None) } else { map.location(line) };
            // A line too short to have the columns is parsed, hence rejected and reported.
            let placement = match commune.or(postal) {
                None => Placement::Inside(Zone::Territory),
                Some(_) => filter.locate_bytes(commune.unwrap_or_default(), postal.unwrap_or_default()),
            };
            match placement {
                Placement::Outside => {
                    stats.filtered_out += 1;
                    sink.outside(line, commune.unwrap_or_default());
                }
                Placement::Unplaced => {
                    stats.unplaced += 1;
                    let p = String::from_utf8_lossy(postal.unwrap_or_default());
                    sink.unplaced(line_no, p.trim()).map_err(|error| ScanError::Sink { line: line_no, error })?;
                }
                Placement::Inside(zone) => {
                    let parsed = match std::str::from_utf8(line) {
                        Err(e) => Err(Reject::invalid_utf8(line_no, e.valid_up_to())),
                        Ok(text) => parse_record(text, map, line_no),
                    };
                    match parsed {
                        Ok(record) => {
                            match zone {
                                Zone::Territory => stats.kept_territory += 1,
                                Zone::Margin => stats.kept_margin += 1,
                            }
                            sink.record(record, zone).map_err(|error| ScanError::Sink { line: line_no, error })?;
                        }
                        Err(reject) => {
                            stats.rejected += 1;
                            sink.reject(reject).map_err(|error| ScanError::Sink { line: line_no, error })?;
                        }
                    }
                }
            }
        }
        if options.progress_every > 0 && stats.lines % options.progress_every == 0 {
            sink.progress(&stats);
        }
    }
    sink.progress(&stats);
    Ok(stats)
}
