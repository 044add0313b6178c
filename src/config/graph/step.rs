//! A step of a request's path.

use serde::{Deserialize, Serialize};

use super::bounds::{raise, MAX_BRANCHES, MAX_PARALLEL_DEPTH, MAX_PATH_STEPS};
use super::validate::Scope;
use crate::config::rules::{Checked, Rules};

/// One step of a request kind's path. The steps after a `Call` run on the called
/// service's worker (it holds the worker until they answer); the steps of a
/// `Parallel` branch run side by side on the current worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum StepSpec {
    /// Call a service (by name): through its balancer to an instance's queue and worker.
    Call(String),
    /// Read from a database (by name).
    Read(String),
    /// Write to a database (by name).
    Write(String),
    /// Look a key up in a cache (by name); on a miss, read its database and fill it.
    Get(String),
    /// Increment a counter (by name): take the row lock, write in its database, unlock.
    Lock(String),
    /// Publish a message to a queue topic (by name); the step ends when it is stored.
    Produce(String),
    /// Run branches side by side and go on when `wait_for` of them have answered.
    Parallel {
        /// The branches, each a path of steps.
        branches: Vec<Vec<StepSpec>>,
        /// How many answers to wait for.
        #[serde(default)]
        wait_for: WaitFor,
    },
}

/// How many branches of a `Parallel` step must answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitFor {
    /// Every branch (a failed branch fails the step).
    #[default]
    All,
    /// The first `k` to succeed (the step fails once fewer than `k` can still succeed).
    First(u32),
}

impl StepSpec {
    /// The step's name as written: `Call`, `Read`, …, `Parallel`.
    pub fn name(&self) -> &'static str {
        match self {
            StepSpec::Call(_) => "Call",
            StepSpec::Read(_) => "Read",
            StepSpec::Write(_) => "Write",
            StepSpec::Get(_) => "Get",
            StepSpec::Lock(_) => "Lock",
            StepSpec::Produce(_) => "Produce",
            StepSpec::Parallel { .. } => "Parallel",
        }
    }
}

/// Checks the path of a request kind written at `path` (`model.requests.<kind>`): it has
/// steps, the first calls a service (a client reaches the system only through a service's
/// balancer), every name it uses exists, and its size and nesting are bounded.
pub fn validate_path(steps: &[StepSpec], r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
    match steps.first() {
        None => r.fail(
            path,
            "a request kind needs at least one step, e.g. [Call(\"web\"), Read(\"main\")]",
        ),
        Some(StepSpec::Call(_)) => walk(steps, r, path, scope, 0, &mut 0),
        Some(first) => r.fail(
            &format!("{path}.0"),
            format!(
                "the first step must be Call(\"<service>\"): a client reaches the system only \
                 through a service's balancer, found {}(…)",
                first.name()
            ),
        ),
    }
}

/// Checks `steps` at `path`, inside `depth` `Parallel` steps, with `seen` steps of the
/// request kind counted before them.
fn walk(
    steps: &[StepSpec],
    r: &Rules<'_>,
    path: &str,
    scope: &Scope<'_>,
    depth: usize,
    seen: &mut usize,
) -> Checked {
    let m = scope.model;
    for (i, step) in steps.iter().enumerate() {
        let at = format!("{path}.{i}");
        *seen += 1;
        r.bounded(
            &at,
            *seen as u64,
            MAX_PATH_STEPS as u64,
            "the steps of this request kind (those inside Parallel branches included)",
            &format!(
                "a request walks its steps one event at a time; split the path into two request kinds, or {}",
                raise("MAX_PATH_STEPS")
            ),
        )?;
        match step {
            StepSpec::Call(s) => r.known(&at, s, "services", m.services.keys())?,
            StepSpec::Read(d) | StepSpec::Write(d) => {
                r.known(&at, d, "databases", m.databases.keys())?
            }
            StepSpec::Get(c) => r.known(&at, c, "caches", m.caches.keys())?,
            StepSpec::Lock(c) => r.known(&at, c, "counters", m.counters.keys())?,
            StepSpec::Produce(q) => r.known(&at, q, "queues", m.queues.keys())?,
            StepSpec::Parallel { branches, wait_for } => {
                parallel(branches, *wait_for, r, &at, scope, depth + 1, seen)?
            }
        }
    }
    Ok(())
}

/// Checks a `Parallel` step at `path`, the `depth`-th nested one.
fn parallel(
    branches: &[Vec<StepSpec>],
    wait_for: WaitFor,
    r: &Rules<'_>,
    path: &str,
    scope: &Scope<'_>,
    depth: usize,
    seen: &mut usize,
) -> Checked {
    r.bounded(
        path,
        depth as u64,
        MAX_PARALLEL_DEPTH as u64,
        "the nesting of Parallel steps",
        &format!(
            "every level multiplies the branches in flight; flatten the inner Parallel into its parent's branches, or {}",
            raise("MAX_PARALLEL_DEPTH")
        ),
    )?;
    let at = format!("{path}.branches");
    if branches.is_empty() {
        return r.fail(&at, "a Parallel step needs at least one branch");
    }
    r.bounded(
        &at,
        branches.len() as u64,
        MAX_BRANCHES as u64,
        "the branch count",
        &format!(
            "every branch is in flight at once; {}",
            raise("MAX_BRANCHES")
        ),
    )?;
    if let WaitFor::First(k) = wait_for {
        if k == 0 || k as usize > branches.len() {
            return r.fail(
                &format!("{path}.wait_for"),
                format!(
                    "First(k) must wait for 1 to {} branches (the branches written), found {k}",
                    branches.len()
                ),
            );
        }
    }
    for (b, branch) in branches.iter().enumerate() {
        let bp = format!("{at}.{b}");
        if branch.is_empty() {
            return r.fail(&bp, "a branch needs at least one step");
        }
        walk(branch, r, &bp, scope, depth, seen)?;
    }
    Ok(())
}
