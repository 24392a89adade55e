//! Layer 6: argument parsing, configuration, progress, exit codes.

pub mod args;
pub mod audit;
pub mod check;
pub mod collect;
pub mod config;
pub mod demo;
pub mod generate;
pub mod progress;
pub mod prune;
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
        Command::Collect(a) => collect::run(a).await,
        Command::Check(a) => check::run(a).await,
        Command::Report(a) => report::run(a).await,
        Command::Simulate(a) => simulate::run(a).await,
        Command::GenerateHistory(a) => generate::run(a).await,
        Command::Audit(a) => audit::run(a).await,
        Command::Prune(a) => prune::run(a).await,
    }
}

pub(crate) fn load_config(path: &std::path::Path) -> Option<config::Config> {
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

/// Logs go to stderr; `RUST_LOG` overrides `-v`. Nothing logged carries a secret:
/// credentials are `SecretString` and never formatted.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,hvinv=info",
        // sspi stays at info: its debug spans dump security-context state.
        _ => "debug,hyper=info,rustls=info,sqlx=warn,sspi=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
