//! The change-detection digests of host and VM facts are part of
//! every existing database: a row extends only while the digest computed
//! from a new snapshot equals the stored one. These values were computed
//! with the row types the store had before its fact rows were derived from
//! the model; a change here would open a new interval for every unchanged
//! host and VM on the first collection after an upgrade.
//!
//! Checked by hand: SHA-256 of the compact JSON of each row, fields in the
//! column order of `migrations/` (host: name … processors as a JSON string,
//! cluster_name, hyperv_namespace; VM: name … clustered), computed outside
//! Rust, gives the same three values. Cluster rows have no digest since
//! version 6: they are compared by their columns, checked here as stored.

mod store_support;

use hvinv::inventory::*;
use hvinv::store::HostOutcome;
use std::time::Duration;
use store_support::*;

fn snapshot() -> HostSnapshot {
    let mut h = host(7, 2);
    h.vms[1] = VmSnapshot {
        name: Some("quote \" back\\slash é".into()),
        bios_guid: None,
        bios_serial: None,
        state: VmState::Saved,
        enabled_state: Some(32769),
        health_state: None,
        vcpus: None,
        cpu_limit_pct: Some(0.1 + 0.2),
        cpu_reservation_pct: None,
        cpu_weight: None,
        memory_mb: None,
        dynamic_memory: None,
        replication: Replication::TestReplica,
        replication_mode: Some(3),
        generation: None,
        version: None,
        clustered: true,
        ..h.vms[1].clone()
    };
    h.cluster = Some(ClusterSnapshot {
        name: "CLU01".into(),
        fqdn: Some("clu01.contoso.com".into()),
        nodes: vec![
            ClusterNode {
                name: "HV0008".into(),
                state: "down".into(),
            },
            ClusterNode {
                name: "HV0007".into(),
                state: "up".into(),
            },
        ],
        vm_owners: vec![
            VmOwner {
                vm_guid: Some(vm_guid(7, 1).into()),
                resource: Some("Virtual Machine vm-7-1".into()),
                owner_node: Some("HV0007".into()),
                state: "online".into(),
            },
            VmOwner {
                vm_guid: None,
                resource: Some("Virtual Machine orphan".into()),
                owner_node: None,
                state: "offline".into(),
            },
        ],
    });
    h.memory_mb = None;
    h.processor_model = Some("AMD EPYC 7543 32-Core Processor".into());
    h
}

/// vm_guid, resource, owner_node, state
type OwnerRow = (String, Option<String>, Option<String>, Option<String>);

#[tokio::test]
async fn fact_digests_of_a_fixed_snapshot_are_the_ones_stored_before() {
    let (_d, store) = temp_store().await;
    let run = store.begin_run(1).await.unwrap();
    let outcome = HostOutcome::Ok {
        snapshot: snapshot(),
        duration: Duration::from_millis(1),
        round_trips: 1,
    };
    store.record_host(run, "hv0007", &outcome).await.unwrap();
    let host: (String,) = sqlx::query_as("SELECT digest FROM host_facts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let vms: Vec<(String, String)> = sqlx::query_as(
        "SELECT v.guid, f.digest FROM vm_facts f JOIN vms v ON v.id = f.vm_id ORDER BY v.guid",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let cluster: (Option<String>, String) = sqlx::query_as("SELECT fqdn, nodes FROM cluster_facts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let owners: Vec<OwnerRow> = sqlx::query_as(
        "SELECT vm_guid, resource, owner_node, state FROM cluster_vm_facts ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        host.0,
        "49213cb69107ab7149c03e19502e7004bbd708ce7330414704f5aa65e3532b5b"
    );
    assert_eq!(
        vms,
        [
            (
                vm_guid(7, 0),
                "0d3205ba49b0000526beaae6a026d2d2455d934be558ded4ff53fa65f406f9ef".to_string()
            ),
            (
                vm_guid(7, 1),
                "3272d2b1279a75dc754d111ed1fd8570f0e800cae9e72e896b41a41744630739".to_string()
            )
        ]
    );
    // The host row travels as JSON into its columns: each keeps its type.
    let typed: (String, String, String, String, String) = sqlx::query_as(
        "SELECT typeof(sockets), typeof(cores), typeof(memory_mb), typeof(processors), processors
         FROM host_facts",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        (&typed.0[..], &typed.1[..], &typed.2[..], &typed.3[..]),
        ("integer", "integer", "null", "text")
    );
    assert!(
        typed.4.starts_with(r#"[{"socket":"CPU0","name":"Intel"#),
        "{}",
        typed.4
    );
    // Nodes sorted by name, in the JSON form rows written before had; the
    // owner without a GUID is not stored.
    assert_eq!(
        cluster,
        (
            Some("clu01.contoso.com".to_string()),
            r#"[{"name":"HV0007","state":"up"},{"name":"HV0008","state":"down"}]"#.to_string()
        )
    );
    assert_eq!(
        owners,
        [(
            vm_guid(7, 1),
            Some("Virtual Machine vm-7-1".to_string()),
            Some("HV0007".to_string()),
            Some("online".to_string())
        )]
    );
}
