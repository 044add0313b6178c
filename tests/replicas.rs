//! Read-your-writes after login, in numbers, on several seeds: session reads from lagging
//! replicas miss fresh logins (stale reads that log users out), reads from the primary never
//! do but load it, and read-your-writes routing gets both almost right.

use scalesim::config::{load_experiment, Override};
use std::path::Path;

#[test]
fn lagging_replicas_log_fresh_logins_out_and_read_your_writes_prevents_it() {
    for seed in [17, 18] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/read_your_writes.ron");
        let sets = [
            Override::parse_flag(&format!("seed={seed}")).unwrap(),
            Override::parse_flag("duration=2m").unwrap(),
        ];
        let exp = load_experiment(&path, &sets).unwrap();
        let ctx = format!("(reproduce: cargo run --release -- run experiments/read_your_writes.ron --seed {seed})");
        let s: Vec<_> = exp
            .runs
            .iter()
            .map(|c| scalesim::run_config(c).unwrap().summary.sessions.unwrap())
            .collect();
        let (replica, primary, ryw) = (&s[0], &s[1], &s[2]);
        assert!(
            replica.stale_reads > 1000,
            "replica reads go stale: {} {ctx}",
            replica.stale_reads
        );
        assert_eq!(
            replica.spurious_logouts, replica.stale_reads,
            "each stale read is a spurious logout {ctx}"
        );
        assert_eq!(primary.stale_reads, 0, "{ctx}");
        assert!(
            ryw.stale_reads * 50 < replica.stale_reads,
            "read-your-writes: {} vs {} {ctx}",
            ryw.stale_reads,
            replica.stale_reads
        );
        let (p, r) = (primary.store.clone().unwrap(), ryw.store.clone().unwrap());
        assert_eq!(p.replica_reads, 0, "{ctx}");
        assert!(
            r.replica_reads * 2 > r.reads,
            "read-your-writes still reads mostly from replicas {ctx}"
        );
        assert!(
            p.utilisation > 2.0 * r.utilisation,
            "the primary carries every read: {} vs {} {ctx}",
            p.utilisation,
            r.utilisation
        );
    }
}
