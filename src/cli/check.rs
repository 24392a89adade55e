//! `hvinv check`: loads the configuration, walks the `diagnose` ladder for
//! each host (a few at once), prints the results, maps them to an exit code.

use super::Exit;
use super::args::CheckArgs;
use crate::diagnose::{self, HostCheck, StepStatus};
use crate::wsman::ClientOptions;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// `hvinv check`.
pub async fn run(args: CheckArgs) -> Exit {
    let Some(cfg) = super::load_config(&args.config) else {
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
    let opts = ClientOptions::default();
    let limit = Arc::new(Semaphore::new(cfg.concurrency.min(16)));
    let mut tasks = Vec::new();
    for h in hosts {
        let h = h.clone();
        let opts = opts.clone();
        let limit = limit.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            diagnose::check_host(&h.address, &h.transport, &opts).await
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
            let _ = print_text(r, &mut out);
        }
    }
    if ok { Exit::Ok } else { Exit::Partial }
}

/// Prints one host's result for a person.
pub fn print_text(check: &HostCheck, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {}",
        check.address,
        if check.ok { "OK" } else { "PROBLEM" }
    )?;
    for s in &check.steps {
        let mark = match s.status {
            StepStatus::Pass => "ok  ",
            StepStatus::Warn => "warn",
            StepStatus::Fail => "FAIL",
            StepStatus::Skip => "skip",
        };
        writeln!(out, "  [{mark}] {:<19} {}", s.name, s.detail)?;
        if let Some(r) = &s.remedy {
            writeln!(out, "         fix: {r}")?;
        }
    }
    Ok(())
}
