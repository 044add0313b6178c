//! From raw files to validated run configurations: applies overrides, then checks every
//! cross-field rule before a run starts, naming the file, line and field of each problem.

use super::distribution::DistSpec;
use super::duration::Duration;
use super::error::{ConfigError, Origin};
use super::experiment::{ExperimentSpec, FaultSpec, ShapeSpec, WorkloadSpec};
use super::load::Loaded;
use super::model::{CounterSpec, LogoutScope, ReadRouting, SessionDesign, StoreSpec};
use super::model::{ModelSpec, NodesSpec};
use super::overrides::{Override, OverrideSource};
use super::rules::{Checked, Rules, MIN_PERIODIC_NS};

/// Where every value of one resolved variant came from, to point errors back at it.
pub struct Provenance<'a> {
    /// The experiment file.
    pub experiment: &'a Loaded<ExperimentSpec>,
    /// The variant's model file.
    pub model: &'a Loaded<ModelSpec>,
    /// The overrides applied, in order (the later wins).
    pub overrides: &'a [Override],
}

impl Provenance<'_> {
    /// The origin of the value at dotted `path` of the combined tree (`model.` for the model).
    pub fn origin(&self, path: &str) -> Origin {
        // Enum variant names may or may not be written in either path
        // (`workload.Open.rate_per_s` is `workload.rate_per_s`): compare without them.
        let bare = without_variants(path);
        let overridden = self.overrides.iter().rev().find(|o| {
            let o_path = without_variants(&o.path);
            bare == o_path
                || bare.starts_with(&format!("{o_path}."))
                || o_path.starts_with(&format!("{bare}."))
        });
        if let Some(o) = overridden {
            return match &o.source {
                OverrideSource::Flag => Origin::Flag(format!("--set {}={}", o.path, o.value)),
                OverrideSource::File(at) => self.experiment.origin(at),
            };
        }
        match path.strip_prefix("model.") {
            Some(rest) => self.model.origin(rest),
            None if path == "model" => self.model.origin(""),
            None => self.experiment.origin(path),
        }
    }

    /// An error about the value at `path`.
    pub fn error(&self, path: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.origin(path), Some(path.to_string()), message)
    }
}

/// A dotted path without its enum variant segments (those starting with a capital letter).
fn without_variants(path: &str) -> String {
    path.split('.')
        .filter(|seg| !seg.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(".")
}

/// Applies the overrides, in order, to the experiment and model: each is read back
/// through the same typed structs as a file (see [`super::overrides`]).
pub fn apply_overrides(prov: &Provenance<'_>) -> Result<(ExperimentSpec, ModelSpec), ConfigError> {
    let mut experiment = prov.experiment.value.clone();
    let mut model = prov.model.value.clone();
    for o in prov.overrides {
        let at = || match &o.source {
            OverrideSource::Flag => Origin::Flag(format!("--set {}={}", o.path, o.value)),
            OverrideSource::File(at) => prov.experiment.origin(at),
        };
        let fail = |msg: String| ConfigError::new(at(), Some(o.path.clone()), msg);
        if let Some(msg) = super::overrides::structural_field(&o.path) {
            return Err(fail(msg));
        }
        match o.path.strip_prefix("model.") {
            Some(rest) => {
                model = super::overrides::apply_typed(&model, rest, &o.value).map_err(fail)?
            }
            None => {
                experiment =
                    super::overrides::apply_typed(&experiment, &o.path, &o.value).map_err(fail)?
            }
        }
    }
    if prov.overrides.is_empty() {
        return Ok((experiment, model));
    }
    // RON reads `NaN` and `inf` as a file does; the file's guard then refuses them.
    for (prefix, found) in [
        ("model.", super::guard::first_non_finite(&model)),
        ("", super::guard::first_non_finite(&experiment)),
    ] {
        if let Some((field, v)) = found {
            return Err(prov.error(
                &format!("{prefix}{field}"),
                format!("must be a finite number, found {v} (NaN and infinities are not allowed)"),
            ));
        }
    }
    Ok((experiment, model))
}

/// Applies the overrides and checks every cross-field rule: the one way from raw files to a
/// validated (experiment, model) pair.
pub fn resolve(prov: &Provenance<'_>) -> Result<(ExperimentSpec, ModelSpec), ConfigError> {
    let (spec, model) = apply_overrides(prov)?;
    check(prov, &spec, &model)?;
    Ok((spec, model))
}

/// Checks every rule that a single field's type cannot express.
pub fn check(prov: &Provenance<'_>, e: &ExperimentSpec, m: &ModelSpec) -> Result<(), ConfigError> {
    if m.is_graph() {
        return super::graph::validate::check(prov, e, m);
    }
    let Some(n) = &m.nodes else {
        return Err(prov.error(
            "model.nodes",
            "missing field `nodes`: a model needs `nodes: Nodes(…)` (the single-tier form) or \
             `services: {…}` (the graph form)",
        ));
    };
    let Some(w) = &e.workload else {
        return Err(prov.error(
            "workload",
            "missing field `workload` (required with a single-tier model; `populations` are for \
             graph models)",
        ));
    };
    super::graph::validate::no_graph_parts(prov, e, m)?;
    Checker { prov, e, m, n, w }.all()
}

struct Checker<'a> {
    prov: &'a Provenance<'a>,
    e: &'a ExperimentSpec,
    m: &'a ModelSpec,
    /// The single-tier model's nodes.
    n: &'a NodesSpec,
    /// The single-tier experiment's workload.
    w: &'a WorkloadSpec,
}

impl Checker<'_> {
    fn rules(&self) -> Rules<'_> {
        Rules::new(self.prov)
    }

    fn fail(&self, path: &str, msg: impl Into<String>) -> Checked {
        self.rules().fail(path, msg)
    }

    fn dist(&self, path: &str, d: &DistSpec) -> Checked {
        self.rules().dist(path, d)
    }

    fn positive(&self, path: &str, x: f64, what: &str) -> Checked {
        self.rules().positive(path, x, what)
    }

    fn nonzero(&self, path: &str, d: Duration) -> Checked {
        self.rules().nonzero(path, d)
    }

    /// A node a fault must name (a single-tier model has no services to name instead).
    fn required_node(&self, path: &str, node: Option<u32>) -> Checked {
        match node {
            Some(n) => self.node(path, n),
            None => self.fail(path, "is required: the 0-based node this fault afflicts"),
        }
    }

    fn node(&self, path: &str, node: u32) -> Checked {
        let n = self.max_nodes();
        if node >= n {
            return self.fail(
                path,
                format!(
                    "node {node} does not exist: the model has {n} node(s), numbered 0 to {}",
                    n - 1
                ),
            );
        }
        Ok(())
    }

    fn max_nodes(&self) -> u32 {
        self.m.max_nodes()
    }

    fn all(&self) -> Checked {
        let e = self.e;
        self.rules().head(e)?;
        self.workload()?;
        self.clients()?;
        self.model()?;
        self.faults()?;
        if let Some(r) = &e.random_failures {
            self.dist("random_failures.time_to_failure", &r.time_to_failure)?;
            self.dist("random_failures.time_to_repair", &r.time_to_repair)?;
            if r.time_to_failure.mean_ms() <= 0.0 {
                return self.fail(
                    "random_failures.time_to_failure",
                    "must have a mean greater than zero",
                );
            }
        }
        // Last, on values known to be valid: the memory and time the sizes multiply into.
        self.rules().budget(e, self.m)
    }

    fn shape(&self, path: &str, shape: &ShapeSpec, at_most_one: bool) -> Checked {
        self.rules().shape(path, shape, at_most_one)
    }

    fn mix(&self, path: &str, mix: &indexmap::IndexMap<String, f64>) -> Checked {
        for (k, w) in mix {
            if !w.is_finite() || *w < 0.0 {
                return self.fail(
                    &format!("{path}.{k}"),
                    format!("a share must be finite and not negative, found {w}"),
                );
            }
        }
        if !mix.is_empty() && mix.values().sum::<f64>() <= 0.0 {
            return self.fail(path, "the shares must not all be zero");
        }
        for k in self.n.service_by_kind.keys() {
            if !mix.contains_key(k) {
                let names: Vec<&str> = mix.keys().map(String::as_str).collect();
                let hint = super::error::did_you_mean(k, &names)
                    .map(|s| format!(" Did you mean `{s}`?"))
                    .unwrap_or_default();
                return self.fail(
                    &format!("model.nodes.service_by_kind.{k}"),
                    format!(
                        "the request kind `{k}` is not in the workload's mix ({}).{hint}",
                        names.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    fn workload(&self) -> Checked {
        match self.w {
            WorkloadSpec::Open {
                rate_per_s,
                shape,
                max_requests,
                mix,
            } => {
                self.rules()
                    .open_rate("workload.rate_per_s", *rate_per_s, shape)?;
                if *max_requests == Some(0) {
                    return self.fail(
                        "workload.max_requests",
                        "must be at least 1 (or None for no limit)",
                    );
                }
                self.shape("workload.shape", shape, false)?;
                self.mix("workload.mix", mix)
            }
            WorkloadSpec::Users {
                count,
                think,
                shape,
                mix,
                ..
            } => {
                if *count == 0 {
                    return self.fail("workload.count", "must be at least 1 user");
                }
                self.dist("workload.think", think)?;
                self.shape("workload.shape", shape, true)?;
                self.mix("workload.mix", mix)
            }
        }
    }

    fn clients(&self) -> Checked {
        let c = &self.e.clients;
        if let Some(t) = c.timeout {
            self.nonzero("clients.timeout", t)?;
        }
        if let Some(r) = &c.retry {
            self.rules().retry("clients.retry", r)?;
        }
        if let Some(t) = &c.throttle {
            self.rules().throttle("clients.throttle", t)?;
        }
        Ok(())
    }

    fn store(&self, path: &str, st: &StoreSpec) -> Checked {
        if st.workers == 0 {
            return self.fail(&format!("{path}.workers"), "must be at least 1");
        }
        self.dist(&format!("{path}.read"), &st.read)?;
        self.dist(&format!("{path}.write"), &st.write)?;
        if st.max_connections == Some(0) {
            return self.fail(
                &format!("{path}.max_connections"),
                "must be at least 1 (or None for no limit)",
            );
        }
        if st.writes_per_login == 0 || st.writes_per_login > 100 {
            return self.fail(
                &format!("{path}.writes_per_login"),
                format!("must be between 1 and 100, found {}", st.writes_per_login),
            );
        }
        if let Some(r) = &st.replicas {
            if r.count == 0 || r.count > 64 {
                return self.fail(
                    &format!("{path}.replicas.count"),
                    format!("must be between 1 and 64, found {}", r.count),
                );
            }
            if r.workers == 0 {
                return self.fail(&format!("{path}.replicas.workers"), "must be at least 1");
            }
            self.dist(&format!("{path}.replicas.lag"), &r.lag)?;
            if let ReadRouting::ReadYourWrites { window } = r.reads {
                self.nonzero(&format!("{path}.replicas.reads.window"), window)?;
            }
        }
        Ok(())
    }

    fn sessions(&self) -> Checked {
        let Some(s) = &self.m.sessions else {
            return Ok(());
        };
        match self.w {
            WorkloadSpec::Users {
                logout_share,
                stale_tab_share,
                devices,
                count,
                ..
            } => {
                if *devices == 0 || count % devices != 0 {
                    return self.fail(
                        "workload.devices",
                        format!("must be at least 1 and divide the user count ({count}), found {devices}"),
                    );
                }
                if !s.failed_login_share.is_finite() || !(0.0..=1.0).contains(&s.failed_login_share)
                {
                    return self.fail(
                        "model.sessions.failed_login_share",
                        format!("must be between 0 and 1, found {}", s.failed_login_share),
                    );
                }
                if s.lockout_after == Some(0) {
                    return self.fail(
                        "model.sessions.lockout_after",
                        "must be at least 1 (or None: never)",
                    );
                }
                self.nonzero("model.sessions.lockout_for", s.lockout_for)?;
                if s.single_device && !matches!(s.design, SessionDesign::Externalized { .. }) {
                    return self.fail(
                        "model.sessions.single_device",
                        "single-device login needs sessions in a store (design: Externalized) to end the other devices' sessions",
                    );
                }
                if s.logout == LogoutScope::AllDevices
                    && !matches!(s.design, SessionDesign::Externalized { .. })
                {
                    return self.fail(
                        "model.sessions.logout",
                        "AllDevices needs sessions in a store (design: Externalized) to delete every device's session",
                    );
                }
                for (f, x) in [
                    ("logout_share", logout_share),
                    ("stale_tab_share", stale_tab_share),
                ] {
                    if !x.is_finite() || !(0.0..=1.0).contains(x) {
                        return self.fail(
                            &format!("workload.{f}"),
                            format!("must be between 0 and 1, found {x}"),
                        );
                    }
                }
            }
            WorkloadSpec::Open { .. } => {
                return self.fail(
                    "model.sessions",
                    "sessions need users who log in: use a `Users(count: …, think: …)` workload",
                )
            }
        }
        if let Some(d) = &s.login_service {
            self.dist("model.sessions.login_service", d)?;
        }
        match &s.design {
            SessionDesign::InMemory => Ok(()),
            SessionDesign::Externalized { store, .. } => {
                self.store("model.sessions.design.store", store)
            }
            SessionDesign::SignedToken {
                ttl,
                revocation_list,
            } => {
                self.nonzero("model.sessions.design.ttl", *ttl)?;
                match revocation_list {
                    Some(st) => self.store("model.sessions.design.revocation_list", st),
                    None => Ok(()),
                }
            }
        }
    }

    fn locks(&self) -> Checked {
        let Some(l) = &self.m.locks else {
            return Ok(());
        };
        let mix = match self.w {
            WorkloadSpec::Open { mix, .. } | WorkloadSpec::Users { mix, .. } => mix,
        };
        if !mix.contains_key(&l.kind) {
            let names: Vec<&str> = mix.keys().map(String::as_str).collect();
            let hint = super::error::did_you_mean(&l.kind, &names)
                .map(|s| format!(" Did you mean `{s}`?"))
                .unwrap_or_default();
            return self.fail(
                "model.locks.kind",
                format!(
                    "the request kind `{}` is not in the workload's mix ({}).{hint} Add it, e.g. mix: {{\"{}\": 0.2, …}}",
                    l.kind,
                    names.join(", "),
                    l.kind
                ),
            );
        }
        self.dist("model.locks.write", &l.write)?;
        self.nonzero("model.locks.wait_timeout", l.wait_timeout)?;
        if let Some(lease) = l.lease {
            self.nonzero("model.locks.lease", lease)?;
        }
        match l.counter {
            CounterSpec::Global => Ok(()),
            CounterSpec::Sharded { buckets } if buckets == 0 || buckets > 1_000_000 => self.fail(
                "model.locks.counter.buckets",
                format!("must be between 1 and 1000000, found {buckets}"),
            ),
            CounterSpec::Sharded { .. } => Ok(()),
            CounterSpec::Batched { every } => self.nonzero("model.locks.counter.every", every),
        }
    }

    fn model(&self) -> Checked {
        self.sessions()?;
        self.locks()?;
        self.cache()?;
        let m = self.m;
        let n = self.n;
        if n.count == 0 {
            return self.fail(
                "model.nodes.count",
                "must be at least 1: a system needs a node to serve requests",
            );
        }
        if n.workers == 0 {
            return self.fail("model.nodes.workers", "must be at least 1");
        }
        self.dist("model.nodes.service", &n.service)?;
        for (k, d) in &n.service_by_kind {
            self.dist(&format!("model.nodes.service_by_kind.{k}"), d)?;
        }
        if let Some(s) = &n.slowdown {
            for (f, x) in [
                ("per_busy_worker", s.per_busy_worker),
                ("per_queued", s.per_queued),
            ] {
                if !x.is_finite() || x < 0.0 {
                    return self.fail(
                        &format!("model.nodes.slowdown.{f}"),
                        format!("must be finite and not negative, found {x}"),
                    );
                }
            }
            if !s.max_factor.is_finite() || s.max_factor < 1.0 {
                return self.fail(
                    "model.nodes.slowdown.max_factor",
                    format!("must be at least 1, found {}", s.max_factor),
                );
            }
        }
        if let Some(c) = &n.cold_start {
            self.rules().cold_start("model.nodes.cold_start", c)?;
        }
        if n.dependency_pool == Some(0) {
            return self.fail(
                "model.nodes.dependency_pool",
                "must be at least 1 connection (or None for no limit)",
            );
        }
        if n.dependency_pool.is_some() && m.dependency.is_none() {
            return self.fail(
                "model.nodes.dependency_pool",
                "there is no `dependency` in the model to connect to",
            );
        }
        if let Some(d) = &m.dependency {
            if d.workers == 0 {
                return self.fail("model.dependency.workers", "must be at least 1");
            }
            self.dist("model.dependency.service", &d.service)?;
        }
        self.rules().balancer("model.balancer", &m.balancer)?;
        self.rules()
            .price("model.price_per_node_hour", m.price_per_node_hour)?;
        if let Some(a) = &m.autoscaler {
            if a.min_nodes == 0 {
                return self.fail("model.autoscaler.min_nodes", "must be at least 1");
            }
            if a.min_nodes > a.max_nodes {
                return self.fail(
                    "model.autoscaler.min_nodes",
                    format!(
                        "min_nodes ({}) must not be greater than max_nodes ({})",
                        a.min_nodes, a.max_nodes
                    ),
                );
            }
            if n.count < a.min_nodes || n.count > a.max_nodes {
                return self.fail(
                    "model.nodes.count",
                    format!("the starting count {} must lie between the autoscaler's min_nodes {} and max_nodes {}", n.count, a.min_nodes, a.max_nodes),
                );
            }
            if a.max_nodes > 1000 {
                return self.fail(
                    "model.autoscaler.max_nodes",
                    "at most 1000 nodes are supported",
                );
            }
            for (f, x) in [
                ("scale_out_above", a.scale_out_above),
                ("scale_in_below", a.scale_in_below),
            ] {
                if !x.is_finite() || x < 0.0 {
                    return self.fail(
                        &format!("model.autoscaler.{f}"),
                        format!("must be finite and not negative, found {x}"),
                    );
                }
            }
            if a.scale_in_below >= a.scale_out_above {
                return self.fail(
                    "model.autoscaler.scale_in_below",
                    format!(
                        "must be below scale_out_above ({}), or the scaler would flap",
                        a.scale_out_above
                    ),
                );
            }
            self.nonzero("model.autoscaler.every", a.every)?;
            self.nonzero("model.autoscaler.window", a.window)?;
            // An evaluation is an event that scans every node: bounded like health checks.
            if a.every.ns() < MIN_PERIODIC_NS {
                return self.fail(
                    "model.autoscaler.every",
                    format!("must be at least 1ms, found {}: each evaluation is an event that looks at every node, so a shorter period makes the run do nothing else (autoscalers evaluate every few seconds)", a.every),
                );
            }
            // A window shorter than the period would average over less time than passed
            // since the last decision (and, at the first evaluation, over nothing at all).
            if a.window < a.every {
                return self.fail(
                    "model.autoscaler.window",
                    format!(
                        "the window ({}) must be at least the evaluation period `every` ({}): each decision must see the time since the previous one",
                        a.window, a.every
                    ),
                );
            }
            if a.step == 0 {
                return self.fail("model.autoscaler.step", "must be at least 1");
            }
        } else if n.count > 1000 {
            return self.fail("model.nodes.count", "at most 1000 nodes are supported");
        }
        Ok(())
    }

    fn cache(&self) -> Checked {
        let Some(c) = &self.m.cache else {
            return Ok(());
        };
        if self.m.dependency.is_none() {
            return self.fail(
                "model.cache",
                "a look-aside cache needs a `dependency` (the database) to fetch misses from",
            );
        }
        if c.capacity_keys == 0 {
            return self.fail("model.cache.capacity_keys", "must be at least 1");
        }
        self.nonzero("model.cache.ttl", c.ttl)?;
        self.rules()
            .ttl_jitter("model.cache.ttl_jitter", c.ttl_jitter)?;
        self.dist("model.cache.hit", &c.hit)?;
        if let Some(d) = &c.miss {
            self.dist("model.cache.miss", d)?;
        }
        self.rules().keys("model.cache.keys", &c.keys)?;
        if !c.write_share.is_finite() || !(0.0..=1.0).contains(&c.write_share) {
            return self.fail(
                "model.cache.write_share",
                format!("must be between 0 and 1, found {}", c.write_share),
            );
        }
        if let Some(b) = c.early_refresh {
            self.positive("model.cache.early_refresh", b, "the beta")?;
        }
        if let Some(d) = self.m.balancer.slow_start {
            self.nonzero("model.balancer.slow_start", d)?;
        }
        if let Some(d) = c.lease_retry {
            self.nonzero("model.cache.lease_retry", d)?;
        }
        if c.prewarm && c.placement == crate::config::model::CachePlacement::Shared {
            return self.fail(
                "model.cache.prewarm",
                "only per-node caches start cold: use `placement: PerNode`",
            );
        }
        Ok(())
    }

    fn faults(&self) -> Checked {
        let e = self.e;
        for (i, f) in e.faults.iter().enumerate() {
            let p = |field: &str| format!("faults.{i}.{field}");
            let at = match f {
                FaultSpec::Crash {
                    node,
                    service: None,
                    database: None,
                    instance: None,
                    at,
                    restart_after,
                } => {
                    self.required_node(&p("node"), *node)?;
                    if restart_after.is_some_and(|r| r.ns() == 0) {
                        return self.fail(
                            &p("restart_after"),
                            "must be greater than zero (or None for no restart)",
                        );
                    }
                    *at
                }
                FaultSpec::Slow {
                    node,
                    service: None,
                    database: None,
                    instance: None,
                    at,
                    lasting,
                    factor,
                } => {
                    self.required_node(&p("node"), *node)?;
                    self.nonzero(&p("lasting"), *lasting)?;
                    self.positive(&p("factor"), *factor, "the factor")?;
                    *at
                }
                FaultSpec::CutCapacity {
                    node,
                    service: None,
                    database: None,
                    instance: None,
                    at,
                    lasting,
                    ..
                } => {
                    self.required_node(&p("node"), *node)?;
                    self.nonzero(&p("lasting"), *lasting)?;
                    *at
                }
                FaultSpec::Partition {
                    node,
                    service: None,
                    database: None,
                    instance: None,
                    at,
                    lasting,
                } => {
                    self.required_node(&p("node"), *node)?;
                    self.nonzero(&p("lasting"), *lasting)?;
                    *at
                }
                FaultSpec::FailRequests {
                    node,
                    service: None,
                    database: None,
                    instance: None,
                    at,
                    lasting,
                    percent,
                } => {
                    if let Some(node) = node {
                        self.node(&p("node"), *node)?;
                    }
                    self.nonzero(&p("lasting"), *lasting)?;
                    self.rules().percent(&p("percent"), *percent)?;
                    *at
                }
                FaultSpec::StallDependency { at, lasting } => {
                    if self.m.dependency.is_none() {
                        return self.fail(
                            &format!("faults.{i}"),
                            "the model has no `dependency` to stall",
                        );
                    }
                    self.nonzero(&p("lasting"), *lasting)?;
                    *at
                }
                FaultSpec::ReplicationLagSpike { at, lasting, extra } => {
                    self.nonzero(&p("lasting"), *lasting)?;
                    self.nonzero(&p("extra"), *extra)?;
                    *at
                }
                FaultSpec::PrimaryFailover { at, lasting } => {
                    self.nonzero(&p("lasting"), *lasting)?;
                    *at
                }
                FaultSpec::SlowLockHolder { at, stall } => {
                    if self.m.locks.is_none() {
                        return self.fail(
                            &format!("faults.{i}"),
                            "the model has no `locks` whose holder could stall",
                        );
                    }
                    self.nonzero(&p("stall"), *stall)?;
                    *at
                }
                FaultSpec::StoreOutage { at, lasting } => {
                    // Allowed on a design without a store (nothing happens there), so that
                    // one experiment can compare designs under the same faults.
                    self.nonzero(&p("lasting"), *lasting)?;
                    *at
                }
                // Allowed without a cache too (nothing happens), as for the store outage.
                FaultSpec::FlushCache { at } => *at,
                FaultSpec::Stall { .. } | FaultSpec::Flush { .. } => {
                    return self.fail(
                        &format!("faults.{i}"),
                        "names a database or cache by name, which only a graph model \
                         (`services: {…}`) has; a single-tier model uses StallDependency \
                         or FlushCache",
                    );
                }
                _ => {
                    return self.fail(
                        &format!("faults.{i}"),
                        "a single-tier model's fault names its `node` (0-based), not a \
                         service, database or instance",
                    );
                }
            };
            if at >= e.duration {
                return self.fail(
                    &p("at"),
                    format!("{at} is not before the end of the run ({})", e.duration),
                );
            }
        }
        Ok(())
    }
}

pub use super::rules::MAX_PRICE_PER_NODE_HOUR;

/// The longest variant name, in characters: it names a folder, and plots and sweep files
/// add to it (`<variant>_latency.svg`), within the 255 bytes most file systems allow.
pub const MAX_VARIANT_NAME_CHARS: usize = 100;

/// A variant name becomes a directory name: keep it to letters, digits, `-`, `_` and `.`,
/// and short enough for a file name.
pub fn check_variant_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!(
            "the variant name \"{name}\" cannot be used as a directory name"
        ));
    }
    let chars = name.chars().count();
    if chars > MAX_VARIANT_NAME_CHARS {
        return Err(format!(
            "the variant name \"{}…\" has {chars} characters: at most {MAX_VARIANT_NAME_CHARS} \
             fit in a file name with what is added to it",
            name.chars().take(20).collect::<String>()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "the variant name \"{name}\" contains {c:?}: use letters, digits, '-', '_' and '.' only"
        ));
    }
    Ok(())
}
