//! A fast hasher for integer keys (row ids). The PVU report looks ids up
//! millions of times over a quarter of half-hourly runs; SipHash's DoS
//! resistance buys nothing for ids read from our own database.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash-style multiply-rotate over the written words.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf.iter_mut().zip(chunk).for_each(|(b, c)| *b = *c);
            self.add(u64::from_le_bytes(buf));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;
pub type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;
/// Names from our own database (addresses, GUIDs) as keys: the same
/// hasher, as nothing here is chosen by an attacker.
pub type NameMap<'a, V> = HashMap<&'a str, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_maps_store_and_find_keys_and_pairs() {
        let mut m: IdMap<(i64, i64), u32> = IdMap::default();
        for i in 0..1000 {
            m.insert((i, -i), i as u32);
        }
        assert_eq!(m.get(&(999, -999)), Some(&999));
        assert_eq!(m.get(&(999, 999)), None);
        let s: IdSet<i64> = (0..100).collect();
        assert!(s.contains(&42) && !s.contains(&100));
    }
}
