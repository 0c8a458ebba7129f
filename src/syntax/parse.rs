//! The pest grammar binding and the lowering of its parse tree into the AST:
//! one function per grammar rule, named after it.

use std::sync::LazyLock;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::error::{SyntaxError, from_pest};

/// The generated parser for `grammar/policy.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/policy.pest"]
pub(super) struct PolicyParser;

/// Operator precedence, lowest first.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::where_op, Assoc::Left))
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::cmp_op, Assoc::Left)
            | Op::infix(Rule::in_op, Assoc::Left)
            | Op::infix(Rule::not_in_op, Assoc::Left)
            | Op::infix(Rule::within_op, Assoc::Left)
            | Op::infix(Rule::overlaps_op, Assoc::Left)
            | Op::infix(Rule::starts_with_op, Assoc::Left)
            | Op::infix(Rule::ends_with_op, Assoc::Left)
            | Op::infix(Rule::contains_op, Assoc::Left))
        .op(Op::infix(Rule::add_op, Assoc::Left) | Op::infix(Rule::sub_op, Assoc::Left))
        .op(Op::infix(Rule::mul_op, Assoc::Left) | Op::infix(Rule::div_op, Assoc::Left))
        .op(Op::prefix(Rule::neg_op))
        .op(Op::postfix(Rule::field_access)
            | Op::postfix(Rule::is_none)
            | Op::postfix(Rule::is_some)
            | Op::postfix(Rule::is_empty)
            | Op::postfix(Rule::is_not_empty))
});

type Result<T> = std::result::Result<T, SyntaxError>;

/// Parses a whole policy.
pub fn parse(text: &str) -> Result<Policy> {
    limit_nesting(text)?;
    let mut pairs = PolicyParser::parse(Rule::policy, text).map_err(|e| from_pest(&e, text))?;
    limit_depth(&pairs)?;
    let Some(top) = pairs.next() else {
        unreachable!("a successful parse yields the `policy` rule")
    };
    policy(top)
}

/// Parses a file that stands at byte `offset` of a program's whole text
/// (its files one after the other: [`crate::source::Source::joined`]), so
/// that its spans are places in the whole.
pub fn parse_at(text: &str, offset: usize) -> Result<Policy> {
    if offset == 0 {
        return parse(text);
    }
    // White space before the header is trivia: the file's tokens land at
    // their places in the whole, and nothing else changes.
    let mut shifted = " ".repeat(offset);
    shifted.push_str(text);
    parse(&shifted)
}

/// How deeply constructs may nest in the parse tree.
const MAX_NESTING: usize = 96;
/// How deeply expressions may nest once operators are grouped.
const MAX_DEPTH: usize = 160;

/// How deeply brackets, `has` conditions and `of` types may nest, together.
const MAX_NESTING_WORDS: usize = MAX_DEPTH / 4;

/// Refuses nesting deeper than any policy needs, before the parser recurses
/// into it: brackets, and the constructs that nest without brackets, a
/// quantifier's `has` condition (which runs to the end of the enclosing
/// expression) and a type's `list of` or `set of`.
fn limit_nesting(text: &str) -> Result<()> {
    // For each open bracket (and the top level), how many `has` and `of`
    // are open inside it; `total` adds them up with the brackets.
    let mut open: Vec<usize> = vec![0];
    let mut total = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        i += 1;
        match c {
            b'#' => i = text[i..].find('\n').map_or(bytes.len(), |n| i + n),
            b'"' => {
                let mut escaped = false;
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    match c {
                        b'\\' => escaped = !escaped,
                        b'"' | b'\n' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            b'(' | b'[' | b'{' => {
                open.push(0);
                total += 1;
            }
            b')' | b']' | b'}' if open.len() > 1 => {
                total -= open.pop().unwrap_or(0) + 1;
            }
            // A new field, payload field or argument: what was open in
            // the one before it is closed.
            b',' | b':' => {
                if let Some(count) = open.last_mut() {
                    total -= *count;
                    *count = 0;
                }
            }
            c if c.is_ascii_digit() => {
                // A number, a duration or a time, colons included.
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.'))
                {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
                {
                    i += 1;
                }
                let Some(count) = open.last_mut() else {
                    continue;
                };
                match &text[start..i] {
                    "has" | "of" => {
                        *count += 1;
                        total += 1;
                    }
                    // A new clause or declaration closes every `has` and
                    // `of` of the one before.
                    "when" | "unless" | "then" | "let" | "rule" | "warning" | "otherwise"
                    | "input" | "facts" | "outcomes" | "version" | "timezone" | "policy" => {
                        total -= *count;
                        *count = 0;
                    }
                    _ => continue,
                }
            }
            _ => continue,
        }
        if total > MAX_NESTING_WORDS {
            let end = text[start..].chars().next().map_or(start, |c| {
                if c.is_alphanumeric() {
                    i
                } else {
                    start + c.len_utf8()
                }
            });
            return Err(SyntaxError::TooDeep {
                span: Span::new(start, end),
            });
        }
    }
    Ok(())
}

/// Refuses parse trees so deep that lowering them could exhaust the stack;
/// checked without recursion. (Operator chains are bounded as they are
/// grouped, by `MAX_DEPTH`.)
fn limit_depth(pairs: &Pairs<'_, Rule>) -> Result<()> {
    use pest::Token;
    let mut stack: Vec<Rule> = Vec::new();
    for token in pairs.clone().tokens() {
        match token {
            Token::Start { rule, pos } => {
                stack.push(rule);
                if stack.len() > MAX_NESTING {
                    return Err(SyntaxError::TooDeep {
                        span: Span::new(pos.pos(), pos.pos() + 1),
                    });
                }
            }
            Token::End { .. } => {
                stack.pop();
            }
        }
    }
    Ok(())
}

/// The pair's span without the white space and comments that pest keeps at
/// the end of a rule whose last part is optional and absent.
///
/// Computed along the chain of last children, bottom up, once: each level
/// ends where its last child does when only trivia follows that child.
fn span(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let input = s.get_input();
    let mut ends = vec![s.end()];
    let mut current = pair.clone();
    while let Some(last) = current.clone().into_inner().next_back() {
        ends.push(last.as_span().end());
        current = last;
    }
    let mut end = ends.pop().unwrap_or(s.end());
    while let Some(outer) = ends.pop() {
        if !input.get(end..outer).is_some_and(is_trivia) {
            end = outer;
        }
    }
    Span::new(s.start(), end)
}

/// Only white space and comments.
fn is_trivia(mut text: &str) -> bool {
    loop {
        text = text.trim_start();
        match text.strip_prefix('#') {
            Some(comment) => text = comment.split_once('\n').map_or("", |(_, rest)| rest),
            None => return text.is_empty(),
        }
    }
}

/// The children of `pair` that carry meaning: keywords are dropped.
fn children<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::POLICY
            | Rule::VERSION
            | Rule::TIMEZONE
            | Rule::OUTCOMES
            | Rule::INPUT
            | Rule::FACTS
            | Rule::LET
            | Rule::RULE
            | Rule::WHEN
            | Rule::UNLESS
            | Rule::THEN
            | Rule::WARNING
            | Rule::OTHERWISE
            | Rule::LIST
            | Rule::SET
            | Rule::OF
            | Rule::HAS
            | Rule::IS
            | Rule::NOT
            | Rule::NONE
            | Rule::IF
            | Rule::ELSE
            | Rule::BY
            | Rule::TEST
            | Rule::EXPECT
            | Rule::AT
            | Rule::RULES
            | Rule::REMEDY
            | Rule::ADDS
            | Rule::LANGUAGE
            | Rule::MESSAGES
            | Rule::RESOLVING
            | Rule::EXPIRE
            | Rule::AFTER
            | Rule::AS_OF
            | Rule::REQUIRING
            | Rule::REQUIRED
            | Rule::FROM
            | Rule::CODE
            | Rule::EFFECTIVE
            | Rule::UNTIL
            | Rule::USE
            | Rule::EOI
    )
}

/// The next child, which the grammar guarantees.
fn next<'i>(it: &mut impl Iterator<Item = Pair<'i, Rule>>) -> Pair<'i, Rule> {
    match it.next() {
        Some(pair) => pair,
        None => unreachable!("the grammar guarantees this child"),
    }
}

fn policy(pair: Pair<'_, Rule>) -> Result<Policy> {
    let mut it = children(pair);
    let (name, title, library) = header(next(&mut it))?;
    let items = library
        .map(|span| Ok(Item::Library(span)))
        .into_iter()
        .chain(it.map(item))
        .collect::<Result<_>>()?;
    Ok(Policy { name, title, items })
}

/// The header's name and title, and the span of `library` if it says so.
type Header = (Ident, Option<Spanned<String>>, Option<Span>);

fn header(pair: Pair<'_, Rule>) -> Result<Header> {
    let mut it = children(pair).peekable();
    let library = it
        .next_if(|p| p.as_rule() == Rule::library_kw)
        .map(|p| span(&p));
    let name = ident(next(&mut it));
    let title = it.next().map(string).transpose()?;
    Ok((name, title, library))
}

fn item(pair: Pair<'_, Rule>) -> Result<Item> {
    Ok(match pair.as_rule() {
        Rule::use_decl => Item::Use(string(next(&mut children(pair)))?),
        Rule::version_decl => Item::Version(string(next(&mut children(pair)))?),
        Rule::timezone_decl => Item::Timezone(timezone_decl(pair)?),
        Rule::effective_decl => {
            let mut it = children(pair).map(|p| Spanned::new(p.as_str().to_owned(), span(&p)));
            match it.next() {
                Some(from) => Item::Effective(EffectiveDecl {
                    from,
                    until: it.next(),
                }),
                None => unreachable!("the grammar guarantees `from`"),
            }
        }
        Rule::outcomes_decl => Item::Outcomes(children(pair).map(ident).collect()),
        Rule::input_decl => input_decl(pair)?,
        Rule::facts_decl => Item::Facts(record_type(next(&mut children(pair)))?),
        Rule::facts_expiry => {
            let lit = next(&mut children(pair));
            let whole = span(&lit);
            Item::FactsExpire(Spanned::new(duration_lit(lit.as_str(), whole)?, whole))
        }
        Rule::let_decl => Item::Let(let_decl(pair)?),
        Rule::rule_decl => Item::Rule(rule_decl(pair)?),
        Rule::warning_decl => Item::Warning(warning_decl(pair)?),
        Rule::otherwise_decl => Item::Otherwise(outcome_call(next(&mut children(pair)))?),
        Rule::test_decl => Item::Test(test_decl(pair)?),
        Rule::remedy_decl => {
            let mut it = children(pair);
            let title = string(next(&mut it))?;
            let list = ident(next(&mut it));
            let record = data(next(&mut it))?;
            Item::Remedy(RemedyDecl {
                title,
                list,
                record,
            })
        }
        Rule::language_decl => Item::Language(string(next(&mut children(pair)))?),
        Rule::messages_decl => {
            let mut it = children(pair);
            let language = string(next(&mut it))?;
            let entries = it.map(message).collect::<Result<_>>()?;
            Item::Messages(MessagesDecl { language, entries })
        }
        other => unreachable!("not an item: {other:?}"),
    })
}

/// One entry of a `messages` block.
fn message(pair: Pair<'_, Rule>) -> Result<Message> {
    let rule = pair.as_rule();
    let start = pair.as_span().start();
    let mut it = children(pair);
    let key = match rule {
        Rule::message_policy => {
            let text = string(next(&mut it))?;
            let key = Spanned::new(MessageKey::Policy, Span::new(start, text.span.start));
            return Ok(Message { key, text });
        }
        Rule::message_named => {
            let kind = next(&mut it);
            let name = ident(next(&mut it));
            let span = Span::new(start, name.span.end);
            let key = match kind.as_str() {
                "outcome" => MessageKey::Outcome(name.node),
                "rule" => MessageKey::Rule(name.node),
                "warning" => MessageKey::Warning(name.node),
                _ => MessageKey::Name(name.node),
            };
            Spanned::new(key, span)
        }
        _ => {
            let kind = next(&mut it);
            let source = string(next(&mut it))?;
            let span = Span::new(start, source.span.end);
            let key = match kind.as_str() {
                "remedy" => MessageKey::Remedy(source.node),
                _ => MessageKey::Text(source.node),
            };
            Spanned::new(key, span)
        }
    };
    let text = string(next(&mut it))?;
    Ok(Message { key, text })
}

fn timezone_decl(pair: Pair<'_, Rule>) -> Result<TimezoneDecl> {
    let mut it = children(pair);
    let name = string(next(&mut it))?;
    let resolving = it
        .next()
        .map(|r| children(r).map(resolution).collect())
        .unwrap_or_default();
    Ok(TimezoneDecl { name, resolving })
}

/// `gaps later`
fn resolution(pair: Pair<'_, Rule>) -> Resolution {
    let mut it = children(pair);
    let case = next(&mut it);
    let side = match next(&mut it).as_str() {
        "earlier" => crate::time::Side::Earlier,
        _ => crate::time::Side::Later,
    };
    let kind = match case.as_str() {
        "gaps" => LocalCase::Gaps,
        _ => LocalCase::Folds,
    };
    Resolution {
        case: Spanned::new(kind, span(&case)),
        side,
    }
}

fn input_decl(pair: Pair<'_, Rule>) -> Result<Item> {
    let mut it = children(pair);
    let name = ident(next(&mut it));
    let fields = record_type(next(&mut it))?;
    Ok(Item::Input { name, fields })
}

fn let_decl(pair: Pair<'_, Rule>) -> Result<LetDecl> {
    let mut it = children(pair);
    let name = ident(next(&mut it));
    let value = expr(next(&mut it))?;
    Ok(LetDecl { name, value })
}

fn rule_decl(pair: Pair<'_, Rule>) -> Result<RuleDecl> {
    let mut it = children(pair).peekable();
    let name = ident(next(&mut it));
    let code = match it.peek().map(Pair::as_rule) {
        Some(Rule::rule_code) => Some(string(next(&mut children(next(&mut it))))?),
        _ => None,
    };
    let title = match it.peek().map(Pair::as_rule) {
        Some(Rule::string) => Some(string(next(&mut it))?),
        _ => None,
    };
    let when = when_clause(next(&mut it))?;
    let unless = match it.peek().map(Pair::as_rule) {
        Some(Rule::unless_clause) => Some(expr(next(&mut children(next(&mut it))))?),
        _ => None,
    };
    let then = outcome_call(next(&mut children(next(&mut it))))?;
    Ok(RuleDecl {
        name,
        code,
        title,
        when,
        unless,
        then,
    })
}

fn when_clause(pair: Pair<'_, Rule>) -> Result<Spanned<Expr>> {
    expr(next(&mut children(pair)))
}

fn warning_decl(pair: Pair<'_, Rule>) -> Result<WarningDecl> {
    let mut it = children(pair);
    let name = ident(next(&mut it));
    let message = string(next(&mut it))?;
    let when = when_clause(next(&mut it))?;
    Ok(WarningDecl {
        name,
        message,
        when,
    })
}

fn test_decl(pair: Pair<'_, Rule>) -> Result<TestDecl> {
    let mut it = children(pair);
    let name = string(next(&mut it))?;
    let steps = it.map(test_step).collect::<Result<_>>()?;
    Ok(TestDecl { name, steps })
}

fn test_step(pair: Pair<'_, Rule>) -> Result<TestStep> {
    let whole = span(&pair);
    Ok(match pair.as_rule() {
        Rule::test_now => {
            let time = children(pair).find(|p| p.as_rule() == Rule::time_lit);
            let time = time.map_or_else(
                || unreachable!("`now` has a time"),
                |t| Spanned::new(t.as_str().to_owned(), span(&t)),
            );
            TestStep::Now(time)
        }
        Rule::test_facts => TestStep::Facts(data(next(&mut children(pair)))?),
        Rule::test_input => {
            let mut it = children(pair);
            let name = ident(next(&mut it));
            TestStep::Input(name, data(next(&mut it))?)
        }
        Rule::test_expect => {
            let mut at = None;
            let mut what = None;
            for p in children(pair) {
                match p.as_rule() {
                    Rule::time_lit => at = Some(Spanned::new(p.as_str().to_owned(), span(&p))),
                    Rule::expect_rules => {
                        let rules = p
                            .into_inner()
                            .filter(|r| r.as_rule() == Rule::ident)
                            .map(ident)
                            .collect();
                        what = Some(Expectation::Rules(rules));
                    }
                    Rule::outcome_call => what = Some(Expectation::Outcome(outcome_call(p)?)),
                    _ => {}
                }
            }
            let what = what.unwrap_or_else(|| unreachable!("`expect` has an expectation"));
            TestStep::Expect(Spanned::new(ExpectStep { at, what }, whole))
        }
        other => unreachable!("not a test step: {other:?}"),
    })
}

fn data(pair: Pair<'_, Rule>) -> Result<Spanned<Data>> {
    let whole = span(&pair);
    let node = match pair.as_rule() {
        Rule::data_record => Data::Record(
            children(pair)
                .map(|f| {
                    let mut it = children(f);
                    let name = ident(next(&mut it));
                    Ok((name, data(next(&mut it))?))
                })
                .collect::<Result<_>>()?,
        ),
        Rule::data_list => Data::List(children(pair).map(data).collect::<Result<_>>()?),
        Rule::data_scalar => {
            let Some(inner) = pair.clone().into_inner().next() else {
                unreachable!("a scalar has a value")
            };
            let text = inner.as_str();
            match inner.as_rule() {
                Rule::region_lit => match region_lit(inner)? {
                    Expr::Region(level, code) => Data::Region(level, code),
                    _ => unreachable!("a region literal lowers to a region"),
                },
                Rule::time_lit => Data::Time(text.to_owned()),
                Rule::duration_lit => Data::Duration(duration_lit(text, whole)?),
                Rule::data_number => Data::Number(number(text, whole)?),
                Rule::string => Data::Text(string(inner)?.node),
                Rule::bool_lit => Data::Bool(text == "true"),
                Rule::now_kw => Data::Now,
                _ => Data::None,
            }
        }
        other => unreachable!("not data: {other:?}"),
    };
    Ok(Spanned::new(node, whole))
}

fn outcome_call(pair: Pair<'_, Rule>) -> Result<OutcomeCall> {
    let mut it = children(pair);
    let outcome = ident(next(&mut it));
    let payload = match it.next() {
        Some(p) => children(p).map(payload_field).collect::<Result<_>>()?,
        None => Vec::new(),
    };
    Ok(OutcomeCall { outcome, payload })
}

fn payload_field(pair: Pair<'_, Rule>) -> Result<(Ident, Spanned<Expr>)> {
    let mut it = children(pair);
    let name = ident(next(&mut it));
    Ok((name, expr(next(&mut it))?))
}

fn record_type(pair: Pair<'_, Rule>) -> Result<Vec<FieldDecl>> {
    children(pair).map(field_decl).collect()
}

fn field_decl(pair: Pair<'_, Rule>) -> Result<FieldDecl> {
    if matches!(pair.as_rule(), Rule::required_field | Rule::private_field) {
        let rule = pair.as_rule();
        let mut it = pair.into_inner();
        next(&mut it); // `required` or `private`
        let mut field = field_decl(next(&mut it))?;
        if rule == Rule::required_field {
            field.required = true;
        } else {
            field.private = true;
        }
        return Ok(field);
    }
    let mut it = children(pair).peekable();
    let name = ident(next(&mut it));
    let key = match it.peek().map(Pair::as_rule) {
        Some(Rule::field_key) => Some(string(next(&mut children(next(&mut it))))?),
        _ => None,
    };
    let ty = type_expr(next(&mut it))?;
    Ok(FieldDecl {
        name,
        key,
        ty,
        required: false,
        private: false,
    })
}

fn type_expr(pair: Pair<'_, Rule>) -> Result<Spanned<TypeExpr>> {
    let whole = span(&pair);
    let mut it = children(pair);
    let base = next(&mut it);
    let base_span = span(&base);
    let ty = match base.as_rule() {
        Rule::list_type => TypeExpr::List(Box::new(type_expr(next(&mut children(base)))?)),
        Rule::set_type => TypeExpr::Set(Box::new(type_expr(next(&mut children(base)))?)),
        Rule::record_shape => {
            let mut parts = children(base);
            let fields = record_type(next(&mut parts))?;
            match parts.next() {
                Some(requiring) => TypeExpr::Constrained {
                    fields,
                    requiring: Box::new(expr(next(&mut children(requiring)))?),
                },
                None => TypeExpr::Record(fields),
            }
        }
        Rule::enum_type => TypeExpr::Enum(children(base).map(string).collect::<Result<_>>()?),
        Rule::named_type => TypeExpr::Named(base.as_str().to_owned()),
        other => unreachable!("not a type: {other:?}"),
    };
    Ok(match it.next() {
        Some(_optional_mark) => Spanned::new(
            TypeExpr::Optional(Box::new(Spanned::new(ty, base_span))),
            whole,
        ),
        None => Spanned::new(ty, whole),
    })
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Spanned::new(pair.as_str().to_owned(), span(&pair))
}

fn string(pair: Pair<'_, Rule>) -> Result<Spanned<String>> {
    let whole = span(&pair);
    let body = next(&mut pair.into_inner());
    let mut out = String::with_capacity(body.as_str().len());
    let mut rest = body.as_str();
    let mut offset = span(&body).start;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let esc = &rest[i..];
        let (ch, len) = match esc.as_bytes().get(1) {
            Some(b'n') => ('\n', 2),
            Some(b't') => ('\t', 2),
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            _ => {
                // `\u{...}`: the grammar guarantees the shape.
                let close = esc.find('}').unwrap_or(esc.len() - 1);
                let hex = esc.get(3..close).unwrap_or("");
                let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                match ch {
                    Some(ch) => (ch, close + 1),
                    None => {
                        return Err(SyntaxError::Escape {
                            text: esc[..=close].to_owned(),
                            span: Span::new(offset + i, offset + i + close + 1),
                        });
                    }
                }
            }
        };
        out.push(ch);
        rest = &esc[len..];
        offset += i + len;
    }
    out.push_str(rest);
    Ok(Spanned::new(out, whole))
}

fn expr(pair: Pair<'_, Rule>) -> Result<Spanned<Expr>> {
    deep_expr(pair).map(|(e, _)| e)
}

/// An expression and its depth. Every later stage recurses over the AST, so
/// its depth is bounded here, as it is built.
type Deep = (Spanned<Expr>, usize);

fn deep_expr(pair: Pair<'_, Rule>) -> Result<Deep> {
    pratt(pair.into_inner())
}

/// A node over children of the given depths.
fn deeper(node: Spanned<Expr>, depths: impl IntoIterator<Item = usize>) -> Result<Deep> {
    let at = node.span;
    deeper_at(node, depths, at)
}

/// [`deeper`], saying that it is too deep from `at` on (the operand or
/// operator that makes a chain too long).
fn deeper_at(
    node: Spanned<Expr>,
    depths: impl IntoIterator<Item = usize>,
    at: Span,
) -> Result<Deep> {
    let depth = depths.into_iter().max().unwrap_or(0) + 1;
    if depth > MAX_DEPTH {
        return Err(SyntaxError::TooDeep { span: at });
    }
    Ok((node, depth))
}

/// What the Pratt parser builds: an expression, or a run of one of the
/// associative operators (`or`, `and`) still open to more operands.
enum Built {
    Expr(Deep),
    Chain(BinaryOp, Vec<Deep>),
}

/// Runs of `or` or `and` up to this long keep the shape the operators'
/// associativity gives them (each applies to the run before it); longer
/// ones are grouped as a balanced tree, so that a flat chain of thousands
/// of conditions does not become an expression thousands deep.
const LEFT_DEEP_CHAIN: usize = 64;

impl Built {
    /// The expression built, a run of operands grouped.
    fn finish(self) -> Result<Deep> {
        match self {
            Built::Expr(deep) => Ok(deep),
            Built::Chain(op, mut operands) if operands.len() <= LEFT_DEEP_CHAIN => {
                let rest = operands.split_off(1.min(operands.len()));
                rest.into_iter()
                    .try_fold(only(operands), |lhs, rhs| join(op, lhs, rhs))
            }
            Built::Chain(op, operands) => balanced(op, operands),
        }
    }
}

fn join(op: BinaryOp, (lhs, l): Deep, (rhs, r): Deep) -> Result<Deep> {
    let whole = lhs.span.to(rhs.span);
    let at = rhs.span;
    deeper_at(
        Spanned::new(Expr::Binary(op, Box::new(lhs), Box::new(rhs)), whole),
        [l, r],
        at,
    )
}

/// `a op b op c op d` as `(a op b) op (c op d)`: as deep as the logarithm of
/// the run's length.
fn balanced(op: BinaryOp, mut operands: Vec<Deep>) -> Result<Deep> {
    if operands.len() <= 1 {
        return Ok(only(operands));
    }
    let right = operands.split_off(operands.len() / 2);
    join(op, balanced(op, operands)?, balanced(op, right)?)
}

/// The one operand of a run cut down to one.
fn only(mut operands: Vec<Deep>) -> Deep {
    match operands.pop() {
        Some(deep) => deep,
        None => unreachable!("a run of operators has operands"),
    }
}

/// The most prefix operators in a row (`not not ...`, `- - ...`).
const MAX_PREFIXES: usize = MAX_DEPTH / 4;

fn pratt(pairs: Pairs<'_, Rule>) -> Result<Deep> {
    // The Pratt parser recurses once per prefix operator: a run of them is
    // bounded before it starts.
    let mut run = 0;
    for pair in pairs.clone() {
        if matches!(pair.as_rule(), Rule::not_op | Rule::neg_op) {
            run += 1;
            if run > MAX_PREFIXES {
                return Err(SyntaxError::TooDeep { span: span(&pair) });
            }
        } else {
            run = 0;
        }
    }
    PRATT
        .map_primary(|p| primary(p).map(Built::Expr))
        .map_prefix(|op, rhs| {
            let (rhs, d) = rhs?.finish()?;
            let at = span(&op);
            let whole = at.to(rhs.span);
            let op = match op.as_rule() {
                Rule::not_op => UnaryOp::Not,
                Rule::neg_op => UnaryOp::Neg,
                other => unreachable!("not a prefix operator: {other:?}"),
            };
            deeper_at(Spanned::new(Expr::Unary(op, Box::new(rhs)), whole), [d], at).map(Built::Expr)
        })
        .map_postfix(|lhs, op| {
            let (lhs, d) = lhs?.finish()?;
            let at = span(&op);
            let whole = lhs.span.to(at);
            let node = match op.as_rule() {
                Rule::field_access => Expr::Field(Box::new(lhs), ident(next(&mut children(op)))),
                Rule::is_none => Expr::IsNone {
                    value: Box::new(lhs),
                    negated: false,
                },
                Rule::is_some => Expr::IsNone {
                    value: Box::new(lhs),
                    negated: true,
                },
                rule @ (Rule::is_empty | Rule::is_not_empty) => Expr::IsEmpty {
                    value: Box::new(lhs),
                    negated: rule == Rule::is_not_empty,
                },
                other => unreachable!("not a postfix operator: {other:?}"),
            };
            deeper_at(Spanned::new(node, whole), [d], at).map(Built::Expr)
        })
        .map_infix(|lhs, op, rhs| {
            if op.as_rule() == Rule::where_op {
                let binder = children(op)
                    .find(|p| p.as_rule() == Rule::where_binder)
                    .map(|b| ident(next(&mut children(b))));
                let ((lhs, l), (rhs, r)) = (lhs?.finish()?, rhs?.finish()?);
                let (whole, at) = (lhs.span.to(rhs.span), rhs.span);
                let node = Expr::Where {
                    list: Box::new(lhs),
                    binder,
                    condition: Box::new(rhs),
                };
                return deeper_at(Spanned::new(node, whole), [l, r], at).map(Built::Expr);
            }
            let op = binary_op(&op);
            let rhs = rhs?.finish()?;
            match (lhs?, op) {
                (Built::Chain(chained, mut operands), BinaryOp::Or | BinaryOp::And)
                    if chained == op =>
                {
                    operands.push(rhs);
                    Ok(Built::Chain(op, operands))
                }
                (lhs, BinaryOp::Or | BinaryOp::And) => {
                    Ok(Built::Chain(op, vec![lhs.finish()?, rhs]))
                }
                (lhs, _) => join(op, lhs.finish()?, rhs).map(Built::Expr),
            }
        })
        .parse(pairs)?
        .finish()
}

fn binary_op(pair: &Pair<'_, Rule>) -> BinaryOp {
    match pair.as_rule() {
        Rule::or_op => BinaryOp::Or,
        Rule::and_op => BinaryOp::And,
        Rule::in_op => BinaryOp::In,
        Rule::not_in_op => BinaryOp::NotIn,
        Rule::within_op => BinaryOp::Within,
        Rule::overlaps_op => BinaryOp::Overlaps,
        Rule::add_op => BinaryOp::Add,
        Rule::sub_op => BinaryOp::Sub,
        Rule::mul_op => BinaryOp::Mul,
        Rule::div_op => BinaryOp::Div,
        Rule::starts_with_op => BinaryOp::StartsWith,
        Rule::ends_with_op => BinaryOp::EndsWith,
        Rule::contains_op => BinaryOp::Contains,
        Rule::cmp_op => match pair.as_str() {
            "=" => BinaryOp::Eq,
            "!=" => BinaryOp::Ne,
            "<" => BinaryOp::Lt,
            "<=" => BinaryOp::Le,
            ">" => BinaryOp::Gt,
            ">=" => BinaryOp::Ge,
            other => unreachable!("not a comparison: {other}"),
        },
        other => unreachable!("not an infix operator: {other:?}"),
    }
}

fn primary(pair: Pair<'_, Rule>) -> Result<Deep> {
    let whole = span(&pair);
    let text = pair.as_str();
    let node = match pair.as_rule() {
        Rule::quantifier => return quantifier(pair),
        Rule::conditional => return conditional(pair),
        Rule::extreme => return extreme(pair),
        Rule::paren => {
            // The parentheses belong to the expression's text: a condition
            // quoted from its span keeps them.
            let (mut inner, depth) = deep_expr(next(&mut children(pair)))?;
            inner.span = whole;
            return Ok((inner, depth));
        }
        Rule::bracket => {
            let items = children(pair).map(deep_expr).collect::<Result<Vec<_>>>()?;
            let depths: Vec<usize> = items.iter().map(|(_, d)| *d).collect();
            let items = items.into_iter().map(|(e, _)| e).collect();
            return deeper(Spanned::new(Expr::Bracket(items), whole), depths);
        }
        Rule::call => return call(pair),
        Rule::region_lit => region_lit(pair)?,
        Rule::time_lit => Expr::Time(text.to_owned()),
        Rule::calendar_lit => Expr::Calendar(calendar_lit(pair, whole)?),
        Rule::duration_lit => Expr::Duration(duration_lit(text, whole)?),
        Rule::number_lit => Expr::Number(number(text, whole)?),
        Rule::string => return string(pair).map(|s| (Spanned::new(Expr::Text(s.node), s.span), 1)),
        Rule::bool_lit => Expr::Bool(text == "true"),
        Rule::now_kw => Expr::Now,
        Rule::it_kw => Expr::It,
        Rule::name => Expr::Name(text.to_owned()),
        other => unreachable!("not a primary: {other:?}"),
    };
    Ok((Spanned::new(node, whole), 1))
}

fn quantifier(pair: Pair<'_, Rule>) -> Result<Deep> {
    let whole = span(&pair);
    let mut it = children(pair);
    let quant = match next(&mut it).as_str() {
        "any" => Quant::Any,
        "all" => Quant::All,
        _ => Quant::No,
    };
    let mut it = it.peekable();
    let binder = match it.peek().map(Pair::as_rule) {
        Some(Rule::binder) => Some(ident(next(&mut children(next(&mut it))))),
        _ => None,
    };
    let (subject, s) = quant_subject(next(&mut it))?;
    let (body, b) = match it.next().map(deep_expr).transpose()? {
        Some((body, b)) => (Some(Box::new(body)), b),
        None => (None, 0),
    };
    let node = Expr::Quantifier {
        quant,
        binder,
        subject: Box::new(subject),
        body,
    };
    deeper(Spanned::new(node, whole), [s, b])
}

fn conditional(pair: Pair<'_, Rule>) -> Result<Deep> {
    let whole = span(&pair);
    let mut it = children(pair).filter(|p| p.as_rule() == Rule::expr);
    let (guard, g) = deep_expr(next(&mut it))?;
    let (then, t) = deep_expr(next(&mut it))?;
    let (otherwise, o) = deep_expr(next(&mut it))?;
    let node = Expr::If {
        guard: Box::new(guard),
        then: Box::new(then),
        otherwise: Box::new(otherwise),
    };
    deeper(Spanned::new(node, whole), [g, t, o])
}

fn extreme(pair: Pair<'_, Rule>) -> Result<Deep> {
    let whole = span(&pair);
    let mut it = children(pair);
    let latest = next(&mut it).as_str() == "latest";
    let mut it = it.filter(|p| p.as_rule() == Rule::quant_subject);
    let (list, l) = quant_subject(next(&mut it))?;
    let (key, k) = quant_subject(next(&mut it))?;
    let node = Expr::Extreme {
        latest,
        list: Box::new(list),
        key: Box::new(key),
    };
    deeper(Spanned::new(node, whole), [l, k])
}

fn quant_subject(pair: Pair<'_, Rule>) -> Result<Deep> {
    let mut it = children(pair);
    let (mut subject, mut depth) = primary(next(&mut it))?;
    for access in it {
        let at = span(&access);
        let whole = subject.span.to(at);
        let field = ident(next(&mut children(access)));
        (subject, depth) = deeper_at(
            Spanned::new(Expr::Field(Box::new(subject), field), whole),
            [depth],
            at,
        )?;
    }
    Ok((subject, depth))
}

fn region_lit(pair: Pair<'_, Rule>) -> Result<Expr> {
    let mut it = children(pair);
    let level = match next(&mut it).as_str() {
        "province" => RegionLevel::Province,
        "prefecture" => RegionLevel::Prefecture,
        _ => RegionLevel::County,
    };
    Ok(Expr::Region(level, string(next(&mut it))?.node))
}

fn call(pair: Pair<'_, Rule>) -> Result<Deep> {
    let whole = span(&pair);
    let mut it = children(pair);
    let name = ident(next(&mut it));
    let args = it.map(deep_expr).collect::<Result<Vec<_>>>()?;
    let depths: Vec<usize> = args.iter().map(|(_, d)| *d).collect();
    let args = args.into_iter().map(|(e, _)| e).collect();
    deeper(Spanned::new(Expr::Call(name, args), whole), depths)
}

/// A number literal, finite.
fn number(text: &str, whole: Span) -> Result<f64> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(SyntaxError::Number {
            text: text.to_owned(),
            span: whole,
        }),
    }
}

/// `1d12h` → seconds.
fn duration_lit(text: &str, whole: Span) -> Result<i64> {
    crate::time::parse_duration(text).ok_or_else(|| SyntaxError::Duration {
        text: text.to_owned(),
        span: whole,
    })
}

/// `6 months` → the period.
fn calendar_lit(pair: Pair<'_, Rule>, whole: Span) -> Result<crate::time::Period> {
    use crate::time::{CalendarUnit, Period};
    let text = pair.as_str();
    let mut it = children(pair);
    let amount = next(&mut it).as_str().parse::<i64>().ok();
    let unit = match next(&mut it).as_str().trim_end_matches('s') {
        "day" => CalendarUnit::Days,
        "week" => CalendarUnit::Weeks,
        "month" => CalendarUnit::Months,
        _ => CalendarUnit::Years,
    };
    amount
        .and_then(|n| Period::of(n, unit))
        .ok_or_else(|| SyntaxError::Calendar {
            text: text.to_owned(),
            span: whole,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_durations_are_errors() {
        assert!(duration_lit("99999999999999999999d", Span::default()).is_err());
    }

    #[test]
    fn keywords_do_not_swallow_names() {
        let p = parse("policy p let x = a inside b").map(|p| p.items.len());
        assert!(
            p.is_err(),
            "`inside` is a name, so `a inside b` is not `a in side b`"
        );
        assert!(parse("policy p let anyone = 1 let y = anyone").is_ok());
    }

    #[test]
    fn not_in_is_one_operator() {
        let p = parse("policy p let x = a not in b").ok();
        let Some(Item::Let(l)) = p.and_then(|p| p.items.into_iter().next()) else {
            unreachable!("parses")
        };
        assert!(matches!(l.value.node, Expr::Binary(BinaryOp::NotIn, _, _)));
    }

    #[test]
    fn fields_name_their_keys_and_rules_their_codes() {
        let p = parse(
            r#"policy p input c { from from "fr": time, to: time }
               rule r code "VR-AT-0001" "title" when true then x
               rule code when true then x"#,
        );
        let Ok(p) = p else {
            unreachable!("parses: {p:?}")
        };
        let Some(Item::Input { fields, .. }) = p.items.first() else {
            unreachable!("an input: {:?}", p.items)
        };
        let keys: Vec<_> = fields
            .iter()
            .map(|f| f.key.as_ref().map(|k| &*k.node))
            .collect();
        assert_eq!(keys, [Some("fr"), None]);
        assert_eq!(fields[0].name.node, "from");
        let rules: Vec<_> = p
            .rules()
            .map(|r| (&*r.name.node, r.code.as_ref().map(|c| &*c.node)))
            .collect();
        assert_eq!(rules, [("r", Some("VR-AT-0001")), ("code", None)]);
        assert_eq!(
            p.rules()
                .next()
                .and_then(|r| r.title.as_ref())
                .map(|t| &*t.node),
            Some("title")
        );
    }
}
