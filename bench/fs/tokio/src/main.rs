// fs_tokio: Tokio side of the corio file-I/O benchmark.
//
// Usage: fs_tokio MODE N INFLIGHT PATH
// Prints exactly one line on stdout: "tokio <mode> <n> <seconds>", where
// seconds is the wall time (std::time::Instant) of the workload only: the
// runtime is already built, the clock starts just before the first operation
// and stops after the last one completes.  Any error, short read or wrong
// byte count exits non-zero with a message on stderr.
//
// Modes:
//   files  PATH is a directory of 4096-byte files f00000, f00001, ...; read
//          files 0..N-1 whole with tokio::fs::read, INFLIGHT at a time (a new
//          one starts as soon as one finishes); each must be 4096 bytes.
//   seq    PATH is one file of N MiB; open it with tokio::fs::File and
//          AsyncReadExt::read 1 MiB at a time into one reused buffer until
//          EOF (INFLIGHT ignored); the total must be N * 1048576 bytes.
//          Note: Tokio 1.24's File caps each underlying read at 16 KiB.
//   rand   PATH is one file of S bytes (S a multiple of 4096, from metadata,
//          opened before the clock starts); do N positional 4096-byte reads,
//          INFLIGHT at a time, each via spawn_blocking + FileExt::read_at on
//          an Arc<std::fs::File>.  Offsets come from xorshift64 (state 42;
//          x ^= x << 13; x ^= x >> 7; x ^= x << 17; off = (x % (S/4096)) *
//          4096), drawn in order as reads are started.  Each read must return
//          exactly 4096 bytes.
//
// Runtime: current_thread (one event loop thread) plus Tokio's default
// blocking pool, which performs the file system calls.
//
// Build (offline, against Debian's librust-tokio-dev crates):
//   bench/fs/tokio_build.sh OUT     # e.g. OUT=bench/out; prints binary path

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::exit;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;

const FILE_SIZE: usize = 4096;
const MIB: usize = 1 << 20;
const BLOCK: u64 = 4096;

type Res<T> = Result<T, String>;

fn usage() -> ! {
    eprintln!("usage: fs_tokio files|seq|rand N INFLIGHT PATH");
    exit(2);
}

fn parse_u64(s: &str, what: &str) -> u64 {
    match s.parse::<u64>() {
        Ok(v) => v,
        Err(_) => {
            eprintln!("fs_tokio: bad {}: {:?}", what, s);
            usage();
        }
    }
}

/// Reads files f00000..f{n-1} in `dir`, `inflight` at a time.
async fn run_files(n: u64, inflight: u64, dir: &Path) -> Res<f64> {
    let mut set: JoinSet<Res<()>> = JoinSet::new();
    let mut next: u64 = 0;

    let start_one = |set: &mut JoinSet<Res<()>>, i: u64| {
        let path: PathBuf = dir.join(format!("f{:05}", i));
        set.spawn(async move {
            let data = tokio::fs::read(&path)
                .await
                .map_err(|e| format!("read {}: {}", path.display(), e))?;
            if data.len() != FILE_SIZE {
                return Err(format!(
                    "{}: got {} bytes, want {}",
                    path.display(),
                    data.len(),
                    FILE_SIZE
                ));
            }
            Ok(())
        });
    };

    let t0 = Instant::now();
    while next < n && next < inflight {
        start_one(&mut set, next);
        next += 1;
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| format!("task failed: {}", e))??;
        if next < n {
            start_one(&mut set, next);
            next += 1;
        }
    }
    Ok(t0.elapsed().as_secs_f64())
}

/// Reads an N MiB file sequentially with 1 MiB reads into one buffer.
async fn run_seq(n: u64, path: &Path) -> Res<f64> {
    let want = n * MIB as u64;
    let mut buf = vec![0u8; MIB];
    let mut total: u64 = 0;

    let t0 = Instant::now();
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("open {}: {}", path.display(), e))?;
    loop {
        let got = file
            .read(&mut buf)
            .await
            .map_err(|e| format!("read {}: {}", path.display(), e))?;
        if got == 0 {
            break;
        }
        total += got as u64;
    }
    let secs = t0.elapsed().as_secs_f64();

    if total != want {
        return Err(format!(
            "{}: read {} bytes, want {}",
            path.display(),
            total,
            want
        ));
    }
    Ok(secs)
}

/// N random 4096-byte positional reads, `inflight` at a time.
async fn run_rand(n: u64, inflight: u64, path: &Path) -> Res<f64> {
    let file = std::fs::File::open(path).map_err(|e| format!("open {}: {}", path.display(), e))?;
    let size = file
        .metadata()
        .map_err(|e| format!("stat {}: {}", path.display(), e))?
        .len();
    if size < BLOCK || size % BLOCK != 0 {
        return Err(format!(
            "{}: size {} is not a positive multiple of {}",
            path.display(),
            size,
            BLOCK
        ));
    }
    let blocks = size / BLOCK;
    let file = Arc::new(file);

    let mut x: u64 = 42;
    let mut next_off = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % blocks) * BLOCK
    };

    let mut set: JoinSet<Res<()>> = JoinSet::new();
    let start_one = |set: &mut JoinSet<Res<()>>, off: u64| {
        let file = Arc::clone(&file);
        let handle = tokio::task::spawn_blocking(move || {
            let mut buf = [0u8; FILE_SIZE];
            let got = file
                .read_at(&mut buf, off)
                .map_err(|e| format!("pread at {}: {}", off, e))?;
            if got != FILE_SIZE {
                return Err(format!("pread at {}: got {} bytes, want {}", off, got, FILE_SIZE));
            }
            Ok(())
        });
        set.spawn(async move {
            handle
                .await
                .map_err(|e| format!("blocking task failed: {}", e))?
        });
    };

    let mut started: u64 = 0;
    let t0 = Instant::now();
    while started < n && started < inflight {
        start_one(&mut set, next_off());
        started += 1;
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| format!("task failed: {}", e))??;
        if started < n {
            start_one(&mut set, next_off());
            started += 1;
        }
    }
    Ok(t0.elapsed().as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        usage();
    }
    let mode = args[1].as_str();
    let n = parse_u64(&args[2], "N");
    let inflight = parse_u64(&args[3], "INFLIGHT");
    let path = PathBuf::from(&args[4]);
    if inflight == 0 && mode != "seq" {
        eprintln!("fs_tokio: INFLIGHT must be >= 1");
        exit(2);
    }

    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fs_tokio: building runtime: {}", e);
            exit(1);
        }
    };

    let result = rt.block_on(async {
        match mode {
            "files" => run_files(n, inflight, &path).await,
            "seq" => run_seq(n, &path).await,
            "rand" => run_rand(n, inflight, &path).await,
            _ => usage(),
        }
    });

    match result {
        Ok(secs) => println!("tokio {} {} {:.6}", mode, n, secs),
        Err(msg) => {
            eprintln!("fs_tokio {}: {}", mode, msg);
            exit(1);
        }
    }
}
