/* cli_table.h - the table of phasegate's commands and options: what each
 * command accepts, its usage text, and the checks made on argv before a
 * command runs (unknown command or option with a did-you-mean hint, an
 * option that does not apply to the command). cli/main.c still turns
 * the values into settings; this table says what is allowed where, and is
 * what "phasegate help", the man page and the shell completions read.
 *
 * Everything here is static data; nothing to free. */
#ifndef PHASEGATE_CLI_TABLE_H
#define PHASEGATE_CLI_TABLE_H

#include <stdio.h>

struct cli_option {
	const char *name;     /* "--junit"; NULL ends the table */
	const char *alias;    /* "-v", or NULL */
	const char *arg;      /* "FILE" when the option takes a value, NULL for a flag */
	const char *help;     /* one line */
	const char *complete; /* what completes its value: "file", "dir", "phase", "step",
	                         "tag", "context", "none" (free text) */
};

struct cli_command {
	const char *name;           /* "run"; NULL ends the table */
	const char *args;           /* "SUITE", "RESULTS.json", "" */
	const char *summary;        /* one line */
	const char *detail;         /* a paragraph, or NULL */
	const char *const *options; /* names of the options it accepts, NULL-terminated */
};

const struct cli_command *cli_commands(void);
const struct cli_option *cli_options(void);
const struct cli_command *cli_command_find(const char *name);
const struct cli_option *cli_option_find(const char *name); /* "--x" or its alias */
int cli_option_applies(const struct cli_command *c, const struct cli_option *o);

/* Checks argv against the table before anything runs. Sets *command to the
 * command (NULL when there is none: plain "phasegate" or "--help"/"--version"
 * alone) and *help to 1 when --help or -h was given. Returns 0, or -1 with
 * a message in msg (size n): an unknown command or option (with "did you
 * mean" for a near miss), an option given to a command it does not apply
 * to. */
int cli_check(int argc, char **argv, const struct cli_command **command, int *help, char *msg,
              size_t n);

/* "phasegate help" (c == NULL: every command) and "phasegate help COMMAND". */
void cli_print_help(FILE *f, const struct cli_command *c);
/* For the shell completions: command names, one per line; a command's
 * options as "NAME\tARG-KIND\tHELP" lines. */
void cli_print_commands(FILE *f);
void cli_print_flags(FILE *f, const struct cli_command *c);
/* "phasegate __complete commands | flags COMMAND" (argv[0] is "__complete"):
 * the lists above, for the completion scripts; returns the exit code. */
int cli_complete_main(int argc, char **argv);

#endif
