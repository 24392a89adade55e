//! The PVU-per-core table (data, `config/pvu-table.toml`): rows keyed by
//! processor vendor, model pattern and maximum sockets per server.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::ReportError;

/// The table shipped with hvinv, used unless `--pvu-table` names another.
pub const DEFAULT_TOML: &str = include_str!("../../../config/pvu-table.toml");
pub const DEFAULT_SOURCE: &str = "built-in config/pvu-table.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PvuRow {
    pub id: String,
    pub vendor: String,
    pub model: String,
    #[serde(default)]
    pub min_sockets: Option<i64>,
    #[serde(default)]
    pub max_sockets: Option<i64>,
    pub pvu_per_core: i64,
    pub source: String,
    pub date: String,
    #[serde(default)]
    pub verify: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PvuTable {
    #[serde(default = "default_unknown")]
    pub unknown_pvu_per_core: i64,
    #[serde(rename = "row", default)]
    pub rows: Vec<PvuRow>,
    /// Where the table came from, for the report header.
    #[serde(skip)]
    pub source_name: String,
}

fn default_unknown() -> i64 {
    120
}

/// The rate applied to one host, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    pub pvu_per_core: i64,
    /// The id of the row applied, or null when no row matched.
    pub row: Option<String>,
    pub row_source: Option<String>,
    pub row_date: Option<String>,
    /// The row is marked for verification against IBM's table.
    pub verify: bool,
    /// No row matched: the unknown-processor rate was applied.
    pub unknown_processor: bool,
    /// The socket count was unknown, so the highest matching rate was used.
    pub sockets_unknown: bool,
}

impl PvuTable {
    pub fn builtin() -> Result<PvuTable, ReportError> {
        PvuTable::parse(DEFAULT_TOML, DEFAULT_SOURCE)
    }

    pub fn from_file(path: &Path) -> Result<PvuTable, ReportError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::PvuTable {
            source_name: name.clone(),
            reason: e.to_string(),
        })?;
        PvuTable::parse(&text, &name)
    }

    pub fn parse(text: &str, source_name: &str) -> Result<PvuTable, ReportError> {
        let bad = |reason: String| ReportError::PvuTable {
            source_name: source_name.to_string(),
            reason,
        };
        let mut table: PvuTable = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        table.source_name = source_name.to_string();
        if table.unknown_pvu_per_core <= 0 {
            return Err(bad("unknown_pvu_per_core must be positive".into()));
        }
        for r in &table.rows {
            if r.pvu_per_core <= 0 {
                return Err(bad(format!("row {}: pvu_per_core must be positive", r.id)));
            }
            if r.source.trim().is_empty() || r.date.trim().is_empty() {
                return Err(bad(format!("row {}: source and date are required", r.id)));
            }
            if let (Some(lo), Some(hi)) = (r.min_sockets, r.max_sockets)
                && lo > hi
            {
                return Err(bad(format!("row {}: min_sockets > max_sockets", r.id)));
            }
        }
        Ok(table)
    }

    /// The rate for a processor. First matching row wins; unknown sockets
    /// take the highest matching rate and no match takes the unknown rate,
    /// because a guess must never be low.
    pub fn rate(&self, vendor: Option<&str>, model: Option<&str>, sockets: Option<i64>) -> Rate {
        let vendor = vendor.unwrap_or("");
        let model = model.unwrap_or("");
        let matching = self
            .rows
            .iter()
            .filter(|r| glob_match(&r.vendor, vendor) && glob_match(&r.model, model));
        let chosen = match sockets {
            Some(s) => matching
                .filter(|r| r.min_sockets.is_none_or(|lo| s >= lo))
                .find(|r| r.max_sockets.is_none_or(|hi| s <= hi)),
            None => matching.max_by_key(|r| r.pvu_per_core),
        };
        match chosen {
            Some(r) => Rate {
                pvu_per_core: r.pvu_per_core,
                row: Some(r.id.clone()),
                row_source: Some(r.source.clone()),
                row_date: Some(r.date.clone()),
                verify: r.verify,
                unknown_processor: false,
                sockets_unknown: sockets.is_none(),
            },
            None => Rate {
                pvu_per_core: self.unknown_pvu_per_core,
                row: None,
                row_source: None,
                row_date: None,
                verify: false,
                unknown_processor: true,
                sockets_unknown: sockets.is_none(),
            },
        }
    }
}

/// Case-insensitive glob with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative matcher with one backtrack point: linear-ish, no recursion.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_case_insensitively_with_stars() {
        assert!(glob_match(
            "*Xeon*",
            "Intel(R) XEON(R) Gold 6248 CPU @ 2.50GHz"
        ));
        assert!(glob_match("GenuineIntel", "genuineintel"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("*EPYC*", "Intel(R) Xeon(R)"));
        assert!(!glob_match("GenuineIntel", "GenuineIntelX"));
        assert!(glob_match("*a*b*c", "xxaxxbxxbxc"));
    }

    #[test]
    fn builtin_table_parses_and_every_row_has_source_and_date() {
        let t = PvuTable::builtin().unwrap();
        assert_eq!(t.unknown_pvu_per_core, 120);
        assert!(t.rows.len() >= 10);
        assert!(
            t.rows
                .iter()
                .all(|r| !r.source.is_empty() && !r.date.is_empty())
        );
        // x86 rows were not checked against IBM's table (research notes).
        assert!(
            t.rows
                .iter()
                .filter(|r| r.vendor != "*IBM*")
                .all(|r| r.verify)
        );
    }

    #[test]
    fn builtin_power_rows_follow_the_published_socket_pattern() {
        // pvu.md: POWER >4 sockets 120, 4 sockets 100, 2 sockets 70.
        let t = PvuTable::builtin().unwrap();
        let r = |s| t.rate(Some("IBM"), Some("POWER9"), Some(s)).pvu_per_core;
        assert_eq!((r(2), r(4), r(8)), (70, 100, 120));
    }

    // IBM PVU table, section 1, as published 2026-02-06: one test per
    // family and server class, each with the PVU per core IBM lists.
    #[test]
    fn power9_e980_more_than_4_sockets_is_120_per_core() {
        let t = PvuTable::builtin().unwrap();
        let r = t.rate(Some("IBM"), Some("POWER9"), Some(16));
        assert_eq!(
            (r.pvu_per_core, r.row.as_deref()),
            (120, Some("power-gt4s"))
        );
        assert!(!r.verify);
        assert_eq!(r.row_date.as_deref(), Some("2026-02-06"));
    }

    #[test]
    fn power9_e950_4_sockets_is_100_per_core() {
        let t = PvuTable::builtin().unwrap();
        let r = t.rate(Some("IBM"), Some("POWER9"), Some(4));
        assert_eq!((r.pvu_per_core, r.row.as_deref()), (100, Some("power-4s")));
        assert!(!r.verify);
    }

    #[test]
    fn power9_s922_2_sockets_is_70_per_core() {
        let t = PvuTable::builtin().unwrap();
        let r = t.rate(Some("IBM"), Some("POWER9"), Some(2));
        assert_eq!((r.pvu_per_core, r.row.as_deref()), (70, Some("power-2s")));
        assert!(!r.verify);
    }

    #[test]
    fn power10_e1080_is_120_e1050_is_100_s1022_is_70_per_core() {
        let t = PvuTable::builtin().unwrap();
        let r = |s| t.rate(Some("IBM"), Some("POWER10"), Some(s)).pvu_per_core;
        // E1080 scales past 4 sockets, E1050 has 4, S1022 has 2.
        assert_eq!((r(16), r(4), r(2)), (120, 100, 70));
    }

    #[test]
    fn power11_e1180_is_120_e1150_is_100_s1122_is_70_per_core() {
        let t = PvuTable::builtin().unwrap();
        let r = |s| t.rate(Some("IBM"), Some("POWER11"), Some(s)).pvu_per_core;
        assert_eq!((r(16), r(4), r(2)), (120, 100, 70));
    }

    #[test]
    fn power_core_running_linux_is_70_per_core_whatever_the_sockets() {
        let t = PvuTable::builtin().unwrap();
        let r = t.rate(Some("IBM"), Some("POWER9 (Linux)"), Some(16));
        assert_eq!(
            (r.pvu_per_core, r.row.as_deref()),
            (70, Some("power-linux"))
        );
    }

    #[test]
    fn builtin_x86_rows_by_sockets_and_marked_verify() {
        let t = PvuTable::builtin().unwrap();
        let xeon = Some("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz");
        let epyc = Some("AMD EPYC 7763 64-Core Processor");
        let i2 = t.rate(Some("GenuineIntel"), xeon, Some(2));
        assert_eq!(
            (i2.pvu_per_core, i2.row.as_deref()),
            (70, Some("intel-xeon-2s"))
        );
        assert!(i2.verify);
        assert_eq!(t.rate(Some("GenuineIntel"), xeon, Some(1)).pvu_per_core, 70);
        assert_eq!(
            t.rate(Some("GenuineIntel"), xeon, Some(4)).pvu_per_core,
            100
        );
        assert_eq!(
            t.rate(Some("GenuineIntel"), xeon, Some(8)).pvu_per_core,
            120
        );
        assert_eq!(t.rate(Some("AuthenticAMD"), epyc, Some(2)).pvu_per_core, 70);
        assert_eq!(
            t.rate(Some("AuthenticAMD"), epyc, Some(4)).pvu_per_core,
            100
        );
    }

    #[test]
    fn unknown_processor_gets_120_and_is_flagged() {
        let t = PvuTable::builtin().unwrap();
        let r = t.rate(Some("HygonGenuine"), Some("Hygon C86 7185"), Some(2));
        assert_eq!(r.pvu_per_core, 120);
        assert!(r.unknown_processor);
        assert_eq!(r.row, None);
        let none = t.rate(None, None, Some(2));
        assert!(none.unknown_processor);
        assert_eq!(none.pvu_per_core, 120);
    }

    #[test]
    fn unknown_sockets_take_the_highest_matching_rate() {
        let t = PvuTable::builtin().unwrap();
        let r = t.rate(Some("GenuineIntel"), Some("Intel Xeon"), None);
        assert_eq!(r.pvu_per_core, 120);
        assert!(r.sockets_unknown);
    }

    #[test]
    fn table_rejects_rows_without_source_or_with_bad_numbers() {
        let no_source =
            "[[row]]\nid='a'\nvendor='*'\nmodel='*'\npvu_per_core=70\nsource=''\ndate='2026'\n";
        assert!(matches!(
            PvuTable::parse(no_source, "t"),
            Err(ReportError::PvuTable { .. })
        ));
        let zero = "[[row]]\nid='a'\nvendor='*'\nmodel='*'\npvu_per_core=0\nsource='s'\ndate='d'\n";
        assert!(PvuTable::parse(zero, "t").is_err());
        let typo =
            "[[row]]\nid='a'\nvendor='*'\nmodel='*'\npvu_per_cores=70\nsource='s'\ndate='d'\n";
        assert!(PvuTable::parse(typo, "t").is_err());
    }

    #[test]
    fn a_custom_table_overrides_the_rates() {
        let text = "unknown_pvu_per_core = 100\n[[row]]\nid='all-intel'\nvendor='GenuineIntel'\nmodel='*'\npvu_per_core=50\nsource='contract'\ndate='2026-01-01'\n";
        let t = PvuTable::parse(text, "custom").unwrap();
        assert_eq!(
            t.rate(Some("GenuineIntel"), Some("x"), Some(8))
                .pvu_per_core,
            50
        );
        assert_eq!(
            t.rate(Some("AuthenticAMD"), Some("x"), Some(2))
                .pvu_per_core,
            100
        );
    }
}
