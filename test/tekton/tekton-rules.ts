/**
 * Tekton v1 rules checked offline, without a cluster or kubectl: the manifests under tekton/ are
 * parsed with `yaml` and every problem comes back as one line naming file, object and field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  body: Record<string, any>;
}

export interface ParamSpec {
  name: string;
  type?: string;
  default?: unknown;
}
export interface WorkspaceSpec {
  name: string;
  optional?: boolean;
}

/** Every YAML document of every `*.yaml` file in a folder; parse errors are thrown naming the file. */
export function readManifests(dir: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const name of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = path.join(dir, name);
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const body = doc.toJS() as Record<string, any> | null;
      if (body === null) continue;
      manifests.push({
        file: name,
        apiVersion: String(body.apiVersion),
        kind: String(body.kind),
        name: String(body.metadata?.name),
        namespace: body.metadata?.namespace,
        body,
      });
    }
  }
  return manifests;
}

const where = (m: Manifest, field: string) => `${m.file}: ${m.kind}/${m.name}: ${field}`;

/** `$(params.x)`, `$(params["x"])`, `$(params.x[*])` → x. */
function referencedParams(text: string): string[] {
  return [...text.matchAll(/\$\(params(?:\.([A-Za-z0-9_-]+)|\[["']([^"']+)["']\])/g)].map((m) => (m[1] ?? m[2]) as string);
}
function referenced(text: string, kind: 'workspaces' | 'results'): string[] {
  return [...text.matchAll(new RegExp(`\\$\\(${kind}\\.([A-Za-z0-9_-]+)\\.`, 'g'))].map((m) => m[1] as string);
}

function checkUniqueNames(m: Manifest, field: string, items: Array<{ name?: string }> | undefined, problems: string[]): void {
  const seen = new Set<string>();
  for (const [i, item] of (items ?? []).entries()) {
    if (typeof item.name !== 'string' || item.name === '') problems.push(where(m, `${field}[${i}].name`) + ': missing');
    else if (seen.has(item.name)) problems.push(where(m, `${field}[${i}].name`) + `: duplicate "${item.name}"`);
    else seen.add(item.name);
  }
}

/** Image references must be pinned: a version tag or a digest, never `latest` or nothing. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && !tag.includes('$(');
}

/** The Tekton v1 rules for the whole folder; an empty list means it passes. */
export function checkTektonV1(manifests: readonly Manifest[], externalTasks: readonly Manifest[] = []): string[] {
  const problems: string[] = [];
  const tasks = new Map(manifests.filter((m) => m.kind === 'Task').map((m) => [m.name, m]));
  const external = new Map(externalTasks.filter((m) => m.kind === 'Task').map((m) => [m.name, m]));

  for (const m of manifests) {
    if (!m.body.metadata?.name) problems.push(`${m.file}: ${m.kind}: metadata.name: missing`);
    if (/tekton\.dev\/v1(alpha|beta)1$/.test(m.apiVersion)) problems.push(where(m, 'apiVersion') + `: ${m.apiVersion}, want tekton.dev/v1`);
    if (['PipelineResource', 'Condition', 'ClusterTask'].includes(m.kind)) problems.push(where(m, 'kind') + `: ${m.kind} was removed from Tekton`);
    if (m.apiVersion.startsWith('triggers.tekton.dev')) problems.push(where(m, 'apiVersion') + ': Triggers objects belong in triggers/, the bridge evaluates them');
    if (m.kind === 'Task' || m.kind === 'Pipeline') {
      if (m.apiVersion !== 'tekton.dev/v1') problems.push(where(m, 'apiVersion') + `: ${m.apiVersion}, want tekton.dev/v1`);
      if (m.body.spec?.resources !== undefined) problems.push(where(m, 'spec.resources') + ': PipelineResources are gone; use workspaces and params');
    }
    if (m.kind === 'Task') checkTask(m, problems);
    if (m.kind === 'Pipeline') checkPipeline(m, tasks, external, problems);
  }
  return problems;
}

function checkTask(m: Manifest, problems: string[]): void {
  const spec = m.body.spec ?? {};
  checkUniqueNames(m, 'spec.params', spec.params, problems);
  checkUniqueNames(m, 'spec.workspaces', spec.workspaces, problems);
  checkUniqueNames(m, 'spec.results', spec.results, problems);
  checkUniqueNames(m, 'spec.steps', spec.steps, problems);
  const params = new Set((spec.params ?? []).map((p: ParamSpec) => p.name));
  const workspaces = new Set((spec.workspaces ?? []).map((w: WorkspaceSpec) => w.name));
  const results = new Set((spec.results ?? []).map((r: { name: string }) => r.name));
  const volumes = new Set((spec.volumes ?? []).map((v: { name: string }) => v.name));
  const usedParams = new Set<string>();
  if (!Array.isArray(spec.steps) || spec.steps.length === 0) problems.push(where(m, 'spec.steps') + ': a Task needs steps');
  for (const [i, step] of (spec.steps ?? []).entries()) {
    const field = `spec.steps[${i}]`;
    if (typeof step.image !== 'string' || !isPinnedImage(step.image)) problems.push(where(m, `${field}.image`) + `: pin a tag or digest (got ${JSON.stringify(step.image)})`);
    if (step.script !== undefined) {
      if (!String(step.script).startsWith('#!')) problems.push(where(m, `${field}.script`) + ': start with a #! line');
      // Params spliced into a script are code injection from a webhook payload; pass them as env.
      if (referencedParams(String(step.script)).length > 0) problems.push(where(m, `${field}.script`) + ': uses $(params.…) directly; pass it through env');
      if (step.command !== undefined || step.args !== undefined) problems.push(where(m, field) + ': script cannot be combined with command/args');
    }
    for (const [j, mount] of (step.volumeMounts ?? []).entries()) {
      if (!volumes.has(mount.name)) problems.push(where(m, `${field}.volumeMounts[${j}].name`) + `: no volume "${mount.name}" in spec.volumes`);
    }
    const text = JSON.stringify(step);
    for (const name of referencedParams(text)) {
      usedParams.add(name);
      if (!params.has(name)) problems.push(where(m, field) + `: $(params.${name}) is not a param of the Task`);
    }
    for (const name of referenced(text, 'workspaces')) {
      if (!workspaces.has(name)) problems.push(where(m, field) + `: $(workspaces.${name}…) is not a workspace of the Task`);
    }
    for (const name of referenced(text, 'results')) {
      if (!results.has(name)) problems.push(where(m, field) + `: $(results.${name}…) is not a result of the Task`);
    }
  }
  for (const name of params) if (!usedParams.has(name as string)) problems.push(where(m, 'spec.params') + `: "${String(name)}" is never used`);
}

function checkPipeline(m: Manifest, tasks: Map<string, Manifest>, external: Map<string, Manifest>, problems: string[]): void {
  const spec = m.body.spec ?? {};
  checkUniqueNames(m, 'spec.params', spec.params, problems);
  checkUniqueNames(m, 'spec.workspaces', spec.workspaces, problems);
  const pipelineTasks: Array<Record<string, any>> = spec.tasks ?? [];
  const finallyTasks: Array<Record<string, any>> = spec.finally ?? [];
  checkUniqueNames(m, 'spec.tasks+finally', [...pipelineTasks, ...finallyTasks], problems);
  const params = new Set((spec.params ?? []).map((p: ParamSpec) => p.name));
  const workspaces = new Map<string, WorkspaceSpec>((spec.workspaces ?? []).map((w: WorkspaceSpec) => [w.name, w]));
  const taskNames = new Set(pipelineTasks.map((t) => t.name));
  const usedParams = new Set<string>();

  const all = [...pipelineTasks.map((t, i) => [t, `spec.tasks[${i}]`] as const), ...finallyTasks.map((t, i) => [t, `spec.finally[${i}]`] as const)];
  for (const [task, field] of all) {
    const ref = task.taskRef ?? {};
    let target: Manifest | undefined;
    if (typeof ref.resolver === 'string') {
      const resolverParams = new Map<string, unknown>((ref.params ?? []).map((p: { name: string; value: unknown }) => [p.name, p.value]));
      if (ref.resolver === 'git') {
        const revision = String(resolverParams.get('revision') ?? '');
        if (!/^(v?\d+\.\d+\.\d+|[0-9a-f]{40})$/.test(revision)) problems.push(where(m, `${field}.taskRef.params.revision`) + `: pin a release tag or commit, not ${JSON.stringify(revision)}`);
        const inRepo = String(resolverParams.get('pathInRepo') ?? '');
        target = external.get(path.basename(inRepo, path.extname(inRepo)));
        if (!resolverParams.has('url')) problems.push(where(m, `${field}.taskRef.params`) + ': the git resolver needs url');
      } else if (ref.resolver === 'bundles') {
        const bundle = String(resolverParams.get('bundle') ?? '');
        if (!isPinnedImage(bundle)) problems.push(where(m, `${field}.taskRef.params.bundle`) + ': pin a tag or digest');
        target = external.get(String(resolverParams.get('name')));
      } else {
        problems.push(where(m, `${field}.taskRef.resolver`) + `: ${ref.resolver} is not pinned by this project (use git or bundles)`);
      }
      if (target === undefined) problems.push(where(m, `${field}.taskRef`) + ': no interface known for the resolved Task');
    } else if (ref.bundle !== undefined) {
      problems.push(where(m, `${field}.taskRef.bundle`) + ': taskRef.bundle is gone in v1; use the bundles resolver');
    } else {
      target = tasks.get(ref.name);
      if (target === undefined) problems.push(where(m, `${field}.taskRef.name`) + `: no Task "${ref.name}" in tekton/`);
    }

    for (const after of task.runAfter ?? []) {
      if (!taskNames.has(after)) problems.push(where(m, `${field}.runAfter`) + `: no task "${after}"`);
    }
    const text = JSON.stringify({ params: task.params, when: task.when });
    for (const name of referencedParams(text)) {
      usedParams.add(name);
      if (!params.has(name)) problems.push(where(m, field) + `: $(params.${name}) is not a param of the Pipeline`);
    }
    for (const match of text.matchAll(/\$\(tasks\.([A-Za-z0-9_-]+)\.results\.([A-Za-z0-9_-]+)\)/g)) {
      const [, from, result] = match as unknown as [string, string, string];
      const producer = pipelineTasks.find((t) => t.name === from);
      const producerTask = producer?.taskRef?.name !== undefined ? tasks.get(producer.taskRef.name) : undefined;
      if (producer === undefined) problems.push(where(m, field) + `: result of unknown task "${from}"`);
      else if (producerTask && !(producerTask.body.spec.results ?? []).some((r: { name: string }) => r.name === result)) {
        problems.push(where(m, field) + `: Task ${producerTask.name} has no result "${result}"`);
      }
    }

    if (target !== undefined) {
      const targetParams: ParamSpec[] = target.body.spec?.params ?? [];
      const passed = new Set((task.params ?? []).map((p: { name: string }) => p.name));
      for (const name of passed) {
        if (!targetParams.some((p) => p.name === name)) problems.push(where(m, `${field}.params`) + `: Task ${target.name} has no param "${String(name)}"`);
      }
      for (const p of targetParams) {
        if (p.default === undefined && !passed.has(p.name)) problems.push(where(m, `${field}.params`) + `: Task ${target.name} needs param "${p.name}"`);
      }
      const targetWorkspaces: WorkspaceSpec[] = target.body.spec?.workspaces ?? [];
      const bound = new Map<string, string>((task.workspaces ?? []).map((w: { name: string; workspace: string }) => [w.name, w.workspace]));
      for (const [name, pipelineWorkspace] of bound) {
        const taskWorkspace = targetWorkspaces.find((w) => w.name === name);
        if (taskWorkspace === undefined) problems.push(where(m, `${field}.workspaces`) + `: Task ${target.name} has no workspace "${name}"`);
        const declared = workspaces.get(pipelineWorkspace);
        if (declared === undefined) problems.push(where(m, `${field}.workspaces`) + `: no Pipeline workspace "${pipelineWorkspace}"`);
        else if (declared.optional && taskWorkspace && !taskWorkspace.optional) {
          problems.push(where(m, `${field}.workspaces`) + `: optional Pipeline workspace "${pipelineWorkspace}" bound to required "${name}"`);
        }
      }
      for (const w of targetWorkspaces) {
        if (!w.optional && !bound.has(w.name)) problems.push(where(m, `${field}.workspaces`) + `: Task ${target.name} needs workspace "${w.name}"`);
      }
    }
  }
  for (const name of params) if (!usedParams.has(name as string)) problems.push(where(m, 'spec.params') + `: "${String(name)}" is never used`);
}

/** What a PipelineRun in a TriggerTemplate supplies, checked against the Pipeline it names. */
export function checkRunAgainstPipeline(run: Record<string, any>, pipeline: Manifest, context: string): string[] {
  const problems: string[] = [];
  const spec = pipeline.body.spec;
  const pipelineParams: ParamSpec[] = spec.params ?? [];
  const pipelineWorkspaces: WorkspaceSpec[] = spec.workspaces ?? [];
  const supplied = new Set<string>((run.spec?.params ?? []).map((p: { name: string }) => p.name));
  const bound = new Set<string>((run.spec?.workspaces ?? []).map((w: { name: string }) => w.name));
  if (run.apiVersion !== 'tekton.dev/v1') problems.push(`${context}: apiVersion ${run.apiVersion}, want tekton.dev/v1`);
  for (const name of supplied) if (!pipelineParams.some((p) => p.name === name)) problems.push(`${context}: param "${name}" is not a param of ${pipeline.name}`);
  for (const p of pipelineParams) if (p.default === undefined && !supplied.has(p.name)) problems.push(`${context}: ${pipeline.name} needs param "${p.name}"`);
  for (const name of bound) if (!pipelineWorkspaces.some((w) => w.name === name)) problems.push(`${context}: workspace "${name}" is not a workspace of ${pipeline.name}`);
  for (const w of pipelineWorkspaces) if (!w.optional && !bound.has(w.name)) problems.push(`${context}: ${pipeline.name} needs workspace "${w.name}"`);
  const taskNames = new Set([...(spec.tasks ?? []), ...(spec.finally ?? [])].map((t: { name: string }) => t.name));
  for (const taskRunSpec of run.spec?.taskRunSpecs ?? []) {
    if (!taskNames.has(taskRunSpec.pipelineTaskName)) problems.push(`${context}: taskRunSpecs: ${pipeline.name} has no task "${taskRunSpec.pipelineTaskName}"`);
  }
  return problems;
}

/** The PipelineRuns of `pipelineName` inside the TriggerTemplates of a triggers folder. */
export function pipelineRunsIn(triggerManifests: readonly Manifest[], pipelineName: string): Array<{ context: string; run: Record<string, any> }> {
  const runs: Array<{ context: string; run: Record<string, any> }> = [];
  for (const m of triggerManifests.filter((t) => t.kind === 'TriggerTemplate')) {
    for (const [i, run] of (m.body.spec?.resourcetemplates ?? []).entries()) {
      if (run.kind === 'PipelineRun' && run.spec?.pipelineRef?.name === pipelineName) {
        runs.push({ context: where(m, `spec.resourcetemplates[${i}]`), run });
      }
    }
  }
  return runs;
}
