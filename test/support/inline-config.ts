import { createCelFeatureModules } from '../../functions/adapters/cel-feature-modules.ts';
import { loadTriggersConfig } from '../../functions/core/load-triggers-config.ts';
import type { TriggersConfig } from '../../functions/core/triggers-config.ts';

/** A PipelineRun template that echoes the given params into spec.params, for asserting what was bound. */
export function templateYaml(params: string[], extra = ''): string {
  return `apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata:
  name: echo
spec:
  params:
${params.map((p) => `    - name: ${p}`).join('\n')}
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata:
        generateName: echo-run-
${extra}
      spec:
        pipelineRef:
          name: echo
        params:
${params.map((p) => `          - name: ${p}\n            value: $(tt.params.${p})`).join('\n')}
`;
}

/** The template under `triggers.tekton.dev/old-escape-quotes`, so a JSON object bound into a string stays one. */
export function withOldEscape(template: string): string {
  return template.replace('  name: echo\n', '  name: echo\n  annotations:\n    triggers.tekton.dev/old-escape-quotes: "true"\n');
}

/** An EventListener `ci` with one trigger `t` whose interceptors and bindings are given as YAML lines. */
export function listenerYaml(interceptors: string, bindings: string, annotations = ''): string {
  return `apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata:
  name: ci
  namespace: ci
${annotations ? `  annotations:\n${annotations}` : ''}
spec:
  triggers:
    - name: t
      interceptors:
${interceptors || '        []'}
      bindings:
${bindings}
      template:
        ref: echo
`;
}

export function inlineConfig(...documents: string[]): TriggersConfig {
  return loadTriggersConfig([{ file: 'inline.yaml', text: documents.join('\n---\n') }], { celModules: createCelFeatureModules() });
}
