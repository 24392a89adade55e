//! Command-line arguments (`shared/spec/cli.md`).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::Ipv4Addr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "hvinv",
    version,
    about = "Read-only Hyper-V inventory over WinRM, stored in SQLite, with PVU reports",
    long_about = "hvinv inventories Microsoft Hyper-V hosts and clusters over WinRM (WS-Management) with \
Negotiate/NTLM authentication, sealed HTTP or verified HTTPS. It only ever sends WS-Enumeration \
Enumerate, Pull and Release (and WS-Man Identify) carrying a fixed set of WQL SELECT statements: \
it changes nothing on any host."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in simulator, collect a small simulated estate into ./hvinv-demo.db, print it.
    Demo(DemoArgs),
    /// Collect every configured host once into the database (one run).
    Collect(CollectArgs),
    /// Diagnose connectivity host by host and print what to change on the host. Changes nothing.
    Check(CheckArgs),
    /// Read-only reports over the stored runs.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Run the WinRM/Hyper-V simulator on its own (tests, benchmarks, demos).
    Simulate(SimulateArgs),
    /// Write a synthetic history of runs into a database (benchmarks; no network).
    #[command(hide = true)]
    GenerateHistory(super::generate::GenerateArgs),
    /// Signed evidence bundles for an auditor: make one, or check one.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Delete runs older than a date and what only they reference (refused under two years).
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the demo database.
    #[arg(long, default_value = "hvinv-demo.db")]
    pub db: String,
    /// Seed of the simulated estate.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First loopback address the simulated hosts listen on.
    #[arg(long, default_value = "127.0.10.1")]
    pub base_address: Ipv4Addr,
    /// Also collect a second generation (live migrations, an added and a removed VM).
    #[arg(long)]
    pub generations: Option<u32>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// The TOML configuration (see config/hvinv.example.toml).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Database URL or path; overrides [database] url.
    #[arg(long)]
    pub db: Option<String>,
    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// Never draw a progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, short)]
    pub config: PathBuf,
    /// Only this host (as written in the config).
    #[arg(long)]
    pub host: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    Xlsx,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Hosts, processors, clusters and VMs of one run (hvinv.topology/1 in JSON).
    Topology(TopologyArgs),
    /// Processor Value Unit figures: per run, per host, per day, and the period peak.
    Pvu(PvuArgs),
    /// Where VMs ran over time: placements, live migrations, additions, removals.
    History(HistoryArgs),
    /// Evidence of collection: per address OK / failed / absent runs, the
    /// longest gap between OK runs, and the 30-minute cadence (hvinv.coverage/1).
    Coverage(CoverageArgs),
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Start of the period (RFC 3339 or YYYY-MM-DD, UTC); default 90 days ago.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period; default now.
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DbArg {
    /// Database URL or path.
    #[arg(long, default_value = "sqlite://hvinv.db")]
    pub db: String,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write to this file instead of stdout (required for xlsx).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TopologyArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Run id (default: the latest complete run).
    #[arg(long)]
    pub run: Option<i64>,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PvuArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Start of the period (RFC 3339 or YYYY-MM-DD, UTC); default 90 days ago.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period (RFC 3339 or YYYY-MM-DD, UTC); default now.
    #[arg(long)]
    pub to: Option<String>,
    /// The VMs that run the product: one VM GUID, BIOS GUID (either byte order) or name per line.
    #[arg(long, conflicts_with = "product")]
    pub vms: Option<PathBuf>,
    /// A named product and its VM list (same format as --vms); repeatable.
    /// Each product gets its own figures per region; a VM may be in several.
    #[arg(long, value_name = "NAME=FILE", value_parser = crate::report::pvu::products::parse_product_arg)]
    pub product: Vec<(String, PathBuf)>,
    /// PVU-per-core table (TOML); default: the table shipped in config/pvu-table.toml.
    #[arg(long)]
    pub pvu_table: Option<PathBuf>,
    /// VM states that hold processors, comma-separated.
    #[arg(long, default_value = "running,paused", value_delimiter = ',')]
    pub counted_states: Vec<String>,
    /// How old a failed host's last good snapshot may be and still be carried forward (hours).
    #[arg(long, default_value_t = 24)]
    pub max_staleness_hours: u64,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// One VM, by GUID or name (default: the whole estate).
    #[arg(long)]
    pub vm: Option<String>,
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of simulated hosts (default: the demo estate's hosts).
    #[arg(long)]
    pub hosts: Option<usize>,
    /// VMs per host when --hosts is given.
    #[arg(long, default_value_t = 20)]
    pub vms_per_host: usize,
    #[arg(long, default_value = "127.0.10.1")]
    pub base_address: Ipv4Addr,
    /// Simulated round-trip latency added to every HTTP response.
    #[arg(long, default_value_t = 0.0)]
    pub latency_ms: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// HTTP port on every address (0 = any free port).
    #[arg(long, default_value_t = 5985)]
    pub http_port: u16,
    /// HTTPS port on every address (0 = any free port).
    #[arg(long, default_value_t = 5986)]
    pub https_port: u16,
    /// Write a ready-to-use hvinv config for the simulated hosts to this file.
    #[arg(long)]
    pub write_config: Option<PathBuf>,
    /// Write the simulator's CA certificate (PEM) to this file.
    #[arg(long)]
    pub write_ca: Option<PathBuf>,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub duration_secs: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write a signed, self-checking evidence bundle (zip) for a period.
    Snapshot(AuditSnapshotArgs),
    /// Check a bundle's checksums and signature; exit 0 only when both hold.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditSnapshotArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Start of the period (RFC 3339 or YYYY-MM-DD, UTC); default 90 days before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period (RFC 3339 or YYYY-MM-DD, UTC); default the start of
    /// the latest complete run, so the same data gives the same bundle.
    #[arg(long)]
    pub to: Option<String>,
    /// The VMs that run the product: one VM GUID, BIOS GUID (either byte order) or name per line.
    #[arg(long, conflicts_with = "product")]
    pub vms: Option<PathBuf>,
    /// A named product and its VM list (same format as --vms); repeatable.
    /// Each product gets its own figures per region; a VM may be in several.
    #[arg(long, value_name = "NAME=FILE", value_parser = crate::report::pvu::products::parse_product_arg)]
    pub product: Vec<(String, PathBuf)>,
    /// PVU-per-core table (TOML); default: the table shipped in config/pvu-table.toml.
    #[arg(long)]
    pub pvu_table: Option<PathBuf>,
    /// VM states that hold processors, comma-separated.
    #[arg(long, default_value = "running,paused", value_delimiter = ',')]
    pub counted_states: Vec<String>,
    /// How old a failed host's last good snapshot may be and still be carried forward (hours).
    #[arg(long, default_value_t = 24)]
    pub max_staleness_hours: u64,
    /// The signing key (PKCS#8 PEM, mode 0600), created on first use.
    /// Default: `[audit] key_file` of --config, else next to the database (DB.audit-key.pem).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A configuration whose `[audit] key_file` names the signing key.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Where to write the bundle.
    #[arg(long, short)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// The bundle to check.
    pub bundle: PathBuf,
    /// Also require the signing key to have this fingerprint (SHA-256 hex of
    /// its SubjectPublicKeyInfo DER, as `audit snapshot` prints it).
    #[arg(long)]
    pub fingerprint: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Delete the runs that started before this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long)]
    pub before: String,
    /// Allow a cut less than two years ago (IBM asks that reports be kept two years).
    #[arg(long)]
    pub allow_under_two_years: bool,
}
