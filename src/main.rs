//! The `scalesim` command: parse the command line, call the library, print. Nothing else.

use clap::Parser;

fn main() {
    let cli = scalesim::cli::Cli::parse();
    if let Err(f) = scalesim::cli::dispatch(cli) {
        eprintln!("{}", f.message);
        std::process::exit(f.code);
    }
}
