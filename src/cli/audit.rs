//! `hvinv audit snapshot` and `hvinv audit verify` (`shared/spec/audit.md`).

use std::path::PathBuf;

use super::Exit;
use super::args::{AuditCommand, AuditSnapshotArgs, AuditVerifyArgs};
use super::config::AuditSettings;
use super::report::{counted_states, parse_time};
use crate::audit::{self, AuditError, SigningKeyFile, SnapshotOptions, bundle, key};
use crate::report::pvu::PvuOptions;
use crate::store::{OpenMode, Store};

pub async fn run(cmd: AuditCommand) -> Exit {
    match cmd {
        AuditCommand::Snapshot(a) => snapshot(a).await,
        AuditCommand::Verify(a) => verify(a),
    }
}

fn exit_for(e: &AuditError) -> Exit {
    if e.is_database() {
        Exit::Database
    } else {
        Exit::Usage
    }
}

async fn snapshot(a: AuditSnapshotArgs) -> Exit {
    let config_key = match &a.config {
        None => None,
        Some(c) => match AuditSettings::load(c) {
            Ok(s) => s.key_file,
            Err(e) => {
                eprintln!("hvinv audit snapshot: configuration error: {e}");
                return Exit::Usage;
            }
        },
    };
    match snapshot_inner(a, config_key).await {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("hvinv audit snapshot: {e}");
            exit_for(&e)
        }
    }
}

async fn snapshot_inner(
    a: AuditSnapshotArgs,
    config_key: Option<PathBuf>,
) -> Result<(), AuditError> {
    let opts = SnapshotOptions {
        from: parse_time(a.from.as_deref(), "--from", false)?,
        to: parse_time(a.to.as_deref(), "--to", true)?,
        pvu: PvuOptions {
            vms_file: a.vms.clone(),
            products: a.product.clone(),
            pvu_table: a.pvu_table.clone(),
            counted_states: counted_states(&a.counted_states)?,
            max_staleness: chrono::Duration::hours(
                i64::try_from(a.max_staleness_hours).unwrap_or(i64::MAX / 3_600_000),
            ),
            ..PvuOptions::default()
        },
    };
    let db_file = crate::store::db_path(&a.db.db)?;
    let key_path: PathBuf = a
        .key
        .clone()
        .or(config_key)
        .unwrap_or_else(|| key::default_path(&db_file));
    let key = SigningKeyFile::load_or_create(&key_path)?;
    let fingerprint = key::fingerprint(&key.verifying_key())?;
    if key.created {
        eprintln!(
            "hvinv audit: created signing key {} (mode 0600; keep it safe). Its public key:\n{}fingerprint (SHA-256 of the public key DER): {fingerprint}",
            key_path.display(),
            key.public_key_pem()?
        );
    }

    let store = Store::open(&a.db.db, OpenMode::ReadOnly).await?;
    let signed_at = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    let snap = audit::build_files(&store, opts, signed_at).await;
    store.close().await;
    let snap = snap?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    bundle::write(&snap.files, &key, &mut bytes)?;
    std::fs::write(&a.output, bytes.into_inner()).map_err(|e| AuditError::io(&a.output, e))?;
    println!(
        "hvinv audit: wrote {} for {} to {} ({} files, peak run {}, data {}); public key fingerprint {fingerprint}",
        a.output.display(),
        crate::report::time::format(&snap.from),
        crate::report::time::format(&snap.to),
        snap.files.len() + 3,
        snap.peak_run,
        if snap.complete {
            "complete"
        } else {
            "INCOMPLETE (see data_condition.txt)"
        },
    );
    Ok(())
}

fn verify(a: AuditVerifyArgs) -> Exit {
    let file = match std::fs::File::open(&a.bundle) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("hvinv audit verify: {}: {e}", a.bundle.display());
            return Exit::Usage;
        }
    };
    let mut v = bundle::verify(std::io::BufReader::new(file));
    println!("bundle: {}", a.bundle.display());
    match &v.fingerprint {
        Some(f) => println!("public key fingerprint (SHA-256 of its DER): {f}"),
        None => println!("public key fingerprint: unknown (no readable public key)"),
    }
    if let Some(want) = &a.fingerprint {
        let want = want.trim().to_ascii_lowercase().replace(':', "");
        if v.fingerprint.as_deref() != Some(want.as_str()) {
            v.problems.push(bundle::Problem::UnexpectedKey(want));
        }
    }
    match &v.period {
        Some((from, to)) => println!("period: {from} to {to}"),
        None => println!("period: unknown (no readable manifest)"),
    }
    println!("files matching their checksum: {}", v.files_checked);
    if v.ok() {
        println!("OK: every checksum and the signature hold");
        Exit::Ok
    } else {
        for p in &v.problems {
            println!("FAILED: {p}");
        }
        Exit::Partial
    }
}
