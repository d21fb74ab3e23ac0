//! "Did you mean": the closest known names to a misspelt one.

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Candidates ordered by edit distance to `name`, at most `limit` of them.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>, limit: usize) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = candidates.into_iter().map(|c| (levenshtein(name, c), c)).collect();
    scored.sort_by_key(|(d, c)| (*d, *c));
    scored.dedup_by_key(|(_, c)| *c);
    scored.into_iter().take(limit).map(|(_, c)| c).collect()
}

/// The one candidate close enough to be a likely typo, if any.
pub fn likely<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let best = closest(name, candidates, 1).into_iter().next()?;
    (levenshtein(name, best) <= (name.len() / 3).max(2)).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn orders_by_distance() {
        assert_eq!(closest("tmp", ["device", "temp", "ts"], 2), vec!["temp", "ts"]);
        assert_eq!(likely("uper", ["upper", "lower"]), Some("upper"));
        assert_eq!(likely("zzzzzz", ["upper"]), None);
    }
}
