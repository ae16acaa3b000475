import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { projectRoot } from '../../infra/function-bundling.ts';

interface LintProblem {
  path: string;
  message: string;
  rule: string;
  level: 'error' | 'warning';
}

/**
 * tekton-lint can't follow a resolver without the network, and knows nothing of optional Pipeline
 * workspaces; these are the findings that come from that and nothing else.
 */
const accepted = [
  {
    rule: 'no-missing-workspace',
    message: /provides no workspace for 'basic-auth'/,
    reason: 'basic-auth is `optional: true` on the Pipeline (private repositories only); tekton-lint ignores `optional`',
  },
] as const;

describe('tekton-lint (@ibm/tekton-lint, offline)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-lint-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds no problem in tekton/ with the default trigger config', (t) => {
    // Prepare: tekton/ as is, except that the git-resolved catalog Task is swapped for a local
    // stand-in with its interface, so the linter checks what the Pipeline passes to it.
    for (const name of readdirSync(path.join(projectRoot, 'tekton')).filter((n) => n.endsWith('.yaml'))) {
      const docs = parseAllDocuments(readFileSync(path.join(projectRoot, 'tekton', name), 'utf8')).map((doc) => doc.toJS() as Record<string, any>);
      for (const doc of docs) {
        for (const task of doc?.kind === 'Pipeline' ? doc.spec.tasks : []) {
          if (task.taskRef?.resolver === 'git') task.taskRef = { name: 'git-clone', kind: 'Task' };
        }
      }
      writeFileSync(path.join(dir, name), docs.map((doc) => stringify(doc)).join('---\n'));
    }
    copyFileSync(path.join(projectRoot, 'test', 'fixtures', 'tekton', 'git-clone-interface.yaml'), path.join(dir, 'git-clone-interface.yaml'));
    for (const name of readdirSync(path.join(projectRoot, 'triggers')).filter((n) => /\.ya?ml$/.test(n))) {
      copyFileSync(path.join(projectRoot, 'triggers', name), path.join(dir, `triggers-${name}`));
    }
    writeFileSync(path.join(dir, '.tektonlintrc.yaml'), 'rules:\n  no-latest-image: error\n  prefer-kebab-case: error\n  no-unused-param: error\n');

    // Act
    const lint = spawnSync(process.execPath, [tektonLintBin(), '--format', 'json', '--config', dir, `${dir}/*.yaml`], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      // Its cache of external tasks goes to $HOME/.tektonlint; none is configured, keep it out of the real home.
      env: { ...process.env, HOME: dir },
    });

    // Assess
    assert.equal(lint.error, undefined, String(lint.error));
    const problems = (JSON.parse(lint.stdout) as LintProblem[]).map((p) => ({ ...p, path: path.basename(p.path) }));
    t.diagnostic(`tekton-lint: ${problems.length} finding(s), all accepted: ${problems.map((p) => p.rule).join(', ') || 'none'}`);
    const unexpected = problems.filter((p) => !accepted.some((a) => a.rule === p.rule && a.message.test(p.message)));
    assert.deepEqual(unexpected, [], JSON.stringify(problems, null, 1));
    assert.doesNotMatch(lint.stderr, /ERROR/, lint.stderr);
  });
});

function tektonLintBin(): string {
  const pkg = createRequire(import.meta.url).resolve('@ibm/tekton-lint/package.json');
  return path.join(path.dirname(pkg), 'dist', 'lint.js');
}
