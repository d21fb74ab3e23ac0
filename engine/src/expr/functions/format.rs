//! `format_string` / `printf`: Java's `Formatter` for the conversions a SQL value can meet:
//! `%s %S %d %x %X %o %f %e %E %g %b %c %% %n`, with flags `- 0 + space , #`, a width, a
//! precision and `n$` argument indices. Anything else is refused with the conversion named.

use super::*;

fn bad(message: String) -> Error {
    Error::runtime("INVALID_FORMAT", format!("[INVALID_FORMAT] The format is invalid: {message}. SQLSTATE: 42601"))
}

/// Formats `args` by `fmt` as Java does (a NULL argument prints `null`).
pub(super) fn format_string(fmt: &str, args: &[Value]) -> Result<String> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next_arg = 0usize;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        // [index$][flags][width][.precision]conversion
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        let mut index = None;
        if j < chars.len() && chars[j] == '$' && j > i {
            index = chars[i..j].iter().collect::<String>().parse::<usize>().ok();
            i = j + 1;
        }
        let mut flags = String::new();
        while i < chars.len() && "-0+ ,#".contains(chars[i]) {
            flags.push(chars[i]);
            i += 1;
        }
        let mut width = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            width.push(chars[i]);
            i += 1;
        }
        let mut precision = None;
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            let mut p = String::new();
            while i < chars.len() && chars[i].is_ascii_digit() {
                p.push(chars[i]);
                i += 1;
            }
            precision = Some(p.parse::<usize>().map_err(|_| bad(format!("'{fmt}': a precision needs digits")))?);
        }
        let Some(&conv) = chars.get(i) else {
            return Err(bad(format!("'{fmt}' ends inside the specifier '{}'", chars[start..].iter().collect::<String>())));
        };
        i += 1;
        let width: usize = width.parse().unwrap_or(0);
        if conv == '%' {
            out.push_str(&pad("%", width, &flags));
            continue;
        }
        if conv == 'n' {
            out.push('\n');
            continue;
        }
        let k = match index {
            Some(n) if n >= 1 => n - 1,
            Some(_) => return Err(bad(format!("'{fmt}': argument index 0"))),
            None => {
                next_arg += 1;
                next_arg - 1
            }
        };
        let arg = args.get(k).ok_or_else(|| bad(format!("'{fmt}' needs an argument for '%{conv}' (MissingFormatArgumentException)")))?;
        let mismatch = || {
            bad(format!(
                "'%{conv}' cannot format the {} value {} (IllegalFormatConversionException)",
                arg.data_type().spark_name(),
                arg.to_spark_string()
            ))
        };
        let text = match conv {
            's' | 'S' => {
                let t = if arg.is_null() { "null".to_string() } else { arg.to_spark_string() };
                let t = match precision {
                    Some(p) => t.chars().take(p).collect(),
                    None => t,
                };
                if conv == 'S' {
                    t.to_uppercase()
                } else {
                    t
                }
            }
            'b' | 'B' => {
                let t = match arg {
                    Value::Null => "false".to_string(),
                    Value::Boolean(b) => b.to_string(),
                    _ => "true".to_string(),
                };
                if conv == 'B' {
                    t.to_uppercase()
                } else {
                    t
                }
            }
            // Java cuts even a NULL's `null` to the precision: `%5.2f` of NULL is `   nu`.
            _ if arg.is_null() => "null".chars().take(precision.unwrap_or(4)).collect(),
            'd' => {
                let v = arg.as_i64().ok_or_else(mismatch)?;
                let digits = v.unsigned_abs().to_string();
                let digits = if flags.contains(',') { group(&digits) } else { digits };
                signed(v < 0, digits, &flags, width)
            }
            'x' | 'X' | 'o' => {
                let v = arg.as_i64().ok_or_else(mismatch)?;
                // Java prints a negative INT or BIGINT as its two's complement of that width.
                let bits = if matches!(arg, Value::Int(_)) { v as u32 as u64 } else { v as u64 };
                let body = match conv {
                    'x' => format!("{bits:x}"),
                    'X' => format!("{bits:X}"),
                    _ => format!("{bits:o}"),
                };
                let prefix = match (flags.contains('#'), conv) {
                    (true, 'o') => "0",
                    (true, 'x') => "0x",
                    (true, _) => "0X",
                    _ => "",
                };
                zero_pad(format!("{prefix}{body}"), &flags, width, prefix.len())
            }
            'f' | 'e' | 'E' | 'g' | 'G' => {
                let v = match arg {
                    Value::Double(d) => *d,
                    _ => return Err(mismatch()),
                };
                if !v.is_finite() {
                    let t = if v.is_nan() {
                        "NaN".to_string()
                    } else if v > 0.0 {
                        "Infinity".into()
                    } else {
                        "-Infinity".into()
                    };
                    pad(&t, width, &flags)
                } else {
                    let p = precision.unwrap_or(6);
                    let body = match conv {
                        'f' => {
                            let t = format!("{:.p$}", v.abs());
                            if flags.contains(',') {
                                let (int, frac) = t.split_once('.').map_or((t.as_str(), None), |(a, b)| (a, Some(b)));
                                let g = group(int);
                                frac.map_or(g.clone(), |f| format!("{g}.{f}"))
                            } else {
                                t
                            }
                        }
                        'e' | 'E' => {
                            let t = java_exponent(v.abs(), p);
                            if conv == 'E' {
                                t.to_uppercase()
                            } else {
                                t
                            }
                        }
                        _ => {
                            // %g: scientific outside [1e-4, 10^precision), else fixed, with
                            // `precision` significant digits in all.
                            let p = p.max(1);
                            let a = v.abs();
                            let t = if a != 0.0 && (a < 1e-4 || a >= 10f64.powi(p as i32)) {
                                java_exponent(a, p - 1)
                            } else {
                                let int_digits = if a < 1.0 { 1 } else { a.log10().floor() as usize + 1 };
                                format!("{:.*}", p.saturating_sub(int_digits), a)
                            };
                            if conv == 'G' {
                                t.to_uppercase()
                            } else {
                                t
                            }
                        }
                    };
                    // -0.0 keeps its sign, as in Java.
                    signed(v.is_sign_negative(), body, &flags, width)
                }
            }
            'c' | 'C' => {
                let c = match arg {
                    Value::Int(n) => char::from_u32(*n as u32),
                    Value::BigInt(n) => u32::try_from(*n).ok().and_then(char::from_u32),
                    _ => return Err(mismatch()),
                }
                .ok_or_else(mismatch)?;
                let t = c.to_string();
                if conv == 'C' {
                    t.to_uppercase()
                } else {
                    t
                }
            }
            other => return Err(bad(format!("'{fmt}': the conversion '%{other}' is not supported"))),
        };
        out.push_str(&pad(&text, width, &flags));
    }
    Ok(out)
}

/// `1.500000e+00` as Java writes `%e` (at least two exponent digits).
fn java_exponent(v: f64, precision: usize) -> String {
    let t = format!("{v:.precision$e}");
    let (mantissa, exp) = t.split_once('e').unwrap_or((&t, "0"));
    let e: i32 = exp.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

fn group(digits: &str) -> String {
    let n = digits.len();
    digits.chars().enumerate().fold(String::new(), |mut s, (k, c)| {
        if k > 0 && (n - k) % 3 == 0 {
            s.push(',');
        }
        s.push(c);
        s
    })
}

fn signed(negative: bool, body: String, flags: &str, width: usize) -> String {
    let sign = if negative {
        "-"
    } else if flags.contains('+') {
        "+"
    } else if flags.contains(' ') {
        " "
    } else {
        ""
    };
    zero_pad(format!("{sign}{body}"), flags, width, sign.len())
}

/// With the `0` flag, zeros go between the sign (or prefix) and the digits.
fn zero_pad(text: String, flags: &str, width: usize, after: usize) -> String {
    let n = text.chars().count();
    if !flags.contains('0') || flags.contains('-') || n >= width {
        return text;
    }
    format!("{}{}{}", &text[..after], "0".repeat(width - n), &text[after..])
}

fn pad(text: &str, width: usize, flags: &str) -> String {
    let n = text.chars().count();
    if n >= width {
        return text.to_string();
    }
    if flags.contains('-') {
        format!("{text}{}", " ".repeat(width - n))
    } else {
        format!("{}{text}", " ".repeat(width - n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn formats_as_java_does() {
        let f = |fmt: &str, args: &[Value]| format_string(fmt, args).unwrap();
        assert_eq!(f("Hello World %d %s", &[Value::Int(100), Value::String("days".into())]), "Hello World 100 days");
        assert_eq!(
            f("%5.2f|%-4s|%05d|%x|%%", &[Value::Double(1.23456), Value::String("ab".into()), Value::Int(42), Value::Int(255)]),
            " 1.23|ab  |00042|ff|%"
        );
        assert_eq!(f("%s %d", &[Value::Null, Value::Null]), "null null");
        assert_eq!(
            f("%x %,d %+d %e", &[Value::Int(-1), Value::BigInt(1234567), Value::Int(5), Value::Double(12345.678)]),
            "ffffffff 1,234,567 +5 1.234568e+04"
        );
        assert_eq!(f("%5.2f|%+.1e|%.2f", &[Value::Null, Value::Null, Value::Double(-0.0)]), "   nu|n|-0.00");
        assert_eq!(f("%2$s-%1$s", &[Value::String("a".into()), Value::String("b".into())]), "b-a");
        assert!(format_string("%d", &[Value::String("x".into())]).is_err());
        assert!(format_string("%s %s", &[Value::Int(1)]).is_err());
        assert!(format_string("%q", &[Value::Int(1)]).is_err());
    }
}
