//! "Did you mean": the nearest known name to a misspelt one.

/// The longest name compared with the known ones.
const MAX_COMPARED: usize = 64;

/// The candidate closest to `name`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = name.chars().count();
    // Past this length a name is not a typo of a known one, and comparing
    // it would cost its length times each candidate's.
    if length > MAX_COMPARED {
        return None;
    }
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        // The distance is at least the difference in length.
        .filter(|c| c.chars().count().abs_diff(length) <= limit)
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The help line for an unknown name: a suggestion when there is one.
pub fn help_for<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Optimal string alignment distance: edits, with a swap of neighbours as one.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_name() {
        let names = ["sampled_at", "result", "region"];
        assert_eq!(did_you_mean("sampeld_at", names), Some("sampled_at"));
        assert_eq!(did_you_mean("resutl", names), Some("result"));
        assert_eq!(did_you_mean("colour", names), None);
    }

    #[test]
    fn a_long_name_costs_nothing() {
        let long = "sampled_at".repeat(6_000);
        let names = [long.as_str(), "sampled_at", &long[1..]];
        let started = std::time::Instant::now();
        assert_eq!(did_you_mean(&long[2..], names), None);
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }
}
