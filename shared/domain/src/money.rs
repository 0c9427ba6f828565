//! Money as integer minor units (cents) with a currency: never floating point.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 code: three uppercase ASCII letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The currency of new carts unless a caller names another.
    pub const DEFAULT: Currency = Currency(*b"EUR");

    /// Parses a three-letter uppercase code such as `EUR`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(ValidationError::new(
                "currency",
                "must be a three-letter ISO 4217 code such as EUR",
            )),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase letters get in through `parse`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units of its currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (cents for EUR).
    pub minor: i64,
    /// The currency of `minor`.
    pub currency: Currency,
}

impl Money {
    /// `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// This amount times `factor`, saturating rather than wrapping on absurd inputs.
    pub fn times(self, factor: u32) -> Money {
        Money::new(self.minor.saturating_mul(i64::from(factor)), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_must_be_three_uppercase_letters() {
        assert_eq!(
            Currency::parse("USD").map(|c| c.to_string()),
            Ok("USD".to_owned())
        );
        for bad in ["usd", "US", "EURO", "E1R"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_multiplies_minor_units() {
        assert_eq!(Money::new(250, Currency::DEFAULT).times(3).minor, 750);
    }
}
