//! Real exports, mangled at random (bytes flipped, cut short, spliced): the
//! importers never panic, and whatever they accept is valid and exports.
//! The cargo-fuzz target in fuzz/ explores further; this bounded run is CI's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use model::{Id, Kind};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn check(bytes: &[u8]) {
    let mut n = 0u128;
    let mut mint = || {
        n += 1;
        Id::from_u128(n)
    };
    if let Ok(imported) = formats::import(bytes, Id::nil(), &mut mint) {
        for d in &imported.documents {
            assert!(model::schema::check_document(d.kind, &d.fields).is_ok(), "invalid {} from a mangled file", d.kind);
        }
        for c in imported.documents.iter().filter(|d| d.kind == Kind::Collection) {
            let _ = formats::export_collection(c, &imported.documents);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mangled_exports_never_panic(
        file in 0usize..1000,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let files = fixtures();
        prop_assume!(!files.is_empty());
        let mut bytes = std::fs::read(&files[file % files.len()]).unwrap();
        prop_assume!(!bytes.is_empty());
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        check(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }
}
