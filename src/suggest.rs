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
    let name: Vec<char> = name.chars().collect();
    let mut rows = Rows::default();
    candidates
        .into_iter()
        .filter(|c| c.chars().ne(name.iter().copied()))
        // The distance is at least the difference in length.
        .filter(|c| c.chars().count().abs_diff(length) <= limit)
        .map(|c| (rows.distance(&name, c, limit), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The help line for an unknown name: a suggestion when there is one.
pub fn help_for<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The buffers of [`Rows::distance`], reused from one candidate to the next.
#[derive(Default)]
struct Rows {
    b: Vec<char>,
    prev2: Vec<usize>,
    prev: Vec<usize>,
    cur: Vec<usize>,
}

impl Rows {
    /// Optimal string alignment distance: edits, with a swap of neighbours
    /// as one; anything above `limit` once a whole row is above it.
    fn distance(&mut self, a: &[char], b: &str, limit: usize) -> usize {
        self.b.clear();
        self.b.extend(b.chars());
        let b = &self.b;
        let n = b.len();
        for row in [&mut self.prev2, &mut self.prev, &mut self.cur] {
            row.clear();
            row.resize(n + 1, 0);
        }
        for (j, cell) in self.prev.iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            self.cur[0] = i;
            for j in 1..=n {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut d = (self.prev[j] + 1)
                    .min(self.cur[j - 1] + 1)
                    .min(self.prev[j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d = d.min(self.prev2[j - 2] + 1);
                }
                self.cur[j] = d;
            }
            // A row only grows from one to the next, give or take a swap
            // (which reads two rows back): both above the limit, the
            // distance is too.
            if self.cur.iter().min().is_some_and(|m| *m > limit)
                && self.prev.iter().min().is_some_and(|m| *m > limit)
            {
                return limit + 1;
            }
            std::mem::swap(&mut self.prev2, &mut self.prev);
            std::mem::swap(&mut self.prev, &mut self.cur);
        }
        self.prev[n]
    }
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
