//! `to_char(number, format)` / `to_varchar`: Spark's number formats (`999`, `0,000.00`, `$99.99`,
//! `S`, `MI`, `PR`), and the byte formats of `to_char(binary, 'hex' | 'base64' | 'utf-8')`.
//! A date or timestamp is `date_format` (the analyzer sends it there).

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};

use super::*;

/// One element of a number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// `9`: a digit, a blank where the number has none.
    Nine,
    /// `0`: a digit, a zero where the number has none.
    Zero,
    /// `.` or `D`.
    Point,
    /// `,` or `G`: a comma once digits have begun, else a blank.
    Group,
    Dollar,
}

/// Where the sign goes: nowhere (a negative number loses it), `S` before or after, `MI`, `PR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    None,
    Leading,
    Trailing,
    Minus,
    Brackets,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NumberFormat {
    parts: Vec<Part>,
    sign: Sign,
}

fn invalid(format: &str, why: &str, condition: &'static str) -> Error {
    Error::type_mismatch(format!("[{condition}] The format is invalid: '{format}'. {why} SQLSTATE: 42601")).with_condition(condition)
}

impl NumberFormat {
    /// Parses a format as Spark's ToNumberParser does, with its errors.
    pub(super) fn parse(format: &str) -> Result<Self> {
        let upper = format.to_ascii_uppercase();
        if upper.is_empty() {
            return Err(invalid(&upper, "The number format string cannot be empty.", "INVALID_FORMAT.EMPTY"));
        }
        let mut rest = upper.as_str();
        let mut sign = Sign::None;
        if let Some(r) = rest.strip_prefix('S') {
            sign = Sign::Leading;
            rest = r;
        }
        for (suffix, s) in [("MI", Sign::Minus), ("PR", Sign::Brackets), ("S", Sign::Trailing)] {
            if sign == Sign::None {
                if let Some(r) = rest.strip_suffix(suffix) {
                    sign = s;
                    rest = r;
                }
            }
        }
        let mut parts = Vec::new();
        for c in rest.chars() {
            parts.push(match c {
                '9' => Part::Nine,
                '0' => Part::Zero,
                '.' | 'D' => Part::Point,
                ',' | 'G' => Part::Group,
                '$' => Part::Dollar,
                _ => {
                    return Err(invalid(
                        &upper,
                        &format!("Unexpected character '{c}' found in the format string."),
                        "INVALID_FORMAT.UNEXPECTED_TOKEN",
                    ))
                }
            });
        }
        let digit = |p: &Part| matches!(p, Part::Nine | Part::Zero);
        if !parts.iter().any(digit) {
            return Err(invalid(&upper, "The format string requires at least one number digit.", "INVALID_FORMAT.WRONG_NUM_DIGIT"));
        }
        if parts.iter().filter(|p| **p == Part::Point).count() > 1 {
            return Err(invalid(&upper, "Multiple decimal points are not allowed.", "INVALID_FORMAT.CONT_THOUSANDS_SEPS"));
        }
        let first_digit = parts.iter().position(digit).unwrap_or(0);
        if parts.iter().skip(first_digit).any(|p| *p == Part::Dollar) || parts.iter().filter(|p| **p == Part::Dollar).count() > 1 {
            return Err(invalid(
                &upper,
                "Currency characters must appear before digits in the number format.",
                "INVALID_FORMAT.CUR_MUST_BEFORE_DIGIT",
            ));
        }
        if let Some(point) = parts.iter().position(|p| *p == Part::Point) {
            if parts[point..].contains(&Part::Group) {
                return Err(invalid(
                    &upper,
                    "Thousands separators (, or G) may not appear after the decimal point in the number format.",
                    "INVALID_FORMAT.THOUSANDS_SEPS_MUST_BEFORE_DEC",
                ));
            }
        }
        Ok(NumberFormat { parts, sign })
    }

    /// The number's text in this format, from its decimal digits; every digit `#` when the
    /// number has more integer or fraction digits than the format holds (no rounding, as Spark).
    pub(super) fn format(&self, negative: bool, int: &str, frac: &str) -> String {
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let point = self.parts.iter().position(|p| *p == Part::Point).unwrap_or(self.parts.len());
        let digit = |p: &&Part| matches!(p, Part::Nine | Part::Zero);
        let int_slots = self.parts[..point].iter().filter(digit).count();
        let frac_slots = self.parts[point..].iter().filter(digit).count();
        let mut body = String::new();
        if int.len() > int_slots || frac.len() > frac_slots {
            for p in &self.parts {
                body.push(match p {
                    Part::Nine | Part::Zero => '#',
                    Part::Point => '.',
                    Part::Group => ',',
                    Part::Dollar => '$',
                });
            }
        } else {
            // Integer digits right-aligned to the integer slots.
            let mut digits = int.chars();
            let mut slot = 0;
            let mut started = false;
            for p in &self.parts[..point] {
                match p {
                    Part::Nine | Part::Zero => {
                        let leading = int_slots - slot > int.len();
                        slot += 1;
                        // Before a point, a number below 1 shows one 0 in the last slot.
                        let last_before_point = slot == int_slots && int.is_empty() && point < self.parts.len();
                        if !leading {
                            body.push(digits.next().unwrap_or('0'));
                            started = true;
                        } else if *p == Part::Zero || started || last_before_point {
                            body.push('0');
                            started = true;
                        } else {
                            body.push(' ');
                        }
                    }
                    Part::Group => body.push(if started { ',' } else { ' ' }),
                    Part::Dollar => body.push('$'),
                    Part::Point => {}
                }
            }
            if point < self.parts.len() {
                body.push('.');
                let mut digits = frac.chars();
                for p in &self.parts[point + 1..] {
                    if matches!(p, Part::Nine | Part::Zero) {
                        body.push(digits.next().unwrap_or('0'));
                    }
                }
            }
        }
        let sign = if negative { '-' } else { '+' };
        match self.sign {
            Sign::None => body,
            Sign::Leading => match body.find(|c: char| c != ' ' && c != '$') {
                Some(k) => format!("{}{sign}{}", &body[..k], &body[k..]),
                None => format!("{body}{sign}"),
            },
            Sign::Trailing => format!("{body}{sign}"),
            Sign::Minus => format!("{body}{}", if negative { '-' } else { ' ' }),
            Sign::Brackets if negative => format!("<{body}>"),
            Sign::Brackets => format!(" {body} "),
        }
    }
}

/// One element of a format as `to_number` reads input with it (Spark's ToNumberParser tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A run of digits: `0...` before the point must be matched exactly, else at most so many.
    Digits {
        exact: bool,
        n: usize,
    },
    Comma,
    Point,
    Dollar,
    /// `S`: an optional `+` or `-`.
    PlusMinus,
    /// `MI`: an optional `-`.
    Minus,
    /// `PR`: an optional `<` at the front and its `>` at the end.
    Open,
    Close,
}

/// A format's tokens with each run of digits and commas grouped, the groups' digit counts
/// right to left (as input digits are counted), so leading optional digits may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Group(Vec<(bool, usize)>),
    One(Token),
}

/// `to_number(text, format)`: the format's steps and the DECIMAL(precision, scale) it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NumberParser {
    steps: Vec<Step>,
    precision: usize,
    scale: usize,
    format: String,
}

impl NumberParser {
    /// The format checked as `to_char` checks it (Spark's one validation for both), then tokenised.
    pub(super) fn new(format: &str) -> Result<NumberParser> {
        NumberFormat::parse(format)?;
        let upper = format.to_ascii_uppercase();
        let chars: Vec<char> = upper.chars().collect();
        let mut tokens: Vec<Token> = Vec::new();
        let (mut i, mut after_point) = (0, false);
        while i < chars.len() {
            match chars[i] {
                c @ ('0' | '9') => {
                    let start = i;
                    while i < chars.len() && matches!(chars[i], '0' | '9') {
                        i += 1;
                    }
                    tokens.push(Token::Digits { exact: c == '0' && !after_point, n: i - start });
                    continue;
                }
                '.' | 'D' => {
                    tokens.push(Token::Point);
                    after_point = true;
                }
                ',' | 'G' => tokens.push(Token::Comma),
                '$' => tokens.push(Token::Dollar),
                'S' => tokens.push(Token::PlusMinus),
                'M' if chars.get(i + 1) == Some(&'I') => {
                    tokens.push(Token::Minus);
                    i += 1;
                }
                'P' if chars.get(i + 1) == Some(&'R') => {
                    tokens.insert(0, Token::Open);
                    tokens.push(Token::Close);
                    i += 1;
                }
                other => {
                    return Err(invalid(
                        &upper,
                        &format!("Unexpected character '{other}' found in the format string."),
                        "INVALID_FORMAT.UNEXPECTED_TOKEN",
                    ))
                }
            }
            i += 1;
        }
        let mut steps = Vec::new();
        let mut group: Vec<(bool, usize)> = Vec::new();
        let mut in_group = false;
        for t in tokens {
            match t {
                Token::Digits { exact, n } => {
                    group.push((exact, n));
                    in_group = true;
                }
                Token::Comma => in_group = true,
                other => {
                    if in_group {
                        group.reverse();
                        steps.push(Step::Group(std::mem::take(&mut group)));
                        in_group = false;
                    }
                    steps.push(Step::One(other));
                }
            }
        }
        if in_group {
            group.reverse();
            steps.push(Step::Group(group));
        }
        let digits = |steps: &[Step]| -> usize {
            steps.iter().map(|s| if let Step::Group(g) = s { g.iter().map(|(_, n)| n).sum() } else { 0 }).sum()
        };
        let precision = digits(&steps);
        let scale = steps.iter().position(|s| *s == Step::One(Token::Point)).map_or(0, |k| digits(&steps[k..]));
        if precision > usize::from(crate::types::decimal::MAX_PRECISION) {
            return Err(Error::unsupported(format!("the format '{upper}' has {precision} digits; a DECIMAL holds at most 38")));
        }
        Ok(NumberParser { steps, precision, scale, format: upper })
    }

    pub(super) fn data_type(&self) -> DataType {
        DataType::Decimal(self.precision as u8, self.scale as u8)
    }

    /// The input's value as a DECIMAL(precision, scale); None when it does not match the format.
    pub(super) fn parse(&self, input: &str) -> Option<i128> {
        let chars: Vec<char> = input.chars().collect();
        let (mut at, mut after_point, mut negate) = (0, false, false);
        let (mut opened, mut closed) = (false, false);
        let (mut before, mut after) = (String::new(), String::new());
        for step in &self.steps {
            let next = chars.get(at).copied();
            match step {
                Step::Group(expected) => {
                    // Digits, commas and blanks; the digit count of each comma-separated group, right to left.
                    let mut sizes: Vec<usize> = Vec::new();
                    let mut current = 0;
                    while let Some(&c) = chars.get(at) {
                        if c.is_whitespace() {
                        } else if c.is_ascii_digit() {
                            current += 1;
                            if after_point {
                                after.push(c)
                            } else {
                                before.push(c)
                            }
                        } else if c == ',' {
                            sizes.insert(0, current);
                            current = 0;
                        } else {
                            break;
                        }
                        at += 1;
                    }
                    sizes.insert(0, current);
                    if sizes.len() > expected.len() {
                        return None;
                    }
                    for (k, (exact, n)) in expected.iter().enumerate() {
                        let actual = sizes.get(k).copied().unwrap_or(0);
                        if (*exact && actual != *n) || actual > *n {
                            return None;
                        }
                    }
                }
                Step::One(Token::Point) => {
                    if next == Some('.') {
                        after_point = true;
                        at += 1;
                    }
                }
                Step::One(Token::Dollar) => match next {
                    Some('$') => at += 1,
                    Some(_) => return None,
                    None => {}
                },
                Step::One(Token::PlusMinus) => match next {
                    Some('+') => at += 1,
                    Some('-') => {
                        negate = !negate;
                        at += 1
                    }
                    _ => {}
                },
                Step::One(Token::Minus) => {
                    if next == Some('-') {
                        negate = !negate;
                        at += 1;
                    }
                }
                Step::One(Token::Open) => {
                    if next == Some('<') {
                        if opened {
                            return None;
                        }
                        opened = true;
                        at += 1;
                    }
                }
                Step::One(Token::Close) => {
                    if next == Some('>') {
                        if !opened {
                            return None;
                        }
                        closed = true;
                        negate = !negate;
                        at += 1;
                    }
                }
                Step::One(_) => return None,
            }
        }
        if at < chars.len() || opened != closed || (before.is_empty() && after.is_empty()) {
            return None;
        }
        while after.len() < self.scale {
            after.push('0');
        }
        let v: i128 = format!("{before}{after}").parse().ok()?;
        Some(if negate { -v } else { v })
    }

    fn mismatch(&self, input: &str) -> Error {
        Error::runtime(
            "INVALID_FORMAT.MISMATCH_INPUT",
            format!(
                "[INVALID_FORMAT.MISMATCH_INPUT] The format is invalid: {}. The input \"STRING\" {input} does not match the format. SQLSTATE: 42601",
                self.format
            ),
        )
    }
}

/// `to_number(text, format)` / `try_to_number`: the format must be a literal (its digits are the
/// result's type).
pub(super) fn check_to_number(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    c.arity(2, 2)?;
    let mut it = a.into_iter();
    let x = c.to(it.next().unwrap_or(Expr::Literal(Value::Null)), &DataType::String)?;
    let fmt = c.to(it.next().unwrap_or(Expr::Literal(Value::Null)), &DataType::String)?;
    let Expr::Literal(Value::String(p)) = &fmt else {
        return Err(Error::type_mismatch(format!("the format of `{}` must be a string literal", f.name())));
    };
    let t = NumberParser::new(p)?.data_type();
    Ok((vec![x, fmt], t))
}

pub(super) fn kernel_to_number(f: Func, a: &[ArrayRef], len: usize, data_type: &DataType) -> Result<ArrayRef> {
    let (DataType::Decimal(p, s), Value::String(format)) = (data_type, Value::from_array(a[1].as_ref(), 0)) else {
        return Err(Error::internal("to_number without its decimal type and literal format"));
    };
    let parser = NumberParser::new(&format)?;
    let strings = a[0].as_string::<i32>();
    let mut b = arrow_array::builder::Decimal128Builder::with_capacity(len).with_precision_and_scale(*p, *s as i8)?;
    for i in 0..len {
        let k = if strings.len() == 1 { 0 } else { i };
        if strings.is_null(k) {
            b.append_null();
            continue;
        }
        let text = strings.value(k);
        match parser.parse(text) {
            Some(v) => b.append_value(v),
            None if f == Func::TryToNumber => b.append_null(),
            None => return Err(parser.mismatch(text)),
        }
    }
    Ok(std::sync::Arc::new(b.finish()))
}

pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    if matches!(f, Func::ToNumber | Func::TryToNumber) {
        return check_to_number(f, a, c);
    }
    c.arity(2, 2)?;
    let mut it = a.into_iter();
    let x = it.next().unwrap_or(Expr::Literal(Value::Null));
    let fmt = c.to(it.next().unwrap_or(Expr::Literal(Value::Null)), &DataType::String)?;
    match &fmt {
        Expr::Literal(Value::String(p)) if x.data_type() != DataType::Binary => {
            NumberFormat::parse(p)?;
        }
        Expr::Literal(Value::String(p)) => {
            if !matches!(p.to_ascii_lowercase().as_str(), "hex" | "base64" | "utf-8" | "utf8") {
                return Err(Error::type_mismatch(format!(
                    "[INVALID_PARAMETER_VALUE.BINARY_FORMAT] The value of parameter(s) `format` in `{}` is invalid: expects one of binary formats 'base64', 'hex', 'utf-8', but got '{p}'. SQLSTATE: 22023",
                    f.name()
                )));
            }
        }
        Expr::Literal(Value::Null) => {}
        _ => return Err(Error::type_mismatch(format!("the format of `{}` must be a string literal", f.name()))),
    }
    let x = match x.data_type() {
        DataType::Int | DataType::BigInt | DataType::Double | DataType::Binary | DataType::Null | DataType::Decimal(..) => x,
        DataType::String => x.cast_to(&DataType::Double),
        _ => return Err(mismatch(f, &x, "DECIMAL")),
    };
    Ok((vec![x, fmt], DataType::String))
}

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    if matches!(f, Func::ToNumber | Func::TryToNumber) {
        return kernel_to_number(f, a, len, data_type);
    }
    let mut parsed: Option<(String, NumberFormat)> = None;
    strict(a, len, data_type, |row| {
        let fmt = str_of(&row[1]);
        if let Value::Binary(b) = &row[0] {
            return Ok(Value::String(match fmt.to_ascii_lowercase().as_str() {
                "hex" => b.iter().map(|x| format!("{x:02X}")).collect(),
                "base64" => crate::value::base64_encode(b),
                _ => String::from_utf8_lossy(b).into_owned(),
            }));
        }
        if parsed.as_ref().is_none_or(|(p, _)| p != fmt) {
            parsed = Some((fmt.to_string(), NumberFormat::parse(fmt)?));
        }
        let Some((_, format)) = &parsed else { return Ok(Value::Null) };
        let text = match &row[0] {
            Value::Int(v) => v.to_string(),
            Value::BigInt(v) => v.to_string(),
            // The shortest decimal form of the double, which is Spark's cast of it to DECIMAL.
            Value::Double(d) if d.is_finite() => format!("{d}"),
            Value::Decimal { unscaled, scale, .. } => crate::types::decimal::format(*unscaled, *scale),
            _ => return Ok(Value::Null),
        };
        let negative = text.starts_with('-');
        let digits = text.trim_start_matches('-');
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        Ok(Value::String(format.format(negative && (int.trim_start_matches('0'), frac.trim_end_matches('0')) != ("", ""), int, frac)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn f(x: &str, p: &str) -> String {
        let negative = x.starts_with('-');
        let digits = x.trim_start_matches('-');
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        NumberFormat::parse(p).unwrap().format(negative, int, frac)
    }

    #[test]
    fn to_number_reads_as_pyspark_4_3_does() {
        // Each case and its answer (or its mismatch, None) is what Spark 4.3 gives.
        type Case<'a> = (&'a str, &'a str, Option<&'a str>, (u8, u8));
        let cases: [Case; 14] = [
            ("454", "999", Some("454"), (3, 0)),
            ("454.00", "000.00", Some("454.00"), (5, 2)),
            ("12,454", "99,999", Some("12454"), (5, 0)),
            ("$78.12", "$99.99", Some("78.12"), (4, 2)),
            ("12,454.8-", "99,999.9S", Some("-12454.8"), (6, 1)),
            ("-454", "S999", Some("-454"), (3, 0)),
            ("454-", "999MI", Some("-454"), (3, 0)),
            ("<454>", "999PR", Some("-454"), (3, 0)),
            ("0454", "9999", Some("454"), (4, 0)),
            ("45", "999", Some("45"), (3, 0)),
            ("4545", "999", None, (3, 0)),
            ("x", "999", None, (3, 0)),
            ("454", "000", Some("454"), (3, 0)),
            ("45", "000", None, (3, 0)),
        ];
        for (input, format, want, t) in cases {
            let parser = NumberParser::new(format).unwrap();
            assert_eq!(parser.data_type(), DataType::Decimal(t.0, t.1), "{format}");
            let got = parser.parse(input).map(|v| crate::types::decimal::format(v, t.1));
            assert_eq!(got.as_deref(), want, "to_number('{input}', '{format}')");
        }
        let e = NumberParser::new("999").unwrap().mismatch("x");
        assert_eq!(
            e.message,
            "[INVALID_FORMAT.MISMATCH_INPUT] The format is invalid: 999. The input \"STRING\" x does not match the format. SQLSTATE: 42601"
        );
    }

    #[test]
    fn formats_as_pyspark_4_3_does() {
        let cases = [
            ("454", "999", "454"),
            ("454.00", "000D00", "454.00"),
            ("12454", "99G999", "12,454"),
            ("78.12", "$99.99", "$78.12"),
            ("-12454.8", "99G999D9S", "12,454.8-"),
            ("5", "999", "  5"),
            ("12345", "999", "###"),
            ("1.25", "9.9", "#.#"),
            ("-5", "999", "  5"),
            ("-5", "S999", "  -5"),
            ("5", "S999", "  +5"),
            ("5", "000", "005"),
            ("0.5", "9.99", "0.50"),
            ("-12.3", "99.9MI", "12.3-"),
            ("12.3", "99.9MI", "12.3 "),
            ("-12.3", "99.9PR", "<12.3>"),
            ("123", "9,999", "  123"),
            ("123", "0,000", "0,123"),
            ("12", "$999", "$ 12"),
            ("454", "9999", " 454"),
            ("99.99", "99.9", "##.#"),
            ("0", "9", " "),
            ("0", "999", "   "),
            ("0.1", "9.9", "0.1"),
            ("-12454.8", "S99G999D9", "-12,454.8"),
            ("5", "9S", "5+"),
            ("1000", "9999", "1000"),
        ];
        for (x, p, want) in cases {
            assert_eq!(f(x, p), want, "to_char({x}, '{p}')");
        }
        assert!(NumberFormat::parse("999$").is_err());
        assert!(NumberFormat::parse("abc").is_err());
        assert!(NumberFormat::parse("").is_err());
    }
}
