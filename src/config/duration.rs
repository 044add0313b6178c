//! Durations written with units in configuration files: "250ms", "2m", "1.5s", "90us".
//!
//! A bare number is refused: a reader should never have to guess whether `5` meant
//! seconds or milliseconds. Fields whose names carry the unit (`rate_per_s`) take numbers.

use crate::engine::SimTime;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A non-negative span of simulated time, parsed from a string with a unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub SimTime);

/// The units a duration may carry, with their length in nanoseconds.
const UNITS: &[(&str, f64)] = &[
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("min", 60e9),
    ("h", 3600e9),
    ("d", 86_400e9),
];

/// The accepted units, as listed in error messages (from [`UNITS`], so never out of step).
fn unit_list() -> String {
    UNITS.iter().map(|(u, _)| *u).collect::<Vec<_>>().join(", ")
}

impl Duration {
    /// Parses "250ms", "2m", "1.5s"; says what was wrong otherwise.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-' || c == '+'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let unit = unit.trim();
        let number: String = number.chars().filter(|&c| c != '_').collect();
        if number.is_empty() {
            return Err(format!(
                "expected a duration such as \"250ms\" or \"2m\", found \"{text}\""
            ));
        }
        let value: f64 = number
            .parse()
            .map_err(|_| format!("\"{text}\" does not start with a number"))?;
        let Some(&(_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                format!("the duration \"{text}\" has no unit: write e.g. \"{text}ms\" or \"{text}s\" (units: {})", unit_list())
            } else {
                format!(
                    "unknown unit \"{unit}\" in duration \"{text}\" (units: {})",
                    unit_list()
                )
            });
        };
        if !value.is_finite() || value < 0.0 {
            return Err(format!(
                "a duration must be finite and not negative, found \"{text}\""
            ));
        }
        let ns = value * scale;
        if ns > 1e18 {
            return Err(format!("the duration \"{text}\" is longer than this simulator can represent (about 30 years)"));
        }
        Ok(Duration(SimTime(ns.round() as u64)))
    }

    /// The duration in nanoseconds.
    pub fn ns(self) -> u64 {
        self.0 .0
    }

    /// The duration in seconds.
    pub fn secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }

    /// Shorthand for tests and built-in defaults.
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(SimTime::from_millis(ms))
    }

    /// Shorthand for tests and built-in defaults.
    pub const fn from_secs(s: u64) -> Duration {
        Duration(SimTime::from_secs(s))
    }
}

impl fmt::Display for Duration {
    /// The shortest exact form: "2m", "250ms", "1500us", "7ns".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.ns();
        for (unit, scale) in [
            ("h", 3_600_000_000_000u64),
            ("m", 60_000_000_000),
            ("s", 1_000_000_000),
            ("ms", 1_000_000),
            ("us", 1_000),
        ] {
            if ns >= scale && ns.is_multiple_of(scale) {
                return write!(f, "{}{}", ns / scale, unit);
            }
        }
        if ns == 0 {
            return write!(f, "0s");
        }
        write!(f, "{ns}ns")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string with a unit, such as \"250ms\" or \"2m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                if v == 0 {
                    Ok(Duration::default())
                } else {
                    Err(E::custom(format!("the duration {v} has no unit: write it as a string such as \"{v}ms\" or \"{v}s\"")))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "the duration {v} has no unit: write it as a string such as \"{v}ms\""
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "the duration {v} has no unit: write it as a string such as \"{v}s\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(Duration::parse("250ms").unwrap().ns(), 250_000_000);
        assert_eq!(Duration::parse("2m").unwrap().ns(), 120_000_000_000);
        assert_eq!(Duration::parse("1.5s").unwrap().ns(), 1_500_000_000);
        assert_eq!(Duration::parse("90us").unwrap().ns(), 90_000);
        assert_eq!(Duration::parse(" 1_000 ms ").unwrap().ns(), 1_000_000_000);
        assert_eq!(Duration::parse("0s").unwrap().ns(), 0);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(Duration::parse("5").unwrap_err().contains("no unit"));
        assert!(Duration::parse("5 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(Duration::parse("-5s").unwrap_err().contains("not negative"));
        // The list of units in the message is every unit that is accepted, `min` included.
        let e = Duration::parse("5 parsecs").unwrap_err();
        for (unit, _) in UNITS {
            assert!(
                e.contains(&format!(" {unit},")) || e.contains(&format!(" {unit})")),
                "{unit}: {e}"
            );
        }
        assert_eq!(
            Duration::parse("5min").unwrap(),
            Duration::parse("5m").unwrap()
        );
        assert!(Duration::parse("ms").is_err());
        assert!(Duration::parse("NaNs").is_err());
        assert!(Duration::parse("1e30h").is_err());
    }

    #[test]
    fn displays_the_shortest_exact_form_and_round_trips() {
        for s in ["2m", "250ms", "1500us", "7ns", "3h", "0s", "90s"] {
            let d = Duration::parse(s).unwrap();
            assert_eq!(d.to_string(), s);
            assert_eq!(Duration::parse(&d.to_string()).unwrap(), d);
        }
    }
}
