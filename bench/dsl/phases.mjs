// One fresh Node process of `bench/dsl.ts`: loads the built DSL front end (dist/), then times, in order,
// loading chevrotain, building the parser, the first parse of a preset twin, steady-state parses of it, and
// the YAML reader on the same preset for comparison. Prints one JSON line. Not a test.
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

const { Source } = await import(dist("compiler/diagnostics/source.js"));
const { parseYaml } = await import(dist("compiler/language/yaml-source.js"));
const { parseDsl } = await import(dist("grammar/index.js"));
const { chevrotain } = await import(dist("grammar/chevrotain.js"));
const { dslParser } = await import(dist("grammar/parser.js"));
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
dslParser();
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
console.log(JSON.stringify({ load, tokens, build, firstParse, steady: median(dslTimes), yamlFirst, yamlSteady: median(yamlTimes), validated }));
