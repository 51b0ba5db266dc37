//! Voice prompt benchmark (run with `cargo bench --bench prompts`, or `scripts/bench prompts`).
//! Prints figures; asserts nothing.
//!
//! Validating and transcoding what an administrator typically uploads: a 10-second 44.1 kHz
//! stereo mp3 (tests/fixtures/prompts/sweep-10s-44k-stereo.mp3), decoded completely, mixed to
//! mono, resampled to 8 kHz and written as a WAV — `media::audio::transcode`, what every upload
//! goes through. Reports the time per file (min, median, max over the runs) and the peak heap
//! in use during one conversion, measured by a counting global allocator (so it is the
//! conversion's own memory, not the process's).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct CountingAllocator;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const INPUT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/prompts/sweep-10s-44k-stereo.mp3"
);

fn main() {
    let path = std::path::Path::new(INPUT);
    let size = std::fs::metadata(path).expect("the fixture").len();

    // Peak memory of one conversion from the file on disk, as the daemon does it.
    let baseline = IN_USE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let file = std::fs::File::open(path).unwrap();
    let converted = coocenterd::media::audio::transcode(file, Some("mp3"), 60).expect("converts");
    let peak = PEAK.load(Ordering::Relaxed) - baseline;
    let wav_len = converted.wav.len();
    drop(converted);

    let runs = 20;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let file = std::fs::File::open(path).unwrap();
        let started = Instant::now();
        let converted = coocenterd::media::audio::transcode(file, Some("mp3"), 60).unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(converted);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "prompts: validate + transcode a 10 s 44.1 kHz stereo mp3 ({} KB) to 8 kHz mono WAV ({} KB): \
         min {:.1} ms, median {:.1} ms, max {:.1} ms over {runs} runs",
        size / 1024,
        wav_len / 1024,
        times[0],
        times[runs / 2],
        times[runs - 1]
    );
    println!(
        "prompts: peak heap during one conversion {:.0} KiB (of which the 8 kHz result {:.0} KiB)",
        peak as f64 / 1024.0,
        wav_len as f64 / 1024.0
    );
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_default();
    println!("prompts: peak resident memory of the whole benchmark process {hwm}");
}
