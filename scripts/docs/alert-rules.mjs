// docs/operations.md's "Alerts": the metrics table's names and the suggested Prometheus rules, for the tests that run them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPERATIONS = join(import.meta.dirname, '..', '..', 'docs', 'operations.md');

/** { rules: the yaml block, tableNames, alertNames, ruleMetrics: every metric name the rules read }. */
export function suggestedAlerts() {
  const text = readFileSync(OPERATIONS, 'utf8');
  const start = text.indexOf('## Alerts');
  if (start < 0) throw new Error('docs/operations.md has no "## Alerts" section');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  const rules = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!rules) throw new Error('docs/operations.md "Alerts" has no yaml block of rules');
  const tableNames = section
    .split('\n')
    .filter((l) => l.startsWith('| `n8n_kafka_logger_'))
    .flatMap((l) => l.split('|')[1].match(/n8n_kafka_logger_[a-z_]+/g));
  const alertNames = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  const ruleMetrics = [...new Set(rules.match(/n8n_kafka_logger_[a-z_]+/g))];
  return { rules, tableNames, alertNames, ruleMetrics };
}

/** The suggested rules written to a file of a fresh temporary folder: its path. */
export function suggestedRulesFile() {
  const file = join(mkdtempSync(join(tmpdir(), 'kl-alerts-')), 'rules.yml');
  writeFileSync(file, suggestedAlerts().rules);
  return file;
}
