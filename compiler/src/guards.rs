//! A rule's guards: the leading conditions of its logic that the engine
//! tests itself, each read once per event for every rule that has it
//! (`rulec_runtime::guard`), and the conditions after them, which the code
//! generator compiles into a matcher of their own.
//!
//! A rule's condition is evaluated in order and stops at the first false or
//! raising conjunct, so its leading conjuncts can be answered before the rest
//! runs. A conjunct that tests a field against string constants (`Equals`,
//! `IsIn`), or that is true whenever the field can be read (`Exists` or
//! `DoesNotExist` of one field, Panther's "read the username first"),
//! shares the field's read with every other such guard on it. Any other
//! cheap conjunct (no list comprehension, no regular expression, no computed
//! value) is a guard of its own, shared by the rules whose code for it is
//! the same (a predicate's expansion).

use crate::ir::{Expr, FieldRef, Lit, Test};
use rulec_runtime::guard::MAX_LITERALS;

/// The most leading conditions of a rule tested as guards.
pub const MAX_GUARDS: usize = 6;

/// How a guard tests its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardKind<'r> {
    /// `Equals` a string.
    Equals(&'r str),
    /// `IsIn` a list of strings (at most `rulec_runtime::guard::MAX_LITERALS`:
    /// a longer list is a guard of its own, evaluated whole).
    IsIn(Vec<&'r str>),
    /// True whenever the field can be read.
    Reads,
}

/// One leading condition of a rule, as a guard.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardIr<'r> {
    /// A test of a field, sharing the field's read.
    Field {
        /// The field it reads.
        field: &'r FieldRef,
        /// The test.
        kind: GuardKind<'r>,
    },
    /// Any other cheap condition, evaluated whole.
    Condition(&'r Expr),
}

/// A rule's condition split at its guards.
#[derive(Debug, Clone, PartialEq)]
pub struct Guards<'r> {
    /// The leading conjuncts that are guards, in order (at most
    /// [`MAX_GUARDS`]).
    pub guards: Vec<GuardIr<'r>>,
    /// The conjuncts after them, in order.
    pub rest: Vec<&'r Expr>,
}

/// `condition` split at its guards: they stop at the first conjunct that is
/// not one.
pub fn leading_guards(condition: &Expr) -> Guards<'_> {
    let mut conjuncts = Vec::new();
    flatten_all(condition, &mut conjuncts);
    let guards: Vec<GuardIr<'_>> = conjuncts
        .iter()
        .map_while(|conjunct| field_guard(conjunct).or_else(|| condition_guard(conjunct)))
        .take(MAX_GUARDS)
        .collect();
    let rest = conjuncts.split_off(guards.len());
    Guards { guards, rest }
}

/// The conjuncts of nested `All`s, in evaluation order (an empty `All` is
/// true and has none).
fn flatten_all<'r>(expr: &'r Expr, out: &mut Vec<&'r Expr>) {
    match expr {
        Expr::All(items) => {
            for item in items {
                flatten_all(item, out);
            }
        }
        other => out.push(other),
    }
}

/// The guard a conjunct testing one field is, if any.
fn field_guard(expr: &Expr) -> Option<GuardIr<'_>> {
    match expr {
        Expr::Test {
            field,
            test: Test::Equals(Lit::Str(text)),
        } => Some(GuardIr::Field {
            field,
            kind: GuardKind::Equals(text),
        }),
        Expr::Test {
            field,
            test: Test::IsIn(lits),
        } => {
            let texts = lits
                .iter()
                .map(|lit| match lit {
                    Lit::Str(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Option<Vec<&str>>>()
                .filter(|texts| texts.len() <= MAX_LITERALS)?;
            Some(GuardIr::Field {
                field,
                kind: GuardKind::IsIn(texts),
            })
        }
        // `Exists` or `DoesNotExist` of one field: true once read.
        Expr::Any(items) => match items.as_slice() {
            [first, second] => {
                let field = exists_field(first)
                    .zip(not_exists_field(second))
                    .or_else(|| exists_field(second).zip(not_exists_field(first)))
                    .filter(|(a, b)| a == b)?
                    .0;
                Some(GuardIr::Field {
                    field,
                    kind: GuardKind::Reads,
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// A conjunct as a guard evaluated whole, when it is cheap: combinators,
/// raising preconditions, tests and comparisons of event and data-model
/// fields, without list comprehensions, regular expressions or computed
/// values.
fn condition_guard(expr: &Expr) -> Option<GuardIr<'_>> {
    cheap(expr).then_some(GuardIr::Condition(expr))
}

/// Whether a condition is cheap to evaluate twice (once as a guard, once in
/// the rule when the guard passes).
fn cheap(expr: &Expr) -> bool {
    let plain = |field: &FieldRef| !matches!(field, FieldRef::Computed(_));
    match expr {
        Expr::Const(_) => true,
        Expr::All(items) | Expr::Any(items) | Expr::OnlyOne(items) | Expr::NoneOf(items) => {
            items.iter().all(cheap)
        }
        Expr::Not(inner) => cheap(inner),
        Expr::Guarded { requires, body, .. } => cheap(requires) && cheap(body),
        Expr::Test { field, test } => plain(field) && !matches!(test, Test::Matches(_)),
        Expr::Pair { left, right, .. } => plain(left) && plain(right),
        Expr::Each { .. } => false,
    }
}

/// The field of an `Exists` test.
fn exists_field(expr: &Expr) -> Option<&FieldRef> {
    match expr {
        Expr::Test {
            field,
            test: Test::Exists,
        } => Some(field),
        _ => None,
    }
}

/// The field of a `DoesNotExist` test (a negated `Exists`).
fn not_exists_field(expr: &Expr) -> Option<&FieldRef> {
    match expr {
        Expr::Not(inner) => exists_field(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Seg;

    fn field(name: &str) -> FieldRef {
        FieldRef::Udm {
            name: name.to_owned(),
            rest: Vec::new(),
        }
    }

    fn test(name: &str, test: Test) -> Expr {
        Expr::Test {
            field: field(name),
            test,
        }
    }

    #[test]
    fn leading_string_tests_are_guards_up_to_the_first_other_condition() {
        let condition = Expr::All(vec![
            Expr::All(vec![
                test("verb", Test::Equals(Lit::Str("create".into()))),
                Expr::All(Vec::new()),
            ]),
            test(
                "resource",
                Test::IsIn(vec![Lit::Str("pods".into()), Lit::Str("secrets".into())]),
            ),
            test("hostPID", Test::IsTruthy),
            test("name", Test::Equals(Lit::Str("x".into()))),
        ]);
        let guards = leading_guards(&condition).guards;
        assert_eq!(
            guards,
            vec![
                GuardIr::Field {
                    field: &field("verb"),
                    kind: GuardKind::Equals("create")
                },
                GuardIr::Field {
                    field: &field("resource"),
                    kind: GuardKind::IsIn(vec!["pods", "secrets"])
                },
                GuardIr::Condition(&test("hostPID", Test::IsTruthy)),
                GuardIr::Field {
                    field: &field("name"),
                    kind: GuardKind::Equals("x")
                },
            ]
        );
    }

    #[test]
    fn a_read_of_one_field_shares_the_fields_read_and_other_disjunctions_do_not() {
        let exists = test("username", Test::Exists);
        let missing = Expr::Not(Box::new(test("username", Test::Exists)));
        let reads = Expr::Any(vec![exists.clone(), missing.clone()]);
        let reversed = Expr::Any(vec![missing.clone(), exists.clone()]);
        let other = Expr::Any(vec![
            exists.clone(),
            Expr::Not(Box::new(test("verb", Test::Exists))),
        ]);
        for (condition, reads) in [(reads, true), (reversed, true), (other, false)] {
            let expected = if reads {
                GuardIr::Field {
                    field: &field("username"),
                    kind: GuardKind::Reads,
                }
            } else {
                GuardIr::Condition(&condition)
            };
            assert_eq!(leading_guards(&condition).guards, vec![expected]);
        }
    }

    #[test]
    fn comprehensions_regular_expressions_and_computed_values_end_the_guards() {
        let each = Expr::Each {
            list: field("containers"),
            quantifier: crate::ir::Quantifier::Any,
            body: Box::new(test("privileged", Test::IsTruthy)),
        };
        let regex = test("name", Test::Matches("^a".into()));
        let computed = Expr::Test {
            field: FieldRef::Computed(Box::new(crate::ir::ValueExpr::Literal("a".into()))),
            test: Test::IsTruthy,
        };
        let verb = test("verb", Test::Equals(Lit::Str("get".into())));
        for stop in [each, regex, computed] {
            let condition = Expr::All(vec![verb.clone(), Expr::Not(Box::new(stop)), verb.clone()]);
            assert_eq!(leading_guards(&condition).guards.len(), 1, "{condition:?}");
        }
    }

    #[test]
    fn tests_of_other_constants_are_guards_of_their_own() {
        let event = FieldRef::Event(vec![Seg::Key("verb".into())]);
        let code = test("code", Test::Equals(Lit::Int(403)));
        assert_eq!(
            leading_guards(&code).guards,
            vec![GuardIr::Condition(&code)]
        );
        let mixed = Expr::Test {
            field: event,
            test: Test::IsIn(vec![Lit::Str("get".into()), Lit::Null]),
        };
        assert_eq!(
            leading_guards(&mixed).guards,
            vec![GuardIr::Condition(&mixed)]
        );
        let many = Expr::All(
            (0..MAX_GUARDS + 2)
                .map(|_| test("verb", Test::Equals(Lit::Str("get".into()))))
                .collect(),
        );
        let split = leading_guards(&many);
        assert_eq!((split.guards.len(), split.rest.len()), (MAX_GUARDS, 2));
    }
}
