//! Every bad input gets a clear error and a non-zero exit, never a panic.
//!
//! Each row of the table writes a small experiment and model (a valid pair with one thing
//! changed), runs the real binary, and checks: the exit code (2 bad input, 1 an output that
//! cannot be written; never 101, a panic's), that stderr names the place (file:line:col, the
//! file, or the flag) and that it says what was expected.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXPERIMENT: &str = r#"Experiment(
    model: "m.ron",
    duration: "10s",
    warmup: "1s",
    seed: 3,
    workload: Open(rate_per_s: 50.0),
    clients: Clients(timeout: "1s"),
    faults: [Crash(node: 1, at: "5s", restart_after: "1s")],
    variants: {"a": Variant(set: {"model.balancer.policy": "Random"})},
)
"#;

const MODEL: &str = r#"System(
    balancer: Balancer(policy: RoundRobin),
    nodes: Nodes(count: 2, workers: 4, queue_limit: 16,
                 service: Exp(mean: "10ms")),
)
"#;

/// One bad input.
struct Case {
    /// What is wrong, in words.
    name: &'static str,
    /// Text replacements in the experiment: (from, to); `from` must occur.
    exp: &'static [(&'static str, &'static str)],
    /// Text replacements in the model.
    model: &'static [(&'static str, &'static str)],
    /// The command line after `scalesim` (`exp.ron` and `m.ron` are in the working directory).
    args: &'static [&'static str],
    /// The expected exit code.
    code: i32,
    /// Where: `file:line:` (a column must follow), or any text naming the file or flag.
    at: &'static str,
    /// What stderr must say (case-sensitive substrings, all of them).
    says: &'static [&'static str],
}

const RUN: &[&str] = &["run", "exp.ron", "--out", "out"];

const fn case(
    name: &'static str,
    exp: &'static [(&'static str, &'static str)],
    model: &'static [(&'static str, &'static str)],
    at: &'static str,
    says: &'static [&'static str],
) -> Case {
    Case {
        name,
        exp,
        model,
        args: RUN,
        code: 2,
        at,
        says,
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Syntax.
    case("malformed RON: a doubled comma", &[("\"10s\",", "\"10s\",,")], &[], "exp.ron:3:", &["Expected"]),
    case("malformed RON: unclosed struct", &[("\n)\n", "\n")], &[], "exp.ron:", &["the file ends before the value is complete"]),
    case("malformed RON: text after the end", &[("\n)\n", "\n) )\n")], &[], "exp.ron:10:", &["trailing characters"]),
    case("empty experiment file", &[("", "")], &[], "exp.ron:1:", &["Expected opening `(` for struct `Experiment`"]),
    case("unterminated string", &[("\"Random\"}", "\"Random}")], &[], "exp.ron:9:", &["a string is not closed"]),
    // Unknown names, with "did you mean".
    case("unknown experiment field", &[("duration:", "duraton:")], &[], "exp.ron:3:", &["unknown field `duraton`", "Did you mean `duration`?"]),
    case("unknown model field", &[], &[("workers:", "worker:")], "m.ron:3:", &["unknown field `worker`", "Did you mean `workers`?"]),
    case("unknown enum variant", &[], &[("RoundRobin", "RoundRobbin")], "m.ron:2:", &["unknown variant `RoundRobbin`", "Did you mean `RoundRobin`?"]),
    case("unknown distribution", &[], &[("Exp(mean", "Expo(mean")], "m.ron:4:", &["unknown variant `Expo`", "Did you mean `Exp`?"]),
    case("missing required field", &[("    workload: Open(rate_per_s: 50.0),\n", "")], &[], "exp.ron:", &["missing field `workload`"]),
    case("duplicate field", &[("    seed: 3,", "    seed: 3, seed: 4,")], &[], "exp.ron:5:", &["`seed` is written twice"]),
    // Wrong types.
    case("wrong type: string for a rate", &[("50.0", "\"fast\"")], &[], "exp.ron:6:", &["Expected"]),
    case("wrong type: fraction for a count", &[], &[("workers: 4", "workers: 2.5")], "m.ron:3:", &["Expected"]),
    case("duration without a unit", &[("\"10s\"", "10")], &[], "exp.ron:3:", &["has no unit", "\"10s\""]),
    case("duration with an unknown unit", &[("\"10s\"", "\"10 parsecs\"")], &[], "exp.ron:3:", &["unknown unit \"parsecs\""]),
    case("integer out of range", &[("seed: 3", "seed: 99999999999999999999999")], &[], "exp.ron:5:", &["out of bounds"]),
    // Rates and durations.
    case("negative rate", &[("50.0", "-5.0")], &[], "exp.ron:6:", &["must be a finite number greater than zero"]),
    case("zero rate", &[("50.0", "0.0")], &[], "exp.ron:6:", &["must be a finite number greater than zero"]),
    case("NaN rate", &[("50.0", "NaN")], &[], "exp.ron:6:", &["must be a finite number, found NaN"]),
    case("infinite rate", &[("50.0", "inf")], &[], "exp.ron:6:", &["must be a finite number, found inf"]),
    case("rate overflowing to infinity", &[("50.0", "1e400")], &[], "exp.ron:6:", &["must be a finite number"]),
    case("negative duration", &[("\"10s\"", "\"-10s\"")], &[], "exp.ron:3:", &["must be finite and not negative"]),
    case("zero duration", &[("\"10s\"", "\"0s\"")], &[], "exp.ron:3:", &["must be greater than zero"]),
    case("NaN duration", &[("\"10s\"", "\"NaNs\"")], &[], "exp.ron:3:", &["NaNs"]),
    case("duration too long to represent", &[("\"10s\"", "\"99999999999h\"")], &[], "exp.ron:3:", &["longer than this simulator can represent"]),
    case("zero service mean", &[], &[("\"10ms\"", "\"0ms\"")], "m.ron:4:", &["must be greater than zero"]),
    case("zero timeout", &[("timeout: \"1s\"", "timeout: \"0s\"")], &[], "exp.ron:7:", &["must be greater than zero"]),
    case("zero metrics interval", &[("    seed: 3,", "    seed: 3, metrics_interval: \"0s\",")], &[], "exp.ron:5:", &["must be greater than zero"]),
    // Cross-field rules.
    case("min > max", &[], &[("Exp(mean: \"10ms\")", "Uniform(min: \"20ms\", max: \"10ms\")")], "m.ron:4:", &["must not be greater than max"]),
    case("p99 < median", &[], &[("Exp(mean: \"10ms\")", "LogNormal(median: \"20ms\", p99: \"10ms\")")], "m.ron:4:", &["must not be less than the median"]),
    case("Pareto without a finite mean", &[], &[("Exp(mean: \"10ms\")", "Pareto(scale: \"1ms\", shape: 0.9)")], "m.ron:4:", &["greater than 1"]),
    case("Erlang with zero phases", &[], &[("Exp(mean: \"10ms\")", "Erlang(k: 0, mean: \"5ms\")")], "m.ron:4:", &["at least 1"]),
    case("warm-up equal to the duration", &[("warmup: \"1s\"", "warmup: \"10s\"")], &[], "exp.ron:4:", &["must be shorter than the duration"]),
    case("warm-up longer than the duration", &[("warmup: \"1s\"", "warmup: \"1h\"")], &[], "exp.ron:4:", &["must be shorter than the duration"]),
    case("zero nodes", &[], &[("count: 2", "count: 0")], "m.ron:3:", &["must be at least 1"]),
    case("zero workers", &[], &[("workers: 4", "workers: 0")], "m.ron:3:", &["must be at least 1"]),
    case("zero in-flight limit", &[("    seed: 3,", "    seed: 3, limits: Limits(max_in_flight: 0),")], &[], "exp.ron:5:", &["must be at least 1"]),
    case("zero event limit", &[("    seed: 3,", "    seed: 3, limits: Limits(max_events: 0),")], &[], "exp.ron:5:", &["must be at least 1"]),
    // References to things that do not exist.
    case("fault on a node that does not exist", &[("node: 1", "node: 7")], &[], "exp.ron:8:", &["node 7 does not exist", "numbered 0 to 1"]),
    case("fault after the end of the run", &[("at: \"5s\"", "at: \"1m\"")], &[], "exp.ron:8:", &["not before the end of the run"]),
    case("variant set path that does not exist", &[("model.balancer.policy", "model.balancer.polcy")], &[], "exp.ron:9:", &["no field `polcy`", "Did you mean `policy`?"]),
    case("variant set value of the wrong kind", &[("\"Random\"", "\"Randomly\"")], &[], "exp.ron:9:", &["Randomly"]),
    case("variant name unusable as a directory", &[("{\"a\":", "{\"a/b\":")], &[], "exp.ron:9:", &["the variant name \"a/b\" contains '/'"]),
    case("variant model that does not exist", &[("Variant(set", "Variant(model: \"nope.ron\", set")], &[], "exp.ron:9:", &["\"nope.ron\" cannot be loaded", "no such file"]),
    case("experiment without a model", &[("    model: \"m.ron\",\n", "")], &[], "exp.ron:", &["has no model"]),
    case("a variant's set on the variants", &[("\"model.balancer.policy\"", "\"variants.a.model\"")], &[], "exp.ron:9:", &["`variants` cannot be overridden"]),
    case("experiment set path that does not exist", &[("    seed: 3,", "    seed: 3, set: {\"workload.rate\": \"5\"},")], &[], "exp.ron:5:", &["no field `rate`", "Did you mean `rate_per_s`?"]),
    case("negative count", &[], &[("count: 2", "count: -1")], "m.ron:3:", &["Expected"]),
    case("count too large for its type", &[], &[("queue_limit: 16", "queue_limit: 99999999999")], "m.ron:3:", &["out of bounds"]),
    case("model file missing", &[("\"m.ron\"", "\"models/missing.ron\"")], &[], "exp.ron:2:", &["cannot be loaded", "no such file", "(looked for models/missing.ron)"]),
    // Syntax errors name the field they are in; a struct value written without its field name.
    case("malformed RON: a missing comma names the field", &[], &[("workers: 4,", "workers: 4")], "m.ron:3:", &["field `nodes.workers`", "Expected comma"]),
    case("malformed RON in an experiment names the field", &[("\"10s\",", "\"10s\",,")], &[], "exp.ron:3:", &["field `duration`"]),
    case("a struct value without its field name", &[], &[("\n)\n", "\n    dependency: Dependency(workers: 2, service: Exp(mean: \"5ms\")),\n    cache: Cache(placement: Shared, capacity_keys: 10, ttl: \"1s\", hit: Const(value: \"1ms\"),\n        keys: Keys(count: 10, popularity: Zipf(1.1))),\n)\n")], "m.ron:7:", &["`Zipf(…)` takes its field by name: write `s: 1.1`"]),
    // Keys written twice: the last would win silently.
    case("a variant written twice", &[("{\"a\": Variant(", "{\"a\": Variant(),\n        \"a\": Variant(")], &[], "exp.ron:10:", &["field `variants.a`", "the key \"a\" is written twice in `variants`, at line 9 and again at line 10"]),
    case("a set key written twice", &[("\"Random\"}", "\"Random\",\n        \"model.balancer.policy\": \"RoundRobin\"}")], &[], "exp.ron:10:", &["written twice in `variants.a.set`, at line 9 and again at line 10"]),
    case("a mix share written twice", &[("rate_per_s: 50.0)", "rate_per_s: 50.0, mix: {\"browse\": 0.5,\n        \"browse\": 0.5})")], &[], "exp.ron:7:", &["the key \"browse\" is written twice in `workload.mix`, at line 6 and again at line 7"]),
    case("an experiment set key written twice", &[("    seed: 3,", "    seed: 3, set: {\"duration\": \"5s\", \"duration\": \"6s\"},")], &[], "exp.ron:5:", &["the key \"duration\" is written twice in `set`"]),
    case("a model map key written twice", &[], &[("service: Exp(mean: \"10ms\")", "service: Exp(mean: \"10ms\"),\n service_by_kind: {\"a\": Exp(mean: \"1ms\"), \"a\": Exp(mean: \"2ms\")}")], "m.ron:5:", &["the key \"a\" is written twice in `nodes.service_by_kind`"]),
    case("a struct field written twice names both lines", &[("    seed: 3,", "    seed: 3,\n    seed: 4,")], &[], "exp.ron:6:", &["`seed` is written twice", "at line 5 and again at line 6"]),
    case("random failures naming services in a single-tier experiment", &[("    faults: [", "    random_failures: RandomFailures(time_to_failure: Exp(mean: \"5s\"), time_to_repair: Const(value: \"1s\"), services: [\"web\"]),\n    faults: [")], &[], "exp.ron:8:", &["field `random_failures.services`", "a single-tier model's nodes all fail"]),
    case("a price too large to keep costs finite", &[], &[("\n)\n", "\n    price_per_node_hour: 1e308,\n)\n")], "m.ron:5:", &["must be between 0 and 1000000000 (per node-hour), found 1e308"]),
    case("a variant name too long for a file name", &[("{\"a\":", "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":")], &[], "exp.ron:9:", &["has 236 characters: at most 100"]),
    // Inputs that are not configuration files.
    case("a model that is a device", &[("\"m.ron\"", "\"/dev/zero\"")], &[], "exp.ron:2:", &["is not a regular file"]),
];

/// Cases whose inputs are not a one-line change of the valid pair.
#[rustfmt::skip]
fn special_cases() -> Vec<(Case, Option<Vec<u8>>)> {
    const fn c(name: &'static str, args: &'static [&'static str], code: i32, at: &'static str, says: &'static [&'static str]) -> Case {
        Case { name, exp: &[], model: &[], args, code, at, says }
    }
    vec![
        (c("a model given to run as the experiment", &["run", "m.ron"], 2, "m.ron:1:", &["Expected struct `Experiment` but found `System`"]), None),
        (c("missing experiment file", &["run", "nope.ron"], 2, "nope.ron", &["no such file"]), None),
        (c("a directory given as a file", &["run", "."], 2, ".: ", &["is a directory"]), None),
        (c("a directory given to check", &["check", "out_dir_that_is_a_dir"], 2, "out_dir_that_is_a_dir", &["is a directory"]), None),
        (c("not UTF-8 (binary file)", RUN, 2, "exp.ron", &["is not UTF-8"]), Some(b"Experiment(\xff\xfe\x00\x01)".to_vec())),
        (c("output directory under a regular file", &["run", "exp.ron", "--out", "m.ron/out"], 1, "m.ron/out", &["cannot write"]), None),
        (c("--set without '='", &["run", "exp.ron", "--set", "model.nodes.count"], 2, "--set model.nodes.count", &["expected path=value"]), None),
        (c("--set with an empty path segment", &["run", "exp.ron", "--set", "model..count=3"], 2, "--set model..count=3", &["not a dotted field path"]), None),
        (c("--set path that does not exist", &["run", "exp.ron", "--set", "model.nodes.wrkers=3"], 2, "--set model.nodes.wrkers=3", &["no field `wrkers`", "Did you mean `workers`?"]), None),
        (c("--set list index that does not exist", &["run", "exp.ron", "--set", "faults.4.at=2s"], 2, "--set faults.4.at=2s", &["index 4 does not exist"]), None),
        (c("--set value of the wrong type", &["run", "exp.ron", "--set", "model.nodes.workers=many"], 2, "--set model.nodes.workers=many", &["`many` is not a valid value here", "Expected integer"]), None),
        (c("--set NaN rate", &["run", "exp.ron", "--set", "workload.rate_per_s=NaN"], 2, "--set workload.rate_per_s=NaN", &["must be a finite number, found NaN"]), None),
        (c("--set zero nodes", &["run", "exp.ron", "--set", "model.nodes.count=0"], 2, "--set model.nodes.count=0", &["must be at least 1"]), None),
        (c("--set malformed value", &["run", "exp.ron", "--set", "model.nodes.service=Exp(mean: "], 2, "--set model.nodes.service", &["ends before the value is complete"]), None),
        (c("--set nested too deep", &["run", "exp.ron", "--set", "seed=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["], 2, "--set seed=", &["nested more than 64 levels"]), None),
        (c("--set on the variants", &["run", "exp.ron", "--set", "variants.a.set.seed=4"], 2, "--set variants.a.set.seed=4", &["`variants` cannot be overridden", "model.nodes.count"]), None),
        (c("--set on the experiment's set", &["run", "exp.ron", "--set", "set={}"], 2, "--set set={}", &["`set` cannot be overridden"]), None),
        (c("--set on the name", &["run", "exp.ron", "--set", "name=other"], 2, "--set name=other", &["`name` cannot be overridden"]), None),
        (c("--set on the model file", &["run", "exp.ron", "--set", "model=other.ron"], 2, "--set model=other.ron", &["`model` cannot be overridden"]), None),
        (c("a file's set on the variants", &["run", "exp.ron", "--set", "variants=None"], 2, "--set variants=None", &["cannot be overridden"]), None),
        (c("--seed not a number", &["run", "exp.ron", "--seed", "abc"], 2, "--seed", &["invalid value"]), None),
        (c("unknown command-line flag", &["run", "exp.ron", "--sed", "3"], 2, "--sed", &["unexpected argument"]), None),
        (c("--shard without a slash", &["sweep", "exp.ron", "--shard", "3"], 2, "--shard 3", &["expected I/N"]), None),
        (c("--shard not numbers", &["sweep", "exp.ron", "--shard", "a/b"], 2, "--shard a/b", &["expected I/N"]), None),
        (c("--shard with zero shards", &["sweep", "exp.ron", "--shard", "0/0"], 2, "--shard 0/0", &["1 ≤ I ≤ N"]), None),
        (c("--shard index past the count", &["sweep", "exp.ron", "--shard", "5/4"], 2, "--shard 5/4", &["1 ≤ I ≤ N"]), None),
        (c("--shard negative", &["sweep", "exp.ron", "--shard=-1/4"], 2, "--shard -1/4", &["expected I/N"]), None),
        (c("--shard with extra parts", &["sweep", "exp.ron", "--shard", "1/2/3"], 2, "--shard 1/2/3", &["expected I/N"]), None),
        // Sweep-file errors (an axis path that does not exist, …) are tested in tests/sweep.rs.
        (c("sweep: an experiment that does not exist", &["sweep", "exp.ron"], 2, "exp.ron:1:", &["field `experiment`", "the experiment \"nope.ron\" cannot be loaded", "looked for nope.ron"]), Some(b"Sweep(experiment: \"nope.ron\", axes: [Axis(path: \"seed\", values: List([1, 2]))])".to_vec())),
        (c("sweep: a set key written twice", &["check", "exp.ron"], 2, "exp.ron:2:", &["the key \"duration\" is written twice in `set`, at line 1 and again at line 2"]), Some(b"Sweep(experiment: \"m.ron\", set: {\"duration\": \"5s\",\n \"duration\": \"6s\"})".to_vec())),
        (c("check: a device, not a file", &["check", "/dev/zero"], 2, "/dev/zero", &["is not a regular file"]), None),
        (c("plan: a percentage given for a share", &["plan", "exp.ron", "--slo", "p99<100ms", "--peak-rps", "10", "--min-success", "99"], 2, "--min-success 99", &["between 0 and 1", "is --min-success 0.99"]), None),
        (c("plan: too many replications", &["plan", "exp.ron", "--slo", "p99<100ms", "--peak-rps", "10", "--replications", "100000"], 2, "--replications 100000", &["between 1 and 1000"]), None),
        (c("validate: a service time below the clock's tick", &["validate", "mm1", "--rate", "1", "--service-mean-ms", "0.0000001"], 2, "--service-mean-ms", &["1 ns"]), None),
        (c("validate: too many customers", &["validate", "mm1", "--rate", "1", "--service-mean-ms", "10", "--customers", "5000000000"], 2, "--customers", &["at most 1000000000"]), None),
        (c("validate: customers that arrive over centuries", &["validate", "mm1", "--rate", "0.000000001", "--service-mean-ms", "10", "--customers", "1000"], 2, "--customers", &["longer than the simulator can represent"]), None),
        (c("validate: too many servers", &["validate", "mmc", "--rate", "1", "--servers", "10000000", "--service-mean-ms", "10"], 2, "--servers", &["at most 100000"]), None),
        (c("validate: mm1 with several servers", &["validate", "mm1", "--rate", "1", "--servers", "3", "--service-mean-ms", "10"], 2, "--servers 3", &["exactly one server"]), None),
    ]
}

fn scratch(name: &str) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let dir =
        std::env::temp_dir().join(format!("scalesim-bad-input-{}-{slug}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("out_dir_that_is_a_dir")).unwrap();
    dir
}

fn apply(text: &str, edits: &[(&str, &str)], what: &str) -> String {
    let mut t = text.to_string();
    for (from, to) in edits {
        if from.is_empty() {
            t = to.to_string();
            continue;
        }
        assert!(
            t.contains(from),
            "{what}: the table's `{from}` is not in the file"
        );
        t = t.replacen(from, to, 1);
    }
    t
}

/// Runs one case on the single-tier pair; returns a description of what was wrong, if anything.
fn check(case: &Case, exp_bytes: Option<Vec<u8>>) -> Option<String> {
    check_on((EXPERIMENT, MODEL), case, exp_bytes)
}

/// Runs one case on a valid (experiment, model) pair with the case's changes.
fn check_on(pair: (&str, &str), case: &Case, exp_bytes: Option<Vec<u8>>) -> Option<String> {
    let dir = scratch(case.name);
    let exp = exp_bytes.unwrap_or_else(|| apply(pair.0, case.exp, case.name).into_bytes());
    std::fs::write(dir.join("exp.ron"), &exp).unwrap();
    std::fs::write(dir.join("m.ron"), apply(pair.1, case.model, case.name)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(case.args)
        .current_dir(&dir)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    let mut problems = Vec::new();
    if code == Some(101) || stderr.contains("panicked") {
        problems.push("PANICKED".to_string());
    }
    if code != Some(case.code) {
        problems.push(format!("exit code {code:?}, expected {}", case.code));
    }
    if !names_place(&stderr, case.at) {
        problems.push(format!("does not name the place `{}`", case.at));
    }
    for s in case.says {
        if !stderr.contains(s) {
            problems.push(format!("does not say `{s}`"));
        }
    }
    if out_has_files(&dir.join("out")) {
        problems.push("wrote output files for bad input".into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    if problems.is_empty() {
        return None;
    }
    Some(format!(
        "case \"{}\": {}\n  command: (cd <tmp> && scalesim {})\n  stderr: {}",
        case.name,
        problems.join("; "),
        case.args.join(" "),
        stderr.trim().replace('\n', "\n          ")
    ))
}

/// `file:line:` must be followed by a column number; other places are plain substrings.
fn names_place(stderr: &str, at: &str) -> bool {
    let is_position = at.ends_with(':') && at.contains(".ron:");
    if !is_position {
        return stderr.contains(at);
    }
    stderr.match_indices(at).any(|(i, _)| {
        let rest = &stderr[i + at.len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        // `exp.ron:` alone must be followed by line:col; `exp.ron:3:` by col.
        let line_given = at
            .trim_end_matches(':')
            .rsplit(':')
            .next()
            .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()));
        if line_given {
            digits > 0 && rest[digits..].starts_with(':')
        } else {
            digits > 0
                && rest[digits..].starts_with(':')
                && rest[digits + 1..].starts_with(|c: char| c.is_ascii_digit())
        }
    })
}

fn out_has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

#[test]
fn every_bad_input_is_a_clear_error_never_a_panic() {
    let mut cases: Vec<(&Case, Option<Vec<u8>>)> = CASES.iter().map(|c| (c, None)).collect();
    let special = special_cases();
    cases.extend(special.iter().map(|(c, b)| (c, b.clone())));
    assert!(cases.len() >= 25, "the table must have at least 25 cases");
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(case, bytes)| check(case, bytes))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n\n{}",
        failures.len(),
        CASES.len() + special.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_byte_order_mark_is_not_an_error() {
    let dir = scratch("bom");
    std::fs::write(dir.join("exp.ron"), format!("\u{feff}{EXPERIMENT}")).unwrap();
    std::fs::write(dir.join("m.ron"), format!("\u{feff}{MODEL}")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["check", "exp.ron", "m.ron"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_file_larger_than_the_limit_is_refused_with_the_limit_and_how_to_raise_it() {
    let dir = scratch("large file");
    let padded = format!("{EXPERIMENT}{}", "// padding\n".repeat(200));
    std::fs::write(dir.join("exp.ron"), &padded).unwrap();
    std::fs::write(dir.join("m.ron"), MODEL).unwrap();
    let limit = padded.len() - 1;
    let run = |limit: usize| {
        Command::new(env!("CARGO_BIN_EXE_scalesim"))
            .args(["check", "exp.ron"])
            .env("SCALESIM_MAX_FILE_BYTES", limit.to_string())
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let out = run(limit);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("exp.ron: is larger than {limit} bytes"))
            && stderr.contains("set SCALESIM_MAX_FILE_BYTES"),
        "{stderr}"
    );
    // At exactly its size the same file is read.
    let out = run(padded.len());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A valid experiment on a graph model (each graph case below changes one thing in it).
const GRAPH_EXPERIMENT: &str = r#"Experiment(
    model: "m.ron",
    duration: "10s",
    populations: {
        "shoppers": Population(workload: Open(rate_per_s: 50.0), mix: {"browse": 0.9, "checkout": 0.1}, timeout: "1s"),
        "crawler": Population(workload: Burst(at: "5s", count: 100), mix: {"browse": 1.0}),
    },
    faults: [Crash(service: "api", instance: 1, at: "2s"), Flush(cache: "catalog", at: "3s")],
)
"#;

const GRAPH_MODEL: &str = r#"System(
    services: {
        "web": Service(instances: 2, workers: 8, service: Exp(mean: "5ms"),
                       calls: Calls(timeout: "1s")),
        "api": Service(instances: 2, workers: 4, service: Exp(mean: "3ms"), connections: {"main": 4}),
    },
    databases: {
        "main": Database(workers: 8, read: Exp(mean: "4ms"), write: Exp(mean: "9ms")),
    },
    caches: {
        "catalog": Cache(database: "main", capacity_keys: 100, ttl: "30s", hit: Const(value: "1ms"), keys: Keys(count: 1000)),
    },
    counters: {
        "orders": Counter(database: "main", wait_timeout: "1s"),
    },
    queues: {
        "events": Topic(partitions: 2, consumer: "web", handler: "browse"),
    },
    requests: {
        "browse": [Call("web"), Call("api"), Get("catalog")],
        "checkout": [Call("web"), Parallel(branches: [[Read("main")], [Lock("orders")]], wait_for: First(1)), Produce("events")],
    },
    network: Network(links: {"shoppers->web": Const(value: "1ms")}),
)
"#;

const CHECK: &[&str] = &["check", "exp.ron"];

const fn graph(
    name: &'static str,
    exp: &'static [(&'static str, &'static str)],
    model: &'static [(&'static str, &'static str)],
    at: &'static str,
    says: &'static [&'static str],
) -> Case {
    Case {
        name,
        exp,
        model,
        args: CHECK,
        code: 2,
        at,
        says,
    }
}

/// Bad graph models and experiments: each error names the file, the line (a column
/// follows) and the dotted field, down to a step inside a Parallel branch, a map key and
/// a fault's instance.
#[rustfmt::skip]
const GRAPH_CASES: &[Case] = &[
    // Paths of steps.
    graph("a step calls a service that does not exist", &[], &[("Call(\"api\"), Get", "Call(\"apl\"), Get")], "m.ron:20:", &["field `model.requests.browse.1`", "`apl` is not one of the services: web, api", "Did you mean `api`?"]),
    graph("a path that does not start with a call", &[], &[("[Call(\"web\"), Call(\"api\"), Get(\"catalog\")]", "[Get(\"catalog\"), Call(\"api\")]")], "m.ron:20:", &["field `model.requests.browse.0`", "the first step must be Call(\"<service>\")", "found Get(…)"]),
    graph("an empty path", &[], &[("[Call(\"web\"), Call(\"api\"), Get(\"catalog\")]", "[]")], "m.ron:20:", &["field `model.requests.browse`", "at least one step"]),
    graph("a branch reads a database that does not exist", &[], &[("[[Read(\"main\")]", "[[Read(\"mian\")]")], "m.ron:21:", &["field `model.requests.checkout.1.branches.0.0`", "`mian` is not one of the databases: main"]),
    graph("an empty branch", &[], &[("[Lock(\"orders\")]]", "[]]")], "m.ron:21:", &["field `model.requests.checkout.1.branches.1`", "a branch needs at least one step"]),
    graph("waiting for more branches than there are", &[], &[("First(1)", "First(3)")], "m.ron:21:", &["field `model.requests.checkout.1.wait_for`", "1 to 2 branches", "found 3"]),
    graph("a producer to a queue that does not exist", &[], &[("Produce(\"events\")", "Produce(\"evnts\")")], "m.ron:21:", &["field `model.requests.checkout.2`", "Did you mean `events`?"]),
    graph("a misspelt field of a Parallel step", &[], &[("wait_for: First(1)", "wait_fr: First(1)")], "m.ron:21:", &["unknown field `wait_fr`", "Did you mean `wait_for`?"]),
    graph("a lock on a counter that does not exist", &[], &[("Lock(\"orders\")", "Lock(\"order\")")], "m.ron:21:", &["field `model.requests.checkout.1.branches.1.0`", "is not one of the counters: orders"]),
    // Services and databases.
    graph("zero workers in a service", &[], &[("workers: 4, service", "workers: 0, service")], "m.ron:5:", &["field `model.services.api.workers`", "must be at least 1"]),
    graph("too many instances of a service", &[], &[("instances: 2, workers: 8", "instances: 5000, workers: 8")], "m.ron:3:", &["field `model.services.web.instances`", "the instance count is 5,000, above the limit of 1,000", "MAX_INSTANCES_PER_SERVICE"]),
    graph("too many workers in a database", &[], &[("Database(workers: 8", "Database(workers: 200000")], "m.ron:8:", &["field `model.databases.main.workers`", "above the limit of 100,000", "more instances"]),
    graph("connections to something that is not a database", &[], &[("connections: {\"main\": 4}", "connections: {\"mian\": 4}")], "m.ron:5:", &["field `model.services.api.connections.mian`", "is not one of the databases"]),
    graph("a polynomial slowdown with a zero exponent", &[], &[("connections: {", "slowdown: Polynomial(k: 1.0, n: 0.0), connections: {")], "m.ron:5:", &["field `model.services.api.slowdown.n`", "greater than zero"]),
    graph("a slowdown ceiling below one", &[], &[("write: Exp(mean: \"9ms\")", "write: Exp(mean: \"9ms\"), slowdown: Exponential(k: 2.0, max_factor: 0.5)")], "m.ron:8:", &["field `model.databases.main.slowdown.max_factor`", "at least 1"]),
    graph("a service balancer's slow start of zero", &[], &[("connections: {\"main\": 4}", "balancer: Balancer(slow_start: \"0s\"), connections: {\"main\": 4}")], "m.ron:5:", &["field `model.services.api.balancer.slow_start`", "must be greater than zero"]),
    graph("a service autoscaler's ceiling above the instances a service may have", &[], &[("connections: {\"main\": 4}", "autoscaler: Autoscaler(metric: Cpu, scale_out_above: 0.5, scale_in_below: 0.2, min_nodes: 1, max_nodes: 5000), connections: {\"main\": 4}")], "m.ron:5:", &["field `model.services.api.autoscaler.max_nodes`", "is 5,000, above the limit of 1,000", "MAX_INSTANCES_PER_SERVICE"]),
    graph("a service starting outside its autoscaler's bounds", &[], &[("connections: {\"main\": 4}", "autoscaler: Autoscaler(metric: Cpu, scale_out_above: 0.5, scale_in_below: 0.2, min_nodes: 3, max_nodes: 5), connections: {\"main\": 4}")], "m.ron:5:", &["field `model.services.api.instances`", "the starting count 2 must lie between the autoscaler's min_nodes 3 and max_nodes 5"]),
    graph("a service autoscaler whose thresholds would flap", &[], &[("connections: {\"main\": 4}", "autoscaler: Autoscaler(metric: Cpu, scale_out_above: 0.5, scale_in_below: 0.6, min_nodes: 1, max_nodes: 5), connections: {\"main\": 4}")], "m.ron:5:", &["field `model.services.api.autoscaler.scale_in_below`", "must be below scale_out_above (0.5)"]),
    graph("a service autoscaler evaluating every 100 µs", &[], &[("connections: {\"main\": 4}", "autoscaler: Autoscaler(metric: Cpu, scale_out_above: 0.5, scale_in_below: 0.2, min_nodes: 1, max_nodes: 5, every: \"100us\", window: \"1s\"), connections: {\"main\": 4}")], "m.ron:5:", &["field `model.services.api.autoscaler.every`", "must be at least 1ms"]),
    graph("a negative price per instance-hour", &[], &[("connections: {\"main\": 4}", "price_per_instance_hour: -1.0, connections: {\"main\": 4}")], "m.ron:5:", &["field `model.services.api.price_per_instance_hour`", "must be between 0 and"]),
    graph("a node price in a graph model", &[], &[("    network: Network(", "    price_per_node_hour: 0.5,\n    network: Network(")], "m.ron:23:", &["field `model.price_per_node_hour`", "each service has its own `price_per_instance_hour`"]),
    graph("a top-level autoscaler in a graph model", &[], &[("    network: Network(", "    autoscaler: Autoscaler(metric: Cpu, scale_out_above: 0.5, scale_in_below: 0.2, min_nodes: 1, max_nodes: 5),\n    network: Network(")], "m.ron:23:", &["field `model.autoscaler`", "each service has its own"]),
    graph("a deadline check that is not a boolean", &[], &[("Database(workers: 8, read", "Database(workers: 8, queue: Queue(deadline_check: 1), read")], "m.ron:8:", &["field `databases.main.queue.deadline_check`", "Expected boolean"]),
    graph("a misspelt deadline check", &[], &[("Database(workers: 8, read", "Database(workers: 8, queue: Queue(deadline_chek: true), read")], "m.ron:8:", &["unknown field `deadline_chek`", "Did you mean `deadline_check`?"]),
    graph("a zero call timeout", &[], &[("Calls(timeout: \"1s\")", "Calls(timeout: \"0s\")")], "m.ron:4:", &["field `model.services.web.calls.timeout`", "must be greater than zero"]),
    // Caches, counters, queues, the network.
    graph("a cache in front of a database that does not exist", &[], &[("Cache(database: \"main\"", "Cache(database: \"nope\"")], "m.ron:11:", &["field `model.caches.catalog.database`", "`nope` is not one of the databases"]),
    graph("a TTL jitter of one", &[], &[("ttl: \"30s\",", "ttl: \"30s\", ttl_jitter: 1.0,")], "m.ron:11:", &["field `model.caches.catalog.ttl_jitter`", "below 1"]),
    graph("batched counter rows written every zero seconds", &[], &[("Counter(database: \"main\",", "Counter(database: \"main\", rows: Batched(every: \"0s\"),")], "m.ron:14:", &["field `model.counters.orders.rows.every`", "must be greater than zero"]),
    graph("a topic consumed by a service that does not exist", &[], &[("consumer: \"web\"", "consumer: \"worker\"")], "m.ron:17:", &["field `model.queues.events.consumer`", "is not one of the services"]),
    graph("too many partitions", &[], &[("partitions: 2", "partitions: 10000")], "m.ron:17:", &["field `model.queues.events.partitions`", "above the limit of 4,096"]),
    graph("a link from a population that does not exist", &[], &[("\"shoppers->web\"", "\"shopers->web\"")], "m.ron:23:", &["field `model.network.links.shopers->web`", "Did you mean `shoppers`?"]),
    graph("a link without an arrow", &[], &[("\"shoppers->web\"", "\"shoppers-web\"")], "m.ron:23:", &["field `model.network.links.shoppers-web`", "\"<from>-><to>\""]),
    graph("a name with a dot", &[], &[("\"catalog\": Cache", "\"cat.alog\": Cache")], "m.ron:11:", &["field `model.caches.cat.alog`", "letters, digits, '-' and '_' only"]),
    graph("a database named like a service", &[], &[("\"main\": Database(", "\"api\": Database(")], "m.ron:8:", &["field `model.databases.api`", "is also in `model.services`"]),
    graph("a single-tier cache in a graph model", &[], &[("    network:", "    cache: Cache(capacity_keys: 1, ttl: \"1s\", hit: Const(value: \"1ms\"), keys: Keys(count: 1)),\n    network:")], "m.ron:23:", &["field `model.cache`", "name it in `caches`"]),
    // Populations.
    graph("a mix naming a request kind that does not exist", &[("\"checkout\": 0.1", "\"chekout\": 0.1")], &[], "exp.ron:5:", &["field `populations.shoppers.mix.chekout`", "Did you mean `checkout`?"]),
    graph("a share of zero", &[("\"checkout\": 0.1", "\"checkout\": 0.0")], &[], "exp.ron:5:", &["field `populations.shoppers.mix.checkout`", "a share must be a finite number greater than zero"]),
    graph("an open rate above the clock's tick", &[("50.0", "2e9")], &[], "exp.ron:5:", &["field `populations.shoppers.workload.rate_per_s`", "above the limit of 1e9/s"]),
    graph("a burst that ends after the run", &[("at: \"5s\"", "at: \"10s\"")], &[], "exp.ron:6:", &["field `populations.crawler.workload.at`", "must end before the end of the run (10s)"]),
    graph("a burst too large", &[("count: 100)", "count: 200000000)")], &[], "exp.ron:6:", &["field `populations.crawler.workload.count`", "the burst is 200,000,000, above the limit of 100,000,000"]),
    graph("a retry with no attempts", &[("timeout: \"1s\")", "timeout: \"1s\", retry: Retry(max_attempts: 0))")], &[], "exp.ron:5:", &["field `populations.shoppers.retry.max_attempts`", "must be at least 1 (1 means no retries)"]),
    graph("a share of users above 1", &[("Burst(at: \"5s\", count: 100)", "Users(count: 10, think: Exp(mean: \"1s\"), shape: Step(at: \"1s\", factor: 2.0))")], &[], "exp.ron:6:", &["field `populations.crawler.workload.shape.factor`", "the share of users active must be at most 1, found 2"]),
    graph("a shape of users that is not one", &[("Burst(at: \"5s\", count: 100)", "Users(count: 10, think: Exp(mean: \"1s\"), shape: Wave(period: \"1s\"))")], &[], "exp.ron:6:", &["field `populations.crawler.workload.shape`", "Wave"]),
    graph("an open population capped at no request", &[("Open(rate_per_s: 50.0)", "Open(rate_per_s: 50.0, max_requests: Some(0))")], &[], "exp.ron:5:", &["field `populations.shoppers.workload.max_requests`", "must be at least 1 (or None for no limit)"]),
    graph("users too many for the memory limit", &[("Burst(at: \"5s\", count: 100)", "Users(count: 2000000000, think: Exp(mean: \"1s\"))")], &[], "exp.ron:6:", &["field `populations.crawler.workload.count`", "limits.max_memory_mb", "--set limits.max_memory_mb="]),
    graph("a workload beside the populations", &[("    duration: \"10s\",", "    duration: \"10s\",\n    workload: Open(rate_per_s: 1.0),")], &[], "exp.ron:4:", &["field `workload`", "has `populations` instead of one `workload`"]),
    graph("a client timeout beside the populations", &[("    duration: \"10s\",", "    duration: \"10s\",\n    clients: Clients(timeout: \"1s\"),")], &[], "exp.ron:4:", &["field `clients.timeout`", "each population its own `timeout`"]),
    graph("idempotency keys beside the populations", &[("    duration: \"10s\",", "    duration: \"10s\",\n    clients: Clients(idempotency_keys: true),")], &[], "exp.ron:4:", &["field `clients.idempotency_keys`", "each population its own `idempotency_keys`"]),
    graph("idempotency keys that are not a boolean", &[("timeout: \"1s\")", "timeout: \"1s\", idempotency_keys: \"yes\")")], &[], "exp.ron:5:", &["field `populations.shoppers.idempotency_keys`", "Expected boolean"]),
    // Faults name their targets.
    graph("random failures of a service that does not exist", &[("    faults: [", "    random_failures: RandomFailures(time_to_failure: Exp(mean: \"5s\"), time_to_repair: Const(value: \"1s\"), services: [\"apl\"]),\n    faults: [")], &[], "exp.ron:8:", &["field `random_failures.services.0`", "`apl` is not one of the services: web, api", "Did you mean `api`?"]),
    graph("random failures every 100 µs", &[("    faults: [", "    random_failures: RandomFailures(time_to_failure: Exp(mean: \"100us\"), time_to_repair: Const(value: \"1s\")),\n    faults: [")], &[], "exp.ron:8:", &["field `random_failures.time_to_failure`", "must have a mean of at least 1ms"]),
    graph("a fault on an instance that does not exist", &[("instance: 1", "instance: 2")], &[], "exp.ron:8:", &["field `faults.0.instance`", "instance 2 does not exist: `api` has 2 instance(s), numbered 0 to 1"]),
    graph("a fault naming a node in a graph", &[("Crash(service: \"api\", instance: 1,", "Crash(node: 1,")], &[], "exp.ron:8:", &["field `faults.0.node`", "a graph model has no node numbers"]),
    graph("a fault on a service without its instance", &[("Crash(service: \"api\", instance: 1,", "Crash(service: \"api\",")], &[], "exp.ron:8:", &["field `faults.0.instance`", "is required: the 0-based instance of `api`"]),
    graph("a single-tier fault in a graph experiment", &[("Flush(cache: \"catalog\", at: \"3s\")", "FlushCache(at: \"3s\")")], &[], "exp.ron:8:", &["field `faults.1`", "use Flush(cache: \"<name>\", at: …)"]),
    graph("a flush of a cache that does not exist", &[("Flush(cache: \"catalog\"", "Flush(cache: \"catalgo\"")], &[], "exp.ron:8:", &["field `faults.1.cache`", "Did you mean `catalog`?"]),
    graph("a database stall after the end", &[("Flush(cache: \"catalog\", at: \"3s\")", "Stall(database: \"main\", at: \"20s\", lasting: \"1s\")")], &[], "exp.ron:8:", &["field `faults.1.at`", "is not before the end of the run"]),
    graph("a capacity cut above the database's workers", &[("Flush(cache: \"catalog\", at: \"3s\")", "CutCapacity(database: \"main\", at: \"3s\", lasting: \"1s\", workers: 9)")], &[], "exp.ron:8:", &["field `faults.1.workers`", "keeps 9 workers, but the database `main` has only 8"]),
    graph("a fault on an instance of a database", &[("Flush(cache: \"catalog\", at: \"3s\")", "Partition(database: \"main\", instance: 0, at: \"3s\", lasting: \"1s\")")], &[], "exp.ron:8:", &["field `faults.1.instance`", "a database has no instances"]),
    // The graph cache's and counter's powers of the single-tier ones.
    graph("a counter lease of zero", &[], &[("wait_timeout: \"1s\")", "wait_timeout: \"1s\", lease: \"0s\")")], "m.ron:14:", &["field `model.counters.orders.lease`", "must be greater than zero"]),
    graph("a cache write share above 1", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", write_share: 1.5,")], "m.ron:11:", &["field `model.caches.catalog.write_share`", "must be between 0 and 1, found 1.5"]),
    graph("a cache early refresh beta of zero", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", early_refresh: Some(0.0),")], "m.ron:11:", &["field `model.caches.catalog.early_refresh`", "the beta must be a finite number greater than zero, found 0"]),
    graph("a cache lease retry of zero", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", lease_retry: Some(\"0s\"),")], "m.ron:11:", &["field `model.caches.catalog.lease_retry`", "must be greater than zero"]),
    graph("a cache miss time of zero", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", miss: Some(Exp(mean: \"0s\")),")], "m.ron:11:", &["field `model.caches.catalog.miss.mean`", "must be greater than zero"]),
    graph("a shared cache pre-warmed", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", prewarm: true,")], "m.ron:11:", &["field `model.caches.catalog.prewarm`", "only per-instance caches start cold"]),
    graph("a per-instance cache of a service that does not exist", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", placement: PerInstance(\"apj\"),")], "m.ron:11:", &["field `model.caches.catalog.placement`", "`apj` is not one of the services: web, api", "Did you mean `api`?"]),
    graph("a per-instance cache read on another service", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", placement: PerInstance(\"web\"),")], "m.ron:20:", &["field `model.requests.browse.2`", "Get(\"catalog\") runs on `api`, but `catalog` is a cache in each instance of `web`"]),
    graph("per-instance caches tracking too many keys", &[], &[("Cache(database: \"main\",", "Cache(database: \"main\", placement: PerInstance(\"api\"),"), ("instances: 2, workers: 4", "instances: 8, workers: 4"), ("Keys(count: 1000)", "Keys(count: 10000000)")], "m.ron:11:", &["field `model.caches.catalog.placement`", "80,000,000", "50,000,000", "MAX_PER_INSTANCE_KEYS"]),
    // Sessions: the store is a named database of the model.
    graph("a session store that does not exist", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(design: Externalized(store: \"mian\"))")], "m.ron:4:", &["field `model.services.web.sessions.design.store`", "`mian` is not one of the databases: main", "Did you mean `main`?"]),
    graph("a session store that is a cache", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(design: Externalized(store: \"catalog\"))")], "m.ron:4:", &["field `model.services.web.sessions.design.store`", "`catalog` is a cache", "name one of the `databases`"]),
    graph("a revocation list in a database that does not exist", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(design: SignedToken(ttl: \"30m\", revocation_list: Some(\"revoked\")))")], "m.ron:4:", &["field `model.services.web.sessions.design.revocation_list`", "`revoked` is not one of the databases"]),
    graph("a token that never is valid", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(design: SignedToken(ttl: \"0s\"))")], "m.ron:4:", &["field `model.services.web.sessions.design.ttl`", "must be greater than zero"]),
    graph("a login transaction of no writes", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(design: Externalized(store: \"main\", writes_per_login: 0))")], "m.ron:4:", &["field `model.services.web.sessions.design.writes_per_login`", "between 1 and 100"]),
    graph("a failed-login share above one", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(design: InMemory, failed_login_share: 1.5)")], "m.ron:4:", &["field `model.services.web.sessions.failed_login_share`", "between 0 and 1, found 1.5"]),
    graph("single-device login without a store", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(design: InMemory, single_device: true)")], "m.ron:4:", &["field `model.services.web.sessions.single_device`", "needs sessions in a store"]),
    graph("a misspelt field of a service's sessions", &[], &[("calls: Calls(timeout: \"1s\")", "calls: Calls(timeout: \"1s\"), sessions: Sessions(desing: InMemory)")], "m.ron:4:", &["unknown field `desing`", "Did you mean `design`?"]),
    graph("single-tier sessions in a graph model", &[], &[("    network:", "    sessions: Sessions(design: InMemory),\n    network:")], "m.ron:23:", &["field `model.sessions`", "no top-level `sessions`", "Service(sessions: Sessions(…)"]),
    graph("a logout share above one", &[("Burst(at: \"5s\", count: 100)", "Users(count: 10, think: Exp(mean: \"1s\"), logout_share: 2.0)")], &[], "exp.ron:6:", &["field `populations.crawler.workload.logout_share`", "between 0 and 1, found 2"]),
    graph("devices that do not divide the users", &[("Burst(at: \"5s\", count: 100)", "Users(count: 10, think: Exp(mean: \"1s\"), devices: 3)")], &[], "exp.ron:6:", &["field `populations.crawler.workload.devices`", "divide the user count (10), found 3"]),
];

#[test]
fn every_bad_graph_input_names_file_line_and_field() {
    // The pair the cases change is valid: each case fails for its own reason.
    let dir = scratch("the valid graph pair");
    std::fs::write(dir.join("exp.ron"), GRAPH_EXPERIMENT).unwrap();
    std::fs::write(dir.join("m.ron"), GRAPH_MODEL).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["check", "exp.ron", "m.ron"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cases: Vec<&Case> = GRAPH_CASES.iter().collect();
    // `--set` reaches inside a graph and is checked by the same rules.
    let set = Case {
        name: "--set zero instances of a service",
        exp: &[],
        model: &[],
        args: &["run", "exp.ron", "--set", "model.services.web.instances=0"],
        code: 2,
        at: "--set model.services.web.instances=0",
        says: &["field `model.services.web.instances`", "must be at least 1"],
    };
    cases.push(&set);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_on((GRAPH_EXPERIMENT, GRAPH_MODEL), case, None))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad graph inputs failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// `scalesim check` accepts the graph fixtures and describes a graph model by its parts.
#[test]
fn check_describes_the_graph_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args([
            "check",
            "models/graph_example.ron",
            "experiments/graph_example.ron",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ok    models/graph_example.ron: graph model (services web ×4, api ×2, fulfilment ×1; databases main; caches catalog; counters orders; queues order_events)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok    experiments/graph_example.ron: experiment with 2 variant(s)"),
        "{stdout}"
    );
}
