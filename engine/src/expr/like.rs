//! SQL `LIKE` patterns: `_` is one character, `%` any run, `\` escapes the next character.

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Char(char),
    One,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LikePattern {
    tokens: Vec<Token>,
    case_insensitive: bool,
}

impl LikePattern {
    /// Compiles `pattern` with `\\` as the escape (ILIKE when `case_insensitive`).
    pub fn new(pattern: &str, case_insensitive: bool) -> Result<Self, String> {
        Self::with_escape(pattern, '\\', case_insensitive)
    }

    /// Compiles `pattern` for `LIKE pattern ESCAPE 'escape'`. As in Spark, the escape may only
    /// precede `_`, `%` or itself, and may not end the pattern; the message is Spark's.
    pub fn with_escape(pattern: &str, escape: char, case_insensitive: bool) -> Result<Self, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                c if c == escape => match chars.next() {
                    Some(n) if n == '_' || n == '%' || n == escape => Token::Char(fold(n, case_insensitive)),
                    Some(n) => {
                        return Err(format!(
                            "[INVALID_FORMAT.ESC_IN_THE_MIDDLE] The format is invalid: '{pattern}'. The escape character is not allowed to precede '{n}'. SQLSTATE: 42601"
                        ))
                    }
                    None => {
                        return Err(format!(
                            "[INVALID_FORMAT.ESC_AT_THE_END] The format is invalid: '{pattern}'. The escape character is not allowed to end with. SQLSTATE: 42601"
                        ))
                    }
                },
                '_' => Token::One,
                '%' => Token::Any,
                c => Token::Char(fold(c, case_insensitive)),
            });
        }
        Ok(LikePattern { tokens, case_insensitive })
    }

    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().map(|c| fold(c, self.case_insensitive)).collect();
        // Iterative wildcard matching with backtracking to the last `%`.
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::Char(c)) if *c == text[t] => {
                    t += 1;
                    p += 1;
                }
                Some(Token::One) => {
                    t += 1;
                    p += 1;
                }
                Some(Token::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|tok| *tok == Token::Any)
    }
}

fn fold(c: char, case_insensitive: bool) -> char {
    if case_insensitive {
        c.to_lowercase().next().unwrap_or(c)
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn like(t: &str, p: &str) -> bool {
        LikePattern::new(p, false).unwrap().matches(t)
    }

    #[test]
    fn wildcards() {
        assert!(like("/home", "/%"));
        assert!(like("/home", "%me"));
        assert!(like("abc", "a_c"));
        assert!(!like("abbc", "a_c"));
        assert!(like("abbc", "a%c"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("aXbXc", "%X%X%"));
        assert!(!like("aXbc", "%X%X%"));
    }

    #[test]
    fn escapes_match_literally() {
        assert!(like("/b_x", "/b\\_%"));
        assert!(!like("/bax", "/b\\_%"));
        assert!(like("50%", "50\\%"));
        assert!(LikePattern::new("abc\\", false).is_err());
    }

    #[test]
    fn a_chosen_escape_escapes_only_wildcards_and_itself() {
        let p = |s| LikePattern::with_escape(s, '!', false);
        assert!(p("a!_b").unwrap().matches("a_b"));
        assert!(!p("a!_b").unwrap().matches("axb"));
        assert!(p("a!!").unwrap().matches("a!"));
        assert!(p("a\\b").unwrap().matches("a\\b"), "the backslash is a plain character then");
        let e = p("a!b").unwrap_err();
        assert!(e.starts_with("[INVALID_FORMAT.ESC_IN_THE_MIDDLE]") && e.contains("precede 'b'"), "{e}");
        assert!(p("a!").unwrap_err().starts_with("[INVALID_FORMAT.ESC_AT_THE_END]"));
        assert!(LikePattern::new("a\\b", false).is_err(), "as in Spark: `\\b` is no escape");
    }

    #[test]
    fn ilike_folds_case() {
        assert!(LikePattern::new("HELLO%", true).unwrap().matches("hello world"));
    }
}
