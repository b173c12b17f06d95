//! Image decoding (PNG, JPEG; any bytes) never panics and respects the pixel budget.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lamppost::data::folder::image_from_bytes;

fuzz_target!(|data: &[u8]| {
    if let Ok((t, w, h)) = image_from_bytes(data, 28) {
        assert_eq!(t.shape(), &[3, 28, 28]);
        assert!((w as u64) * (h as u64) <= lamppost::data::folder::MAX_IMAGE_PIXELS);
        assert!(t.data().iter().all(|v| (0.0..=1.0).contains(v)));
    }
});
