//! An instantaneous fault (a cache flush) is listed in `active_faults` of the time series in
//! the interval it happened in only; a fault with a duration is listed over its span.

mod common;

#[test]
fn a_cache_flush_is_active_in_its_own_interval_only() {
    let runs = common::run_experiment("thundering_herd.ron", 1, &[]);
    for (name, out) in &runs {
        // Before: listed from 60 s to the end of the run (60 rows).
        let flushed: Vec<f64> = out
            .series
            .rows
            .iter()
            .filter(|r| r.gauges.active_faults.contains("flush-cache"))
            .map(|r| r.t_s)
            .collect();
        assert_eq!(flushed, vec![60.0], "{name}: flush listed at {flushed:?}");
    }
}

#[test]
fn a_fault_with_a_duration_is_active_over_its_span() {
    let sets = ["faults=[FlushCache(at: \"30s\"), Slow(node: 0, at: \"40s\", lasting: \"10s\", factor: 2.0)]"];
    let runs = common::run_experiment("thundering_herd.ron", 1, &sets);
    let out = &runs[0].1;
    let slow: Vec<f64> = out
        .series
        .rows
        .iter()
        .filter(|r| r.gauges.active_faults.contains("slow(node 0"))
        .map(|r| r.t_s)
        .collect();
    assert_eq!(slow.first(), Some(&40.0), "{slow:?}");
    assert_eq!(slow.len(), 10, "{slow:?}");
    let flushed = out
        .series
        .rows
        .iter()
        .filter(|r| r.gauges.active_faults.contains("flush-cache"))
        .count();
    assert_eq!(flushed, 1);
}
