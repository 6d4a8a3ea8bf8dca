//! The process allocator: the system allocator with a per-thread cap on the size of a single
//! allocation, lowered only while bytes from a peer are decoded (`bounded`).
//!
//! yrs reserves capacity for the counts an update declares (`try_reserve` of a client count,
//! a block count, a map length) before it has read the items. Five hostile bytes can declare
//! four billion clients; the reservation then asks for gigabytes and the hash table's control
//! bytes are written at once. Under `bounded`, any single allocation larger than a multiple of
//! the input's length fails: yrs's fallible reservations turn that into a decode error, which
//! the sync session answers like any malformed update. Legitimate decoding allocates at most a
//! small multiple of the input (each declared item takes at least a byte of it), far below the
//! cap. The one `unsafe` of the crate is this delegation to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Bytes one allocation may take per byte of input while decoding; `FLOOR` more for small inputs.
const FACTOR: usize = 64;
const FLOOR: usize = 1 << 20;

thread_local! {
    static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn allowed(size: usize) -> bool {
    // During thread teardown the slot may be gone: no cap then. Nor while panicking: the
    // panic hook's backtrace must not abort the process.
    CAP.try_with(|c| size <= c.get()).unwrap_or(true) || std::thread::panicking()
}

/// `System`, refusing single allocations above the calling thread's cap.
pub struct Bounded;

// SAFETY: every method delegates to `System` with the caller's arguments unchanged, or returns
// null (allocation failure), which `GlobalAlloc` permits.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !allowed(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !allowed(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !allowed(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` through this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Bounded = Bounded;

/// Runs `decode` over `input_len` bytes of untrusted input with single allocations capped at
/// `input_len * 64 + 1 MiB` on this thread; the previous cap comes back afterwards. A panic
/// inside `decode` answers `None`: yrs's decoder asserts on some values in debug builds (a
/// client id wider than 53 bits), and decoding is a pure function of the bytes, so nothing is
/// left half-changed. Keep `decode` to decoding: work that legitimately allocates more
/// (applying the update, writing it) runs outside.
pub fn bounded<R>(input_len: usize, decode: impl FnOnce() -> R) -> Option<R> {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            CAP.with(|c| c.set(self.0));
        }
    }
    let cap = input_len.saturating_mul(FACTOR).saturating_add(FLOOR);
    let _restore = Restore(CAP.with(|c| c.replace(cap.min(c.get()))));
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{Map, ReadTxn, Transact};

    #[test]
    fn a_declared_count_beyond_the_input_is_a_decode_error_not_an_allocation() {
        // The fuzzer's find: no clients follow, but four billion are declared.
        let hostile = [0xff, 0xff, 0xff, 0x2d];
        assert!(bounded(hostile.len(), || yrs::Update::decode_v1(&hostile)).is_some_and(|r| r.is_err()));
        let mut v = Vec::<u8>::new();
        assert!(bounded(10, || v.try_reserve(100 << 20)).is_some_and(|r| r.is_err()));
        // Outside, the same reservation is an ordinary one.
        assert!(v.try_reserve(100 << 20).is_ok());
    }

    #[test]
    fn a_large_honest_update_decodes_under_the_cap() {
        let doc = yrs::Doc::new();
        let map = doc.get_or_insert_map("issues");
        {
            let mut txn = doc.transact_mut();
            for i in 0..50_000u32 {
                map.insert(&mut txn, format!("k{i}"), i64::from(i));
            }
        }
        let update = doc.transact().encode_state_as_update_v1(&yrs::StateVector::default());
        let decoded = bounded(update.len(), || yrs::Update::decode_v1(&update));
        assert!(decoded.is_some_and(|r| r.is_ok()));
        let sv = doc.transact().state_vector().encode_v1();
        assert!(bounded(sv.len(), || yrs::StateVector::decode_v1(&sv)).is_some_and(|r| r.is_ok()));
    }

    #[test]
    fn a_panic_while_decoding_is_an_answer_and_its_report_may_allocate() {
        // The fuzzer's second find: a client id wider than 53 bits trips a debug assertion
        // in yrs (a decode error in release builds).
        let hostile = [0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00];
        let out = bounded(hostile.len(), || yrs::Update::decode_v1(&hostile).map(|_| ()));
        assert!(out.is_none_or(|r| r.is_err()));
        // What runs while unwinding (the panic hook's backtrace, destructors) is not capped.
        struct AllocatesOnDrop;
        impl Drop for AllocatesOnDrop {
            fn drop(&mut self) {
                std::hint::black_box(vec![1u8; 8 << 20]);
            }
        }
        let out: Option<()> = bounded(1, || {
            let _guard = AllocatesOnDrop;
            panic!("decoder assertion");
        });
        assert!(out.is_none());
    }
}
