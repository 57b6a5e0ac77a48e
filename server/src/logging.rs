//! Logging: structured, to standard error, filtered as `--log` says.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::startup::StartupError;

/// Sets up structured logging to standard error with the given filter.
///
/// # Errors
///
/// [`StartupError::LogFilter`] when the filter does not parse.
pub fn init_logging(filter: &str) -> Result<(), StartupError> {
    let env_filter = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| StartupError::LogFilter {
            filter: filter.to_string(),
            reason: e.to_string(),
        })?;
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second initialisation (tests run several servers in one process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(env_filter)
        .with(RedundantCloseWarning)
        .with(output)
        .try_init();
    Ok(())
}

/// Leaves out one warning of the storage engine that is always noise: when the last handle
/// of the embedded database goes, the engine shuts its store down properly (it flushes and
/// closes it; `surrealdb-engine-local`'s session task), and afterwards the store's own `Drop`
/// tries to close it once more from a thread without a runtime and warns "No runtime
/// available for closing the store correctly". Nothing is left undone then; every other
/// message of the engine passes.
struct RedundantCloseWarning;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RedundantCloseWarning {
    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        // Only warnings can be it (the engine logs through `log`, whose records arrive with
        // a target of their own, so the message itself is what is matched).
        if *event.metadata().level() != tracing::Level::WARN {
            return true;
        }
        let mut found = MessageContains {
            needle: "No runtime available for closing the store",
            found: false,
        };
        event.record(&mut found);
        !found.found
    }
}

/// Whether an event's message contains `needle`.
struct MessageContains {
    needle: &'static str,
    found: bool,
}

impl tracing::field::Visit for MessageContains {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}").contains(self.needle) {
            self.found = true;
        }
    }
}
