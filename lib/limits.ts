// Values the command line's help states, from their one home, in a module that loads nothing else: `sbc
// --help` must stay fast (cli/main.ts imports only this of the library).

export { MAX_ABI } from "../targets/landlock/abi.js";

/** The values of `--format` for commands that print diagnostics (docs/cli.md, "Output formats"). */
export const DIAGNOSTIC_FORMATS = ["human", "json", "sarif", "github"] as const;
