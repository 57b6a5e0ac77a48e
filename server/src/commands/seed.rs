//! `nsbackup seed`.

use app::domain::seed::{self, SeedOptions};

use crate::cli::SeedArgs;
use crate::config::Config;
use crate::startup::{StartupError, with_database};

/// `nsbackup seed`: opens and migrates the database, creates and fills one namespace, and
/// shows progress on standard error.
///
/// # Errors
///
/// As [`crate::run`]; a namespace that exists already is refused.
pub async fn seed(config: Config, args: SeedArgs) -> Result<(), StartupError> {
    with_database(&config, |db| async move {
        let options = SeedOptions {
            namespace: args.namespace.clone(),
            title: args.title.clone(),
            folders: args.folders,
            items: args.items,
            avg_size: args.avg_size,
            seed: args.seed,
        };
        let started = std::time::Instant::now();
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let mut last_report = std::time::Instant::now();
        seed::seed_namespace(&db, &options, |done, total| {
            let percent = (done * 100).checked_div(total).unwrap_or(100);
            if terminal {
                eprint!(
                    "\rseeding {}: {done}/{total} items ({percent}%)",
                    options.namespace
                );
            } else if last_report.elapsed().as_secs() >= 5 || done == total {
                eprintln!(
                    "seeding {}: {done}/{total} items ({percent}%)",
                    options.namespace
                );
                last_report = std::time::Instant::now();
            }
        })
        .await?;
        if terminal {
            eprintln!();
        }
        println!(
            "Created namespace {} with {} folders and {} items in {:.1} s",
            args.namespace,
            args.folders,
            args.items,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
    .await
}
