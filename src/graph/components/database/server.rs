//! One server of a database: the primary, or one of its replicas. Each is a pool of
//! workers of its own behind the database's connection cap.

use std::collections::VecDeque;

use crate::config::graph::{QueueSpec, Slowdown};
use crate::graph::pool::Pool;
use crate::graph::slab::Handle;

/// A database server's workers, queue and connections.
pub struct Server {
    /// Its workers and their queue.
    pub pool: Pool,
    /// Admitted queries (running or waiting for a worker): the connections in use.
    pub in_use: u32,
    /// Queries waiting for a connection.
    pub conn_waiters: VecDeque<Handle>,
    /// The most connections in use at once.
    pub peak_connections: u32,
}

impl Server {
    /// A server of `workers` with the database's queue and slowdown.
    pub fn new(workers: u32, queue: &QueueSpec, slowdown: Option<Slowdown>) -> Server {
        Server {
            pool: Pool::new(workers, queue, slowdown),
            in_use: 0,
            conn_waiters: VecDeque::new(),
            peak_connections: 0,
        }
    }

    /// The utilisation its slowdown sees: connections in use ÷ the cap where there is
    /// one, busy workers ÷ workers otherwise.
    pub fn load(&self, cap: Option<u32>) -> f64 {
        match cap {
            Some(cap) => self.in_use as f64 / cap.max(1) as f64,
            None => self.pool.utilisation_now(),
        }
    }

    /// The service-time factor now: the slowdown, a `Slow` fault and the cost of
    /// `per_connection` for every client connection open, whether its query runs,
    /// waits for a worker or waits for a connection slot.
    pub fn factor(&self, cap: Option<u32>, per_connection: f64) -> f64 {
        let open = self.in_use as f64 + self.conn_waiters.len() as f64;
        self.pool.factor(Some(self.load(cap))) * (1.0 + per_connection * open)
    }

    /// Whether a query arriving now must wait for a connection.
    pub fn full(&self, cap: Option<u32>) -> bool {
        cap.is_some_and(|cap| self.in_use >= cap)
    }
}
