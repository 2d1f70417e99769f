//! Source text -> parse and check (and lower every def that checks): never
//! a panic, an abort or a hang, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(program) = dp::Program::from_source("fuzz.dp", &text) {
        let _ = program.lower(None);
    }
});
