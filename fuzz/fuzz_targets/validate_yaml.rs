//! `kubectl medusa validate` reading multi-document YAML: parsing, the files' cluster view and
//! the rules on every document never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use kubectl_medusa::commands::validate::{evaluate, files_view, parse_documents};

fuzz_target!(|text: &str| {
    let Ok(documents) = parse_documents("fuzz.yaml", text) else {
        return;
    };
    let view = files_view(&documents);
    let rows = futures::executor::block_on(evaluate(&documents, &view, "k8ssandra"));
    for row in rows {
        assert!(!row.message.is_empty());
    }
});
