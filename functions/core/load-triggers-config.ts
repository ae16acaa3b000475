import { parseAllDocuments, Scalar, visit, type Document } from 'yaml';
import type { ConfigIssue } from './errors.ts';
import { buildTriggersConfig, type BuildOptions, type ConfigDocument } from './build-triggers-config.ts';
import type { TriggersConfig } from './triggers-config.ts';

/** One YAML file of the trigger configuration, already read by an adapter. */
export interface SourceFile {
  file: string;
  text: string;
}

/** Parses YAML files, multi-document ones included, into documents; syntax errors come back as issues with a line. */
export function parseTriggersYaml(files: readonly SourceFile[]): { documents: ConfigDocument[]; issues: ConfigIssue[] } {
  const documents: ConfigDocument[] = [];
  const issues: ConfigIssue[] = [];
  for (const { file, text } of files) {
    parseAllDocuments(text).forEach((document, i) => {
      const index = i + 1;
      if (document.errors.length > 0) {
        for (const error of document.errors) {
          issues.push({ file, object: `document ${index}`, field: `line ${error.linePos?.[0]?.line ?? '?'}`, message: error.message.split('\n')[0] ?? error.message });
        }
        return;
      }
      keepLastBlockScalarAsGoReadsIt(document, text);
      documents.push({ file, index, value: document.toJS() });
    });
  }
  return { documents, issues };
}

/**
 * A `|` or `>` scalar that runs to the end of a file with no line break after it has no final newline in YAML 1.2
 * (b-chomped-last), as Go's YAML (kubectl's) reads it and so as Tekton sees the template; the yaml package adds one.
 */
function keepLastBlockScalarAsGoReadsIt(document: Document.Parsed, text: string): void {
  if (text.endsWith('\n') || text.endsWith('\r')) return;
  visit(document, {
    Scalar(_key, node) {
      const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
      if (block && node.range?.[1] === text.length && typeof node.value === 'string' && node.value.endsWith('\n')) node.value = node.value.slice(0, -1);
    },
  });
}

/** Loads Tekton Triggers YAML into a config; throws ConfigError naming file, object and field of every problem. */
export function loadTriggersConfig(files: readonly SourceFile[], options: BuildOptions = {}): TriggersConfig {
  const { documents, issues } = parseTriggersYaml(files);
  return buildTriggersConfig(documents, issues, options);
}
