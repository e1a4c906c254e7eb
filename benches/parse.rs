//! Parse-cost benchmark (not a test): the route-table parsers on a 100k-route table of each
//! daemon, `benches/fixtures/*-100k-routes.*.gz` (FRR, BIRD and GoBGP recorded from the real
//! daemons, Quagga synthesized from its recorded format; see benches/fixtures/README.md).
//!
//! For each format: decompress, strip the three `# daemon/command/lab` header lines, run the
//! parser `RUNS` times (default 5) and report the minimum and median wall time, the routes
//! and paths parsed, and the peak heap in use during the parse above what was in use before
//! it (a counting global allocator; the input text is allocated before and not counted, the
//! parser's own output is). Bounds: 0.5 s and 200 MB (10^6 bytes) per format; the exit code
//! is 1 when one is missed.
//!
//! Run: `cargo bench --bench parse [FORMAT...]` (or `scripts/bench-parse`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Read;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use metallab::kinds::{
    bird::parse as bird, frr::parse as frr, gobgp::parse as gobgp, quagga::parse as quagga,
};
use metallab::parse::ParseError;
use metallab::state::Route;

/// `System`, counting the bytes in use and the most ever in use.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = IN_USE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    IN_USE.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TIME_BOUND: Duration = Duration::from_millis(500);
const MEMORY_BOUND: usize = 200_000_000;
const MB: f64 = 1_000_000.0;

struct Format {
    name: &'static str,
    file: &'static str,
    parse: fn(&str) -> Result<Vec<Route>, ParseError>,
}

const FORMATS: &[Format] = &[
    Format {
        name: "FRR",
        file: "frr-100k-routes.json.gz",
        parse: frr::routes,
    },
    Format {
        name: "BIRD",
        file: "bird-100k-routes.txt.gz",
        parse: bird::routes,
    },
    Format {
        name: "GoBGP",
        file: "gobgp-100k-routes.json.gz",
        parse: gobgp::routes,
    },
    Format {
        name: "Quagga",
        file: "quagga-100k-routes.txt.gz",
        parse: quagga::routes,
    },
];

/// The recorded output without its three header lines (as `parse::fixture_body` in tests).
fn body(file: &str, recorded: &str) -> Result<String, String> {
    let mut rest = recorded;
    for expected in ["# daemon: ", "# command: ", "# lab: "] {
        if !rest.starts_with(expected) {
            return Err(format!(
                "{file}: header line should start with {expected:?}"
            ));
        }
        rest = rest.split_once('\n').map_or("", |(_, tail)| tail);
    }
    Ok(rest.to_string())
}

fn load(file: &str) -> Result<String, String> {
    let path = format!("{}/benches/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let gz = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut recorded = String::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut recorded)
        .map_err(|e| format!("{path}: {e}"))?;
    body(file, &recorded)
}

struct Measured {
    routes: usize,
    paths: usize,
    input_bytes: usize,
    min: Duration,
    median: Duration,
    peak_bytes: usize,
}

fn measure(format: &Format, runs: usize) -> Result<Measured, String> {
    let text = load(format.file)?;
    let mut times = Vec::with_capacity(runs);
    let mut peak_bytes = 0;
    let (mut routes, mut paths) = (0, 0);
    for _ in 0..runs {
        let baseline = IN_USE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let start = Instant::now();
        let parsed = (format.parse)(black_box(&text));
        let elapsed = start.elapsed();
        peak_bytes = peak_bytes.max(PEAK.load(Ordering::Relaxed) - baseline);
        let parsed = parsed.map_err(|e| format!("{}: {e}", format.file))?;
        times.push(elapsed);
        routes = parsed.len();
        paths = parsed.iter().map(|r| r.paths.len()).sum();
        drop(black_box(parsed));
    }
    times.sort();
    Ok(Measured {
        routes,
        paths,
        input_bytes: text.len(),
        min: times[0],
        median: times[times.len() / 2],
        peak_bytes,
    })
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; other arguments pick formats by name.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let runs = match std::env::var("RUNS") {
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("error: RUNS must be a positive number, not `{v}`");
                return ExitCode::FAILURE;
            }
        },
        Err(_) => 5,
    };
    println!(
        "{:<7} {:>7} {:>7} {:>8} {:>9} {:>9} {:>8}  {:<15} result",
        "format", "routes", "paths", "input MB", "min", "median", "peak MB", "bound"
    );
    let mut ok = true;
    for format in FORMATS {
        if !wanted.is_empty() && !wanted.contains(&format.name.to_ascii_lowercase()) {
            continue;
        }
        let m = match measure(format, runs) {
            Ok(m) => m,
            Err(e) => {
                println!("{:<7} error: {e}", format.name);
                ok = false;
                continue;
            }
        };
        let pass = m.min < TIME_BOUND && m.peak_bytes < MEMORY_BOUND;
        ok &= pass;
        println!(
            "{:<7} {:>7} {:>7} {:>8.1} {:>7.3} s {:>7.3} s {:>8.1}  {:<15} {}",
            format.name,
            m.routes,
            m.paths,
            m.input_bytes as f64 / MB,
            m.min.as_secs_f64(),
            m.median.as_secs_f64(),
            m.peak_bytes as f64 / MB,
            format!(
                "{} s / {} MB",
                TIME_BOUND.as_secs_f64(),
                MEMORY_BOUND as f64 / MB
            ),
            if pass { "PASS" } else { "FAIL" }
        );
    }
    println!("({runs} runs each; time is wall time of the parse, peak is heap above the input)");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
