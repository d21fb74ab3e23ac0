//! URL functions: `url_encode`, `url_decode`/`try_url_decode` (Java's URLEncoder/URLDecoder with
//! UTF-8, as Spark calls them) and `parse_url`/`try_parse_url` (the parts java.net.URI gives).

use arrow_array::ArrayRef;

use super::*;

pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    let s = DataType::String;
    match f {
        Func::ParseUrl | Func::TryParseUrl => c.arity(2, 3)?,
        _ => c.arity(1, 1)?,
    }
    let a = a.into_iter().map(|e| c.to(e, &s)).collect::<Result<Vec<_>>>()?;
    Ok((a, s))
}

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    strict(a, len, data_type, |row| {
        let s = str_of(&row[0]);
        let text = |t: Option<String>| Ok(t.map_or(Value::Null, Value::String));
        match f {
            Func::UrlEncode => text(Some(url_encode(s))),
            Func::UrlDecode => match url_decode(s) {
                Some(t) => text(Some(t)),
                None => Err(Error::runtime(
                    "CANNOT_DECODE_URL",
                    format!("[CANNOT_DECODE_URL] The provided URL cannot be decoded: {s}. Please ensure that the URL is properly formatted and try again. SQLSTATE: 22546"),
                )),
            },
            Func::TryUrlDecode => text(url_decode(s)),
            Func::ParseUrl | Func::TryParseUrl => match Uri::parse(s) {
                Some(uri) => text(uri.part(str_of(&row[1]), row.get(2).map(str_of))),
                None if f == Func::TryParseUrl => Ok(Value::Null),
                None => Err(Error::runtime(
                    "INVALID_URL",
                    format!("[INVALID_URL] The url is invalid: {s}. Use `try_parse_url` to tolerate invalid URL and return NULL instead. SQLSTATE: 22P02"),
                )),
            },
            other => Err(Error::internal(format!("{other:?} has no kernel here"))),
        }
    })
}

/// Java's `URLEncoder.encode(s, UTF_8)`: letters, digits and `.-*_` stay, a space is `+`, every
/// other byte of the UTF-8 text is `%XX`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Java's `URLDecoder.decode(s, UTF_8)`: `+` is a space, `%XX` a byte; None for a `%` not followed
/// by two hex digits. Bytes that are not UTF-8 become U+FFFD, as Java decodes them.
fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(text, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The raw components of a URI reference, as java.net.URI splits it (RFC 2396).
struct Uri<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: Option<&'a str>,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl<'a> Uri<'a> {
    /// None when java.net.URI would refuse the text (a character a URI cannot hold, a bad escape).
    fn parse(s: &'a str) -> Option<Uri<'a>> {
        let legal = |c: char| {
            c.is_ascii_alphanumeric() || "_-!.~'()*,;:$&+=?/[]@%#".contains(c) || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
        };
        if s.is_empty() || !s.chars().all(legal) || s.matches('#').count() > 1 {
            return None;
        }
        let b = s.as_bytes();
        if b.iter().enumerate().any(|(i, &c)| {
            c == b'%' && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        }) {
            return None;
        }
        let (body, fragment) = match s.split_once('#') {
            Some((x, f)) => (x, Some(f)),
            None => (s, None),
        };
        let scheme_end = body.find(':').filter(|&i| {
            let head = &body[..i];
            !head.is_empty()
                && head.starts_with(|c: char| c.is_ascii_alphabetic())
                && head.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        let (scheme, rest) = match scheme_end {
            Some(i) => (Some(&body[..i]), &body[i + 1..]),
            None => (None, body),
        };
        if scheme.is_some() && !rest.starts_with('/') {
            // An opaque URI (`mailto:a@b`): no authority, path or query.
            return if rest.is_empty() { None } else { Some(Uri { scheme, authority: None, path: None, query: None, fragment }) };
        }
        let (authority, rest) = match rest.strip_prefix("//") {
            Some(r) => {
                let end = r.find(['/', '?']).unwrap_or(r.len());
                (Some(&r[..end]).filter(|a| !a.is_empty()), &r[end..])
            }
            None => (None, rest),
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        Some(Uri { scheme, authority, path: Some(path), query, fragment })
    }

    fn userinfo(&self) -> Option<&'a str> {
        self.authority.and_then(|a| a.rsplit_once('@').map(|(u, _)| u))
    }

    fn host(&self) -> Option<&'a str> {
        let hostport = self.authority.map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h))?;
        let host = if hostport.starts_with('[') {
            &hostport[..hostport.find(']')? + 1]
        } else {
            match hostport.rsplit_once(':') {
                Some((h, port)) if port.bytes().all(|c| c.is_ascii_digit()) => h,
                Some(_) => return None,
                None => hostport,
            }
        };
        Some(host).filter(|h| !h.is_empty())
    }

    /// `parse_url(url, part [, key])`: the part named (upper case), or a query parameter's value.
    fn part(&self, part: &str, key: Option<&str>) -> Option<String> {
        if let Some(key) = key {
            if part != "QUERY" {
                return None;
            }
            // Spark's pattern `(&|^)key=([^&]*)`: the first parameter of that name.
            return self.query?.split('&').find_map(|p| p.strip_prefix(key).and_then(|v| v.strip_prefix('='))).map(String::from);
        }
        let s = |v: Option<&str>| v.map(String::from);
        match part {
            "HOST" => s(self.host()),
            "PATH" => s(self.path),
            "QUERY" => s(self.query),
            "REF" => s(self.fragment),
            "PROTOCOL" => s(self.scheme),
            "FILE" => self.path.map(|p| match self.query {
                Some(q) => format!("{p}?{q}"),
                None => p.to_string(),
            }),
            "AUTHORITY" => s(self.authority),
            "USERINFO" => s(self.userinfo()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn encoding_and_decoding_follow_java() {
        assert_eq!(url_encode("https://spark.apache.org"), "https%3A%2F%2Fspark.apache.org");
        assert_eq!(url_encode("a b*~é"), "a+b*%7E%C3%A9");
        assert_eq!(url_decode("https%3A%2F%2Fspark.apache.org").as_deref(), Some("https://spark.apache.org"));
        assert_eq!(url_decode("a+b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(url_decode("http%3A%2F%2spark.apache.org"), None);
        assert_eq!(url_decode("100%"), None);
    }

    #[test]
    fn parse_url_gives_the_parts_java_net_uri_gives() {
        let u = Uri::parse("http://user:pw@spark.apache.org:8080/path/a?query=1&k=v#frag").unwrap();
        assert_eq!(u.part("HOST", None).as_deref(), Some("spark.apache.org"));
        assert_eq!(u.part("PATH", None).as_deref(), Some("/path/a"));
        assert_eq!(u.part("QUERY", None).as_deref(), Some("query=1&k=v"));
        assert_eq!(u.part("QUERY", Some("k")).as_deref(), Some("v"));
        assert_eq!(u.part("QUERY", Some("nope")), None);
        assert_eq!(u.part("REF", None).as_deref(), Some("frag"));
        assert_eq!(u.part("PROTOCOL", None).as_deref(), Some("http"));
        assert_eq!(u.part("FILE", None).as_deref(), Some("/path/a?query=1&k=v"));
        assert_eq!(u.part("AUTHORITY", None).as_deref(), Some("user:pw@spark.apache.org:8080"));
        assert_eq!(u.part("USERINFO", None).as_deref(), Some("user:pw"));
        assert_eq!(u.part("host", None), None);
        assert!(Uri::parse("inva lid://spark.apache.org/path?query=1").is_none());
        assert!(Uri::parse("http://a/%zz").is_none());
        let opaque = Uri::parse("mailto:me@example.com").unwrap();
        assert_eq!((opaque.part("PROTOCOL", None).as_deref(), opaque.part("PATH", None)), (Some("mailto"), None));
    }
}
