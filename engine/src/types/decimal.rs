//! Spark's `DECIMAL(p,s)`: a value is an `i128` unscaled integer and its type's scale (`1.50` in a
//! `DECIMAL(10,2)` is 150). Arithmetic follows `org.apache.spark.sql.types.Decimal` step for step:
//! an exact sum or remainder, a product or quotient first rounded to 38 significant digits, then
//! the result rounded HALF_UP to its type's scale and refused (`NUMERIC_VALUE_OUT_OF_RANGE`) when
//! it needs more digits than the type's precision. Intermediate values can need 77 digits (a
//! `DECIMAL(38,0)` rescaled by 10^38), so they are held as a sign and a 256-bit magnitude, here by
//! hand rather than through a big-number crate (the wasm bundle pays for every crate).

use std::cmp::Ordering;

/// The largest precision (and scale) Spark's DECIMAL has.
pub const MAX_PRECISION: u8 = 38;
/// Spark's `DecimalType.MINIMUM_ADJUSTED_SCALE`: the scale a result keeps at least when its
/// precision is cut to 38 (`spark.sql.decimalOperations.allowPrecisionLoss=true`).
const MINIMUM_ADJUSTED_SCALE: i32 = 6;

/// `10^n` for `n <= 38`.
pub fn pow10(n: u32) -> i128 {
    10i128.pow(n.min(38))
}

/// How a scale reduction rounds (Java's `RoundingMode`s Spark uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    HalfUp,
    HalfEven,
    Ceiling,
    Floor,
    /// Towards zero (casts to integers).
    Down,
}

/// An unsigned 256-bit integer, as two halves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
struct U256 {
    hi: u128,
    lo: u128,
}

impl U256 {
    const ZERO: U256 = U256 { hi: 0, lo: 0 };

    fn from_u128(v: u128) -> U256 {
        U256 { hi: 0, lo: v }
    }

    fn is_zero(self) -> bool {
        self.hi == 0 && self.lo == 0
    }

    /// `a * b`, exact.
    fn mul_u128(a: u128, b: u128) -> U256 {
        let (a1, a0) = (a >> 64, a & u128::from(u64::MAX));
        let (b1, b0) = (b >> 64, b & u128::from(u64::MAX));
        let p00 = a0 * b0;
        let p01 = a0 * b1;
        let p10 = a1 * b0;
        let p11 = a1 * b1;
        let mid = (p00 >> 64) + (p01 & u128::from(u64::MAX)) + (p10 & u128::from(u64::MAX));
        let lo = (p00 & u128::from(u64::MAX)) | (mid << 64);
        let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        U256 { hi, lo }
    }

    /// `self * m`, or None past 256 bits.
    fn checked_mul(self, m: u128) -> Option<U256> {
        let low = U256::mul_u128(self.lo, m);
        let high = U256::mul_u128(self.hi, m);
        if high.hi != 0 {
            return None;
        }
        let hi = low.hi.checked_add(high.lo)?;
        Some(U256 { hi, lo: low.lo })
    }

    fn checked_add(self, o: U256) -> Option<U256> {
        let (lo, carry) = self.lo.overflowing_add(o.lo);
        let hi = self.hi.checked_add(o.hi)?.checked_add(u128::from(carry))?;
        Some(U256 { hi, lo })
    }

    /// `self - o` for `self >= o`.
    fn sub(self, o: U256) -> U256 {
        let (lo, borrow) = self.lo.overflowing_sub(o.lo);
        U256 { hi: self.hi.wrapping_sub(o.hi).wrapping_sub(u128::from(borrow)), lo }
    }

    fn bit(self, i: u32) -> u128 {
        if i >= 128 {
            (self.hi >> (i - 128)) & 1
        } else {
            (self.lo >> i) & 1
        }
    }

    fn shl1(self) -> U256 {
        U256 { hi: (self.hi << 1) | (self.lo >> 127), lo: self.lo << 1 }
    }

    /// Quotient and remainder (`d` not zero).
    fn divrem(self, d: U256) -> (U256, U256) {
        if self.hi == 0 && d.hi == 0 {
            return (U256::from_u128(self.lo / d.lo), U256::from_u128(self.lo % d.lo));
        }
        if self < d {
            return (U256::ZERO, self);
        }
        let (mut q, mut r) = (U256::ZERO, U256::ZERO);
        let top = 256 - if self.hi != 0 { self.hi.leading_zeros() } else { 128 + self.lo.leading_zeros() };
        for i in (0..top).rev() {
            // The values here stay below 10^77 < 2^256, so the shift never loses a bit.
            r = r.shl1();
            r.lo |= self.bit(i);
            if r >= d {
                r = r.sub(d);
                if i >= 128 {
                    q.hi |= 1 << (i - 128);
                } else {
                    q.lo |= 1 << i;
                }
            }
        }
        (q, r)
    }

    /// The number of decimal digits (0 has none).
    fn digits(self) -> u32 {
        if self.hi == 0 {
            return if self.lo == 0 { 0 } else { self.lo.ilog10() + 1 };
        }
        let mut n = 0;
        let mut v = self;
        let big = U256::from_u128(pow10(38) as u128);
        while v.hi != 0 {
            v = v.divrem(big).0;
            n += 38;
        }
        n + if v.lo == 0 { 0 } else { v.lo.ilog10() + 1 }
    }

    fn to_decimal_string(self) -> String {
        if self.hi == 0 {
            return self.lo.to_string();
        }
        let big = U256::from_u128(pow10(38) as u128);
        let (q, r) = self.divrem(big);
        format!("{}{:038}", q.to_decimal_string(), r.lo)
    }
}

/// A signed intermediate: a sign and a 256-bit magnitude, with a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wide {
    neg: bool,
    mag: U256,
    scale: i32,
}

impl Wide {
    pub fn new(unscaled: i128, scale: i32) -> Wide {
        Wide { neg: unscaled < 0, mag: U256::from_u128(unscaled.unsigned_abs()), scale }
    }

    fn is_zero(&self) -> bool {
        self.mag.is_zero()
    }

    /// The same value at a larger scale (None past 256 bits).
    fn upscale(self, to: i32) -> Option<Wide> {
        let mut w = self;
        while w.scale < to {
            let k = (to - w.scale).min(38);
            w.mag = w.mag.checked_mul(pow10(k as u32) as u128)?;
            w.scale += k;
        }
        Some(w)
    }

    /// The value rounded to scale `to` (any scale, negative ones too).
    pub fn rescale(self, to: i32, mode: Rounding) -> Option<Wide> {
        if to >= self.scale {
            return self.upscale(to);
        }
        let drop = (self.scale - to) as u32;
        let mut q = self.mag;
        let mut sticky = false;
        // Drop all but the last digit, noting whether anything non-zero went.
        let mut left = drop - 1;
        while left > 0 {
            let k = left.min(38);
            let (nq, r) = q.divrem(U256::from_u128(pow10(k) as u128));
            sticky |= !r.is_zero();
            q = nq;
            left -= k;
        }
        let (nq, r) = q.divrem(U256::from_u128(10));
        let last = r.lo;
        q = nq;
        let up = match mode {
            Rounding::HalfUp => last >= 5,
            Rounding::HalfEven => last > 5 || (last == 5 && (sticky || q.lo & 1 == 1)),
            Rounding::Ceiling => !self.neg && (last > 0 || sticky),
            Rounding::Floor => self.neg && (last > 0 || sticky),
            Rounding::Down => false,
        };
        if up {
            q = q.checked_add(U256::from_u128(1))?;
        }
        Some(Wide { neg: self.neg && !q.is_zero(), mag: q, scale: to })
    }

    fn add(self, o: Wide) -> Option<Wide> {
        let s = self.scale.max(o.scale);
        let (a, b) = (self.upscale(s)?, o.upscale(s)?);
        Some(if a.neg == b.neg {
            Wide { neg: a.neg, mag: a.mag.checked_add(b.mag)?, scale: s }
        } else if a.mag >= b.mag {
            let mag = a.mag.sub(b.mag);
            Wide { neg: a.neg && !mag.is_zero(), mag, scale: s }
        } else {
            Wide { neg: b.neg, mag: b.mag.sub(a.mag), scale: s }
        })
    }

    fn negate(self) -> Wide {
        Wide { neg: !self.neg && !self.is_zero(), ..self }
    }

    /// Rounded to 38 significant digits, HALF_UP: Spark's `MathContext` for `*` and `/`.
    fn to_38_digits(self) -> Option<Wide> {
        let d = self.mag.digits();
        if d <= u32::from(MAX_PRECISION) {
            return Some(self);
        }
        let w = self.rescale(self.scale - (d - u32::from(MAX_PRECISION)) as i32, Rounding::HalfUp)?;
        // A carry (99..9 -> 100..0) makes 39 digits; one more step drops the zero.
        if w.mag.digits() > u32::from(MAX_PRECISION) {
            return w.rescale(w.scale - 1, Rounding::HalfUp);
        }
        Some(w)
    }

    /// The unscaled value at scale `s` when it has at most `p` digits, rounding HALF_UP.
    pub fn fit(self, p: u8, s: u8) -> Option<i128> {
        let w = self.rescale(i32::from(s), Rounding::HalfUp)?;
        if w.mag.hi != 0 || w.mag.lo >= pow10(u32::from(p)) as u128 {
            return None;
        }
        let v = w.mag.lo as i128;
        Some(if w.neg { -v } else { v })
    }

    /// The value as Java's `BigDecimal.toPlainString` writes it (Spark's error messages).
    pub fn plain(&self) -> String {
        let digits = self.mag.to_decimal_string();
        plain_from_digits(self.neg, &digits, -self.scale)
    }
}

/// `digits × 10^exp` written out without an exponent, keeping the scale's trailing zeros.
fn plain_from_digits(neg: bool, digits: &str, exp: i32) -> String {
    let sign = if neg { "-" } else { "" };
    if exp >= 0 {
        let zeros = if digits == "0" { String::new() } else { "0".repeat(exp as usize) };
        return format!("{sign}{digits}{zeros}");
    }
    let scale = (-exp) as usize;
    let padded = if digits.len() <= scale { format!("{}{digits}", "0".repeat(scale + 1 - digits.len())) } else { digits.to_string() };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// A decimal's text as `CAST(d AS STRING)` gives it: `1.50`, `-0.05`, `0.00`.
pub fn format(unscaled: i128, scale: u8) -> String {
    plain_from_digits(unscaled < 0, &unscaled.unsigned_abs().to_string(), -i32::from(scale))
}

/// Why a value is not a `DECIMAL(p,s)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotDecimal {
    /// Not a number at all (`CAST_INVALID_INPUT`).
    Malformed,
    /// More than 38 integral digits (`NUMERIC_OUT_OF_SUPPORTED_RANGE`).
    Unsupported,
    /// Too many digits for the precision (`NUMERIC_VALUE_OUT_OF_RANGE`); the value as Spark shows it.
    OutOfRange(String),
}

/// A number's text parsed as Java's `BigDecimal(String)` reads it (after Spark trims it): a
/// sign, digits with at most one point, an optional exponent. `digits × 10^exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    neg: bool,
    /// Without leading zeros ("0" for zero).
    digits: String,
    exp: i64,
}

impl Parsed {
    pub fn read(text: &str) -> Option<Parsed> {
        let t = text.trim_matches(|c: char| c <= ' ');
        let (neg, t) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(k) => (&t[..k], Some(&t[k + 1..])),
            None => (t, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let body = e.strip_prefix('+').unwrap_or(e);
                let digits = body.strip_prefix('-').unwrap_or(body);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 10 {
                    return None;
                }
                body.parse().ok()?
            }
        };
        exp -= frac.len() as i64;
        let all = format!("{int}{frac}");
        let trimmed = all.trim_start_matches('0');
        let digits = if trimmed.is_empty() { "0".to_string() } else { trimmed.to_string() };
        Some(Parsed { neg: neg && digits != "0", digits, exp })
    }

    /// The shortest text of a double (Java's `Double.toString` digits, which Spark's
    /// `Decimal(double)` reads); None for NaN and the infinities.
    pub fn from_double(d: f64) -> Option<Parsed> {
        if !d.is_finite() {
            return None;
        }
        Parsed::read(&format!("{d:e}"))
    }

    /// The number of digits before the point.
    fn integral_digits(&self) -> i64 {
        if self.digits == "0" {
            return 1;
        }
        self.digits.len() as i64 + self.exp
    }

    /// The value as Spark's messages show it (`BigDecimal.toPlainString`).
    pub fn plain(&self) -> String {
        let exp = self.exp.clamp(-10_000, 10_000) as i32;
        plain_from_digits(self.neg, &self.digits, exp)
    }

    /// The unscaled value at `DECIMAL(p,s)`, rounded HALF_UP.
    pub fn to_decimal(&self, p: u8, s: u8) -> Result<i128, NotDecimal> {
        if self.integral_digits() > i64::from(MAX_PRECISION) {
            return Err(NotDecimal::Unsupported);
        }
        let shift = self.exp + i64::from(s);
        let out_of_range = || NotDecimal::OutOfRange(self.plain());
        let (kept, up) = if shift >= 0 {
            if self.digits == "0" {
                ("0".to_string(), false)
            } else {
                (format!("{}{}", self.digits, "0".repeat(shift as usize)), false)
            }
        } else {
            let drop = (-shift) as usize;
            if drop > self.digits.len() {
                ("0".to_string(), false)
            } else {
                let (k, d) = self.digits.split_at(self.digits.len() - drop);
                (if k.is_empty() { "0".to_string() } else { k.to_string() }, d.as_bytes()[0] >= b'5')
            }
        };
        if kept.len() > usize::from(p) + 1 {
            return Err(out_of_range());
        }
        let mut v: i128 = kept.parse().map_err(|_| out_of_range())?;
        if up {
            v += 1;
        }
        if v >= pow10(u32::from(p)) {
            return Err(out_of_range());
        }
        Ok(if self.neg { -v } else { v })
    }
}

/// The arithmetic operators on decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
}

/// Spark's `DecimalType.adjustPrecisionScale` with precision loss allowed.
fn adjust(p: i32, s: i32) -> (u8, u8) {
    let max = i32::from(MAX_PRECISION);
    if p <= max {
        return (p as u8, s as u8);
    }
    let int_digits = p - s;
    let min_scale = s.min(MINIMUM_ADJUSTED_SCALE);
    let scale = (max - int_digits).max(min_scale);
    (MAX_PRECISION, scale as u8)
}

/// The type of `DECIMAL(p1,s1) op DECIMAL(p2,s2)` (Spark's DecimalPrecision rules with
/// `spark.sql.decimalOperations.allowPrecisionLoss=true`).
pub fn result_type(op: Op, (p1, s1): (u8, u8), (p2, s2): (u8, u8)) -> (u8, u8) {
    let (p1, s1, p2, s2) = (i32::from(p1), i32::from(s1), i32::from(p2), i32::from(s2));
    match op {
        Op::Add | Op::Subtract => {
            let s = s1.max(s2);
            adjust((p1 - s1).max(p2 - s2) + s + 1, s)
        }
        Op::Multiply => adjust(p1 + p2 + 1, s1 + s2),
        Op::Divide => {
            let s = MINIMUM_ADJUSTED_SCALE.max(s1 + p2 + 1);
            adjust(p1 - s1 + s2 + s, s)
        }
        Op::Remainder => {
            let s = s1.max(s2);
            adjust((p1 - s1).min(p2 - s2) + s, s)
        }
    }
}

/// The decimal type two decimals meet at in a comparison, CASE, COALESCE or UNION (Spark's
/// `widerDecimalType`, bounded at 38 digits).
pub fn wider((p1, s1): (u8, u8), (p2, s2): (u8, u8)) -> (u8, u8) {
    let s = s1.max(s2);
    let range = (p1 - s1).max(p2 - s2);
    ((range + s).min(MAX_PRECISION), s.min(MAX_PRECISION))
}

/// The decimal type an integral type converts to (`DecimalType.forType`): INT 10 digits, BIGINT 20.
pub fn for_integral(bigint: bool) -> (u8, u8) {
    if bigint {
        (20, 0)
    } else {
        (10, 0)
    }
}

/// The narrowest decimal type of an integer literal (`DecimalType.fromLiteral`).
pub fn for_literal(v: i64) -> (u8, u8) {
    ((v.unsigned_abs().checked_ilog10().unwrap_or(0) + 1) as u8, 0)
}

/// Why an arithmetic result is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArithError {
    /// `/` or `%` by zero.
    DivideByZero,
    /// The result does not fit its type; the value as Spark shows it.
    Overflow(String),
}

/// `a op b` for `a` at scale `s1`, `b` at scale `s2`, as a value of `DECIMAL(p,s)`.
pub fn arith(op: Op, a: i128, s1: u8, b: i128, s2: u8, (p, s): (u8, u8)) -> Result<i128, ArithError> {
    let (x, y) = (Wide::new(a, i32::from(s1)), Wide::new(b, i32::from(s2)));
    let overflow_of = |w: &Wide| ArithError::Overflow(w.plain());
    let exact = match op {
        Op::Add => x.add(y),
        Op::Subtract => x.add(y.negate()),
        Op::Multiply => {
            Some(Wide { neg: x.neg != y.neg, mag: U256::mul_u128(a.unsigned_abs(), b.unsigned_abs()), scale: x.scale + y.scale })
                .map(|w| Wide { neg: w.neg && !w.is_zero(), ..w })
                .and_then(Wide::to_38_digits)
        }
        Op::Divide => {
            if b == 0 {
                return Err(ArithError::DivideByZero);
            }
            divide(a, s1, b, s2)
        }
        Op::Remainder => {
            if b == 0 {
                return Err(ArithError::DivideByZero);
            }
            let m = x.scale.max(y.scale);
            match (x.upscale(m), y.upscale(m)) {
                (Some(xa), Some(yb)) => {
                    let r = xa.mag.divrem(yb.mag).1;
                    Some(Wide { neg: xa.neg && !r.is_zero(), mag: r, scale: m })
                }
                _ => None,
            }
        }
    };
    let exact = exact.ok_or_else(|| ArithError::Overflow("a value past 10^76".into()))?;
    exact.fit(p, s).ok_or_else(|| overflow_of(&exact))
}

/// `a / b` rounded to 38 significant digits, HALF_UP (Java's `BigDecimal.divide(b, MathContext(38))`).
fn divide(a: i128, s1: u8, b: i128, s2: u8) -> Option<Wide> {
    let neg = (a < 0) != (b < 0);
    let (ua, ub) = (a.unsigned_abs(), b.unsigned_abs());
    let d = U256::from_u128(ub);
    let mut n = U256::from_u128(ua / ub);
    let mut r = U256::from_u128(ua % ub);
    let mut frac = 0i32;
    // Digits until 39 significant ones (one past what is kept, which is all HALF_UP looks at)
    // or the division is exact.
    while !r.is_zero() && n.digits() < u32::from(MAX_PRECISION) + 1 {
        let (digit, rest) = r.checked_mul(10)?.divrem(d);
        n = n.checked_mul(10)?.checked_add(digit)?;
        r = rest;
        frac += 1;
    }
    let w = Wide { neg: neg && !n.is_zero(), mag: n, scale: frac + i32::from(s1) - i32::from(s2) };
    w.to_38_digits()
}

/// `a div b` (Spark's `IntegralDivide` of decimals, `BigDecimal.divideToIntegralValue`): the
/// quotient truncated towards zero, None when it does not fit a BIGINT.
pub fn quot(a: i128, s1: u8, b: i128, s2: u8) -> Result<Option<i64>, ArithError> {
    if b == 0 {
        return Err(ArithError::DivideByZero);
    }
    let m = i32::from(s1.max(s2));
    let (Some(x), Some(y)) = (Wide::new(a, i32::from(s1)).upscale(m), Wide::new(b, i32::from(s2)).upscale(m)) else { return Ok(None) };
    let q = x.mag.divrem(y.mag).0;
    if q.hi != 0 || q.lo > i64::MAX as u128 + u128::from(x.neg != y.neg) {
        return Ok(None);
    }
    let v = q.lo as i128;
    Ok(i64::try_from(if x.neg != y.neg { -v } else { v }).ok())
}

/// `CAST(d AS INT/BIGINT)`: the integral part (towards zero), when it fits in `[lo, hi]`.
pub fn to_integral(unscaled: i128, scale: u8, lo: i128, hi: i128) -> Option<i128> {
    let v = unscaled / pow10(u32::from(scale));
    (lo..=hi).contains(&v).then_some(v)
}

/// `CAST(d AS DOUBLE)`: the nearest double, as Java's `BigDecimal.doubleValue`.
pub fn to_double(unscaled: i128, scale: u8) -> f64 {
    format!("{unscaled}e-{scale}").parse().unwrap_or(f64::NAN)
}

/// Rounds `unscaled` (at `scale`) to `digits` places (negative: to tens, hundreds, ...) with
/// `mode`, as a value of `DECIMAL(p, s)`: `round`, `bround`, `ceil`, `floor`.
pub fn round(unscaled: i128, scale: u8, digits: i32, mode: Rounding, (p, s): (u8, u8)) -> Result<i128, ArithError> {
    let w = Wide::new(unscaled, i32::from(scale));
    let rounded = if digits < i32::from(scale) { w.rescale(digits, mode) } else { Some(w) };
    let rounded = rounded.ok_or_else(|| ArithError::Overflow(w.plain()))?;
    rounded.fit(p, s).ok_or_else(|| ArithError::Overflow(rounded.plain()))
}

/// The type `round(d, digits)` (and `bround`, `ceil(d, digits)`, `floor(d, digits)`) gives a
/// `DECIMAL(p,s)` (Spark's `RoundBase`).
pub fn round_type((p, s): (u8, u8), digits: i32) -> (u8, u8) {
    let integral = i32::from(p) - i32::from(s) + 1;
    let max = i32::from(MAX_PRECISION);
    if digits < 0 {
        (integral.max(-digits + 1).min(max) as u8, 0)
    } else {
        let scale = i32::from(s).min(digits);
        ((integral + scale).min(max) as u8, scale as u8)
    }
}

/// Compares two decimals at their scales.
pub fn compare(a: i128, s1: u8, b: i128, s2: u8) -> Ordering {
    if s1 == s2 {
        return a.cmp(&b);
    }
    let d = Wide::new(a, i32::from(s1)).add(Wide::new(b, i32::from(s2)).negate());
    match d {
        Some(w) if w.is_zero() => Ordering::Equal,
        Some(w) if w.neg => Ordering::Less,
        Some(_) => Ordering::Greater,
        None => Ordering::Equal,
    }
}

/// Java's `BigInteger.toByteArray`: big-endian two's complement in as few bytes as hold the sign.
pub fn big_integer_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn parse(text: &str, p: u8, s: u8) -> Result<i128, NotDecimal> {
        Parsed::read(text).ok_or(NotDecimal::Malformed)?.to_decimal(p, s)
    }

    #[test]
    fn decimal_text_parses_and_rounds_half_up_as_spark_casts_it() {
        assert_eq!(parse("1.555", 10, 2), Ok(156));
        assert_eq!(parse("-1.555", 10, 2), Ok(-156));
        assert_eq!(parse(" 1.5 ", 10, 2), Ok(150));
        assert_eq!(parse("1e3", 10, 0), Ok(1000));
        assert_eq!(parse(".5", 3, 2), Ok(50));
        assert_eq!(parse("+5.", 3, 0), Ok(5));
        assert_eq!(parse("0.004", 3, 2), Ok(0));
        assert_eq!(parse("123456.7", 5, 2), Err(NotDecimal::OutOfRange("123456.7".into())));
        assert_eq!(parse("1e400", 10, 2), Err(NotDecimal::Unsupported));
        assert_eq!(parse("99.995", 4, 2), Err(NotDecimal::OutOfRange("99.995".into())), "rounding up may overflow");
        for bad in ["", ".", "abc", "1e", "e3", "1.2.3", "NaN", "1 2", "--1"] {
            assert_eq!(parse(bad, 10, 2), Err(NotDecimal::Malformed), "{bad}");
        }
        assert_eq!(Parsed::from_double(1.005).unwrap().to_decimal(10, 2), Ok(101));
        assert_eq!(Parsed::from_double(1e10).unwrap().plain(), "10000000000");
        assert_eq!(Parsed::from_double(0.1).unwrap().to_decimal(38, 30), Ok(pow10(29)));
        assert_eq!(Parsed::from_double(f64::NAN), None);
    }

    #[test]
    fn decimals_print_with_their_scale() {
        assert_eq!(format(150, 2), "1.50");
        assert_eq!(format(0, 2), "0.00");
        assert_eq!(format(-5, 2), "-0.05");
        assert_eq!(format(7, 0), "7");
        assert_eq!(format(pow10(37), 37), "1.0000000000000000000000000000000000000");
        assert_eq!(format(1_000_000_000, 20), "0.00000000001000000000");
    }

    #[test]
    fn result_types_follow_spark() {
        // Each pair below is what Spark 4.3 says `typeof` is.
        assert_eq!(result_type(Op::Add, (10, 2), (5, 3)), (12, 3));
        assert_eq!(result_type(Op::Multiply, (10, 2), (5, 3)), (16, 5));
        assert_eq!(result_type(Op::Divide, (10, 2), (5, 3)), (19, 8));
        assert_eq!(result_type(Op::Remainder, (10, 2), (5, 3)), (5, 3));
        assert_eq!(result_type(Op::Multiply, (38, 10), (38, 10)), (38, 6));
        assert_eq!(result_type(Op::Divide, (38, 10), (38, 10)), (38, 6));
        assert_eq!(result_type(Op::Add, (38, 2), (38, 10)), (38, 6));
        assert_eq!(result_type(Op::Divide, (10, 2), (1, 0)), (14, 6));
        assert_eq!(result_type(Op::Remainder, (10, 2), (1, 0)), (3, 2));
        assert_eq!(wider((10, 2), (5, 3)), (11, 3));
        assert_eq!(wider((10, 2), (20, 0)), (22, 2));
        assert_eq!(for_literal(-7), (1, 0));
        assert_eq!(for_literal(100), (3, 0));
        assert_eq!(round_type((10, 2), 0), (9, 0));
        assert_eq!(round_type((10, 2), 1), (10, 1));
        assert_eq!(round_type((10, 2), 5), (11, 2));
        assert_eq!(round_type((10, 2), -1), (9, 0));
    }

    #[test]
    fn arithmetic_gives_spark_values() {
        let t = result_type(Op::Divide, (10, 2), (10, 2));
        assert_eq!(t, (23, 13));
        assert_eq!(arith(Op::Divide, 100, 2, 300, 2, t).map(|v| format(v, t.1)), Ok("0.3333333333333".into()));
        assert_eq!(arith(Op::Divide, -200, 2, 300, 2, t).map(|v| format(v, t.1)), Ok("-0.6666666666667".into()));
        assert_eq!(arith(Op::Divide, 1, 0, 0, 0, t), Err(ArithError::DivideByZero));
        let t = result_type(Op::Divide, (38, 10), (38, 10));
        assert_eq!(arith(Op::Divide, pow10(10), 10, 3 * pow10(10), 10, t).map(|v| format(v, t.1)), Ok("0.333333".into()));
        let t = result_type(Op::Multiply, (38, 18), (38, 18));
        let x = 1_123_456_789 * pow10(9);
        assert_eq!(arith(Op::Multiply, x, 18, x, 18, t).map(|v| format(v, t.1)), Ok("1.262155".into()));
        // 100 * 100 at scale 18 needs more than 128 bits on the way.
        assert_eq!(arith(Op::Multiply, 100 * pow10(18), 18, 100 * pow10(18), 18, t).map(|v| format(v, t.1)), Ok("10000.000000".into()));
        let t = result_type(Op::Multiply, (38, 0), (3, 0));
        let big = pow10(37) - 1;
        assert_eq!(arith(Op::Multiply, big, 0, 100, 0, t), Err(ArithError::Overflow("999999999999999999999999999999999999900".into())));
        let t = result_type(Op::Add, (10, 2), (10, 2));
        assert_eq!(arith(Op::Add, 9_999_999_999, 2, 9_999_999_999, 2, t).map(|v| format(v, t.1)), Ok("199999999.98".into()));
        let t = result_type(Op::Remainder, (10, 2), (10, 1));
        assert_eq!(arith(Op::Remainder, 750, 2, 20, 1, t).map(|v| format(v, t.1)), Ok("1.50".into()));
        assert_eq!(arith(Op::Remainder, -750, 2, 20, 1, t).map(|v| format(v, t.1)), Ok("-1.50".into()));
        let t = result_type(Op::Add, (38, 2), (38, 10));
        assert_eq!(arith(Op::Add, pow10(33), 2, 5, 10, t).map(|v| format(v, t.1)), Ok(format!("1{}.000000", "0".repeat(31))));
        assert_eq!(arith(Op::Add, pow10(37), 2, 5, 10, t), Err(ArithError::Overflow(format!("1{}.0000000005", "0".repeat(35)))));
        let t = result_type(Op::Subtract, (10, 2), (5, 3));
        assert_eq!(arith(Op::Subtract, 100, 2, 1500, 3, t), Ok(-500));
    }

    #[test]
    fn rounding_modes_and_comparisons() {
        assert_eq!(round(250, 2, 0, Rounding::HalfUp, (9, 0)), Ok(3));
        assert_eq!(round(-250, 2, 0, Rounding::HalfUp, (9, 0)), Ok(-3));
        assert_eq!(round(250, 2, 0, Rounding::HalfEven, (9, 0)), Ok(2));
        assert_eq!(round(125, 2, 1, Rounding::HalfEven, (10, 1)), Ok(12));
        assert_eq!(round(12500, 2, -1, Rounding::HalfUp, (9, 0)), Ok(130));
        assert_eq!(round(-125, 2, 0, Rounding::Ceiling, (9, 0)), Ok(-1));
        assert_eq!(round(-125, 2, 0, Rounding::Floor, (9, 0)), Ok(-2));
        assert_eq!(round(121, 2, 1, Rounding::Ceiling, (10, 1)), Ok(13));
        assert_eq!(round(12500, 2, -1, Rounding::Floor, (9, 0)), Ok(120));
        assert_eq!(round(125, 2, 5, Rounding::HalfUp, (11, 2)), Ok(125));
        assert_eq!(compare(150, 2, 1500, 3), Ordering::Equal);
        assert_eq!(compare(-1, 0, 5, 3), Ordering::Less);
        assert_eq!(compare(pow10(37), 0, pow10(37), 38), Ordering::Greater);
        assert_eq!(to_integral(-1299, 2, i32::MIN.into(), i32::MAX.into()), Some(-12));
        assert_eq!(to_integral(pow10(20), 0, i64::MIN.into(), i64::MAX.into()), None);
        assert_eq!(to_double(1299, 2), 12.99);
        assert_eq!(quot(100, 2, 3, 1), Ok(Some(3)), "1.00 div 0.3 is 3 in Spark");
        assert_eq!(quot(-25, 1, 1, 0), Ok(Some(-2)), "-2.5 div 1 is -2 in Spark");
        assert_eq!(quot(1, 0, 0, 0), Err(ArithError::DivideByZero));
        assert_eq!(quot(pow10(37), 0, 1, 0), Ok(None));
        let big = U256::mul_u128(u128::MAX, u128::MAX);
        assert_eq!(big.divrem(U256::from_u128(u128::MAX)), (U256::from_u128(u128::MAX), U256::ZERO));
        assert_eq!(U256::mul_u128(pow10(38) as u128, pow10(38) as u128).digits(), 77);
    }
}
