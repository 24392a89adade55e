//! `hvinv collect`: loads the configuration, runs one collection
//! (`crate::collection`) with a progress bar and the signal handler, prints
//! the summary and maps it to an exit code.

use super::Exit;
use super::args::CollectArgs;
use super::config::Config;
use super::progress::Progress;
use crate::collection::{self, RunError, RunObserver, RunSummary};
use crate::store::HostOutcome;
use crate::wsman::ClientOptions;

/// Options of one run, as the CLI decides them.
pub struct CollectOptions {
    /// Draw a progress bar (only when stderr is a terminal).
    pub progress: bool,
    pub client: ClientOptions,
}

/// Runs one collection of every configured host into `db_url`, stopped
/// (and stored as `interrupted`) by Ctrl-C or SIGTERM.
pub async fn collect_configured_hosts(
    config: &Config,
    db_url: &str,
    opts: CollectOptions,
) -> Result<RunSummary, RunError> {
    let progress = Progress::new(config.hosts.len() as u64, opts.progress);
    let run_opts = collection::RunOptions {
        concurrency: config.concurrency,
        client: opts.client,
    };
    collection::collect_run_into_store(
        &config.hosts,
        db_url,
        &run_opts,
        &progress,
        shutdown_signal(),
    )
    .await
}

impl RunObserver for Progress {
    fn host_recorded(&self, _address: &str, outcome: &HostOutcome) {
        if matches!(outcome, HostOutcome::Failed { .. }) {
            self.fail();
        }
        self.inc();
    }

    fn all_recorded(&self) {
        self.finish();
    }
}

/// 0 when every host was collected cleanly, 1 otherwise, 130 when a signal
/// cut the run short.
pub fn summary_exit(summary: &RunSummary) -> Exit {
    if summary.is_interrupted() {
        Exit::Interrupted
    } else if summary.is_clean() {
        Exit::Ok
    } else {
        Exit::Partial
    }
}

/// 4 when another run holds the database, 3 for any other database failure.
pub fn run_error_exit(e: &RunError) -> Exit {
    match e {
        RunError::Store(e) if e.exit_code() == 4 => Exit::Locked,
        RunError::Store(_) => Exit::Database,
    }
}

/// `hvinv collect`.
pub async fn run(args: CollectArgs) -> Exit {
    let Some(cfg) = super::load_config(&args.config) else {
        return Exit::Usage;
    };
    let db = args.db.clone().unwrap_or_else(|| cfg.database_url.clone());
    let opts = CollectOptions {
        progress: !args.no_progress && !args.json,
        client: ClientOptions::default(),
    };
    match collect_configured_hosts(&cfg, &db, opts).await {
        Ok(summary) => {
            if args.json {
                match serde_json::to_string_pretty(&summary) {
                    Ok(j) => println!("{j}"),
                    Err(e) => eprintln!("hvinv: {e}"),
                }
            } else {
                println!("{}", summary.line());
            }
            for f in &summary.failures {
                eprintln!("hvinv: {} failed ({}): {}", f.address, f.kind, f.message);
            }
            for w in &summary.warnings {
                eprintln!("hvinv: warning: {w}");
            }
            for w in &summary.incomplete_coverage {
                eprintln!("hvinv: incomplete coverage: {w}");
            }
            summary_exit(&summary)
        }
        Err(e) => {
            eprintln!("hvinv: {e}");
            run_error_exit(&e)
        }
    }
}

/// Ctrl-C or SIGTERM (cron's and systemd's way to stop a job).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
