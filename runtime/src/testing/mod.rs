//! Rule tests: the cases a rule file's `Tests` block compiles into, judged as
//! panther_analysis_tool judges them, plus rulec's value assertions, threshold
//! sequences and snapshots of every output.

mod case;
mod outcome;
mod sequence;
mod snapshot;
mod suite;

pub use case::{
    EventTest, ExpectedAlert, SequenceStep, SequenceTest, TestBody, TestCase, ValueExpectations,
};
pub use outcome::CaseOutcome;
pub use sequence::{run_sequence, SequenceOutcome};
pub use snapshot::snapshot;
pub use suite::{
    evaluate_case, run_case, run_suite, suite_main, CaseResult, OutputLine, RuleReport,
    SuiteReport, SuiteRequest,
};
