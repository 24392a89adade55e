//! Layer 6: argument parsing, configuration, progress, exit codes.

pub mod args;
pub mod check;
pub mod collect;
pub mod config;
pub mod demo;
pub mod generate;
pub mod progress;
pub mod report;
pub mod simulate;

use args::{Cli, Command};
use clap::Parser;

/// Process exit codes (`shared/spec/cli.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every host collected (or every check passed).
    Ok = 0,
    /// The run finished, but a host failed or returned partial data.
    Partial = 1,
    /// Usage or configuration error; nothing was contacted.
    Usage = 2,
    /// The database could not be opened or migrated.
    Database = 3,
    /// Another collection run holds the database.
    Locked = 4,
    /// Stopped by a signal; the run is stored as `interrupted`.
    Interrupted = 130,
}

/// Parses arguments, runs the command, returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Usage as i32
            } else {
                0
            };
            let _ = e.print();
            return code;
        }
    };
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hvinv: cannot start the async runtime: {e}");
            return Exit::Usage as i32;
        }
    };
    let exit = runtime.block_on(run(cli.command));
    exit as i32
}

async fn run(command: Command) -> Exit {
    match command {
        Command::Demo(a) => demo::run(a).await,
        Command::Collect(a) => run_collect(a).await,
        Command::Check(a) => run_check(a).await,
        Command::Report(a) => report::run(a).await,
        Command::Simulate(a) => simulate::run(a).await,
        Command::GenerateHistory(a) => generate::run(a).await,
    }
}

fn load_config(path: &std::path::Path) -> Option<config::Config> {
    match config::Config::load(path) {
        Ok(c) => {
            for w in &c.warnings {
                tracing::warn!("{w}");
                eprintln!("hvinv: warning: {w}");
            }
            Some(c)
        }
        Err(e) => {
            eprintln!("hvinv: configuration error: {e}");
            None
        }
    }
}

async fn run_collect(args: args::CollectArgs) -> Exit {
    let Some(cfg) = load_config(&args.config) else {
        return Exit::Usage;
    };
    let db = args.db.clone().unwrap_or_else(|| cfg.database_url.clone());
    let opts = collect::RunOptions {
        progress: !args.no_progress && !args.json,
        client: crate::wsman::ClientOptions::default(),
    };
    match collect::run(&cfg, &db, opts).await {
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
            if summary.status == "interrupted" {
                Exit::Interrupted
            } else {
                summary.exit()
            }
        }
        Err(e) => {
            eprintln!("hvinv: {e}");
            e.exit()
        }
    }
}

async fn run_check(args: args::CheckArgs) -> Exit {
    let Some(cfg) = load_config(&args.config) else {
        return Exit::Usage;
    };
    let hosts: Vec<_> = cfg
        .hosts
        .iter()
        .filter(|h| {
            args.host
                .as_ref()
                .is_none_or(|a| a.eq_ignore_ascii_case(&h.address))
        })
        .collect();
    if hosts.is_empty() {
        eprintln!(
            "hvinv: no host named {:?} in the configuration",
            args.host.unwrap_or_default()
        );
        return Exit::Usage;
    }
    let opts = crate::wsman::ClientOptions::default();
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.min(16)));
    let mut tasks = Vec::new();
    for h in hosts {
        let h = h.clone();
        let opts = opts.clone();
        let limit = limit.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            check::check_host(&h, &opts).await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        if let Ok(r) = t.await {
            results.push(r);
        }
    }
    let ok = results.iter().all(|r| r.ok);
    if args.json {
        match serde_json::to_string_pretty(&results) {
            Ok(j) => println!("{j}"),
            Err(e) => eprintln!("hvinv: {e}"),
        }
    } else {
        let mut out = std::io::stdout().lock();
        for r in &results {
            let _ = check::print_text(r, &mut out);
        }
    }
    if ok { Exit::Ok } else { Exit::Partial }
}

/// Logs go to stderr; `RUST_LOG` overrides `-v`. Nothing logged carries a secret:
/// credentials are `SecretString` and never formatted.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,hvinv=info",
        _ => "debug,hyper=info,rustls=info,sqlx=warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
