use super::{Estimate, estimate};

/// The estimate of a policy over a few lists, with `body` its lets and
/// rules.
fn of(body: &str) -> Estimate {
    let text = format!(
        r#"policy t
outcomes green < red
input person {{
  stays: list of {{ region: region, from: time, phone: text, contacts: list of {{ number: text }} }}
  phones: list of {{ number: text, bound_at: time }}
  tests: list of {{ sampled_at: time, result: "negative" | "positive" }}
}}
facts {{ case_counties: set of region, cases: list of {{ number: text }} }}
{body}
otherwise green
"#
    );
    match crate::Policy::compile("t.policy", &text) {
        Ok(p) => estimate(p.plan()),
        Err(e) => unreachable!("{text}\n{e:?}"),
    }
}

/// The cost of the item named `name`, as printed. A `let s` is used by a
/// rule, as a `let` that nothing uses is not computed.
fn cost(body: &str, name: &str) -> String {
    let used = format!("{body}\nrule uses_s when any s then red");
    let e = of(if body.contains("let s =") {
        &used
    } else {
        body
    });
    e.items
        .iter()
        .find(|i| i.name == name)
        .map(|i| i.cost.to_string())
        .unwrap_or_else(|| unreachable!("no {name} in {:?}", e.items))
}

/// Whether the item named `name` is found superlinear.
fn superlinear(body: &str, name: &str) -> bool {
    of(body)
        .items
        .iter()
        .any(|i| i.name == name && i.superlinear.is_some())
}

#[test]
fn constants_and_single_fields_cost_one() {
    assert_eq!(
        cost("rule r when now > 2021-01-01T00:00:00Z then red", "r"),
        "O(1)"
    );
    assert_eq!(
        cost("rule r when count(person.stays) > 3 then red", "r"),
        "O(1)"
    );
}

#[test]
fn where_and_quantifiers_are_linear_in_their_list() {
    assert_eq!(
        cost("let s = person.stays where from < now", "s"),
        "O(stays)"
    );
    for q in ["any", "all", "no"] {
        let body = format!("rule r when {q} person.tests has result = \"negative\" then red");
        assert_eq!(cost(&body, "r"), "O(tests)");
    }
    // Without a body, `any L` only asks whether it is empty.
    assert_eq!(cost("rule r when any person.tests then red", "r"), "O(1)");
    assert_eq!(
        cost(
            "rule r when any (person.tests where result = \"negative\") then red",
            "r"
        ),
        "O(tests)"
    );
}

#[test]
fn a_let_is_paid_once_and_its_uses_cost_one() {
    let body = "let s = person.stays where from < now\nrule r when count(s) > 1 then red";
    assert_eq!(cost(body, "s"), "O(stays)");
    assert_eq!(cost(body, "r"), "O(1)");
    // Iterating over the let costs its size, which is its source's.
    let body = "let s = person.stays where from < now\nrule r when any s has region in case_counties then red";
    assert_eq!(cost(body, "r"), "O(stays)");
}

#[test]
fn a_projection_costs_its_list() {
    assert_eq!(
        cost("rule r when \"1\" in person.phones.number then red", "r"),
        "O(phones)"
    );
}

#[test]
fn membership_in_a_let_is_a_lookup_and_in_a_made_list_a_scan() {
    // The projection is lifted out of the `where` into a hidden let, made
    // and sorted once per person: O(stays + phones), not the product.
    let body = "let numbers = person.phones.number\nlet s = person.stays where phone in numbers";
    assert_eq!(cost(body, "s"), "O(phones + stays)");
    assert!(!superlinear(body, "s"));
    let body = "let s = person.stays where phone in person.phones.number";
    assert_eq!(cost(body, "s"), "O(phones + stays)");
    // A literal list is a constant; a set of facts a lookup made per load.
    let body = "let s = person.stays where phone in [\"1\", \"2\"]";
    assert_eq!(cost(body, "s"), "O(stays)");
    let body = "let s = person.stays where region in case_counties";
    assert_eq!(cost(body, "s"), "O(stays)");
    // A list made for the element (its own contacts, filtered) is scanned.
    let body = "let s = person.stays where phone in (contacts where number != \"0\").number";
    assert_eq!(cost(body, "s"), "O(stays + stays.contacts)");
}

#[test]
fn nested_quantifiers_over_one_list_are_quadratic() {
    let body = "rule r when any a in person.tests has any b in person.tests has a.result != b.result then red";
    assert_eq!(cost(body, "r"), "O(tests²)");
    assert!(superlinear(body, "r"));
}

#[test]
fn nested_quantifiers_over_two_lists_are_their_product() {
    let body = "rule r when any s in person.stays has any p in person.phones has p.number = s.phone then red";
    assert_eq!(cost(body, "r"), "O(phones × stays)");
    assert!(superlinear(body, "r"));
    // Over a list of the facts, too: its length is per person.
    let body =
        "rule r when any s in person.stays has any c in cases has c.number = s.phone then red";
    assert_eq!(cost(body, "r"), "O(cases × stays)");
    let lints = super::lints(&of(body));
    assert_eq!(lints.len(), 1);
}

#[test]
fn three_nested_loops_are_cubic() {
    let body = "rule r when any a in person.tests has any b in person.tests has any c in person.tests has a.result != b.result and b.result != c.result then red";
    assert_eq!(cost(body, "r"), "O(tests³)");
}

#[test]
fn a_comparison_with_a_bound_reads_the_least_or_greatest() {
    // The shipped quarantine shape: the inner quantifier compares its
    // element's field with a bound of the outer one.
    let body = "let n = person.tests where result = \"negative\"\nrule r when any later in n has any earlier in n has earlier.sampled_at <= later.sampled_at - 24h then red";
    assert_eq!(cost(body, "r"), "O(tests)");
    assert!(!superlinear(body, "r"));
    // Not with equality, nor with a bound that reads the inner element.
    let body = "let n = person.tests where result = \"negative\"\nrule r when any later in n has any earlier in n has earlier.sampled_at = later.sampled_at then red";
    assert_eq!(cost(body, "r"), "O(tests²)");
    // A list that does not depend on the outer element is lifted into a
    // hidden let, and so it is linear too; one made for each outer element
    // is compared element by element.
    let body = "rule r when any later in person.tests has any earlier in (person.tests where t has t.result = \"negative\") has earlier.sampled_at <= later.sampled_at then red";
    assert_eq!(cost(body, "r"), "O(tests)");
    let body = "rule r when any later in person.tests has any earlier in (person.tests where t has t.result = later.result) has earlier.sampled_at <= later.sampled_at then red";
    assert_eq!(cost(body, "r"), "O(tests²)");
}

#[test]
fn the_lists_of_each_element_cost_their_total() {
    let body =
        "rule r when any s in person.stays has any c in s.contacts has c.number = s.phone then red";
    assert_eq!(cost(body, "r"), "O(stays + stays.contacts)");
    assert!(!superlinear(body, "r"));
}

#[test]
fn what_reads_only_the_facts_is_paid_per_load() {
    let body = "let p = prefectures(case_counties)\nrule r when any person.stays has prefecture(region) in p then red";
    assert_eq!(cost(body, "r"), "O(stays)");
    // `p` is computed once per facts load, where the rule reads it: not
    // per person.
    assert!(of(body).items.iter().all(|i| i.name != "p"));
}

#[test]
fn the_cost_per_person_is_the_sum_of_the_items() {
    let body = "let s = person.stays where from < now\nrule r when any person.tests has result = \"negative\" then red";
    // A `let` that nothing uses is not computed.
    assert_eq!(of(body).per_person.to_string(), "O(tests)");
    let used = format!("{body}\nrule r2 when any s then red");
    assert_eq!(of(&used).per_person.to_string(), "O(stays + tests)");
}

#[test]
fn each_level_of_a_deep_nesting_counts_once() {
    // Each level is walked once, and multiplies the cost by its list.
    let mut cond = "a0.result = \"negative\"".to_owned();
    for i in (1..12).rev() {
        cond = format!("any a{i} in person.tests has ({cond} or a{i}.result = \"positive\")");
    }
    let body = format!("rule r when any a0 in person.tests has {cond} then red");
    let e = of(&body);
    assert_eq!(e.per_person.degree(), 12);
}

#[test]
fn a_cost_keeps_only_its_highest_terms() {
    use super::Cost;
    let (stays, tests) = (Cost::var("stays".into()), Cost::var("tests".into()));
    let product = stays.times(&tests);
    assert_eq!(product.to_string(), "O(stays × tests)");
    // A term another divides is dropped, and so is the constant.
    let all = Cost::sum([&Cost::one(), &stays, &product, &tests]);
    assert_eq!(all.to_string(), "O(stays × tests)");
    assert_eq!(stays.plus(&tests).to_string(), "O(stays + tests)");
    assert_eq!(tests.times(&tests).times(&tests).to_string(), "O(tests³)");
    assert_eq!(Cost::sum([]).to_string(), "O(1)");
    // The lists of each stay, over all stays, absorb one power of `stays`.
    let contacts = Cost::var("stays.contacts".into());
    assert_eq!(stays.times(&contacts).to_string(), "O(stays.contacts)");
    assert_eq!(
        stays.times(&stays).times(&contacts).to_string(),
        "O(stays × stays.contacts)"
    );
}
