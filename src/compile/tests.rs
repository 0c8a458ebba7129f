use super::{Op, Plan, Root, Stage};
use crate::Policy;

fn count(plan: &Plan, root: super::Id, pred: impl Fn(&Op) -> bool) -> usize {
    let mut n = 0;
    plan.walk(std::iter::once(root), |_, node, _| {
        n += usize::from(pred(&node.op))
    });
    n
}

const TEXT: &str = r#"
    policy p
    outcomes green < red
    input person { phones: list of { number: text }, stays: list of { id: text, region: region } }
    facts { counties: set of region }
    rule r
      when any person.stays has id in person.phones.number and prefecture(region) in prefectures(counties where it in counties)
      then red
    otherwise green
"#;

#[test]
fn facts_are_hoisted_and_invariants_lifted() {
    let policy = Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
    let plan = policy.plan();
    assert_eq!(
        plan.hoisted.len(),
        1,
        "prefectures(...) is computed once per facts"
    );
    assert!(matches!(plan.op(plan.hoisted[0]), Op::Call(..)));
    assert_eq!(plan.program.lets.len(), 0, "the program stays as written");
    assert_eq!(
        plan.lets.len(),
        1,
        "person.phones.number is the same for every stay"
    );
    assert!(matches!(plan.op(plan.lets[0]), Op::Project(..)));
    assert_eq!(plan.let_name(0), "<lifted 0>");
    let when = plan.rules[0].when;
    assert_eq!(count(plan, when, |op| matches!(op, Op::Hoisted(_))), 1);
    assert_eq!(
        count(plan, when, |op| matches!(op, Op::ElementField(0, _))),
        2,
        "id and region, each read in one node"
    );
    assert_eq!(plan.node(when).stage, Stage::Person);
    assert_eq!(plan.node(plan.hoisted[0]).stage, Stage::Facts);
}

#[test]
fn the_walk_visits_every_root_parents_first() {
    let policy = Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
    let plan = policy.plan();
    let kinds: Vec<Root> = plan.roots().map(|(r, _)| r).collect();
    assert_eq!(kinds, [Root::Let(0), Root::When(0), Root::Hoisted(0)]);
    let mut seen = Vec::new();
    plan.walk(plan.roots().map(|(_, id)| id), |id, _, depth| {
        seen.push((id, depth))
    });
    let when = plan.rules[0].when;
    let at = |id| seen.iter().position(|(s, _)| *s == id);
    assert!(
        at(when) < seen.iter().position(|(_, d)| *d == 1),
        "the body after its quantifier"
    );
    assert_eq!(
        plan.text(when),
        "any person.stays has id in person.phones.number and prefecture(region) in prefectures(counties where it in counties)"
    );
    assert_eq!(
        plan.text(plan.hoisted[0]),
        "prefectures(counties where it in counties)"
    );
}
