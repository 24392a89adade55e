//! The real binary, as cron runs it: signals, exit codes, and secrets that
//! never reach output or the database.

use hvinv::simulator::{Estate, SimConfig, SimUser, Simulator};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hvinv");

async fn start(estate: Estate, base: Ipv4Addr, latency_ms: u64, password: &str) -> Simulator {
    let mut cfg = SimConfig::new(estate);
    cfg.base_address = base;
    cfg.http_port = 0;
    cfg.https_port = None;
    cfg.latency = Duration::from_millis(latency_ms);
    cfg.users = vec![SimUser {
        account: hvinv::simulator::DEFAULT_ACCOUNT.to_string(),
        password: password.to_string(),
    }];
    Simulator::start(cfg).await.expect("simulator starts")
}

/// A config file for every simulated host, password from `HVINV_TEST_PW`.
fn write_config(sim: &Simulator, dir: &Path, concurrency: usize) -> PathBuf {
    let mut text = format!(
        "[defaults]\nusername = '{}'\npassword_env = \"HVINV_TEST_PW\"\nconcurrency = {concurrency}\ntimeout_secs = 20\n",
        hvinv::simulator::DEFAULT_ACCOUNT
    );
    for ep in sim.endpoints() {
        text.push_str(&format!(
            "\n[[host]]\naddress = \"{}\"\nport = {}\n",
            ep.ip,
            ep.http.port()
        ));
    }
    let path = dir.join("hvinv.toml");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}

fn collect(config: &Path, db: &Path, password: &str, extra: &[&str]) -> Child {
    Command::new(BIN)
        .arg("collect")
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(db)
        .arg("--no-progress")
        .args(extra)
        .env("HVINV_TEST_PW", password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hvinv starts")
}

/// Waits for the child while draining its pipes (a chatty `-vv` run would
/// otherwise fill them and block); kills it past `limit`.
fn wait(child: Child, limit: Duration) -> (i32, String, String) {
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(out)) => (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        Ok(Err(e)) => panic!("waiting for hvinv: {e}"),
        Err(_) => {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("hvinv did not finish within {limit:?}");
        }
    }
}

async fn sql_rows(db: &Path, sql: &'static str) -> Vec<(String, i64)> {
    try_sql_rows(db, sql).await.unwrap()
}

async fn try_sql_rows(db: &Path, sql: &'static str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    use sqlx::Row;
    use sqlx::sqlite::SqliteConnectOptions;
    let opts = SqliteConnectOptions::new().filename(db).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await?;
    let rows = sqlx::query(sql).fetch_all(&pool).await;
    pool.close().await;
    Ok(rows?
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
}

async fn integrity_ok(db: &Path) {
    let rows = sql_rows(db, "SELECT integrity_check, 0 FROM pragma_integrity_check").await;
    assert_eq!(rows, vec![("ok".to_string(), 0)]);
}

/// Polls until the running run has committed at least `n` host outcomes.
async fn wait_for_outcomes(db: &Path, n: i64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if db.exists() {
            // The file appears before its tables: a failed read means "not yet".
            let rows = try_sql_rows(
                db,
                "SELECT r.status, COUNT(o.address) FROM runs r LEFT JOIN host_outcomes o ON o.run_id = r.id \
                 WHERE r.status = 'running' GROUP BY r.id",
            )
            .await
            .unwrap_or_default();
            if rows.iter().any(|(_, c)| *c >= n) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the collection never committed {n} hosts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_midway_marks_the_run_interrupted_and_keeps_everything_else() {
    let pw = "Term-Test-Pw1";
    let sim = start(Estate::demo(21), Ipv4Addr::new(127, 0, 51, 1), 60, pw).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path(), 2);
    let db = dir.path().join("hvinv.db");

    // A complete first run.
    let (code, out, err) = wait(collect(&config, &db, pw, &[]), Duration::from_secs(120));
    assert!(code == 0 || code == 1, "first run: {code} {out} {err}");
    // A second run, cut by SIGTERM once some hosts are committed.
    let child = collect(&config, &db, pw, &[]);
    let pid = child.id() as i32;
    wait_for_outcomes(&db, 2).await;
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let (code, _, _) = wait(child, Duration::from_secs(30));
    assert_eq!(code, 130, "an interrupted run exits 130");

    integrity_ok(&db).await;
    let runs = sql_rows(&db, "SELECT status, id FROM runs ORDER BY id").await;
    assert_eq!(runs[0].0, "complete");
    assert_eq!(runs[1].0, "interrupted");
    let outcomes = sql_rows(
        &db,
        "SELECT CAST(run_id AS TEXT), COUNT(*) FROM host_outcomes GROUP BY run_id ORDER BY run_id",
    )
    .await;
    assert_eq!(
        outcomes[0].1 as usize,
        sim.endpoints().len(),
        "the first run is intact"
    );
    assert!(outcomes[1].1 >= 2, "hosts committed before the signal stay");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_collection_is_marked_interrupted_by_the_next_run() {
    let pw = "Kill-Test-Pw2";
    let sim = start(Estate::demo(22), Ipv4Addr::new(127, 0, 52, 1), 60, pw).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path(), 2);
    let db = dir.path().join("hvinv.db");
    let child = collect(&config, &db, pw, &[]);
    let pid = child.id() as i32;
    wait_for_outcomes(&db, 1).await;
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = wait(child, Duration::from_secs(30));
    integrity_ok(&db).await;

    let (code, out, err) = wait(collect(&config, &db, pw, &[]), Duration::from_secs(120));
    assert!(code == 0 || code == 1, "{code} {out} {err}");
    integrity_ok(&db).await;
    let runs = sql_rows(&db, "SELECT status, id FROM runs ORDER BY id").await;
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].0, "interrupted");
    assert_eq!(runs[1].0, "complete");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_output_logs_errors_or_the_database() {
    // Distinctive, so any leak (also as UTF-16, as NTLM handles it) is found.
    let pw = "Qx7-Leak-Canary-Zq9";
    let mut estate = Estate::demo(23);
    estate.hosts[0].faults.reject_auth = true;
    let sim = start(estate, Ipv4Addr::new(127, 0, 53, 1), 0, pw).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path(), 8);
    let db = dir.path().join("hvinv.db");
    let (code, out, err) = wait(
        collect(&config, &db, pw, &["-vv", "--json"]),
        Duration::from_secs(120),
    );
    assert_eq!(code, 1, "one host fails auth: {out} {err}");
    assert!(
        err.contains("auth") || out.contains("auth"),
        "the failure is reported"
    );

    let utf16: Vec<u8> = pw.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), out.into_bytes()),
        ("stderr".into(), err.into_bytes()),
    ];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("hvinv.db")
        {
            haystacks.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    for (name, bytes) in &haystacks {
        assert!(!contains(bytes, pw.as_bytes()), "password in {name}");
        assert!(!contains(bytes, &utf16), "UTF-16 password in {name}");
    }

    // A config error names the key but not the secret file's content.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[host]]\naddress='x'\nusername='u'\npassword_env='HVINV_TEST_PW'\nport=0\n",
    )
    .unwrap();
    let (code, out, err) = wait(collect(&bad, &db, pw, &[]), Duration::from_secs(30));
    assert_eq!(code, 2);
    assert!(err.contains("host[0].port"), "{err}");
    assert!(!out.contains(pw) && !err.contains(pw));
    sim.shutdown().await;
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
