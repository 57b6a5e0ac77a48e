//! Demo and benchmark content: fills a namespace with realistic, deterministic folders and
//! items — JSON services, BPMN models, JSON forms — with sizes that have a long tail and
//! nested folders, some with permissions of their own.

use super::content::namespace;
use super::db::check_transaction;
use super::{Db, DomainError};
use crate::types::ItemKind;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SeedOptions {
    pub namespace: String,
    pub title: String,
    pub folders: usize,
    pub items: usize,
    /// The average content size in bytes; single items range from a tenth of it to about
    /// twenty times it.
    pub avg_size: usize,
    /// The same seed gives the same content.
    pub seed: u64,
}

/// How many items go into the database per statement.
const BATCH: usize = 500;

/// A small, fast, deterministic generator (xorshift64*); good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, words: &'a [&'a str]) -> &'a str {
        words[self.below(words.len())]
    }

    fn id(&mut self) -> String {
        format!("{:016x}", self.next())
    }
}

const NOUNS: &[&str] = &[
    "Order",
    "Invoice",
    "Customer",
    "Claim",
    "Contract",
    "Shipment",
    "Payment",
    "Ticket",
    "Approval",
    "Onboarding",
    "Refund",
    "Supplier",
    "Inventory",
    "Lead",
    "Audit",
    "Renewal",
    "Booking",
    "Complaint",
    "Loan",
    "Survey",
];
const VERBS: &[&str] = &[
    "check", "approve", "review", "notify", "archive", "validate", "route", "escalate", "score",
    "sync",
];
const AREAS: &[&str] = &[
    "Sales",
    "Finance",
    "Logistics",
    "Support",
    "Legal",
    "HR",
    "Procurement",
    "Marketing",
    "Operations",
    "IT",
];
const ROLES: &[&str] = &[
    "admin", "modeler", "auditors", "legal", "finance", "support",
];
const USERS: &[&str] = &["ada", "grace", "linus", "margaret", "alan", "barbara"];

/// A size around `avg` with a long tail: log-normal with σ = 1, scaled so its mean is `avg`.
fn content_size(rng: &mut Rng, avg: usize) -> usize {
    // Box–Muller for a standard normal value.
    let (u1, u2) = (rng.unit().max(f64::MIN_POSITIVE), rng.unit());
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    let size = avg as f64 * (normal - 0.5).exp();
    (size as usize).clamp(avg / 10 + 16, avg * 20 + 64)
}

fn filler(rng: &mut Rng, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 16);
    while text.len() < bytes {
        text.push_str(rng.pick(VERBS));
        text.push(' ');
        text.push_str(&rng.pick(NOUNS).to_lowercase());
        text.push_str(". ");
    }
    text.truncate(bytes);
    text
}

fn content(rng: &mut Rng, kind: ItemKind, name: &str, size: usize) -> String {
    match kind {
        ItemKind::Service => serde_json::json!({
            "service": name,
            "version": 1 + rng.below(9),
            "endpoint": format!("/api/{}", name.to_lowercase().replace(' ', "-")),
            "steps": (0..1 + rng.below(6)).map(|_| rng.pick(VERBS)).collect::<Vec<_>>(),
            "description": filler(rng, size.saturating_sub(160)),
        })
        .to_string(),
        ItemKind::Form => serde_json::json!({
            "form": name,
            "fields": (0..1 + rng.below(8)).map(|i| {
                let kind = ["text", "number", "date", "choice"][rng.below(4)];
                serde_json::json!({ "name": format!("field_{i}"), "type": kind, "required": rng.below(2) == 0 })
            }).collect::<Vec<_>>(),
            "help": filler(rng, size.saturating_sub(300)),
        })
        .to_string(),
        ItemKind::Model => {
            let mut xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" id=\"{}\">\n  <process id=\"p\" name=\"{}\">\n",
                rng.id(),
                name.replace('&', "&amp;").replace('<', "&lt;")
            );
            let mut task = 0;
            while xml.len() + 40 < size {
                xml.push_str(&format!(
                    "    <task id=\"t{task}\" name=\"{} {}\"/>\n",
                    rng.pick(VERBS),
                    rng.pick(NOUNS).to_lowercase()
                ));
                task += 1;
            }
            xml.push_str("  </process>\n</definitions>\n");
            xml
        }
    }
}

/// Creates namespace `options.namespace` and fills it. `progress(done, total)` is called
/// after each batch of items.
///
/// # Errors
///
/// [`DomainError::Conflict`] when the namespace exists already (seeding never mixes into
/// real content), [`DomainError::Invalid`] for a bad name.
pub async fn seed_namespace(
    db: &Db,
    options: &SeedOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<(), DomainError> {
    namespace::create(db, &options.namespace, &options.title).await?;
    let generation = super::content::active_generation(db, &options.namespace).await?;
    let mut rng = Rng::new(options.seed);

    // Folders: a few at the top, the rest below earlier ones, at most five levels deep.
    let mut folders: Vec<(String, Option<String>, usize)> = Vec::with_capacity(options.folders);
    let mut rows = Vec::with_capacity(options.folders);
    for index in 0..options.folders {
        let top_level = index < 3 || rng.below(6) == 0;
        let parent = if top_level || folders.is_empty() {
            None
        } else {
            let candidate = &folders[rng.below(folders.len())];
            (candidate.2 < 5).then(|| (candidate.0.clone(), candidate.2))
        };
        let id = rng.id();
        let depth = parent.as_ref().map_or(0, |(_, depth)| depth + 1);
        let name = if parent.is_none() {
            format!("{} {}", rng.pick(AREAS), index + 1)
        } else {
            format!("{} {}", rng.pick(NOUNS), index + 1)
        };
        let permissions = (rng.below(8) == 0).then(|| {
            let mut list = vec![serde_json::json!({"principal": {"kind": "role", "name": "admin"}, "access": "manage"})];
            list.push(serde_json::json!({"principal": {"kind": "role", "name": rng.pick(ROLES)}, "access": "write"}));
            list.push(serde_json::json!({"principal": {"kind": "user", "name": rng.pick(USERS)}, "access": "read"}));
            list
        });
        rows.push(serde_json::json!({
            "id": id, "parent": parent.as_ref().map(|(p, _)| p.clone()), "name": name, "permissions": permissions,
        }));
        folders.push((id, parent.map(|(p, _)| p), depth));
    }
    for chunk in rows.chunks(BATCH) {
        db.query(
            "BEGIN TRANSACTION;
             FOR $f IN $rows {
                 CREATE type::record('folder', [$gen, $f.id]) CONTENT {
                     gen: $gen, parent: $f.parent ?? NONE, name: $f.name,
                     permissions: $f.permissions ?? NONE, created_at: time::now()
                 };
             };
             COMMIT TRANSACTION;",
        )
        .bind(("gen", generation.clone()))
        .bind(("rows", serde_json::Value::Array(chunk.to_vec())))
        .await
        .and_then(check_transaction)?;
    }

    // Items, spread over the folders and the top level; names unique per folder by index.
    let mut done = 0;
    while done < options.items {
        let count = BATCH.min(options.items - done);
        let mut batch = Vec::with_capacity(count);
        for index in done..done + count {
            let kind = match rng.below(10) {
                0..5 => ItemKind::Service,
                5..8 => ItemKind::Model,
                _ => ItemKind::Form,
            };
            let folder = if folders.is_empty() || rng.below(20) == 0 {
                None
            } else {
                Some(folders[rng.below(folders.len())].0.clone())
            };
            let name = format!("{} {} {}", rng.pick(NOUNS), rng.pick(VERBS), index + 1);
            let size = content_size(&mut rng, options.avg_size);
            let text = content(&mut rng, kind, &name, size);
            batch.push(serde_json::json!({
                "id": rng.id(), "folder": folder, "kind": kind.as_str(), "name": name,
                "size": text.len(), "content": text, "by": rng.pick(USERS), "revision": 1 + rng.below(12),
            }));
        }
        db.query(
            "BEGIN TRANSACTION;
             FOR $i IN $rows {
                 CREATE type::record('item', [$gen, $i.id]) CONTENT {
                     gen: $gen, folder: $i.folder ?? NONE, kind: $i.kind, name: $i.name, content: $i.content,
                     size: $i.size, revision: $i.revision, created_at: time::now(), updated_at: time::now(),
                     updated_by: $i.by
                 };
             };
             COMMIT TRANSACTION;",
        )
        .bind(("gen", generation.clone()))
        .bind(("rows", serde_json::Value::Array(batch)))
        .await
        .and_then(check_transaction)?;
        done += count;
        progress(done, options.items);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_a_long_tail_around_the_average() {
        let mut rng = Rng::new(7);
        let sizes: Vec<usize> = (0..20_000).map(|_| content_size(&mut rng, 4096)).collect();
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        assert!((3000.0..5500.0).contains(&mean), "mean {mean}");
        assert!(sizes.iter().any(|&s| s > 4096 * 8), "a long tail");
        assert!(sizes.iter().any(|&s| s < 1024), "small ones too");
    }

    #[test]
    fn generated_content_is_valid_for_its_kind() {
        let mut rng = Rng::new(1);
        for kind in ItemKind::ALL {
            let text = content(&mut rng, kind, "Order <check> & ship", 2000);
            assert_eq!(crate::validate::content(kind, &text), Ok(()), "{kind:?}");
            assert!(
                text.len() >= 1500,
                "{kind:?} is about the size asked for: {}",
                text.len()
            );
        }
    }
}
