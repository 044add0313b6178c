//! Row locks on a counter: FIFO waiters, a wait timeout, lease expiry for holders that stall,
//! and the counter's layout (one row, sharded rows, or per-node batches). Without locks,
//! concurrent read-modify-writes of one row lose updates, which are counted.
//! Draws the shard of each increment and the write times from its own stream, `"locks"`.

use super::request::Handle;
use crate::config::model::{CounterSpec, LocksSpec};
use crate::engine::{stream, Distribution, SimTime, Stream};
use crate::metrics::LatencyStats;
use rand::Rng;
use std::collections::VecDeque;

/// Who holds or wants a lock: a request's attempt, or a node flushing its batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// An attempt incrementing the counter.
    Attempt(Handle),
    /// A node writing its batched increments.
    Flush { node: u32 },
}

/// One row of the counter.
#[derive(Default)]
struct Row {
    /// The current holder, when it got the lock, and the grant's serial.
    holder: Option<(Holder, SimTime, u32)>,
    waiters: VecDeque<(Holder, SimTime)>,
    /// Committed writes (for lost-update detection without locks).
    version: u64,
}

/// What happened to a lock request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// Granted at once: write for this long (grant serial for the completion).
    Granted { write: SimTime, serial: u32 },
    /// Waiting behind others.
    Waiting,
}

/// The counter's rows and the accounting of their locks.
pub struct Locks {
    /// The request kind that increments.
    pub kind: String,
    counter: CounterSpec,
    /// Whether increments take the lock.
    pub locking: bool,
    write: Distribution,
    /// How long a waiter waits.
    pub wait_timeout: SimTime,
    /// How long a holder may keep a lock.
    pub lease: Option<SimTime>,
    rows: Vec<Row>,
    rng: Stream,
    next_serial: u32,
    /// Grants whose lease expired before their write finished: (serial, holder).
    expired: Vec<(u32, Holder)>,
    /// Per node: the increments of the batch being written.
    flushing: Vec<u64>,
    stall_next: Option<SimTime>,
    /// Per node: increments added up and not yet written (batched counters).
    pending: Vec<u64>,
    /// Waits of granted requests (all and this interval).
    pub waits: LatencyStats,
    iv_waits: LatencyStats,
    /// The most requests waiting for one row at once.
    pub max_waiters: usize,
    /// Increments committed to the counter.
    pub committed: u64,
    /// Increments lost: overwritten by a racing write (no lock), written after the lease
    /// expired, or lost in a node's batch when it crashed.
    pub lost_updates: u64,
    /// Requests that gave up waiting for a lock.
    pub timeouts: u64,
    /// Leases that expired (a stalled holder lost its lock).
    pub leases_expired: u64,
}

impl Locks {
    /// The locks of a model for `nodes` nodes in run `seed`.
    pub fn new(spec: &LocksSpec, nodes: usize, seed: u64) -> Locks {
        let rows = match spec.counter {
            CounterSpec::Sharded { buckets } => buckets as usize,
            _ => 1,
        };
        Locks {
            kind: spec.kind.clone(),
            counter: spec.counter.clone(),
            locking: spec.locking,
            write: spec.write.resolve(),
            wait_timeout: spec.wait_timeout.0,
            lease: spec.lease.map(|l| l.0),
            rows: (0..rows).map(|_| Row::default()).collect(),
            rng: stream(seed, "locks"),
            next_serial: 0,
            expired: Vec::new(),
            flushing: vec![0; nodes],
            stall_next: None,
            pending: vec![0; nodes],
            waits: LatencyStats::new(),
            iv_waits: LatencyStats::new(),
            max_waiters: 0,
            committed: 0,
            lost_updates: 0,
            timeouts: 0,
            leases_expired: 0,
        }
    }

    /// The batching period, if increments are batched per node.
    pub fn batch_every(&self) -> Option<SimTime> {
        match self.counter {
            CounterSpec::Batched { every } => Some(every.0),
            _ => None,
        }
    }

    /// The row an increment goes to (a random shard, or the one row).
    pub fn pick_row(&mut self) -> u32 {
        if self.rows.len() == 1 {
            0
        } else {
            self.rng.random_range(0..self.rows.len()) as u32
        }
    }

    /// The next grant makes its holder stall for `stall` (a slow-lock-holder fault).
    pub fn stall_next_holder(&mut self, stall: SimTime) {
        self.stall_next = Some(stall);
    }

    fn grant(&mut self, row: u32, who: Holder, now: SimTime, since: SimTime) -> (SimTime, u32) {
        let serial = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1);
        let waited = now.since(since).0;
        if matches!(who, Holder::Attempt(_)) {
            self.waits.record(waited);
            self.iv_waits.record(waited);
        }
        self.rows[row as usize].holder = Some((who, now, serial));
        let mut write = self.write.sample(&mut self.rng);
        if let Some(stall) = self.stall_next.take() {
            write = write.saturating_add(stall);
        }
        (write, serial)
    }

    /// `who` asks for the lock of `row` at `now`.
    pub fn acquire(&mut self, row: u32, who: Holder, now: SimTime) -> Acquire {
        if self.rows[row as usize].holder.is_none() {
            let (write, serial) = self.grant(row, who, now, now);
            return Acquire::Granted { write, serial };
        }
        let r = &mut self.rows[row as usize];
        r.waiters.push_back((who, now));
        self.max_waiters = self.max_waiters.max(r.waiters.len());
        Acquire::Waiting
    }

    /// A write under the lock (grant `serial` of `row`) finished. Returns its holder, whether
    /// it still held the lock (false: its lease expired meanwhile, so its write is lost), and
    /// the next holder granted, with its write time and serial.
    pub fn write_done(
        &mut self,
        row: u32,
        serial: u32,
        now: SimTime,
    ) -> (Option<Holder>, bool, Option<(Holder, SimTime, u32)>) {
        let current = self.rows[row as usize]
            .holder
            .filter(|&(_, _, s)| s == serial);
        let Some((holder, _, _)) = current else {
            let pos = self.expired.iter().position(|&(s, _)| s == serial);
            let holder = pos.map(|i| self.expired.swap_remove(i).1);
            if let Some(h) = holder {
                self.lost_updates += self.increments_of(h);
            }
            return (holder, false, None);
        };
        self.committed += self.increments_of(holder);
        self.rows[row as usize].version += 1;
        (Some(holder), true, self.release(row, now))
    }

    fn increments_of(&mut self, h: Holder) -> u64 {
        match h {
            Holder::Attempt(_) => 1,
            Holder::Flush { node } => std::mem::take(&mut self.flushing[node as usize]),
        }
    }

    /// Releases `row`'s lock and grants it to the next waiter, if any.
    fn release(&mut self, row: u32, now: SimTime) -> Option<(Holder, SimTime, u32)> {
        self.rows[row as usize].holder = None;
        let (who, since) = self.rows[row as usize].waiters.pop_front()?;
        let (write, serial) = self.grant(row, who, now, since);
        Some((who, write, serial))
    }

    /// A lease ran out: if grant `serial` still holds `row`, it loses the lock.
    pub fn lease_expired(
        &mut self,
        row: u32,
        serial: u32,
        now: SimTime,
    ) -> Option<(Holder, SimTime, u32)> {
        let (holder, _, _) = self.rows[row as usize]
            .holder
            .filter(|&(_, _, s)| s == serial)?;
        self.leases_expired += 1;
        self.expired.push((serial, holder));
        self.release(row, now)
    }

    /// A waiter gives up: true if it was still waiting (and is removed).
    pub fn give_up(&mut self, row: u32, who: Holder) -> bool {
        let w = &mut self.rows[row as usize].waiters;
        match w.iter().position(|(h, _)| *h == who) {
            Some(i) => {
                w.remove(i);
                self.timeouts += 1;
                true
            }
            None => false,
        }
    }

    /// A holder vanished (its node crashed): the lock passes on.
    pub fn abandon(
        &mut self,
        row: u32,
        who: Holder,
        now: SimTime,
    ) -> Option<(Holder, SimTime, u32)> {
        let r = &mut self.rows[row as usize];
        r.waiters.retain(|(h, _)| *h != who);
        if r.holder.is_some_and(|(h, _, _)| h == who) {
            return self.release(row, now);
        }
        None
    }

    /// Attempts waiting for a row's lock, as (row, attempt).
    pub fn waiting_attempts(&self) -> impl Iterator<Item = (u32, Handle)> + '_ {
        self.rows.iter().enumerate().flat_map(|(row, r)| {
            r.waiters.iter().filter_map(move |(h, _)| match h {
                Holder::Attempt(a) => Some((row as u32, *a)),
                Holder::Flush { .. } => None,
            })
        })
    }

    /// Attempts whose write under a lock is under way, as (row, grant serial, attempt): the
    /// holders, and those whose lease ran out before their write finished.
    pub fn writing_attempts(&self) -> impl Iterator<Item = (u32, u32, Handle)> + '_ {
        let holders = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(row, r)| match r.holder {
                Some((Holder::Attempt(a), _, serial)) => Some((row as u32, serial, a)),
                _ => None,
            });
        let expired = self.expired.iter().filter_map(|&(serial, h)| match h {
            // The row is not kept with an expired grant; any row's write-done of that serial.
            Holder::Attempt(a) => Some((u32::MAX, serial, a)),
            Holder::Flush { .. } => None,
        });
        holders.chain(expired)
    }

    /// Panics (debug builds) when a row has waiters but no holder (nobody would ever hand
    /// the lock on), or when a holder also waits for the row it holds.
    pub fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        for (i, r) in self.rows.iter().enumerate() {
            assert!(
                r.waiters.is_empty() || r.holder.is_some(),
                "lock row {i}: {} waiters and no holder",
                r.waiters.len()
            );
            if let Some((h, _, _)) = r.holder {
                assert!(
                    !r.waiters.iter().any(|(w, _)| *w == h),
                    "lock row {i}: the holder {h:?} also waits for it"
                );
            }
        }
    }

    /// An unlocked read-modify-write starts: the version it read.
    pub fn read_version(&self, row: u32) -> u32 {
        self.rows[row as usize].version as u32
    }

    /// An unlocked write lands: lost if another write landed since it read.
    pub fn unlocked_write(&mut self, row: u32, read_version: u32) {
        let r = &mut self.rows[row as usize];
        if r.version as u32 != read_version {
            self.lost_updates += 1;
        } else {
            self.committed += 1;
        }
        r.version += 1;
    }

    /// A write time for an unlocked write.
    pub fn sample_write(&mut self) -> SimTime {
        self.write.sample(&mut self.rng)
    }

    /// Adds an increment to node `node`'s batch.
    pub fn add_to_batch(&mut self, node: u32) {
        self.pending[node as usize] += 1;
    }

    /// Takes node `node`'s batch for writing (0: nothing to write, or a write in progress).
    pub fn take_batch(&mut self, node: u32) -> u64 {
        if self.flushing[node as usize] > 0 {
            return 0;
        }
        let n = std::mem::take(&mut self.pending[node as usize]);
        self.flushing[node as usize] = n;
        n
    }

    /// A node crashed: its unwritten batch is lost.
    pub fn node_lost(&mut self, node: u32) {
        self.lost_updates += std::mem::take(&mut self.pending[node as usize]);
    }

    /// Requests waiting for locks now, over all rows.
    pub fn waiting(&self) -> u64 {
        self.rows.iter().map(|r| r.waiters.len() as u64).sum()
    }

    /// The p99 lock wait of this interval (ms), and forgets it.
    pub fn take_interval_p99_ms(&mut self) -> f64 {
        let p = self.iv_waits.quantile_ms(0.99);
        self.iv_waits.reset();
        p
    }
}
