//! Callgrind's client requests: zero the counters, and dump them under a name. Outside valgrind
//! they are no-ops (the magic instruction sequence changes nothing on a real CPU).
//!
//! Written out rather than taken from a crate: the crates that wrap these requests build a C
//! shim or run bindgen (libclang) against valgrind's headers, a heavy build dependency for two
//! requests; the sequence itself is fixed by valgrind's ABI (`valgrind.h`, amd64).

/// `VG_USERREQ_TOOL_BASE('C', 'T')`: callgrind's requests start here (`callgrind.h`).
const BASE: usize = (b'C' as usize) << 24 | (b'T' as usize) << 16;
const ZERO_STATS: usize = BASE + 1;
const DUMP_STATS_AT: usize = BASE + 3;

#[cfg(target_arch = "x86_64")]
fn client_request(request: usize, arg: usize) {
    let args: [usize; 6] = [request, arg, 0, 0, 0, 0];
    let mut result: usize = 0;
    // Rotating rdi by 3+13+61+51 = 128 bits leaves it unchanged: a no-op on a real CPU, the
    // marker valgrind's JIT recognises (`__SPECIAL_INSTRUCTION_PREAMBLE`).
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") result,
            in("rax") args.as_ptr(),
            options(nostack),
        );
    }
    let _ = result;
}

#[cfg(not(target_arch = "x86_64"))]
fn client_request(_request: usize, _arg: usize) {}

/// Resets every counter: what follows is measured from zero.
pub fn zero_stats() {
    client_request(ZERO_STATS, 0);
}

/// Writes the counters since the last zero or dump to a dump file named after `what`, and
/// zeroes them.
pub fn dump_stats_at(what: &std::ffi::CStr) {
    client_request(DUMP_STATS_AT, what.as_ptr() as usize);
}
