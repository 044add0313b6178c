//! The `scalesim` command: parse the command line, call the library, print. Nothing else.

use clap::Parser;
use scalesim::cli::console;

fn main() {
    let cli = scalesim::cli::Cli::parse();
    let result = scalesim::cli::dispatch(cli);
    // Results are in their files before anything is printed; a standard output that could
    // not be written (a full disk, not a closed pipe) is still an output failure.
    let code = match result {
        Err(f) => {
            console::err(&format!("{}\n", f.message));
            f.code
        }
        Ok(()) => match console::stdout_failure() {
            Some(e) => {
                console::err(&format!("error: cannot write to standard output: {e}\n"));
                1
            }
            None => 0,
        },
    };
    std::process::exit(code);
}
