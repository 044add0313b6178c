//! The memory estimate (`config::budget`) against what the simulator really allocates.
//!
//! A counting global allocator records the live and peak heap bytes of this test binary;
//! one test function measures every case in turn (tests in one binary share the
//! allocator, so they must not run side by side). Each case builds a configuration whose
//! memory is dominated by one size (users with sessions, cache keys, time-series rows),
//! runs it or builds it, and checks that the estimate is within a factor of the peak.

use scalesim::config::budget;
use scalesim::config::{single_run_from_texts, RunConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            if new_size >= layout.size() {
                let now =
                    LIVE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The peak heap bytes above what was live before, while `f` runs.
fn peak_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    (PEAK.load(Relaxed) - base, out)
}

fn config(exp: &str, model: &str) -> RunConfig {
    single_run_from_texts(exp, model).expect("a valid configuration")
}

/// One case: what it is, the estimate's sized bytes (without the program's fixed part),
/// and the peak measured.
fn compare(name: &str, estimate: u128, peak: usize, low: f64, high: f64) {
    let ratio = estimate as f64 / peak as f64;
    eprintln!(
        "{name}: estimate {} vs peak {} (ratio {ratio:.2})",
        budget::bytes_text(estimate),
        budget::bytes_text(peak as u128)
    );
    assert!(
        (low..=high).contains(&ratio),
        "{name}: the estimate {estimate} B is {ratio:.2} × the peak {peak} B, outside [{low}, {high}]"
    );
}

/// The graph a single-tier configuration runs as.
fn graph_of(cfg: &RunConfig) -> RunConfig {
    scalesim::config::shorthand::as_graph(cfg).expect("a single-tier configuration translates")
}

fn sized_without_program(cfg: &RunConfig) -> u128 {
    budget::estimate(&cfg.spec, &cfg.model).sized() - budget::BASE_BYTES
}

const MODEL: &str = "System(balancer: Balancer(policy: RoundRobin), nodes: Nodes(count: 4, workers: 8, service: Exp(mean: \"5ms\")))";

#[test]
fn estimates_follow_what_is_allocated() {
    // Users with in-memory sessions: session state, a table per node, a wake-up each.
    let users = 1_000_000;
    let cfg = config(
        &format!(
            "Experiment(duration: \"1s\", workload: Users(count: {users}, think: Exp(mean: \"100s\")))"
        ),
        &MODEL.replace(
            "nodes: Nodes",
            "sessions: Sessions(design: InMemory), nodes: Nodes",
        ),
    );
    let (peak, sim) = peak_of(|| scalesim::graph::GraphSim::new(&graph_of(&cfg)));
    drop(sim);
    compare(
        "1 M users, in-memory sessions, 4 nodes",
        sized_without_program(&cfg),
        peak,
        0.9,
        1.15,
    );

    // A shared cache of 2 M Zipf keys, and per-node caches of 200 k keys on 8 nodes.
    let cache = |placement: &str, keys: u32, nodes: u32| {
        config(
            "Experiment(duration: \"1s\", workload: Open(rate_per_s: 100.0))",
            &format!(
                "System(balancer: Balancer(policy: RoundRobin), nodes: Nodes(count: {nodes}, workers: 8, service: Exp(mean: \"5ms\")), \
                 dependency: Dependency(workers: 4, service: Exp(mean: \"5ms\")), \
                 cache: Cache(placement: {placement}, capacity_keys: 1000, ttl: \"30s\", hit: Const(value: \"1ms\"), \
                 keys: Keys(count: {keys}, popularity: Zipf(s: 1.1))))"
            ),
        )
    };
    for (name, cfg) in [
        ("shared cache of 2 M keys", cache("Shared", 2_000_000, 4)),
        (
            "per-node caches of 200 k keys on 8 nodes",
            cache("PerNode", 200_000, 8),
        ),
    ] {
        // A run, not just the build: the graph makes an instance's cache when a request
        // first reaches it (100 requests in round robin reach all 8).
        let (peak, out) = peak_of(|| scalesim::run_config(&cfg).expect("runs"));
        drop(out);
        // The ceilings (in flight, pending events) are not reached by a 100/s load:
        // compare the sizes.
        compare(name, sized_without_program(&cfg), peak, 0.9, 1.15);
    }

    // A whole run of 200,000 time-series rows, and its CSV text.
    let cfg = config(
        "Experiment(duration: \"200s\", metrics_interval: \"1ms\", workload: Open(rate_per_s: 100.0))",
        MODEL,
    );
    let (peak, bytes) = peak_of(|| {
        let out = scalesim::run_config(&cfg).expect("runs");
        out.series.to_csv().len()
    });
    assert!(bytes > 0);
    compare(
        "200,000 time-series rows and their CSV",
        sized_without_program(&cfg),
        peak,
        0.8,
        1.3,
    );

    // Bundled experiments (each variant's first 2 M events): the heap stays below the
    // estimate with its ceilings, and the estimate is not wildly above it.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cap = [scalesim::config::Override::parse_flag("limits.max_events=2000000").unwrap()];
    for name in ["logout_storm", "thundering_herd", "retry_storm"] {
        let exp = scalesim::load_experiment(&root.join(format!("experiments/{name}.ron")), &cap)
            .expect("bundled experiments load");
        let cfg = &exp.runs[0];
        let est = budget::estimate(&cfg.spec, &cfg.model);
        let (peak, _) = peak_of(|| {
            let out = scalesim::run_config(cfg).expect("runs");
            out.series.to_csv().len()
        });
        eprintln!(
            "{name}/{}: sized {} total {} peak {}",
            cfg.variant,
            budget::bytes_text(est.sized()),
            budget::bytes_text(est.total()),
            budget::bytes_text(peak as u128)
        );
        assert!(
            (peak as u128) < est.total(),
            "{name}: the heap peaked at {peak} B, above the estimate {} B",
            est.total()
        );
        // The defaults' ceilings (2 M requests in flight, 10 M pending events) are under a
        // gigabyte: a bundled experiment is far from the 8 GiB limit.
        assert!(est.total() < 1 << 30, "{name}: {}", est.total());
    }
}
