//! `stakestack` — run, check and compute the staking stack from the command line.
//!
//! Exit codes: 0 success; 1 bad input — the scenario, a request or the command line was invalid
//! (the message says where); 2 the run failed — time could not advance (the message names the
//! step) or its outputs could not be written; 3 the run broke an invariant (a bug: the message
//! names the seed); 141 standard output was closed (a broken pipe, as `head` does), quietly.

/// `println!` that returns the write error (e.g. a closed standard output) instead of panicking.
macro_rules! outln {
    () => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock())?
    }};
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)?
    }};
}

/// `print!` that returns the write error instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($t)*)?
    }};
}

mod bench;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

mod output;
mod parquet_steps;
mod report;
mod run;
mod store;
mod sweep;

#[derive(Parser)]
#[command(
    name = "stakestack",
    version,
    about = "Execute the staking stack exactly: run, stress and measure it."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario: print a summary table and write summary.json, steps.csv and report.html.
    Run {
        /// Scenario file (TOML), e.g. scenarios/eth-staking-basics.toml.
        scenario: PathBuf,
        #[command(flatten)]
        opts: run::RunOpts,
    },
    /// Run a grid of parameter values: each point with its own paths, one row of key figures per
    /// point (sweep.csv, sweep.json), e.g. `--set lending.morpho[0].lltv=86%,91.5%,94.5%`.
    Sweep {
        /// Scenario file (TOML).
        scenario: PathBuf,
        #[command(flatten)]
        opts: sweep::SweepOpts,
    },
    /// Measure the engine: per-operation costs at the protocol and engine levels with 10³–10⁵
    /// accounts, full-stack daily steps with 10³–10⁵ Morpho positions, Ethereum's daily step.
    Bench {
        /// A short smoke run (sizes 10³ and 10⁴, small batches).
        #[arg(long)]
        quick: bool,
        /// World sizes, comma-separated (default 1000,10000,100000).
        #[arg(long, value_delimiter = ',')]
        sizes: Option<Vec<u64>>,
    },
    /// List the runs recorded in the run store, or show one.
    Runs {
        #[command(subcommand)]
        what: Option<RunsCommand>,
        /// The run store (SQLite).
        #[arg(long, default_value = store::DEFAULT, value_name = "FILE", global = true)]
        store: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Validate a scenario file; point at the offending line and key.
    Check {
        /// Scenario file (TOML).
        scenario: PathBuf,
    },
    /// Evaluate protocol formulas: JSON requests on stdin, one per line, answers on stdout.
    Calc {
        /// List the available functions and exit.
        #[arg(long)]
        list: bool,
    },
    /// Write a new scenario file from the basic template.
    New {
        /// Name of the scenario (file scenarios/<name>.toml unless --path is given).
        name: String,
        /// Where to write it.
        #[arg(long)]
        path: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RunsCommand {
    /// One run, by id or a unique prefix of it.
    Show {
        /// Run id.
        id: String,
    },
}

/// Exit code of a process whose standard output was closed under it (128 + SIGPIPE).
const BROKEN_PIPE: i32 = 141;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
            // A closed stream while printing help is not worth a second error.
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match dispatch(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => BROKEN_PIPE,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

/// Whether an error is the reader of our standard output going away.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run { scenario, opts } => run::run(&scenario, &opts),
        Command::Sweep { scenario, opts } => sweep::sweep(&scenario, &opts),
        Command::Runs { what, store, json } => runs(what, &store, json),
        Command::Check { scenario } => check(&scenario),
        Command::Bench { quick, sizes } => {
            bench::run(quick, sizes, include_str!("../../../scenarios/eth-staking-basics.toml"))
        }
        Command::Calc { list } => calc(list),
        Command::New { name, path } => new(&name, path),
    }
}

fn read_scenario(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read scenario file {}", path.display()))
}

/// Reads the data files the scenario names (e.g. a replayed price CSV), relative to its file.
fn read_data(path: &Path, text: &str) -> Result<std::collections::BTreeMap<String, String>> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut data = std::collections::BTreeMap::new();
    for f in stake_engine::runner::data_files(text) {
        let p = dir.join(&f);
        let body = std::fs::read_to_string(&p)
            .with_context(|| format!("cannot read data file {} (named in {})", p.display(), path.display()))?;
        data.insert(f, body);
    }
    Ok(data)
}

fn report_scenario_error(path: &Path, text: &str, e: &stake_engine::scenario::ScenarioError) {
    let line = e.line.or_else(|| stake_engine::scenario::locate(text, &e.path));
    match line {
        Some(l) => {
            eprintln!("error: {}:{}: {}", path.display(), l, e.message);
            if !e.path.is_empty() {
                eprintln!("  key: {}", e.path);
            }
            if let Some(src) = text.lines().nth(l - 1) {
                let shown: String = src.chars().take(160).collect();
                let more = if shown.len() < src.len() { " …" } else { "" };
                eprintln!("  {l:>4} | {shown}{more}");
                if let Some(c) = e.column {
                    eprintln!("       | {}^", " ".repeat(c.saturating_sub(1)));
                }
            }
        }
        None => eprintln!("error: {}: {}", path.display(), e),
    }
}

fn check(path: &Path) -> Result<i32> {
    let text = read_scenario(path)?;
    let data = read_data(path, &text)?;
    match stake_engine::runner::validate_with_data(&text, &data) {
        Ok(summary) => {
            outln!("{}: ok — {summary}", path.display());
            Ok(0)
        }
        Err(e) => {
            report_scenario_error(path, &text, &e);
            Ok(1)
        }
    }
}

fn runs(what: Option<RunsCommand>, file: &Path, json: bool) -> Result<i32> {
    match what {
        None => {
            let all = store::list(file)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(0);
            }
            if all.is_empty() {
                outln!("no runs recorded in {}", file.display());
                return Ok(0);
            }
            outln!(
                "{:<34} {:<20} {:<28} {:>20} {:>7} {:>9}  {}",
                "id",
                "started",
                "scenario",
                "seed",
                "paths",
                "wall s",
                "state hash"
            );
            for r in &all {
                let paths = match r.path {
                    Some(i) => format!("#{i}"),
                    None => r.paths.to_string(),
                };
                outln!(
                    "{:<34} {:<20} {:<28} {:>20} {:>7} {:>9.2}  {}",
                    r.id,
                    r.started,
                    r.scenario,
                    r.seed,
                    paths,
                    r.wall_seconds,
                    &r.state_hash[..16.min(r.state_hash.len())]
                );
            }
            Ok(0)
        }
        Some(RunsCommand::Show { id }) => match store::get(file, &id)? {
            Some(r) if json => {
                outln!("{}", serde_json::to_string_pretty(&r)?);
                Ok(0)
            }
            Some(r) => {
                outln!("run {}", r.id);
                outln!("  started       {}", r.started);
                outln!(
                    "  scenario      {} (hash {})",
                    r.scenario,
                    &r.scenario_hash[..16.min(r.scenario_hash.len())]
                );
                outln!("  seed          {}", r.seed);
                match r.path {
                    Some(i) => outln!("  path          {i} (alone)"),
                    None => outln!("  paths         {}", r.paths),
                }
                outln!("  version       {}", r.version);
                outln!("  wall time     {:.2} s", r.wall_seconds);
                outln!("  outputs       {}", r.out_dir);
                outln!("  state hash    {}", r.state_hash);
                outln!("  key figures");
                if let Some(m) = r.metrics.as_object() {
                    for (k, v) in m {
                        let shown = match v.get("p50") {
                            Some(p) => format!("p50 {p}  (p5 {}, p95 {})", v["p5"], v["p95"]),
                            None => v.to_string(),
                        };
                        outln!("    {k:<48} {shown}");
                    }
                }
                Ok(0)
            }
            None => {
                eprintln!(
                    "error: no run `{id}` in {}; `stakestack runs` lists them",
                    file.display()
                );
                Ok(1)
            }
        },
    }
}

fn calc(list: bool) -> Result<i32> {
    if list {
        for (name, sig, _) in stake_engine::calc::functions()
            .into_iter()
            .chain(stake_risk::calc::functions())
        {
            outln!("{name:<40} {sig}");
        }
        return Ok(0);
    }
    // One answer per input line, whatever the line holds: a line that is not UTF-8 gets an `err`
    // and the stream goes on. Answers are flushed per line so that a caller can converse.
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut input = stdin.lock();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let risk = stake_risk::calc::functions();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).context("reading stdin")? == 0 {
            break;
        }
        let answer = match std::str::from_utf8(&buf) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => stake_engine::calc::answer_with(line, &risk),
            Err(e) => stake_engine::calc::error_answer(9100, &format!("the line is not UTF-8 text ({e})")),
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    out.flush()?;
    Ok(0)
}

fn new(name: &str, path: Option<PathBuf>) -> Result<i32> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        anyhow::bail!("scenario name `{name}` must be letters, digits, - or _");
    }
    let path = path.unwrap_or_else(|| PathBuf::from("scenarios").join(format!("{name}.toml")));
    if path.exists() {
        anyhow::bail!("{} already exists; choose another name or --path", path.display());
    }
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    std::fs::write(&path, stake_engine::runner::template(name))?;
    outln!(
        "wrote {} — edit it, then `stakestack check {}`",
        path.display(),
        path.display()
    );
    Ok(0)
}
