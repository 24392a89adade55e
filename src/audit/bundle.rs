//! The bundle as bytes: writing the zip (checksums, signature, public key)
//! and checking one. Pure functions over bytes; no database.
//!
//! Determinism: entries are written in name order with a fixed timestamp
//! (1980-01-01 00:00, the zip epoch) and fixed permissions, so the same
//! report files give the same entries.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Seek, Write};

use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::key::{SigningKeyFile, fingerprint};
use super::{AuditError, SCHEMA};

pub const CHECKSUMS: &str = "checksums.txt";
pub const SIGNATURE: &str = "signature.ed25519";
pub const PUBLIC_KEY: &str = "public_key.pem";
pub const MANIFEST: &str = "manifest.json";

/// Largest entry `verify` will inflate (a hostile zip may claim anything).
const MAX_ENTRY_BYTES: u64 = 1 << 30;
/// Most entries `verify` will look at.
const MAX_ENTRIES: usize = 10_000;

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl BundleFile {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        BundleFile {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

/// `checksums.txt`: one `sha256sum` line per file, in name order.
pub fn checksums(files: &[BundleFile]) -> String {
    let mut sorted: Vec<&BundleFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for f in sorted {
        out.push_str(&hex::encode(Sha256::digest(&f.bytes)));
        out.push_str("  ");
        out.push_str(&f.name);
        out.push('\n');
    }
    out
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644)
}

/// Writes the bundle: `files` (the report files and the manifest), then
/// `public_key.pem`, `checksums.txt` over all of those, and the signature.
pub fn write<W: Write + Seek>(
    files: &[BundleFile],
    key: &SigningKeyFile,
    out: W,
) -> Result<(), AuditError> {
    let mut all: Vec<BundleFile> = files.to_vec();
    all.push(BundleFile::new(PUBLIC_KEY, key.public_key_pem()?));
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let sums = checksums(&all);
    let signature = key.signing_key().sign(sums.as_bytes());

    let mut zip = ZipWriter::new(out);
    let io = |e| AuditError::Zip(zip::result::ZipError::Io(e));
    for f in &all {
        zip.start_file(f.name.as_str(), options())?;
        zip.write_all(&f.bytes).map_err(io)?;
    }
    zip.start_file(CHECKSUMS, options())?;
    zip.write_all(sums.as_bytes()).map_err(io)?;
    zip.start_file(SIGNATURE, options())?;
    zip.write_all(&signature.to_bytes()).map_err(io)?;
    zip.finish()?;
    Ok(())
}

/// Something in a bundle that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotAZip(String),
    Missing(&'static str),
    /// A `checksums.txt` line that is not `<64 hex>  <name>`.
    BadChecksumLine(usize),
    ChecksumMismatch(String),
    /// Listed in `checksums.txt` but not in the zip.
    ListedButAbsent(String),
    /// In the zip but not listed, so not covered by the signature.
    NotListed(String),
    DuplicateEntry(String),
    TooLarge(String),
    BadPublicKey,
    BadSignatureLength(usize),
    SignatureInvalid,
    BadManifest(String),
    /// The key is not the one the checker expected (`--fingerprint`).
    UnexpectedKey(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotAZip(e) => write!(f, "not a readable zip: {e}"),
            Problem::Missing(name) => write!(f, "{name} is missing"),
            Problem::BadChecksumLine(n) => write!(
                f,
                "{CHECKSUMS} line {n} is not \"<sha-256 hex>  <file name>\""
            ),
            Problem::ChecksumMismatch(name) => {
                write!(
                    f,
                    "{name}: SHA-256 differs from {CHECKSUMS} (the file was changed)"
                )
            }
            Problem::ListedButAbsent(name) => {
                write!(f, "{name} is listed in {CHECKSUMS} but not in the bundle")
            }
            Problem::NotListed(name) => write!(
                f,
                "{name} is in the bundle but not in {CHECKSUMS} (not covered by the signature)"
            ),
            Problem::DuplicateEntry(name) => write!(f, "{name} appears more than once"),
            Problem::TooLarge(name) => write!(f, "{name} is larger than 1 GiB"),
            Problem::BadPublicKey => {
                write!(f, "{PUBLIC_KEY} is not an Ed25519 SubjectPublicKeyInfo PEM")
            }
            Problem::BadSignatureLength(n) => {
                write!(f, "{SIGNATURE} holds {n} bytes, not 64")
            }
            Problem::SignatureInvalid => write!(
                f,
                "the signature does not match {CHECKSUMS} and {PUBLIC_KEY}"
            ),
            Problem::BadManifest(e) => write!(f, "{MANIFEST}: {e}"),
            Problem::UnexpectedKey(want) => {
                write!(f, "signed by another key than the expected {want}")
            }
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// SHA-256 of the public key's DER, when the key could be read.
    pub fingerprint: Option<String>,
    /// The period of the manifest, `from`/`to`, when it could be read.
    pub period: Option<(String, String)>,
    /// Files whose checksum matched.
    pub files_checked: usize,
    pub problems: Vec<Problem>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a bundle: every file against `checksums.txt`, every file listed,
/// and the signature of `checksums.txt` by `public_key.pem`.
pub fn verify<R: Read + Seek>(input: R) -> Verification {
    let mut v = Verification::default();
    let mut zip = match ZipArchive::new(input) {
        Ok(z) => z,
        Err(e) => {
            v.problems.push(Problem::NotAZip(e.to_string()));
            return v;
        }
    };
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..zip.len().min(MAX_ENTRIES) {
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                v.problems.push(Problem::NotAZip(e.to_string()));
                return v;
            }
        };
        let name = file.name().to_string();
        if file.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        let read = (&mut file)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut bytes);
        if let Err(e) = read {
            v.problems.push(Problem::NotAZip(format!("{name}: {e}")));
            continue;
        }
        if bytes.len() as u64 > MAX_ENTRY_BYTES {
            v.problems.push(Problem::TooLarge(name));
            continue;
        }
        if entries.insert(name.clone(), bytes).is_some() {
            v.problems.push(Problem::DuplicateEntry(name));
        }
    }

    let key = match entries.get(PUBLIC_KEY) {
        None => {
            v.problems.push(Problem::Missing(PUBLIC_KEY));
            None
        }
        Some(pem) => {
            match std::str::from_utf8(pem)
                .ok()
                .and_then(|s| VerifyingKey::from_public_key_pem(s).ok())
            {
                Some(k) => {
                    v.fingerprint = fingerprint(&k).ok();
                    Some(k)
                }
                None => {
                    v.problems.push(Problem::BadPublicKey);
                    None
                }
            }
        }
    };

    if let Some(m) = entries.get(MANIFEST) {
        match serde_json::from_slice::<serde_json::Value>(m) {
            Ok(json) => {
                let field = |k: &str| json["period"][k].as_str().map(str::to_string);
                if json["schema"] != SCHEMA {
                    v.problems
                        .push(Problem::BadManifest(format!("schema is not {SCHEMA}")));
                }
                if let (Some(from), Some(to)) = (field("from"), field("to")) {
                    v.period = Some((from, to));
                }
            }
            Err(e) => v.problems.push(Problem::BadManifest(e.to_string())),
        }
    } else {
        v.problems.push(Problem::Missing(MANIFEST));
    }

    let Some(sums) = entries.get(CHECKSUMS) else {
        v.problems.push(Problem::Missing(CHECKSUMS));
        return v;
    };
    let mut listed: BTreeSet<&str> = BTreeSet::new();
    let text = String::from_utf8_lossy(sums);
    for (n, line) in text.lines().enumerate() {
        let Some((hash, name)) = parse_sum_line(line) else {
            v.problems.push(Problem::BadChecksumLine(n + 1));
            continue;
        };
        listed.insert(name);
        match entries.get(name) {
            None => v.problems.push(Problem::ListedButAbsent(name.to_string())),
            Some(bytes) => {
                if hex::encode(Sha256::digest(bytes)) == hash {
                    v.files_checked += 1;
                } else {
                    v.problems.push(Problem::ChecksumMismatch(name.to_string()));
                }
            }
        }
    }
    for name in entries.keys() {
        if name != CHECKSUMS && name != SIGNATURE && !listed.contains(name.as_str()) {
            v.problems.push(Problem::NotListed(name.clone()));
        }
    }

    match entries.get(SIGNATURE) {
        None => v.problems.push(Problem::Missing(SIGNATURE)),
        Some(sig) => match <[u8; 64]>::try_from(sig.as_slice()) {
            Err(_) => v.problems.push(Problem::BadSignatureLength(sig.len())),
            Ok(bytes) => {
                if let Some(key) = key {
                    let signature = Signature::from_bytes(&bytes);
                    if key.verify_strict(sums, &signature).is_err() {
                        v.problems.push(Problem::SignatureInvalid);
                    }
                }
            }
        },
    }
    v
}

/// `<64 lowercase hex>  <name>` (or ` *<name>`, sha256sum's binary mode).
fn parse_sum_line(line: &str) -> Option<(&str, &str)> {
    let hash = line.get(..64)?;
    if !hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let rest = line.get(64..)?;
    let name = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    (!name.is_empty()).then_some((hash, name))
}

/// Verifies bundle bytes in memory.
pub fn verify_bytes(bytes: &[u8]) -> Verification {
    verify(Cursor::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (tempfile::TempDir, SigningKeyFile) {
        let dir = tempfile::tempdir().unwrap();
        let k = SigningKeyFile::load_or_create(&dir.path().join("k.pem")).unwrap();
        (dir, k)
    }

    fn files() -> Vec<BundleFile> {
        vec![
            BundleFile::new("runs.csv", "id\n1\n"),
            BundleFile::new(
                MANIFEST,
                format!(
                    r#"{{"schema":"{SCHEMA}","period":{{"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"}}}}"#
                ),
            ),
            BundleFile::new("a.txt", "hello"),
        ]
    }

    fn bundle(k: &SigningKeyFile, files: &[BundleFile]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        write(files, k, &mut out).unwrap();
        out.into_inner()
    }

    /// Rewrites one entry of a zip (same order, same options).
    fn with_entry(zip_bytes: &[u8], name: &str, f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut zin = ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
        let mut zout = ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..zin.len() {
            let mut e = zin.by_index(i).unwrap();
            let n = e.name().to_string();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            if n == name {
                f(&mut b);
            }
            zout.start_file(n, options()).unwrap();
            zout.write_all(&b).unwrap();
        }
        zout.finish().unwrap().into_inner()
    }

    #[test]
    fn checksums_are_sha256sum_lines_in_name_order() {
        let sums = checksums(&files());
        let lines: Vec<&str> = sums.lines().collect();
        // sha256("hello"), computed independently.
        assert_eq!(
            lines[0],
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  a.txt"
        );
        assert!(lines[1].ends_with("  manifest.json"));
        assert!(lines[2].ends_with("  runs.csv"));
    }

    #[test]
    fn a_fresh_bundle_verifies() {
        let (_d, k) = key();
        let v = verify_bytes(&bundle(&k, &files()));
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!(v.files_checked, 4); // three files and the public key
        assert_eq!(
            v.fingerprint,
            Some(fingerprint(&k.verifying_key()).unwrap())
        );
        assert_eq!(
            v.period,
            Some(("2026-01-01T00:00:00Z".into(), "2026-02-01T00:00:00Z".into()))
        );
    }

    #[test]
    fn the_same_files_give_the_same_bytes() {
        let (_d, k) = key();
        assert_eq!(bundle(&k, &files()), bundle(&k, &files()));
    }

    #[test]
    fn a_changed_byte_is_named() {
        let (_d, k) = key();
        let b = with_entry(&bundle(&k, &files()), "runs.csv", |b| b[0] ^= 1);
        let v = verify_bytes(&b);
        assert_eq!(
            v.problems,
            vec![Problem::ChecksumMismatch("runs.csv".into())]
        );
    }

    #[test]
    fn a_changed_checksum_list_breaks_the_signature() {
        let (_d, k) = key();
        // Change a file and fix its checksum line: only the signature can tell.
        let b = bundle(&k, &files());
        let b = with_entry(&b, "a.txt", |b| *b = b"HELLO".to_vec());
        let sum = hex::encode(Sha256::digest(b"HELLO"));
        let b = with_entry(&b, CHECKSUMS, |c| {
            let text = String::from_utf8(c.clone()).unwrap();
            let fixed: String = text
                .lines()
                .map(|l| {
                    if l.ends_with("  a.txt") {
                        format!("{sum}  a.txt\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            *c = fixed.into_bytes();
        });
        assert_eq!(verify_bytes(&b).problems, vec![Problem::SignatureInvalid]);
    }

    #[test]
    fn another_key_does_not_verify() {
        let (_d, k) = key();
        let (_d2, other) = key();
        let pem = other.public_key_pem().unwrap();
        let b = with_entry(&bundle(&k, &files()), PUBLIC_KEY, |p| {
            *p = pem.as_bytes().to_vec()
        });
        let problems = verify_bytes(&b).problems;
        // The key's own checksum line no longer matches, and the signature fails.
        assert!(problems.contains(&Problem::ChecksumMismatch(PUBLIC_KEY.into())));
        assert!(problems.contains(&Problem::SignatureInvalid));
    }

    #[test]
    fn garbage_and_truncation_are_problems_not_panics() {
        assert!(matches!(
            verify_bytes(b"not a zip").problems.as_slice(),
            [Problem::NotAZip(_)]
        ));
        let (_d, k) = key();
        let b = bundle(&k, &files());
        for cut in [0, 10, b.len() / 2, b.len() - 1] {
            assert!(!verify_bytes(&b[..cut]).ok());
        }
        let b = with_entry(&b, SIGNATURE, |s| s.truncate(10));
        assert_eq!(
            verify_bytes(&b).problems,
            vec![Problem::BadSignatureLength(10)]
        );
    }

    #[test]
    fn checksum_lines_follow_sha256sum() {
        let h = "a".repeat(64);
        assert_eq!(
            parse_sum_line(&format!("{h}  x.csv")),
            Some((h.as_str(), "x.csv"))
        );
        assert_eq!(
            parse_sum_line(&format!("{h} *x.csv")),
            Some((h.as_str(), "x.csv"))
        );
        assert_eq!(parse_sum_line(&format!("{h} x.csv")), None);
        assert_eq!(parse_sum_line(&format!("{}  x.csv", "A".repeat(64))), None);
        assert_eq!(parse_sum_line("short  x"), None);
        assert_eq!(parse_sum_line(&format!("{h}  ")), None);
    }
}
