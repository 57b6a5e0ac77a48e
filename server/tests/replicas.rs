//! Several nsbackup replicas on one SurrealDB server with one S3 bucket: what one does, the
//! others see and can continue, and a namespace's lock holds across them.

mod support;

use std::sync::Barrier;
use std::time::{Duration, Instant};

use app::domain::backup::store::{BackupStore, S3Store};
use serde_json::{Value, json};
use support::Server;
use support::s3::{KEY, SECRET, Seaweed};
use support::surreal::Surreal;

/// One SurrealDB server and one S3 server for replicas to share, and a data directory for
/// each replica.
struct Cluster {
    runtime: tokio::runtime::Runtime,
    s3: Seaweed,
    database: Surreal,
    /// The store's URL: `s3://backups/<prefix>`.
    store: String,
    dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    fn start(prefix: &str, replicas: usize) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let s3 = runtime.block_on(Seaweed::start());
        Self {
            runtime,
            s3,
            database: Surreal::start(),
            store: format!("s3://backups/{prefix}"),
            dirs: (0..replicas)
                .map(|_| tempfile::tempdir().expect("temp dir"))
                .collect(),
        }
    }

    /// Starts replica `index` on the shared database and bucket, its jobs' leases lasting
    /// `lease`, with `args` and `env` besides. Tests that kill a replica use short leases so
    /// that another takes over soon; the others keep leases that a loaded machine cannot
    /// outlast, so that no job is taken from a replica that is merely slow.
    fn replica(&self, index: usize, lease: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let shared = [
            &self.database.options()[..],
            &[
                "--store",
                &self.store,
                "--s3-endpoint",
                &self.s3.endpoint,
                "--job-lease",
                lease,
            ],
            args,
        ]
        .concat();
        let env = [
            &[
                ("AWS_ACCESS_KEY_ID", KEY),
                ("AWS_SECRET_ACCESS_KEY", SECRET),
            ][..],
            env,
        ]
        .concat();
        Server::start_with_env(self.dirs[index].path(), &shared, &env)
    }

    /// The bucket as a store, to look at from outside the replicas.
    fn bucket(&self) -> S3Store {
        self.runtime
            .block_on(S3Store::open(
                &self.s3.options(&self.store),
                self.dirs[0].path(),
            ))
            .expect("the bucket")
    }
}

#[test]
fn replicas_share_the_list_the_files_and_the_namespace_locks() {
    let cluster = Cluster::start("replicas", 3);
    // Backups of namespace `race` stay running for a minute: the lock is held meanwhile.
    let env = [("NSBACKUP_TEST_PAUSE", "backup:writing@race")];
    let a = cluster.replica(0, "30s", &["--demo"], &env);
    let b = cluster.replica(1, "30s", &[], &env);
    let c = cluster.replica(2, "30s", &[], &env);
    let (on_a, on_b, on_c) = (a.admin(), b.admin(), c.admin());

    // Made on A: listed on B and C, the same bytes from B, restored from C, seen on A.
    let id = on_a.backup("demo", "Made on A");
    for other in [&on_b, &on_c] {
        let list = other.ok("/api/list_backups", json!({}));
        assert_eq!(list[0]["id"], id.as_str(), "{list}");
    }
    let download = format!("/api/v1/backups/{id}/download");
    let (status, _, from_a) = on_a.exchange("GET", &download, &[], None);
    let (status_b, _, from_b) = on_b.exchange("GET", &download, &[], None);
    assert_eq!((status, status_b), (200, 200));
    assert!(from_a == from_b, "the same bytes from either replica");
    on_c.restore(&id, "copy");
    let demo = on_a.ok("/api/get_namespace_tree", json!({ "namespace": "demo" }));
    let copy = on_a.ok("/api/get_namespace_tree", json!({ "namespace": "copy" }));
    assert_eq!(demo["folders"], copy["folders"]);

    // Two replicas asked at the same moment to back up one namespace: exactly one job.
    on_a.ok(
        "/api/create_namespace",
        json!({ "name": "race", "title": "" }),
    );
    let barrier = Barrier::new(2);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let asks: Vec<_> = [&on_a, &on_b]
            .into_iter()
            .map(|replica| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    replica
                        .post_json(
                            "/api/create_backup",
                            r#"{"namespace": "race", "name": "At once"}"#,
                        )
                        .0
                })
            })
            .collect();
        asks.into_iter()
            .map(|ask| ask.join().expect("asked"))
            .collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [200, 409], "{statuses:?}");
    let list = on_c.ok("/api/list_backups", json!({}));
    let racing = list
        .as_array()
        .expect("a list")
        .iter()
        .filter(|backup| backup["namespace"] == "race")
        .count();
    assert_eq!(racing, 1, "{list}");
}

/// Waits until job `id` (followed through `client`) has ended, for at most `limit`.
fn ended_within(client: &support::Client<'_>, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let job = client.ok("/api/get_job", json!({ "id": id }));
        if job["status"] == "succeeded" || job["status"] == "failed" {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} was not ended: {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_replica_killed_in_the_middle_of_its_jobs_leaves_nothing_half_done() {
    let cluster = Cluster::start("killed", 3);
    // Replica A holds four jobs at four points, then dies; B and C carry on.
    let pauses = [(
        "NSBACKUP_TEST_PAUSE",
        "backup:writing@writing,backup:committed@stored,restore:writing@restoring,restore:switched@switched",
    )];
    let a = cluster.replica(0, "2s", &["--demo", "--replica", "replica-a"], &pauses);
    let b = cluster.replica(1, "2s", &[], &[]);
    let (on_a, on_b) = (a.admin(), b.admin());
    let demo = on_b.backup("demo", "Demo");
    for ns in ["writing", "stored", "restoring"] {
        on_b.ok("/api/create_namespace", json!({ "name": ns, "title": "" }));
        on_b.ok(
            "/api/create_folder",
            json!({ "namespace": ns, "parent": null, "name": "Before" }),
        );
    }
    let before = on_b.state("restoring");
    let started_backup = |ns: &str| -> (String, String) {
        let started = on_a.ok(
            "/api/create_backup",
            json!({ "namespace": ns, "name": format!("Of {ns}") }),
        );
        let id = |v: &Value| v["id"].as_str().expect("an id").to_string();
        (id(&started[0]), id(&started[1]))
    };
    let started_restore = |ns: &str| -> String {
        let job = on_a.ok(
            "/api/restore_backup",
            json!({ "id": demo, "namespace": ns }),
        );
        job["id"].as_str().expect("a job").to_string()
    };
    let (writing, writing_job) = started_backup("writing");
    let (stored, stored_job) = started_backup("stored");
    let restoring_job = started_restore("restoring");
    let switched_job = started_restore("switched");
    for _ in 0..4 {
        assert!(
            a.wait_for_log("pausing here for a test", Duration::from_secs(60)),
            "A's jobs reached their points"
        );
    }

    // A replica that starts now leaves A's live jobs alone.
    let c = cluster.replica(2, "2s", &[], &[]);
    let on_c = c.admin();
    for job in [&writing_job, &stored_job, &restoring_job] {
        let running = on_c.ok("/api/get_job", json!({ "id": job }));
        assert_eq!(running["status"], "running", "{running}");
    }
    let bucket = cluster.bucket();
    let stored_size = cluster
        .runtime
        .block_on(bucket.size(&format!("{stored}.zip")))
        .expect("size");
    assert!(
        stored_size.is_some(),
        "the backup held after storing its file is in the bucket"
    );

    drop(on_a);
    a.kill();
    let lease = Duration::from_secs(2);
    for job in [&writing_job, &stored_job, &restoring_job] {
        let ended = ended_within(&on_b, job, 10 * lease);
        assert_eq!(ended["status"], "failed", "{ended}");
        let reason = ended["error"].as_str().unwrap_or_default();
        assert!(
            reason.contains("the server running it (replica-a) stopped"),
            "{reason}"
        );
    }
    // The restore that had switched the namespace before A died succeeded: it is whole.
    let switched = ended_within(&on_b, &switched_job, 10 * lease);
    assert_eq!(switched["status"], "succeeded", "{switched}");
    assert_eq!(on_c.state("switched"), on_c.state("demo"));
    // The restore that A was writing changed nothing.
    assert_eq!(on_c.state("restoring"), before);
    // Neither backup is listed as anything but failed, and no file of theirs is left.
    let list = on_c.ok("/api/list_backups", json!({}));
    for id in [&writing, &stored] {
        let listed = list
            .as_array()
            .expect("a list")
            .iter()
            .find(|backup| backup["id"] == id.as_str())
            .cloned()
            .expect("listed");
        assert_eq!(listed["status"], "failed", "{listed}");
        // The replica that ended the job removes the file right after.
        let deadline = Instant::now() + Duration::from_secs(10);
        while cluster
            .runtime
            .block_on(bucket.size(id))
            .expect("size")
            .is_some()
        {
            assert!(
                Instant::now() < deadline,
                "a file of {id} stays in the bucket"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // The namespaces are free again.
    on_c.backup("writing", "After");
    on_b.restore(&demo, "restoring");
    assert_eq!(on_c.state("restoring"), on_c.state("demo"));
}

#[test]
fn a_replica_killed_while_uploading_a_backup_leaves_no_parts_in_the_bucket() {
    use object_store::multipart::MultipartStore;
    use object_store::{ObjectStoreExt, PutPayload};

    let cluster = Cluster::start("parts", 2);
    // A stops after the first part of every upload has gone up.
    let pause = [("NSBACKUP_TEST_PAUSE", "store:uploading")];
    let a = cluster.replica(0, "2s", &["--demo", "--replica", "replica-a"], &pause);
    let b = cluster.replica(1, "2s", &[], &[]);
    let on_b = b.admin();
    let started = a.admin().ok(
        "/api/create_backup",
        json!({ "namespace": "demo", "name": "Cut off" }),
    );
    let id = started[0]["id"].as_str().expect("an id").to_string();
    let job = started[1]["id"].as_str().expect("a job").to_string();
    assert!(
        a.wait_for_log("pausing here for a test", Duration::from_secs(60)),
        "the upload began"
    );
    // The upload is written down in the bucket while it runs.
    let bucket = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("backups")
        .with_region("us-east-1")
        .with_endpoint(&cluster.s3.endpoint)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_access_key_id(KEY)
        .with_secret_access_key(SECRET)
        .build()
        .expect("a client");
    let marker = object_store::path::Path::from(format!("parts/unfinished/{id}.zip"));
    let key = object_store::path::Path::from(format!("parts/{id}.zip"));
    let upload = cluster.runtime.block_on(async {
        let found = bucket
            .get(&marker)
            .await
            .expect("the upload is written down");
        String::from_utf8(found.bytes().await.expect("read").to_vec()).expect("an id")
    });
    a.kill();

    let ended = ended_within(&on_b, &job, Duration::from_secs(20));
    assert_eq!(ended["status"], "failed", "{ended}");
    // Another replica aborts the upload once it has ended the job: the note of the upload
    // goes last, then its parts are gone.
    cluster.runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !matches!(
            bucket.get(&marker).await,
            Err(object_store::Error::NotFound { .. })
        ) {
            assert!(Instant::now() < deadline, "the note of the upload stays");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let more = bucket
            .put_part(&key, &upload, 1, PutPayload::from_static(b"late"))
            .await;
        assert!(more.is_err(), "the upload was aborted: {more:?}");
        assert!(
            matches!(
                bucket.head(&key).await,
                Err(object_store::Error::NotFound { .. })
            ),
            "no object"
        );
    });
}
