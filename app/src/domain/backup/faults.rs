//! Fault points for tests: `NSBACKUP_TEST_PAUSE` holds a job at a named point for a minute,
//! so that the crash tests can kill the process exactly there and the browser and hardening
//! tests can see a job running. Only tests set the variable.

/// Fault injection for tests: when the environment variable `NSBACKUP_TEST_PAUSE` names
/// `point` (`restore:writing`), or `point@namespace` for the job's namespace only
/// (`backup:writing@slow`), or several of these separated by commas, the job logs that it
/// pauses there and waits a minute. The crash
/// tests (`server/tests/crash.rs`) kill the process at exactly that point; the browser tests
/// hold one namespace's backup running.
pub(super) async fn pause_point(point: &str, ns: &str) {
    let Ok(wanted) = std::env::var("NSBACKUP_TEST_PAUSE") else {
        return;
    };
    let matches = wanted
        .split(',')
        .any(|wanted| match wanted.split_once('@') {
            Some((at, namespace)) => at == point && namespace == ns,
            None => wanted == point,
        });
    if matches {
        tracing::warn!(point, namespace = ns, "pausing here for a test");
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}
