//! The IDX (MNIST) reader never panics, and what it accepts encodes back to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lamppost::data::idx::{encode_idx, parse_idx};

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = parse_idx(data) {
        assert_eq!(encode_idx(&a), data, "accepted bytes must round-trip");
    }
});
