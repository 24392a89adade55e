//! One estate generation with its per-host query cache: each host's answer
//! to a given select is built once per generation and then shared.

use crate::simulator::classes::{self, Namespace, QueryFault};
use crate::simulator::estate::Estate;
use crate::simulator::soap::render;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub type Items = Arc<Vec<Arc<str>>>;
type QueryCache = Mutex<HashMap<(Namespace, String), Result<Items, QueryFault>>>;

pub struct Generation {
    pub estate: Estate,
    caches: Vec<QueryCache>,
    /// Bytes of XML held by `caches`.
    cached_bytes: AtomicUsize,
}

/// Memory bound on cached XML per generation: 5,000 hosts answer about
/// 1 GB of XML for a full collection; past this budget replies are
/// rendered per request instead (about a millisecond for 20 VMs).
const CACHE_BUDGET: usize = 256 * 1024 * 1024;

/// Bound on distinct queries cached per host (clients send a fixed set;
/// this only stops a hostile client from growing memory without end).
const MAX_CACHED_QUERIES: usize = 64;

impl Generation {
    pub fn new(estate: Estate) -> Self {
        let caches = (0..estate.hosts.len())
            .map(|_| Mutex::new(HashMap::new()))
            .collect();
        Generation {
            estate,
            caches,
            cached_bytes: AtomicUsize::new(0),
        }
    }

    /// The items of `wql` in `ns` on host `index` (namespace presence and
    /// access already checked).
    pub fn select(&self, index: usize, ns: Namespace, wql: &str) -> Result<Items, QueryFault> {
        let Some(host) = self.estate.hosts.get(index) else {
            return Err(QueryFault::InvalidNamespace);
        };
        let key = (ns, wql.to_string());
        if let Some(cache) = self.caches.get(index)
            && let Ok(map) = cache.lock()
            && let Some(hit) = map.get(&key)
        {
            return hit.clone();
        }
        let result = classes::select(ns, wql, host, &self.estate).map(|sel| {
            let items: Vec<Arc<str>> = sel
                .rows
                .iter()
                .map(|r| Arc::from(render::item(ns.path(), &sel, r)))
                .collect();
            Arc::new(items)
        });
        let size = result
            .as_ref()
            .map_or(0, |items| items.iter().map(|i| i.len()).sum());
        if self.cached_bytes.load(Ordering::Relaxed) + size <= CACHE_BUDGET
            && let Some(cache) = self.caches.get(index)
            && let Ok(mut map) = cache.lock()
            && map.len() < MAX_CACHED_QUERIES
        {
            self.cached_bytes.fetch_add(size, Ordering::Relaxed);
            map.insert(key, result.clone());
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_select_is_rendered_once_per_generation() {
        let g = Generation::new(Estate::demo(1));
        let q = "SELECT * FROM Msvm_ComputerSystem";
        let a = g.select(0, Namespace::VirtualizationV2, q).unwrap();
        let b = g.select(0, Namespace::VirtualizationV2, q).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.len(), g.estate.hosts[0].vms.len() + 1);
        // Another host, another answer.
        let c = g.select(1, Namespace::VirtualizationV2, q).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(
            g.select(0, Namespace::CimV2, "SELECT * FROM Nope").err(),
            Some(QueryFault::InvalidClass)
        );
    }
}
