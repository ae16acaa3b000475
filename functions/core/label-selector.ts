/** A Kubernetes label selector (metav1.LabelSelector): matchLabels and matchExpressions, all of which must hold. */
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values: string[] }[];
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/**
 * Reads a selector as metav1.LabelSelectorAsSelector does, reporting what it would refuse through `report` (a field
 * below the selector, and why). An empty selector selects everything.
 */
export function parseLabelSelector(value: unknown, report: (field: string, message: string) => void): LabelSelector | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report('', 'expected {matchLabels: {…}, matchExpressions: […]}');
    return undefined;
  }
  const selector: LabelSelector = { matchLabels: {}, matchExpressions: [] };
  let valid = true;
  const fail = (field: string, message: string): void => {
    valid = false;
    report(field, message);
  };
  for (const [key, item] of Object.entries(value)) {
    if (key === 'matchLabels') {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) fail('.matchLabels', 'expected a mapping of label to value');
      else {
        for (const [label, labelValue] of Object.entries(item)) {
          if (typeof labelValue !== 'string') fail(`.matchLabels.${label}`, `a label value is a string; quote it ("${String(labelValue)}")`);
          else selector.matchLabels[label] = labelValue;
        }
      }
    } else if (key === 'matchExpressions') {
      if (!Array.isArray(item)) {
        fail('.matchExpressions', 'expected a list of {key, operator, values}');
        continue;
      }
      item.forEach((expression: unknown, i) => {
        const field = `.matchExpressions[${i}]`;
        const { key: label, operator, values = [] } = (expression ?? {}) as { key?: unknown; operator?: unknown; values?: unknown };
        if (typeof label !== 'string' || label === '') return fail(`${field}.key`, 'expected a label key');
        if (typeof operator !== 'string' || !OPERATORS.has(operator)) return fail(`${field}.operator`, `expected In, NotIn, Exists or DoesNotExist, got ${JSON.stringify(operator)}`);
        if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) return fail(`${field}.values`, 'expected a list of strings');
        if ((operator === 'In' || operator === 'NotIn') && values.length === 0) return fail(`${field}.values`, `${operator} needs at least one value`);
        if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) return fail(`${field}.values`, `${operator} takes no values`);
        selector.matchExpressions.push({ key: label, operator: operator as LabelSelector['matchExpressions'][number]['operator'], values: values as string[] });
      });
    } else {
      fail(`.${key}`, 'a label selector has only matchLabels and matchExpressions');
    }
  }
  return valid ? selector : undefined;
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) if (labels[key] !== value) return false;
  for (const { key, operator, values } of selector.matchExpressions) {
    const has = Object.hasOwn(labels, key);
    if (operator === 'In' && !(has && values.includes(labels[key] as string))) return false;
    if (operator === 'NotIn' && has && values.includes(labels[key] as string)) return false;
    if (operator === 'Exists' && !has) return false;
    if (operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
