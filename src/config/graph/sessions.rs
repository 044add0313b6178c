//! User sessions on a named service of a graph model: where a session lives (the memory
//! of the instance that created it, a named database of the model, or nowhere: a signed
//! token) and the login rules. The legacy single-tier form says the same with a store of
//! its own (`model::SessionsSpec`); here the store is a component of the model, so its
//! reads and writes use that database's workers, queue, connections and replicas.

use serde::{Deserialize, Serialize};

use super::validate::Scope;
use crate::config::model::{LogoutScope, OutagePolicy};
use crate::config::rules::{Checked, Rules};
use crate::config::{DistSpec, Duration};

/// `Sessions(design: Externalized(store: "sessions"), login_service: Exp(mean: "30ms"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Sessions")]
#[serde(deny_unknown_fields)]
pub struct ServiceSessionsSpec {
    /// Where a session lives and how a request's session is checked.
    pub design: ServiceSessionDesign,
    /// Extra instance work for a login (checking a password hash is slow on purpose),
    /// done on the worker after the service's own work.
    #[serde(default)]
    pub login_service: Option<DistSpec>,
    /// What a logout ends: this device's session, or (in a store) every device's.
    #[serde(default)]
    pub logout: LogoutScope,
    /// A login ends the person's sessions on their other devices (single-device login;
    /// needs a store).
    #[serde(default)]
    pub single_device: bool,
    /// The chance that a login attempt has a wrong password (checked on the instance).
    #[serde(default)]
    pub failed_login_share: f64,
    /// Lock the account after this many failed logins in a row; `None`: never.
    #[serde(default)]
    pub lockout_after: Option<u32>,
    /// How long a locked account stays locked.
    #[serde(default = "default_lockout")]
    pub lockout_for: Duration,
}

fn default_lockout() -> Duration {
    Duration::from_secs(900)
}

fn one() -> u32 {
    1
}

/// Where a service's sessions live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ServiceSessionDesign {
    /// In the memory of the instance that created the session: any other instance
    /// rejects it, and a crash of the instance loses it. With a `Sticky` balancer:
    /// sticky sessions.
    InMemory,
    /// In a named database of the model, read on every authenticated request and written
    /// at every login and logout.
    Externalized {
        /// The database (a name in `databases`) that holds the sessions.
        store: String,
        /// What an instance does when the store cannot answer.
        #[serde(default)]
        on_outage: OutagePolicy,
        /// Writes in a login's transaction, done one after the other on the store.
        #[serde(default = "one")]
        writes_per_login: u32,
    },
    /// A signed token, verified on the instance with no lookup; valid until it expires.
    /// A logout cannot revoke it unless instances check a revocation list.
    SignedToken {
        /// How long a token is valid after login.
        ttl: Duration,
        /// The database (a name in `databases`) holding the revocation list, when
        /// instances check it (a read per authenticated request, a write per logout).
        #[serde(default)]
        revocation_list: Option<String>,
    },
}

/// The most writes a login's transaction may have (each is a database query in turn).
pub const MAX_WRITES_PER_LOGIN: u32 = 100;

impl ServiceSessionDesign {
    /// The database the design reads and writes, if it has one.
    pub fn store(&self) -> Option<&str> {
        match self {
            ServiceSessionDesign::InMemory => None,
            ServiceSessionDesign::Externalized { store, .. } => Some(store),
            ServiceSessionDesign::SignedToken {
                revocation_list, ..
            } => revocation_list.as_deref(),
        }
    }
}

impl ServiceSessionsSpec {
    /// Checks the sessions written at `path` (`model.services.<name>.sessions`): the store
    /// names a database of the model, shares are shares, and the rules that need a store
    /// have one.
    pub fn validate(&self, r: &Rules<'_>, path: &str, scope: &Scope<'_>) -> Checked {
        let at = |f: &str| format!("{path}.{f}");
        match &self.design {
            ServiceSessionDesign::InMemory => {}
            ServiceSessionDesign::Externalized {
                store,
                writes_per_login,
                ..
            } => {
                store_rule(r, &at("design.store"), store, scope)?;
                if *writes_per_login == 0 || *writes_per_login > MAX_WRITES_PER_LOGIN {
                    return r.fail(
                        &at("design.writes_per_login"),
                        format!(
                            "must be between 1 and {MAX_WRITES_PER_LOGIN} (each is a query in \
                             turn), found {writes_per_login}"
                        ),
                    );
                }
            }
            ServiceSessionDesign::SignedToken {
                ttl,
                revocation_list,
            } => {
                r.nonzero(&at("design.ttl"), *ttl)?;
                if let Some(db) = revocation_list {
                    store_rule(r, &at("design.revocation_list"), db, scope)?;
                }
            }
        }
        if let Some(d) = &self.login_service {
            r.dist(&at("login_service"), d)?;
        }
        let share = self.failed_login_share;
        if !share.is_finite() || !(0.0..=1.0).contains(&share) {
            return r.fail(
                &at("failed_login_share"),
                format!("must be between 0 and 1, found {share}"),
            );
        }
        if self.lockout_after == Some(0) {
            return r.fail(&at("lockout_after"), "must be at least 1 (or None: never)");
        }
        r.nonzero(&at("lockout_for"), self.lockout_for)?;
        let externalized = matches!(self.design, ServiceSessionDesign::Externalized { .. });
        if self.single_device && !externalized {
            return r.fail(
                &at("single_device"),
                "single-device login needs sessions in a store (design: Externalized) to end \
                 the other devices' sessions",
            );
        }
        if self.logout == LogoutScope::AllDevices && !externalized {
            return r.fail(
                &at("logout"),
                "AllDevices needs sessions in a store (design: Externalized) to delete every \
                 device's session",
            );
        }
        Ok(())
    }
}

/// A session store named at `path`: a database of the model (a cache cannot hold them).
fn store_rule(r: &Rules<'_>, path: &str, name: &str, scope: &Scope<'_>) -> Checked {
    if scope.model.caches.contains_key(name) {
        return r.fail(
            path,
            format!(
                "`{name}` is a cache: sessions need a database that keeps what is written \
                 (a cache may evict or be flushed); name one of the `databases`"
            ),
        );
    }
    r.known(path, name, "databases", scope.model.databases.keys())
}
