// SARIF 2.1.0 output (`--format sarif`), shaped for GitHub code scanning: one run, every code of the catalog as
// a rule with help, every result with a rule index and at least one location. tests/sarif.test.ts validates
// it against the OASIS schema (fixtures/data/sarif/); the GitHub-specific choices are in docs/cli.md.

import { allCodes, type CodeInfo } from "./codes.js";
import type { Diagnostic } from "./diagnostic.js";
import { DOCS_BASE_URL, helpUri, isLintCode } from "./docs-url.js";
import { location, reportPath } from "./render.js";
import type { Span } from "./source.js";

// The few SARIF types sbc writes (a subset of @types/sarif, which is not a dependency).
export interface SarifArtifactLocation {
  uri: string;
  uriBaseId?: string;
}
export interface SarifRegion {
  startLine: number;
  startColumn?: number;
  endLine?: number;
  endColumn?: number;
  charOffset?: number;
  charLength?: number;
}
export interface SarifPhysicalLocation {
  artifactLocation: SarifArtifactLocation;
  region?: SarifRegion;
}
export interface SarifLocation {
  id?: number;
  message?: { text: string };
  physicalLocation: SarifPhysicalLocation;
}
export interface SarifReportingDescriptor {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  helpUri: string;
  defaultConfiguration: { level: "error" | "warning" };
  properties: { tags: string[]; precision: string; "security-severity"?: string };
}
export interface SarifReplacement {
  deletedRegion: { charOffset: number; charLength: number };
  insertedContent: { text: string };
}
export interface SarifFix {
  description: { text: string };
  artifactChanges: { artifactLocation: SarifArtifactLocation; replacements: SarifReplacement[] }[];
}
export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: "error" | "warning";
  message: { text: string };
  locations: SarifLocation[];
  relatedLocations?: SarifLocation[];
  fixes?: SarifFix[];
}
export interface SarifNotification {
  descriptor: { id: string; index: number };
  level: "error" | "warning";
  message: { text: string };
}
export interface SarifLog {
  $schema: string;
  version: "2.1.0";
  runs: {
    tool: { driver: { name: string; version: string; semanticVersion: string; informationUri: string; rules: SarifReportingDescriptor[] } };
    originalUriBaseIds?: Record<string, { uri: string }>;
    invocations?: { executionSuccessful: boolean; toolConfigurationNotifications: SarifNotification[] }[];
    columnKind: "utf16CodeUnits";
    results: SarifResult[];
  }[];
}

/** The base that relative file paths (as sbc shows them: relative to the working directory) resolve against. */
export const SRCROOT = "%SRCROOT%";

export interface SarifOptions {
  readonly toolVersion: string;
  /** The catalog (default: allCodes()); a diagnostic whose code it lacks is an internal error. */
  readonly rules?: readonly CodeInfo[];
  /** The working directory, written as `%SRCROOT%` in `originalUriBaseIds` when given. */
  readonly cwd?: string;
  /** The file a diagnostic without a span belongs to (the policy being checked), if the command knows it. */
  readonly fileOf?: (d: Diagnostic) => string | undefined;
}

/** GitHub reads a security rule's score from `security-severity` (0–10): errors high, warnings medium. */
const SECURITY_SEVERITY = { error: "7.5", warning: "5.0" } as const;

function rule(info: CodeInfo): SarifReportingDescriptor {
  const uri = helpUri(info);
  const tags = ["sbc", ...(isLintCode(info) && !info.tags?.includes("lint") ? ["lint"] : []), ...(info.tags ?? [])];
  return {
    id: info.code,
    name: info.name,
    shortDescription: { text: info.summary },
    fullDescription: { text: info.summary },
    help: {
      text: `${info.summary}\n\nSee ${uri}`,
      markdown: `${info.summary}\n\n[\`${info.code}\` \`${info.name}\` in the sbc documentation](${uri})`,
    },
    helpUri: uri,
    defaultConfiguration: { level: info.severity },
    properties: {
      tags,
      precision: "very-high",
      ...(tags.includes("security") ? { "security-severity": SECURITY_SEVERITY[info.severity] } : {}),
    },
  };
}

/** A file as SARIF names it: relative paths against %SRCROOT% with `/` separators, absolute ones as file URIs. */
export function artifact(path: string): SarifArtifactLocation {
  const slashed = reportPath(path);
  if (/^([A-Za-z]:)?\//.test(slashed)) return { uri: new URL(`file://${slashed.startsWith("/") ? "" : "/"}${slashed}`).href };
  return { uri: slashed.split("/").map(encodeURIComponent).join("/"), uriBaseId: SRCROOT };
}

function physical(s: Span): SarifPhysicalLocation {
  const l = location(s);
  return { artifactLocation: artifact(l.file), region: { startLine: l.line, startColumn: l.column, endLine: l.endLine, endColumn: l.endColumn } };
}

function fixes(d: Diagnostic): SarifFix[] | undefined {
  if (!d.fix) return undefined;
  const byFile = new Map<string, SarifReplacement[]>();
  for (const e of d.fix.edits) {
    const list = byFile.get(e.span.source.path) ?? [];
    list.push({ deletedRegion: { charOffset: e.span.start, charLength: e.span.end - e.span.start }, insertedContent: { text: e.text } });
    byFile.set(e.span.source.path, list);
  }
  return [{ description: { text: d.fix.description }, artifactChanges: [...byFile].map(([file, replacements]) => ({ artifactLocation: artifact(file), replacements })) }];
}

export function toSarif(diagnostics: readonly Diagnostic[], options: SarifOptions): SarifLog {
  const catalog = options.rules ?? allCodes();
  const index = new Map(catalog.map((c, i) => [c.code, i]));
  const results: SarifResult[] = [];
  const notifications: SarifNotification[] = [];
  for (const d of diagnostics) {
    const ruleIndex = index.get(d.code);
    if (ruleIndex === undefined) throw new Error(`diagnostic code ${d.code} is not in the catalog`);
    const text = d.help ? `${d.message} (help: ${d.help})` : d.message;
    const file = d.span ? undefined : options.fileOf?.(d);
    const where: SarifLocation | undefined = d.span
      ? { physicalLocation: physical(d.span) }
      : file !== undefined
        ? { physicalLocation: { artifactLocation: artifact(file), region: { startLine: 1 } } }
        : undefined;
    // GitHub needs a location on every result; what belongs to no file (an unknown `--preset`) is a
    // configuration notification of the run instead.
    if (!where) {
      notifications.push({ descriptor: { id: d.code, index: ruleIndex }, level: d.severity, message: { text } });
      continue;
    }
    const fix = fixes(d);
    results.push({
      ruleId: d.code,
      ruleIndex,
      level: d.severity,
      message: { text },
      locations: [where],
      ...(d.labels.length ? { relatedLocations: d.labels.map((l, i) => ({ id: i + 1, message: { text: l.message }, physicalLocation: physical(l.span) })) } : {}),
      ...(fix ? { fixes: fix } : {}),
    });
  }
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "sbc",
            version: options.toolVersion,
            semanticVersion: options.toolVersion,
            informationUri: `${DOCS_BASE_URL}cli.md`,
            rules: catalog.map(rule),
          },
        },
        ...(options.cwd !== undefined ? { originalUriBaseIds: { [SRCROOT]: { uri: artifact(options.cwd.endsWith("/") ? options.cwd : options.cwd + "/").uri } } } : {}),
        ...(notifications.length ? { invocations: [{ executionSuccessful: true, toolConfigurationNotifications: notifications }] } : {}),
        columnKind: "utf16CodeUnits",
        results,
      },
    ],
  };
}
