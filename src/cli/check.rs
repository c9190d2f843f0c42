//! The check of the declarations, the first step of a parse: what the builder methods cannot
//! check call by call, as a short option used twice or a default outside the choices.
//!
//! A bad declaration is a program error, not a user error, but it is reported as a
//! [`CliError::InvalidDeclaration`] rather than a panic so the program can say which one.

use std::fmt;

use super::{Arg, ArgParser, CliError};

impl ArgParser {
    /// Checks every declaration in order; the first problem wins. Each argument's checks run in
    /// the order below, so that when several apply the same one is always reported.
    pub(super) fn check_declarations(&self) -> Result<(), CliError> {
        // Short options seen so far, and the multiple positional if one came already: what
        // later declarations must not clash with.
        let mut shorts: Vec<(char, &str)> = Vec::new();
        let mut after_multiple: Option<&Arg> = None;
        for arg in &self.args {
            self.check_key(arg)?;
            if arg.positional {
                check_positional(arg, after_multiple)?;
                if arg.multiple {
                    after_multiple = Some(arg);
                }
            }
            if let Some(c) = arg.short {
                self.check_short(arg, c, &shorts)?;
                shorts.push((c, &arg.key));
            }
            check_settings(arg)?;
            self.check_env_var(arg)?;
        }
        Ok(())
    }

    /// The key is usable on a command line and not one of the built-in options.
    fn check_key(&self, arg: &Arg) -> Result<(), CliError> {
        if arg.key.is_empty()
            || arg.key.starts_with('-')
            || arg
                .key
                .contains(|c: char| c == '=' || c.is_whitespace() || c.is_control())
        {
            return Err(invalid(arg, format_args!("expected a name like '--an-option' or 'a-positional', without '=', spaces or a leading '-' after the dashes")));
        }
        if arg.key == "help" || (arg.key == "version" && self.version.is_some()) {
            return Err(invalid(arg, format_args!("'--{}' is built in", arg.key)));
        }
        Ok(())
    }

    /// The short option `c` of `arg` is a single usable character, not built in, and not one
    /// of `shorts`, those declared before.
    fn check_short(&self, arg: &Arg, c: char, shorts: &[(char, &str)]) -> Result<(), CliError> {
        if c == '-' || c == '=' || c.is_whitespace() || c.is_control() {
            return Err(invalid(arg, format_args!("invalid short option '-{}'", c)));
        }
        if c == 'h' || (c == 'V' && self.version.is_some()) {
            return Err(invalid(arg, format_args!("'-{}' is built in", c)));
        }
        if let Some((_, other)) = shorts.iter().find(|(short, _)| *short == c) {
            return Err(invalid(
                arg,
                format_args!("'-{}' is already used by '--{}'", c, other),
            ));
        }
        Ok(())
    }

    /// The environment variable, if `arg` reads one, has a name the environment can hold.
    fn check_env_var(&self, arg: &Arg) -> Result<(), CliError> {
        if let Some(var) = self.env_var_of(arg) {
            if var.is_empty() || var.contains(&['=', '\0'][..]) {
                return Err(invalid(
                    arg,
                    format_args!(
                        "invalid environment variable name '{}': expected no '=' or NUL",
                        var
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A positional has no short option, is no flag, and does not follow a multiple positional,
/// which takes every value left.
fn check_positional(arg: &Arg, after_multiple: Option<&Arg>) -> Result<(), CliError> {
    if arg.short.is_some() {
        return Err(invalid(
            arg,
            format_args!("a positional cannot have a short option"),
        ));
    }
    if arg.flag {
        return Err(invalid(arg, format_args!("a positional cannot be a flag")));
    }
    if let Some(multiple) = after_multiple {
        return Err(invalid(
            arg,
            format_args!(
                "a positional cannot follow the multiple positional '{}'",
                multiple.key
            ),
        ));
    }
    Ok(())
}

/// The settings agree with each other: a flag takes no value settings, a required argument has
/// no default, and the default passes the choices.
fn check_settings(arg: &Arg) -> Result<(), CliError> {
    if arg.flag {
        let extra = [
            (arg.multiple, "multiple"),
            (arg.required, "required"),
            (arg.default.is_some(), "a default"),
            (!arg.choices.is_empty(), "choices"),
        ];
        if let Some((_, what)) = extra.iter().find(|(set, _)| *set) {
            return Err(invalid(arg, format_args!("a flag cannot have {}", what)));
        }
    }
    if arg.required && arg.default.is_some() {
        return Err(invalid(
            arg,
            format_args!("a required argument cannot have a default"),
        ));
    }
    if let Some(default) = &arg.default {
        for value in arg.split(default) {
            arg.canonical(&value, "default")
                .map_err(|err| invalid(arg, format_args!("bad default: {}", err)))?;
        }
    }
    Ok(())
}

/// The error for a bad declaration of `arg`. Every reason goes through `format_args!`, literal
/// or not, so there is one formatting call for all of them.
fn invalid(arg: &Arg, reason: fmt::Arguments<'_>) -> CliError {
    CliError::InvalidDeclaration {
        arg: arg.declared_name(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{case, run, with, Case, Expect};

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        use Expect::*;
        vec![
            with(|p| { p.add_argument("--peer").short('p'); },
                case("declaration: short used twice", &["x"], &[], Err("invalid declaration of '--peer': '-p' is already used by '--port'"))),
            with(|p| { p.add_argument("--log-level").choices(["info", "debug"]).default("loud"); },
                case("declaration: default outside choices", &["x"], &[], Err("invalid declaration of '--log-level': bad default: invalid value 'loud' for 'default': expected one of info, debug"))),
            with(|p| { p.add_argument("target").multiple(); p.add_argument("extra"); },
                case("declaration: positional after multiple", &["x"], &[], Err("invalid declaration of 'extra': a positional cannot follow the multiple positional 'target'"))),
            with(|p| { p.add_argument("--hosts").short('h'); },
                case("declaration: -h is built in", &["-h"], &[], Err("invalid declaration of '--hosts': '-h' is built in"))),
            with(|p| { p.add_argument("--"); },
                case("declaration: empty key", &[], &[], Err("invalid declaration of '--': expected a name like '--an-option' or 'a-positional', without '=', spaces or a leading '-' after the dashes"))),
            with(|p| { p.add_argument("--process-stats").flag().default("1"); },
                case("declaration: flag with default", &[], &[], Err("invalid declaration of '--process-stats': a flag cannot have a default"))),
            with(|p| { p.add_argument("target").short('t'); },
                case("declaration: short on a positional", &[], &[], Err("invalid declaration of 'target': a positional cannot have a short option"))),
        ]
    }

    /// Each bad declaration fails the parse, naming the argument and what is wrong.
    #[test]
    fn bad_declarations() {
        run(&cases(), 7);
    }
}
