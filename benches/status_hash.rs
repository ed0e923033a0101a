//! Criterion bench of the status hash walk over the committed fixtures.

use criterion::{criterion_group, criterion_main, Criterion};
use etcdsnap::etcd::{status, Snapshot};

fn bench(c: &mut Criterion) {
    for name in ["fixtures/etcd-3.5/deep.db", "fixtures/etcd-3.4/small.db"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        let Ok(snap) = Snapshot::open(&path) else {
            panic!("fixture {name} missing: run scripts/make-fixtures.py");
        };
        c.bench_function(&format!("status {name}"), |b| {
            b.iter(|| status::status(&snap).map(|s| s.hash).unwrap_or(0))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
