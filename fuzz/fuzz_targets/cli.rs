//! Any argv (NUL-separated arguments) and environment value parse to a result or a usage
//! error, never a panic, and errors say something.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use prometheus_aioexporter::cli::{ArgParser, Parsed};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let env_value = parts.next().map(|p| OsString::from_vec(p.to_vec()));
    let args: Vec<OsString> = parts.map(|p| OsString::from_vec(p.to_vec())).collect();

    let mut parser = ArgParser::new("fuzz-exporter", "Fuzzing.");
    parser.version("1.0");
    parser
        .add_argument("--host")
        .short('H')
        .multiple()
        .default("localhost");
    parser.add_argument("--port").short('p').default("9090");
    parser
        .add_argument("--log-level")
        .short('L')
        .choices(["critical", "error", "warning", "info", "debug"])
        .default("warning");
    parser.add_argument("--process-stats").flag();
    parser.add_argument("--metrics-path").default("/metrics");
    parser.add_argument("--label").short('l').multiple();
    // The positionals' shape decides who gets the values after a multiple option's.
    match data.first().map_or(0, |b| b % 3) {
        0 => {
            parser.add_argument("target").multiple();
        }
        1 => {
            parser.add_argument("target");
            parser.add_argument("extra").default("e");
        }
        _ => {}
    }

    let env = |key: &str| match key {
        "FUZZ_EXPORTER_LOG_LEVEL" | "FUZZ_EXPORTER_PROCESS_STATS" | "FUZZ_EXPORTER_HOST" => {
            env_value.clone()
        }
        _ => None,
    };
    match parser.parse_from(args, env) {
        Ok(Parsed::Run(args)) => {
            let _ = args.value_of::<u16>("port");
            let _ = args.get_all("host");
        }
        Ok(Parsed::Help(text)) | Ok(Parsed::Version(text)) => assert!(!text.is_empty()),
        Err(err) => assert!(!err.to_string().is_empty()),
    }
});
