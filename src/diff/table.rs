//! The report as a table for a terminal: `policyc diff`'s default output.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr as _;

use super::report::{About, KindMatrix, Named, PayloadKind, Report, Sample, share};

impl Report {
    /// The report as a table for a terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = self.write_table(&mut out);
        out
    }

    fn write_table(&self, out: &mut String) -> std::fmt::Result {
        let version = |a: &About| match &a.version {
            Some(v) => format!("{} ({} {v})", a.file, a.policy),
            None => format!("{} ({})", a.file, a.policy),
        };
        writeln!(out, "old: {}", version(&self.old))?;
        writeln!(out, "new: {}", version(&self.new))?;
        writeln!(
            out,
            "{} people at {}: {} decided under both, {} changed ({})",
            self.people,
            self.now,
            self.decided,
            self.changed,
            percent(share(self.changed, self.decided))
        )?;
        let e = &self.errors;
        if e.old_only + e.new_only + e.both > 0 {
            writeln!(
                out,
                "not decided: {} under both, {} under the old only, {} under the new only",
                e.both, e.old_only, e.new_only
            )?;
            for line in &e.first {
                for (side, error) in [("old", &line.old), ("new", &line.new)] {
                    if let Some(error) = error {
                        writeln!(out, "  {side}: {error}")?;
                    }
                }
            }
        }
        writeln!(out, "\noutcomes (rows: old, columns: new)")?;
        let mut rows = vec![
            std::iter::once("old \\ new".to_owned())
                .chain(self.outcomes.new.iter().cloned())
                .collect::<Vec<_>>(),
        ];
        for (name, counts) in self.outcomes.old.iter().zip(&self.outcomes.counts) {
            rows.push(
                std::iter::once(name.clone())
                    .chain(counts.iter().map(ToString::to_string))
                    .collect(),
            );
        }
        table(out, &rows, 1)?;
        if let Some(kinds) = &self.kinds {
            self.write_kinds(out, kinds)?;
        }
        writeln!(out, "\ndeciding rules")?;
        let mut rows = vec![pairs_heading()];
        for t in &self.transitions {
            rows.push(vec![
                verdict(&t.old),
                if t.changed { "->" } else { "==" }.to_owned(),
                verdict(&t.new),
                t.count.to_string(),
                percent(t.share),
            ]);
        }
        table(out, &rows, 3)?;
        for t in self.transitions.iter().filter(|t| !t.sample.is_empty()) {
            writeln!(
                out,
                "\n{} -> {}: {}, {} sampled",
                verdict(&t.old),
                verdict(&t.new),
                people(t.count),
                t.sample.len()
            )?;
            for s in &t.sample {
                sample(out, s)?;
            }
        }
        if let Some(h) = &self.horizon {
            writeln!(
                out,
                "\nwithin {}: {} decided alike now are decided differently later",
                h.within,
                people(h.people)
            )?;
            let most = h
                .buckets
                .iter()
                .map(|b| b.differing)
                .max()
                .unwrap_or(0)
                .max(1);
            for b in &h.buckets {
                let bar = usize::try_from(b.differing * 40 / most).unwrap_or(0);
                let line = format!(
                    "  until {}  parting {:>6}  differing {:>6} {}",
                    b.until,
                    b.parting,
                    b.differing,
                    "#".repeat(bar)
                );
                writeln!(out, "{}", line.trim_end())?;
            }
            for s in &h.sample {
                sample(out, s)?;
            }
        }
        for c in &self.conditions {
            writeln!(
                out,
                "\n--fail-if '{}': {} ({}): {}",
                c.condition,
                people(c.count),
                percent(c.share),
                if c.holds {
                    "holds, the change is refused"
                } else {
                    "does not hold"
                }
            )?;
        }
        Ok(())
    }
}

impl Report {
    /// The people of each pair of payload kinds, the most first.
    fn write_kinds(&self, out: &mut String, kinds: &KindMatrix) -> std::fmt::Result {
        writeln!(out, "\npayload kinds")?;
        let mut cells: Vec<(u64, usize, usize)> = Vec::new();
        for (i, row) in kinds.counts.iter().enumerate() {
            for (j, &n) in row.iter().enumerate() {
                if n > 0 {
                    cells.push((n, i, j));
                }
            }
        }
        cells.sort_by(|a, b| b.0.cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        let mut rows = vec![pairs_heading()];
        for (n, i, j) in cells {
            let (Some(a), Some(b)) = (kinds.old.get(i), kinds.new.get(j)) else {
                continue;
            };
            rows.push(vec![
                kind(a),
                if a == b { "==" } else { "->" }.to_owned(),
                kind(b),
                n.to_string(),
                percent(share(n, self.decided)),
            ]);
        }
        table(out, &rows, 3)
    }
}

/// The heading of a table of pairs, old against new.
fn pairs_heading() -> Vec<String> {
    ["old", "", "new", "people", "share"]
        .map(str::to_owned)
        .to_vec()
}

/// A payload kind in the table: `popup(kind: "test_required")`, or the
/// outcome alone when its payload has no kind.
pub(super) fn kind(k: &PayloadKind) -> String {
    match (&k.outcome, &k.kind) {
        (Some(o), Some(kind)) => format!("{o}(kind: \"{kind}\")"),
        (Some(o), None) => o.clone(),
        (None, _) => "(other kinds)".to_owned(),
    }
}

/// One sampled person in the table.
fn sample(out: &mut String, s: &Sample) -> std::fmt::Result {
    let id =
        s.id.as_deref()
            .map(|id| format!(" ({id})"))
            .unwrap_or_default();
    write!(out, "  line {}{id}", s.line)?;
    if let Some(p) = &s.parts {
        write!(
            out,
            ": from {}, {} under the old, {} under the new",
            p.at,
            verdict(&p.old),
            verdict(&p.new)
        )?;
    }
    writeln!(out)?;
    for r in &s.rules {
        writeln!(out, "    rule {} \"{}\"", r.rule, r.title)?;
        for (name, side) in [("old", &r.old), ("new", &r.new)] {
            let Some(side) = side else {
                writeln!(out, "      {name}: no such rule")?;
                continue;
            };
            writeln!(out, "      {name}: {}", side.state)?;
            for b in &side.because {
                writeln!(out, "        because {b}")?;
            }
            for u in &side.unless {
                writeln!(out, "        unless {u}")?;
            }
        }
    }
    Ok(())
}

/// A number of people.
fn people(n: u64) -> String {
    if n == 1 {
        "1 person".to_owned()
    } else {
        format!("{n} people")
    }
}

/// A verdict in the table: `popup (county_exposure)`.
fn verdict(n: &Named) -> String {
    format!(
        "{} ({})",
        n.outcome,
        n.rule.as_deref().unwrap_or("otherwise")
    )
}

/// A share as a percentage.
fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// Rows in columns: those before `right` left-aligned, the rest
/// right-aligned.
fn table(out: &mut String, rows: &[Vec<String>], right: usize) -> std::fmt::Result {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w - cell.width());
            if i > 0 {
                line.push_str("  ");
            }
            if i < right {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(cell);
            }
        }
        writeln!(out, "  {}", line.trim_end())?;
    }
    Ok(())
}
