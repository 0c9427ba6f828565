//! An operator's tools, run from a checkout with the account's credentials:
//!
//! ```text
//! cargo run -p tools -- replay --from <dead-letter queue URL> --to <queue URL> [--limit N] [--dry-run]
//! ```
//!
//! `replay` moves what a dead-letter queue holds back to the queue it came from, once the cause
//! is fixed (`docs/operating.md` says which queue goes where); `--dry-run` shows what would
//! move and moves nothing. `SQS_ENDPOINT` points it at another SQS (the local stack's, moto).

use std::process::ExitCode;

const USAGE: &str =
    "usage: tools replay --from <dead-letter queue URL> --to <queue URL> [--limit N] [--dry-run]";

/// What `replay` was asked to do.
#[derive(Debug, PartialEq, Eq)]
struct Replay {
    from: String,
    to: String,
    limit: usize,
    dry_run: bool,
}

fn parse(args: &[String]) -> Result<Replay, String> {
    let Some(("replay", rest)) = args.split_first().map(|(c, r)| (c.as_str(), r)) else {
        return Err(USAGE.to_owned());
    };
    let (mut from, mut to, mut limit, mut dry_run) = (None, None, usize::MAX, false);
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--from" => from = Some(value()?),
            "--to" => to = Some(value()?),
            "--limit" => {
                limit = value()?
                    .parse()
                    .map_err(|_| "--limit takes a whole number".to_owned())?
            }
            "--dry-run" => dry_run = true,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    match (from, to) {
        (Some(from), Some(to)) => Ok(Replay {
            from,
            to,
            limit,
            dry_run,
        }),
        _ => Err(USAGE.to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let replay = match parse(&args) {
        Ok(replay) => replay,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let shared = tls::aws_config_loader().load().await;
    let mut config = aws_sdk_sqs::config::Builder::from(&shared);
    if let Ok(endpoint) = std::env::var("SQS_ENDPOINT") {
        config = config.endpoint_url(endpoint);
    }
    let client = aws_sdk_sqs::Client::from_conf(config.build());
    match sqs::replay::replay(
        &client,
        &replay.from,
        &replay.to,
        replay.limit,
        replay.dry_run,
    )
    .await
    {
        Ok(done) => {
            for preview in &done.previews {
                println!("  {preview}");
            }
            let verb = if replay.dry_run {
                "would move"
            } else {
                "moved"
            };
            println!(
                "read {}, {verb} {}, refused {}",
                done.read,
                if replay.dry_run {
                    done.read
                } else {
                    done.moved
                },
                done.refused
            );
            if done.refused > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("{e}: {:?}", std::error::Error::source(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn replay_takes_both_queues_a_limit_and_a_dry_run() {
        assert_eq!(
            parse(&args("replay --from a --to b --limit 5 --dry-run")),
            Ok(Replay {
                from: "a".into(),
                to: "b".into(),
                limit: 5,
                dry_run: true
            })
        );
        assert!(parse(&args("replay --from a")).is_err());
        assert!(parse(&args("replay --from a --to b --limit x")).is_err());
        assert!(parse(&args("purge --from a --to b")).is_err());
    }
}
