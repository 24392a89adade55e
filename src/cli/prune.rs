//! `hvinv prune` (`shared/spec/audit.md`, "Retention"): the two-year rule,
//! then the store's prune under the collection lock.

use chrono::{DateTime, Months, Utc};

use super::Exit;
use super::args::PruneArgs;
use super::report::parse_time;
use crate::report::time;
use crate::store::Store;

/// IBM asks that reports be kept two years.
pub const RETENTION_MONTHS: u32 = 24;

/// The latest cut allowed without `--allow-under-two-years`.
pub fn two_years_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(RETENTION_MONTHS))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub async fn run(a: PruneArgs) -> Exit {
    let before = match parse_time(Some(&a.before), "--before", false) {
        Ok(Some(t)) => t,
        Ok(None) => return Exit::Usage,
        Err(e) => {
            eprintln!("hvinv prune: {e}");
            return Exit::Usage;
        }
    };
    let limit = two_years_before(Utc::now());
    let under_two_years = before > limit;
    if under_two_years && !a.allow_under_two_years {
        eprintln!(
            "hvinv prune: refused: --before {} is less than two years ago (the latest cut that keeps two years is {}); \
             IBM asks that reports be kept two years. Nothing was deleted. \
             Add --allow-under-two-years to cut anyway (the prune is recorded in the database).",
            time::format(&before),
            time::format(&limit)
        );
        return Exit::Usage;
    }
    let (store, lock) = match Store::open_for_collection(&a.db.db).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hvinv prune: {e}");
            return exit_code(e.exit_code());
        }
    };
    let result = store.prune(before, under_two_years).await;
    store.close().await;
    drop(lock);
    match result {
        Ok(s) => {
            match (s.first_run_deleted, s.last_run_deleted) {
                (Some(first), Some(last)) => println!(
                    "hvinv prune: deleted {} runs ({first}..{last}) started before {}; first run kept: {}; rows deleted: {}",
                    s.runs_deleted,
                    time::format(&s.before),
                    s.first_run_kept
                        .map_or_else(|| "none".to_string(), |k| k.to_string()),
                    s.rows_deleted
                        .iter()
                        .map(|(t, n)| format!("{t} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => println!(
                    "hvinv prune: no run started before {}; nothing deleted (the prune is recorded)",
                    time::format(&s.before)
                ),
            }
            if s.under_two_years {
                eprintln!(
                    "hvinv prune: warning: the cut is less than two years ago (--allow-under-two-years)"
                );
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("hvinv prune: {e}");
            exit_code(e.exit_code())
        }
    }
}

fn exit_code(code: i32) -> Exit {
    match code {
        4 => Exit::Locked,
        _ => Exit::Database,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_years_is_calendar_months() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T17:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(time::format(&two_years_before(now)), "2024-12-04T17:00:00Z");
    }
}
