//! Counters, and the CPU time of the simulator's own worker threads.

use crate::simulator::SimStats;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub soap_requests: AtomicU64,
    pub connections: AtomicU64,
    pub tls_handshakes: AtomicU64,
    pub handshakes: AtomicU64,
    pub auth_failures: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Threads of the simulator runtime that are alive now.
    threads: Mutex<Vec<libc::pthread_t>>,
    /// CPU time of threads that have exited.
    retired_ns: AtomicU64,
}

pub fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Relaxed);
}

fn thread_cpu_ns(t: libc::pthread_t) -> Option<u64> {
    let mut clock: libc::clockid_t = 0;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a live thread of our runtime (registered on start,
    // removed under the same lock before it exits); both out-pointers are
    // valid for writes.
    unsafe {
        if libc::pthread_getcpuclockid(t, &mut clock) != 0
            || libc::clock_gettime(clock, &mut ts) != 0
        {
            return None;
        }
    }
    Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

fn self_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer; CLOCK_THREAD_CPUTIME_ID always exists on Linux.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Counters {
    /// Called on each runtime thread as it starts.
    pub fn thread_started(&self) {
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        if let Ok(mut t) = self.threads.lock() {
            t.push(me);
        }
    }

    /// Called on each runtime thread as it stops: bank its CPU time.
    pub fn thread_stopping(&self) {
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        if let Ok(mut t) = self.threads.lock() {
            t.retain(|x| *x != me);
            self.retired_ns.fetch_add(self_cpu_ns(), Relaxed);
        }
    }

    pub fn snapshot(&self) -> SimStats {
        let cpu_time = self.threads.lock().ok().and_then(|t| {
            let mut total = self.retired_ns.load(Relaxed);
            for th in t.iter() {
                total += thread_cpu_ns(*th)?;
            }
            Some(Duration::from_nanos(total))
        });
        SimStats {
            requests: self.requests.load(Relaxed),
            soap_requests: self.soap_requests.load(Relaxed),
            connections: self.connections.load(Relaxed),
            tls_handshakes: self.tls_handshakes.load(Relaxed),
            handshakes: self.handshakes.load(Relaxed),
            auth_failures: self.auth_failures.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            cpu_time,
        }
    }
}
