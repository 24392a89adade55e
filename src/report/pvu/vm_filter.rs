//! `--vms FILE`: the VMs that run the product, one per line, by VM GUID,
//! BIOS GUID (either byte order) or name (case-insensitive).

use std::cell::Cell;
use std::path::Path;

use crate::report::ReportError;
use crate::store::read::Guid;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Guid(Guid),
    Name(String),
}

#[derive(Debug)]
struct Entry {
    line: String,
    key: Key,
    matched: Cell<bool>,
}

/// The parsed list; remembers which entries matched something.
#[derive(Debug)]
pub struct VmFilter {
    pub source: String,
    entries: Vec<Entry>,
}

impl VmFilter {
    pub fn from_file(path: &Path) -> Result<VmFilter, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::VmsFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let f = VmFilter::parse(&text, &path.display().to_string());
        if f.entries.is_empty() {
            return Err(ReportError::VmsFile {
                path: path.display().to_string(),
                reason: "no VM listed".into(),
            });
        }
        Ok(f)
    }

    /// One VM per line; blank lines and `#` comments are ignored.
    pub fn parse(text: &str, source: &str) -> VmFilter {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| Entry {
                line: l.to_string(),
                key: match Guid::parse(l) {
                    Some(g) => Key::Guid(g),
                    None => Key::Name(l.to_lowercase()),
                },
                matched: Cell::new(false),
            })
            .collect();
        VmFilter {
            source: source.to_string(),
            entries,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Does this VM run the product?
    pub fn matches(&self, guid: &str, bios_guid: Option<&str>, name: Option<&str>) -> bool {
        let guid = Guid::from_stored(guid);
        let bios = bios_guid.and_then(Guid::parse);
        let bios_swapped = bios.as_ref().and_then(Guid::swapped);
        let name = name.map(str::to_lowercase);
        let mut any = false;
        for e in &self.entries {
            let hit = match &e.key {
                Key::Guid(g) => {
                    *g == guid || bios.as_ref() == Some(g) || bios_swapped.as_ref() == Some(g)
                }
                Key::Name(n) => name.as_ref() == Some(n),
            };
            if hit {
                e.matched.set(true);
                any = true;
            }
        }
        any
    }

    /// Lines that matched no VM seen so far.
    pub fn unmatched(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| !e.matched.get())
            .map(|e| e.line.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_reverses_the_first_three_fields_only() {
        assert_eq!(
            Guid::from_stored("7B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0")
                .swapped()
                .as_deref(),
            Some("3E2D1C7B-504F-7261-8394-A5B6C7D8E9F0")
        );
    }

    #[test]
    fn matches_by_vm_guid_bios_guid_both_orders_and_name() {
        let f = VmFilter::parse(
            "# product VMs\n{9f2c5b7a-1e0d-4c3b-9a8f-0123456789ab}\n3E2D1C7B-504F-7261-8394-A5B6C7D8E9F0\nDB2-Prod-02\n\nnot-there\n",
            "t",
        );
        assert_eq!(f.len(), 4);
        assert!(f.matches("9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB", None, None));
        // BIOS GUID stored in the other byte order than listed.
        assert!(f.matches(
            "00000000-0000-0000-0000-000000000001",
            Some("7B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0"),
            None
        ));
        assert!(f.matches(
            "00000000-0000-0000-0000-000000000002",
            None,
            Some("db2-prod-02")
        ));
        assert!(!f.matches("00000000-0000-0000-0000-000000000003", None, Some("web-01")));
        assert_eq!(f.unmatched(), vec!["not-there".to_string()]);
    }

    #[test]
    fn a_name_does_not_match_a_guid_by_accident() {
        let f = VmFilter::parse("web\n", "t");
        assert!(!f.matches("ABCDEF00-0000-0000-0000-000000000000", Some("web"), None));
    }

    #[test]
    fn non_guids_are_names() {
        let f = VmFilter::parse(
            "9F2C5B7A-1E0D-4C3B-9A8F-0123456789AZ\ndb2\n {9f2c5b7a-1e0d-4c3b-9a8f-0123456789ab} \n",
            "t",
        );
        let keys: Vec<&Key> = f.entries.iter().map(|e| &e.key).collect();
        assert_eq!(
            keys,
            [
                &Key::Name("9f2c5b7a-1e0d-4c3b-9a8f-0123456789az".into()),
                &Key::Name("db2".into()),
                &Key::Guid(Guid::from_stored("9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB")),
            ]
        );
    }
}
