import { parseAllDocuments } from 'yaml';
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
      documents.push({ file, index, value: document.toJS() });
    });
  }
  return { documents, issues };
}

/** Loads Tekton Triggers YAML into a config; throws ConfigError naming file, object and field of every problem. */
export function loadTriggersConfig(files: readonly SourceFile[], options: BuildOptions = {}): TriggersConfig {
  const { documents, issues } = parseTriggersYaml(files);
  return buildTriggersConfig(documents, issues, options);
}
