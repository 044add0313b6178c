//! The event queue, ordered by (time, insertion sequence).
//!
//! Equal times pop first-in-first-out in every run, so the order of simultaneous events
//! never depends on the heap's internal layout. Scheduling into the past is a bug in a
//! component and panics at once (in debug and release), rather than silently reordering.
//!
//! Two structures hold the events, and `pop` takes the earlier head of the two:
//! - a 4-ary min-heap: half the depth of a binary heap, and a node's four children share
//!   two cache lines, which matters when hundreds of thousands of users are thinking;
//! - a FIFO lane for events whose times only ever increase in the order they are scheduled
//!   (a fixed client timeout, say): O(1) in and out, and they stay out of the heap.

use super::time::SimTime;
use std::collections::VecDeque;

/// One scheduled event: (time, sequence) packed into one 128-bit key, then the payload.
struct Entry<E> {
    key: u128,
    event: E,
}

#[inline]
fn key(time: SimTime, seq: u64) -> u128 {
    ((time.0 as u128) << 64) | seq as u128
}

#[inline]
fn time_of(key: u128) -> SimTime {
    SimTime((key >> 64) as u64)
}

/// A priority queue of events keyed by (time, insertion sequence), with the current time.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    lane: VecDeque<Entry<E>>,
    next_seq: u64,
    now: SimTime,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

const ARITY: usize = 4;

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: Vec::with_capacity(1024),
            lane: VecDeque::new(),
            next_seq: 0,
            now: SimTime::ZERO,
            popped: 0,
        }
    }

    /// The time of the event most recently popped (the simulation's "now").
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// How many events have been popped so far.
    pub fn events_processed(&self) -> u64 {
        self.popped
    }

    /// Events waiting in the queue.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len()
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn next_key(&mut self, at: SimTime) -> u128 {
        assert!(
            at >= self.now,
            "event scheduled in the past: at {} while now is {}",
            at,
            self.now
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        key(at, seq)
    }

    /// Schedules `event` at absolute time `at`. Panics if `at` is before now: a component
    /// that schedules into the past has a bug that would corrupt causality.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        let key = self.next_key(at);
        self.heap.push(Entry { key, event });
        self.sift_up(self.heap.len() - 1);
    }

    /// Schedules `event` after `delay` from now (saturating at `SimTime::NEVER`).
    #[inline]
    pub fn schedule_in(&mut self, delay: SimTime, event: E) {
        let at = self.now.saturating_add(delay);
        self.schedule_at(at, event);
    }

    /// Schedules `event` after `delay`, for events whose times rise in the order they are
    /// scheduled (e.g. a constant delay): they go to the FIFO lane. An event that would break
    /// the lane's order goes to the heap instead, so the order is exact either way.
    #[inline]
    pub fn schedule_in_order(&mut self, delay: SimTime, event: E) {
        let at = self.now.saturating_add(delay);
        self.schedule_at_in_order(at, event);
    }

    /// Schedules `event` at `at`, for events whose times rise in the order they are
    /// scheduled (one source's arrivals, say): as [`EventQueue::schedule_in_order`].
    #[inline]
    pub fn schedule_at_in_order(&mut self, at: SimTime, event: E) {
        let key = self.next_key(at);
        match self.lane.back() {
            Some(last) if last.key > key => {
                self.heap.push(Entry { key, event });
                self.sift_up(self.heap.len() - 1);
            }
            _ => self.lane.push_back(Entry { key, event }),
        }
    }

    /// Every pending event with its time, in no particular order (for the end-of-run
    /// liveness check, which asks what is still scheduled).
    pub fn pending(&self) -> impl Iterator<Item = (SimTime, &E)> + '_ {
        self.heap
            .iter()
            .chain(self.lane.iter())
            .map(|e| (time_of(e.key), &e.event))
    }

    /// The time of the next event, if any, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        let h = self.heap.first().map(|e| e.key);
        let l = self.lane.front().map(|e| e.key);
        match (h, l) {
            (Some(a), Some(b)) => Some(time_of(a.min(b))),
            (Some(a), None) | (None, Some(a)) => Some(time_of(a)),
            (None, None) => None,
        }
    }

    /// Removes the earliest event and advances now to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let from_lane = match (self.heap.first(), self.lane.front()) {
            (Some(h), Some(l)) => l.key < h.key,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (None, None) => return None,
        };
        let entry = if from_lane {
            self.lane.pop_front().expect("checked")
        } else {
            self.pop_heap()
        };
        self.now = time_of(entry.key);
        self.popped += 1;
        Some((self.now, entry.event))
    }

    #[inline]
    fn pop_heap(&mut self) -> Entry<E> {
        let last = self.heap.pop().expect("checked non-empty");
        if self.heap.is_empty() {
            return last;
        }
        let top = std::mem::replace(&mut self.heap[0], last);
        self.sift_down(0);
        top
    }

    #[inline]
    fn sift_up(&mut self, mut i: usize) {
        let h = &mut self.heap;
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if h[i].key < h[parent].key {
                h.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let h = &mut self.heap;
        let n = h.len();
        loop {
            let first = ARITY * i + 1;
            if first >= n {
                break;
            }
            let last = (first + ARITY).min(n);
            let mut min = first;
            let mut min_key = h[first].key;
            for (c, e) in h[first + 1..last].iter().enumerate() {
                if e.key < min_key {
                    min = first + 1 + c;
                    min_key = e.key;
                }
            }
            if min_key < h[i].key {
                h.swap(i, min);
                i = min;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use rand::Rng;

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        for (t, e) in [(30, 'c'), (10, 'a'), (20, 'b'), (5, 'z')] {
            q.schedule_at(SimTime(t), e);
        }
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['z', 'a', 'b', 'c']);
        assert_eq!(q.now(), SimTime(30));
        assert_eq!(q.events_processed(), 4);
    }

    #[test]
    fn equal_times_pop_first_in_first_out() {
        let mut q = EventQueue::new();
        for i in 0..1000u32 {
            // Interleave two times so the heap has to reorder entries.
            q.schedule_at(SimTime(if i % 2 == 0 { 7 } else { 3 }), i);
        }
        let mut last_at_3 = None;
        let mut last_at_7 = None;
        while let Some((t, i)) = q.pop() {
            let slot = if t.0 == 3 {
                &mut last_at_3
            } else {
                &mut last_at_7
            };
            if let Some(prev) = *slot {
                assert!(
                    i > prev,
                    "tie broken out of insertion order: {i} after {prev}"
                );
            }
            *slot = Some(i);
        }
        assert_eq!(last_at_3, Some(999));
        assert_eq!(last_at_7, Some(998));
    }

    #[test]
    fn lane_and_heap_merge_in_exact_time_and_sequence_order() {
        // Random heap events and constant-delay lane events, popped and rescheduled: the
        // output must equal a plain sort by (time, sequence).
        let mut rng = stream(9, "queue-test");
        let mut q = EventQueue::new();
        let mut expected: Vec<(u64, u64)> = Vec::new();
        let mut seq = 0u64;
        for _ in 0..200 {
            let t: u64 = rng.random_range(0..50);
            q.schedule_at(SimTime(t), seq);
            expected.push((t, seq));
            seq += 1;
        }
        let mut got = Vec::new();
        while let Some((t, s)) = q.pop() {
            got.push((t.0, s));
            if got.len() < 2000 {
                let heap_delay: u64 = rng.random_range(0..20);
                q.schedule_in(SimTime(heap_delay), seq);
                expected.push((t.0 + heap_delay, seq));
                seq += 1;
                q.schedule_in_order(SimTime(10), seq);
                expected.push((t.0 + 10, seq));
                seq += 1;
            }
        }
        expected.sort_unstable();
        assert_eq!(got, expected);
    }

    #[test]
    fn schedule_in_is_relative_to_now() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime(100), 1);
        q.pop();
        q.schedule_in(SimTime(50), 2);
        assert_eq!(q.peek_time(), Some(SimTime(150)));
    }

    #[test]
    #[should_panic(expected = "scheduled in the past")]
    fn scheduling_into_the_past_is_caught() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime(100), 1);
        q.pop();
        q.schedule_at(SimTime(99), 2);
    }
}
