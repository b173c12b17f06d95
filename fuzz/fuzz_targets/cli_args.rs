//! The command-line parser and the method-option conversion never panic on any
//! arguments (the commands themselves are not run).
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;
use lamppost::cli::{Cli, Command};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let args = std::iter::once("lamppost").chain(s.split('\0'));
    if let Ok(cli) = Cli::try_parse_from(args) {
        let options = match &cli.command {
            Command::Explain(a) => Some(&a.options),
            Command::Compare(a) => Some(&a.options),
            _ => None,
        };
        // --background reads a file: not the parser's business
        if let Some(o) = options.filter(|o| o.background.is_none()) {
            let _ = o.to_options();
        }
    }
});
