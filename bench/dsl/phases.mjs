// One fresh Node process of `bench/dsl.ts`: loads the built DSL front end (dist/), then times, in order,
// loading chevrotain, creating the token types, building the quick parser (from the stored lookahead table),
// the first parse of a preset twin, steady-state parses of it, the first file with a syntax error (which
// builds the analysed parser), the YAML reader on the same preset for comparison, and building a parser with
// chevrotain's validations. Prints one JSON line. Not a test.
//
//   node bench/dsl/phases.mjs <repo> <twin.sbc> <preset.yaml> <repeats>

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [repo, twin, preset, repeatsArg] = process.argv.slice(2);
const repeats = Number(repeatsArg);
const dist = (p) => pathToFileURL(join(repo, "dist", p)).href;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { Source } = await import(dist("diagnostics/source.js"));
const { parseYaml } = await import(dist("language/yaml-source.js"));
const { parseDsl } = await import(dist("grammar/index.js"));
const { chevrotain } = await import(dist("grammar/chevrotain.js"));
const { dslParser, quickDslParser, builtParsers } = await import(dist("grammar/parser.js"));
const { dslTokens } = await import(dist("grammar/lexer.js"));
const dslText = readFileSync(twin, "utf8");
const yamlText = readFileSync(preset, "utf8");

let t = now();
chevrotain();
const load = now() - t;
t = now();
dslTokens();
const tokens = now() - t;
t = now();
if (!quickDslParser()) throw new Error("the stored lookahead table does not fit: no quick parser");
const build = now() - t;
t = now();
const first = parseDsl(new Source("p.sbc", dslText));
const firstParse = now() - t;
if (first.diagnostics.length) throw new Error(`the twin does not parse: ${first.diagnostics[0].message}`);
const dslTimes = [];
for (let i = 0; i < repeats; i++) {
  t = now();
  parseDsl(new Source("p.sbc", dslText));
  dslTimes.push(now() - t);
}
if (builtParsers().analysed) throw new Error("a valid file built the analysed parser");
// The twin with its last closing brace removed: one syntax error, reported by the analysed parser.
const broken = dslText.slice(0, dslText.lastIndexOf("}"));
t = now();
const bad = parseDsl(new Source("p.sbc", broken));
const errorFirst = now() - t;
if (bad.diagnostics.length === 0 || !builtParsers().analysed) throw new Error("the broken twin did not go to the analysed parser");
t = now();
parseYaml(new Source("p.yaml", yamlText));
const yamlFirst = now() - t;
const yamlTimes = [];
for (let i = 0; i < repeats; i++) {
  t = now();
  parseYaml(new Source("p.yaml", yamlText));
  yamlTimes.push(now() - t);
}
t = now();
dslParser({ validate: true });
const validated = now() - t;
console.log(JSON.stringify({ load, tokens, build, firstParse, steady: median(dslTimes), errorFirst, yamlFirst, yamlSteady: median(yamlTimes), validated }));
