//! Parsing of the tab-separated reference files (no serde: plain `split`, to load fast).

use super::RefDataError;
use std::io::Read;

/// Data lines of a TSV file with their 1-based line numbers (comment lines start with `#`).
pub(super) fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter(|(_, l)| !l.is_empty() && !l.starts_with('#')).map(|(i, l)| (i + 1, l))
}

/// Splits a line into exactly `N` tab-separated fields.
pub(super) fn fields<'a, const N: usize>(
    file: &'static str,
    line_no: usize,
    line: &'a str,
) -> Result<[&'a str; N], RefDataError> {
    let mut out = [""; N];
    let mut it = line.split('\t');
    for slot in &mut out {
        *slot = it.next().ok_or_else(|| RefDataError::new(file, line_no, format!("expected {N} fields")))?;
    }
    if it.next().is_some() {
        return Err(RefDataError::new(file, line_no, format!("more than {N} fields")));
    }
    Ok(out)
}

/// Value of a `#key\tvalue` comment line.
pub(super) fn comment_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix('#')?.strip_prefix(key)?.strip_prefix('\t'))
}

pub(super) fn gunzip(file: &'static str, bytes: &[u8]) -> Result<Vec<u8>, RefDataError> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| RefDataError::new(file, 0, format!("gzip: {e}")))?;
    Ok(out)
}

pub(super) fn gunzip_text(file: &'static str, bytes: &[u8]) -> Result<String, RefDataError> {
    String::from_utf8(gunzip(file, bytes)?).map_err(|e| RefDataError::new(file, 0, format!("UTF-8: {e}")))
}

/// Checks that keys are strictly increasing (the lookups binary-search).
pub(super) fn check_sorted<T>(file: &'static str, items: &[T], key: impl Fn(&T) -> &str) -> Result<(), RefDataError> {
    for (i, w) in items.windows(2).enumerate() {
        if key(&w[0]) >= key(&w[1]) {
            return Err(RefDataError::new(
                file,
                0,
                format!("row {} ({}) is not after {}", i + 2, key(&w[1]), key(&w[0])),
            ));
        }
    }
    Ok(())
}
