//! One estate generation with its per-host query cache: each host's answer
//! to a given select is built once per generation and then shared.

use crate::simulator::classes::{self, Namespace, QueryFault};
use crate::simulator::estate::Estate;
use crate::simulator::soap::render;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub type Items = Arc<Vec<Arc<str>>>;
type QueryCache = Mutex<HashMap<(Namespace, String), Result<Items, QueryFault>>>;

pub struct Generation {
    pub estate: Estate,
    caches: Vec<QueryCache>,
}

/// Bound on distinct queries cached per host (clients send a fixed set;
/// this only stops a hostile client from growing memory without end).
const MAX_CACHED_QUERIES: usize = 64;

impl Generation {
    pub fn new(estate: Estate) -> Self {
        let caches = (0..estate.hosts.len())
            .map(|_| Mutex::new(HashMap::new()))
            .collect();
        Generation { estate, caches }
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
        if let Some(cache) = self.caches.get(index)
            && let Ok(mut map) = cache.lock()
            && map.len() < MAX_CACHED_QUERIES
        {
            map.insert(key, result.clone());
        }
        result
    }
}
