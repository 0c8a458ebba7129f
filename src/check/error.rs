//! What can be wrong with a policy that parses: names, types, declarations.

use miette::Diagnostic;
use thiserror::Error;

use crate::syntax::Span;

/// A check error, with the span it is about and what to write instead.
#[derive(Debug, Clone, PartialEq, Error, Diagnostic)]
pub enum CheckError {
    /// A name that is not a `let`, a fact, the input, or a field in scope.
    #[error("unknown name `{name}`")]
    #[diagnostic(code(policy::check::unknown_name))]
    UnknownName {
        /// The name.
        name: String,
        /// Where.
        #[label("not defined")]
        span: Span,
        /// A suggestion.
        #[help]
        help: String,
    },
    /// A field that the record type does not have.
    #[error("`{record}` has no field `{field}`")]
    #[diagnostic(code(policy::check::unknown_field))]
    UnknownField {
        /// The field asked for.
        field: String,
        /// What it was asked of.
        record: String,
        /// Where.
        #[label("no such field")]
        span: Span,
        /// A suggestion, or the fields there are.
        #[help]
        help: String,
    },
    /// A value of the wrong type.
    #[error("expected {expected}, found `{found}`")]
    #[diagnostic(code(policy::check::type_mismatch))]
    Mismatch {
        /// What the context needs.
        expected: String,
        /// The type found.
        found: String,
        /// Where.
        #[label("this is `{found}`")]
        span: Span,
        /// What to write instead.
        #[help]
        help: Option<String>,
    },
    /// An operator applied to types it does not take.
    #[error("`{op}` cannot take `{left}` and `{right}`")]
    #[diagnostic(code(policy::check::operands))]
    Operands {
        /// The operator.
        op: String,
        /// The left type.
        left: String,
        /// The right type.
        right: String,
        /// Where.
        #[label("`{left}` {op} `{right}`")]
        span: Span,
        /// What it takes.
        #[help]
        help: String,
    },
    /// `element(L, n)` with an `n` that is no element's place.
    #[error("`{text}` is not the place of an element")]
    #[diagnostic(
        code(policy::check::element_place),
        help("elements are counted from 1: the first is `element(L, 1)`, as `first(L)`")
    )]
    ElementPlace {
        /// The place as written.
        text: String,
        /// Where.
        #[label("not a whole number from 1")]
        span: Span,
    },
    /// `R is empty` on a record with a field that always has a value.
    #[error("`{text}` is never empty")]
    #[diagnostic(code(policy::check::never_empty))]
    NeverEmpty {
        /// The record as written.
        text: String,
        /// Its field that always has a value.
        field: String,
        /// Where.
        #[label("its field `{field}` always has a value")]
        span: Span,
        /// What to write instead.
        #[help]
        help: String,
    },
    /// An optional value used where a value is required.
    #[error("`{text}` may be none")]
    #[diagnostic(code(policy::check::maybe_none))]
    MaybeNone {
        /// The expression as written.
        text: String,
        /// Where.
        #[label("this is `{ty}`")]
        span: Span,
        /// Its type.
        ty: String,
        /// What to write instead.
        #[help]
        help: String,
    },
    /// A type name that does not exist.
    #[error("unknown type `{name}`")]
    #[diagnostic(code(policy::check::unknown_type))]
    UnknownType {
        /// The name.
        name: String,
        /// Where.
        #[label("not a type")]
        span: Span,
        /// A suggestion, or the types there are.
        #[help]
        help: String,
    },
    /// A function that is not built in.
    #[error("unknown function `{name}`")]
    #[diagnostic(code(policy::check::unknown_function))]
    UnknownFunction {
        /// The name.
        name: String,
        /// Where.
        #[label("not a function")]
        span: Span,
        /// A suggestion, or the functions there are.
        #[help]
        help: String,
    },
    /// A function called with the wrong number of arguments.
    #[error("`{name}` takes {expected}, found {found}")]
    #[diagnostic(code(policy::check::arity), help("write `{usage}`"))]
    Arity {
        /// The function.
        name: String,
        /// How many it takes, in words.
        expected: String,
        /// How many were given, in words.
        found: String,
        /// How to call it.
        usage: String,
        /// Where.
        #[label("this call")]
        span: Span,
    },
    /// A calendar duration where it cannot be counted: it moves a time.
    #[error("`{text}` is a calendar duration: it can only move a time")]
    #[diagnostic(code(policy::check::calendar_place))]
    CalendarPlace {
        /// The duration as written.
        text: String,
        /// Where.
        #[label("a calendar duration here")]
        span: Span,
        /// What to write instead.
        #[help]
        help: String,
    },
    /// A calendar count from an instant already counted on the calendar.
    #[error("`{text}` is already counted on the calendar")]
    #[diagnostic(
        code(policy::check::calendar_twice),
        help("count once: for `t + 1 year + 1 month` write `t + 13 months`")
    )]
    CalendarTwice {
        /// The expression as written.
        text: String,
        /// Where.
        #[label("counted here")]
        span: Span,
    },
    /// A calendar count from an instant that moves with `now`.
    #[error("a calendar count cannot start from `{text}`: it moves with `now`")]
    #[diagnostic(code(policy::check::calendar_now), help("{help}"))]
    CalendarNow {
        /// The expression as written.
        text: String,
        /// Where.
        #[label("this moves with `now`")]
        span: Span,
        /// What to write instead.
        help: String,
    },
    /// A name declared twice.
    #[error("{what} `{name}` is declared twice")]
    #[diagnostic(
        code(policy::check::duplicate),
        help("give each {what} its own name, or remove one")
    )]
    Duplicate {
        /// What kind of thing.
        what: &'static str,
        /// The name.
        name: String,
        /// The second declaration.
        #[label("declared again here")]
        span: Span,
        /// The first.
        #[label("first declared here")]
        first: Span,
    },
    /// A data key that JSON would have to escape.
    #[error("`{key}` cannot be a data key")]
    #[diagnostic(
        code(policy::check::bad_key),
        help(
            "write the key as the data spells it, without quotes, backslashes or control characters"
        )
    )]
    BadKey {
        /// The key.
        key: String,
        /// Where.
        #[label("a key with a character JSON escapes")]
        span: Span,
    },
    /// An outcome that `outcomes` does not declare.
    #[error("unknown outcome `{name}`")]
    #[diagnostic(code(policy::check::unknown_outcome))]
    UnknownOutcome {
        /// The name.
        name: String,
        /// Where.
        #[label("not declared in `outcomes`")]
        span: Span,
        /// A suggestion, or the outcomes there are.
        #[help]
        help: String,
    },
    /// A declaration every policy needs.
    #[error("the policy has no `{what}`")]
    #[diagnostic(code(policy::check::missing))]
    Missing {
        /// The missing keyword.
        what: &'static str,
        /// The policy header.
        #[label("in this policy")]
        span: Span,
        /// What to add.
        #[help]
        help: String,
    },
    /// `effective from T until U` with `U` not after `T`.
    #[error("this version ends before it takes effect")]
    #[diagnostic(
        code(policy::check::effective_until),
        help("write an `until` after `from`, or leave it out while the end is not known")
    )]
    EffectiveUntil {
        /// `from`.
        #[label("in force from here")]
        from: Span,
        /// `until`.
        #[label("until this, which is not later")]
        until: Span,
    },
    /// A declaration that may appear only once.
    #[error("`{what}` is given twice")]
    #[diagnostic(code(policy::check::repeated), help("keep one `{what}`"))]
    Repeated {
        /// The keyword.
        what: &'static str,
        /// The second one.
        #[label("given again here")]
        span: Span,
        /// The first one.
        #[label("first given here")]
        first: Span,
    },
    /// A `messages` block, or an entry of one, given twice.
    #[error("{what} is given twice")]
    #[diagnostic(code(policy::check::repeated_message), help("keep one"))]
    RepeatedMessage {
        /// What, as written.
        what: String,
        /// The second one.
        #[label("given again here")]
        span: Span,
        /// The first one.
        #[label("first given here")]
        first: Span,
    },
    /// `resolving gaps later, gaps earlier`: one case said twice.
    #[error("`{case}` is resolved twice")]
    #[diagnostic(
        code(policy::check::resolving),
        help("say once how to read them: `resolving gaps later, folds earlier`")
    )]
    Resolving {
        /// `gaps` or `folds`.
        case: &'static str,
        /// The second one.
        #[label("said again here")]
        span: Span,
        /// The first one.
        #[label("first said here")]
        first: Span,
    },
    /// A record's constraint that uses something other than the record.
    #[error("a record's constraint can use only the fields of the record, not {what}")]
    #[diagnostic(
        code(policy::check::constraint_scope),
        help(
            "a constraint says what each record satisfies on its own, like `to is none or to >= from`; conditions on facts or `now` belong in rules"
        )
    )]
    ConstraintScope {
        /// What it used, in words.
        what: String,
        /// Where.
        #[label("not a field of this record")]
        span: Span,
    },
    /// `facts expire ...` without a facts declaration.
    #[error("`facts expire` needs facts")]
    #[diagnostic(
        code(policy::check::facts_expire),
        help(
            "declare the facts, like `facts {{ case_counties: set of region }}`, or remove this line"
        )
    )]
    ExpireWithoutFacts {
        /// Where.
        #[label("the policy declares no facts")]
        span: Span,
    },
    /// A time zone the bundled database does not know.
    #[error("unknown time zone `{name}`")]
    #[diagnostic(code(policy::check::time_zone))]
    TimeZone {
        /// The name.
        name: String,
        /// Where.
        #[label("not an IANA time zone")]
        span: Span,
        /// A suggestion.
        #[help]
        help: String,
    },
    /// A time literal that is not an instant.
    #[error("`{text}` is not a time")]
    #[diagnostic(code(policy::check::time))]
    Time {
        /// The literal.
        text: String,
        /// Where.
        #[label("{reason}")]
        span: Span,
        /// Why.
        reason: String,
        /// What to write instead.
        #[help]
        help: String,
    },
    /// A region literal that is not in the table at that level.
    #[error("`{code}` is not a {level} in the region table")]
    #[diagnostic(code(policy::check::region))]
    Region {
        /// The code as written.
        code: String,
        /// The level asked for.
        level: &'static str,
        /// Where.
        #[label("{reason}")]
        span: Span,
        /// Why.
        reason: String,
        /// What to write instead.
        #[help]
        help: Option<String>,
    },
    /// A string compared with an enumeration that does not list it.
    #[error("`{value:?}` is not one of {choices}")]
    #[diagnostic(code(policy::check::not_in_enum))]
    NotInEnum {
        /// The string.
        value: String,
        /// The enumeration.
        choices: String,
        /// Where.
        #[label("not a possible value")]
        span: Span,
        /// A suggestion.
        #[help]
        help: Option<String>,
    },
    /// A `let` used before the line that defines it.
    #[error("`{name}` is used before it is defined")]
    #[diagnostic(
        code(policy::check::let_order),
        help("move this `let` below the `let {name}` it uses")
    )]
    LetOrder {
        /// The name.
        name: String,
        /// The use.
        #[label("used here")]
        span: Span,
        /// The definition.
        #[label("defined here, later")]
        defined: Span,
    },
    /// A payload field whose type differs from the one most rules give it.
    #[error("payload field `{field}` is `{found}` here but `{expected}` elsewhere")]
    #[diagnostic(code(policy::check::payload))]
    Payload {
        /// The field.
        field: String,
        /// Its type here.
        found: String,
        /// The type the other rules give it.
        expected: String,
        /// Why that type: how many other places give it.
        #[help]
        help: String,
        /// Here.
        #[label("`{found}`, but `{field}` is `{expected}`")]
        span: Span,
        /// The first place that gives the expected type.
        #[label("`{field}` is `{expected}` here")]
        why: Span,
    },
    /// `it` or a bare field outside `where`/`has`.
    #[error("`it` is only defined inside `where` or `has`")]
    #[diagnostic(
        code(policy::check::no_element),
        help("`it` stands for the element being tested, as in `any phones has it.number = \"1\"`")
    )]
    NoElement {
        /// Where.
        #[label("outside `where` and `has`")]
        span: Span,
    },
    /// Test data that does not fit the schema.
    #[error("this data does not fit the schema: {message}")]
    #[diagnostic(
        code(policy::check::test_data),
        help("write the record the way the schema declares it")
    )]
    TestData {
        /// What is wrong, with its path.
        message: String,
        /// The data.
        #[label("here")]
        span: Span,
    },
    /// A test without `now`.
    #[error("test {name:?} has no `now`")]
    #[diagnostic(
        code(policy::check::test_now),
        help("say when it decides, like `now 2021-11-01T10:00+08:00`")
    )]
    TestNow {
        /// The test.
        name: String,
        /// Its name.
        #[label("in this test")]
        span: Span,
    },
    /// A test step naming something other than the input.
    #[error("`{name}` is not the input of this policy")]
    #[diagnostic(code(policy::check::test_input))]
    TestInput {
        /// What was written.
        name: String,
        /// Where.
        #[label("not the input")]
        span: Span,
        /// What to write.
        #[help]
        help: String,
    },
    /// An expectation about a rule that does not exist.
    #[error("unknown rule `{name}`")]
    #[diagnostic(code(policy::check::unknown_rule))]
    UnknownRule {
        /// The name.
        name: String,
        /// Where.
        #[label("no such rule")]
        span: Span,
        /// A suggestion, or the rules there are.
        #[help]
        help: String,
    },
    /// A language tag that is not one.
    #[error("`{tag}` is not a language tag")]
    #[diagnostic(
        code(policy::check::language_tag),
        help(
            "write a BCP 47 tag: a two- or three-letter language, then any subtags, like `zh`, `en` or `zh-Hant`"
        )
    )]
    LanguageTag {
        /// The tag.
        tag: String,
        /// Where.
        #[label("not a language tag")]
        span: Span,
    },
    /// A message for something the policy does not have.
    #[error("a message for {what} `{name}`, which the policy does not have")]
    #[diagnostic(code(policy::check::unknown_message))]
    UnknownMessage {
        /// What kind of thing.
        what: &'static str,
        /// Its name or text.
        name: String,
        /// Where.
        #[label("no such {what}")]
        span: Span,
        /// A suggestion, or what can be given.
        #[help]
        help: String,
    },
    /// A quantifier that needs a condition.
    #[error("`all` needs a condition")]
    #[diagnostic(
        code(policy::check::all_needs_has),
        help("write `all LIST has CONDITION`")
    )]
    AllNeedsBody {
        /// Where.
        #[label("`all` of what?")]
        span: Span,
    },
    /// A bare name that two enclosing elements both provide.
    #[error("`{name}` is ambiguous: two enclosing elements have it")]
    #[diagnostic(code(policy::check::ambiguous_name))]
    AmbiguousName {
        /// The name.
        name: String,
        /// Where.
        #[label("which element's `{name}`?")]
        span: Span,
        /// What the inner element ranges over.
        #[label("{inner_label}")]
        inner: Span,
        /// What it says about the inner element.
        inner_label: String,
        /// What the enclosing element ranges over.
        #[label("{outer_label}")]
        outer: Span,
        /// What it says about the enclosing element.
        outer_label: String,
        /// How to name each.
        #[help]
        help: String,
    },
    /// A payload field named like a key of the decision.
    #[error("payload field `{field}` has the name of a key of the decision")]
    #[diagnostic(code(policy::check::payload_key))]
    PayloadKey {
        /// The field.
        field: String,
        /// Where.
        #[label("the decision already has `{field}`: {meaning}")]
        span: Span,
        /// What the decision's key means.
        meaning: &'static str,
        /// What to write instead.
        #[help]
        help: String,
    },
}
