// Reads a Prometheus text exposition with parse-prometheus-text-format (a third-party parser, so a format slip of
// ours is not read back by our own assumptions), plus the checks the parser leaves out.
import { createRequire } from 'node:module';

export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => MetricFamily[];

/**
 * Parses `text`; throws when a sample has no HELP and TYPE before it, when a counter's name does not end in
 * `_total`, or when a family appears twice.
 */
export function parseMetrics(text: string): Map<string, MetricFamily> {
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (type !== null) {
      if (declared.has(type[1]!)) throw new Error(`family ${type[1]} declared twice`);
      if (type[2] === 'counter' && !type[1]!.endsWith('_total')) throw new Error(`counter ${type[1]} does not end in _total`);
      declared.add(type[1]!);
    } else if (line !== '' && !line.startsWith('#') && !declared.has(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '')) {
      throw new Error(`sample before its TYPE: ${line}`);
    }
  }
  const families = new Map<string, MetricFamily>();
  for (const family of parse(text)) {
    if (family.help === undefined || family.help === '') throw new Error(`family ${family.name} has no HELP`);
    families.set(family.name, family);
  }
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found === undefined ? undefined : Number(found.value);
}
