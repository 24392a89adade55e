//! Times as reports print them (RFC 3339 with `Z`); the store parses what
//! it keeps (`store::time`).

use chrono::{DateTime, SecondsFormat, Utc};

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
    fn format_prints_utc_with_z_and_fractions_only_when_present() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T03:00:00+01:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format(&t), "2026-11-23T02:00:00Z");
        let t = t + chrono::Duration::milliseconds(250);
        assert_eq!(format(&t), "2026-11-23T02:00:00.250Z");
    }
}
