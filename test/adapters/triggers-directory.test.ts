import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { buildTriggersConfig } from '../../functions/core/build-triggers-config.ts';
import { compileTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';

describe('compileTriggersDirectory (the bundled triggers.json)', () => {
  it('carries file names relative to the triggers folder, never the absolute path of the machine that built it', () => {
    // Prepare: the CDK app and npm run build pass an absolute folder.
    const dir = resolve('triggers');
    // Act
    const compiled = compileTriggersDirectory(dir);
    // Assess
    assert.ok(!compiled.includes(dir), 'no absolute build path');
    assert.ok(!compiled.includes(process.cwd()), 'no working directory');
    const { documents } = JSON.parse(compiled) as { documents: { file: string }[] };
    assert.deepEqual([...new Set(documents.map((d) => d.file))].sort(), ['event-listener.yaml', 'trigger-binding.yaml', 'trigger-template.yaml']);
    assert.equal(buildTriggersConfig(JSON.parse(compiled).documents).eventListeners[0]?.file, 'event-listener.yaml');
  });
});
