//! Spark's DDL type syntax: `int`, `array<string>`, `struct<a:int,b:string>`, `map<string,int>`,
//! and a schema of fields `a INT, b STRING` (what `from_json` and scenario schemas take).

use super::DataType;

/// Parses one type name; the error says what is wrong and where.
pub fn parse_type(text: &str) -> Result<DataType, String> {
    let mut p = Parser { s: text.as_bytes(), at: 0 };
    let t = p.data_type()?;
    p.blanks();
    if p.at != p.s.len() {
        return Err(format!("unexpected `{}` at position {} of the type `{text}`", p.rest(), p.at + 1));
    }
    Ok(t)
}

/// Parses a schema: `a INT, b STRING`, `a: int, b: string` or `struct<a:int,b:string>`.
pub fn parse_fields(text: &str) -> Result<Vec<(String, DataType)>, String> {
    if let Ok(DataType::Struct(fields)) = parse_type(text) {
        return Ok(fields);
    }
    let mut p = Parser { s: text.as_bytes(), at: 0 };
    let fields = p.fields(None)?;
    p.blanks();
    if p.at != p.s.len() {
        return Err(format!("unexpected `{}` at position {} of the schema `{text}`", p.rest(), p.at + 1));
    }
    if fields.is_empty() {
        return Err(format!("the schema `{text}` has no fields"));
    }
    Ok(fields)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.at.min(self.s.len())..]).into_owned()
    }

    fn blanks(&mut self) {
        while self.s.get(self.at).is_some_and(|c| c.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.blanks();
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at position {}, found `{}`", c as char, self.at + 1, self.rest()))
        }
    }

    /// A name: letters, digits and `_`, or anything between backticks.
    fn name(&mut self) -> Result<String, String> {
        self.blanks();
        if self.eat(b'`') {
            let start = self.at;
            while self.s.get(self.at).is_some_and(|&c| c != b'`') {
                self.at += 1;
            }
            let name = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
            self.expect(b'`')?;
            return Ok(name);
        }
        let start = self.at;
        while self.s.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.at += 1;
        }
        if start == self.at {
            return Err(format!("expected a name at position {}, found `{}`", self.at + 1, self.rest()));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    fn number(&mut self) -> Result<u32, String> {
        self.blanks();
        let start = self.at;
        while self.s.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("expected a number at position {}", start + 1))
    }

    /// Fields up to `close` (or the end): `name[:] type [NOT NULL] [COMMENT '...']`, comma-separated.
    fn fields(&mut self, close: Option<u8>) -> Result<Vec<(String, DataType)>, String> {
        let mut out: Vec<(String, DataType)> = Vec::new();
        loop {
            self.blanks();
            if self.at == self.s.len() || close.is_some_and(|c| self.s.get(self.at) == Some(&c)) {
                break;
            }
            let name = self.name()?;
            self.eat(b':');
            let t = self.data_type()?;
            self.blanks();
            // `NOT NULL` and `COMMENT '...'` change nothing a value carries.
            let save = self.at;
            if let Ok(word) = self.name() {
                if word.eq_ignore_ascii_case("not") && self.name().is_ok_and(|w| w.eq_ignore_ascii_case("null")) {
                } else if word.eq_ignore_ascii_case("comment") {
                    self.blanks();
                    let quote = self.s.get(self.at).copied();
                    if matches!(quote, Some(b'\'' | b'"')) {
                        self.at += 1;
                        while self.s.get(self.at).is_some_and(|&c| Some(c) != quote) {
                            self.at += 1;
                        }
                        self.at += 1;
                    }
                } else {
                    self.at = save;
                }
            }
            if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                return Err(format!("the field `{name}` is declared twice"));
            }
            out.push((name, t));
            if !self.eat(b',') {
                break;
            }
        }
        Ok(out)
    }

    fn data_type(&mut self) -> Result<DataType, String> {
        let at = self.at;
        let word = self.name()?.to_ascii_lowercase();
        Ok(match word.as_str() {
            "string" => DataType::String,
            "varchar" | "char" => {
                self.expect(b'(')?;
                self.number()?;
                self.expect(b')')?;
                DataType::String
            }
            "int" | "integer" => DataType::Int,
            "bigint" | "long" => DataType::BigInt,
            "double" => DataType::Double,
            "boolean" | "bool" => DataType::Boolean,
            "timestamp" => DataType::Timestamp,
            "date" => DataType::Date,
            "binary" => DataType::Binary,
            // `decimal` alone is decimal(10,0), `decimal(5)` decimal(5,0), as in Spark's DDL.
            "decimal" | "dec" | "numeric" => {
                let (mut p, mut s) = (10, 0);
                if self.eat(b'(') {
                    p = self.number()?;
                    s = if self.eat(b',') { self.number()? } else { 0 };
                    self.expect(b')')?;
                }
                decimal_type(p, s)?
            }
            "array" => {
                self.expect(b'<')?;
                let inner = self.data_type()?;
                self.expect(b'>')?;
                DataType::Array(Box::new(inner))
            }
            "map" => {
                self.expect(b'<')?;
                let k = self.data_type()?;
                self.expect(b',')?;
                let v = self.data_type()?;
                self.expect(b'>')?;
                DataType::Map(Box::new(k), Box::new(v))
            }
            "struct" => {
                self.expect(b'<')?;
                let fields = self.fields(Some(b'>'))?;
                self.expect(b'>')?;
                DataType::Struct(fields)
            }
            other => {
                return Err(format!(
                    "the type `{other}` at position {} is not supported (use string, int, bigint, double, boolean, timestamp, date, binary, decimal(p,s), array<T>, map<K,V> or struct<...>)",
                    at + 1
                ))
            }
        })
    }
}

/// `decimal(p, s)`, checked as Spark checks it.
pub fn decimal_type(p: u32, s: u32) -> Result<DataType, String> {
    let max = u32::from(super::decimal::MAX_PRECISION);
    if p == 0 || p > max {
        return Err(format!(
            "[DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION] Decimal precision {p} exceeds max precision {max}. SQLSTATE: 22003"
        ));
    }
    if s > p {
        return Err(format!("[INVALID_PARAMETER_VALUE] decimal({p},{s}): the scale {s} is larger than the precision {p}"));
    }
    Ok(DataType::Decimal(p as u8, s as u8))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn ddl_types_parse_and_print_back() {
        for name in
            ["date", "binary", "array<string>", "struct<a:int,b:string>", "map<string,int>", "array<struct<x:map<string,array<bigint>>>>"]
        {
            assert_eq!(parse_type(name).unwrap().ddl_name(), name);
        }
        assert_eq!(parse_type("STRUCT<a: INT, `b c` STRING>").unwrap().ddl_name(), "struct<a:int,b c:string>");
        assert!(parse_type("array<string").unwrap_err().contains("expected `>`"));
        assert!(parse_type("float").unwrap_err().contains("`float`"));
        assert!(parse_type("int x").is_err());
        assert_eq!(parse_type("decimal").unwrap(), DataType::Decimal(10, 0));
        assert_eq!(parse_type("DECIMAL(5)").unwrap(), DataType::Decimal(5, 0));
        assert_eq!(parse_type("decimal(10, 2)").unwrap().ddl_name(), "decimal(10,2)");
        assert!(parse_type("decimal(39,0)").unwrap_err().contains("exceeds max precision 38"));
        assert!(parse_type("decimal(3,4)").is_err());
    }

    #[test]
    fn schemas_parse_in_both_forms() {
        let want = vec![("a".to_string(), DataType::Int), ("b".to_string(), DataType::String)];
        assert_eq!(parse_fields("a INT, b STRING").unwrap(), want);
        assert_eq!(parse_fields("struct<a:int,b:string>").unwrap(), want);
        assert_eq!(parse_fields("a int NOT NULL, b string COMMENT 'x'").unwrap(), want);
        assert!(parse_fields("a INT, a STRING").unwrap_err().contains("twice"));
        assert!(parse_fields("").is_err());
    }
}
