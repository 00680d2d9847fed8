//! JS numbers arrive as doubles, and napi's own integer conversions coerce them (-1 becomes
//! 4294967295, 1.5 becomes 1, NaN becomes 0). Counts, sizes and timestamps are taken as
//! doubles instead and must be whole numbers in range, or the call fails with
//! `invalid_argument`.

/// The largest integer a double holds exactly.
pub const MAX_SAFE: u64 = (1 << 53) - 1;

pub fn whole(value: f64, what: &str, max: u64) -> faceprint::Result<u64> {
    if !value.is_finite() || value.fract() != 0.0 || value < 0.0 || value > max as f64 {
        return Err(faceprint::Error::InvalidArgument(format!(
            "{what} must be a whole number in 0..={max}, got {value}"
        )));
    }
    Ok(value as u64)
}

pub fn whole_u32(value: f64, what: &str) -> faceprint::Result<u32> {
    whole(value, what, u32::MAX as u64).map(|v| v as u32)
}
