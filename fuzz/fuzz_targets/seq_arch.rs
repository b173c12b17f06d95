//! The `seq:` architecture parser never panics, and what it accepts is within the
//! parameter budget and initializes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lamppost::nn::{Arch, Model};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(arch) = Arch::from_name(&format!("seq:{s}")) {
        // small enough to build here: initialize it (the budget is checked in parsing)
        let n: usize = arch.params().iter().map(|p| p.1.iter().product::<usize>()).sum();
        if n < 1 << 20 {
            let _ = Model::<f32>::init(arch, 0);
        }
    }
});
