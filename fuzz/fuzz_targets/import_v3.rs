//! Any bytes as the files of a v3 directory: no panic, and whatever imports
//! is valid and writes back as v3. The input is split at NUL bytes: the
//! first part is the collection's definition, each further part a request
//! file, except that a part starting with `E` is an example of the first request.
#![no_main]

use formats::v3::{Files, WriteOptions, export_v3_collection, import_v3};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let mut files = Files::new();
    files.insert(".resources/definition.yaml".into(), parts.next().unwrap_or_default().to_vec());
    for (n, part) in parts.enumerate() {
        let path = match part.first() {
            Some(b'E') => format!(".resources/r0.resources/examples/e{n}.example.yaml"),
            _ => format!("r{n}.request.yaml"),
        };
        files.insert(path, part.to_vec());
    }
    let mut n = 0u128;
    let mut mint = || {
        n += 1;
        model::Id::from_u128(n)
    };
    if let Ok(read) = import_v3(&files, model::Id::nil(), &mut mint) {
        assert_eq!(read.sources.len(), read.import.documents.len());
        for d in &read.import.documents {
            assert!(model::schema::check_document(d.kind, &d.fields).is_ok(), "a v3 import produced an invalid document");
        }
        for c in read.import.documents.iter().filter(|d| d.kind == model::Kind::Collection) {
            let _ = export_v3_collection(c, &read.import.documents, &WriteOptions::default());
        }
    }
});
