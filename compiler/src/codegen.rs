//! Generates Rust for a rule: one module with its metadata, a matcher and
//! output functions specialised per log type (the data-model transforms
//! inlined), the object-safe `RULE` handle, and one `#[test]` per test case.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::guards::{leading_guards, GuardIr, GuardKind, Guards};
use crate::ir::ContextValue;
use crate::ir::{
    CmpOp, DataModelIr, Expr, Fallback, FieldRef, Lit, NumLit, PairOp, Quantifier, RuleIr, Seg,
    Template, TemplatePart, Test, TestBody, ValueExpr,
};
use crate::names::rule_module_name;
use rulec_runtime::{PyType, Severity};

/// Options for code generation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Files to depend on with `include_bytes!`, so cargo rebuilds when they change (absolute paths).
    pub tracked_files: Vec<String>,
    /// Whether to emit the `#[test]` functions.
    pub with_tests: bool,
}

/// The module for one rule.
pub fn generate_rule(rule: &RuleIr, options: &Options) -> TokenStream {
    let module = format_ident!("{}", rule_module_name(&rule.meta.id));
    let meta = generate_meta(rule);
    let tracked = options
        .tracked_files
        .iter()
        .map(|path| quote! { const _: &[u8] = include_bytes!(#path); });

    let log_types: Vec<&String> = rule.meta.log_types.iter().collect();
    let lt_modules: Vec<Ident> = (0..log_types.len())
        .map(|i| format_ident!("log_type_{}", i))
        .collect();
    let guards = leading_guards(&rule.condition);
    let mut guard_entries = Vec::new();
    let specialised = log_types.iter().zip(&lt_modules).map(|(log_type, m)| {
        let model = rule.data_model(log_type);
        let gen = Gen { model, root: true };
        let body = gen.log_type_functions(rule);
        let (readers, entry) = gen.guard_readers(log_type, m, &guards);
        guard_entries.extend(entry);
        let doc = format!(
            "Log type {}{}.",
            doc_text(log_type),
            model
                .map(|m| format!(", through data model {}", doc_text(&m.id)))
                .unwrap_or_default()
        );
        quote! {
            #[doc = #doc]
            pub mod #m {
                #[allow(unused_imports)]
                use ::rulec_runtime as __rt;
                #body
                #readers
            }
        }
    });
    // Collected before `guard_entries` is read below.
    let specialised: Vec<TokenStream> = specialised.collect();
    let dispatch = |function: Ident, ret: TokenStream, default: TokenStream| {
        let arms = log_types
            .iter()
            .zip(&lt_modules)
            .map(|(log_type, m)| quote! { #log_type => #m::#function(event), });
        quote! {
            /// Evaluates for an event of `log_type` (a log type the rule does not read gives the default).
            pub fn #function<'a, N: __rt::Node<'a>>(log_type: &str, event: N) -> ::core::result::Result<#ret, __rt::RuleError> {
                match log_type {
                    #(#arms)*
                    _ => ::core::result::Result::Ok(#default),
                }
            }
        }
    };
    let base_severity = severity_tokens(rule.meta.severity);
    let default_title = rule.default_title();
    let dispatchers = [
        dispatch(format_ident!("matches"), quote!(bool), quote!(false)),
        dispatch(
            format_ident!("title"),
            quote!(::std::string::String),
            quote!(::std::string::String::from(#default_title)),
        ),
        dispatch(
            format_ident!("dedup"),
            quote!(::std::string::String),
            quote!(::std::string::String::new()),
        ),
        dispatch(
            format_ident!("unique"),
            quote!(::core::option::Option<::std::string::String>),
            quote!(::core::option::Option::None),
        ),
        dispatch(
            format_ident!("severity"),
            quote!(__rt::Severity),
            base_severity.clone(),
        ),
        dispatch(
            format_ident!("texts"),
            quote!(__rt::AlertTexts),
            quote!(__rt::AlertTexts::of(&META)),
        ),
        dispatch(
            format_ident!("alert_context"),
            quote!(__rt::AlertContext),
            quote!(__rt::AlertContext::new()),
        ),
    ];
    // Over the fast path's parse, a log type with guards is matched by its
    // guards and the matcher of the conditions after them: the whole
    // matcher is then compiled for `serde_json::Value` events only.
    let matches_projected = if guards.guards.is_empty() {
        quote! {
            fn matches_projected(log_type: &str, event: __rt::projection::Projected<'_>) -> ::core::result::Result<bool, __rt::RuleError> { matches(log_type, event) }
        }
    } else {
        let arms = log_types
            .iter()
            .enumerate()
            .map(|(index, log_type)| quote! { #log_type => GUARDS[#index].matches(event), });
        quote! {
            fn matches_projected(log_type: &str, event: __rt::projection::Projected<'_>) -> ::core::result::Result<bool, __rt::RuleError> {
                match log_type {
                    #(#arms)*
                    _ => ::core::result::Result::Ok(false),
                }
            }
        }
    };
    let event_time = generate_event_time(rule);
    let test_data = generate_test_data(rule);
    let tests = if options.with_tests {
        generate_tests(rule)
    } else {
        TokenStream::new()
    };
    let rule_doc = format!(
        "Rule {} ({}), compiled from {}.",
        doc_text(&rule.meta.id),
        rule.meta.severity,
        doc_text(&rule.meta.source_file)
    );
    quote! {
        #[doc = #rule_doc]
        #[allow(clippy::all, clippy::pedantic, unused_parens, unused_variables, non_snake_case)]
        pub mod #module {
            use ::rulec_runtime as __rt;
            #(#tracked)*
            /// The rule's metadata.
            pub static META: __rt::RuleMeta = #meta;
            #(#specialised)*
            #(#dispatchers)*
            #event_time
            #test_data
            fn matches_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::result::Result<bool, __rt::RuleError> { matches(log_type, event) }
            #matches_projected
            fn title_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::result::Result<::std::string::String, __rt::RuleError> { title(log_type, event) }
            fn dedup_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::result::Result<::std::string::String, __rt::RuleError> { dedup(log_type, event) }
            fn unique_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::result::Result<::core::option::Option<::std::string::String>, __rt::RuleError> { unique(log_type, event) }
            fn severity_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::result::Result<__rt::Severity, __rt::RuleError> { severity(log_type, event) }
            fn texts_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::result::Result<__rt::AlertTexts, __rt::RuleError> { texts(log_type, event) }
            fn event_time_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::option::Option<__rt::Timestamp> { event_time(log_type, event) }
            fn alert_context_json(log_type: &str, event: &__rt::serde_json::Value) -> ::core::result::Result<__rt::AlertContext, __rt::RuleError> { alert_context(log_type, event) }
            fn detect_projected(log_type: &str, event: __rt::projection::Projected<'_>) -> __rt::Detection {
                __rt::RawOutputs {
                    title: title(log_type, event),
                    dedup: dedup(log_type, event),
                    severity: severity(log_type, event),
                    alert_context: alert_context(log_type, event),
                    texts: texts(log_type, event),
                    unique: unique(log_type, event),
                }
                .resolve(&META)
            }
            fn event_time_projected(log_type: &str, event: __rt::projection::Projected<'_>) -> ::core::option::Option<__rt::Timestamp> { event_time(log_type, event) }
            /// The rule's leading conditions per log type, and the matcher of the rest (`rulec_runtime::guard`).
            static GUARDS: &[__rt::LogTypeGuards] = &[#(#guard_entries),*];
            /// The rule as an object-safe handle over `serde_json::Value` events.
            pub static RULE: __rt::CompiledRule = __rt::CompiledRule {
                meta: &META,
                matches: matches_json,
                matches_projected,
                title: title_json,
                dedup: dedup_json,
                unique: unique_json,
                severity: severity_json,
                alert_context: alert_context_json,
                texts: texts_json,
                event_time: event_time_json,
                detect_projected,
                event_time_projected,
                guards: GUARDS,
                tests: TESTS,
            };
            #tests
        }
    }
}

/// A name from a rule file, made safe for a `#[doc]` attribute: quoted and
/// escaped as Rust's `{:?}` does (line breaks, control and bidi characters
/// become `\n`, `\u{202e}`, ...), with the Markdown that could start code,
/// HTML or links escaped. Without this a RuleID holding a line break and a
/// fenced code block would become a doctest of the rules crate, run by
/// `cargo test`.
pub fn doc_text(text: &str) -> String {
    let quoted = format!("{text:?}");
    let mut out = String::with_capacity(quoted.len());
    for c in quoted.chars() {
        match c {
            '`' | '*' | '_' | '[' | ']' | '#' | '!' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

fn opt_str(value: &Option<String>) -> TokenStream {
    match value {
        Some(text) => quote! { ::core::option::Option::Some(#text) },
        None => quote! { ::core::option::Option::None },
    }
}

fn severity_tokens(severity: Severity) -> TokenStream {
    let ident = format_ident!("{}", severity.as_str());
    quote! { __rt::Severity::#ident }
}

fn generate_meta(rule: &RuleIr) -> TokenStream {
    let m = &rule.meta;
    let id = &m.id;
    let display_name = opt_str(&m.display_name);
    let enabled = m.enabled;
    let status = opt_str(&m.status);
    let severity = severity_tokens(m.severity);
    let log_types = &m.log_types;
    let tags = &m.tags;
    let reports = m
        .reports
        .iter()
        .map(|(framework, entries)| quote! { (#framework, &[#(#entries),*]) });
    let description = opt_str(&m.description);
    let runbook = opt_str(&m.runbook);
    let reference = opt_str(&m.reference);
    let dedup_period_minutes = m.dedup_period_minutes;
    let threshold = m.threshold;
    let summary_attributes = &m.summary_attributes;
    let create_alert = m.create_alert;
    let defines_dedup = rule.dedup.is_some();
    let defines_unique = rule.unique.is_some();
    let reads = crate::reads::read_paths(rule)
        .into_iter()
        .map(|path| quote! { &[#(#path),*] });
    let document_reads = crate::reads::document_read_paths(rule)
        .into_iter()
        .map(|path| quote! { &[#(#path),*] });
    let output_reads = crate::reads::output_read_paths(rule)
        .into_iter()
        .map(|path| quote! { &[#(#path),*] });
    let output_document_reads = crate::reads::output_document_read_paths(rule)
        .into_iter()
        .map(|path| quote! { &[#(#path),*] });
    let templated_texts = rule.texts.any();
    let source_file = &m.source_file;
    quote! {
        __rt::RuleMeta {
            id: #id,
            display_name: #display_name,
            enabled: #enabled,
            status: #status,
            severity: #severity,
            log_types: &[#(#log_types),*],
            tags: &[#(#tags),*],
            reports: &[#(#reports),*],
            description: #description,
            runbook: #runbook,
            reference: #reference,
            dedup_period_minutes: #dedup_period_minutes,
            threshold: #threshold,
            summary_attributes: &[#(#summary_attributes),*],
            create_alert: #create_alert,
            defines_dedup: #defines_dedup,
            defines_unique: #defines_unique,
            reads: &[#(#reads),*],
            document_reads: &[#(#document_reads),*],
            output_reads: &[#(#output_reads),*],
            output_document_reads: &[#(#output_document_reads),*],
            templated_texts: #templated_texts,
            source_file: #source_file,
        }
    }
}

fn generate_tests(rule: &RuleIr) -> TokenStream {
    let cases = rule.tests.iter().map(|case| {
        let fn_name = format_ident!("{}", case.fn_name);
        let fn_name_text = &case.fn_name;
        let doc = match &case.body {
            TestBody::Event(test) => format!(
                "Test case {} (ExpectedResult: {}).",
                doc_text(&case.name),
                test.expected
            ),
            TestBody::Sequence(test) => format!(
                "Threshold test {} ({} expected alert(s)).",
                doc_text(&case.name),
                test.expected_alerts.len()
            ),
        };
        quote! {
            #[doc = #doc]
            #[test]
            fn #fn_name() {
                __rt::testing::run_case(&super::RULE, #fn_name_text);
            }
        }
    });
    quote! {
        #[cfg(test)]
        mod tests {
            use ::rulec_runtime as __rt;
            #(#cases)*
        }
    }
}

fn opt_severity(severity: Option<Severity>) -> TokenStream {
    match severity {
        Some(s) => {
            let s = severity_tokens(s);
            quote! { ::core::option::Option::Some(#s) }
        }
        None => quote! { ::core::option::Option::None },
    }
}

/// The `TESTS` static: every test case as runtime data.
fn generate_test_data(rule: &RuleIr) -> TokenStream {
    let cases = rule.tests.iter().map(|case| {
        let name = &case.name;
        let fn_name = &case.fn_name;
        let body = match &case.body {
            TestBody::Event(test) => {
                let expected = test.expected;
                let log_type = &test.log_type;
                let log = &test.log_json;
                let e = &test.expect;
                let title = opt_str(&e.title);
                let dedup = opt_str(&e.dedup);
                let severity = opt_severity(e.severity);
                let context = opt_str(&e.alert_context);
                quote! {
                    __rt::testing::TestBody::Event(__rt::testing::EventTest {
                        expected: #expected,
                        log_type: #log_type,
                        log_json: #log,
                        expect: __rt::testing::ValueExpectations {
                            title: #title,
                            dedup: #dedup,
                            severity: #severity,
                            alert_context: #context,
                        },
                    })
                }
            }
            TestBody::Sequence(test) => {
                let steps = test.steps.iter().map(|step| {
                    let log_type = &step.log_type;
                    let log = &step.log_json;
                    let time = opt_str(&step.time);
                    let repeat = step.repeat;
                    let every = step.every_millis;
                    quote! {
                        __rt::testing::SequenceStep {
                            log_type: #log_type,
                            log_json: #log,
                            time: #time,
                            repeat: #repeat,
                            every_millis: #every,
                        }
                    }
                });
                let alerts = test.expected_alerts.iter().map(|alert| {
                    let title = opt_str(&alert.title);
                    let dedup = opt_str(&alert.dedup);
                    let severity = opt_severity(alert.severity);
                    let count = match alert.event_count {
                        Some(n) => quote! { ::core::option::Option::Some(#n) },
                        None => quote! { ::core::option::Option::None },
                    };
                    quote! {
                        __rt::testing::ExpectedAlert {
                            title: #title,
                            dedup: #dedup,
                            severity: #severity,
                            event_count: #count,
                        }
                    }
                });
                quote! {
                    __rt::testing::TestBody::Sequence(__rt::testing::SequenceTest {
                        steps: &[#(#steps),*],
                        expected_alerts: &[#(#alerts),*],
                    })
                }
            }
        };
        quote! {
            __rt::testing::TestCase { name: #name, fn_name: #fn_name, body: #body }
        }
    });
    quote! {
        /// The rule file's `Tests`.
        pub static TESTS: &[__rt::testing::TestCase] = &[#(#cases),*];
    }
}

/// `event_time`: `p_event_time`, else the log type's `EventTime` field.
fn generate_event_time(rule: &RuleIr) -> TokenStream {
    let arms = rule.meta.log_types.iter().filter_map(|log_type| {
        let path = rule.data_model(log_type)?.event_time.as_ref()?;
        Some(quote! { #log_type => ::core::option::Option::Some(&[#(#path),*]), })
    });
    quote! {
        /// The event's time: `p_event_time`, else its log type's `EventTime` field.
        pub fn event_time<'a, N: __rt::Node<'a>>(log_type: &str, event: N) -> ::core::option::Option<__rt::Timestamp> {
            let path: ::core::option::Option<&[&str]> = match log_type {
                #(#arms)*
                _ => ::core::option::Option::None,
            };
            __rt::event_time::event_time_of(event, path)
        }
    }
}

/// Which node type a value expression yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    /// The event's node type `N`.
    Event,
    /// A decoded document (`&serde_json::Value`).
    Document,
}

/// Generates code for one log type.
struct Gen<'m> {
    model: Option<&'m DataModelIr>,
    /// `event` is the event's root (not a list element read as the event).
    root: bool,
}

impl Gen<'_> {
    fn log_type_functions(&self, rule: &RuleIr) -> TokenStream {
        let documents = self.document_bindings();
        let condition = self.expr(&rule.condition);
        let title = match &rule.title {
            Some(template) => self.template(template),
            None => {
                let text = rule.default_title();
                quote! { ::std::string::String::from(#text) }
            }
        };
        let dedup = match &rule.dedup {
            Some(template) => self.template(template),
            None => quote! { ::std::string::String::new() },
        };
        let unique = match &rule.unique {
            Some(value) => {
                let value = self.typed_value(value);
                quote! {{
                    let __unique = #value;
                    if __unique.is_none() { ::core::option::Option::None } else { ::core::option::Option::Some(__rt::text::py_str(&__unique).into_owned()) }
                }}
            }
            None => quote! { ::core::option::Option::None },
        };
        let text = |template: &Option<Template>, fixed: &Option<String>| match (template, fixed) {
            (Some(template), _) => {
                let rendered = self.template(template);
                quote! { ::core::option::Option::Some(::std::borrow::Cow::Owned(#rendered)) }
            }
            (None, Some(text)) => {
                quote! { ::core::option::Option::Some(::std::borrow::Cow::Borrowed(#text)) }
            }
            (None, None) => quote! { ::core::option::Option::None },
        };
        let description = text(&rule.texts.description, &rule.meta.description);
        let runbook = text(&rule.texts.runbook, &rule.meta.runbook);
        let reference = text(&rule.texts.reference, &rule.meta.reference);
        let base = severity_tokens(rule.meta.severity);
        let severities = rule.dynamic_severities.iter().map(|entry| {
            let condition = self.expr(&entry.condition);
            let to = entry
                .change_to
                .map_or_else(|| base.clone(), severity_tokens);
            quote! { if #condition { return ::core::result::Result::Ok(#to); } }
        });
        let context = rule.alert_context.iter().map(|(name, value)| {
            let json = match value {
                ContextValue::Const(constant) => json_tokens(constant),
                ContextValue::Field { field, default } => {
                    let value = self.field(field);
                    match default {
                        None => quote! { (#value).to_json() },
                        Some(default) => {
                            let default = json_tokens(default);
                            quote! {{ let __v = #value; if __v.is_none() { #default } else { __v.to_json() } }}
                        }
                    }
                }
            };
            quote! { __context.insert(#name, #json); }
        });
        let context_len = rule.alert_context.len();
        let signature = quote! { <'a, N: __rt::Node<'a>>(event: N) };
        quote! {
            /// Whether the rule matches.
            #[inline]
            pub fn matches #signature -> ::core::result::Result<bool, __rt::RuleError> {
                #documents
                ::core::result::Result::Ok(#condition)
            }
            /// The alert title.
            pub fn title #signature -> ::core::result::Result<::std::string::String, __rt::RuleError> {
                #documents
                ::core::result::Result::Ok(#title)
            }
            /// The dedup string (empty: Panther's default).
            pub fn dedup #signature -> ::core::result::Result<::std::string::String, __rt::RuleError> {
                #documents
                ::core::result::Result::Ok(#dedup)
            }
            /// The value whose distinct count the threshold measures (`Unique`).
            pub fn unique #signature -> ::core::result::Result<::core::option::Option<::std::string::String>, __rt::RuleError> {
                #documents
                ::core::result::Result::Ok(#unique)
            }
            /// `Description`, `Runbook` and `Reference`, with their substitutions.
            pub fn texts #signature -> ::core::result::Result<__rt::AlertTexts, __rt::RuleError> {
                #documents
                ::core::result::Result::Ok(__rt::AlertTexts {
                    description: #description,
                    runbook: #runbook,
                    reference: #reference,
                })
            }
            /// The severity.
            pub fn severity #signature -> ::core::result::Result<__rt::Severity, __rt::RuleError> {
                #documents
                #(#severities)*
                ::core::result::Result::Ok(#base)
            }
            /// The alert context.
            pub fn alert_context #signature -> ::core::result::Result<__rt::AlertContext, __rt::RuleError> {
                #documents
                let mut __context = __rt::AlertContext::with_capacity(#context_len);
                #(#context)*
                ::core::result::Result::Ok(__context)
            }
        }
    }

    /// The readers of the rule's guards for this log type (functions of its
    /// module `module`) with the matcher of the conditions after them, and
    /// the rule's `rulec_runtime::LogTypeGuards` for the log type (nothing
    /// for a rule without guards). A reader reads its field as the matcher
    /// does; its key is a digest of its code, so rules that read a field
    /// alike share one read per event.
    fn guard_readers(
        &self,
        log_type: &str,
        module: &Ident,
        split: &Guards<'_>,
    ) -> (TokenStream, Option<TokenStream>) {
        if split.guards.is_empty() {
            return (TokenStream::new(), None);
        }
        let documents = self.document_bindings();
        let mut readers = Vec::new();
        let mut entries = Vec::new();
        for (index, guard) in split.guards.iter().enumerate() {
            let probe = match guard {
                GuardIr::Field { field, .. } => {
                    let value = self.field(field);
                    quote! { __rt::guard::probe(&(#value), literals) }
                }
                GuardIr::Condition(condition) => {
                    let condition = self.expr(condition);
                    quote! { __rt::Probe::Holds(#condition) }
                }
            };
            let body = quote! {
                #documents
                ::core::result::Result::Ok(#probe)
            };
            let key = fnv1a(body.to_string().as_bytes());
            let name = format_ident!("guard_{}", index);
            readers.push(quote! {
                /// Reads the field of one of the rule's leading conditions (or evaluates the condition), for the engine's guards.
                pub fn #name<'a, N: __rt::Node<'a>>(event: N, literals: &[&str]) -> ::core::result::Result<__rt::Probe, __rt::RuleError> {
                    #body
                }
            });
            let test = match guard {
                GuardIr::Field { kind, .. } => match kind {
                    GuardKind::Equals(text) => quote! { __rt::GuardTest::Equals(#text) },
                    GuardKind::IsIn(texts) => quote! { __rt::GuardTest::IsIn(&[#(#texts),*]) },
                    GuardKind::Reads => quote! { __rt::GuardTest::Reads },
                },
                GuardIr::Condition(_) => quote! { __rt::GuardTest::Holds },
            };
            entries.push(quote! {
                __rt::Guard {
                    key: #key,
                    read: |event, literals| #module::#name(event, literals),
                    test: #test,
                }
            });
        }
        let rest = self.expr(&Expr::All(split.rest.iter().copied().cloned().collect()));
        readers.push(quote! {
            /// The rule's conditions after its guards.
            pub fn matches_rest<'a, N: __rt::Node<'a>>(event: N) -> ::core::result::Result<bool, __rt::RuleError> {
                #documents
                ::core::result::Result::Ok(#rest)
            }
        });
        let entry = quote! {
            __rt::LogTypeGuards {
                log_type: #log_type,
                guards: &[#(#entries),*],
                rest: |event| #module::matches_rest(event),
            }
        };
        (quote! { #(#readers)* }, Some(entry))
    }

    /// Lazily decoded documents: decoded on first use, at most once per call.
    fn document_bindings(&self) -> TokenStream {
        let Some(model) = self.model else {
            return TokenStream::new();
        };
        let cells = (0..model.documents.len()).map(|i| {
            let cell = doc_ident(i);
            quote! { let #cell: ::std::cell::OnceCell<::core::result::Result<::core::option::Option<__rt::transform::Document<'a>>, __rt::RuleError>> = ::std::cell::OnceCell::new(); }
        });
        quote! { #(#cells)* }
    }

    fn document_access(&self, name: &str) -> TokenStream {
        let Some(model) = self.model else {
            return quote! { ::core::option::Option::<__rt::projection::Projected<'_>>::None };
        };
        let Some(index) = model.documents.iter().position(|d| d.name == name) else {
            return quote! { ::core::option::Option::<__rt::projection::Projected<'_>>::None };
        };
        let spec = &model.documents[index];
        let cell = doc_ident(index);
        let source = self.value(&spec.source).0;
        let when = spec
            .when
            .as_ref()
            .map_or_else(|| quote!(true), |w| self.expr(w));
        quote! {
            match #cell.get_or_init(|| -> ::core::result::Result<::core::option::Option<__rt::transform::Document<'a>>, __rt::RuleError> {
                ::core::result::Result::Ok(if #when { __rt::transform::decode_document(&(#source)) } else { ::core::option::Option::None })
            }) {
                ::core::result::Result::Ok(document) => document.as_ref().map(__rt::transform::Document::get),
                ::core::result::Result::Err(error) => return ::core::result::Result::Err(error.clone()),
            }
        }
    }

    fn expr(&self, expr: &Expr) -> TokenStream {
        match expr {
            Expr::Const(b) => quote! { #b },
            Expr::All(items) if items.is_empty() => quote! { true },
            Expr::All(items) => {
                let items = self.batched(items, false);
                quote! { (#((#items))&&*) }
            }
            Expr::Any(items) if items.is_empty() => quote! { false },
            Expr::Any(items) => {
                let items = self.batched(items, true);
                quote! { (#((#items))||*) }
            }
            Expr::NoneOf(items) if items.is_empty() => quote! { true },
            Expr::NoneOf(items) => {
                let items = items.iter().map(|i| self.expr(i));
                quote! { !(#((#items))||*) }
            }
            Expr::OnlyOne(items) => {
                let items = items.iter().map(|i| self.expr(i));
                quote! {{
                    let mut __count = 0u8;
                    #( if __count < 2 && (#items) { __count += 1; } )*
                    __count == 1
                }}
            }
            Expr::Not(inner) => {
                let inner = self.expr(inner);
                quote! { !(#inner) }
            }
            Expr::Guarded {
                requires,
                message,
                body,
            } => {
                let requires = self.expr(requires);
                let body = self.expr(body);
                quote! {{
                    if !(#requires) {
                        return ::core::result::Result::Err(__rt::RuleError::new(#message));
                    }
                    #body
                }}
            }
            Expr::Test { field, test } => {
                let value = self.field(field);
                test_tokens(&quote! { &(#value) }, test)
            }
            Expr::Pair { left, op, right } => {
                let a = self.field(left);
                let b = self.field(right);
                let call = |f: TokenStream| quote! { __rt::ops::#f(&(#a), &(#b)) };
                match op {
                    PairOp::Equals => call(quote!(eq_vals)),
                    PairOp::IEquals => call(quote!(ieq_vals)),
                    PairOp::StartsWith => call(quote!(starts_with_val)),
                    PairOp::IStartsWith => call(quote!(istarts_with_val)),
                    PairOp::EndsWith => call(quote!(ends_with_val)),
                    PairOp::IEndsWith => call(quote!(iends_with_val)),
                    PairOp::Contains => call(quote!(contains_val)),
                    PairOp::IContains => call(quote!(icontains_val)),
                    PairOp::Compare(op) => {
                        let order = call(quote!(cmp_vals));
                        let wanted = match op {
                            CmpOp::Gt => {
                                quote! { ::core::option::Option::Some(::core::cmp::Ordering::Greater) }
                            }
                            CmpOp::Ge => {
                                quote! { ::core::option::Option::Some(::core::cmp::Ordering::Greater | ::core::cmp::Ordering::Equal) }
                            }
                            CmpOp::Lt => {
                                quote! { ::core::option::Option::Some(::core::cmp::Ordering::Less) }
                            }
                            CmpOp::Le => {
                                quote! { ::core::option::Option::Some(::core::cmp::Ordering::Less | ::core::cmp::Ordering::Equal) }
                            }
                        };
                        quote! { ::core::matches!(#order, #wanted) }
                    }
                }
            }
            Expr::Each {
                list,
                quantifier,
                body,
            } => {
                let list = self.field(list);
                // The body reads the element as its event, without a data model.
                let body = Gen {
                    model: None,
                    root: false,
                }
                .expr(body);
                let (on_pass, on_fail, result, not_list) = match quantifier {
                    Quantifier::Any => (
                        quote! { break; },
                        quote! {},
                        quote! { __passing > 0 },
                        quote! { false },
                    ),
                    Quantifier::All => (
                        quote! {},
                        quote! { __failed = true; break; },
                        quote! { !__failed },
                        quote! { false },
                    ),
                    Quantifier::None => (
                        quote! { break; },
                        quote! {},
                        quote! { __passing == 0 },
                        quote! { true },
                    ),
                    Quantifier::OnlyOne => (
                        quote! { if __passing > 1 { break; } },
                        quote! {},
                        quote! { __passing == 1 },
                        quote! { false },
                    ),
                };
                quote! {{
                    // The body reads each element as its event, of whichever node type.
                    fn __body<'a, N: __rt::Node<'a>>(event: N) -> ::core::result::Result<bool, __rt::RuleError> {
                        ::core::result::Result::Ok(#body)
                    }
                    let __list = #list;
                    let mut __passing = 0usize;
                    let mut __failed = false;
                    let mut __is_list = true;
                    if let ::core::option::Option::Some(__array) = __list.node_array() {
                        // A list of the event itself: walked in place.
                        for __element in __rt::Node::elements(__array) {
                            if __body(__element)? { __passing += 1; #on_pass } else { #on_fail }
                        }
                    } else if let ::core::option::Option::Some(__elements) = __list.node_elements() {
                        for __element in __elements {
                            if __body(__element)? { __passing += 1; #on_pass } else { #on_fail }
                        }
                    } else if let ::core::option::Option::Some(__elements) = __list.json_elements() {
                        // A list detached from a decoded document.
                        for __element in __elements.iter() {
                            if __body(__element)? { __passing += 1; #on_pass } else { #on_fail }
                        }
                    } else {
                        __is_list = false;
                    }
                    let _ = __failed;
                    if __is_list { #result } else { #not_list }
                }}
            }
        }
    }

    /// The children of an `Any` (`any`) or `All`, with runs of string tests
    /// of one kind on one field folded into one call over a constant list:
    /// `Any` of `Contains` on `f` becomes `contains_any(f, [...])`, `All` of
    /// `DoesNotContain` becomes `!contains_any(...)`. Huge Sigma-converted
    /// rules (thousands of `Contains` under one `Any`) then read the field
    /// once and stay small for the compiler.
    fn batched(&self, items: &[Expr], any: bool) -> Vec<TokenStream> {
        /// The foldable part of a child: its field, the batch function, the constant.
        fn key(expr: &Expr, any: bool) -> Option<(&FieldRef, &'static str, &str)> {
            let (test, field) = match (expr, any) {
                (Expr::Test { field, test }, true) => (test, field),
                (Expr::Not(inner), false) => match inner.as_ref() {
                    Expr::Test { field, test } => (test, field),
                    _ => return None,
                },
                _ => return None,
            };
            let (function, constant) = match test {
                Test::Contains(s) => ("contains_any", s.as_str()),
                Test::StartsWith(s) => ("starts_with_any", s.as_str()),
                Test::EndsWith(s) => ("ends_with_any", s.as_str()),
                Test::IContains(s) => ("icontains_any", s.as_str()),
                Test::IStartsWith(s) => ("istarts_with_any", s.as_str()),
                Test::IEndsWith(s) => ("iends_with_any", s.as_str()),
                Test::IEquals(s) => ("ieq_any", s.as_str()),
                Test::Equals(Lit::Str(s)) => ("eq_str_any", s.as_str()),
                _ => return None,
            };
            Some((field, function, constant))
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let Some((field, function, _)) = key(&items[i], any) else {
                out.push(self.expr(&items[i]));
                i += 1;
                continue;
            };
            let mut end = i + 1;
            while end < items.len()
                && key(&items[end], any).is_some_and(|(f, g, _)| f == field && g == function)
            {
                end += 1;
            }
            if end - i < 2 {
                out.push(self.expr(&items[i]));
                i += 1;
                continue;
            }
            let constants = items[i..end]
                .iter()
                .filter_map(|e| key(e, any).map(|k| k.2));
            let value = self.field(field);
            let function = format_ident!("{}", function);
            let call = quote! { __rt::ops::#function(&(#value), &[#(#constants),*]) };
            out.push(if any {
                call
            } else {
                quote! { !(#call) }
            });
            i = end;
        }
        out
    }

    /// A field read, as a `Val` expression.
    fn field(&self, field: &FieldRef) -> TokenStream {
        match field {
            FieldRef::Event(path) => {
                let keys: Option<Vec<&String>> = path
                    .iter()
                    .map(|seg| match seg {
                        Seg::Key(key) => Some(key),
                        _ => None,
                    })
                    .collect();
                if let Some(keys) = keys {
                    // Keys alone: the same walk, remembered per event.
                    let path = key_path_tokens(&keys, true);
                    return quote! { __rt::transform::get_path(event, #path) };
                }
                let steps = steps_tokens(path);
                quote! { __rt::transform::follow_ci(event, &[#(#steps),*]) }
            }
            FieldRef::Computed(value) => self.computed_value(value),
            FieldRef::Udm { name, rest } => {
                // `[value][0]...` of a one-element list (`ListOfTruthy`) is
                // `value...` when the value is truthy: read it without
                // building the list (the fast path allocates nothing).
                if let (Some(ValueExpr::ListOfTruthy(inner)), Some((Seg::Index(0), below))) =
                    (self.model.and_then(|m| m.mapping(name)), rest.split_first())
                {
                    let inner = self.typed_value(inner);
                    let steps = steps_tokens(below);
                    return quote! {{
                        let __single = #inner;
                        if __single.truthy() { __rt::transform::descend(__single, &[#(#steps),*]) } else { __rt::Val::Missing }
                    }};
                }
                let base = match self.model.and_then(|m| Some((m, m.mapping(name)?))) {
                    Some((model, mapping)) => self.mapping_value(model, name, mapping),
                    None => quote! { __rt::transform::udm_fallback(event, #name) },
                };
                if rest.is_empty() {
                    base
                } else {
                    let steps = steps_tokens(rest);
                    quote! { __rt::transform::descend(#base, &[#(#steps),*]) }
                }
            }
        }
    }

    /// A data-model field's value. A computed one (a condition, a choice, a
    /// split) is remembered per event under a key naming the data model, the
    /// field and a digest of its code, so every rule that reads it shares
    /// one computation (`rulec_runtime::field_key`); a path needs nothing
    /// more, the parse remembers paths already.
    fn mapping_value(&self, model: &DataModelIr, name: &str, mapping: &ValueExpr) -> TokenStream {
        let (tokens, root) = self.value(mapping);
        let value = typed(tokens, root);
        let computed = matches!(
            mapping,
            ValueExpr::If { .. }
                | ValueExpr::FirstTruthy(_)
                | ValueExpr::FirstPresent(_)
                | ValueExpr::SplitPart { .. }
                | ValueExpr::AfterLast { .. }
                | ValueExpr::Text(_)
                | ValueExpr::DictGet { .. }
                | ValueExpr::Element { .. }
        );
        if !computed || root == Root::Document {
            return value;
        }
        let key = format!(
            "{}/{}/{:016x}",
            model.id,
            name,
            fnv1a(value.to_string().as_bytes())
        );
        quote! {{
            static __FIELD: __rt::FieldKey = __rt::FieldKey::new(#key);
            __rt::Node::remember_field(event, &__FIELD, || ::core::result::Result::Ok(#value))?
        }}
    }

    /// A rule's `Computed:` value. A text joined from the event's root is
    /// remembered per event under a digest of its code, like a computed
    /// data-model field: a predicate's `Requires` and its detection often
    /// join the same list, and rules share predicates.
    fn computed_value(&self, value: &ValueExpr) -> TokenStream {
        let (tokens, root) = self.value(value);
        let value_tokens = typed(tokens, root);
        if !self.root || root != Root::Event || !matches!(value, ValueExpr::Join { .. }) {
            return value_tokens;
        }
        let key = format!(
            "computed/{:016x}",
            fnv1a(value_tokens.to_string().as_bytes())
        );
        quote! {{
            static __FIELD: __rt::FieldKey = __rt::FieldKey::new(#key);
            __rt::Node::remember_field(event, &__FIELD, || ::core::result::Result::Ok(#value_tokens))?
        }}
    }

    /// A value expression with its node type spelled out, so computed strings type-check.
    fn typed_value(&self, value: &ValueExpr) -> TokenStream {
        let (tokens, root) = self.value(value);
        typed(tokens, root)
    }

    fn value(&self, value: &ValueExpr) -> (TokenStream, Root) {
        match value {
            ValueExpr::Missing => (quote! { __rt::Val::Missing }, Root::Event),
            ValueExpr::Field(field) => {
                let tokens = self.field(field);
                let from_document = match field {
                    FieldRef::Udm { name, .. } => self
                        .model
                        .and_then(|m| m.mapping(name))
                        .is_some_and(|mapping| self.value(mapping).1 == Root::Document),
                    _ => false,
                };
                if from_document {
                    // A decoded document's value joins the event's values as owned JSON.
                    (quote! { __rt::Val::detach(#tokens) }, Root::Event)
                } else {
                    (tokens, Root::Event)
                }
            }
            ValueExpr::Const(value) => {
                let json = json_tokens(value);
                (quote! { __rt::Val::json(#json) }, Root::Event)
            }
            ValueExpr::Object(entries) => {
                let inserts = entries.iter().map(|(key, value)| {
                    let value = self.typed_value(value);
                    quote! { __map.insert(::std::string::String::from(#key), (#value).to_json()); }
                });
                let len = entries.len();
                (
                    quote! {{
                        let mut __map = __rt::serde_json::Map::with_capacity(#len);
                        #(#inserts)*
                        __rt::Val::json(__rt::serde_json::Value::Object(__map))
                    }},
                    Root::Event,
                )
            }
            ValueExpr::Distinct(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::distinct(&(#of)) }, root)
            }
            ValueExpr::Sort(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::sort(&(#of))? }, root)
            }
            ValueExpr::Flatten(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::flatten(&(#of)) }, root)
            }
            ValueExpr::Keys(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::keys(&(#of)) }, root)
            }
            ValueExpr::DeepWalk(keys) => (
                quote! { __rt::deep_walk::deep_walk(event, &[#(#keys),*])? },
                Root::Event,
            ),
            ValueExpr::UrlQuery(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::query::url_query(&(#of)) }, root)
            }
            ValueExpr::QueryParams(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::query::query_params(&(#of)) }, root)
            }
            ValueExpr::SplitPairs {
                of,
                separator,
                assign,
            } => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (
                    quote! { __rt::query::split_pairs(&(#of), #separator, #assign) },
                    root,
                )
            }
            ValueExpr::Element { of, index } => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::element(&(#of), #index) }, root)
            }
            ValueExpr::After { list, filter } => {
                let list = self.typed_value(list);
                let keep = Gen {
                    model: None,
                    root: false,
                }
                .expr(filter);
                (
                    quote! {{
                        // `Where` reads each element as its event.
                        fn __keep<'a, N: __rt::Node<'a>>(event: N) -> ::core::result::Result<bool, __rt::RuleError> {
                            ::core::result::Result::Ok(#keep)
                        }
                        let __list = #list;
                        if let ::core::option::Option::Some(__elements) = __list.node_elements() {
                            let mut __out = ::std::vec::Vec::new();
                            let mut __found = false;
                            for __element in __elements {
                                if __found { __out.push(__rt::Val::Node(__element)); } else { __found = __keep(__element)?; }
                            }
                            __rt::Val::list(__out)
                        } else if let ::core::option::Option::Some(__elements) = __list.json_elements() {
                            // A list computed by a transform.
                            let mut __out = ::std::vec::Vec::new();
                            let mut __found = false;
                            for __element in __elements.iter() {
                                if __found { __out.push(__rt::Val::json(__element.clone())); } else { __found = __keep(__element)?; }
                            }
                            __rt::Val::list(__out)
                        } else {
                            __rt::Val::Missing
                        }
                    }},
                    Root::Event,
                )
            }
            ValueExpr::Each { list, filter, to } => {
                let list = self.typed_value(list);
                let element = Gen {
                    model: None,
                    root: false,
                };
                let keep = filter
                    .as_ref()
                    .map_or_else(|| quote!(true), |f| element.expr(f));
                let to = match to {
                    Some(to) => element.typed_value(to),
                    None => quote! { __rt::Val::Node(event) },
                };
                (
                    quote! {{
                        // `Where` and `To` read each element as their event.
                        fn __keep<'a, N: __rt::Node<'a>>(event: N) -> ::core::result::Result<bool, __rt::RuleError> {
                            ::core::result::Result::Ok(#keep)
                        }
                        fn __to<'a, N: __rt::Node<'a>>(event: N) -> ::core::result::Result<__rt::Val<'a, N>, __rt::RuleError> {
                            ::core::result::Result::Ok(#to)
                        }
                        let __list = #list;
                        if __list.is_none() {
                            __rt::Val::list(::std::vec::Vec::new())
                        } else if let ::core::option::Option::Some(__elements) = __list.node_elements() {
                            let mut __out = ::std::vec::Vec::new();
                            for __element in __elements {
                                if __keep(__element)? { __out.push(__to(__element)?); }
                            }
                            __rt::Val::list(__out)
                        } else if let ::core::option::Option::Some(__elements) = __list.json_elements() {
                            // A list detached from a decoded document.
                            let mut __out = ::std::vec::Vec::new();
                            for __element in __elements.iter() {
                                if __keep(__element)? { __out.push(__rt::Val::detach(__to(__element)?)); }
                            }
                            __rt::Val::list(__out)                        } else {
                            __rt::Val::Missing
                        }
                    }},
                    Root::Event,
                )
            }
            ValueExpr::Lower(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::lower(#of) }, root)
            }
            ValueExpr::UrlDecode(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::url_decode(#of) }, root)
            }
            ValueExpr::Join { of, separator } => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::join(&(#of), #separator) }, root)
            }
            ValueExpr::Literal(text) => (
                quote! { __rt::Val::Str(::std::borrow::Cow::Borrowed(#text)) },
                Root::Event,
            ),
            ValueExpr::EventPath {
                keys,
                case_insensitive,
            } => {
                let path = key_path_tokens(keys, *case_insensitive);
                (
                    quote! { __rt::transform::get_path(event, #path) },
                    Root::Event,
                )
            }
            ValueExpr::DocPath { doc, keys } => {
                let access = self.document_access(doc);
                let path = key_path_tokens(keys, false);
                (
                    quote! { match #access { ::core::option::Option::Some(__doc) => __rt::transform::get_path(__doc, #path), ::core::option::Option::None => __rt::Val::Missing } },
                    Root::Document,
                )
            }
            ValueExpr::DocGet { doc, key } => {
                let access = self.document_access(doc);
                let path = key_path_tokens(&[key], false);
                (
                    quote! { match #access { ::core::option::Option::Some(__doc) => __rt::transform::doc_get(__doc, #path)?, ::core::option::Option::None => __rt::Val::Missing } },
                    Root::Document,
                )
            }
            ValueExpr::DictGet { of, key } => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (
                    quote! { __rt::transform::dict_get(&(#of), #key, true)? },
                    root,
                )
            }
            ValueExpr::Text(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (
                    quote! { __rt::Val::Str(__rt::transform::text_or_empty(&(#of))) },
                    root,
                )
            }
            ValueExpr::SplitPart {
                of,
                separator,
                index,
                max_split,
            } => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                let max_split = match max_split {
                    Some(m) => quote! { ::core::option::Option::Some(#m) },
                    None => quote! { ::core::option::Option::None },
                };
                (
                    quote! { __rt::transform::split_part(&__rt::transform::text_or_empty(&(#of)), #separator, #index, #max_split) },
                    root,
                )
            }
            ValueExpr::AfterLast { of, separator } => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (
                    quote! { __rt::transform::after_last(&__rt::transform::text_or_empty(&(#of)), #separator) },
                    root,
                )
            }
            ValueExpr::Concat(parts) => {
                let pushes = parts.iter().map(|part| match part {
                    ValueExpr::Literal(text) => quote! { __text.push_str(#text); },
                    other => {
                        let value = self.typed_value(other);
                        quote! { __rt::text::push_str_of(&mut __text, &(#value)); }
                    }
                });
                (
                    quote! {{ let mut __text = ::std::string::String::new(); #(#pushes)* __rt::Val::Str(::std::borrow::Cow::Owned(__text)) }},
                    Root::Event,
                )
            }
            ValueExpr::FirstTruthy(items) | ValueExpr::FirstPresent(items) => {
                let truthy = matches!(value, ValueExpr::FirstTruthy(_));
                let root = items
                    .iter()
                    .map(|i| self.value(i).1)
                    .find(|r| *r == Root::Document)
                    .unwrap_or(Root::Event);
                let mut tokens = if truthy {
                    items
                        .last()
                        .map_or(quote! { __rt::Val::Missing }, |last| self.typed_value(last))
                } else {
                    quote! { __rt::Val::Missing }
                };
                let leading = if truthy {
                    &items[..items.len().saturating_sub(1)]
                } else {
                    &items[..]
                };
                for item in leading.iter().rev() {
                    let item = self.typed_value(item);
                    let keep = if truthy {
                        quote! { __candidate.truthy() }
                    } else {
                        quote! { !::core::matches!(__candidate, __rt::Val::Missing) }
                    };
                    tokens = quote! {{ let __candidate = #item; if #keep { __candidate } else { #tokens } }};
                }
                (tokens, root)
            }
            ValueExpr::ListOfTruthy(of) => {
                let root = self.value(of).1;
                let of = self.typed_value(of);
                (quote! { __rt::transform::list_of_truthy(#of) }, root)
            }
            ValueExpr::If {
                condition,
                then,
                otherwise,
            } => {
                let condition = self.expr(condition);
                let (then, a) = self.value(then);
                let (otherwise, b) = self.value(otherwise);
                let root = if a == Root::Document || b == Root::Document {
                    Root::Document
                } else {
                    Root::Event
                };
                (quote! { if #condition { #then } else { #otherwise } }, root)
            }
        }
    }

    fn template(&self, template: &Template) -> TokenStream {
        let pushes = template.parts.iter().map(|part| match part {
            TemplatePart::Text(text) => quote! { __text.push_str(#text); },
            TemplatePart::Field { field, fallback } => {
                let value = self.field(field);
                match fallback {
                    Fallback::None => quote! { __rt::text::push_str_of(&mut __text, &(#value)); },
                    Fallback::Or(text) => {
                        quote! { __rt::text::push_or(&mut __text, &(#value), #text); }
                    }
                    Fallback::IfNull(text) => {
                        quote! { __rt::text::push_if_null(&mut __text, &(#value), #text); }
                    }
                    Fallback::Default(text) => {
                        quote! { __rt::text::push_default(&mut __text, &(#value), #text); }
                    }
                }
            }
        });
        let capacity = template_capacity(template);
        quote! {{ let mut __text = ::std::string::String::with_capacity(#capacity); #(#pushes)* __text }}
    }
}

/// Bytes to reserve for a rendered template: its literal text and a guess
/// for each substitution, so that a title is built in one allocation, not
/// grown from empty a push at a time.
fn template_capacity(template: &Template) -> usize {
    /// Room reserved per substituted field: user names, namespaces and
    /// resource names are mostly shorter.
    const FIELD_GUESS: usize = 32;
    template
        .parts
        .iter()
        .map(|part| match part {
            TemplatePart::Text(text) => text.len(),
            TemplatePart::Field { .. } => FIELD_GUESS,
        })
        .sum()
}

/// Tokens building a JSON constant at run time.
fn json_tokens(value: &serde_json::Value) -> TokenStream {
    use serde_json::Value;
    match value {
        Value::Null => quote! { __rt::serde_json::Value::Null },
        Value::Bool(b) => quote! { __rt::serde_json::Value::Bool(#b) },
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                quote! { __rt::serde_json::Value::from(#i) }
            } else if let Some(u) = n.as_u64() {
                quote! { __rt::serde_json::Value::from(#u) }
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                quote! { __rt::serde_json::Value::from(#f) }
            }
        }
        Value::String(s) => {
            quote! { __rt::serde_json::Value::String(::std::string::String::from(#s)) }
        }
        Value::Array(items) => {
            let items = items.iter().map(json_tokens);
            quote! { __rt::serde_json::Value::Array(::std::vec![#(#items),*]) }
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = json_tokens(v);
                quote! { __map.insert(::std::string::String::from(#k), #v); }
            });
            let len = map.len();
            quote! {{ let mut __map = __rt::serde_json::Map::with_capacity(#len); #(#entries)* __rt::serde_json::Value::Object(__map) }}
        }
    }
}

/// `tokens`, a value read from `root`, with its node type spelled out.
fn typed(tokens: TokenStream, root: Root) -> TokenStream {
    let ty = match root {
        Root::Event => quote! { N },
        Root::Document => quote! { __rt::projection::Projected<'_> },
    };
    quote! {{ let __value: __rt::Val<'_, #ty> = #tokens; __value }}
}

/// The 64-bit FNV-1a digest of `bytes`: stable across builds and platforms.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn doc_ident(index: usize) -> Ident {
    Ident::new(&format!("__document_{index}"), Span::call_site())
}

/// A `&'static KeyPath` for `keys`, as a block holding its `static`.
fn key_path_tokens(keys: &[impl quote::ToTokens], case_insensitive: bool) -> TokenStream {
    let constructor = if case_insensitive {
        quote!(ignoring_case)
    } else {
        quote!(exact)
    };
    quote! {{
        static __PATH: __rt::KeyPath = __rt::KeyPath::#constructor(&[#(#keys),*]);
        &__PATH
    }}
}

fn steps_tokens(path: &[Seg]) -> Vec<TokenStream> {
    path.iter()
        .map(|seg| match seg {
            Seg::Key(key) => quote! { __rt::transform::Step::Key(#key) },
            Seg::Index(index) => quote! { __rt::transform::Step::Index(#index) },
            Seg::Each => quote! { __rt::transform::Step::Each },
        })
        .collect()
}

fn number_tokens(n: NumLit) -> TokenStream {
    match n {
        NumLit::Int(i) => quote! { __rt::Number::Int(#i) },
        NumLit::Float(f) => float_tokens(f, |f| quote! { __rt::Number::Float(#f) }),
    }
}

fn float_tokens(f: f64, wrap: impl Fn(TokenStream) -> TokenStream) -> TokenStream {
    if f.is_nan() {
        wrap(quote! { f64::NAN })
    } else if f.is_infinite() {
        if f > 0.0 {
            wrap(quote! { f64::INFINITY })
        } else {
            wrap(quote! { f64::NEG_INFINITY })
        }
    } else {
        wrap(quote! { #f })
    }
}

/// The runtime call that answers `test` for the value expression `value` (a `&Val`).
fn test_tokens(value: &TokenStream, test: &Test) -> TokenStream {
    match test {
        Test::Equals(lit) => eq_tokens(value, lit),
        Test::IsIn(lits) => {
            if let Some(strings) = lits
                .iter()
                .map(|l| if let Lit::Str(s) = l { Some(s) } else { None })
                .collect::<Option<Vec<_>>>()
            {
                quote! { __rt::ops::in_strs(#value, &[#(#strings),*]) }
            } else {
                let lits = lits.iter().map(|lit| match lit {
                    Lit::Null => quote! { __rt::ops::Lit::Null },
                    Lit::Bool(b) => quote! { __rt::ops::Lit::Bool(#b) },
                    Lit::Int(i) => quote! { __rt::ops::Lit::Int(#i) },
                    Lit::Float(f) => float_tokens(*f, |f| quote! { __rt::ops::Lit::Float(#f) }),
                    Lit::Str(s) => quote! { __rt::ops::Lit::Str(#s) },
                });
                quote! { __rt::ops::in_lits(#value, &[#(#lits),*]) }
            }
        }
        Test::StartsWith(s) => quote! { __rt::ops::starts_with(#value, #s) },
        Test::EndsWith(s) => quote! { __rt::ops::ends_with(#value, #s) },
        Test::Contains(s) => quote! { __rt::ops::contains(#value, #s) },
        Test::IEquals(s) => quote! { __rt::ops::ieq_str(#value, #s) },
        Test::IStartsWith(s) => quote! { __rt::ops::istarts_with(#value, #s) },
        Test::IEndsWith(s) => quote! { __rt::ops::iends_with(#value, #s) },
        Test::IContains(s) => quote! { __rt::ops::icontains(#value, #s) },
        Test::Compare(op, bound) => {
            let bound = number_tokens(*bound);
            let function = match op {
                CmpOp::Gt => quote!(gt),
                CmpOp::Ge => quote!(ge),
                CmpOp::Lt => quote!(lt),
                CmpOp::Le => quote!(le),
            };
            quote! { __rt::ops::#function(#value, #bound) }
        }
        Test::Exists => quote! { __rt::ops::exists(#value) },
        Test::IsNull => quote! { __rt::ops::is_null(#value) },
        Test::IsNullOrEmpty => quote! { __rt::ops::is_null_or_empty(#value) },
        Test::IsTruthy => quote! { (#value).truthy() },
        Test::IsInteger => quote! { __rt::ops::is_py_int(#value) },
        Test::IsNumber => quote! { __rt::ops::is_py_number(#value) },
        Test::HasType(ty) => {
            let ty = match ty {
                PyType::None => quote!(None),
                PyType::Bool => quote!(Bool),
                PyType::Int => quote!(Int),
                PyType::Float => quote!(Float),
                PyType::Str => quote!(Str),
                PyType::List => quote!(List),
                PyType::Dict => quote!(Dict),
            };
            quote! { __rt::ops::has_type(#value, __rt::PyType::#ty) }
        }
        Test::IsIp => quote! { __rt::ops::is_ip(#value) },
        Test::IsIpv4 => quote! { __rt::ops::is_ipv4(#value) },
        Test::IsIpv6 => quote! { __rt::ops::is_ipv6(#value) },
        Test::IsIpPublic => quote! { __rt::ops::is_ip_public(#value) },
        Test::IsIpPrivate => quote! { __rt::ops::is_ip_private(#value) },
        Test::Matches(pattern) => quote! {{
            static __REGEX: ::std::sync::OnceLock<::core::option::Option<__rt::regex::Regex>> = ::std::sync::OnceLock::new();
            // Evaluated outside the closure, so a computed value may raise.
            let __subject = #value;
            __REGEX
                .get_or_init(|| __rt::pattern::compile_regex(#pattern).ok())
                .as_ref()
                .is_some_and(|__re| __rt::ops::matches_regex(__subject, __re))
        }},
        Test::InCidr(net) => {
            let prefix = net.prefix;
            let addr = match net.addr {
                std::net::IpAddr::V4(v4) => {
                    let bits = u32::from(v4);
                    quote! { ::std::net::IpAddr::V4(::std::net::Ipv4Addr::from_bits(#bits)) }
                }
                std::net::IpAddr::V6(v6) => {
                    let bits = u128::from(v6);
                    quote! { ::std::net::IpAddr::V6(::std::net::Ipv6Addr::from_bits(#bits)) }
                }
            };
            quote! { __rt::ops::ip_in_cidr(#value, &__rt::ip::Cidr { addr: #addr, prefix: #prefix }) }
        }
    }
}

fn eq_tokens(value: &TokenStream, lit: &Lit) -> TokenStream {
    match lit {
        Lit::Null => quote! { __rt::ops::is_null(#value) },
        Lit::Bool(b) => quote! { __rt::ops::eq_bool(#value, #b) },
        Lit::Int(i) => quote! { __rt::ops::eq_int(#value, #i) },
        Lit::Float(f) => float_tokens(*f, |f| quote! { __rt::ops::eq_float(#value, #f) }),
        Lit::Str(s) => quote! { __rt::ops::eq_str(#value, #s) },
    }
}
