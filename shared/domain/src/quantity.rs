//! How many of an item a line holds: 1..=999, so a typo cannot order ten thousand of something.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};

/// A line's quantity, always within `Quantity::MIN..=Quantity::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u16);

impl Quantity {
    /// The least a line may hold.
    pub const MIN: u32 = 1;
    /// The most a line may hold.
    pub const MAX: u32 = 999;

    /// The quantity as a number.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }

    /// The sum of two quantities, or `None` when it would pass `Quantity::MAX`.
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        Quantity::try_from(self.get() + other.get()).ok()
    }
}

impl TryFrom<u32> for Quantity {
    type Error = ValidationError;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        if (Self::MIN..=Self::MAX).contains(&value) {
            // The range check above keeps the value within u16.
            Ok(Self(value as u16))
        } else {
            Err(ValidationError::new(
                "quantity",
                format!("must be between {} and {}", Self::MIN, Self::MAX),
            ))
        }
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ValidationError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u32::try_from(value)
            .map_err(|_| {
                ValidationError::new(
                    "quantity",
                    format!("must be between {} and {}", Self::MIN, Self::MAX),
                )
            })
            .and_then(Quantity::try_from)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_accepts_one_to_nine_hundred_ninety_nine() {
        assert!(Quantity::try_from(0u32).is_err());
        assert_eq!(Quantity::try_from(1u32).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::try_from(999u32).map(Quantity::get), Ok(999));
        assert!(Quantity::try_from(1000u32).is_err());
        assert!(Quantity::try_from(-1i64).is_err());
    }

    #[test]
    fn quantity_error_names_the_limit() {
        let err = Quantity::try_from(0u32).unwrap_err();
        assert!(err.to_string().contains("between 1 and 999"), "{err}");
    }

    #[test]
    fn checked_add_stops_at_the_limit() {
        let q = |n: u32| Quantity::try_from(n).unwrap();
        assert_eq!(q(500).checked_add(q(499)), Some(q(999)));
        assert_eq!(q(500).checked_add(q(500)), None);
    }
}
