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

#[test]
fn a_primary_failover_loses_unreplicated_writes_and_a_lag_spike_loses_more() {
    for seed in [19, 20] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/primary_failover.ron");
        let sets = [
            Override::parse_flag(&format!("seed={seed}")).unwrap(),
            Override::parse_flag("duration=3m").unwrap(),
        ];
        let exp = load_experiment(&path, &sets).unwrap();
        let ctx = format!("(reproduce: cargo run --release -- run experiments/primary_failover.ron --seed {seed})");
        let outs: Vec<_> = exp
            .runs
            .iter()
            .map(|c| scalesim::run_config(c).unwrap())
            .collect();
        let (spike, normal) = (
            outs[0].summary.sessions.clone().unwrap(),
            outs[1].summary.sessions.clone().unwrap(),
        );
        assert!(
            normal.lost_writes > 0,
            "even a normal lag loses a few writes {ctx}"
        );
        assert!(
            spike.lost_writes > 3 * normal.lost_writes,
            "lag spike {} vs normal {} {ctx}",
            spike.lost_writes,
            normal.lost_writes
        );
        // Logins fail while the replica is promoted (140 s to 150 s), and only then.
        let errors = |o: &scalesim::RunOutput, from: f64, to: f64| -> u64 {
            let i = o.series.reasons.iter().position(|r| *r == "error").unwrap();
            o.series
                .rows
                .iter()
                .filter(|r| r.t_s >= from && r.t_s < to)
                .map(|r| r.failed_by_reason[i])
                .sum()
        };
        assert!(errors(&outs[0], 140.0, 150.0) > 1000, "{ctx}");
        // The store refused them: its failed operations count them.
        let store = spike.store.clone().expect("a store");
        assert!(store.failed >= 1000, "store failed {} {ctx}", store.failed);
        assert_eq!(
            errors(&outs[0], 0.0, 140.0) + errors(&outs[0], 151.0, 180.0),
            0,
            "{ctx}"
        );
        // The users whose login was lost are logged out at their next request.
        let after: u64 = outs[0]
            .series
            .rows
            .iter()
            .filter(|r| (140.0..160.0).contains(&r.t_s))
            .map(|r| r.gauges.spurious_logouts)
            .sum();
        // (at least 40% of them: some had logged out, or make no request before the run ends)
        assert!(
            after * 5 >= spike.lost_writes * 2,
            "spurious logouts after the failover: {after} of {} {ctx}",
            spike.lost_writes
        );
    }
}

#[test]
fn a_logout_of_all_devices_races_a_concurrent_login_both_ways() {
    for seed in [23, 24] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/login_logout_race.ron");
        let sets = [
            Override::parse_flag(&format!("seed={seed}")).unwrap(),
            Override::parse_flag("duration=2m").unwrap(),
        ];
        let exp = load_experiment(&path, &sets).unwrap();
        let ctx = format!("(reproduce: cargo run --release -- run experiments/login_logout_race.ron --seed {seed})");
        let s: Vec<_> = exp
            .runs
            .iter()
            .map(|c| scalesim::run_config(c).unwrap().summary.sessions.unwrap())
            .collect();
        let (all, this) = (&s[0], &s[1]);
        // Issued login → logout, applied logout → login: the login survives.
        assert!(all.race_login_survived_logout_all > 100, "{all:?} {ctx}");
        // Issued logout → login, applied login → logout: the login is wiped.
        assert!(all.race_login_lost_to_earlier_logout > 3, "{all:?} {ctx}");
        // The login's password hash delays it on its way, so it is the one usually applied late.
        assert!(
            all.race_login_survived_logout_all > all.race_login_lost_to_earlier_logout,
            "{ctx}"
        );
        assert_eq!(
            this.race_login_survived_logout_all + this.race_login_lost_to_earlier_logout,
            0,
            "{ctx}"
        );
    }
}

#[test]
fn wrong_passwords_lock_accounts_and_single_device_login_ends_other_sessions() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/login_logout_race.ron");
    let sets: Vec<Override> = [
        "seed=3",
        "duration=2m",
        "model.sessions.failed_login_share=0.3",
        "model.sessions.lockout_after=3",
        "model.sessions.lockout_for=30s",
        "model.sessions.single_device=true",
        "model.sessions.logout=ThisDevice",
    ]
    .iter()
    .map(|s| Override::parse_flag(s).unwrap())
    .collect();
    let exp = load_experiment(&path, &sets).unwrap();
    let out = scalesim::run_config(&exp.runs[0]).unwrap();
    let s = out.summary.sessions.clone().unwrap();
    let attempts = s.logins + s.failed_logins;
    let share = s.failed_logins as f64 / attempts as f64;
    assert!(
        (share - 0.3).abs() < 0.02,
        "wrong passwords {share:.3} of login checks"
    );
    // Three failures in a row happen 2.7% of the time per try: some accounts get locked,
    // and their logins are refused while they are.
    assert!(s.lockouts > 50, "{s:?}");
    assert!(s.locked_out_logins > s.lockouts, "{s:?}");
    assert_eq!(
        out.summary.failed_by_reason["login_failed"],
        s.failed_logins
    );
    assert_eq!(
        out.summary.failed_by_reason["locked_out"],
        s.locked_out_logins
    );
    // A login on the phone ends the laptop's session.
    assert!(s.ended_by_single_device > 1000, "{s:?}");
    // The store's figures are its own (`sessions.store`); `db` is the cache's database,
    // and this model has no cache.
    assert!(out.summary.db.is_none(), "{:?}", out.summary.db);
    let st = s.store.clone().unwrap();
    assert!(
        st.peak_connections > 0 && st.reads + st.writes > 0,
        "{st:?}"
    );
}
