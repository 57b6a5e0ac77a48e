//! `make bench`: backup and restore against baselines measured in the same run on the same
//! data, as ratios. For each size (1,000, 10,000 and 100,000 items of about 4 KiB with a long
//! tail; `BENCH_SIZES=1000,10000` picks others) on an embedded SurrealKV database:
//!
//! - backup time against `zip -1 -r` of the same documents written out as files;
//! - restore time against a plain batched `INSERT` of the same records;
//! - the memory each step adds (peak RSS during it less RSS at its start), also for the
//!   plain insert;
//! - p99 latency of explorer writes (item saves) while a backup runs, against the same writes
//!   with nothing else running;
//! - an encrypted backup and restore (to and with an age key of the server) against the plain
//!   ones, and the memory the encrypted restore adds.
//!
//! Prints a Markdown table (docs/benchmarks.md keeps the last one).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::backup::archive::Keys;
use app::domain::backup::store::LocalStore;
use app::domain::backup::{self, Engine, jobs};
use app::domain::content::item;
use app::domain::db::{self, DbOptions};
use app::domain::seed::{SeedOptions, seed_namespace};
use app::domain::{Db, schema};
use app::types::JobStatus;

/// A field of /proc/self/status in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Memory a step adds: the process's peak RSS during it less its RSS when it began. (The
/// absolute figure would mostly be the database's caches of the data seeded before.)
struct Memory(f64);

impl Memory {
    /// Resets the peak (Linux: writing 5 to clear_refs) and notes the RSS now.
    fn start() -> Memory {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Memory(status_mib("VmRSS:"))
    }

    /// MiB added since [`Memory::start`] at the peak.
    fn added(&self) -> f64 {
        (status_mib("VmHWM:") - self.0).max(0.0)
    }
}

async fn wait(db: &Db, job: &str) {
    loop {
        let info = jobs::get(db, job).await.expect("job");
        if info.status.is_final() {
            assert_eq!(info.status, JobStatus::Succeeded, "{info:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Writes every item of `ns` as a file under `dir` (one directory per folder id).
async fn write_out(db: &Db, ns: &str, dir: &Path) -> u64 {
    let mut response = db
        .query(
            "LET $gen = type::record('namespace', $ns).generation;
             SELECT id[1] AS id, folder, content FROM item WHERE gen = $gen;",
        )
        .bind(("ns", ns.to_string()))
        .await
        .expect("items");
    #[derive(serde::Deserialize)]
    struct Row {
        id: String,
        folder: Option<String>,
        content: String,
    }
    let rows: Vec<Row> = db::take_json(&mut response, 1).expect("rows");
    let mut bytes = 0;
    for row in rows {
        let folder = dir.join(row.folder.unwrap_or_else(|| "top".into()));
        std::fs::create_dir_all(&folder).expect("dir");
        bytes += row.content.len() as u64;
        std::fs::write(folder.join(format!("{}.txt", row.id)), row.content).expect("file");
    }
    bytes
}

/// Where a baseline insert writes.
#[derive(Clone, Copy)]
enum Baseline {
    /// Table `plain_item`: no index, records as JSON (string ids, times as text).
    Plain,
    /// Table `item_like`: defined as `item` is (its unique index on generation, folder and
    /// name), the records as the database holds them (`[generation, id]` ids, datetimes).
    LikeItem,
}

const LIKE_ITEM: &str = "DEFINE TABLE item_like SCHEMALESS;
     DEFINE INDEX item_like_folder_name ON item_like FIELDS gen, folder, name UNIQUE;";

/// Inserts the item records of `ns` again in batches of 500, one statement after the other,
/// timing only the inserts; returns that time and the memory added while reading and
/// inserting.
async fn baseline_insert(db: &Db, ns: &str, items: u64, baseline: Baseline) -> (Duration, f64) {
    let mut spent = Duration::ZERO;
    let memory = Memory::start();
    let generation: Option<String> = db
        .query("RETURN type::record('namespace', $ns).generation")
        .bind(("ns", ns.to_string()))
        .await
        .expect("q")
        .take(0)
        .expect("gen");
    let generation = generation.expect("namespace");
    for (from, to) in app::domain::content::key_ranges(items) {
        let fields = match baseline {
            Baseline::Plain => {
                "id[1] AS id, folder, kind, name, content, size, revision, updated_by"
            }
            Baseline::LikeItem => {
                "record::id(id) AS id, gen, folder, kind, name, content, size, revision, created_at, updated_at, updated_by"
            }
        };
        let mut response = db
            .query(format!(
                "SELECT {fields} FROM item:[$gen, $from]..[$gen, $to]"
            ))
            .bind(("gen", generation.clone()))
            .bind(("from", from))
            .bind(("to", to))
            .await
            .expect("range");
        let batches: Vec<surrealdb::types::Value> = match baseline {
            Baseline::Plain => {
                let rows: Vec<serde_json::Value> = db::take_json(&mut response, 0).expect("rows");
                rows.chunks(500)
                    .map(|batch| {
                        surrealdb::types::Value::from_t(serde_json::Value::Array(batch.to_vec()))
                    })
                    .collect()
            }
            Baseline::LikeItem => {
                let rows: Vec<surrealdb::types::Value> = response.take(0).expect("rows");
                rows.chunks(500)
                    .map(|batch| surrealdb::types::Value::Array(batch.to_vec().into()))
                    .collect()
            }
        };
        let table = match baseline {
            Baseline::Plain => "plain_item",
            Baseline::LikeItem => "item_like",
        };
        for batch in batches {
            let started = Instant::now();
            db.query(format!("INSERT INTO {table} $rows"))
                .bind(("rows", batch))
                .await
                .and_then(|r| r.check())
                .expect("insert");
            spent += started.elapsed();
        }
    }
    (spent, memory.added())
}

/// Latencies of `count` item saves, spread over the namespace's items.
async fn save_latencies(db: &Db, ns: &str, ids: &[String], count: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(count);
    for n in 0..count {
        let id = &ids[(n * 7919) % ids.len()];
        let current = item::get(db, ns, id).await.expect("item");
        let started = Instant::now();
        item::save_content(db, ns, id, &current.content, current.info.revision, "bench")
            .await
            .expect("save");
        latencies.push(started.elapsed());
    }
    latencies
}

fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    latencies
        .get((latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

struct Row {
    items: usize,
    data_mib: f64,
    backup: Duration,
    zip: Duration,
    restore: Duration,
    preview: Duration,
    insert: Duration,
    like_item: Duration,
    backup_rss: f64,
    restore_rss: f64,
    insert_rss: f64,
    p99_idle: Duration,
    p99_during: Duration,
    sealed_backup: Duration,
    sealed_restore: Duration,
    sealed_restore_rss: f64,
}

/// The keys of a server that encrypts every backup to its own age key, and opens them.
fn sealing_keys() -> Keys {
    use age::secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let secret = identity.to_string().expose_secret().to_string();
    Keys::new(&[identity.to_public().to_string()], Some(&secret)).expect("keys")
}

/// A new database (SurrealKV, in a temporary directory) with namespace `bench` of `items`
/// items seeded, and a backup engine on it.
async fn seeded(items: usize) -> (tempfile::TempDir, Db, Engine) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db::connect(&DbOptions::surrealkv(&dir.path().join("db")))
        .await
        .expect("db");
    schema::migrate(&db).await.expect("migrate");
    db.query(LIKE_ITEM)
        .await
        .and_then(|r| r.check())
        .expect("item_like");
    let engine = Engine::new(
        db.clone(),
        Arc::new(LocalStore::open(&dir.path().join("backups")).expect("store")),
    );
    eprintln!("bench: seeding {items} items");
    let options = SeedOptions {
        namespace: "bench".into(),
        title: "Benchmark".into(),
        folders: (items / 100).max(10),
        items,
        avg_size: 4096,
        seed: 7,
    };
    seed_namespace(&db, &options, |_, _| {})
        .await
        .expect("seed");
    (dir, db, engine)
}

async fn run(items: usize) -> Row {
    let (dir, db, engine) = seeded(items).await;
    let files = dir.path().join("files");
    let bytes = write_out(&db, "bench", &files).await;

    eprintln!("bench: backup");
    let memory = Memory::start();
    let started = Instant::now();
    let (created, job) = backup::create(&engine, "bench", "bench", "bench")
        .await
        .expect("backup");
    wait(&db, &job.id).await;
    let backup_time = started.elapsed();
    let backup_rss = memory.added();

    eprintln!("bench: zip -1");
    let started = Instant::now();
    let status = std::process::Command::new("zip")
        .args(["-1", "-r", "-q"])
        .arg(dir.path().join("baseline.zip"))
        .arg(".")
        .current_dir(&files)
        .status()
        .expect("zip runs (install Debian's zip)");
    assert!(status.success());
    let zip_time = started.elapsed();

    eprintln!("bench: restore preview");
    let started = Instant::now();
    backup::preview::preview(&engine, &created.id, "bench")
        .await
        .expect("preview");
    let preview_time = started.elapsed();

    eprintln!("bench: restore");
    let memory = Memory::start();
    let started = Instant::now();
    let job = backup::restore(&engine, &created.id, "restored", "bench")
        .await
        .expect("restore");
    wait(&db, &job.id).await;
    let restore_time = started.elapsed();
    let restore_rss = memory.added();

    eprintln!("bench: encrypted backup and restore");
    let sealing = Engine {
        keys: Arc::new(sealing_keys()),
        ..engine.clone()
    };
    let started = Instant::now();
    let (sealed, job) = backup::create(&sealing, "bench", "sealed", "bench")
        .await
        .expect("backup");
    wait(&db, &job.id).await;
    let sealed_backup = started.elapsed();
    let memory = Memory::start();
    let started = Instant::now();
    let job = backup::restore(&sealing, &sealed.id, "restored-sealed", "bench")
        .await
        .expect("restore");
    wait(&db, &job.id).await;
    let sealed_restore = started.elapsed();
    let sealed_restore_rss = memory.added();
    drop(sealing);

    eprintln!("bench: baseline inserts");
    let (like_item, _) = baseline_insert(&db, "bench", items as u64, Baseline::LikeItem).await;
    let (insert_time, _) = baseline_insert(&db, "bench", items as u64, Baseline::Plain).await;

    eprintln!("bench: writes while idle and during a backup");
    let ids: Vec<String> = {
        let mut response = db
            .query(
                "LET $gen = type::record('namespace', 'bench').generation;
                 SELECT VALUE id[1] FROM item WHERE gen = $gen LIMIT 2000;",
            )
            .await
            .expect("ids");
        db::take_json(&mut response, 1).expect("ids")
    };
    let idle = save_latencies(&db, "bench", &ids, 200).await;
    let (_, job) = backup::create(&engine, "bench", "during", "bench")
        .await
        .expect("backup");
    let mut during = Vec::new();
    loop {
        during.extend(save_latencies(&db, "bench", &ids, 20).await);
        let info = jobs::get(&db, &job.id).await.expect("job");
        if info.status.is_final() {
            break;
        }
    }
    drop((engine, db, dir));

    // The memory a write of the same data adds, from the same starting point as the restore
    // (a database just seeded): the storage engine buffers what is written.
    eprintln!("bench: memory of the same insert");
    let (_dir, db, _engine) = seeded(items).await;
    let (_, insert_rss) = baseline_insert(&db, "bench", items as u64, Baseline::LikeItem).await;
    Row {
        items,
        data_mib: bytes as f64 / (1024.0 * 1024.0),
        backup: backup_time,
        zip: zip_time,
        restore: restore_time,
        preview: preview_time,
        insert: insert_time,
        like_item,
        backup_rss,
        restore_rss,
        insert_rss,
        p99_idle: p99(idle),
        p99_during: p99(during),
        sealed_backup,
        sealed_restore,
        sealed_restore_rss,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows: Vec<Row> = sizes.iter().map(|&n| runtime.block_on(run(n))).collect();
    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "| items | data | backup | zip -1 | backup ÷ zip | restore | insert as item | restore ÷ insert | plain insert | restore ÷ plain |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {:.0} MiB | {} | {} | {:.2} | {} | {} | {:.2} | {} | {:.2} |",
            row.items,
            row.data_mib,
            secs(row.backup),
            secs(row.zip),
            ratio(row.backup, row.zip),
            secs(row.restore),
            secs(row.like_item),
            ratio(row.restore, row.like_item),
            secs(row.insert),
            ratio(row.restore, row.insert),
        );
    }
    println!();
    println!("| items | restore preview | restore | preview ÷ restore (target ≤ 0.5) |");
    println!("|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.2} |",
            row.items,
            secs(row.preview),
            secs(row.restore),
            ratio(row.preview, row.restore),
        );
    }
    println!();
    println!(
        "| items | backup | encrypted | ÷ plain (target ≤ 1.3) | restore | encrypted | ÷ plain (target ≤ 1.3) | memory added: restore | encrypted |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.2} | {} | {} | {:.2} | {:.0} MiB | {:.0} MiB |",
            row.items,
            secs(row.backup),
            secs(row.sealed_backup),
            ratio(row.sealed_backup, row.backup),
            secs(row.restore),
            secs(row.sealed_restore),
            ratio(row.sealed_restore, row.restore),
            row.restore_rss,
            row.sealed_restore_rss,
        );
    }
    println!();
    println!(
        "| items | memory added: backup | restore | insert as item | p99 save idle | p99 save during backup |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {:.0} MiB | {:.0} MiB | {:.0} MiB | {} | {} |",
            row.items,
            row.backup_rss,
            row.restore_rss,
            row.insert_rss,
            ms(row.p99_idle),
            ms(row.p99_during),
        );
    }
}
