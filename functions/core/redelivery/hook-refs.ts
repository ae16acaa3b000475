/** Whose deliveries are redelivered: a GitHub App's own webhook, or repository webhooks named by id. */
export type HookRef = { kind: 'app' } | { kind: 'repository'; owner: string; repo: string; hookId: number };

export const APP_HOOK: HookRef = { kind: 'app' };

// GitHub's owner and repository names: letters, digits, `-`, `_`, `.`; never `.` or `..` alone.
const NAME = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,100}$/;

/**
 * `owner/repo/hookId,…` (REDELIVER_HOOKS, CDK context `redeliverHooks`, `redeliver --hooks`): the hook id is the
 * number in the hook's settings URL and in each delivery's `X-GitHub-Hook-ID` header.
 */
export function parseHookRefs(text: string): { ok: true; hooks: HookRef[] } | { ok: false; reason: string } {
  const hooks: HookRef[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const parts = item.split('/');
    const [owner = '', repo = '', id = ''] = parts;
    if (parts.length !== 3 || !NAME.test(owner) || !NAME.test(repo) || !/^[1-9][0-9]{0,18}$/.test(id) || !Number.isSafeInteger(Number(id))) {
      return { ok: false, reason: `"${item.slice(0, 200)}" is not owner/repo/hookId (e.g. octo-org/shop/123456789: the number in the hook's settings URL)` };
    }
    if (!hooks.some((hook) => hook.kind === 'repository' && hook.owner === owner && hook.repo === repo && hook.hookId === Number(id))) {
      hooks.push({ kind: 'repository', owner, repo, hookId: Number(id) });
    }
  }
  return { ok: true, hooks };
}

/** How logs and the CLI name a hook. */
export function hookName(hook: HookRef): string {
  return hook.kind === 'app' ? "the App's webhook" : `${hook.owner}/${hook.repo}/${hook.hookId}`;
}
