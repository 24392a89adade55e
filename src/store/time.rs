//! Times as stored: RFC 3339 text in UTC with `Z`, whole seconds.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::store::StoreError;

/// Now, as stored: RFC 3339, UTC, whole seconds, `Z`.
pub fn now_rfc3339() -> String {
    to_stored(Utc::now())
}

/// A time as the store writes it.
pub fn to_stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses a stored time; a bad one names its column instead of panicking.
/// Any offset is accepted and converted to UTC.
pub fn parse(
    text: &str,
    table: &'static str,
    column: &'static str,
) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::bad(table, column, format!("{text:?}: {e}")))
}

pub fn parse_opt(
    text: Option<&str>,
    table: &'static str,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|t| parse(t, table, column)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_z() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }

    #[test]
    fn parse_accepts_an_offset_and_stores_z() {
        let t = parse("2026-11-23T03:00:00+01:00", "runs", "started_at").unwrap();
        assert_eq!(to_stored(t), "2026-11-23T02:00:00Z");
    }

    #[test]
    fn parse_rejects_garbage_with_the_column_name() {
        let e = parse("yesterday", "runs", "started_at").unwrap_err();
        assert!(e.to_string().contains("runs.started_at"), "{e}");
    }
}
