//! `surreal`: the SurrealDB server of the release nsbackup's client speaks, for the tests
//! that run nsbackup against a remote database (`surreal start … memory`).

fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
