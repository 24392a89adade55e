//! What an unchanged run costs on disk: 1,000 hosts × 20 VMs (target: at
//! most 5 KB, issue 11).
//! `cargo test --test store_size -- --ignored --nocapture` prints the figures.

mod store_support;

use hvinv::store::{HostOutcome, Store};
use std::time::{Duration, Instant};
use store_support::*;

const HOSTS: u32 = 1000;
const VMS: u32 = 20;

async fn file_size(store: &Store) -> u64 {
    store.checkpoint().await.unwrap();
    std::fs::metadata(store.path()).unwrap().len()
}

async fn one_run(store: &Store) -> Duration {
    let t = Instant::now();
    let run = store.begin_run(HOSTS).await.unwrap();
    for n in 0..HOSTS {
        let outcome = HostOutcome::Ok {
            snapshot: host(n, VMS),
            duration: Duration::from_millis(850),
            round_trips: 12,
        };
        store
            .record_host(run, &format!("hv{n:04}.contoso.com"), &outcome)
            .await
            .unwrap();
    }
    store.finish_run(run).await.unwrap();
    t.elapsed()
}

#[tokio::test]
#[ignore = "measurement: about half a minute in a debug build"]
async fn unchanged_run_of_1000_hosts_by_20_vms_adds_at_most_5_kb() {
    let (_d, store) = temp_store().await;
    let first = one_run(&store).await;
    let after_first = file_size(&store).await;
    let second = one_run(&store).await;
    let after_second = file_size(&store).await;
    let third = one_run(&store).await;
    let after_third = file_size(&store).await;
    println!(
        "first run: {after_first} bytes in {first:?}; unchanged runs add {} and {} bytes ({:?}, {:?})",
        after_second - after_first,
        after_third - after_second,
        second,
        third
    );
    assert_eq!(count(&store, "vm_facts").await, i64::from(HOSTS * VMS));
    assert_eq!(count(&store, "host_facts").await, i64::from(HOSTS));
    assert_eq!(count(&store, "host_outcomes").await, i64::from(3 * HOSTS));
    assert_eq!(count(&store, "outcome_spans").await, i64::from(HOSTS));
    // Only the runs row is new; every interval is extended in place.
    assert!(after_third - after_second <= 5 * 1024);
}
