//! Why a request, a call or a step failed: the reasons the summary, the time series and
//! the claims count each.

/// Why a request (or an attempt) failed; the summary counts each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailReason {
    /// The client gave up waiting.
    Timeout,
    /// A full queue (at a node or downstream) turned it away.
    Rejected,
    /// The node it was sent to was down and refused the connection.
    Refused,
    /// The node answered with an error (an injected failure).
    Error,
    /// The node it was on crashed while it was there.
    Crash,
    /// The balancer had no node to send it to.
    Unavailable,
    /// The client's own adaptive throttle refused to send it.
    Throttled,
    /// The node did not accept the request's session (the user is shown the login page).
    Unauthenticated,
    /// It waited too long for a row lock.
    LockTimeout,
    /// A login with a wrong password.
    LoginFailed,
    /// A login to an account locked after too many failed logins.
    LockedOut,
}

impl FailReason {
    /// Every reason, in the order columns and tables list them.
    pub const ALL: [FailReason; 11] = [
        FailReason::Timeout,
        FailReason::Rejected,
        FailReason::Refused,
        FailReason::Error,
        FailReason::Crash,
        FailReason::Unavailable,
        FailReason::Throttled,
        FailReason::Unauthenticated,
        FailReason::LockTimeout,
        FailReason::LoginFailed,
        FailReason::LockedOut,
    ];

    /// The name used in summaries and CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            FailReason::Timeout => "timeout",
            FailReason::Rejected => "rejected",
            FailReason::Refused => "refused",
            FailReason::Error => "error",
            FailReason::Crash => "crash",
            FailReason::Unavailable => "unavailable",
            FailReason::Throttled => "throttled",
            FailReason::Unauthenticated => "unauthenticated",
            FailReason::LockTimeout => "lock_timeout",
            FailReason::LoginFailed => "login_failed",
            FailReason::LockedOut => "locked_out",
        }
    }

    /// Position in `ALL`, for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}
