//! The fuzz targets on stable Rust without libFuzzer: random and mutated bytes through the same `arbitrary`
//! harness, for a bounded time. No coverage feedback, so it finds less than cargo fuzz; scripts/fuzz.sh uses
//! it only when cargo fuzz cannot run. It also replays crash files and corpora on any toolchain.
//!
//!   stable-fuzz run <target> [--seconds N] [--seed N] [--max-len BYTES] [--corpus DIR]... [--artifacts DIR]
//!   stable-fuzz replay <target> <file or dir>...
//!
//! Exit status: 0 when no input failed, 1 on a failing input (saved under the artifacts dir), 2 on misuse.

use std::panic;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

fn usage() -> ExitCode {
  let names: Vec<&str> = fuzz_harness::TARGETS.iter().map(|(n, _)| *n).collect();
  eprintln!(
    "usage: stable-fuzz run <target> [--seconds N] [--seed N] [--max-len BYTES] [--corpus DIR] [--artifacts DIR]"
  );
  eprintln!("       stable-fuzz replay <target> <file or dir>...");
  eprintln!("targets: {}", names.join(", "));
  ExitCode::from(2)
}

/// Files of a corpus directory (or the file itself), sorted for a stable order.
fn files(path: &Path) -> Vec<PathBuf> {
  let mut out = Vec::new();
  if path.is_dir() {
    if let Ok(entries) = std::fs::read_dir(path) {
      out.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
    }
  } else if path.is_file() {
    out.push(path.to_path_buf());
  }
  out.sort();
  out
}

/// Runs one input; returns the panic message when it failed.
fn run_one(target: fn(&[u8]), data: &[u8], last_panic: &Arc<Mutex<Option<String>>>) -> Option<String> {
  match panic::catch_unwind(|| target(data)) {
    Ok(()) => None,
    Err(_) => Some(last_panic.lock().unwrap().take().unwrap_or_else(|| "panic".into())),
  }
}

fn fnv1a(data: &[u8]) -> u64 {
  data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn save(artifacts: &Path, target: &str, data: &[u8]) -> PathBuf {
  let dir = artifacts.join(target);
  let _ = std::fs::create_dir_all(&dir);
  let path = dir.join(format!("crash-stable-{:016x}", fnv1a(data)));
  if let Err(e) = std::fs::write(&path, data) {
    eprintln!("stable-fuzz: cannot save {}: {e}", path.display());
  }
  path
}

/// A random input: mostly short (where most decisions happen), sometimes up to max_len.
fn fresh(rng: &mut StdRng, max_len: usize) -> Vec<u8> {
  let len = match rng.random_range(0..10) {
    0..=5 => rng.random_range(0..=256.min(max_len)),
    6..=8 => rng.random_range(0..=4096.min(max_len)),
    _ => rng.random_range(0..=max_len),
  };
  let mut data = vec![0u8; len];
  rng.fill_bytes(&mut data);
  // Small values steer `arbitrary`'s choices toward the dictionaries and short lists now and then.
  if rng.random_bool(0.3) {
    for b in data.iter_mut() {
      if rng.random_bool(0.5) {
        *b %= 8;
      }
    }
  }
  data
}

/// A corpus entry with a few random edits (byte flips, inserts, deletes, splices of itself).
fn mutate(rng: &mut StdRng, seed: &[u8], max_len: usize) -> Vec<u8> {
  let mut data = seed.to_vec();
  for _ in 0..rng.random_range(1..=8) {
    match rng.random_range(0..4) {
      0 if !data.is_empty() => {
        let i = rng.random_range(0..data.len());
        data[i] ^= 1 << rng.random_range(0..8);
      }
      1 if data.len() < max_len => {
        let i = rng.random_range(0..=data.len());
        data.insert(i, rng.random());
      }
      2 if !data.is_empty() => {
        let i = rng.random_range(0..data.len());
        data.remove(i);
      }
      3 if !data.is_empty() => {
        let a = rng.random_range(0..data.len());
        let b = rng.random_range(a..=data.len());
        let chunk = data[a..b].to_vec();
        let at = rng.random_range(0..=data.len());
        data.splice(at..at, chunk);
        data.truncate(max_len);
      }
      _ => {}
    }
  }
  data
}

fn main() -> ExitCode {
  let args: Vec<String> = std::env::args().skip(1).collect();
  let (Some(command), Some(name)) = (args.first(), args.get(1)) else { return usage() };
  let Some(target) = fuzz_harness::target(name) else { return usage() };

  // Keep the panic message for the report instead of printing every one.
  let last_panic: Arc<Mutex<Option<String>>> = Arc::default();
  let hook_slot = last_panic.clone();
  panic::set_hook(Box::new(move |info| {
    let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    let message = info
      .payload()
      .downcast_ref::<String>()
      .cloned()
      .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
      .unwrap_or_default();
    let mut message = format!("{message}{location}");
    if message.len() > 4000 {
      let mut end = 4000;
      while !message.is_char_boundary(end) {
        end -= 1;
      }
      message.truncate(end);
      message.push_str("…");
    }
    *hook_slot.lock().unwrap() = Some(message);
  }));

  match command.as_str() {
    "replay" => {
      let paths: Vec<PathBuf> = args[2..].iter().flat_map(|p| files(Path::new(p))).collect();
      let mut failed = 0;
      for path in &paths {
        let data = std::fs::read(path).unwrap_or_default();
        if let Some(message) = run_one(target, &data, &last_panic) {
          failed += 1;
          println!("FAIL {}: {message}", path.display());
        }
      }
      println!("stable-fuzz replay {name}: {} inputs, {failed} failed", paths.len());
      if failed > 0 {
        ExitCode::FAILURE
      } else {
        ExitCode::SUCCESS
      }
    }
    "run" => {
      let mut seconds = 20u64;
      let mut seed: u64 = rand::rng().random();
      let mut max_len = 65_536usize;
      let mut corpus: Vec<PathBuf> = Vec::new();
      let mut artifacts = PathBuf::from("artifacts");
      let mut rest = args[2..].iter();
      while let Some(flag) = rest.next() {
        let Some(v) = rest.next() else { return usage() };
        match flag.as_str() {
          "--seconds" => seconds = v.parse().unwrap_or(seconds),
          "--seed" => seed = v.parse().unwrap_or(seed),
          "--max-len" => max_len = v.parse().unwrap_or(max_len),
          "--corpus" => corpus.push(PathBuf::from(v)),
          "--artifacts" => artifacts = PathBuf::from(v),
          _ => return usage(),
        }
      }
      let seeds: Vec<Vec<u8>> = corpus.iter().flat_map(|c| files(c)).filter_map(|p| std::fs::read(p).ok()).collect();
      println!(
        "stable-fuzz run {name}: {seconds} s, seed {seed}, max-len {max_len}, {} corpus inputs to mutate",
        seeds.len()
      );
      let mut rng = StdRng::seed_from_u64(seed);
      let started = Instant::now();
      let deadline = started + Duration::from_secs(seconds);
      let mut runs: u64 = 0;
      // The corpus itself first: a known crash must fail the run at once.
      for data in &seeds {
        runs += 1;
        if let Some(message) = run_one(target, data, &last_panic) {
          let path = save(&artifacts, name, data);
          println!(
            "stable-fuzz {name}: FAILED on a corpus input after {runs} runs: {message}\n  saved to {}",
            path.display()
          );
          return ExitCode::FAILURE;
        }
      }
      while Instant::now() < deadline {
        for _ in 0..64 {
          let data = if !seeds.is_empty() && rng.random_bool(0.5) {
            let pick = rng.random_range(0..seeds.len());
            mutate(&mut rng, &seeds[pick], max_len)
          } else {
            fresh(&mut rng, max_len)
          };
          runs += 1;
          if let Some(message) = run_one(target, &data, &last_panic) {
            let path = save(&artifacts, name, &data);
            println!(
              "stable-fuzz {name}: FAILED after {runs} runs ({:.1} s, seed {seed}): {message}\n  saved to {}\n  replay: cargo run --release --manifest-path fuzz/Cargo.toml --features stable-runner --bin stable-fuzz -- replay {name} {}",
              started.elapsed().as_secs_f64(),
              path.display(),
              path.display()
            );
            return ExitCode::FAILURE;
          }
        }
      }
      let secs = started.elapsed().as_secs_f64();
      println!("stable-fuzz {name}: {runs} runs in {secs:.1} s ({:.0}/s), no failure", runs as f64 / secs);
      ExitCode::SUCCESS
    }
    _ => usage(),
  }
}
