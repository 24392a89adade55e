//! `hvinv audit snapshot` / `hvinv audit verify` end to end: the bundle is
//! opened and checked by another implementation (Python's `zipfile`,
//! `hashlib` and `cryptography`, from the interop virtualenv), then copies
//! with one changed byte must fail `audit verify`.

mod report_support;
#[path = "interop/support.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use report_support::*;

fn hvinv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hvinv"))
        .args(args)
        .output()
        .expect("run hvinv")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Two runs, two hosts, a VM that grows between them.
async fn estate() -> Db {
    let db = new_db().await;
    db.run(1, "2026-11-01T02:00:00Z").await;
    db.run(2, "2026-11-01T02:30:00Z").await;
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.host(2, "AAAAAAAA-0000-0000-0000-000000000002", 1).await;
    for run in [1, 2] {
        db.ok(run, "hv01", 1).await;
        db.ok(run, "hv02", 2).await;
    }
    db.host_facts(1, 1, 2, &xeon("HV01", 2, 16)).await;
    db.host_facts(2, 1, 2, &epyc("HV02", 1, 32)).await;
    db.vm(1, "22222222-0000-0000-0000-000000000001", 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("app", "running", 4)).await;
    db.vm_facts(1, 1, 2, 2, &vm("app", "running", 8)).await;
    db.vm(2, "22222222-0000-0000-0000-000000000002", 1).await;
    db.vm_facts(2, 2, 1, 2, &vm("db", "running", 6)).await;
    db
}

const PERIOD: [&str; 4] = [
    "--from",
    "2026-11-01T00:00:00Z",
    "--to",
    "2026-11-02T00:00:00Z",
];

fn snapshot(db: &Path, key: &Path, out: &Path) -> Output {
    let mut args = vec![
        "audit",
        "snapshot",
        "--db",
        db.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend(PERIOD);
    hvinv(&args)
}

/// Checks a bundle without hvinv: every `sha256sum` line, every file
/// listed, and the Ed25519 signature over `checksums.txt`.
const PY_CHECK: &str = r#"
import hashlib, sys, zipfile
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
sums = z.read("checksums.txt")
listed = set()
for line in sums.decode().splitlines():
    digest, name = line.split("  ", 1)
    assert hashlib.sha256(z.read(name)).hexdigest() == digest, name
    listed.add(name)
assert names - listed == {"checksums.txt", "signature.ed25519"}, names - listed
key = load_pem_public_key(z.read("public_key.pem"))
assert isinstance(key, Ed25519PublicKey)
key.verify(z.read("signature.ed25519"), sums)  # raises InvalidSignature
print("verified", len(listed))
"#;

/// Rewrites one entry with its first byte changed (a well-formed zip, so
/// only the checksum can tell).
const PY_TAMPER: &str = r#"
import sys, zipfile
src, dst, target = sys.argv[1:4]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename == target:
            data = bytes([data[0] ^ 1]) + data[1:]
        zout.writestr(info, data)
"#;

fn python(args: &[&str]) -> Output {
    Command::new(support::python())
        .args(args)
        .output()
        .expect("run python")
}

fn entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            (e.name().to_string(), b)
        })
        .collect()
}

#[tokio::test]
async fn a_bundle_checks_out_elsewhere_and_a_changed_byte_fails() {
    let db = estate().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit-key.pem");
    let out = dir.path().join("bundle.zip");

    let o = snapshot(&db.path, &key, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600,
        "the key is created private"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("-----BEGIN PUBLIC KEY-----"),
        "the new public key is printed: {}",
        text(&o)
    );

    let names: Vec<String> = entries(&out).into_iter().map(|(n, _)| n).collect();
    for want in [
        "pvu.json",
        "pvu.csv",
        "coverage.json",
        "coverage.csv",
        "topology.json",
        "runs.csv",
        "audit_trail.csv",
        "data_condition.txt",
        "manifest.json",
        "checksums.txt",
        "signature.ed25519",
        "public_key.pem",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }

    // Another implementation agrees: 10 files listed (all but the checksum
    // list and the signature).
    let p = python(&["-c", PY_CHECK, out.to_str().unwrap()]);
    assert!(p.status.success(), "{}", text(&p));
    assert_eq!(String::from_utf8_lossy(&p.stdout).trim(), "verified 10");

    let v = hvinv(&["audit", "verify", out.to_str().unwrap()]);
    assert!(v.status.success(), "{}", text(&v));
    let stdout = String::from_utf8_lossy(&v.stdout);
    assert!(
        stdout.contains("period: 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z"),
        "{stdout}"
    );

    // One changed byte inside a report file: named, exit 1.
    let bad = dir.path().join("tampered.zip");
    let p = python(&[
        "-c",
        PY_TAMPER,
        out.to_str().unwrap(),
        bad.to_str().unwrap(),
        "runs.csv",
    ]);
    assert!(p.status.success(), "{}", text(&p));
    let v = hvinv(&["audit", "verify", bad.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("FAILED: runs.csv: SHA-256 differs"),
        "{}",
        text(&v)
    );
    // The other implementation refuses it too.
    let p = python(&["-c", PY_CHECK, bad.to_str().unwrap()]);
    assert!(!p.status.success(), "{}", text(&p));

    // One changed byte in the signature.
    let p = python(&[
        "-c",
        PY_TAMPER,
        out.to_str().unwrap(),
        bad.to_str().unwrap(),
        "signature.ed25519",
    ]);
    assert!(p.status.success(), "{}", text(&p));
    let v = hvinv(&["audit", "verify", bad.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("FAILED: the signature does not match"),
        "{}",
        text(&v)
    );

    // One changed byte anywhere in the file itself (here: in the middle of
    // the compressed data): exit 1.
    let mut raw = std::fs::read(&out).unwrap();
    let mid = raw.len() / 3;
    raw[mid] ^= 0x55;
    std::fs::write(&bad, &raw).unwrap();
    let v = hvinv(&["audit", "verify", bad.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));

    // Pinning another key's fingerprint fails.
    let v = hvinv(&[
        "audit",
        "verify",
        out.to_str().unwrap(),
        "--fingerprint",
        &"0".repeat(64),
    ]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
}

#[tokio::test]
async fn the_same_period_gives_the_same_report_files() {
    let db = estate().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let a = dir.path().join("a.zip");
    let b = dir.path().join("b.zip");
    assert!(snapshot(&db.path, &key, &a).status.success());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(snapshot(&db.path, &key, &b).status.success());
    let (ea, eb) = (entries(&a), entries(&b));
    let names: Vec<&str> = ea.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        eb.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in ea.iter().zip(&eb) {
        // Only the manifest (signing time) and what covers it may differ.
        if !["manifest.json", "checksums.txt", "signature.ed25519"].contains(&name.as_str()) {
            assert_eq!(x, y, "{name} differs between two snapshots");
        }
    }
}

#[tokio::test]
async fn runs_and_trail_hold_what_the_database_holds() {
    let db = estate().await;
    // A third run in which hv02 is gone and hv03 is new.
    db.run(3, "2026-11-01T03:00:00Z").await;
    db.host(3, "AAAAAAAA-0000-0000-0000-000000000003", 3).await;
    db.ok(3, "hv01", 1).await;
    db.ok(3, "hv03", 3).await;
    sqlx::query("UPDATE host_facts SET last_run_id = 3 WHERE host_id = 1")
        .execute(&db.pool)
        .await
        .unwrap();
    db.host_facts(3, 3, 3, &xeon("HV03", 2, 8)).await;
    // HV01 moved from the default region to AMER at run 3.
    sqlx::query("UPDATE host_facts SET last_run_id = 2 WHERE host_id = 1")
        .execute(&db.pool)
        .await
        .unwrap();
    let mut moved = xeon("HV01", 2, 16);
    moved.region = "AMER";
    db.host_facts(1, 3, 3, &moved).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.zip");
    let o = snapshot(&db.path, &dir.path().join("k.pem"), &out);
    assert!(o.status.success(), "{}", text(&o));
    let files: std::collections::BTreeMap<String, Vec<u8>> = entries(&out).into_iter().collect();
    let runs = String::from_utf8(files["runs.csv"].clone()).unwrap();
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(
        lines[0],
        "id,started_at,finished_at,status,hvinv_version,hosts_total,hosts_ok,hosts_failed"
    );
    assert_eq!(lines.len(), 4, "{runs}");
    assert!(lines[1].starts_with("1,2026-11-01T02:00:00Z,"), "{runs}");
    assert!(lines[3].starts_with("3,2026-11-01T03:00:00Z,"), "{runs}");
    let trail = String::from_utf8(files["audit_trail.csv"].clone()).unwrap();
    assert!(
        trail.contains("2026-11-01T03:00:00Z,3,address_added,hv03,"),
        "{trail}"
    );
    assert!(
        trail.contains("2026-11-01T03:00:00Z,3,address_removed,hv02,"),
        "{trail}"
    );
    assert!(trail.contains(",pvu_table,"), "{trail}");
    assert!(
        trail.contains("2026-11-01T03:00:00Z,3,host_region_changed,HV01,default -> AMER"),
        "{trail}"
    );
    // The builtin table's checksum is the checksum of the shipped file.
    let shipped =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/pvu-table.toml")).unwrap();
    use sha2::Digest;
    let sum = hex::encode(sha2::Sha256::digest(&shipped));
    assert!(trail.contains(&format!("sha256={sum}")), "{trail}");
    let topo: serde_json::Value = serde_json::from_slice(&files["topology.json"]).unwrap();
    assert_eq!(topo["schema"], "hvinv.topology/1");
}

#[tokio::test]
async fn a_key_others_can_read_is_refused() {
    let db = estate().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let out = dir.path().join("b.zip");
    assert!(snapshot(&db.path, &key, &out).status.success());
    std::fs::remove_file(&out).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = snapshot(&db.path, &key, &out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("chmod 600"),
        "{}",
        text(&o)
    );
    assert!(!out.exists(), "no bundle with a key others can read");
}
