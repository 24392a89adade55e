//! The licence region (config `region`) is stored with the host's facts:
//! a host moved to another region opens a new interval, so every run counts
//! it where it was; the default region leaves the digest as it was before
//! regions existed (no interval re-opens on upgrade).

mod store_support;

use hvinv::store::HostOutcome;
use std::time::Duration;
use store_support::*;

fn ok(region: Option<&str>) -> HostOutcome {
    let mut h = host(1, 1);
    h.region = region.map(str::to_string);
    HostOutcome::Ok {
        snapshot: h,
        duration: Duration::from_millis(1),
        round_trips: 1,
    }
}

async fn intervals(store: &hvinv::store::Store) -> Vec<(i64, i64, String)> {
    sqlx::query_as("SELECT first_run_id, last_run_id, region FROM host_facts ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_host_moved_between_regions_opens_a_new_interval() {
    let (_d, store) = temp_store().await;
    for region in [Some("EMEA"), Some("EMEA"), Some("AMER")] {
        let run = store.begin_run(3).await.unwrap();
        store.record_host(run, "hv0001", &ok(region)).await.unwrap();
    }
    assert_eq!(
        intervals(&store).await,
        [(1, 2, "EMEA".to_string()), (3, 3, "AMER".to_string())]
    );
}

#[tokio::test]
async fn no_region_and_the_default_region_are_the_same_interval() {
    let (_d, store) = temp_store().await;
    for region in [None, Some("default"), None] {
        let run = store.begin_run(3).await.unwrap();
        store.record_host(run, "hv0001", &ok(region)).await.unwrap();
    }
    assert_eq!(intervals(&store).await, [(1, 3, "default".to_string())]);
}
