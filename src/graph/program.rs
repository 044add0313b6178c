//! Request paths compiled from their written steps into blocks of steps that name
//! components by index: what the path runs.

use crate::config::graph::{StepSpec, WaitFor};
use crate::config::ModelSpec;
use crate::graph::names::Names;
use crate::graph::registry::Kind;

/// One compiled step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Call a service: the rest of the block runs on its worker.
    Call { service: u16 },
    /// A step a component does itself (a read, a write, a cache get, a lock, a publish).
    Component { kind: Kind, index: u16, op: u8 },
    /// Run blocks `first .. first + branches` side by side; go on after `need` succeed.
    Parallel {
        first: u32,
        branches: u16,
        need: u16,
    },
}

/// Every request kind's path.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// The blocks; a kind's path is its root block, and a `Parallel`'s branches are
    /// blocks of their own.
    pub blocks: Vec<Vec<Step>>,
    /// The root block of each request kind (by index in the model's `requests`).
    pub roots: Vec<u32>,
}

impl Program {
    /// Compiles every request kind of `model` (names validated to exist).
    pub fn compile(model: &ModelSpec, names: &Names) -> Program {
        let mut p = Program::default();
        for steps in model.requests.values() {
            let root = p.block(steps, names);
            p.roots.push(root);
        }
        p
    }

    fn block(&mut self, steps: &[StepSpec], names: &Names) -> u32 {
        let id = self.blocks.len() as u32;
        self.blocks.push(Vec::new());
        let mut out = Vec::with_capacity(steps.len());
        for s in steps {
            let c = |kind, index: &u16, op| Step::Component {
                kind,
                index: *index,
                op,
            };
            if let StepSpec::Call(n) = s {
                out.push(Step::Call {
                    service: names.services[n],
                });
                // A service with sessions checks the request's first, on the worker.
                if let Some(&i) = names.sessions.get(n) {
                    out.push(c(
                        Kind::Sessions,
                        &i,
                        crate::graph::components::sessions::CHECK,
                    ));
                }
                continue;
            }
            out.push(match s {
                StepSpec::Call(_) => unreachable!("pushed above"),
                StepSpec::Read(n) => c(Kind::Db, &names.databases[n], 0),
                StepSpec::Write(n) => c(Kind::Db, &names.databases[n], 1),
                StepSpec::Get(n) => c(Kind::Cache, &names.caches[n], 0),
                StepSpec::Lock(n) => c(Kind::Counter, &names.counters[n], 0),
                StepSpec::Produce(n) => c(Kind::Topic, &names.topics[n], 0),
                StepSpec::Parallel { branches, wait_for } => {
                    // Branch blocks are consecutive: compile them after reserving ids.
                    let first = self.blocks.len() as u32;
                    for _ in branches {
                        self.blocks.push(Vec::new());
                    }
                    for (i, b) in branches.iter().enumerate() {
                        let compiled = self.compiled(b, names);
                        self.blocks[first as usize + i] = compiled;
                    }
                    Step::Parallel {
                        first,
                        branches: branches.len() as u16,
                        need: match wait_for {
                            WaitFor::All => branches.len() as u16,
                            WaitFor::First(k) => *k as u16,
                        },
                    }
                }
            });
        }
        self.blocks[id as usize] = out;
        id
    }

    /// A branch's steps, compiling any nested blocks it needs.
    fn compiled(&mut self, steps: &[StepSpec], names: &Names) -> Vec<Step> {
        let id = self.block(steps, names);
        // The branch's own block was pushed at `id`: take its steps; the empty block left
        // behind is never referenced.
        std::mem::take(&mut self.blocks[id as usize])
    }
}
