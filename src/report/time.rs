//! Times as the store keeps them (RFC 3339 text, UTC) and as reports print
//! them (RFC 3339 with `Z`).

use chrono::{DateTime, SecondsFormat, Utc};

use super::ReportError;

/// Parses a stored time; a bad one names its column instead of panicking.
pub fn parse(
    text: &str,
    table: &'static str,
    column: &'static str,
) -> Result<DateTime<Utc>, ReportError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ReportError::bad(table, column, format!("{text:?}: {e}")))
}

pub fn parse_opt(
    text: Option<&str>,
    table: &'static str,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>, ReportError> {
    text.map(|t| parse(t, table, column)).transpose()
}

/// RFC 3339 in UTC with `Z`; fractions only when the time has them.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// serde helpers so report structs keep `DateTime<Utc>` but print `Z`.
pub mod serde_z {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::Serializer;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::format(t)),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_offset_and_prints_z() {
        let t = parse("2026-11-23T03:00:00+01:00", "runs", "started_at").unwrap();
        assert_eq!(format(&t), "2026-11-23T02:00:00Z");
    }

    #[test]
    fn parse_rejects_garbage_with_column_name() {
        let e = parse("yesterday", "runs", "started_at").unwrap_err();
        assert!(e.to_string().contains("runs.started_at"), "{e}");
    }
}
